// SPDX-License-Identifier: Apache-2.0
//! What the five *FunctionEventInvokeConfig operations share: their input members and checks
//! (the model's constraints, with Coral's messages) and the `FunctionEventInvokeConfig`
//! output shape.

use freshet_protocol::validate::Validator;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::functions::event_config::{EventInvokeChange, ShownConfig};
use crate::functions::names::{FunctionRef, is_region};
use crate::functions::{Error, Functions};
use crate::ops::names::check_name;
use crate::ops::{decode, finish};

/// `NumericLatestPublishedOrAliasQualifier`.
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
/// `DestinationArn`.
const DESTINATION_PATTERN: &str = r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Input {
    pub function_name: Option<String>,
    pub qualifier: Option<String>,
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: Option<DestinationConfig>,
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DestinationConfig {
    pub on_success: Option<Destination>,
    pub on_failure: Option<Destination>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Destination {
    pub destination: Option<String>,
}

fn is_qualifier(s: &str) -> bool {
    s == "$LATEST.PUBLISHED"
        || (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$')))
}

fn is_destination(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if let Some(rest) = s.strip_prefix("kafka://") {
        return !rest.is_empty()
            && !rest.starts_with('.')
            && rest.len() <= 249
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, _rest] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && partition
            .strip_prefix("aws")
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && (region.is_empty() || is_region(region))
        && (account.is_empty()
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
}

/// Decodes and checks an input; `change` also checks the settings members.
pub(crate) fn input(v: Value, change: bool) -> Result<Input, Error> {
    let i: Input = decode(v)?;
    let mut v = Validator::new();
    check_name(&mut v, &i.function_name, true);
    v.string(
        "qualifier",
        i.qualifier.as_deref(),
        1,
        Some(128),
        Some((is_qualifier, QUALIFIER_PATTERN)),
    );
    if change {
        v.int(
            "maximumRetryAttempts",
            i.maximum_retry_attempts,
            Some(0),
            Some(2),
        );
        v.int(
            "maximumEventAgeInSeconds",
            i.maximum_event_age_in_seconds,
            Some(60),
            Some(21_600),
        );
        if let Some(d) = &i.destination_config {
            for (path, dest) in [
                ("destinationConfig.onSuccess.destination", &d.on_success),
                ("destinationConfig.onFailure.destination", &d.on_failure),
            ] {
                let s = dest.as_ref().and_then(|d| d.destination.as_deref());
                v.string(
                    path,
                    s,
                    0,
                    Some(350),
                    Some((is_destination, DESTINATION_PATTERN)),
                );
            }
        }
    }
    v.int("maxItems", i.max_items, Some(1), Some(50));
    finish(v)?;
    Ok(i)
}

/// The function (name) and qualifier an input names.
pub(crate) fn target(f: &Functions, i: &Input) -> Result<FunctionRef, Error> {
    f.reference(
        i.function_name.as_deref().unwrap_or_default(),
        i.qualifier.as_deref(),
    )
}

/// The settings members of an input.
pub(crate) fn change_of(i: &Input) -> EventInvokeChange {
    let dest = |d: &Option<Destination>| d.as_ref().and_then(|d| d.destination.clone());
    EventInvokeChange {
        maximum_retry_attempts: i.maximum_retry_attempts.and_then(|n| u32::try_from(n).ok()),
        maximum_event_age_seconds: i
            .maximum_event_age_in_seconds
            .and_then(|n| u32::try_from(n).ok()),
        destinations: i
            .destination_config
            .as_ref()
            .map(|d| (dest(&d.on_success), dest(&d.on_failure))),
    }
}

/// `FunctionEventInvokeConfig`.
pub(crate) fn shape((arn, c): &ShownConfig) -> Value {
    let dest = |d: &Option<String>| match d {
        Some(d) => json!({ "Destination": d }),
        None => json!({}),
    };
    let mut m = Map::new();
    // Epoch seconds, as Lambda answers timestamps of this shape.
    m.insert(
        "LastModified".into(),
        json!(c.last_modified_ms as f64 / 1000.0),
    );
    m.insert("FunctionArn".into(), json!(arn));
    if let Some(n) = c.maximum_retry_attempts {
        m.insert("MaximumRetryAttempts".into(), json!(n));
    }
    if let Some(n) = c.maximum_event_age_seconds {
        m.insert("MaximumEventAgeInSeconds".into(), json!(n));
    }
    m.insert(
        "DestinationConfig".into(),
        json!({ "OnSuccess": dest(&c.on_success), "OnFailure": dest(&c.on_failure) }),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn destinations_follow_the_model_pattern() {
        for ok in [
            "",
            "arn:aws:sqs:us-east-1:000000000000:q",
            "arn:aws:s3:::bucket",
            "arn:aws-cn:sns:cn-north-1:123456789012:t",
            "kafka://broker.example",
        ] {
            assert!(is_destination(ok), "{ok}");
        }
        for bad in [
            "sqs",
            "arn:gcp:sqs:us-east-1:000000000000:q",
            "arn:aws::us-east-1:000000000000:q",
            "arn:aws:sqs:nowhere:000000000000:q",
            "arn:aws:sqs:us-east-1:12:q",
            "kafka://.x",
        ] {
            assert!(!is_destination(bad), "{bad}");
        }
    }

    #[test]
    fn out_of_range_settings_get_coral_messages() {
        let e = input(
            json!({"FunctionName": "f", "MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 59}),
            true,
        )
        .expect_err("invalid");
        assert_eq!(
            e.to_string(),
            "2 validation errors detected: Value '3' at 'maximumRetryAttempts' failed to \
             satisfy constraint: Member must have value less than or equal to 2; Value '59' at \
             'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value \
             greater than or equal to 60"
        );
    }

    proptest! {
        #[test]
        fn any_destination_text_is_checked_without_panicking(s in ".{0,60}") {
            let _ = is_destination(&s);
            let _ = is_qualifier(&s);
        }
    }
}
