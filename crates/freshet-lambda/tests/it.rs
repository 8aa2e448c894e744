// SPDX-License-Identifier: Apache-2.0
//! Integration tests of freshet-lambda on a temporary platform: the Lambda API's domain and
//! operations (on a real metadata store, with a fake executor) and event source mappings.

mod it {
    pub mod api;
    mod esm;
    pub mod harness;
    mod metrics;
}
