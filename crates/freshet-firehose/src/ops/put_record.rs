// SPDX-License-Identifier: Apache-2.0
//! PutRecord: one record, acknowledged once durable in the stream's log.

use bytes::Bytes;
use freshet_protocol::json::{JBlob, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::validate_name;
use crate::Firehose;
use crate::ingest::{MAX_RECORD_BYTES, PutOutcome};

pub(crate) struct PutRecord;

/// `Record`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RecordIn {
    pub data: Option<JBlob>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    record: Option<RecordIn>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    record_id: String,
    encrypted: bool,
}

impl Operation<Firehose> for PutRecord {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.required("record", &i.record);
        if let Some(r) = &i.record {
            v.required("record.data", &r.data);
            v.blob(
                "record.data",
                r.data.as_ref().map(|d| d.0.as_slice()),
                MAX_RECORD_BYTES,
            );
        }
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let data = i
            .record
            .and_then(|r| r.data)
            .map(|d| Bytes::from(d.0))
            .unwrap_or_default();
        let encrypted = fh.record(&name)?.encryption.status == "ENABLED";
        match fh
            .put_records_as(&name, &[data], Some(crate::metrics::PutOp::PutRecord))
            .await?
            .pop()
        {
            Some(PutOutcome::Ok(record_id)) => Ok(Output {
                record_id,
                encrypted,
            }),
            Some(PutOutcome::Failed(_, message)) => {
                Err(ApiError::new("ServiceUnavailableException", 503, message))
            }
            None => Err(ApiError::new("InternalFailure", 500, "no outcome")),
        }
    }
}
