//! Small filesystem helpers: directory fsync and positional reads/writes.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::LogError;

/// Fsyncs a directory so that entries created, renamed or removed in it are durable.
pub(crate) fn fsync_dir(dir: &Path) -> Result<(), LogError> {
    fsync_dir_io(dir).map_err(|e| LogError::io("fsync directory", dir, e))
}

/// [`fsync_dir`] returning the bare I/O error.
pub(crate) fn fsync_dir_io(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads exactly `len` bytes at `pos`.
pub(crate) fn read_at(file: &File, pos: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, pos)?;
    Ok(buf)
}
