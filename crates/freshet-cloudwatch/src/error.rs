// SPDX-License-Identifier: Apache-2.0
//! CloudWatch's errors and how they go on the wire: the model's error shapes, their
//! Query-era codes (`x-amzn-query-error`, awsQueryCompatible) and statuses, in one place.

use freshet_protocol::{ApiError, Wire};

/// CloudWatch's wire: no namespace in `__type` (botocore cuts it anyway) and the
/// `x-amzn-query-error` header, so SDKs raise the Query-era code (`ResourceNotFound`).
pub const WIRE: Wire = Wire {
    error_namespace: None,
    query_compatible: true,
};

/// A CloudWatch error, by the model's error shapes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CwError {
    /// `InvalidParameterValueException` (Query code `InvalidParameterValue`, 400).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `MissingRequiredParameterException` (`MissingParameter`, 400).
    #[error("{0}")]
    MissingParameter(String),
    /// `InvalidParameterCombinationException` (`InvalidParameterCombination`, 400).
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// `InvalidNextToken` (400).
    #[error("{0}")]
    InvalidNextToken(String),
    /// `LimitExceededFault` (`LimitExceeded`, 400).
    #[error("{0}")]
    LimitExceeded(String),
    /// `InvalidFormatFault` (`InvalidFormat`, 400).
    #[error("{0}")]
    InvalidFormat(String),
    /// `ResourceNotFound` (404): a missing alarm.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `DashboardNotFoundError` (Query code `ResourceNotFound`, 404).
    #[error("{0}")]
    DashboardNotFound(String),
    /// `DashboardInvalidInputError` (`InvalidParameterInput`, 400) with its validation
    /// messages `(DataPath, Message)`.
    #[error("{message}")]
    DashboardInvalidInput {
        /// The summary.
        message: String,
        /// Each problem: the JSON path in the body and what is wrong there.
        messages: Vec<(String, String)>,
    },
    /// `ResourceNotFoundException` (404): a missing resource of the newer operations (tags).
    #[error("{0}")]
    ResourceNotFoundException(String),
    /// `InternalServiceFault` (`InternalServiceError`, 500).
    #[error("{0}")]
    Internal(String),
}

impl CwError {
    /// The error shape's name (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            CwError::InvalidParameterValue(_) => "InvalidParameterValueException",
            CwError::MissingParameter(_) => "MissingRequiredParameterException",
            CwError::InvalidParameterCombination(_) => "InvalidParameterCombinationException",
            CwError::InvalidNextToken(_) => "InvalidNextToken",
            CwError::LimitExceeded(_) => "LimitExceededFault",
            CwError::InvalidFormat(_) => "InvalidFormatFault",
            CwError::ResourceNotFound(_) => "ResourceNotFound",
            CwError::DashboardNotFound(_) => "DashboardNotFoundError",
            CwError::DashboardInvalidInput { .. } => "DashboardInvalidInputError",
            CwError::ResourceNotFoundException(_) => "ResourceNotFoundException",
            CwError::Internal(_) => "InternalServiceFault",
        }
    }

    /// The Query-era code (the `awsQueryError` trait of the shape).
    pub fn query_code(&self) -> &'static str {
        match self {
            CwError::InvalidParameterValue(_) => "InvalidParameterValue",
            CwError::MissingParameter(_) => "MissingParameter",
            CwError::InvalidParameterCombination(_) => "InvalidParameterCombination",
            CwError::InvalidNextToken(_) => "InvalidNextToken",
            CwError::LimitExceeded(_) => "LimitExceeded",
            CwError::InvalidFormat(_) => "InvalidFormat",
            CwError::ResourceNotFound(_) | CwError::DashboardNotFound(_) => "ResourceNotFound",
            CwError::DashboardInvalidInput { .. } => "InvalidParameterInput",
            CwError::ResourceNotFoundException(_) => "ResourceNotFoundException",
            CwError::Internal(_) => "InternalServiceError",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            CwError::ResourceNotFound(_)
            | CwError::DashboardNotFound(_)
            | CwError::ResourceNotFoundException(_) => 404,
            CwError::Internal(_) => 500,
            _ => 400,
        }
    }
}

impl From<CwError> for ApiError {
    fn from(e: CwError) -> ApiError {
        let mut api =
            ApiError::new(e.code(), e.status(), e.to_string()).with_query_code(e.query_code());
        if let CwError::DashboardInvalidInput { messages, .. } = &e {
            let list: Vec<serde_json::Value> = messages
                .iter()
                .map(|(path, message)| serde_json::json!({"DataPath": path, "Message": message}))
                .collect();
            api = api.with_field("dashboardValidationMessages", list);
        }
        api
    }
}

impl From<crate::store::StoreError> for CwError {
    fn from(e: crate::store::StoreError) -> CwError {
        use crate::store::StoreError;
        match e {
            StoreError::Storage(message) => {
                tracing::error!(error = %message, "CloudWatch request failed in storage.");
                CwError::Internal(message)
            }
            StoreError::TooManyMetrics { limit } => CwError::LimitExceeded(format!(
                "The request would create new metrics beyond this server's limit of {limit} \
                 distinct metrics."
            )),
        }
    }
}
