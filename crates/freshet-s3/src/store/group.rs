// SPDX-License-Identifier: Apache-2.0
//! Group commit of object and part records: the durable step 2 of every write (see
//! [`super`]), shared by the writes that finish at about the same time.
//!
//! A write whose content file is written and fsynced queues a [`Change`] and waits. While
//! changes are queued, one leader on the blocking pool takes everything queued so far as a
//! batch, fsyncs the distinct directories of the batch's files once each, applies every
//! change in one meta transaction (one durable commit), and only then answers each waiter.
//! Changes that arrive during a commit form the next batch, so batches grow with load and a
//! lone write waits for no timer.
//!
//! Invariants:
//! - A waiter is answered `Ok` only after its file's directory entry and its record are on
//!   disk (the file itself was fsynced by its writer): the acknowledgement rule of a PUT.
//! - Changes apply in arrival order, each with the semantics it has alone: a change that is
//!   rejected (missing bucket or upload) writes nothing and does not affect the others; a
//!   failed fsync or commit fails the whole batch, and nothing of it is visible.
//! - After a failed directory fsync the committer refuses every later change (the kernel may
//!   have dropped the dirty entries; fjall's rule): restart is the recovery path.
//! - At most one leader runs at a time; if it dies, the queued waiters get an error and the
//!   next change starts a new leader.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use freshet_meta::{Meta, MetaError, Table, Txn, TxnExt};
use tokio::sync::oneshot;

use super::StoreError;
use super::files::Files;
use super::records::{
    BUCKETS, FileRef, OBJECTS, ObjectRecord, PARTS, PartRecord, UPLOADS, object_key, part_key,
    upload_key,
};

/// Changes committed together at most (bounds one transaction's size and latency).
const MAX_BATCH: usize = 1024;

/// One record to commit.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// PutObject, CopyObject, CompleteMultipartUpload, adopt: `record` replaces the key.
    Object {
        /// The bucket, which must exist.
        bucket: String,
        /// The object key.
        key: String,
        /// The new record.
        record: ObjectRecord,
    },
    /// UploadPart: `record` replaces the part of the upload.
    Part {
        /// The bucket of the upload.
        bucket: String,
        /// The upload, which must be in progress.
        upload_id: String,
        /// The part number.
        part: i32,
        /// The new record.
        record: PartRecord,
    },
}

impl Change {
    /// The content files the change's record names.
    pub fn files(&self) -> Vec<FileRef> {
        match self {
            Change::Object { record, .. } => record.files.clone(),
            Change::Part { record, .. } => vec![record.file.clone()],
        }
    }
}

/// Applies `change` inside `t`. The outer error is fatal to the batch (the transaction is
/// unusable); the inner one rejects this change only, and then nothing was written. On
/// success, the files of the record it replaced (for the caller to remove).
pub(crate) fn apply(
    t: &mut dyn Txn,
    change: &Change,
) -> Result<Result<Vec<FileRef>, StoreError>, MetaError> {
    match change {
        Change::Object {
            bucket,
            key,
            record,
        } => {
            if t.get(BUCKETS, bucket)?.is_none() {
                return Ok(Err(StoreError::NoSuchBucket {
                    bucket: bucket.clone(),
                }));
            }
            let k = object_key(bucket, key);
            put_replacing(t, OBJECTS, &k, record, |o: ObjectRecord| o.files)
        }
        Change::Part {
            bucket,
            upload_id,
            part,
            record,
        } => {
            if t.get(UPLOADS, &upload_key(bucket, upload_id))?.is_none() {
                return Ok(Err(StoreError::NoSuchUpload {
                    upload_id: upload_id.clone(),
                }));
            }
            let k = part_key(upload_id, *part);
            put_replacing(t, PARTS, &k, record, |p: PartRecord| vec![p.file])
        }
    }
}

/// Puts `value` at `key`; the files of the value it replaced.
fn put_replacing<T: serde::Serialize + serde::de::DeserializeOwned>(
    t: &mut dyn Txn,
    table: Table,
    key: &str,
    value: &T,
    files: impl FnOnce(T) -> Vec<FileRef>,
) -> Result<Result<Vec<FileRef>, StoreError>, MetaError> {
    // Encode before any write, so an encoding failure rejects only this change.
    let bytes = match serde_json::to_vec(value) {
        Ok(b) => b,
        Err(e) => {
            return Ok(Err(StoreError::Meta(MetaError::Encode {
                table: table.to_string(),
                key: key.to_owned(),
                reason: e.to_string(),
            })));
        }
    };
    let old: Option<T> = match t.get_json(table, key) {
        Ok(old) => old,
        // A corrupt old record is this key's problem, not the batch's.
        Err(e @ MetaError::Corrupt { .. }) => return Ok(Err(StoreError::Meta(e))),
        Err(e) => return Err(e),
    };
    t.put(table, key, &bytes)?;
    Ok(Ok(old.map(files).unwrap_or_default()))
}

/// A queued change and the waiter to answer.
struct Waiter {
    change: Change,
    reply: oneshot::Sender<Result<Vec<FileRef>, StoreError>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiter>,
    /// Whether a leader is running (it will take `waiting` before it stops).
    leading: bool,
}

/// The group committer of one store.
pub(crate) struct GroupCommit {
    meta: Arc<Meta>,
    files: Arc<Files>,
    queue: Mutex<Queue>,
    /// Set by a failed directory fsync; never cleared.
    poisoned: AtomicBool,
    /// Durable commits made (for tests and diagnostics).
    commits: AtomicU64,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("poisoned", &self.poisoned.load(Ordering::Relaxed))
            .field("commits", &self.commits.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// A committer writing to `meta`, syncing the directories of `files`.
    pub fn new(meta: Arc<Meta>, files: Arc<Files>) -> Arc<GroupCommit> {
        Arc::new(GroupCommit {
            meta,
            files,
            queue: Mutex::new(Queue::default()),
            poisoned: AtomicBool::new(false),
            commits: AtomicU64::new(0),
        })
    }

    /// Durable commits made so far.
    #[cfg(test)]
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Commits `change` durably with whatever else is queued; the files of the record it
    /// replaced. The change's files must be written and fsynced already.
    pub async fn commit(self: &Arc<Self>, change: Change) -> Result<Vec<FileRef>, StoreError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(poisoned());
        }
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.waiting.push(Waiter { change, reply });
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            let guard = LeaderGuard {
                group: self.clone(),
                done: false,
            };
            // If the runtime refuses the task, dropping the closure drops the guard, which
            // fails the queue: no waiter hangs.
            drop(tokio::task::spawn_blocking(move || guard.lead()));
        }
        answer
            .await
            .map_err(|_| StoreError::Internal("the S3 commit task stopped"))?
    }

    /// Commits one batch and answers its waiters.
    fn run(&self, batch: Vec<Waiter>) {
        let dirs: BTreeSet<PathBuf> = batch
            .iter()
            .flat_map(|w| w.change.files())
            .map(|f| self.files.dir_of(&f.id))
            .collect();
        for dir in &dirs {
            if let Err(e) = super::files::sync_dir(dir) {
                self.poisoned.store(true, Ordering::Release);
                tracing::error!(dir = %dir.display(), error = %e,
                    "Syncing an S3 directory failed; S3 writes are refused until restart.");
                let msg = e.to_string();
                for w in batch {
                    let _ = w.reply.send(Err(StoreError::Io(std::io::Error::new(
                        e.kind(),
                        msg.clone(),
                    ))));
                }
                return;
            }
        }
        let changes: Vec<&Change> = batch.iter().map(|w| &w.change).collect();
        let result = self.meta.transaction(|t| {
            changes
                .iter()
                .map(|c| apply(t, c))
                .collect::<Result<Vec<_>, MetaError>>()
        });
        self.commits.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(answers) => {
                for (w, a) in batch.into_iter().zip(answers) {
                    let _ = w.reply.send(a);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for w in batch {
                    let _ = w
                        .reply
                        .send(Err(StoreError::Meta(MetaError::Db(msg.clone()))));
                }
            }
        }
    }

    /// Takes up to [`MAX_BATCH`] waiters; `None` (and no longer leading) when none wait.
    fn next_batch(&self) -> Option<Vec<Waiter>> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.waiting.is_empty() {
            q.leading = false;
            return None;
        }
        let n = q.waiting.len().min(MAX_BATCH);
        Some(q.waiting.drain(..n).collect())
    }
}

fn poisoned() -> StoreError {
    StoreError::Internal("S3 storage is read-only after a failed fsync; restart the server")
}

/// The leader's lifetime: commits batches until the queue is empty; if dropped before that
/// (a panic, a refused task), fails the waiters and lets the next change lead.
struct LeaderGuard {
    group: Arc<GroupCommit>,
    done: bool,
}

impl LeaderGuard {
    fn lead(mut self) {
        while let Some(batch) = self.group.next_batch() {
            if self.group.poisoned.load(Ordering::Acquire) {
                for w in batch {
                    let _ = w.reply.send(Err(poisoned()));
                }
                continue;
            }
            self.group.run(batch);
        }
        self.done = true;
    }
}

impl Drop for LeaderGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut q = self.group.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.leading = false;
        // Dropping the senders answers the waiters with an error.
        q.waiting.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::store::records::{BucketRecord, UploadRecord};

    /// Meta over a temp dir with bucket `a` and upload `u1` of bucket `a`.
    fn meta(dir: &std::path::Path) -> Arc<Meta> {
        let meta = Arc::new(Meta::open_local(&dir.join("meta.redb")).unwrap());
        let bucket = BucketRecord {
            created_ms: 1,
            region: "us-east-1".into(),
            tags: None,
        };
        meta.put_json(BUCKETS, "a", &bucket).unwrap();
        let upload = UploadRecord {
            key: "k".into(),
            initiated_ms: 1,
            meta: Default::default(),
            checksum_algorithm: None,
        };
        meta.put_json(UPLOADS, &upload_key("a", "u1"), &upload)
            .unwrap();
        meta
    }

    fn file(id: &str) -> FileRef {
        FileRef {
            id: id.to_owned(),
            len: 1,
        }
    }

    fn object(bucket: &str, key: &str, id: &str) -> Change {
        Change::Object {
            bucket: bucket.into(),
            key: key.into(),
            record: ObjectRecord {
                size: 1,
                etag: "e".into(),
                modified_ms: 1,
                meta: Default::default(),
                checksums: Default::default(),
                files: vec![file(id)],
            },
        }
    }

    fn part(upload_id: &str, part: i32, id: &str) -> Change {
        Change::Part {
            bucket: "a".into(),
            upload_id: upload_id.into(),
            part,
            record: PartRecord {
                file: file(id),
                md5: "m".into(),
                modified_ms: 1,
                checksums: Default::default(),
            },
        }
    }

    /// What a change answers: the replaced file ids, or the error's name.
    fn outcome(r: &Result<Vec<FileRef>, StoreError>) -> Result<Vec<String>, &'static str> {
        match r {
            Ok(files) => Ok(files.iter().map(|f| f.id.clone()).collect()),
            Err(StoreError::NoSuchBucket { .. }) => Err("NoSuchBucket"),
            Err(StoreError::NoSuchUpload { .. }) => Err("NoSuchUpload"),
            Err(_) => Err("other"),
        }
    }

    /// Changes over bucket `a` (exists) and `z` (missing), upload `u1` (exists) and `u9`
    /// (missing), a few keys and parts; file ids are unique (the index).
    fn changes() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
        prop::collection::vec((0u8..4, 0u8..3, 1u8..3), 1..40)
    }

    fn build(spec: &[(u8, u8, u8)]) -> Vec<Change> {
        spec.iter()
            .enumerate()
            .map(|(i, &(kind, key, n))| {
                let id = format!("f{i}");
                match kind {
                    0 | 1 => object("a", &format!("k{key}"), &id),
                    2 => object("z", &format!("k{key}"), &id),
                    _ if n == 1 => part("u1", i32::from(key), &id),
                    _ => part("u9", i32::from(key), &id),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Grouping changes into transactions of any sizes answers each change, and leaves
        /// the tables, exactly as a plain model applying them one by one.
        #[test]
        fn batches_of_any_size_match_a_one_by_one_model(
            spec in changes(),
            cuts in prop::collection::vec(1usize..8, 1..20),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let meta = meta(dir.path());
            let changes = build(&spec);

            // The model: (table, key) -> file id.
            let mut model: BTreeMap<(&str, String), String> = BTreeMap::new();
            let mut expected = Vec::new();
            for c in &changes {
                match c {
                    Change::Object { bucket, key, record } if bucket == "a" => {
                        let old = model.insert(("o", key.clone()), record.files[0].id.clone());
                        expected.push(Ok(old.into_iter().collect::<Vec<_>>()));
                    }
                    Change::Object { .. } => expected.push(Err("NoSuchBucket")),
                    Change::Part { upload_id, part, record, .. } if upload_id == "u1" => {
                        let old = model.insert(("p", part.to_string()), record.file.id.clone());
                        expected.push(Ok(old.into_iter().collect::<Vec<_>>()));
                    }
                    Change::Part { .. } => expected.push(Err("NoSuchUpload")),
                }
            }

            let mut got = Vec::new();
            let mut rest: &[Change] = &changes;
            let mut cuts = cuts.into_iter().cycle();
            while !rest.is_empty() {
                let n = cuts.next().unwrap().min(rest.len());
                let (batch, tail) = rest.split_at(n);
                rest = tail;
                let answers = meta
                    .transaction(|t| {
                        batch.iter().map(|c| apply(t, c)).collect::<Result<Vec<_>, MetaError>>()
                    })
                    .unwrap();
                got.extend(answers.iter().map(outcome));
            }
            prop_assert_eq!(got, expected);

            let objects: BTreeMap<String, String> = meta
                .scan_json::<ObjectRecord>(OBJECTS, "a/")
                .unwrap()
                .into_iter()
                .map(|(k, o)| (k["a/".len()..].to_owned(), o.files[0].id.clone()))
                .collect();
            let parts: BTreeMap<String, String> = meta
                .scan_json::<PartRecord>(PARTS, "u1/")
                .unwrap()
                .into_iter()
                .map(|(k, p)| (k["u1/".len()..].parse::<i32>().unwrap().to_string(), p.file.id))
                .collect();
            let model_objects: BTreeMap<String, String> = model
                .iter()
                .filter(|((t, _), _)| *t == "o")
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect();
            let model_parts: BTreeMap<String, String> = model
                .iter()
                .filter(|((t, _), _)| *t == "p")
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect();
            prop_assert_eq!(objects, model_objects);
            prop_assert_eq!(parts, model_parts);
            prop_assert!(meta.scan(OBJECTS, "z/").unwrap().is_empty());
            prop_assert!(meta.scan(PARTS, "u9/").unwrap().is_empty());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_each_get_their_own_answer_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let meta = meta(dir.path());
        let files = Arc::new(Files::open(&dir.path().join("s3")).unwrap());
        let group = GroupCommit::new(meta.clone(), files);
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let group = group.clone();
                let bucket = if i % 8 == 7 { "z" } else { "a" };
                let change = object(bucket, &format!("k{i}"), &format!("{i:032x}"));
                tokio::spawn(async move { group.commit(change).await })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            let answer = t.await.unwrap();
            if i % 8 == 7 {
                assert!(matches!(answer, Err(StoreError::NoSuchBucket { .. })));
            } else {
                assert!(answer.unwrap().is_empty());
            }
        }
        assert_eq!(meta.scan(OBJECTS, "a/").unwrap().len(), 56);
        assert!(meta.scan(OBJECTS, "z/").unwrap().is_empty());
        assert!((1..=64).contains(&group.commits()));
    }

    #[tokio::test]
    async fn a_failed_directory_sync_fails_the_batch_and_refuses_later_changes() {
        let dir = tempfile::tempdir().unwrap();
        let meta = meta(dir.path());
        let files = Arc::new(Files::open(&dir.path().join("s3")).unwrap());
        // A file whose directory is gone: its fsync fails.
        let id = format!("ab{:030x}", 1);
        std::fs::remove_dir(files.dir_of(&id)).unwrap();
        let group = GroupCommit::new(meta.clone(), files);
        let first = group.commit(object("a", "k", &id)).await;
        assert!(matches!(first, Err(StoreError::Io(_))));
        assert!(meta.scan(OBJECTS, "a/").unwrap().is_empty());
        let later = group
            .commit(object("a", "k2", &format!("{:032x}", 2)))
            .await;
        assert!(matches!(later, Err(StoreError::Internal(_))));
        assert!(meta.scan(OBJECTS, "a/").unwrap().is_empty());
    }
}
