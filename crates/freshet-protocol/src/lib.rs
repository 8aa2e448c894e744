// SPDX-License-Identifier: Apache-2.0
//! AWS wire protocols shared by Freshet's services.
//!
//! Services implement each operation once, over JSON DTOs; the codecs here carry requests and
//! responses between those JSON values and what clients put on the wire.
//! [`query`] is the AWS Query protocol (form-encoded requests, XML responses) that older SDKs
//! and many tools use for SQS and CloudWatch.

pub mod query;
