// SPDX-License-Identifier: Apache-2.0
//! Property tests over random values of every operation's input and output shapes.

use freshet_protocol::query::{
    Fault, QueryModel, decode_request, encode_error, encode_response, parse_form,
};
use proptest::prelude::*;
use quick_xml::events::Event;
use serde_json::{Value, json};

use super::shapes::{CLOUDWATCH_MODEL, Model, Rng, SQS_MODEL};

fn models() -> [(Model, &'static QueryModel); 2] {
    [
        (Model::new(SQS_MODEL), QueryModel::sqs()),
        (Model::new(CLOUDWATCH_MODEL), QueryModel::cloudwatch()),
    ]
}

/// Strings that stress escaping, plus whatever proptest draws (any Unicode scalar value).
fn string_pool() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(any::<String>(), 1..6).prop_map(|mut drawn| {
        drawn.extend(
            [
                "",
                "a b+c",
                "%41&=;",
                "\r\n\r",
                "<&>\"'",
                "\u{0}\u{1b}\u{FFFE}",
                "é😀",
                "a.b.1",
            ]
            .map(String::from),
        );
        drawn
    })
}

/// Percent-encodes like Python's `urlencode`: unreserved bytes as is, space as `+`.
fn urlencode(params: &[(String, String)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for &b in s.as_bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Reads `xml` with quick-xml (which checks that end tags match) and returns the root element
/// name and the unescaped text of every element named `name`.
fn read_xml(xml: &str, name: &str) -> Result<(String, Vec<String>), String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut root = None;
    let mut depth = 0usize;
    let mut inside = false;
    let mut texts = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if depth == 0 {
                    if root.is_some() {
                        return Err("two root elements".into());
                    }
                    root = Some(tag.clone());
                }
                inside = tag == name;
                if inside {
                    texts.push(String::new());
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.checked_sub(1).ok_or("unbalanced end tag")?;
                inside = false;
            }
            Event::Empty(e) if depth == 0 => {
                return Err(format!("empty root {:?}", e.name()));
            }
            Event::Text(t) if inside => {
                let text = t.decode().map_err(|e| e.to_string())?;
                let text = quick_xml::escape::unescape(&text).map_err(|e| e.to_string())?;
                if let Some(last) = texts.last_mut() {
                    last.push_str(&text);
                }
            }
            Event::GeneralRef(r) if inside => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::unescape(&format!("&{name};"))
                        .map_err(|e| e.to_string())?
                        .into_owned(),
                };
                if let Some(last) = texts.last_mut() {
                    last.push_str(&resolved);
                }
            }
            Event::Text(t) if !t.iter().all(u8::is_ascii_whitespace) && depth == 0 => {
                return Err("text outside the root".into());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unclosed elements".into());
    }
    Ok((root.ok_or("no root element")?, texts))
}

/// What XML 1.0 can carry of `s` (see the codec's escaping rules).
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            _ => c,
        })
        .collect()
}

/// Characters XML 1.0 allows, as a conforming parser checks them.
fn all_chars_allowed(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_inputs_serialized_like_botocore_decode_back(seed in any::<u64>(), strings in string_pool()) {
        for (raw, model) in models() {
            for (op, input, _) in raw.operations() {
                let Some(input) = input else { continue };
                let mut rng = Rng(seed);
                let value = raw.random(input, &mut rng, &strings, 0);
                let mut params = vec![("Action".to_owned(), op.to_owned())];
                raw.form(input, &value, "", &mut params);
                let body = urlencode(&params);
                let decoded = parse_form(body.as_bytes()).and_then(|p| decode_request(model, &p));
                let want = raw.carried(input, &value).unwrap_or_else(|| json!({}));
                prop_assert_eq!(decoded, Ok((op.to_owned(), want)), "{} body {}", op, body);
            }
        }
    }

    #[test]
    fn encoded_responses_are_well_formed_for_random_outputs(seed in any::<u64>(), strings in string_pool()) {
        for (raw, model) in models() {
            for (op, _, output) in raw.operations() {
                let mut rng = Rng(seed);
                let value = match output {
                    Some(output) => raw.random(output, &mut rng, &strings, 0),
                    None => Value::Null,
                };
                let request_id = &strings[0];
                let xml = encode_response(model, op, &value, request_id);
                prop_assert!(all_chars_allowed(&xml), "{}", xml);
                let read = read_xml(&xml, "RequestId");
                prop_assert!(read.is_ok(), "{:?}: {}", read, xml);
                let (root, ids) = read.unwrap_or_default();
                prop_assert_eq!(root, format!("{op}Response"));
                prop_assert_eq!(ids, vec![xml_safe(request_id)]);
            }
        }
    }

    #[test]
    fn outputs_of_the_wrong_kind_still_give_well_formed_xml(
        seed in any::<u64>(),
        junk in prop_oneof![Just(json!(null)), Just(json!(7)), Just(json!("s")), Just(json!([1, {"a": []}])), Just(json!({"x": {"y": 1.5}}))],
    ) {
        for (raw, model) in models() {
            for (op, _, output) in raw.operations() {
                let Some(output) = output else { continue };
                let mut rng = Rng(seed);
                let mut value = raw.random(output, &mut rng, &["s".to_owned()], 0);
                // Replace one top-level member (if any) by a value of another kind.
                if let Some(obj) = value.as_object_mut()
                    && let Some(key) = obj.keys().next().cloned()
                {
                    obj.insert(key, junk.clone());
                }
                let xml = encode_response(model, op, &value, "r");
                prop_assert!(read_xml(&xml, "RequestId").is_ok(), "{}", xml);
            }
        }
    }

    #[test]
    fn error_messages_survive_escaping(code in "[A-Za-z.]{1,40}", message in any::<String>(), id in any::<String>()) {
        for model in [QueryModel::sqs(), QueryModel::cloudwatch()] {
            let xml = encode_error(model, &code, Fault::Sender, &message, &id);
            prop_assert!(all_chars_allowed(&xml));
            let (root, messages) = read_xml(&xml, "Message").map_err(TestCaseError::fail)?;
            prop_assert_eq!(root, "ErrorResponse");
            prop_assert_eq!(messages, vec![xml_safe(&message)]);
            let (_, ids) = read_xml(&xml, "RequestId").map_err(TestCaseError::fail)?;
            prop_assert_eq!(ids, vec![xml_safe(&id)]);
        }
    }
}

#[test]
fn a_send_message_batch_of_ten_one_kib_messages_round_trips() {
    let body_text = "0123456789abcdef".repeat(64);
    let mut params = vec![
        ("Action".to_owned(), "SendMessageBatch".to_owned()),
        ("QueueUrl".to_owned(), "q".to_owned()),
    ];
    for i in 1..=10 {
        params.push((
            format!("SendMessageBatchRequestEntry.{i}.Id"),
            format!("m{i}"),
        ));
        params.push((
            format!("SendMessageBatchRequestEntry.{i}.MessageBody"),
            body_text.clone(),
        ));
    }
    let body = urlencode(&params);
    let (_, input) = decode_request(
        QueryModel::sqs(),
        &parse_form(body.as_bytes()).expect("form"),
    )
    .expect("decodes");
    let entries = input["Entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 10);
    assert!(
        entries
            .iter()
            .all(|e| e["MessageBody"] == body_text.as_str())
    );
    assert_eq!(entries[9]["Id"], "m10");

    let messages: Vec<Value> = (0..10)
        .map(|i| json!({"MessageId": format!("m{i}"), "ReceiptHandle": "r", "MD5OfBody": "x", "Body": body_text}))
        .collect();
    let xml = encode_response(
        QueryModel::sqs(),
        "ReceiveMessage",
        &json!({"Messages": messages}),
        "r",
    );
    let (_, bodies) = read_xml(&xml, "Body").expect("well-formed");
    assert_eq!(bodies, vec![body_text; 10]);
}
