// SPDX-License-Identifier: Apache-2.0
//! Staging files: where one buffer's output is assembled, record by record, before it is
//! handed to the sink as one object. Records are written as they are buffered (compressed,
//! converted to Parquet, or kept length-prefixed for an HTTP request), so a buffer costs a
//! file on disk and a bounded writer in memory, never its bytes.
//!
//! A finished file is fsynced. A sink owns (moves or deletes) what it is given, so each
//! delivery attempt gets a fresh hard link to the finished file ([`Finished::attempt`]), and
//! the original is removed once the object is written. Blocking: call from blocking tasks.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::convert::{Column, Converter, Input, ParquetOptions, RecordError};
use crate::error::{Error, Result};
use crate::rules::compress::{Compression, Compressor};

/// Buffered output per staging file (64 KiB: hundreds of partitions may be open at once).
const WRITE_BUFFER: usize = 64 * 1024;
/// The largest record an HTTP staging file may hold (a corrupt length stops reading).
const MAX_RECORD: usize = 64 << 20;

/// What a staging file holds.
#[derive(Debug, Clone)]
pub enum Format {
    /// The records concatenated, then compressed.
    Raw(Compression),
    /// One Parquet file (record format conversion).
    Parquet {
        /// The table's columns.
        columns: Vec<Column>,
        /// The deserializer.
        input: Input,
        /// The writer settings.
        output: ParquetOptions,
    },
    /// Length-prefixed records, read back whole to build an HTTP endpoint request.
    Records,
}

enum Writer {
    Raw(Compressor<BufWriter<File>>),
    Parquet(Box<Converter<BufWriter<File>>>),
    Records(BufWriter<File>),
}

/// Why a record could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// This record failed conversion; the file is still usable.
    Record(RecordError),
    /// The file could not be written; the buffer must be abandoned.
    Io(Error),
}

/// A staging file being written.
pub struct Staging {
    path: PathBuf,
    writer: Writer,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging").field("path", &self.path).finish()
    }
}

fn io_err(p: &Path, e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("staging file {}: {e}", p.display()))
}

impl Staging {
    /// Creates a staging file in `dir`. `entry` names the one entry of a ZIP object.
    pub fn create(dir: &Path, format: &Format, entry: &str) -> Result<Staging> {
        let path = dir.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = File::create(&path).map_err(|e| io_err(&path, e))?;
        let out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let writer = match format {
            Format::Raw(c) => Writer::Raw(Compressor::new(*c, out, entry).map_err(|e| {
                let _ = std::fs::remove_file(&path);
                io_err(&path, e)
            })?),
            Format::Parquet {
                columns,
                input,
                output,
            } => match Converter::new(columns, input.clone(), output.clone(), out) {
                Ok(c) => Writer::Parquet(Box::new(c)),
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    return Err(Error::InvalidArgument(e.to_string()));
                }
            },
            Format::Records => Writer::Records(out),
        };
        Ok(Staging { path, writer })
    }

    /// Appends one record.
    pub fn write(&mut self, data: &[u8]) -> std::result::Result<(), WriteError> {
        let p = &self.path;
        match &mut self.writer {
            Writer::Raw(w) => w.write_all(data).map_err(|e| WriteError::Io(io_err(p, e))),
            Writer::Parquet(c) => c.push(data).map_err(WriteError::Record),
            Writer::Records(w) => {
                let len = u32::try_from(data.len())
                    .map_err(|_| WriteError::Io(io_err(p, "record too large")))?;
                w.write_all(&len.to_le_bytes())
                    .and_then(|()| w.write_all(data))
                    .map_err(|e| WriteError::Io(io_err(p, e)))
            }
        }
    }

    /// Finishes the file (compressor trailer, Parquet footer), fsyncs it.
    pub fn finish(self) -> Result<Finished> {
        let path = self.path;
        let result = (|| {
            let out = match self.writer {
                Writer::Raw(w) => w.finish().map_err(|e| io_err(&path, e))?,
                Writer::Parquet(c) => c.finish().map_err(|e| io_err(&path, e))?,
                Writer::Records(w) => w,
            };
            let file = out.into_inner().map_err(|e| io_err(&path, e.error()))?;
            file.sync_all().map_err(|e| io_err(&path, e))?;
            file.metadata()
                .map(|m| m.len())
                .map_err(|e| io_err(&path, e))
        })();
        match result {
            Ok(len) => Ok(Finished { path, len }),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    /// Gives the file up (the buffer is abandoned).
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A new name (hard link) for the finished staging file at `path`, for one delivery attempt.
pub fn attempt_link(path: &Path) -> Result<PathBuf> {
    let link = path.with_extension(format!("{}.try", uuid::Uuid::new_v4().simple()));
    std::fs::hard_link(path, &link).map_err(|e| io_err(path, e))?;
    Ok(link)
}

/// A finished, fsynced staging file.
#[derive(Debug)]
pub struct Finished {
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub len: u64,
}

impl Finished {
    /// A new name for the same content, for one delivery attempt (the sink takes it).
    pub fn attempt(&self) -> Result<PathBuf> {
        attempt_link(&self.path)
    }

    /// The records of a [`Format::Records`] file.
    pub fn read_records(&self) -> Result<Vec<Bytes>> {
        let mut buf = Vec::new();
        File::open(&self.path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(|e| io_err(&self.path, e))?;
        let mut out = Vec::new();
        let mut rest = buf.as_slice();
        while !rest.is_empty() {
            let (len, tail) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| io_err(&self.path, "truncated record length"))?;
            let len = u32::from_le_bytes(*len) as usize;
            if len > MAX_RECORD || len > tail.len() {
                return Err(io_err(&self.path, "truncated record"));
            }
            out.push(Bytes::copy_from_slice(&tail[..len]));
            rest = &tail[len..];
        }
        Ok(out)
    }

    /// Removes the file.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_they_were_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Staging::create(dir.path(), &Format::Records, "x").unwrap();
        for r in [&b"a"[..], b"", b"hello"] {
            s.write(r).unwrap();
        }
        let f = s.finish().unwrap();
        assert_eq!(f.len, 4 * 3 + 6);
        assert_eq!(f.read_records().unwrap(), vec!["a", "", "hello"]);
    }

    #[test]
    fn each_attempt_is_a_separate_name_for_the_same_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut s =
            Staging::create(dir.path(), &Format::Raw(Compression::Uncompressed), "x").unwrap();
        s.write(b"abc").unwrap();
        let f = s.finish().unwrap();
        let a = f.attempt().unwrap();
        std::fs::remove_file(&a).unwrap();
        let b = f.attempt().unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"abc");
        f.remove();
        assert_eq!(std::fs::read(&b).unwrap(), b"abc");
    }
}
