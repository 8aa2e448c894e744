// SPDX-License-Identifier: Apache-2.0
//! Object content files: written streamed, fsynced, read back in ranges.
//!
//! Layout under `<data>/s3/`:
//! - `objects/<id[0..2]>/<id>`: one immutable file per object or multipart part, named by a
//!   128-bit id (32 hex digits: a fan that turns every few files, then 120 random bits; see
//!   [`new_file_id`]), never by key. A file becomes visible only when a
//!   record that names it commits; files no record names are orphans (a crash between the
//!   write and the commit) and are removed at start ([`Files::remove_orphans`]).
//! - `staging/`: where in-process callers write files to adopt by rename; emptied at start.
//!
//! Writes go to the final path (the id is unreferenced until its record commits), then
//! `fsync` of the file; the directory is fsynced by the group commit of the record that
//! names the file, before that record commits ([`super::group`]), so a committed record
//! never names a file a crash could lose. Memory per write is bounded by [`WRITE_BUFFER`].

use std::collections::HashSet;
use std::fs::File;
use std::io::Write as _;
use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, Stream, StreamExt};
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Md5};

use super::StoreError;
use super::records::FileRef;

/// Bytes gathered before one write (and hash) on the blocking pool.
const WRITE_BUFFER: usize = 1024 * 1024;
/// Bytes per piece of a read stream.
const READ_PIECE: u64 = 256 * 1024;

/// Object content being read (`Sync`, as s3s's streaming bodies must be).
pub(crate) type ReadStream =
    std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static>>;

/// Which checksums to compute while writing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Algorithms {
    pub crc32: bool,
    pub crc32c: bool,
    pub crc64nvme: bool,
    pub sha1: bool,
    pub sha256: bool,
}

impl Algorithms {
    fn hasher(self) -> ChecksumHasher {
        ChecksumHasher {
            crc32: self.crc32.then(s3s::crypto::Crc32::new),
            crc32c: self.crc32c.then(s3s::crypto::Crc32c::new),
            crc64nvme: self.crc64nvme.then(s3s::crypto::Crc64Nvme::new),
            sha1: self.sha1.then(s3s::crypto::Sha1::new),
            sha256: self.sha256.then(s3s::crypto::Sha256::new),
        }
    }
}

/// A finished, durable content file.
pub(crate) struct Written {
    /// The file.
    pub file: FileRef,
    /// MD5 of its content.
    pub md5: [u8; 16],
    /// The checksums asked for (base64).
    pub checksums: s3s::dto::Checksum,
}

/// The content files of one data directory.
#[derive(Debug)]
pub(crate) struct Files {
    objects: PathBuf,
    staging: PathBuf,
}

/// A new random id (32 hex digits).
pub(crate) fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Content files created one after another share a fan directory for this many ids, so the
/// writes one group commit takes mostly need a single directory fsync; over time every fan
/// gets its share, so directories stay as small as with random fans.
const IDS_PER_FAN_TURN: u64 = 64;

/// Counts content file ids; starts at a random point so restarts spread over the fans too.
static FILE_SEQ: LazyLock<AtomicU64> = LazyLock::new(|| AtomicU64::new(rand::random::<u64>()));

/// A new content file id: 32 hex digits, the first two (the fan) turning every
/// [`IDS_PER_FAN_TURN`] ids, the other 120 bits random.
pub(crate) fn new_file_id() -> String {
    let seq = FILE_SEQ.fetch_add(1, Ordering::Relaxed);
    let fan = (seq / IDS_PER_FAN_TURN) % 256;
    format!("{fan:02x}{:030x}", rand::random::<u128>() >> 8)
}

impl Files {
    /// Opens (creating) the directories under `root` and empties `staging/`.
    pub fn open(root: &Path) -> Result<Files, StoreError> {
        let objects = root.join("objects");
        let staging = root.join("staging");
        std::fs::create_dir_all(&objects)?;
        // Every fan-out directory exists (and is durable) from the start, so a new file only
        // needs its own directory synced.
        for fan in 0..=255u8 {
            std::fs::create_dir_all(objects.join(format!("{fan:02x}")))?;
        }
        sync_dir(&objects)?;
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        sync_dir(root)?;
        Ok(Files { objects, staging })
    }

    /// The staging directory.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The path of a content file.
    pub fn path(&self, id: &str) -> PathBuf {
        let fan = id.get(..2).unwrap_or("00");
        self.objects.join(fan).join(id)
    }

    fn create(&self, id: &str) -> Result<File, StoreError> {
        Ok(File::create_new(self.path(id))?)
    }

    /// The directory of a content file.
    pub fn dir_of(&self, id: &str) -> PathBuf {
        self.objects.join(id.get(..2).unwrap_or("00"))
    }

    /// Writes `body` to a new file, computing its MD5 and `algorithms`, then fsyncs it. Its
    /// directory entry is made durable by the group commit of the record that names it
    /// ([`super::group`]), which fsyncs the directory once for every file of a batch. On any
    /// error the file is removed. `max` bounds the length.
    pub async fn write<S, E>(
        self: &Arc<Self>,
        body: S,
        algorithms: Algorithms,
        max: u64,
    ) -> Result<Written, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        StoreError: From<E>,
    {
        let id = new_file_id();
        let file = {
            let this = self.clone();
            let id = id.clone();
            tokio::task::spawn_blocking(move || this.create(&id)).await??
        };
        let result = self.fill(file, body, algorithms, max).await;
        match result {
            Ok((len, md5, checksums)) => Ok(Written {
                file: FileRef { id, len },
                md5,
                checksums,
            }),
            Err(e) => {
                self.remove(&[FileRef { id, len: 0 }]).await;
                Err(e)
            }
        }
    }

    async fn fill<S, E>(
        self: &Arc<Self>,
        file: File,
        body: S,
        algorithms: Algorithms,
        max: u64,
    ) -> Result<(u64, [u8; 16], s3s::dto::Checksum), StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        StoreError: From<E>,
    {
        let mut state = Some((file, Md5::new(), algorithms.hasher()));
        let mut buf = BytesMut::new();
        let mut len: u64 = 0;
        let mut body = std::pin::pin!(body);
        loop {
            let piece = body.next().await.transpose()?;
            let end = piece.is_none();
            if let Some(p) = piece {
                len += p.len() as u64;
                if len > max {
                    return Err(StoreError::TooLarge { max });
                }
                buf.extend_from_slice(&p);
            }
            if buf.len() >= WRITE_BUFFER || (end && !buf.is_empty()) {
                let chunk = buf.split().freeze();
                let (mut file, mut md5, mut hasher) = state
                    .take()
                    .ok_or(StoreError::Internal("writer state lost"))?;
                state = Some(
                    tokio::task::spawn_blocking(move || {
                        md5.update(&chunk);
                        hasher.update(&chunk);
                        file.write_all(&chunk).map(|()| (file, md5, hasher))
                    })
                    .await??,
                );
            }
            if end {
                break;
            }
        }
        let (file, md5, hasher) = state.ok_or(StoreError::Internal("writer state lost"))?;
        tokio::task::spawn_blocking(move || file.sync_all()).await??;
        Ok((len, md5.finalize(), hasher.finalize()))
    }

    /// Moves a finished file (fsynced by its writer) into the store; its new directory entry
    /// is durable once the record naming it commits ([`super::group`]).
    pub async fn adopt(&self, from: PathBuf, len: u64) -> Result<FileRef, StoreError> {
        let id = new_file_id();
        let to = self.path(&id);
        tokio::task::spawn_blocking(move || std::fs::rename(&from, &to)).await??;
        Ok(FileRef { id, len })
    }

    /// MD5 of a file, read in pieces on the blocking pool.
    pub async fn md5_of(&self, file: &FileRef) -> Result<[u8; 16], StoreError> {
        let path = self.path(&file.id);
        Ok(
            tokio::task::spawn_blocking(move || -> std::io::Result<[u8; 16]> {
                let f = File::open(path)?;
                let mut md5 = Md5::new();
                let mut buf = vec![0u8; WRITE_BUFFER];
                let mut at = 0u64;
                loop {
                    let n = f.read_at(&mut buf, at)?;
                    if n == 0 {
                        break;
                    }
                    md5.update(&buf[..n]);
                    at += n as u64;
                }
                Ok(md5.finalize())
            })
            .await??,
        )
    }

    /// New files with the same content (hard links: files are immutable), for CopyObject;
    /// their directory entries are durable once the record naming them commits.
    pub async fn link(&self, files: &[FileRef]) -> Result<Vec<FileRef>, StoreError> {
        let pairs: Vec<(PathBuf, PathBuf, FileRef)> = files
            .iter()
            .map(|f| {
                let id = new_file_id();
                let pair = (self.path(&f.id), self.path(&id));
                (pair.0, pair.1, FileRef { id, len: f.len })
            })
            .collect();
        Ok(
            tokio::task::spawn_blocking(move || -> std::io::Result<Vec<FileRef>> {
                let mut out = Vec::new();
                for (from, to, r) in pairs {
                    std::fs::hard_link(&from, &to)?;
                    out.push(r);
                }
                Ok(out)
            })
            .await??,
        )
    }

    /// Removes files no record names any more; failures are logged (the next start removes
    /// them as orphans).
    pub async fn remove(&self, files: &[FileRef]) {
        let paths: Vec<PathBuf> = files.iter().map(|f| self.path(&f.id)).collect();
        let _ = tokio::task::spawn_blocking(move || {
            for p in paths {
                if let Err(error) = std::fs::remove_file(&p)
                    && error.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %p.display(), %error, "Removing an S3 content file failed.");
                }
            }
        })
        .await;
    }

    /// Removes every content file whose id is not in `live`; returns how many.
    pub fn remove_orphans(&self, live: &HashSet<String>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for fan in std::fs::read_dir(&self.objects)? {
            let fan = fan?.path();
            if !fan.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&fan)? {
                let f = f?;
                let name = f.file_name();
                if !live.contains(name.to_string_lossy().as_ref()) {
                    std::fs::remove_file(f.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// The bytes `range` of the content made of `files`, as a stream. Every file is opened
    /// before the stream is returned, so a concurrent delete cannot cut a read short.
    pub async fn read(
        &self,
        files: &[FileRef],
        range: Range<u64>,
    ) -> Result<ReadStream, StoreError> {
        // (file, offset in the file, length) for every file the range touches.
        let mut pieces = Vec::new();
        let mut start = 0u64;
        for f in files {
            let end = start + f.len;
            let lo = range.start.max(start);
            let hi = range.end.min(end);
            if lo < hi {
                pieces.push((self.path(&f.id), lo - start, hi - lo));
            }
            start = end;
        }
        let opened = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<_>> {
            pieces
                .into_iter()
                .map(|(p, off, len)| Ok((Arc::new(File::open(p)?), off, len)))
                .collect()
        })
        .await??;
        let s = stream::iter(opened).flat_map(|(file, off, len)| {
            stream::unfold((file, off, len), |(file, off, left)| async move {
                if left == 0 {
                    return None;
                }
                let n = left.min(READ_PIECE);
                let f = file.clone();
                let read = tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0u8; n as usize];
                    f.read_exact_at(&mut buf, off).map(|()| Bytes::from(buf))
                })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                match read {
                    Ok(b) => Some((Ok(b), (file, off + n, left - n))),
                    Err(e) => Some((Err(e), (file, off, 0))),
                }
            })
        });
        Ok(Box::pin(s))
    }
}

/// fsyncs a directory, so entries created or renamed in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    #[test]
    fn file_ids_are_unique_hex_and_consecutive_ids_mostly_share_a_fan() {
        let ids: Vec<String> = (0..4 * IDS_PER_FAN_TURN).map(|_| new_file_id()).collect();
        assert!(
            ids.iter()
                .all(|i| i.len() == 32 && i.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        let mut fans: BTreeMap<&str, usize> = BTreeMap::new();
        for i in &ids {
            *fans.entry(&i[..2]).or_default() += 1;
        }
        // Four turns' worth of ids (other tests may take ids meanwhile) span a few fans.
        assert!((4..=9).contains(&fans.len()), "{fans:?}");
    }
}
