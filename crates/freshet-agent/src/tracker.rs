// SPDX-License-Identifier: Apache-2.0
//! The file tracker of one flow: finds the files matching `filePattern`, follows each by
//! identity through rotation, and reads complete records from them (blocking I/O: the flow
//! calls [`Tracker::poll`] on a blocking thread).
//!
//! Each file is tracked by (device, inode) with an open handle, so:
//! - **rename rotation** (`app.log` → `app.log.1`, new `app.log`): the renamed file keeps its
//!   identity; it is read to its end through the open handle even when the new name no longer
//!   matches the glob, then closed after [`ROTATED_GRACE`] without new data. The new file is
//!   a new identity, read from its start.
//! - **copytruncate** (`app.log` copied to `app.log.1`, then truncated): a tracked file that
//!   shrinks below the offset read, or whose first bytes changed, was truncated and is read
//!   again from 0. A new file whose first 256 bytes equal a tracked file's, and whose name
//!   shares its stem, is that file's copy: it is read from the offset the original had
//!   reached (so the lines between that offset and the truncation are not lost) when the
//!   glob matches it.
//! - **files that appear later** are read from their start.
//!
//! At start, a file with a checkpoint (same identity and fingerprint) resumes at its offset;
//! files rotated away while the agent was down are found by identity in the directory and
//! finished. A file without a checkpoint starts at `initialPosition` when the flow has no
//! checkpoints at all, otherwise at 0 (it appeared while the agent was down). Every opened
//! file reports its start offset as a skip piece, so it is checkpointed even before any of
//! its records are sent (an END_OF_FILE start is not re-decided at the next start).

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::checkpoint::{Entry, FINGERPRINT_BYTES, FileKey, Fingerprint};
use crate::config::InitialPosition;
use crate::split::{Piece, SplitRules, Splitter};

/// How long a file that no longer matches the glob is still read after its last new byte.
pub const ROTATED_GRACE: Duration = Duration::from_secs(10);

/// How long a multi-line record waits for a continuation line before it is sent.
pub const PENDING_SETTLE: Duration = Duration::from_secs(1);

/// Most bytes read from one file in one poll (so one large file does not starve others).
const READ_BUDGET: usize = 1024 * 1024;

/// What the tracker needs to know about its flow.
#[derive(Debug, Clone)]
pub struct TrackerOptions {
    /// The directory the files are in.
    pub directory: PathBuf,
    /// The file-name glob.
    pub file_glob: String,
    /// Where files without a checkpoint start, when the flow has none.
    pub initial_position: InitialPosition,
    /// How records are cut.
    pub rules: Arc<SplitRules>,
    /// Longest time between two directory listings while files have data.
    pub refresh_interval: Duration,
    /// Send a pending multi-line record as soon as the file has nothing new (`--once`).
    pub flush_when_idle: bool,
}

/// A piece of a file, with the file it came from.
#[derive(Debug, Clone)]
pub struct FilePiece {
    /// The file's identity.
    pub key: FileKey,
    /// Its path when read.
    pub path: Arc<Path>,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// The piece.
    pub piece: Piece,
}

#[derive(Debug)]
struct Tailed {
    key: FileKey,
    path: Arc<Path>,
    file: File,
    splitter: Splitter,
    fingerprint: Fingerprint,
    matched: bool,
    last_data: Instant,
    mtime: i64,
}

/// The files of one flow.
#[derive(Debug)]
pub struct Tracker {
    opts: TrackerOptions,
    glob: Regex,
    files: Vec<Tailed>,
    /// Checkpoints found at start (consumed by the first refresh).
    start_entries: Option<Vec<Entry>>,
    last_refresh: Option<Instant>,
}

/// The outcome of one poll.
#[derive(Debug, Default)]
pub struct Poll {
    /// Pieces read, in order per file.
    pub pieces: Vec<FilePiece>,
    /// Whether any new bytes were read.
    pub read_any: bool,
}

impl Tracker {
    /// A tracker that resumes from `entries` (this flow's checkpoints).
    pub fn new(opts: TrackerOptions, entries: Vec<Entry>) -> Result<Self, regex::Error> {
        let glob = Regex::new(&glob_to_regex(&opts.file_glob))?;
        Ok(Self {
            opts,
            glob,
            files: Vec::new(),
            start_entries: Some(entries),
            last_refresh: None,
        })
    }

    /// How many files are open.
    pub fn open_files(&self) -> usize {
        self.files.len()
    }

    /// Lists the directory when due (always when the last poll was idle, at least every
    /// refresh interval), then reads what is new.
    pub fn poll(&mut self, now: Instant, last_was_idle: bool) -> Poll {
        let mut out = Poll::default();
        let due = self
            .last_refresh
            .is_none_or(|t| last_was_idle || now.duration_since(t) >= self.opts.refresh_interval);
        if due {
            self.refresh(now, &mut out.pieces);
            self.last_refresh = Some(now);
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut scratch = Vec::new();
        for t in &mut self.files {
            if t.splitter.finished() {
                continue;
            }
            let mut read = 0usize;
            while read < READ_BUDGET {
                let n = match t.file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(error) => {
                        tracing::warn!(file = %t.path.display(), %error, "Cannot read file.");
                        break;
                    }
                };
                read += n;
                if t.fingerprint.len < FINGERPRINT_BYTES as u32 {
                    t.fingerprint = head_fingerprint(&t.file, FINGERPRINT_BYTES);
                }
                t.splitter.feed(&buf[..n], &mut scratch);
            }
            if read > 0 {
                out.read_any = true;
                t.last_data = now;
            } else if t.splitter.has_pending()
                && (self.opts.flush_when_idle || now.duration_since(t.last_data) >= PENDING_SETTLE)
            {
                t.splitter.flush_pending(&mut scratch);
            }
            out.pieces.extend(scratch.drain(..).map(|piece| FilePiece {
                key: t.key,
                path: t.path.clone(),
                fingerprint: t.fingerprint,
                piece,
            }));
        }
        let before = self.files.len();
        self.files.retain(|t| {
            let keep = t.matched || now.duration_since(t.last_data) < ROTATED_GRACE;
            if !keep {
                tracing::info!(file = %t.path.display(), "Closing rotated file: no new data.");
            }
            keep
        });
        if self.files.len() != before {
            tracing::debug!(open = self.files.len(), "Tracked files changed.");
        }
        out
    }

    /// Lists the directory and reconciles the tracked files with it.
    fn refresh(&mut self, now: Instant, out: &mut Vec<FilePiece>) {
        let listing = match list(&self.opts.directory) {
            Ok(l) => l,
            Err(error) => {
                tracing::debug!(dir = %self.opts.directory.display(), %error, "Cannot list directory.");
                Vec::new()
            }
        };
        let start_entries = self.start_entries.take();
        for t in &mut self.files {
            t.matched = false;
        }
        let mut fresh: Vec<(PathBuf, std::fs::Metadata)> = Vec::new();
        for (path, meta) in listing {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let matched = self.glob.is_match(name);
            let key = FileKey {
                dev: meta.dev(),
                ino: meta.ino(),
            };
            if let Some(t) = self.files.iter_mut().find(|t| t.key == key) {
                if matched {
                    t.matched = true;
                    if *t.path != *path {
                        tracing::info!(from = %t.path.display(), to = %path.display(), "File renamed; following it.");
                        t.path = Arc::from(path.as_path());
                    }
                }
                continue;
            }
            let resume = start_entries
                .as_ref()
                .and_then(|es| es.iter().find(|e| e.key == key));
            if matched || resume.is_some_and(|e| e.offset < meta.len()) {
                fresh.push((path, meta));
            }
        }
        // Truncation (copytruncate) of tracked files: shrunk below what was read, or first
        // bytes changed. Copies are matched before the originals are reset, while the offset
        // each original had reached is still known.
        let positions: Vec<(FileKey, Fingerprint, u64, String)> = self
            .files
            .iter()
            .map(|t| (t.key, t.fingerprint, t.splitter.position(), stem(&t.path)))
            .collect();
        fresh.sort_by_key(|(_, m)| m.mtime());
        for (path, meta) in fresh {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let matched = self.glob.is_match(name);
            let key = FileKey {
                dev: meta.dev(),
                ino: meta.ino(),
            };
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(error) => {
                    tracing::debug!(file = %path.display(), %error, "Cannot open file.");
                    continue;
                }
            };
            let fp = head_fingerprint(&file, FINGERPRINT_BYTES);
            let offset = match &start_entries {
                Some(entries) => {
                    let resumed = start_offset(&file, &meta, key, entries, self.opts.initial_position);
                    if !matched && resumed.is_none() {
                        // Not ours: a recycled inode under a name the glob does not match.
                        continue;
                    }
                    resumed.unwrap_or(0)
                }
                None => positions
                    .iter()
                    .find(|(_, ofp, _, ostem)| {
                        ofp.len == FINGERPRINT_BYTES as u32 && *ofp == fp && name.starts_with(ostem.as_str())
                    })
                    .map_or(0, |(_, _, pos, _)| {
                        tracing::info!(file = %path.display(), offset = pos, "New file is a copy of a tracked file (copytruncate); reading it from the original's offset.");
                        (*pos).min(meta.len())
                    }),
            };
            let offset = line_start_at_or_before(&file, offset);
            if let Some(t) = self.open(path, file, meta, key, offset, matched, now) {
                out.push(FilePiece {
                    key: t.key,
                    path: t.path.clone(),
                    fingerprint: t.fingerprint,
                    piece: Piece::Skip { end: offset },
                });
                self.files.push(t);
            }
        }
        for t in &mut self.files {
            let Ok(meta) = t.file.metadata() else {
                continue;
            };
            let pos = t.splitter.position();
            let head = head_fingerprint(&t.file, t.fingerprint.len as usize);
            if meta.len() < pos || head != t.fingerprint {
                tracing::info!(file = %t.path.display(), size = meta.len(), offset = pos, "File was truncated; reading it again from its start.");
                if t.file.seek(SeekFrom::Start(0)).is_ok() {
                    t.splitter = Splitter::new(self.opts.rules.clone(), 0);
                    t.fingerprint = head_fingerprint(&t.file, FINGERPRINT_BYTES);
                    out.push(FilePiece {
                        key: t.key,
                        path: t.path.clone(),
                        fingerprint: t.fingerprint,
                        piece: Piece::Skip { end: 0 },
                    });
                }
            }
            t.mtime = meta.mtime();
        }
        // Rotated files first: they are older and will not grow much.
        self.files.sort_by_key(|t| (t.matched, t.mtime));
    }

    #[allow(clippy::too_many_arguments)]
    fn open(
        &self,
        path: PathBuf,
        mut file: File,
        meta: std::fs::Metadata,
        key: FileKey,
        offset: u64,
        matched: bool,
        now: Instant,
    ) -> Option<Tailed> {
        if let Err(error) = file.seek(SeekFrom::Start(offset)) {
            tracing::warn!(file = %path.display(), %error, "Cannot seek in file.");
            return None;
        }
        tracing::info!(file = %path.display(), offset, "Tailing file.");
        Some(Tailed {
            key,
            fingerprint: head_fingerprint(&file, FINGERPRINT_BYTES),
            path: Arc::from(path.as_path()),
            file,
            splitter: Splitter::new(self.opts.rules.clone(), offset),
            matched,
            last_data: now,
            mtime: meta.mtime(),
        })
    }
}

/// Where a file found at start begins: its checkpoint when it has one (`None` when its
/// checkpoint is of another file on a recycled inode, or it was truncated meanwhile).
fn start_offset(
    file: &File,
    meta: &std::fs::Metadata,
    key: FileKey,
    entries: &[Entry],
    initial: InitialPosition,
) -> Option<u64> {
    if let Some(e) = entries.iter().find(|e| e.key == key) {
        let same = head_fingerprint(file, e.fingerprint.len as usize) == e.fingerprint;
        return (same && e.offset <= meta.len()).then_some(e.offset);
    }
    if !entries.is_empty() {
        return Some(0);
    }
    Some(match initial {
        InitialPosition::StartOfFile => 0,
        InitialPosition::EndOfFile => meta.len(),
    })
}

/// `offset`, moved back to the start of its line (an END_OF_FILE start in the middle of a
/// line being written would otherwise send the line's tail as a record).
fn line_start_at_or_before(file: &File, offset: u64) -> u64 {
    if offset == 0 {
        return 0;
    }
    let from = offset.saturating_sub(64 * 1024);
    let mut buf = vec![0u8; (offset - from) as usize];
    match file.read_exact_at(&mut buf, from) {
        Ok(()) => match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => from + i as u64 + 1,
            None if from == 0 => 0,
            None => offset,
        },
        Err(_) => offset,
    }
}

/// The fingerprint of the file's first `len` bytes (fewer if it is shorter).
fn head_fingerprint(file: &File, len: usize) -> Fingerprint {
    let mut buf = vec![0u8; len.min(FINGERPRINT_BYTES)];
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Fingerprint::of(&buf[..got])
}

/// A file name's stem: up to its first dot (`app.log` → `app`).
fn stem(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split('.').next().unwrap_or(name).to_owned()
}

/// Regular files in `dir` with their metadata (following symlinks).
fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.is_file()
        {
            out.push((path, meta));
        }
    }
    Ok(out)
}

/// Translates a file-name glob (`*`, `?`, `[abc]`, `[!abc]`, `{a,b}`) into an anchored regex.
pub fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    let mut in_braces = false;
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let mut class = String::new();
                let mut closed = false;
                if chars.peek() == Some(&'!') {
                    chars.next();
                    class.push('^');
                }
                for d in chars.by_ref() {
                    if d == ']' {
                        closed = true;
                        break;
                    }
                    if d == '\\' || d == '[' {
                        class.push('\\');
                    }
                    class.push(d);
                }
                if closed && !class.is_empty() && class != "^" {
                    re.push('[');
                    re.push_str(&class);
                    re.push(']');
                } else {
                    re.push_str(&regex::escape(&format!("[{class}")));
                }
            }
            '{' if !in_braces => {
                in_braces = true;
                re.push_str("(?:");
            }
            '}' if in_braces => {
                in_braces = false;
                re.push(')');
            }
            ',' if in_braces => re.push('|'),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    if in_braces {
        re.push(')');
    }
    re.push('$');
    re
}

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;
