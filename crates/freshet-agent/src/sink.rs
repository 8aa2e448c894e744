// SPDX-License-Identifier: Apache-2.0
//! Where records go: the [`Sink`] trait every destination implements, one call per buffer
//! (PutRecords or PutRecordBatch), and the per-destination limits buffers respect.
//!
//! Two implementations: the AWS SDK one (`sdk` feature, for `freshet agent`) and the server's
//! in-process one (in `freshet-server`, over the Kinesis and Firehose handles).

use async_trait::async_trait;
use bytes::Bytes;

/// A flow's destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A Kinesis data stream (PutRecords).
    KinesisStream(String),
    /// A Firehose delivery stream (PutRecordBatch).
    DeliveryStream(String),
}

impl Destination {
    /// The `Destination` metric dimension: `KinesisStream:<name>` or `DeliveryStream:<name>`.
    pub fn dimension(&self) -> String {
        match self {
            Destination::KinesisStream(n) => format!("KinesisStream:{n}"),
            Destination::DeliveryStream(n) => format!("DeliveryStream:{n}"),
        }
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        match self {
            Destination::KinesisStream(n) | Destination::DeliveryStream(n) => n,
        }
    }
}

/// A destination's hard limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest record's data, in bytes (longer records are truncated).
    pub record_bytes: usize,
    /// Most records per call.
    pub batch_records: usize,
    /// Most bytes per call (Kinesis counts partition keys too).
    pub batch_bytes: usize,
}

/// Longest partition key the agent makes (an MD5 hex digest is 32; a random number ~20).
pub const MAX_PARTITION_KEY: usize = 64;

/// The limits of `dest`: Kinesis 1 MiB records (data plus partition key) and 500 records or
/// 5 MiB per PutRecords; Firehose 1,000 KiB records and 500 records or 4 MiB per
/// PutRecordBatch.
pub fn limits(dest: &Destination) -> Limits {
    match dest {
        Destination::KinesisStream(_) => Limits {
            // The partition key counts towards the 1 MiB: leave room for ours.
            record_bytes: 1024 * 1024 - MAX_PARTITION_KEY,
            batch_records: 500,
            batch_bytes: 5 * 1024 * 1024,
        },
        Destination::DeliveryStream(_) => Limits {
            record_bytes: 1_024_000,
            batch_records: 500,
            batch_bytes: 4 * 1024 * 1024,
        },
    }
}

/// One record to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkRecord {
    /// The payload.
    pub data: Bytes,
    /// Its partition key (ignored by delivery streams).
    pub partition_key: String,
}

/// What became of one record of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// Stored.
    Sent,
    /// Refused on its own (throttled, internal failure): sent again after a back-off.
    Failed {
        /// The AWS error code.
        code: String,
        /// Its message.
        message: String,
    },
}

/// Why a whole call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Worth trying again: throttling, a server error, a network failure, a destination that
    /// does not exist (yet).
    #[error("{code}: {message}")]
    Retriable {
        /// The AWS error code, or a word for what failed.
        code: String,
        /// Details.
        message: String,
    },
    /// Will never succeed as sent (validation, access denied): the buffer is dropped.
    #[error("{code}: {message}")]
    Fatal {
        /// The AWS error code.
        code: String,
        /// Details.
        message: String,
    },
}

impl SendError {
    /// Classifies an AWS error code the way the Kinesis Agent does: client errors are fatal
    /// except throttling and a destination that is not there yet (which Freshet waits for
    /// rather than dropping lines).
    pub fn from_code(code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let code = code.to_owned();
        let retriable = matches!(
            code.as_str(),
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "Throttling"
                | "LimitExceededException"
                | "ServiceUnavailableException"
                | "ServiceUnavailable"
                | "InternalFailure"
                | "InternalFailureException"
                | "InternalServerError"
                | "ResourceNotFoundException"
                | "ResourceInUseException"
                | "KMSThrottlingException"
                | "RequestTimeout"
                | "RequestTimeoutException"
                | "SlowDown"
        );
        if retriable {
            SendError::Retriable { code, message }
        } else {
            SendError::Fatal { code, message }
        }
    }
}

/// A destination the agent sends buffers to.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Sends `records` to `dest` in one call. `Ok` has one outcome per record, in order.
    async fn put(
        &self,
        dest: &Destination,
        records: &[SinkRecord],
    ) -> Result<Vec<EntryOutcome>, SendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_missing_streams_are_retried_but_validation_is_not() {
        for code in [
            "ProvisionedThroughputExceededException",
            "ResourceNotFoundException",
        ] {
            assert!(matches!(
                SendError::from_code(code, ""),
                SendError::Retriable { .. }
            ));
        }
        for code in [
            "ValidationException",
            "InvalidArgumentException",
            "AccessDeniedException",
        ] {
            assert!(matches!(
                SendError::from_code(code, ""),
                SendError::Fatal { .. }
            ));
        }
    }

    #[test]
    fn the_metric_dimension_names_the_kind_of_destination() {
        assert_eq!(
            Destination::KinesisStream("a".into()).dimension(),
            "KinesisStream:a"
        );
        assert_eq!(
            Destination::DeliveryStream("b".into()).dimension(),
            "DeliveryStream:b"
        );
    }
}
