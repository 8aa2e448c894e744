// SPDX-License-Identifier: Apache-2.0
//! Validated identifiers and the pure arithmetic every Freshet layer shares.
//!
//! Nothing here does I/O. The AWS layer validates raw request members against the model
//! constraints and then builds these types; below it, code works only with these.

pub mod arn;
pub mod civil;
pub mod clock;
pub mod hash;
pub mod kpl;
pub mod limits;
pub mod seqno;
pub mod shard_id;

pub use arn::{StreamArn, parse_stream_arn};
pub use clock::{Clock, ManualClock, SystemClock};
pub use hash::{HASH_KEY_MAX, HashKeyRange, even_hash_ranges, partition_key_hash};
pub use seqno::SequenceNumber;
pub use shard_id::ShardId;
