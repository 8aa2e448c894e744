// SPDX-License-Identifier: Apache-2.0
//! CloudWatch Logs Insights: the query language and the queries of this server.
//!
//! Pure parts, no I/O: [`value`] (values, ordering, how results print), [`ast`] and
//! [`parser`] (text to tree and back), [`eval`] (expressions and functions over a row),
//! [`record`] (an event as a row: system fields, JSON and Lambda fields, `@ptr`),
//! [`pipeline`] (a query over rows with bounded memory). The service side: `queries.rs`
//! (StartQuery's background scans over the groups' logs, the registry GetQueryResults,
//! StopQuery and DescribeQueries read) and `definitions.rs` (saved queries in the metadata
//! store).

pub mod ast;
pub(crate) mod definitions;
pub mod error;
pub mod eval;
mod fields;
pub mod parser;
pub mod pipeline;
pub(crate) mod queries;
pub mod record;
pub mod value;

pub use parser::{ParseError, parse};
pub use pipeline::Plan;
