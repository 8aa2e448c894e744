// SPDX-License-Identifier: Apache-2.0
//! Firehose's documented rules as pure functions: prefixes and object names, compression,
//! the Lambda transformation contract, record processors, error output documents and the
//! HTTP endpoint protocol. Delivery (elsewhere in this crate) calls these; nothing here
//! keeps state between calls.

pub mod compress;
mod datetime;
pub mod deagg;
pub mod error_doc;
pub mod extract;
pub mod http_endpoint;
pub mod prefix;
pub mod processing;
pub mod transform;
