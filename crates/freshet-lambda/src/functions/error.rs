// SPDX-License-Identifier: Apache-2.0
//! What can go wrong in the Lambda API's domain, with AWS's messages. The wire code and
//! status of each variant are decided in one place, `crate::api::code_of`.

/// A Lambda API failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such function or version (`arn` is qualified when a version was asked for).
    #[error("Function not found: {arn}")]
    FunctionNotFound {
        /// The ARN AWS names in the message.
        arn: String,
    },
    /// No such alias (GetAlias, UpdateAlias, DeleteAlias).
    #[error("Cannot find alias arn: {arn}")]
    AliasNotFound {
        /// The alias ARN.
        arn: String,
    },
    /// Another missing resource, with AWS's text (ResourceNotFoundException).
    #[error("{0}")]
    ResourceNotFound(String),
    /// A function ARN of another region: Lambda answers 404 with this text.
    #[error("Functions from '{region}' are not reachable in this region ('{here}')")]
    OtherRegion {
        /// The region the ARN names.
        region: String,
        /// This server's region.
        here: String,
    },
    /// A function ARN of another account: Lambda answers 403 AccessDeniedException without a
    /// message (cross-account access needs a resource policy Freshet does not model).
    #[error("Access to a function of account {account} is denied.")]
    OtherAccount {
        /// The account the ARN names.
        account: String,
    },
    /// CreateFunction of a name in use.
    #[error("Function already exist: {name}")]
    FunctionExists {
        /// The name.
        name: String,
    },
    /// CreateAlias of a name in use.
    #[error("Alias already exists: {arn}")]
    AliasExists {
        /// The alias ARN.
        arn: String,
    },
    /// A change while the previous one is still being applied.
    #[error(
        "The operation cannot be performed at this time. An update is in progress for resource: {arn}"
    )]
    UpdateInProgress {
        /// The function ARN.
        arn: String,
    },
    /// An invocation or change of a function that is not Active.
    #[error(
        "The operation cannot be performed at this time. The function is currently in the following state: {state}"
    )]
    NotActive {
        /// The function's state (`Pending`, `Failed`).
        state: String,
    },
    /// Another conflict, with AWS's text.
    #[error("{0}")]
    Conflict(String),
    /// A value the model allows but Lambda does not (InvalidParameterValueException).
    #[error("{0}")]
    InvalidParameter(String),
    /// A body or member that cannot be read (InvalidRequestContentException).
    #[error("{0}")]
    InvalidRequestContent(String),
    /// A model constraint failed (ValidationException, Coral's message format).
    #[error("{0}")]
    Validation(String),
    /// A request over Lambda's size limits for deployment packages (413).
    #[error("{0}")]
    EntityTooLarge(String),
    /// An Invoke payload over the limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// `RevisionId` does not match (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// Concurrency exhausted (429).
    #[error("Rate Exceeded.")]
    Throttled {
        /// AWS's `Reason`.
        reason: String,
    },
    /// An operation Freshet does not serve (yet).
    #[error("Freshet does not serve {0} yet.")]
    Unsupported(String),
    /// An event source mapping operation failed (its own codes and statuses).
    #[error("{0}")]
    Mapping(crate::esm::EsmError),
    /// The metadata store or code store failed.
    #[error("{0}")]
    Storage(String),
    /// The executor could not run the function.
    #[error("{0}")]
    Service(String),
}

impl From<freshet_meta::MetaError> for Error {
    fn from(e: freshet_meta::MetaError) -> Self {
        Error::Storage(e.to_string())
    }
}

/// Lambda's message for a RevisionId that does not match, the same for functions, versions
/// and aliases (it names both APIs).
pub fn revision_mismatch() -> Error {
    Error::PreconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the \
         GetFunction/GetAlias API to retrieve the latest Revision Id"
            .into(),
    )
}
