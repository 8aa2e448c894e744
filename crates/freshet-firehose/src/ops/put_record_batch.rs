// SPDX-License-Identifier: Apache-2.0
//! PutRecordBatch: up to 500 records and 4 MiB, acknowledged once durable; records beyond
//! the stream's undelivered budget fail one by one (FailedPutCount), as AWS throttles.

use bytes::Bytes;
use freshet_protocol::json::{JList, JStr};
use freshet_protocol::validate::{ListMember, Validator};
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::put_record::RecordIn;
use super::validate_name;
use crate::Firehose;
use crate::ingest::{MAX_BATCH_RECORDS, MAX_RECORD_BYTES, PutOutcome};

pub(crate) struct PutRecordBatch;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    delivery_stream_name: Option<JStr>,
    records: Option<JList<RecordIn>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    record_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    failed_put_count: usize,
    encrypted: bool,
    request_responses: Vec<Entry>,
}

impl Operation<Firehose> for PutRecordBatch {
    type Input = Input;
    type Output = Output;

    fn validate(i: &Input, v: &mut Validator) {
        validate_name(v, "deliveryStreamName", &i.delivery_stream_name);
        v.required("records", &i.records);
        if let Some(records) = &i.records {
            v.list_len(
                "records",
                Some(records.0.len()),
                "[...]",
                1,
                MAX_BATCH_RECORDS,
            );
            for (index, r) in records.0.iter().enumerate() {
                let path = ListMember {
                    list: "records",
                    index,
                    member: "data",
                };
                v.required(path, &r.data);
                v.blob(
                    path,
                    r.data.as_ref().map(|d| d.0.as_slice()),
                    MAX_RECORD_BYTES,
                );
            }
        }
    }

    async fn call(fh: &Firehose, i: Input) -> Result<Output, ApiError> {
        let name = i.delivery_stream_name.map(|s| s.0).unwrap_or_default();
        let records: Vec<Bytes> = i
            .records
            .map(|r| r.0)
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.data.map(|d| Bytes::from(d.0)).unwrap_or_default())
            .collect();
        let encrypted = fh.record(&name)?.encryption.status == "ENABLED";
        let outcomes = fh
            .put_records_as(&name, &records, Some(crate::metrics::PutOp::PutRecordBatch))
            .await?;
        let mut failed = 0;
        let request_responses = outcomes
            .into_iter()
            .map(|o| match o {
                PutOutcome::Ok(id) => Entry {
                    record_id: Some(id),
                    error_code: None,
                    error_message: None,
                },
                PutOutcome::Failed(code, message) => {
                    failed += 1;
                    Entry {
                        record_id: None,
                        error_code: Some(code),
                        error_message: Some(message),
                    }
                }
            })
            .collect();
        Ok(Output {
            failed_put_count: failed,
            encrypted,
            request_responses,
        })
    }
}
