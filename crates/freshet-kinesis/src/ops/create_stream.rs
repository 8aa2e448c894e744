// SPDX-License-Identifier: Apache-2.0
//! CreateStream.

use freshet_protocol::json::{JInt, JMap, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::Deserialize;

use crate::ops::patterns::{NAME_PATTERN, is_name};
use crate::{StreamMode, Streams};

pub(crate) struct CreateStream;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    stream_name: Option<JStr>,
    shard_count: Option<JInt>,
    stream_mode_details: Option<ModeDetails>,
    tags: Option<JMap>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: Option<JInt>,
    warm_throughput_mi_bps: Option<JInt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ModeDetails {
    pub stream_mode: Option<JStr>,
}

pub(crate) const STREAM_MODES: &[&str] = &["PROVISIONED", "ON_DEMAND"];

impl Operation<Streams> for CreateStream {
    type Input = Input;
    type Output = ();
    const EMPTY_OUTPUT: bool = true;

    fn validate(i: &Input, v: &mut Validator) {
        v.required("streamName", &i.stream_name);
        v.string(
            "streamName",
            i.stream_name.as_ref().map(|s| s.0.as_str()),
            1,
            Some(128),
            Some((is_name, NAME_PATTERN)),
        );
        v.int("shardCount", i.shard_count.map(|n| n.0), Some(1), None);
        if let Some(m) = &i.stream_mode_details {
            v.required("streamModeDetails.streamMode", &m.stream_mode);
            v.one_of(
                "streamModeDetails.streamMode",
                m.stream_mode.as_ref().map(|s| s.0.as_str()),
                STREAM_MODES,
            );
        }
        super::resource_shapes::validate_tag_map(v, "tags", &i.tags);
        v.int(
            "warmThroughputMiBps",
            i.warm_throughput_mi_bps.map(|n| n.0),
            Some(0),
            None,
        );
        v.int(
            "maxRecordSizeInKiB",
            i.max_record_size_in_kib.map(|n| n.0),
            Some(1024),
            Some(10240),
        );
    }

    async fn call(streams: &Streams, i: Input) -> Result<(), ApiError> {
        let mode = match i
            .stream_mode_details
            .and_then(|m| m.stream_mode)
            .as_ref()
            .map(|s| s.0.as_str())
        {
            Some("ON_DEMAND") => StreamMode::OnDemand,
            _ => StreamMode::Provisioned,
        };
        if mode == StreamMode::OnDemand && i.shard_count.is_some() {
            return Err(ApiError::validation(
                "ShardCount is not supported for streams in ON_DEMAND mode.".to_owned(),
            ));
        }
        streams
            .create_stream(crate::CreateStream {
                name: i.stream_name.map(|s| s.0).unwrap_or_default(),
                // Validated: at least 1 and within i32.
                shard_count: i.shard_count.map(|n| n.0 as u32),
                mode,
                tags: i.tags.map(|t| t.0).unwrap_or_default(),
                max_record_size_kib: i.max_record_size_in_kib.map(|n| n.0 as u32),
                // Validated: at least 0 and within i32.
                warm_throughput_mibps: i.warm_throughput_mi_bps.map(|n| n.0 as u32),
            })
            .await?;
        Ok(())
    }
}
