// SPDX-License-Identifier: Apache-2.0
//! PutRecord.

use freshet_protocol::json::{JBlob, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use freshet_types::hash::parse_hash_key;
use freshet_types::limits::{MAX_PARTITION_KEY_LEN, MAX_RECORD_BYTES_LIMIT};
use serde::{Deserialize, Serialize};

use super::text::{SequenceText, ShardIdText, sequence_text, shard_id_text};
use super::{stream_ref, validate_stream};
use crate::ops::patterns::{
    HASH_KEY_PATTERN, SEQUENCE_NUMBER_PATTERN, is_hash_key, is_sequence_number,
};
use crate::{Error, PutEntry, Streams};

pub(crate) struct PutRecord;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    data: Option<JBlob>,
    partition_key: Option<JStr>,
    explicit_hash_key: Option<JStr>,
    sequence_number_for_ordering: Option<JStr>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<JStr>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    shard_id: ShardIdText,
    sequence_number: SequenceText,
    /// Present only for records written encrypted, as AWS answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_type: Option<&'static str>,
}

/// Parses a validated ExplicitHashKey, rejecting values past 2^128 - 1.
pub(crate) fn explicit_hash_key(v: Option<&JStr>) -> Result<Option<u128>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => match parse_hash_key(&s.0) {
            Some(k) => Ok(Some(k)),
            None => Err(Error::InvalidExplicitHashKey { value: s.0.clone() }.into()),
        },
    }
}

impl Operation<Streams> for PutRecord {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_stream(v, &i.stream_name, &i.stream_arn);
        v.required("data", &i.data);
        v.blob(
            "data",
            i.data.as_ref().map(|d| d.0.as_slice()),
            MAX_RECORD_BYTES_LIMIT,
        );
        v.required("partitionKey", &i.partition_key);
        v.string(
            "partitionKey",
            i.partition_key.as_ref().map(|s| s.0.as_str()),
            1,
            Some(MAX_PARTITION_KEY_LEN),
            None,
        );
        v.string(
            "explicitHashKey",
            i.explicit_hash_key.as_ref().map(|s| s.0.as_str()),
            0,
            None,
            Some((is_hash_key, HASH_KEY_PATTERN)),
        );
        v.string(
            "sequenceNumberForOrdering",
            i.sequence_number_for_ordering
                .as_ref()
                .map(|s| s.0.as_str()),
            0,
            None,
            Some((is_sequence_number, SEQUENCE_NUMBER_PATTERN)),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<Output, ApiError> {
        let explicit = explicit_hash_key(i.explicit_hash_key.as_ref())?;
        let data = i.data.map(|d| d.0).unwrap_or_default();
        let key = i.partition_key.map(|k| k.0).unwrap_or_default();
        let put = streams
            .put_record(
                &stream_ref(i.stream_name, i.stream_arn),
                PutEntry {
                    data: &data,
                    partition_key: &key,
                    explicit_hash_key: explicit,
                },
                i.sequence_number_for_ordering
                    .as_ref()
                    .map(|s| s.0.as_str()),
            )
            .await?;
        Ok(Output {
            shard_id: shard_id_text(put.shard),
            sequence_number: sequence_text(put.sequence),
            encryption_type: put.encrypted.then_some("KMS"),
        })
    }
}
