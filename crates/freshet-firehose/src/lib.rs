// SPDX-License-Identifier: Apache-2.0
//! Amazon Data Firehose (API 2015-08-04) for Freshet.
//!
//! * [`sink`]: where delivered objects go ([`sink::ObjectSink`]): Freshet's own buckets, or
//!   an external S3-compatible store a bucket is mapped to.

pub mod convert;
pub mod rules;
pub mod sink;
