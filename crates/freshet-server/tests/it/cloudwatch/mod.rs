// SPDX-License-Identifier: Apache-2.0
//! CloudWatch conformance: the official `aws-sdk-cloudwatch` client (RPC v2 CBOR) against an
//! in-process server.

mod alarms;
