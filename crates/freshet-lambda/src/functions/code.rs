// SPDX-License-Identifier: Apache-2.0
//! The code store: deployment packages on disk, content-addressed by SHA-256, and their
//! unpacked trees that the executor runs handlers in.
//!
//! Layout under the configured code directory (`[lambda] code_dir`, default
//! `<data>/lambda/code`):
//!
//! ```text
//! packages/<sha256 hex>.zip   the package as uploaded (durable: temp file, fsync, rename,
//!                             fsync of the directory)
//! unpacked/<sha256 hex>/      its files, modes kept (a `bootstrap` stays executable)
//! tmp/                        work in progress; emptied at open
//! ```
//!
//! Invariants: a `packages/` file is complete and its name is its hash; an `unpacked/`
//! directory appears only by rename after it was completely written, so it is complete too,
//! and it can always be rebuilt from its package. Unpacking is zip-slip safe: entries whose
//! names leave the root (absolute, `..`) are refused, symlinks pointing outside are skipped,
//! and the unzipped size is enforced while reading, not trusted from the headers.
//!
//! Everything here blocks (file I/O, fsync): call it from `spawn_blocking`.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::functions::error::Error;

/// The largest zip AWS accepts in a request (50 MB).
pub const MAX_ZIPPED: usize = 50 * 1024 * 1024;
/// The largest unzipped package (250 MB).
pub const MAX_UNZIPPED: u64 = 262_144_000;
/// The largest request AWS takes (a [`MAX_ZIPPED`] zip in base64, in JSON), and the size it
/// quotes when a ZipFile is over [`MAX_ZIPPED`].
pub const MAX_REQUEST: u64 = 70_167_211;

/// A package in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// Hex SHA-256 of the zip.
    pub sha256: String,
    /// Size of the zip in bytes (`CodeSize`).
    pub size: u64,
}

/// The code store of one server.
#[derive(Debug, Clone)]
pub struct CodeStore {
    root: PathBuf,
}

/// InvalidParameterValueException for a package that is not a zip.
fn not_a_zip() -> Error {
    Error::InvalidParameter(
        "Could not unzip uploaded file. Please check your file, then try to upload again.".into(),
    )
}

fn too_big_unzipped() -> Error {
    Error::InvalidParameter(format!(
        "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
    ))
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> Error {
    Error::Storage(format!("cannot {what} {}: {e}", path.display()))
}

/// Checks a ZipFile's size before anything else: AWS's 413 for packages over 50 MB.
pub fn check_zip_size(zip: &[u8], operation: &str) -> Result<(), Error> {
    if zip.len() > MAX_ZIPPED {
        return Err(Error::EntityTooLarge(format!(
            "Request must be smaller than {MAX_REQUEST} bytes for the {operation} operation"
        )));
    }
    Ok(())
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl CodeStore {
    /// Opens (creating) the store at `root` and empties its `tmp/`.
    pub fn open(root: &Path) -> Result<CodeStore, Error> {
        for sub in ["packages", "unpacked"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, &e))?;
        }
        let tmp = root.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| io_error("empty", &tmp, &e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| io_error("create", &tmp, &e))?;
        Ok(CodeStore {
            root: root.to_path_buf(),
        })
    }

    /// Where a package's files are (once [`CodeStore::put_zip`] or
    /// [`CodeStore::ensure_unpacked`] returned).
    pub fn unpacked_dir(&self, sha256: &str) -> PathBuf {
        self.root.join("unpacked").join(sha256)
    }

    fn package_path(&self, sha256: &str) -> PathBuf {
        self.root.join("packages").join(format!("{sha256}.zip"))
    }

    fn tmp_path(&self) -> PathBuf {
        self.root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Validates `zip` (a zip, within the unzipped limit), stores it durably and unpacks it.
    /// Storing the same bytes twice keeps one copy.
    pub fn put_zip(&self, zip: &[u8]) -> Result<StoredCode, Error> {
        let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).map_err(|_| not_a_zip())?;
        let declared: u64 = (0..archive.len())
            .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
            .fold(0u64, u64::saturating_add);
        if declared > MAX_UNZIPPED {
            return Err(too_big_unzipped());
        }
        let sha256 = sha256_hex(zip);
        let package = self.package_path(&sha256);
        if !package.exists() {
            let tmp = self.tmp_path();
            write_durably(&tmp, &package, zip)?;
        }
        if !self.unpacked_dir(&sha256).exists() {
            self.unpack(&mut archive, &sha256)?;
        }
        Ok(StoredCode {
            sha256,
            size: zip.len() as u64,
        })
    }

    /// Rebuilds a package's unpacked tree if it is missing (e.g. deleted by hand).
    pub fn ensure_unpacked(&self, sha256: &str) -> Result<(), Error> {
        if self.unpacked_dir(sha256).exists() {
            return Ok(());
        }
        let package = self.package_path(sha256);
        let bytes = fs::read(&package).map_err(|e| io_error("read", &package, &e))?;
        let mut archive = zip::ZipArchive::new(io::Cursor::new(&bytes[..]))
            .map_err(|e| Error::Storage(format!("package {sha256} is unreadable: {e}")))?;
        self.unpack(&mut archive, sha256)
    }

    /// The hashes of every stored package.
    pub fn stored_hashes(&self) -> Vec<String> {
        let Ok(dir) = fs::read_dir(self.root.join("packages")) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".zip"))
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Deletes a package and its tree (when no function version refers to it any more).
    pub fn remove(&self, sha256: &str) {
        let _ = fs::remove_dir_all(self.unpacked_dir(sha256));
        let _ = fs::remove_file(self.package_path(sha256));
    }

    fn unpack<R: Read + io::Seek>(
        &self,
        archive: &mut zip::ZipArchive<R>,
        sha256: &str,
    ) -> Result<(), Error> {
        let tmp = self.tmp_path();
        fs::create_dir_all(&tmp).map_err(|e| io_error("create", &tmp, &e))?;
        let result = extract(archive, &tmp);
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let dest = self.unpacked_dir(sha256);
        match fs::rename(&tmp, &dest) {
            Ok(()) => {}
            // Another request unpacked the same package first: theirs is as good.
            Err(_) if dest.exists() => {
                let _ = fs::remove_dir_all(&tmp);
            }
            Err(e) => return Err(io_error("rename into", &dest, &e)),
        }
        sync_dir(&self.root.join("unpacked"));
        Ok(())
    }
}

/// Extracts every entry of `archive` under `root`, refusing names that escape it and
/// enforcing [`MAX_UNZIPPED`] on the bytes actually inflated.
fn extract<R: Read + io::Seek>(archive: &mut zip::ZipArchive<R>, root: &Path) -> Result<(), Error> {
    let mut budget = MAX_UNZIPPED;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| not_a_zip())?;
        let Some(rel) = entry.name().ok().and_then(|n| safe_relative(&n)) else {
            return Err(not_a_zip());
        };
        let path = root.join(&rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            fs::create_dir_all(&path).map_err(|e| io_error("create", &path, &e))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error("create", parent, &e))?;
        }
        if entry.is_symlink() {
            let mut target = String::new();
            entry
                .by_ref()
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|_| not_a_zip())?;
            link_inside(root, &rel, &target, &path);
            continue;
        }
        let mut out = fs::File::create(&path).map_err(|e| io_error("create", &path, &e))?;
        let copied =
            io::copy(&mut entry.by_ref().take(budget + 1), &mut out).map_err(|_| not_a_zip())?;
        if copied > budget {
            return Err(too_big_unzipped());
        }
        budget -= copied;
        if let Some(mode) = mode {
            set_mode(&path, mode);
        }
    }
    Ok(())
}

/// A zip entry name as a relative path under the root, or `None` if it would leave it.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Creates a symlink whose target resolves inside `root`; skips others (with a warning).
fn link_inside(root: &Path, rel: &Path, target: &str, path: &Path) {
    let base = rel.parent().unwrap_or(Path::new(""));
    let joined = base.join(target);
    let mut depth: i64 = 0;
    let mut escapes = Path::new(target).is_absolute();
    for c in joined.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => escapes = true,
        }
        if depth < 0 {
            escapes = true;
        }
    }
    if escapes {
        tracing::warn!(link = %rel.display(), target, "Skipped a symlink that leaves the package.");
        return;
    }
    #[cfg(unix)]
    if let Err(error) = std::os::unix::fs::symlink(target, path) {
        tracing::warn!(link = %rel.display(), %error, "Cannot create a symlink of the package.");
    }
    let _ = root;
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    // Keep the owner able to read (and the executor to clean up); AWS runs code as another
    // user with the zip's modes, which is the same as long as the owner can read.
    let mode = (mode & 0o777) | 0o400;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

/// Writes `bytes` to `tmp`, fsyncs it, renames it to `dest` and fsyncs the directory.
pub fn write_durably(tmp: &Path, dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut f = fs::File::create(tmp).map_err(|e| io_error("create", tmp, &e))?;
    f.write_all(bytes).map_err(|e| io_error("write", tmp, &e))?;
    f.sync_all().map_err(|e| io_error("fsync", tmp, &e))?;
    drop(f);
    fs::rename(tmp, dest).map_err(|e| io_error("rename into", dest, &e))?;
    if let Some(parent) = dest.parent() {
        sync_dir(parent);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir)
        && let Err(error) = d.sync_all()
    {
        tracing::warn!(dir = %dir.display(), %error, "Cannot fsync a directory.");
    }
}

/// The hash and size of a local code directory (the `freshet-local` extension): SHA-256 over
/// each regular file's relative path and contents, in path order, so editing any file changes
/// `CodeSha256`.
pub fn describe_dir(dir: &Path) -> Result<StoredCode, Error> {
    let bad = || {
        Error::InvalidParameter(format!(
            "Freshet cannot read the code directory {}: it must be an absolute path to a \
             readable directory.",
            dir.display()
        ))
    };
    if !dir.is_absolute() || !dir.is_dir() {
        return Err(bad());
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files, 0).map_err(|_| bad())?;
    files.sort();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    for rel in &files {
        let bytes = fs::read(dir.join(rel)).map_err(|_| bad())?;
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
        size += bytes.len() as u64;
    }
    Ok(StoredCode {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> io::Result<()> {
    // Deep trees are node_modules at worst; a cycle through symlinks is not followed at all.
    if depth > 64 {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let path = entry.path();
        if ty.is_dir() {
            walk(root, &path, out, depth + 1)?;
        } else if ty.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use proptest::prelude::*;
    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, body, mode) in files {
            let opts = SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(*name, opts).expect("start");
            w.write_all(body).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn a_package_is_stored_once_and_unpacked_with_its_modes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CodeStore::open(dir.path()).expect("open");
        let zip = zip_of(&[
            ("app.py", b"def handler(e, c):\n    return e\n", 0o644),
            ("bootstrap", b"#!/bin/sh\n", 0o755),
            ("lib/util.py", b"X = 1\n", 0o644),
        ]);
        let a = store.put_zip(&zip).expect("put");
        let b = store.put_zip(&zip).expect("put again");
        assert_eq!(a, b);
        assert_eq!(a.size, zip.len() as u64);
        let root = store.unpacked_dir(&a.sha256);
        assert_eq!(
            fs::read(root.join("lib/util.py")).expect("read"),
            b"X = 1\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(root.join("bootstrap"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "bootstrap stays executable");
        }
        fs::remove_dir_all(&root).expect("rm");
        store.ensure_unpacked(&a.sha256).expect("rebuild");
        assert!(root.join("app.py").is_file());
    }

    #[test]
    fn bytes_that_are_not_a_zip_get_the_aws_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CodeStore::open(dir.path()).expect("open");
        let e = store
            .put_zip(b"def handler(e, c): pass")
            .expect_err("not a zip");
        assert_eq!(
            e.to_string(),
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        );
    }

    #[test]
    fn entries_that_leave_the_root_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CodeStore::open(dir.path().join("code").as_path()).expect("open");
        let zip = zip_of(&[("../evil.py", b"x", 0o644)]);
        assert!(store.put_zip(&zip).is_err());
        assert!(!dir.path().join("evil.py").exists());
        assert!(safe_relative("/etc/passwd").is_none());
        assert!(safe_relative("a/../../b").is_none());
        assert_eq!(safe_relative("./a/b"), Some(PathBuf::from("a/b")));
    }

    #[test]
    fn oversized_zips_get_the_request_size_message() {
        let big = vec![0u8; MAX_ZIPPED + 1];
        let e = check_zip_size(&big, "CreateFunction").expect_err("too big");
        assert_eq!(
            e.to_string(),
            "Request must be smaller than 70167211 bytes for the CreateFunction operation"
        );
        assert!(check_zip_size(&big[..MAX_ZIPPED], "CreateFunction").is_ok());
    }

    #[test]
    fn a_directory_hash_changes_when_a_file_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("app.py"), "a").expect("write");
        let a = describe_dir(dir.path()).expect("describe");
        fs::write(dir.path().join("app.py"), "b").expect("write");
        let b = describe_dir(dir.path()).expect("describe");
        assert_ne!(a.sha256, b.sha256);
        assert!(describe_dir(Path::new("relative")).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_unpacker(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = CodeStore::open(dir.path()).expect("open");
            let _ = store.put_zip(&bytes);
        }

        #[test]
        fn safe_names_stay_under_the_root(name in "[a-z./]{0,30}") {
            if let Some(p) = safe_relative(&name) {
                prop_assert!(p.is_relative());
                prop_assert!(p.components().all(|c| matches!(c, Component::Normal(_))));
            }
        }
    }
}
