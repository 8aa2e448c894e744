// SPDX-License-Identifier: Apache-2.0
//! Integration tests of the SQS engine through its public API, with the logs simulated in
//! memory, and of the service on a real platform in a temporary directory (one binary for
//! the crate).

mod it {
    pub mod engine_rules;
    pub mod fifo_rules;
    pub mod harness;
    pub mod md5_vectors;
    pub mod metrics;
    pub mod model;
    pub mod replay;
    pub mod store;
    pub mod window_cap;
}
