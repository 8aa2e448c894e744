// SPDX-License-Identifier: Apache-2.0
//! CloudWatch conformance tests: the official `aws-sdk-cloudwatch` client (which speaks smithy
//! RPC v2 CBOR) and raw HTTP against an in-process server.

mod alarms;
mod metrics;
