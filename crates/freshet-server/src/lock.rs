// SPDX-License-Identifier: Apache-2.0
//! An exclusive lock on the data directory, so two servers never write the same logs.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Held for the server's lifetime; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock on `<dir>/LOCK`, failing at once if another process holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, String> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "{} is locked: another Freshet server is using this data directory",
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}
