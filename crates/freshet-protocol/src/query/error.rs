// SPDX-License-Identifier: Apache-2.0
//! The errors the Query codec itself reports, and the texts AWS documents for them.
//!
//! Codes, HTTP statuses and messages follow the "Common Errors" page that every Query service's
//! API reference carries (SQS: <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html>).
//! Service errors (`MissingParameter`, `AWS.SimpleQueueService.NonExistentQueue`, ...) belong to
//! the services; they go on the wire through [`super::encode_error`] like these.

use thiserror::Error;

/// `MissingAction`: no `Action` parameter.
pub const MISSING_ACTION: &str = "MissingAction";
/// AWS's text for [`MISSING_ACTION`].
pub const MISSING_ACTION_MESSAGE: &str =
    "The request is missing an action or a required parameter.";
/// `InvalidAction`: an `Action` the service does not have.
pub const INVALID_ACTION: &str = "InvalidAction";
/// AWS's documented text for [`INVALID_ACTION`]. (SQS has also been seen answering
/// "Could not find operation X for version 2012-11-05"; clients read only the code.)
pub const INVALID_ACTION_MESSAGE: &str =
    "The action or operation requested is invalid. Verify that the action is typed correctly.";
/// `InvalidParameterValue`: a parameter whose value does not fit its type or range.
pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
/// AWS's generic text for [`INVALID_PARAMETER_VALUE`].
pub const INVALID_PARAMETER_VALUE_MESSAGE: &str =
    "An invalid or out-of-range value was supplied for the input parameter.";
/// `MalformedQueryString`: a form or query string that cannot be decoded.
pub const MALFORMED_QUERY_STRING: &str = "MalformedQueryString";
/// AWS's text for [`MALFORMED_QUERY_STRING`].
pub const MALFORMED_QUERY_STRING_MESSAGE: &str = "The query string contains a syntax error.";
/// `MissingParameter`: for services, when a required member is absent.
pub const MISSING_PARAMETER: &str = "MissingParameter";
/// AWS's text for [`MISSING_PARAMETER`].
pub const MISSING_PARAMETER_MESSAGE: &str =
    "A required parameter for the specified action is not supplied.";
/// `InternalFailure`: for a failure of the server itself.
pub const INTERNAL_FAILURE: &str = "InternalFailure";
/// AWS's text for [`INTERNAL_FAILURE`].
pub const INTERNAL_FAILURE_MESSAGE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

/// Longest parameter value quoted back in an error message; the rest is cut with `...`, so a
/// 1 MiB bad value does not come back in full.
const MAX_QUOTED_VALUE: usize = 128;

pub use crate::error::Fault;

/// A request the Query codec rejects before any service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QueryError {
    /// No `Action` parameter, or an empty one.
    #[error("{MISSING_ACTION_MESSAGE}")]
    MissingAction,
    /// An `Action` the model does not have.
    #[error("{INVALID_ACTION_MESSAGE}")]
    InvalidAction {
        /// The action as sent (cut to a reasonable length).
        action: String,
    },
    /// A parameter whose value is not of its member's type (`MaxNumberOfMessages=ten`).
    #[error("Value ({value}) for parameter {parameter} is invalid. Must be {expected}.")]
    InvalidParameterValue {
        /// The parameter's wire name, e.g. `SendMessageBatchRequestEntry.1.DelaySeconds`.
        parameter: String,
        /// The value as sent (cut to a reasonable length).
        value: String,
        /// What the member takes, e.g. `an integer`.
        expected: &'static str,
    },
    /// A body or query string that is not valid form encoding (a bad `%` escape, bytes that
    /// are not UTF-8 once decoded) or that nests deeper than any model allows.
    #[error("{MALFORMED_QUERY_STRING_MESSAGE} {reason}")]
    MalformedQueryString {
        /// What was wrong, for the message.
        reason: &'static str,
    },
}

impl QueryError {
    /// The AWS error code for `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::MissingAction => MISSING_ACTION,
            QueryError::InvalidAction { .. } => INVALID_ACTION,
            QueryError::InvalidParameterValue { .. } => INVALID_PARAMETER_VALUE,
            QueryError::MalformedQueryString { .. } => MALFORMED_QUERY_STRING,
        }
    }

    /// The HTTP status AWS documents for the code (`MalformedQueryString` is documented as
    /// 404, odd as that is).
    pub fn status(&self) -> u16 {
        match self {
            QueryError::MissingAction
            | QueryError::InvalidAction { .. }
            | QueryError::InvalidParameterValue { .. } => 400,
            QueryError::MalformedQueryString { .. } => 404,
        }
    }

    /// Every codec error is the client's.
    pub fn fault(&self) -> Fault {
        Fault::Sender
    }

    /// The `<Message>` text.
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub(crate) fn invalid_value(parameter: String, value: &str, expected: &'static str) -> Self {
        QueryError::InvalidParameterValue {
            parameter,
            value: quote(value),
            expected,
        }
    }

    pub(crate) fn invalid_action(action: &str) -> Self {
        QueryError::InvalidAction {
            action: quote(action),
        }
    }
}

/// `value` cut to [`MAX_QUOTED_VALUE`] bytes on a character boundary.
fn quote(value: &str) -> String {
    if value.len() <= MAX_QUOTED_VALUE {
        return value.to_owned();
    }
    let mut end = MAX_QUOTED_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_value_message_names_the_parameter_and_the_expected_type() {
        let err = QueryError::invalid_value("MaxNumberOfMessages".into(), "ten", "an integer");
        assert_eq!(err.code(), "InvalidParameterValue");
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.message(),
            "Value (ten) for parameter MaxNumberOfMessages is invalid. Must be an integer."
        );
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let long = "é".repeat(200);
        let err = QueryError::invalid_value("P".into(), &long, "an integer");
        let QueryError::InvalidParameterValue { value, .. } = err else {
            panic!("wrong variant");
        };
        assert!(value.ends_with("..."));
        assert!(value.len() <= MAX_QUOTED_VALUE + 3);
    }

    #[test]
    fn action_errors_use_the_documented_texts() {
        assert_eq!(QueryError::MissingAction.message(), MISSING_ACTION_MESSAGE);
        assert_eq!(
            QueryError::invalid_action("Nope").message(),
            INVALID_ACTION_MESSAGE
        );
        assert_eq!(QueryError::invalid_action("Nope").code(), "InvalidAction");
    }
}
