// SPDX-License-Identifier: Apache-2.0
//! The console's files, embedded in the binary with `include_bytes!` so the console works
//! offline and needs no files next to the binary.
//!
//! Each asset has a content type, a strong ETag (a hash of its bytes, so it changes exactly
//! when the file does) and, for text, a gzip copy made once on first use. Names are the
//! paths below `/console/`; anything not listed is not served.

use std::sync::LazyLock;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its path below `/console/`, e.g. `pages/streams.js`.
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: Bytes,
    /// Its gzip encoding, when that is smaller (text files).
    pub gzip: Option<Bytes>,
    /// Its strong ETag, quoted.
    pub etag: String,
}

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../assets/", $name)) as &[u8])),*]
    };
}

/// Every file the console serves. The e2e test and the unit tests below load each one.
const FILES: &[(&str, &[u8])] = embed![
    "index.html",
    "style.css",
    "app.js",
    "api.js",
    "ui.js",
    "chart.js",
    "markdown.js",
    "insights.js",
    "pages/overview.js",
    "pages/streams.js",
    "pages/firehose.js",
    "pages/functions.js",
    "pages/queues.js",
    "pages/alarms.js",
    "pages/dashboards.js",
    "pages/logs.js",
    "vendor/uPlot.iife.min.js",
    "vendor/uPlot.min.css",
    "vendor/uPlot.LICENSE",
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, bytes)| {
            let content_type = content_type(name);
            let gzip = content_type
                .starts_with("text/")
                .then(|| gzip(bytes))
                .flatten()
                .filter(|g| g.len() < bytes.len());
            Asset {
                name,
                content_type,
                bytes: Bytes::from_static(bytes),
                gzip,
                etag: format!("\"{:016x}\"", fnv1a(bytes)),
            }
        })
        .collect()
});

/// The asset at `name` (the path below `/console/`), if there is one.
pub fn get(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// Every asset.
pub fn all() -> &'static [Asset] {
    &ASSETS
}

/// The content type of a file by its extension. JavaScript modules must be served as
/// JavaScript or browsers refuse to run them.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

/// `bytes` gzipped; `None` only if the encoder fails (it writes to memory, so it does not).
fn gzip(bytes: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
    enc.write_all(bytes).ok()?;
    enc.finish().ok().map(Bytes::from)
}

/// 64-bit FNV-1a: a stable content hash for ETags (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn every_listed_file_is_served_with_the_type_its_extension_names() {
        assert_eq!(all().len(), FILES.len());
        assert_eq!(
            get("app.js").map(|a| a.content_type),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            get("index.html").map(|a| a.content_type),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            get("vendor/uPlot.min.css").map(|a| a.content_type),
            Some("text/css; charset=utf-8")
        );
        assert!(get("nope.js").is_none());
        assert!(get("../Cargo.toml").is_none());
    }

    #[test]
    fn gzip_copies_decode_to_the_original_bytes() {
        let app = get("vendor/uPlot.iife.min.js").expect("uPlot");
        let gz = app.gzip.as_ref().expect("text is gzipped");
        assert!(gz.len() < app.bytes.len());
        for a in all() {
            if let Some(gz) = &a.gzip {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&gz[..])
                    .read_to_end(&mut out)
                    .expect("gunzip");
                assert_eq!(out, a.bytes, "{}", a.name);
            }
        }
    }

    #[test]
    fn etags_differ_between_files_and_are_quoted() {
        let tags: std::collections::HashSet<_> = all().iter().map(|a| a.etag.as_str()).collect();
        assert_eq!(tags.len(), all().len());
        assert!(
            all()
                .iter()
                .all(|a| a.etag.starts_with('"') && a.etag.ends_with('"'))
        );
    }

    #[test]
    fn every_module_the_pages_import_is_embedded() {
        // A module missing from FILES would 404 in the browser and blank the console.
        for a in all().iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(&a.bytes).expect("utf8");
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let Some(spec) = line.split(['"', '\'']).nth(1) else {
                    continue;
                };
                let base = a.name.rsplit_once('/').map_or("", |(d, _)| d);
                let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(
                    get(&target).is_some(),
                    "{} imports missing {target}",
                    a.name
                );
            }
        }
    }
}
