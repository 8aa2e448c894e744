// SPDX-License-Identifier: Apache-2.0
//! DTO pieces and validation shared by the enhanced fan-out consumer operations.

use freshet_protocol::json::{JStr, Timestamp};
use freshet_protocol::validate::Validator;
use serde::Serialize;

use crate::ops::patterns::{NAME_PATTERN, STREAM_ARN_PATTERN, is_name, is_stream_arn};
use crate::{ConsumerInfo, ConsumerRef};

/// The model's ConsumerARN pattern, as Coral quotes it.
pub(crate) const CONSUMER_ARN_PATTERN: &str = "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+";

/// Whether `s` matches [`CONSUMER_ARN_PATTERN`].
pub(crate) fn is_consumer_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((head, tail)) = rest.rsplit_once("/consumer/") else {
        return false;
    };
    let Some((name, secs)) = tail.split_once(':') else {
        return false;
    };
    let Some((before_stream, stream)) = head.rsplit_once("stream/") else {
        return false;
    };
    let has_account = before_stream
        .split(':')
        .any(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()));
    before_stream.contains(":kinesis:")
        && has_account
        && is_name(stream)
        && is_name(name)
        && !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
}

/// Validates the StreamARN, ConsumerName and ConsumerARN members of Describe/Deregister.
pub(crate) fn validate_consumer_ref(
    v: &mut Validator,
    stream_arn: &Option<JStr>,
    consumer_name: &Option<JStr>,
    consumer_arn: &Option<JStr>,
) {
    validate_stream_arn(v, stream_arn);
    validate_consumer_name(v, consumer_name);
    validate_consumer_arn(v, consumer_arn);
}

/// Validates a StreamARN member.
pub(crate) fn validate_stream_arn(v: &mut Validator, arn: &Option<JStr>) {
    v.string(
        "streamARN",
        arn.as_ref().map(|s| s.0.as_str()),
        1,
        Some(2048),
        Some((is_stream_arn, STREAM_ARN_PATTERN)),
    );
}

/// Validates a ConsumerName member.
pub(crate) fn validate_consumer_name(v: &mut Validator, name: &Option<JStr>) {
    v.string(
        "consumerName",
        name.as_ref().map(|s| s.0.as_str()),
        1,
        Some(128),
        Some((is_name, NAME_PATTERN)),
    );
}

/// Validates a ConsumerARN member.
pub(crate) fn validate_consumer_arn(v: &mut Validator, arn: &Option<JStr>) {
    v.string(
        "consumerARN",
        arn.as_ref().map(|s| s.0.as_str()),
        1,
        Some(2048),
        Some((is_consumer_arn, CONSUMER_ARN_PATTERN)),
    );
}

/// The domain reference for the three consumer-naming members.
pub(crate) fn consumer_ref(
    stream_arn: Option<JStr>,
    consumer_name: Option<JStr>,
    consumer_arn: Option<JStr>,
) -> ConsumerRef {
    ConsumerRef {
        stream_arn: stream_arn.map(|s| s.0),
        consumer_name: consumer_name.map(|s| s.0),
        consumer_arn: consumer_arn.map(|s| s.0),
    }
}

/// `Consumer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConsumerDto {
    consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: String,
    consumer_status: &'static str,
    consumer_creation_timestamp: Timestamp,
}

impl From<ConsumerInfo> for ConsumerDto {
    fn from(c: ConsumerInfo) -> Self {
        Self {
            consumer_name: c.name,
            consumer_arn: c.arn,
            consumer_status: c.status.as_str(),
            consumer_creation_timestamp: Timestamp(c.created_ms),
        }
    }
}

/// `ConsumerDescription`: a `Consumer` plus its stream's ARN.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConsumerDescriptionDto {
    #[serde(flatten)]
    consumer: ConsumerDto,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
}

impl From<ConsumerInfo> for ConsumerDescriptionDto {
    fn from(c: ConsumerInfo) -> Self {
        let stream_arn = c.stream_arn.clone();
        Self {
            consumer: c.into(),
            stream_arn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_arn_pattern() {
        assert!(is_consumer_arn(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000"
        ));
        assert!(!is_consumer_arn(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        ));
        assert!(!is_consumer_arn(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c"
        ));
        assert!(!is_consumer_arn(
            "arn:aws:kinesis:us-east-1:0000:stream/s/consumer/c:1"
        ));
        assert!(!is_consumer_arn("nonsense"));
    }
}
