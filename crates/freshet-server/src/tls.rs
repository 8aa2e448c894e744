// SPDX-License-Identifier: Apache-2.0
//! The TLS port: certificate loading or generation and the rustls acceptor.
//!
//! The Java SDK v2 (and the KCL on it) negotiate HTTP/2 over `https://` with ALPN, so the TLS
//! port offers `h2` and `http/1.1`; connections then go through the same hyper auto builder
//! and routing as the plain port (`http.rs`).
//!
//! Certificates come from `server.tls_cert` / `server.tls_key` (PEM) when given. Otherwise a
//! self-signed certificate for `localhost`, `127.0.0.1` and `::1` is generated once and kept
//! in `<data_dir>/tls/` ([`CERT_FILE`], [`KEY_FILE`]), so a client told to trust it keeps
//! trusting it across restarts. Crypto is rustls with the *ring* provider, chosen explicitly
//! rather than through a process-wide default.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Directory under the data directory holding the generated certificate.
pub const TLS_DIR: &str = "tls";
/// File name of the generated certificate (PEM).
pub const CERT_FILE: &str = "cert.pem";
/// File name of the generated certificate's private key (PEM, mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// The names the generated certificate is valid for.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// ALPN protocols offered, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Where the serving certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// Configured PEM files.
    Configured(PathBuf),
    /// Generated earlier and loaded from the data directory.
    Loaded(PathBuf),
    /// Generated now and saved in the data directory.
    Generated(PathBuf),
}

impl CertSource {
    /// The certificate file clients should trust.
    pub fn path(&self) -> &Path {
        match self {
            CertSource::Configured(p) | CertSource::Loaded(p) | CertSource::Generated(p) => p,
        }
    }
}

/// Builds the acceptor from the configured PEM files, or from the data directory's generated
/// certificate (creating it on first use).
pub(crate) fn acceptor(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
) -> Result<(TlsAcceptor, CertSource), String> {
    let (cert_pem, key_pem, source) = match (cert, key) {
        (Some(cert), Some(key)) => (
            read(cert)?,
            read(key)?,
            CertSource::Configured(cert.to_path_buf()),
        ),
        (None, None) => generated(&data_dir.join(TLS_DIR))?,
        // Config validation refuses one without the other.
        _ => return Err("server.tls_cert and server.tls_key must be given together".into()),
    };
    build(&cert_pem, &key_pem, &source)
        .map_err(|e| match &source {
            // A damaged generated pair is not the operator's file: say how to start over.
            CertSource::Loaded(path) => format!(
                "{e} (delete {} to generate a new certificate)",
                path.parent().unwrap_or(path).display()
            ),
            CertSource::Configured(_) | CertSource::Generated(_) => e,
        })
        .map(|acceptor| (acceptor, source))
}

/// The rustls acceptor for a PEM certificate chain and key, offering [`ALPN`].
fn build(cert_pem: &[u8], key_pem: &[u8], source: &CertSource) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            format!(
                "{}: not a PEM certificate chain: {e}",
                source.path().display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in the file",
            source.path().display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("the TLS private key is not a PEM private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the TLS certificate and key do not work together: {e}"))?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Loads the generated certificate and key from `dir`, generating them when either is missing.
fn generated(dir: &Path) -> Result<(Vec<u8>, Vec<u8>, CertSource), String> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        return Ok((
            read(&cert_path)?,
            read(&key_path)?,
            CertSource::Loaded(cert_path),
        ));
    }
    let (cert_pem, key_pem) = generate()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // The key first, the certificate last: a crash in between leaves no certificate, and the
    // next start generates both again.
    write_atomically(&key_path, key_pem.as_bytes(), true)?;
    write_atomically(&cert_path, cert_pem.as_bytes(), false)?;
    Ok((
        cert_pem.into_bytes(),
        key_pem.into_bytes(),
        CertSource::Generated(cert_path),
    ))
}

/// A new self-signed certificate for the local names, as (certificate PEM, key PEM).
fn generate() -> Result<(String, String), String> {
    let names: Vec<String> = LOCAL_NAMES.iter().map(|s| (*s).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names)
        .map_err(|e| format!("cannot build the certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Freshet local TLS");
    let key = rcgen::KeyPair::generate().map_err(|e| format!("cannot generate a key: {e}"))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the certificate: {e}"))?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes `bytes` to a temporary file, fsyncs it, renames it over `path` and fsyncs the
/// directory. `private` files are readable by the owner only.
fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    let err = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(err)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_kept_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, first) = acceptor(None, None, dir.path()).expect("generates");
        assert!(matches!(first, CertSource::Generated(_)), "{first:?}");
        let pem = std::fs::read(first.path()).expect("cert file");
        let (_, second) = acceptor(None, None, dir.path()).expect("loads");
        assert_eq!(second, CertSource::Loaded(first.path().to_path_buf()));
        assert_eq!(std::fs::read(second.path()).expect("cert file"), pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(TLS_DIR).join(KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is private: {mode:o}");
        }
    }

    #[test]
    fn configured_files_are_used_and_bad_ones_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = generate().expect("generate");
        let cert_path = dir.path().join("c.pem");
        let key_path = dir.path().join("k.pem");
        std::fs::write(&cert_path, cert).expect("write");
        std::fs::write(&key_path, key).expect("write");
        let (_, source) =
            acceptor(Some(&cert_path), Some(&key_path), dir.path()).expect("configured");
        assert_eq!(source, CertSource::Configured(cert_path.clone()));
        assert!(!dir.path().join(TLS_DIR).exists(), "nothing generated");

        std::fs::write(&key_path, "not a key").expect("write");
        let err = acceptor(Some(&cert_path), Some(&key_path), dir.path())
            .err()
            .expect("bad key");
        assert!(err.contains("private key"), "{err}");
        let err = acceptor(
            Some(&dir.path().join("missing.pem")),
            Some(&key_path),
            dir.path(),
        )
        .err()
        .expect("missing cert");
        assert!(err.contains("cannot read"), "{err}");
    }

    #[test]
    fn a_damaged_generated_key_says_how_to_start_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        acceptor(None, None, dir.path()).expect("generates");
        std::fs::write(dir.path().join(TLS_DIR).join(KEY_FILE), "garbage").expect("write");
        let err = acceptor(None, None, dir.path()).err().expect("damaged");
        assert!(err.contains("to generate a new certificate"), "{err}");
    }
}
