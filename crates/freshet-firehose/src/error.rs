// SPDX-License-Identifier: Apache-2.0
//! The domain's errors. Each has a kind that `api.rs` maps to one AWS error code.

/// What went wrong, as AWS classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ResourceNotFoundException`.
    ResourceNotFound,
    /// `ResourceInUseException`.
    ResourceInUse,
    /// `InvalidArgumentException`.
    InvalidArgument,
    /// `LimitExceededException`.
    LimitExceeded,
    /// `ConcurrentModificationException`.
    ConcurrentModification,
    /// `ServiceUnavailableException`.
    ServiceUnavailable,
    /// `InvalidSourceException`.
    InvalidSource,
    /// An internal failure (storage).
    Internal,
}

/// A Firehose domain error; its message is the one AWS sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No delivery stream of this name.
    #[error("Firehose {name} under account {account} not found.")]
    NotFound {
        /// The name.
        name: String,
        /// The account.
        account: String,
    },
    /// A delivery stream of this name exists.
    #[error("Firehose {name} under accountId {account} already exists")]
    AlreadyExists {
        /// The name.
        name: String,
        /// The account.
        account: String,
    },
    /// The stream is not in a state that allows this.
    #[error("{0}")]
    InUse(String),
    /// A bad argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// A limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// The version id given is not the current one.
    #[error("{0}")]
    ConcurrentModification(String),
    /// Back pressure: too much undelivered data.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// The source cannot take this (a put to a Kinesis-sourced stream).
    #[error("{0}")]
    InvalidSource(String),
    /// Storage failed.
    #[error("internal failure: {0}")]
    Storage(String),
}

impl Error {
    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::ResourceNotFound,
            Error::AlreadyExists { .. } | Error::InUse(_) => ErrorKind::ResourceInUse,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::LimitExceeded(_) => ErrorKind::LimitExceeded,
            Error::ConcurrentModification(_) => ErrorKind::ConcurrentModification,
            Error::ServiceUnavailable(_) => ErrorKind::ServiceUnavailable,
            Error::InvalidSource(_) => ErrorKind::InvalidSource,
            Error::Storage(_) => ErrorKind::Internal,
        }
    }
}

impl From<freshet_meta::MetaError> for Error {
    fn from(e: freshet_meta::MetaError) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<freshet_log::LogError> for Error {
    fn from(e: freshet_log::LogError) -> Self {
        Error::Storage(e.to_string())
    }
}

/// Results of the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;
