// SPDX-License-Identifier: Apache-2.0
//! The AWS Glue Data Catalog (API 2017-03-31), the part a Firehose `SchemaConfiguration`
//! needs: databases, tables and table versions, served over AWS JSON 1.1
//! (`X-Amz-Target: AWSGlue.<Op>`), stored in the metadata store.
//!
//! * [`shapes`]: the catalog documents (`DatabaseInput`, `TableInput`, ...), both request
//!   members and stored records.
//! * [`catalog`]: [`Glue`], the catalog on the metadata store, and the in-process schema
//!   lookup [`Glue::table_columns`] Firehose calls.
//! * [`error`]: [`GlueError`] with AWS's messages; [`api`]: [`GlueService`] and the one
//!   mapping to wire codes; `ops`: one module per operation.
//!
//! Partitions are not stored: GetPartitions answers an empty list for an existing table.

pub mod api;
pub mod catalog;
pub mod error;
mod ops;
pub mod shapes;

pub use api::GlueService;
pub use catalog::{Column, Glue, Page};
pub use error::{ErrorKind, GlueError};
