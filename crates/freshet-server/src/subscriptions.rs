// SPDX-License-Identifier: Apache-2.0
//! CloudWatch Logs subscription filter destinations, in process: [`InProcessDestinations`]
//! sends a filter's messages with Kinesis PutRecords, Firehose PutRecordBatch or a Lambda
//! Event invocation through the services' handles (never HTTP loopback), so each destination
//! applies exactly the checks and limits its API applies.

use std::sync::Arc;

use bytes::Bytes;
use freshet_firehose::Firehose;
use freshet_kinesis::{PutEntry, PutOutcome, StreamRef, Streams};
use freshet_lambda::Functions;
use freshet_lambda::functions::{InvocationType, InvokeRequest};
use freshet_logs::{
    Destination, DestinationError, OutRecord, RecordOutcome, SubscriptionDestinations,
};
use futures_util::future::BoxFuture;

/// The server's Kinesis streams, Firehose streams and Lambda functions as subscription
/// destinations.
#[derive(Debug, Clone)]
pub struct InProcessDestinations {
    streams: Streams,
    firehose: Firehose,
    functions: Functions,
}

impl InProcessDestinations {
    /// Destinations over the server's services.
    pub fn new(streams: Streams, firehose: Firehose, functions: Functions) -> Arc<Self> {
        Arc::new(Self {
            streams,
            firehose,
            functions,
        })
    }

    async fn to_kinesis(
        &self,
        stream: &str,
        records: &[OutRecord],
    ) -> Result<Vec<RecordOutcome>, DestinationError> {
        let entries: Vec<PutEntry<'_>> = records
            .iter()
            .map(|r| PutEntry {
                data: &r.data,
                partition_key: &r.partition_key,
                explicit_hash_key: None,
            })
            .collect();
        let out = self
            .streams
            .put_records(&StreamRef::name(stream.to_owned()), &entries)
            .await
            .map_err(|e| DestinationError {
                code: freshet_kinesis::api::code_of(e.kind()).0.to_owned(),
                message: e.to_string(),
            })?;
        Ok(out
            .into_iter()
            .map(|o| match o {
                PutOutcome::Stored { .. } => RecordOutcome::Delivered,
                PutOutcome::Failed { code, message } => RecordOutcome::Failed {
                    code: code.to_owned(),
                    message,
                },
            })
            .collect())
    }

    async fn to_firehose(
        &self,
        name: &str,
        records: &[OutRecord],
    ) -> Result<Vec<RecordOutcome>, DestinationError> {
        let data: Vec<Bytes> = records.iter().map(|r| r.data.clone()).collect();
        let out = self
            .firehose
            .put_records(name, &data)
            .await
            .map_err(|e| DestinationError {
                code: freshet_firehose::api::code_of(e.kind()).0.to_owned(),
                message: e.to_string(),
            })?;
        Ok(out
            .into_iter()
            .map(|o| match o {
                freshet_firehose::ingest::PutOutcome::Ok(_) => RecordOutcome::Delivered,
                freshet_firehose::ingest::PutOutcome::Failed(code, message) => {
                    RecordOutcome::Failed {
                        code: code.to_owned(),
                        message,
                    }
                }
            })
            .collect())
    }

    async fn invoke(
        &self,
        function: &str,
        kind: InvocationType,
        payload: Bytes,
    ) -> Result<(), DestinationError> {
        self.functions
            .invoke(InvokeRequest {
                function: function.to_owned(),
                qualifier: None,
                invocation_type: kind,
                tail_log: false,
                client_context: None,
                payload,
            })
            .await
            .map(|_| ())
            .map_err(|e| DestinationError {
                code: freshet_lambda::api::code_of(&e).0.to_owned(),
                message: e.to_string(),
            })
    }

    async fn to_lambda(
        &self,
        function: &str,
        records: &[OutRecord],
    ) -> Result<Vec<RecordOutcome>, DestinationError> {
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let outcome = match self
                .invoke(function, InvocationType::Event, r.data.clone())
                .await
            {
                Ok(()) => RecordOutcome::Delivered,
                Err(e) => RecordOutcome::Failed {
                    code: e.code,
                    message: e.message,
                },
            };
            out.push(outcome);
        }
        Ok(out)
    }
}

impl SubscriptionDestinations for InProcessDestinations {
    fn send<'a>(
        &'a self,
        destination: &'a Destination,
        records: &'a [OutRecord],
    ) -> BoxFuture<'a, Result<Vec<RecordOutcome>, DestinationError>> {
        Box::pin(async move {
            match destination {
                Destination::Kinesis { stream } => self.to_kinesis(stream, records).await,
                Destination::Firehose { delivery_stream } => {
                    self.to_firehose(delivery_stream, records).await
                }
                Destination::Lambda { function } => self.to_lambda(function, records).await,
            }
        })
    }

    fn check_function<'a>(
        &'a self,
        function: &'a str,
    ) -> BoxFuture<'a, Result<(), DestinationError>> {
        Box::pin(self.invoke(function, InvocationType::DryRun, Bytes::from_static(b"{}")))
    }
}
