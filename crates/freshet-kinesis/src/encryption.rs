// SPDX-License-Identifier: Apache-2.0
//! Server-side encryption settings: StartStreamEncryption, StopStreamEncryption, and which
//! records were written while encryption was on.
//!
//! Freshet records *that* a stream is encrypted and with which KMS key, as AWS reports it; it
//! does not encrypt the log yet. Each change stores, per shard, the first log offset written
//! under the new setting (the shard's visible end at the moment of the change). Every record
//! at or after that boundary carries the new setting; a shard created after a change was
//! written entirely under it. PutRecord(s) answers and GetRecords derive `EncryptionType`
//! from the same boundaries, so a record reads back exactly as its put was answered, and the
//! log format does not change.
//!
//! Quotas: each of the two operations succeeds at most 25 times in a rolling 24 hours.

use std::collections::BTreeMap;

use freshet_types::ShardId;

use crate::model::StreamRef;
use crate::record::{EncryptionChange, StreamRecord};
use crate::state::Stream;
use crate::{Error, Streams};

/// Successful StartStreamEncryption (and, separately, StopStreamEncryption) calls allowed per
/// stream in a rolling 24 hours.
pub const ENCRYPTION_CHANGES_PER_DAY: usize = 25;

const DAY_MS: i64 = 24 * 3_600_000;

/// Whether `key` is a KeyId in a form KMS accepts: a key ARN, an alias ARN, a key id (GUID),
/// `alias/<name>` (including `alias/aws/kinesis`), or a multi-Region key id.
pub fn is_valid_key_id(key: &str) -> bool {
    if let Some(rest) = key.strip_prefix("arn:") {
        // arn:<partition>:kms:<region>:<12 digits>:(key/<id>|alias/<name>)
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return false;
        };
        return partition.starts_with("aws")
            && service == "kms"
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && (resource
                .strip_prefix("key/")
                .is_some_and(|id| is_key_guid(id) || is_multi_region_id(id))
                || resource.strip_prefix("alias/").is_some_and(is_alias_name));
    }
    if let Some(name) = key.strip_prefix("alias/") {
        return is_alias_name(name);
    }
    is_key_guid(key) || is_multi_region_id(key)
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex.
fn is_key_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `mrk-` and 32 hex digits.
fn is_multi_region_id(s: &str) -> bool {
    s.strip_prefix("mrk-")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// KMS alias names: 1..=256 of `[a-zA-Z0-9:/_-]`.
fn is_alias_name(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
}

/// The encryption boundaries of one shard, in offset order: `(first offset, encrypted)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ShardEncryption(Vec<(u64, bool)>);

impl ShardEncryption {
    /// The timeline of shard `shard` under `changes` (oldest first).
    pub(crate) fn of(changes: &[EncryptionChange], shard: u32) -> Self {
        // A shard missing from a change did not exist yet: its records all come after it.
        Self(
            changes
                .iter()
                .map(|c| {
                    (
                        c.shard_offsets.get(&shard).copied().unwrap_or(0),
                        c.key_id.is_some(),
                    )
                })
                .collect(),
        )
    }

    /// Whether the record at `offset` was written with encryption on.
    pub(crate) fn encrypted(&self, offset: u64) -> bool {
        // Boundaries of one shard never decrease from one change to the next, so the setting
        // of an offset is that of the last change whose boundary is at or below it.
        let n = self.0.partition_point(|&(from, _)| from <= offset);
        n > 0 && self.0[n - 1].1
    }
}

/// Drops changes that no retained record can fall under any more: everything before the
/// newest change whose boundaries are all at or below the start of their shards' logs.
/// `log_start(shard)` is `None` for a shard that no longer exists.
pub(crate) fn prune_changes(
    changes: &mut Vec<EncryptionChange>,
    log_start: impl Fn(u32) -> Option<u64>,
) {
    let superseding = changes.iter().rposition(|c| {
        c.shard_offsets
            .iter()
            .all(|(&shard, &from)| log_start(shard).is_none_or(|start| start >= from))
    });
    if let Some(k) = superseding {
        changes.drain(..k);
    }
}

/// Removes quota entries older than 24 hours and says whether another call fits.
fn quota_allows(calls: &mut Vec<i64>, now: i64) -> bool {
    calls.retain(|&t| now - t < DAY_MS);
    calls.len() < ENCRYPTION_CHANGES_PER_DAY
}

impl Streams {
    /// StartStreamEncryption: from now on, records are written (reported) encrypted with
    /// `key_id`. The stream is UPDATING for the update delay.
    pub async fn start_stream_encryption(
        &self,
        r: &StreamRef,
        kms: bool,
        key_id: &str,
    ) -> Result<(), Error> {
        self.change_encryption(r, kms, key_id, true).await
    }

    /// StopStreamEncryption: from now on, records are written unencrypted. Stopping a stream
    /// that is not encrypted succeeds and changes nothing but the status.
    pub async fn stop_stream_encryption(
        &self,
        r: &StreamRef,
        kms: bool,
        key_id: &str,
    ) -> Result<(), Error> {
        self.change_encryption(r, kms, key_id, false).await
    }

    async fn change_encryption(
        &self,
        r: &StreamRef,
        kms: bool,
        key_id: &str,
        start: bool,
    ) -> Result<(), Error> {
        let operation = if start {
            "StartStreamEncryption"
        } else {
            "StopStreamEncryption"
        };
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        if !kms {
            return Err(Error::EncryptionTypeNotKms { operation });
        }
        if !is_valid_key_id(key_id) {
            return Err(Error::InvalidKeyId {
                key: key_id.to_owned(),
            });
        }
        self.require_active(&stream)?;
        let now = self.now();
        let shards = stream.shards();
        let log_start = |i: u32| shards.get(ShardId(i)).map(|s| s.log.start_offset());
        let account = self.inner.opts.account_id.clone();
        self.begin_update(&stream, |rec: &mut StreamRecord| {
            let calls = if start {
                &mut rec.encryption_starts_ms
            } else {
                &mut rec.encryption_stops_ms
            };
            if !quota_allows(calls, now) {
                return Err(Error::EncryptionRateLimit {
                    operation,
                    stream: stream.name.clone(),
                    account,
                    limit: ENCRYPTION_CHANGES_PER_DAY,
                });
            }
            calls.push(now);
            let key = start.then(|| key_id.to_owned());
            if rec.encryption_key_id != key {
                // Taken under the record's write lock: a put answers only once its record is
                // visible and reads the changes under the read lock, so either the put sees
                // this change and its record is at or past the boundary, or the boundary lies
                // past its record. Answer and read-back always agree.
                let offsets: BTreeMap<u32, u64> = stream
                    .shards()
                    .iter()
                    .map(|s| (s.id.0, s.log.next_offset()))
                    .collect();
                rec.encryption_key_id = key.clone();
                rec.encryption_changes.push(EncryptionChange {
                    at_ms: now,
                    key_id: key,
                    shard_offsets: offsets,
                });
                prune_changes(&mut rec.encryption_changes, log_start);
            }
            Ok(())
        })
    }

    /// The encryption timeline of one shard of `stream`, for the put and read paths.
    pub(crate) fn shard_encryption(&self, stream: &Stream, shard: u32) -> ShardEncryption {
        ShardEncryption::of(&stream.record().encryption_changes, shard)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn change(key: Option<&str>, offsets: &[(u32, u64)]) -> EncryptionChange {
        EncryptionChange {
            at_ms: 0,
            key_id: key.map(str::to_owned),
            shard_offsets: offsets.iter().copied().collect(),
        }
    }

    #[test]
    fn key_id_forms() {
        for ok in [
            "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012",
            "arn:aws:kms:us-east-1:123456789012:alias/MyAliasName",
            "12345678-1234-1234-1234-123456789012",
            "alias/MyAliasName",
            "alias/aws/kinesis",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
        ] {
            assert!(is_valid_key_id(ok), "{ok} is a valid KeyId");
        }
        for bad in [
            "",
            "key",
            "alias/",
            "alias/has space",
            "1234567-1234-1234-1234-123456789012",
            "arn:aws:kms:us-east-1:1234:key/12345678-1234-1234-1234-123456789012",
            "arn:aws:sqs:us-east-1:123456789012:alias/a",
            "arn:aws:kms:us-east-1:123456789012:key/not-a-guid",
        ] {
            assert!(!is_valid_key_id(bad), "{bad:?} is not a valid KeyId");
        }
    }

    #[test]
    fn records_before_a_start_are_plain_and_after_it_encrypted() {
        let changes = vec![
            change(Some("alias/aws/kinesis"), &[(0, 3), (1, 0)]),
            change(None, &[(0, 5), (1, 2)]),
            change(Some("alias/other"), &[(0, 5), (1, 9)]),
        ];
        let s0 = ShardEncryption::of(&changes, 0);
        let got: Vec<bool> = (0..8).map(|o| s0.encrypted(o)).collect();
        // 0..3 plain, 3..5 encrypted, stopped at 5 and restarted at 5 again.
        assert_eq!(got, [false, false, false, true, true, true, true, true]);
        let s1 = ShardEncryption::of(&changes, 1);
        let got: Vec<bool> = (0..11).map(|o| s1.encrypted(o)).collect();
        assert_eq!(
            got,
            [
                true, true, false, false, false, false, false, false, false, true, true
            ]
        );
    }

    #[test]
    fn shards_created_after_a_change_follow_it_entirely() {
        let changes = vec![
            change(Some("alias/aws/kinesis"), &[(0, 10)]),
            change(None, &[(0, 20), (1, 4)]),
        ];
        // Shard 1 appeared between the two changes: encrypted until its boundary of 4.
        let s1 = ShardEncryption::of(&changes, 1);
        assert!(s1.encrypted(0) && s1.encrypted(3));
        assert!(!s1.encrypted(4));
        // Shard 2 appeared after both: plain throughout.
        assert!(!ShardEncryption::of(&changes, 2).encrypted(0));
        // No changes at all: plain.
        assert!(!ShardEncryption::of(&[], 0).encrypted(0));
    }

    #[test]
    fn pruning_keeps_every_change_a_retained_record_depends_on() {
        let mut changes = vec![
            change(Some("k1"), &[(0, 3)]),
            change(None, &[(0, 5)]),
            change(Some("k2"), &[(0, 9)]),
        ];
        // Offsets from 4 are retained: the change at 3 still decides offset 4.
        prune_changes(&mut changes, |_| Some(4));
        assert_eq!(changes.len(), 3);
        // From 5 on, the first change decides nothing any more.
        prune_changes(&mut changes, |_| Some(5));
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].key_id, None);
        // A removed shard does not pin anything.
        prune_changes(&mut changes, |_| None);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].key_id.as_deref(), Some("k2"));
    }

    #[test]
    fn the_quota_is_25_per_rolling_day() {
        let mut calls = Vec::new();
        let t0 = 1_000_000_000;
        for i in 0..25 {
            assert!(quota_allows(&mut calls, t0 + i), "call {i} fits");
            calls.push(t0 + i);
        }
        assert!(!quota_allows(&mut calls, t0 + 100));
        // The first call leaves the window exactly 24 hours after it was made.
        assert!(!quota_allows(&mut calls, t0 + DAY_MS - 1));
        assert!(quota_allows(&mut calls, t0 + DAY_MS));
        assert_eq!(calls.len(), 24);
    }

    proptest! {
        #[test]
        fn key_id_checks_never_panic(s in "\\PC*") {
            let _ = is_valid_key_id(&s);
        }

        /// The timeline answers like a direct replay of the changes, newest first.
        #[test]
        fn timeline_matches_a_replay(
            steps in proptest::collection::vec((any::<bool>(), 0u64..5, any::<bool>()), 0..12),
            probe in 0u64..80,
        ) {
            let mut changes = Vec::new();
            let mut end = 0u64;
            for (on, grow, present) in steps {
                end += grow;
                let offsets: Vec<(u32, u64)> = if present || end > 0 { vec![(0, end)] } else { vec![] };
                changes.push(change(on.then_some("k"), &offsets));
            }
            let replay = changes
                .iter()
                .rev()
                .find(|c| c.shard_offsets.get(&0).copied().unwrap_or(0) <= probe)
                .is_some_and(|c| c.key_id.is_some());
            prop_assert_eq!(ShardEncryption::of(&changes, 0).encrypted(probe), replay);
        }
    }
}
