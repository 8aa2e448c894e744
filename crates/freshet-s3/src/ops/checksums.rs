// SPDX-License-Identifier: Apache-2.0
//! The digests a client sends with a body (`Content-MD5`, `x-amz-checksum-*` headers or
//! aws-chunked trailers), which checksums to compute while writing, and the check after.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use s3s::dto::Checksum;
use s3s::{S3Error, S3ErrorCode, TrailingHeaders};

use crate::chunked::TrailerSlot;
use crate::store::StoreError;
use crate::store::files::{Algorithms, Written};
use crate::store::records::Checksums;

/// What a request expects of its body.
#[derive(Debug, Default)]
pub(crate) struct Expected {
    md5: Option<[u8; 16]>,
    given: Checksum,
    /// Checksums to compute.
    pub algorithms: Algorithms,
    /// The algorithm named by a trailer, if any.
    trailer: Option<String>,
}

/// Where a request's trailers will be once its body is read.
#[derive(Clone, Default)]
pub(crate) struct Trailers {
    s3s: Option<TrailingHeaders>,
    ours: Option<TrailerSlot>,
}

impl Trailers {
    /// From the request (s3s's own decoding or Freshet's, in the extensions).
    pub fn of(trailing: Option<TrailingHeaders>, ext: &http::Extensions) -> Trailers {
        Trailers {
            s3s: trailing,
            ours: ext.get::<TrailerSlot>().cloned(),
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        if let Some(t) = &self.s3s
            && let Some(v) =
                t.read(|h| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned))
        {
            return v;
        }
        let slot = self.ours.as_ref()?.lock().ok()?;
        slot.as_ref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn algorithm_of(name: &str) -> Option<&'static str> {
    match name
        .to_ascii_lowercase()
        .trim_start_matches("x-amz-checksum-")
    {
        "crc32" => Some("CRC32"),
        "crc32c" => Some("CRC32C"),
        "crc64nvme" => Some("CRC64NVME"),
        "sha1" => Some("SHA1"),
        "sha256" => Some("SHA256"),
        _ => None,
    }
}

fn enable(a: &mut Algorithms, name: &str) {
    match name {
        "CRC32" => a.crc32 = true,
        "CRC32C" => a.crc32c = true,
        "CRC64NVME" => a.crc64nvme = true,
        "SHA1" => a.sha1 = true,
        "SHA256" => a.sha256 = true,
        _ => {}
    }
}

impl Expected {
    /// Reads the expectations of a request: `Content-MD5`, checksum values, the named
    /// algorithm, and `x-amz-trailer`.
    pub fn new(
        content_md5: Option<&str>,
        given: Checksum,
        algorithm: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Expected, S3Error> {
        let md5 = match content_md5 {
            None => None,
            Some(b64) => {
                let raw = STANDARD.decode(b64.trim()).ok();
                match raw.and_then(|r| <[u8; 16]>::try_from(r).ok()) {
                    Some(m) => Some(m),
                    None => {
                        return Err(S3Error::with_message(
                            S3ErrorCode::InvalidDigest,
                            "The Content-MD5 you specified is not valid.",
                        ));
                    }
                }
            }
        };
        let mut algorithms = Algorithms::default();
        if let Some(a) = algorithm {
            let a = a.to_ascii_uppercase();
            if algorithm_of(&a).is_none() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Value for x-amz-checksum-algorithm header is invalid.",
                ));
            }
            enable(&mut algorithms, &a);
        }
        algorithms.crc32 |= given.checksum_crc32.is_some();
        algorithms.crc32c |= given.checksum_crc32c.is_some();
        algorithms.crc64nvme |= given.checksum_crc64nvme.is_some();
        algorithms.sha1 |= given.checksum_sha1.is_some();
        algorithms.sha256 |= given.checksum_sha256.is_some();
        let trailer = headers
            .get("x-amz-trailer")
            .and_then(|v| v.to_str().ok())
            .and_then(algorithm_of)
            .map(str::to_owned);
        if let Some(t) = &trailer {
            enable(&mut algorithms, t);
        }
        Ok(Expected {
            md5,
            given,
            algorithms,
            trailer,
        })
    }

    /// Checks what was written against what was sent; the checksums to store.
    pub fn verify(&self, written: &Written, trailers: &Trailers) -> Result<Checksums, StoreError> {
        if let Some(m) = self.md5
            && m != written.md5
        {
            return Err(StoreError::BadDigest {
                what: "Content-MD5",
            });
        }
        let got = &written.checksums;
        let mut want = self.given.clone();
        if let Some(t) = &self.trailer {
            let v = trailers.get(&format!("x-amz-checksum-{}", t.to_ascii_lowercase()));
            match t.as_str() {
                "CRC32" => want.checksum_crc32 = v.or(want.checksum_crc32),
                "CRC32C" => want.checksum_crc32c = v.or(want.checksum_crc32c),
                "CRC64NVME" => want.checksum_crc64nvme = v.or(want.checksum_crc64nvme),
                "SHA1" => want.checksum_sha1 = v.or(want.checksum_sha1),
                "SHA256" => want.checksum_sha256 = v.or(want.checksum_sha256),
                _ => {}
            }
        }
        let pairs: [(&'static str, &Option<String>, &Option<String>); 5] = [
            ("CRC32", &want.checksum_crc32, &got.checksum_crc32),
            ("CRC32C", &want.checksum_crc32c, &got.checksum_crc32c),
            (
                "CRC64NVME",
                &want.checksum_crc64nvme,
                &got.checksum_crc64nvme,
            ),
            ("SHA1", &want.checksum_sha1, &got.checksum_sha1),
            ("SHA256", &want.checksum_sha256, &got.checksum_sha256),
        ];
        for (what, w, g) in pairs {
            if let Some(w) = w
                && Some(w) != g.as_ref()
            {
                return Err(StoreError::BadDigest { what });
            }
        }
        let any = got.checksum_crc32.is_some()
            || got.checksum_crc32c.is_some()
            || got.checksum_crc64nvme.is_some()
            || got.checksum_sha1.is_some()
            || got.checksum_sha256.is_some();
        Ok(Checksums {
            crc32: got.checksum_crc32.clone(),
            crc32c: got.checksum_crc32c.clone(),
            crc64nvme: got.checksum_crc64nvme.clone(),
            sha1: got.checksum_sha1.clone(),
            sha256: got.checksum_sha256.clone(),
            kind: any.then(|| "FULL_OBJECT".to_owned()),
        })
    }
}
