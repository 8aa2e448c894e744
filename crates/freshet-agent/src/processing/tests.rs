// SPDX-License-Identifier: Apache-2.0
//! Tests of the chain as a whole: option parsing, ordering, filtering, fallback to the raw
//! record, and that no input makes it panic.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn ctx() -> RecordContext<'static> {
    RecordContext {
        file: Path::new("/var/log/app.log"),
        offset: 0,
        read_at: UNIX_EPOCH + Duration::from_millis(1_704_164_645_007),
    }
}

fn chain(options: Value) -> Processors {
    let list = options.as_array().cloned().unwrap_or_default();
    Processors::from_options(&list).unwrap()
}

fn chain_error(options: Value) -> ProcessingError {
    let list = options.as_array().cloned().unwrap_or_default();
    Processors::from_options(&list).unwrap_err()
}

fn apply(p: &Processors, record: &str) -> Option<String> {
    p.apply(record.as_bytes().to_vec(), &ctx())
        .map(|out| String::from_utf8(out).unwrap())
}

#[test]
fn an_empty_chain_is_the_identity_and_passes_any_bytes_through() {
    let p = Processors::from_options(&[]).unwrap();
    assert!(p.is_identity());
    let record = b"\xff\xfe not utf-8\n".to_vec();
    assert_eq!(p.apply(record.clone(), &ctx()), Some(record));
}

#[test]
fn a_chain_with_options_is_not_the_identity() {
    assert!(!chain(json!([{"optionName": "SINGLELINE"}])).is_identity());
}

#[test]
fn the_documented_multi_line_example_joins_then_splits_on_tabs() {
    let p = chain(json!([
        {"optionName": "SINGLELINE"},
        {"optionName": "CSVTOJSON", "customFieldNames": ["field1", "field2", "field3"], "delimiter": "\\t"}
    ]));
    assert_eq!(
        apply(&p, "[SEQUENCE=1]\tsecond\n   third\n").unwrap(),
        "{\"field1\":\"[SEQUENCE=1]\",\"field2\":\"secondthird\",\"field3\":null}\n"
    );
}

#[test]
fn a_filtered_record_stops_the_chain_and_is_counted_as_skipped() {
    let p = chain(json!([
        {"optionName": "LOGTOJSON", "logFormat": "SYSLOG"},
        {"optionName": "ADDMETADATA", "metadata": {"k": "v"}}
    ]));
    assert_eq!(apply(&p, "garbage\n"), None);
    assert_eq!(
        p.stats(),
        ProcessingStats {
            processed: 0,
            skipped: 1,
            errors: 0
        }
    );
}

#[test]
fn converters_run_in_the_configured_order() {
    let p = chain(json!([
        {"optionName": "LOGTOJSON", "logFormat": "SYSLOG"},
        {"optionName": "ADDMETADATA", "metadata": {"env": "dev"}, "timestamp": "true"}
    ]));
    let out = apply(&p, "Mar 12 12:01:02 server4 snort: hello\n").unwrap();
    assert_eq!(
        out,
        "{\"ts\":\"2024-01-02T03:04:05.007Z\",\"metadata\":{\"env\":\"dev\"},\"data\":\"{\\\"timestamp\\\":\\\"Mar 12 12:01:02\\\",\\\"hostname\\\":\\\"server4\\\",\\\"program\\\":\\\"snort\\\",\\\"processid\\\":null,\\\"message\\\":\\\"hello\\\"}\"}\n"
    );
    assert_eq!(p.stats().processed, 1);
}

#[test]
fn a_failing_converter_sends_the_original_record_raw() {
    let list = json!([
        {"optionName": "SINGLELINE"},
        {"optionName": "ADDEC2METADATA", "logFormat": "SYSLOG"}
    ]);
    let mut p = Processors::from_options(list.as_array().unwrap()).unwrap();
    p.set_ec2_metadata(vec![("instanceId".to_owned(), json!("i-1"))]);
    assert_eq!(apply(&p, "not\n json\n").unwrap(), "not\n json\n");
    assert_eq!(p.stats().errors, 1);
    assert_eq!(
        apply(&p, "{\"a\":\n 1}\n").unwrap(),
        "{\"a\":1,\"instanceId\":\"i-1\"}\n"
    );
}

#[test]
fn ec2_metadata_without_a_source_warns_and_passes_records_through() {
    let mut p = chain(json!([{"optionName": "ADDEC2METADATA", "logFormat": "SYSLOG"}]));
    assert_eq!(p.warnings().len(), 1);
    assert!(p.warnings()[0].contains("metadata service"));
    assert_eq!(apply(&p, "x\n").unwrap(), "x\n");
    p.set_ec2_metadata(vec![("k".to_owned(), json!(1))]);
    assert!(p.warnings().is_empty());
}

#[test]
fn unknown_keys_are_ignored_with_a_warning_naming_them() {
    let p = chain(json!([
        {"optionName": "CSVTOJSON", "customFieldNames": ["a"], "delimeter": ";"},
        {"optionName": "ADDBRACKETS"}
    ]));
    let warnings = p.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("\"delimeter\""), "{}", warnings[0]);
    assert!(
        warnings[0].contains("customFieldNames, delimiter, jsonFormat"),
        "{}",
        warnings[0]
    );
    assert_eq!(apply(&p, "x;y\n").unwrap(), "{{\"a\":\"x;y\"}\n}");
}

#[test]
fn an_unknown_option_name_is_named_and_the_supported_ones_listed() {
    let err = chain_error(json!([{"optionName": "SINGLELINE"}, {"optionName": "TOUPPER"}]));
    assert_eq!(err.index, 1);
    assert_eq!(err.option, "TOUPPER");
    let text = err.to_string();
    assert!(text.contains("\"TOUPPER\""), "{text}");
    assert!(
        text.contains("SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA, ADDEC2METADATA, ADDBRACKETS"),
        "{text}"
    );
}

#[test]
fn add_ephemeral_metadata_points_to_the_options_the_agent_has() {
    let text = chain_error(json!([{"optionName": "ADDEPHEMERALMETADATA"}])).to_string();
    assert!(text.contains("no ADDEPHEMERALMETADATA"), "{text}");
    assert!(text.contains("ADDMETADATA"), "{text}");
}

#[test]
fn the_pluggable_converter_is_refused_with_a_reason() {
    let text = chain_error(json!([{"optionName": "USINGPLUGGIN"}])).to_string();
    assert!(text.contains("Java"), "{text}");
}

#[test]
fn an_option_without_a_name_or_that_is_not_an_object_is_an_error() {
    let missing = chain_error(json!([{"customFieldNames": ["a"]}]));
    assert_eq!(missing.option, "?");
    assert!(missing.message.contains("optionName is missing"));
    let not_object = chain_error(json!(["SINGLELINE"]));
    assert!(
        not_object.message.contains("not a string"),
        "{}",
        not_object.message
    );
    let not_string = chain_error(json!([{"optionName": 3}]));
    assert!(not_string.message.contains("optionName must be a string"));
}

#[test]
fn missing_required_parameters_are_named() {
    let csv = chain_error(json!([{"optionName": "CSVTOJSON"}]));
    assert!(csv.message.contains("customFieldNames"), "{}", csv.message);
    let log = chain_error(json!([{"optionName": "LOGTOJSON"}]));
    assert!(log.message.contains("logFormat"), "{}", log.message);
}

#[test]
fn the_chain_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Processors>();
}

fn any_option() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"optionName": "SINGLELINE"})),
        Just(json!({"optionName": "SINGLELINE", "parseOptions": ["NO_TRIM", "ESCAPE_NEW_LINE"]})),
        Just(json!({"optionName": "CSVTOJSON", "customFieldNames": ["a", "b", "c"]})),
        Just(
            json!({"optionName": "CSVTOJSON", "customFieldNames": ["a"], "delimiter": "\\s+", "jsonFormat": "PRETTYPRINT"})
        ),
        proptest::sample::select(LOG_FORMATS)
            .prop_map(|f| json!({"optionName": "LOGTOJSON", "logFormat": f})),
        Just(
            json!({"optionName": "ADDMETADATA", "metadata": {"k": [1, {"x": null}]}, "timestamp": "true"})
        ),
        Just(json!({"optionName": "ADDEC2METADATA", "logFormat": "SYSLOG"})),
        Just(json!({"optionName": "ADDBRACKETS"})),
    ]
}

proptest! {
    #[test]
    fn no_chain_panics_on_any_bytes_and_converted_output_is_utf8(
        options in proptest::collection::vec(any_option(), 1..4),
        record in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let p = Processors::from_options(&options).unwrap();
        if let Some(out) = p.apply(record.clone(), &ctx()) {
            let passthrough_only = options.iter().all(|o| o["optionName"] == "ADDEC2METADATA");
            if !passthrough_only && out != record {
                prop_assert!(std::str::from_utf8(&out).is_ok());
            }
        }
    }

    #[test]
    fn a_chain_ending_in_a_json_converter_always_yields_one_json_value(
        first in any_option(),
        record in proptest::collection::vec(any::<u8>(), 0..200),
        last in prop_oneof![
            Just(json!({"optionName": "CSVTOJSON", "customFieldNames": ["a", "b"]})),
            Just(json!({"optionName": "ADDMETADATA", "metadata": {"m": 1}, "timestamp": "true", "jsonFormat": "PRETTYPRINT"})),
            Just(json!({"optionName": "LOGTOJSON", "logFormat": "SYSLOG", "matchPattern": "(.*)", "customFieldNames": ["line"]})),
        ],
    ) {
        let p = Processors::from_options(&[first, last]).unwrap();
        if let Some(out) = p.apply(record, &ctx()) {
            prop_assert_eq!(out.last(), Some(&b'\n'));
            let value: Result<Value, _> = serde_json::from_slice(&out);
            prop_assert!(value.is_ok(), "{}", String::from_utf8_lossy(&out));
        }
    }
}
