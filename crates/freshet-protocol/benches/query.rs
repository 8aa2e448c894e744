// SPDX-License-Identifier: Apache-2.0
//! Micro-benchmarks of the Query codec on SQS's hot path: decoding a SendMessageBatch of ten
//! 1 KiB messages (form parse + decode to JSON) and encoding a ReceiveMessage of ten 1 KiB
//! messages to XML. Inputs are built once, outside the timed loop; throughput is the message
//! bodies. Run with `cargo bench -p freshet-protocol`.

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use freshet_protocol::query::{QueryModel, decode_request, encode_response, parse_form};
use serde_json::json;

const MESSAGES: usize = 10;
const BODY_BYTES: usize = 1024;

/// A 1 KiB body with characters that need percent-encoding and XML escaping.
fn body() -> String {
    "Hello, world & <friends>\r\n {\"k\": 1}+=%é"
        .chars()
        .cycle()
        .scan(0, |len, c| {
            *len += c.len_utf8();
            (*len <= BODY_BYTES).then_some(c)
        })
        .collect()
}

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
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
}

fn codec(c: &mut Criterion) {
    let model = QueryModel::sqs();
    let text = body();
    let mut request = String::from(
        "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%3A4567%2F0%2Fq",
    );
    for i in 1..=MESSAGES {
        let prefix = format!("SendMessageBatchRequestEntry.{i}");
        request.push_str(&format!(
            "&{prefix}.Id=m{i}&{prefix}.MessageBody={}&{prefix}.MessageAttribute.1.Name=n\
             &{prefix}.MessageAttribute.1.Value.DataType=String&{prefix}.MessageAttribute.1.Value.StringValue=v",
            form_encode(&text)
        ));
    }
    let messages: Vec<_> = (0..MESSAGES)
        .map(|i| {
            json!({
                "MessageId": format!("m{i}"), "ReceiptHandle": "AQEB" , "MD5OfBody": "0123456789abcdef",
                "Body": text, "Attributes": {"SentTimestamp": "1704067200000", "ApproximateReceiveCount": "1"},
                "MessageAttributes": {"n": {"DataType": "String", "StringValue": "v"}}
            })
        })
        .collect();
    let output = json!({ "Messages": messages });

    let mut group = c.benchmark_group("query");
    group.throughput(Throughput::Bytes((MESSAGES * text.len()) as u64));
    group.bench_function("decode_send_message_batch_10x1KiB", |b| {
        b.iter(|| {
            let params = parse_form(black_box(request.as_bytes())).expect("form");
            decode_request(model, &params).expect("decodes")
        })
    });
    group.bench_function("encode_receive_message_10x1KiB", |b| {
        b.iter(|| encode_response(model, "ReceiveMessage", black_box(&output), "req"))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
