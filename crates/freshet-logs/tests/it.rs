// SPDX-License-Identifier: Apache-2.0
//! Integration tests of the Logs service on a temporary data directory, with a manual clock so
//! retention can be tested without waiting. No HTTP: the SDK conformance tests are in
//! `freshet-server/tests/it/logs`.

mod it {
    pub mod common;

    mod append;
    mod filter;
    mod metrics;
    mod read;
    mod recovery;
    mod retention;
    mod subscriptions;
}
