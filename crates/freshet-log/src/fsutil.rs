//! Small filesystem helpers: directory fsync and positional reads/writes.

use std::fs::File;
use std::io::{self, IoSlice};
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

/// Most buffers one `pwritev` takes: Linux's `UIO_MAXIOV` (and glibc's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// Writes `bufs` back to back from `pos` with one `pwritev` per [`IOV_MAX`] buffers, looping
/// on short and interrupted writes until every byte is written or an error occurs.
pub(crate) fn write_all_vectored_at(file: &File, bufs: &[Vec<u8>], mut pos: u64) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(bufs.len().min(IOV_MAX));
    for chunk in bufs.chunks(IOV_MAX) {
        slices.clear();
        slices.extend(chunk.iter().map(|b| IoSlice::new(b)));
        let mut rest = &mut slices[..];
        // Empty buffers would make a complete write look like a zero-length one.
        IoSlice::advance_slices(&mut rest, 0);
        while !rest.is_empty() {
            match rustix::io::pwritev(file, rest, pos) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "pwritev wrote nothing",
                    ));
                }
                Ok(n) => {
                    pos += n as u64;
                    IoSlice::advance_slices(&mut rest, n);
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
