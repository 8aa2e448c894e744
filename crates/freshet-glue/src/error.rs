// SPDX-License-Identifier: Apache-2.0
//! Everything a Data Catalog operation can answer besides success, with AWS's messages.
//! The wire code of each is in `api::code_of` (one match, no catch-all).

use freshet_meta::MetaError;

/// A Data Catalog failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GlueError {
    /// No such database (EntityNotFoundException).
    #[error("Database {database} not found.")]
    DatabaseNotFound {
        /// The name asked for.
        database: String,
    },
    /// No such table (EntityNotFoundException).
    #[error("Table {table} not found.")]
    TableNotFound {
        /// The name asked for.
        table: String,
    },
    /// No such table version (EntityNotFoundException).
    #[error("Version {version} of table {table} not found.")]
    VersionNotFound {
        /// The table.
        table: String,
        /// The version asked for.
        version: String,
    },
    /// CreateDatabase of an existing name (AlreadyExistsException).
    #[error("Database already exists.")]
    DatabaseExists,
    /// CreateTable of an existing name (AlreadyExistsException).
    #[error("Table already exists.")]
    TableExists,
    /// A request Glue refuses beyond the model constraints (InvalidInputException).
    #[error("{0}")]
    InvalidInput(String),
    /// UpdateTable with a `VersionId` that is no longer current
    /// (ConcurrentModificationException).
    #[error("Update table failed due to concurrent modifications.")]
    ConcurrentModification,
    /// The metadata store failed (InternalServiceException).
    #[error("Internal service error: {0}")]
    Storage(#[from] MetaError),
}

/// The wire class of an error, for the one mapping in `api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// EntityNotFoundException.
    EntityNotFound,
    /// AlreadyExistsException.
    AlreadyExists,
    /// InvalidInputException.
    InvalidInput,
    /// ConcurrentModificationException.
    ConcurrentModification,
    /// InternalServiceException.
    InternalService,
}

impl GlueError {
    /// The wire class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            GlueError::DatabaseNotFound { .. }
            | GlueError::TableNotFound { .. }
            | GlueError::VersionNotFound { .. } => ErrorKind::EntityNotFound,
            GlueError::DatabaseExists | GlueError::TableExists => ErrorKind::AlreadyExists,
            GlueError::InvalidInput(_) => ErrorKind::InvalidInput,
            GlueError::ConcurrentModification => ErrorKind::ConcurrentModification,
            GlueError::Storage(_) => ErrorKind::InternalService,
        }
    }
}
