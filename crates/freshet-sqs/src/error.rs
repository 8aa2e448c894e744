// SPDX-License-Identifier: Apache-2.0
//! SQS errors: every error shape of the 2012-11-05 model plus the two Coral validation errors
//! SQS answers with on the JSON protocol, each with the message AWS sends.
//!
//! [`Error`]'s `Display` is the `message` member. [`Error::code`] is the JSON `__type` shape
//! (without the `com.amazonaws.sqs#` namespace), [`Error::query_code`] the Query-era code that
//! goes into `<Code>` and the `x-amzn-query-error` header, [`Error::fault`] the `<Type>` and
//! [`Error::status`] the HTTP status. The mapping is one `match` per method without a
//! catch-all arm, so a new variant cannot go out unmapped.
//!
//! Sources for the texts: AWS-recorded snapshots in LocalStack's SQS test suite (Query codes
//! `AWS.SimpleQueueService.*`, `InvalidParameterValue` ↔ `InvalidParameterValueException`,
//! `MissingParameter` ↔ `MissingRequiredParameterException`, `QueueAlreadyExists` ↔
//! `QueueNameExists`), the AWS knowledge-center article on receipt handle errors, and the
//! model's documentation strings where no recorded text exists (marked "model text").

use std::borrow::Cow;

/// Who is to blame, as the Query protocol's `<Type>` and the second half of
/// `x-amzn-query-error` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong.
    Sender,
    /// The service failed.
    Receiver,
}

impl Fault {
    /// `Sender` or `Receiver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// Which batch operation an [`Error::EmptyBatchRequest`] is about (the entry type is part of
/// AWS's message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// SendMessageBatch.
    Send,
    /// DeleteMessageBatch.
    Delete,
    /// ChangeMessageVisibilityBatch.
    ChangeVisibility,
}

impl BatchKind {
    fn entry_name(self) -> &'static str {
        match self {
            BatchKind::Send => "SendMessageBatchRequestEntry",
            BatchKind::Delete => "DeleteMessageBatchRequestEntry",
            BatchKind::ChangeVisibility => "ChangeMessageVisibilityBatchRequestEntry",
        }
    }
}

/// Everything an SQS operation can refuse with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `QueueDoesNotExist` (Query: `AWS.SimpleQueueService.NonExistentQueue`).
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    /// `QueueDeletedRecently`: a create within 60 s of a delete of the same name.
    #[error(
        "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    )]
    QueueDeletedRecently,
    /// `QueueNameExists` (Query: `QueueAlreadyExists`): CreateQueue with an attribute that
    /// differs from the existing queue's.
    #[error(
        "A queue already exists with the same name and a different value for attribute {attribute}"
    )]
    QueueNameExists {
        /// The first differing attribute.
        attribute: String,
    },
    /// `PurgeQueueInProgress` (403): a second purge within 60 s.
    #[error("Only one PurgeQueue operation on {queue} is allowed every 60 seconds.")]
    PurgeQueueInProgress {
        /// The queue name.
        queue: String,
    },
    /// `OverLimit` (403).
    #[error("{message}")]
    OverLimit {
        /// What limit.
        message: String,
    },
    /// `MessageNotInflight` (model text). AWS itself answers a visibility change on a message
    /// that is no longer in flight with success, so the engine never returns this; it exists
    /// for completeness of the mapping.
    #[error("The specified message isn't in flight.")]
    MessageNotInflight,
    /// `TooManyEntriesInBatchRequest`.
    #[error("Maximum number of entries per request are 10. You have sent {count}.")]
    TooManyEntriesInBatchRequest {
        /// Entries sent.
        count: usize,
    },
    /// `EmptyBatchRequest`.
    #[error("There should be at least one {} in the request.", kind.entry_name())]
    EmptyBatchRequest {
        /// Which batch.
        kind: BatchKind,
    },
    /// `BatchEntryIdsNotDistinct`.
    #[error("Id {id} repeated.")]
    BatchEntryIdsNotDistinct {
        /// The repeated id.
        id: String,
    },
    /// `BatchRequestTooLong`.
    #[error("Batch requests cannot be longer than {limit} bytes. You have sent {sent} bytes.")]
    BatchRequestTooLong {
        /// The limit in bytes.
        limit: usize,
        /// What was sent.
        sent: usize,
    },
    /// `InvalidBatchEntryId`.
    #[error(
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
    )]
    InvalidBatchEntryId,
    /// `UnsupportedOperation`.
    #[error("{message}")]
    UnsupportedOperation {
        /// Why.
        message: String,
    },
    /// `ResourceNotFoundException` (404): message move tasks.
    #[error("{message}")]
    ResourceNotFound {
        /// What was not found.
        message: String,
    },
    /// `ReceiptHandleIsInvalid`: a handle that is malformed, forged or for another queue.
    #[error("The input receipt handle \"{handle}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid {
        /// The handle as given.
        handle: String,
    },
    /// `InvalidAttributeName`.
    #[error("{message}")]
    InvalidAttributeName {
        /// E.g. `Unknown Attribute Foo.`
        message: String,
    },
    /// `InvalidAttributeValue`.
    #[error("{message}")]
    InvalidAttributeValue {
        /// E.g. `Invalid value for the parameter DelaySeconds.`
        message: String,
    },
    /// `InvalidMessageContents`.
    #[error(
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
    )]
    InvalidMessageContents,
    /// `InvalidIdFormat` (deprecated in the model; model text).
    #[error("The specified receipt handle isn't valid for the current version.")]
    InvalidIdFormat,
    /// `InvalidAddress` (model text).
    #[error("The specified ID is invalid.")]
    InvalidAddress,
    /// `InvalidSecurity` (model text).
    #[error("The request was not made over HTTPS or did not use SigV4 for signing.")]
    InvalidSecurity,
    /// `RequestThrottled` (model text).
    #[error("The request was denied due to request throttling.")]
    RequestThrottled,
    /// `KmsAccessDenied` (model text).
    #[error("The caller doesn't have the required KMS access.")]
    KmsAccessDenied,
    /// `KmsDisabled` (model text).
    #[error("The request was denied due to request throttling.")]
    KmsDisabled,
    /// `KmsInvalidKeyUsage` (model text).
    #[error("The KeyUsage value of the KMS key is incompatible with the API operation.")]
    KmsInvalidKeyUsage,
    /// `KmsInvalidState` (model text).
    #[error(
        "The request was rejected because the state of the specified resource is not valid for this request."
    )]
    KmsInvalidState,
    /// `KmsNotFound` (model text).
    #[error(
        "The request was rejected because the specified entity or resource could not be found."
    )]
    KmsNotFound,
    /// `KmsOptInRequired` (model text).
    #[error(
        "The request was rejected because the specified key policy isn't syntactically or semantically correct."
    )]
    KmsOptInRequired,
    /// `KmsThrottled` (model text).
    #[error("Amazon Web Services KMS throttles requests for the following conditions.")]
    KmsThrottled,
    /// `InvalidParameterValueException` on JSON, `InvalidParameterValue` on Query: most
    /// validation failures of SendMessage, ReceiveMessage and friends.
    #[error("{message}")]
    InvalidParameterValue {
        /// E.g. `Value 11 for parameter MaxNumberOfMessages is invalid. Reason: ...`
        message: String,
    },
    /// `MissingRequiredParameterException` on JSON, `MissingParameter` on Query.
    #[error("The request must contain the parameter {parameter}.")]
    MissingParameter {
        /// The missing member.
        parameter: &'static str,
    },
}

impl Error {
    /// `InvalidParameterValue` with a message.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Error::InvalidParameterValue {
            message: message.into(),
        }
    }

    /// `InvalidParameterValue` in AWS's `Value X for parameter P is invalid. Reason: R` form.
    pub fn invalid_value(value: impl std::fmt::Display, parameter: &str, reason: &str) -> Self {
        Error::InvalidParameterValue {
            message: format!(
                "Value {value} for parameter {parameter} is invalid. Reason: {reason}"
            ),
        }
    }

    /// The JSON `__type` shape name (without namespace).
    pub fn code(&self) -> &'static str {
        match self {
            Error::QueueDoesNotExist => "QueueDoesNotExist",
            Error::QueueDeletedRecently => "QueueDeletedRecently",
            Error::QueueNameExists { .. } => "QueueNameExists",
            Error::PurgeQueueInProgress { .. } => "PurgeQueueInProgress",
            Error::OverLimit { .. } => "OverLimit",
            Error::MessageNotInflight => "MessageNotInflight",
            Error::TooManyEntriesInBatchRequest { .. } => "TooManyEntriesInBatchRequest",
            Error::EmptyBatchRequest { .. } => "EmptyBatchRequest",
            Error::BatchEntryIdsNotDistinct { .. } => "BatchEntryIdsNotDistinct",
            Error::BatchRequestTooLong { .. } => "BatchRequestTooLong",
            Error::InvalidBatchEntryId => "InvalidBatchEntryId",
            Error::UnsupportedOperation { .. } => "UnsupportedOperation",
            Error::ResourceNotFound { .. } => "ResourceNotFoundException",
            Error::ReceiptHandleIsInvalid { .. } => "ReceiptHandleIsInvalid",
            Error::InvalidAttributeName { .. } => "InvalidAttributeName",
            Error::InvalidAttributeValue { .. } => "InvalidAttributeValue",
            Error::InvalidMessageContents => "InvalidMessageContents",
            Error::InvalidIdFormat => "InvalidIdFormat",
            Error::InvalidAddress => "InvalidAddress",
            Error::InvalidSecurity => "InvalidSecurity",
            Error::RequestThrottled => "RequestThrottled",
            Error::KmsAccessDenied => "KmsAccessDenied",
            Error::KmsDisabled => "KmsDisabled",
            Error::KmsInvalidKeyUsage => "KmsInvalidKeyUsage",
            Error::KmsInvalidState => "KmsInvalidState",
            Error::KmsNotFound => "KmsNotFound",
            Error::KmsOptInRequired => "KmsOptInRequired",
            Error::KmsThrottled => "KmsThrottled",
            Error::InvalidParameterValue { .. } => "InvalidParameterValueException",
            Error::MissingParameter { .. } => "MissingRequiredParameterException",
        }
    }

    /// The Query-era code: `<Code>` on the Query protocol and the first half of
    /// `x-amzn-query-error` on JSON.
    pub fn query_code(&self) -> &'static str {
        match self {
            Error::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            Error::QueueDeletedRecently => "AWS.SimpleQueueService.QueueDeletedRecently",
            Error::QueueNameExists { .. } => "QueueAlreadyExists",
            Error::PurgeQueueInProgress { .. } => "AWS.SimpleQueueService.PurgeQueueInProgress",
            Error::OverLimit { .. } => "OverLimit",
            Error::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Error::TooManyEntriesInBatchRequest { .. } => {
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
            }
            Error::EmptyBatchRequest { .. } => "AWS.SimpleQueueService.EmptyBatchRequest",
            Error::BatchEntryIdsNotDistinct { .. } => {
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
            }
            Error::BatchRequestTooLong { .. } => "AWS.SimpleQueueService.BatchRequestTooLong",
            Error::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            Error::UnsupportedOperation { .. } => "AWS.SimpleQueueService.UnsupportedOperation",
            Error::ResourceNotFound { .. } => "ResourceNotFoundException",
            Error::ReceiptHandleIsInvalid { .. } => "ReceiptHandleIsInvalid",
            Error::InvalidAttributeName { .. } => "InvalidAttributeName",
            Error::InvalidAttributeValue { .. } => "InvalidAttributeValue",
            Error::InvalidMessageContents => "InvalidMessageContents",
            Error::InvalidIdFormat => "InvalidIdFormat",
            Error::InvalidAddress => "InvalidAddress",
            Error::InvalidSecurity => "InvalidSecurity",
            Error::RequestThrottled => "RequestThrottled",
            Error::KmsAccessDenied => "KmsAccessDenied",
            Error::KmsDisabled => "KmsDisabled",
            Error::KmsInvalidKeyUsage => "KmsInvalidKeyUsage",
            Error::KmsInvalidState => "KmsInvalidState",
            Error::KmsNotFound => "KmsNotFound",
            Error::KmsOptInRequired => "KmsOptInRequired",
            Error::KmsThrottled => "KmsThrottled",
            Error::InvalidParameterValue { .. } => "InvalidParameterValue",
            Error::MissingParameter { .. } => "MissingParameter",
        }
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Error::PurgeQueueInProgress { .. } | Error::OverLimit { .. } => 403,
            Error::ResourceNotFound { .. } => 404,
            Error::QueueDoesNotExist
            | Error::QueueDeletedRecently
            | Error::QueueNameExists { .. }
            | Error::MessageNotInflight
            | Error::TooManyEntriesInBatchRequest { .. }
            | Error::EmptyBatchRequest { .. }
            | Error::BatchEntryIdsNotDistinct { .. }
            | Error::BatchRequestTooLong { .. }
            | Error::InvalidBatchEntryId
            | Error::UnsupportedOperation { .. }
            | Error::ReceiptHandleIsInvalid { .. }
            | Error::InvalidAttributeName { .. }
            | Error::InvalidAttributeValue { .. }
            | Error::InvalidMessageContents
            | Error::InvalidIdFormat
            | Error::InvalidAddress
            | Error::InvalidSecurity
            | Error::RequestThrottled
            | Error::KmsAccessDenied
            | Error::KmsDisabled
            | Error::KmsInvalidKeyUsage
            | Error::KmsInvalidState
            | Error::KmsNotFound
            | Error::KmsOptInRequired
            | Error::KmsThrottled
            | Error::InvalidParameterValue { .. }
            | Error::MissingParameter { .. } => 400,
        }
    }

    /// Sender or Receiver. Every SQS error is the sender's: none of them is a 5xx.
    pub fn fault(&self) -> Fault {
        if self.status() >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        }
    }

    /// The message on the Query protocol, where AWS words one error differently.
    pub fn query_message(&self) -> Cow<'_, str> {
        match self {
            Error::QueueDoesNotExist => {
                Cow::Borrowed("The specified queue does not exist for this wsdl version.")
            }
            other => Cow::Owned(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_does_not_exist_maps_to_the_non_existent_queue_query_code() {
        let e = Error::QueueDoesNotExist;
        assert_eq!(e.code(), "QueueDoesNotExist");
        assert_eq!(e.query_code(), "AWS.SimpleQueueService.NonExistentQueue");
        assert_eq!(e.to_string(), "The specified queue does not exist.");
        assert_eq!(
            e.query_message(),
            "The specified queue does not exist for this wsdl version."
        );
        assert_eq!(e.status(), 400);
        assert_eq!(e.fault(), Fault::Sender);
    }

    #[test]
    fn purge_in_progress_is_a_403_with_the_queue_name() {
        let e = Error::PurgeQueueInProgress { queue: "q1".into() };
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.query_code(),
            "AWS.SimpleQueueService.PurgeQueueInProgress"
        );
        assert_eq!(
            e.to_string(),
            "Only one PurgeQueue operation on q1 is allowed every 60 seconds."
        );
    }

    #[test]
    fn invalid_parameter_value_has_distinct_json_and_query_codes() {
        let e = Error::invalid_value(
            11,
            "MaxNumberOfMessages",
            "Must be between 1 and 10, if provided.",
        );
        assert_eq!(e.code(), "InvalidParameterValueException");
        assert_eq!(e.query_code(), "InvalidParameterValue");
        assert_eq!(
            e.to_string(),
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        );
        let m = Error::MissingParameter {
            parameter: "MessageGroupId",
        };
        assert_eq!(m.code(), "MissingRequiredParameterException");
        assert_eq!(m.query_code(), "MissingParameter");
        assert_eq!(
            m.to_string(),
            "The request must contain the parameter MessageGroupId."
        );
    }

    #[test]
    fn batch_errors_carry_the_aws_texts() {
        assert_eq!(
            Error::TooManyEntriesInBatchRequest { count: 20 }.to_string(),
            "Maximum number of entries per request are 10. You have sent 20."
        );
        assert_eq!(
            Error::EmptyBatchRequest {
                kind: BatchKind::Delete
            }
            .to_string(),
            "There should be at least one DeleteMessageBatchRequestEntry in the request."
        );
        assert_eq!(
            Error::BatchRequestTooLong {
                limit: 1_048_576,
                sent: 1_048_577
            }
            .to_string(),
            "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."
        );
        assert_eq!(
            Error::InvalidBatchEntryId.query_code(),
            "AWS.SimpleQueueService.InvalidBatchEntryId"
        );
        assert_eq!(
            Error::QueueNameExists {
                attribute: "DelaySeconds".into()
            }
            .query_code(),
            "QueueAlreadyExists"
        );
    }

    #[test]
    fn resource_not_found_is_a_404() {
        let e = Error::ResourceNotFound {
            message: "x".into(),
        };
        assert_eq!(e.status(), 404);
        assert_eq!(e.code(), "ResourceNotFoundException");
    }
}
