// SPDX-License-Identifier: Apache-2.0
//! Checkpoints: per flow and file, the offset up to which every record was acknowledged by
//! the destination.
//!
//! A file is known by its identity (device, inode) plus a fingerprint of its first bytes
//! (so a recycled inode is not mistaken for the file it replaced); the path is kept for
//! people and for finding rotated files.
//!
//! On-disk format (`checkpointFile`), little-endian:
//!
//! | bytes  | field                                   |
//! |--------|-----------------------------------------|
//! | 0..8   | magic `FRSHAGCK`                        |
//! | 8..10  | format version (1)                      |
//! | 10..12 | reserved, 0                             |
//! | 12..16 | body length                             |
//! | 16..20 | CRC32C of the body                      |
//! | 20..   | body: JSON `{"entries":[Entry, ...]}`   |
//!
//! The file is replaced atomically: written to `<file>.tmp`, fsynced, renamed over the old
//! one, then the directory is fsynced. A torn or corrupt file is refused with an error
//! naming it (never silently reset, which would skip or resend lines).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"FRSHAGCK";
const VERSION: u16 = 1;
const HEADER: usize = 20;

/// A file's identity on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileKey {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

/// The CRC32C of a file's first `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many bytes it covers (at most [`FINGERPRINT_BYTES`]).
    pub len: u32,
    /// Their CRC32C.
    pub crc: u32,
}

/// Bytes a fingerprint covers once a file is that long.
pub const FINGERPRINT_BYTES: usize = 256;

impl Fingerprint {
    /// The fingerprint of `head` (a file's first bytes, at most [`FINGERPRINT_BYTES`] used).
    pub fn of(head: &[u8]) -> Self {
        let head = &head[..head.len().min(FINGERPRINT_BYTES)];
        Self {
            len: head.len() as u32,
            crc: crc32c::crc32c(head),
        }
    }
}

/// One checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The flow's id (`kinesis:<stream>:<pattern>`).
    pub flow: String,
    /// The file.
    pub key: FileKey,
    /// Its fingerprint when the offset was stored.
    pub fingerprint: Fingerprint,
    /// Its path then.
    pub path: PathBuf,
    /// Everything before this offset was acknowledged (or skipped).
    pub offset: u64,
    /// When it was stored, in epoch milliseconds.
    pub updated_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct Body {
    entries: Vec<Entry>,
}

/// Why checkpoints could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not a checkpoint file, is torn, or is of an unknown version.
    #[error(
        "checkpoint file {path} is corrupt ({why}); move it away to start over (files are then \
         read from their initialPosition)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// Encodes entries in the file format.
pub fn encode(entries: &[Entry]) -> Vec<u8> {
    let body = serde_json::to_vec(&Body {
        entries: entries.to_vec(),
    })
    .unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decodes the file format; the error says what is wrong.
pub fn decode(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    if bytes.len() < HEADER {
        return Err(format!("{} bytes, shorter than the header", bytes.len()));
    }
    if &bytes[0..8] != MAGIC {
        return Err("not a Freshet agent checkpoint file".to_owned());
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(format!(
            "format version {version}, this agent reads {VERSION}"
        ));
    }
    if bytes[10] != 0 || bytes[11] != 0 {
        return Err("reserved header bytes are not zero".to_owned());
    }
    let len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let crc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let body = &bytes[HEADER..];
    if body.len() != len {
        return Err(format!("body is {} bytes, header says {len}", body.len()));
    }
    if crc32c::crc32c(body) != crc {
        return Err("checksum mismatch".to_owned());
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| b.entries)
        .map_err(|e| format!("body: {e}"))
}

/// The checkpoints of every flow, in memory, and the file they are saved to.
#[derive(Debug)]
pub struct Checkpoints {
    path: PathBuf,
    entries: HashMap<(String, FileKey), Entry>,
}

impl Checkpoints {
    /// Loads `path` (no file yet: no checkpoints).
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let entries = match std::fs::read(path) {
            Ok(bytes) => decode(&bytes).map_err(|why| CheckpointError::Corrupt {
                path: path.to_owned(),
                why,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(CheckpointError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Ok(Self {
            path: path.to_owned(),
            entries: entries
                .into_iter()
                .map(|e| ((e.flow.clone(), e.key), e))
                .collect(),
        })
    }

    /// The checkpoint file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entries of `flow`.
    pub fn for_flow(&self, flow: &str) -> Vec<Entry> {
        self.entries
            .values()
            .filter(|e| e.flow == flow)
            .cloned()
            .collect()
    }

    /// Records an acknowledged offset (replacing the file's previous one).
    pub fn set(&mut self, entry: Entry) {
        self.entries.insert((entry.flow.clone(), entry.key), entry);
    }

    /// Forgets entries last updated before `cutoff_ms`.
    pub fn expire(&mut self, cutoff_ms: i64) {
        self.entries.retain(|_, e| e.updated_ms >= cutoff_ms);
    }

    /// All entries, sorted (for a stable file).
    pub fn snapshot(&self) -> Vec<Entry> {
        let mut v: Vec<Entry> = self.entries.values().cloned().collect();
        v.sort_by(|a, b| (&a.flow, a.key).cmp(&(&b.flow, b.key)));
        v
    }
}

/// Writes `entries` to `path` atomically and durably (temp file, fsync, rename, fsync dir).
pub fn save(path: &Path, entries: &[Entry]) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&encode(entries)).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(flow: &str, ino: u64, offset: u64) -> Entry {
        Entry {
            flow: flow.to_owned(),
            key: FileKey { dev: 1, ino },
            fingerprint: Fingerprint::of(b"head"),
            path: PathBuf::from(format!("/var/log/{ino}.log")),
            offset,
            updated_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn saved_checkpoints_load_back() {
        let dir = tempfile::tempdir()
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sub").join("checkpoints");
        let entries = vec![entry("kinesis:s:/a/*", 1, 10), entry("fh:d:/b", 2, 20)];
        assert!(save(&path, &entries).is_ok());
        let loaded = match Checkpoints::load(&path) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(loaded.for_flow("fh:d:/b"), vec![entry("fh:d:/b", 2, 20)]);
        assert!(!dir.path().join("sub").join("checkpoints.tmp").exists());
    }

    #[test]
    fn a_missing_file_is_no_checkpoints_but_a_torn_one_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("cp");
        assert!(Checkpoints::load(&path).is_ok_and(|c| c.snapshot().is_empty()));
        let bytes = encode(&[entry("f", 1, 1)]);
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap_or_else(|e| panic!("{e}"));
        let err = Checkpoints::load(&path)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt") && err.contains("cp"), "{err}");
    }

    #[test]
    fn expired_entries_are_forgotten() {
        let mut c = Checkpoints {
            path: PathBuf::new(),
            entries: HashMap::new(),
        };
        c.set(entry("f", 1, 1));
        let mut newer = entry("f", 2, 1);
        newer.updated_ms += 10;
        c.set(newer);
        c.expire(1_700_000_000_005);
        assert_eq!(c.snapshot().len(), 1);
    }

    proptest! {
        #[test]
        fn the_codec_round_trips(
            raw in proptest::collection::vec(("[a-z:/*]{0,20}", any::<u64>(), any::<u64>(), any::<u64>(), any::<i64>()), 0..10)
        ) {
            let entries: Vec<Entry> = raw.into_iter().map(|(flow, dev, ino, offset, ms)| Entry {
                flow,
                key: FileKey { dev, ino },
                fingerprint: Fingerprint::of(&ino.to_le_bytes()),
                path: PathBuf::from("/x"),
                offset,
                updated_ms: ms,
            }).collect();
            prop_assert_eq!(decode(&encode(&entries)), Ok(entries));
        }

        #[test]
        fn any_corruption_is_detected_never_misread(
            flip in 0usize..200, bit in 0u8..8,
        ) {
            let mut bytes = encode(&[entry("kinesis:s:/a/*", 7, 99)]);
            let i = flip % bytes.len();
            bytes[i] ^= 1 << bit;
            prop_assert!(decode(&bytes).is_err());
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&bytes);
        }
    }
}
