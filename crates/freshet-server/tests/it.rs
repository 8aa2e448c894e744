// SPDX-License-Identifier: Apache-2.0
//! Conformance tests: the official `aws-sdk-kinesis` client (and raw HTTP for wire-level
//! checks) against an in-process Freshet server started by `freshet-testkit`.
//!
//! Every test starts its own server on a fresh temporary data directory, so tests are
//! independent and run in parallel. Expected error codes and messages are the AWS ones from
//! `shared/reference/kinesis-data-streams.md` (sections 1.4, 3.4 and 6). Nothing here asserts
//! how fast anything is.

mod it {
    pub mod common;

    mod arn;
    mod cbor;
    mod cloudwatch;
    mod efo;
    mod firehose;
    mod glue;
    mod lambda;
    mod lifecycle;
    mod logs;
    mod metrics;
    mod put;
    mod quota;
    mod read;
    mod reshard;
    mod restart;
    mod s3;
    mod shards;
    mod slow;
    mod sqs;
    mod stream_settings;
    mod tags;
    mod tls;
    mod validation;
    mod wire;
}
