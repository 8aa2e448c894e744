// SPDX-License-Identifier: Apache-2.0
//! What can go wrong in Logs Insights operations, mapped to AWS's codes in one `match`.

use freshet_protocol::ApiError;
use thiserror::Error;

use super::parser::ParseError;

/// A failed Logs Insights operation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The query does not compile (MalformedQueryException with queryCompileError).
    #[error("{}", .0.message)]
    Malformed(ParseError),
    /// No log group of that name (ResourceNotFoundException).
    #[error("Log group '{group}' does not exist for account ID '{account}'.")]
    GroupNotFound {
        /// The group.
        group: String,
        /// The account.
        account: String,
    },
    /// No query of that id (ResourceNotFoundException).
    #[error("Query {id} does not exist.")]
    QueryNotFound {
        /// The id.
        id: String,
    },
    /// No saved query of that id (ResourceNotFoundException).
    #[error("Query definition {id} does not exist.")]
    DefinitionNotFound {
        /// The id.
        id: String,
    },
    /// A request that names its log groups wrongly, or a bad time range (InvalidParameter).
    #[error("{0}")]
    Invalid(String),
    /// Too many queries running (LimitExceededException).
    #[error("Account maximum query concurrency limit of [{0}] reached.")]
    TooManyQueries(usize),
    /// Too many saved queries (LimitExceededException).
    #[error("Account maximum of [{0}] query definitions reached.")]
    TooManyDefinitions(usize),
    /// The rest of the Logs domain (group lookups, storage).
    #[error(transparent)]
    Logs(#[from] crate::error::Error),
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        let message = e.to_string();
        match e {
            QueryError::Malformed(p) => ApiError::new("MalformedQueryException", 400, message)
                .with_field(
                    "queryCompileError",
                    serde_json::json!({
                        "location": {
                            "startCharOffset": p.start,
                            "endCharOffset": p.end,
                        },
                        "message": p.message,
                    }),
                ),
            QueryError::GroupNotFound { .. }
            | QueryError::QueryNotFound { .. }
            | QueryError::DefinitionNotFound { .. } => {
                ApiError::new("ResourceNotFoundException", 400, message)
            }
            QueryError::Invalid(_) => ApiError::new("InvalidParameterException", 400, message),
            QueryError::TooManyQueries(_) | QueryError::TooManyDefinitions(_) => {
                ApiError::new("LimitExceededException", 400, message)
            }
            QueryError::Logs(e) => e.into(),
        }
    }
}
