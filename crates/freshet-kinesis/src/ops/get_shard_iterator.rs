// SPDX-License-Identifier: Apache-2.0
//! GetShardIterator.

use freshet_protocol::json::{JStr, JTimestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{stream_ref, validate_stream};
use crate::ops::patterns::{NAME_PATTERN, SEQUENCE_NUMBER_PATTERN, is_name, is_sequence_number};
use crate::{Error, IteratorStart, Streams};

pub(crate) struct GetShardIterator;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    shard_id: Option<JStr>,
    shard_iterator_type: Option<JStr>,
    starting_sequence_number: Option<JStr>,
    timestamp: Option<JTimestamp>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    shard_iterator: String,
}

const TYPES: &[&str] = &[
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

impl Operation<Streams> for GetShardIterator {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        v.required("shardId", &i.shard_id);
        v.string(
            "shardId",
            i.shard_id.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some((is_name, NAME_PATTERN)),
        );
        v.required("shardIteratorType", &i.shard_iterator_type);
        v.one_of(
            "shardIteratorType",
            i.shard_iterator_type.as_ref().map(|s| s.0.as_str()),
            TYPES,
        );
        v.string(
            "startingSequenceNumber",
            i.starting_sequence_number.as_ref().map(|s| s.0.as_str()),
            0,
            None,
            Some((is_sequence_number, SEQUENCE_NUMBER_PATTERN)),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let ty = i.shard_iterator_type.as_ref().map_or("", |s| s.0.as_str());
        let iterator_type = TYPES.iter().copied().find(|t| *t == ty).unwrap_or("LATEST");
        let seq = i.starting_sequence_number.map(|s| s.0);
        let mismatch = |has_sequence| Error::IteratorSequenceMismatch {
            iterator_type,
            has_sequence,
        };
        let start = match (iterator_type, seq.clone()) {
            ("AT_SEQUENCE_NUMBER", Some(s)) => IteratorStart::AtSequence(s),
            ("AFTER_SEQUENCE_NUMBER", Some(s)) => IteratorStart::AfterSequence(s),
            ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => {
                return Err(mismatch(false).into());
            }
            (_, Some(_)) => return Err(mismatch(true).into()),
            ("TRIM_HORIZON", None) => IteratorStart::TrimHorizon,
            ("AT_TIMESTAMP", None) => {
                IteratorStart::AtTimestamp(i.timestamp.ok_or(Error::TimestampMissing)?.0)
            }
            (_, None) => IteratorStart::Latest,
        };
        let req = crate::GetShardIterator {
            stream: stream_ref(i.stream_name, i.stream_arn),
            shard_id: i.shard_id.map(|s| s.0).unwrap_or_default(),
            iterator_type,
            starting_sequence: seq,
            timestamp_ms: i.timestamp.map(|t| t.0),
        };
        Ok(Output {
            shard_iterator: streams.get_shard_iterator(&req, start)?,
        })
    }
}
