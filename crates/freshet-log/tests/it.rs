//! Integration tests of the shard log, one binary: each module below covers one concern.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "it/common.rs"]
mod common;

#[path = "it/basic.rs"]
mod basic;
#[path = "it/concurrency.rs"]
mod concurrency;
#[path = "it/crash.rs"]
mod crash;
#[path = "it/fixtures.rs"]
mod fixtures;
#[path = "it/inspect.rs"]
mod inspect;
#[path = "it/model.rs"]
mod model;
#[path = "it/poison.rs"]
mod poison;
#[path = "it/recovery.rs"]
mod recovery;
#[path = "it/retention.rs"]
mod retention;
