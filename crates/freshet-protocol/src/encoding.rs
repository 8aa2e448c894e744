// SPDX-License-Identifier: Apache-2.0
//! Request bodies sent with `Content-Encoding: gzip`: the model's `requestcompression` trait
//! (boto3 and the SDKs gzip CloudWatch PutMetricData bodies over 10 KiB). The front door
//! decodes them for every RPC and Query route before the service sees the body.
//!
//! Bounded: the decoded body may be at most `max` bytes (the route's body limit); the decoder
//! reads at most `max + 1` bytes, so a gzip bomb is refused as too large after allocating no
//! more than the limit.

use std::io::Read;

use bytes::Bytes;

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The decoded body is larger than the limit.
    #[error("The decompressed request body is larger than the limit of {max} bytes.")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The body is not what its encoding says.
    #[error("The request body is not valid gzip: {0}")]
    Malformed(String),
}

/// Whether a `Content-Encoding` value names gzip (alone, or after `identity`).
pub fn is_gzip(content_encoding: &str) -> bool {
    let mut codings = content_encoding
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
    matches!(
        (codings.next(), codings.next()),
        (Some(c), None) if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip")
    )
}

/// The body as the service must see it: gunzipped when `content_encoding` says gzip, else
/// unchanged (other codings are left to the service).
pub fn decode_body(
    content_encoding: Option<&str>,
    body: Bytes,
    max: u64,
) -> Result<Bytes, DecodeError> {
    if !content_encoding.is_some_and(is_gzip) {
        return Ok(body);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body.as_ref())
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if out.len() as u64 > max {
        return Err(DecodeError::TooLarge { max });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    fn gzip(b: &[u8]) -> Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).expect("writes");
        Bytes::from(e.finish().expect("finishes"))
    }

    #[test]
    fn gzip_bodies_are_decoded_and_others_left_alone() {
        let body = gzip(b"{\"Namespace\":\"x\"}");
        assert_eq!(
            decode_body(Some("gzip"), body.clone(), 1024),
            Ok(Bytes::from_static(b"{\"Namespace\":\"x\"}"))
        );
        assert_eq!(decode_body(None, body.clone(), 1024), Ok(body.clone()));
        assert_eq!(decode_body(Some("br"), body.clone(), 1024), Ok(body));
        assert!(is_gzip("identity, GZIP"));
        assert!(!is_gzip("gzip, br"));
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_limit() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(
            decode_body(Some("gzip"), bomb, 1024 * 1024),
            Err(DecodeError::TooLarge { max: 1024 * 1024 })
        );
    }

    #[test]
    fn bytes_that_are_not_gzip_are_malformed() {
        assert!(matches!(
            decode_body(Some("gzip"), Bytes::from_static(b"not gzip"), 1024),
            Err(DecodeError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn any_body_round_trips_or_is_refused_without_panicking(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            noise in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let packed = gzip(&data);
            prop_assert_eq!(decode_body(Some("gzip"), packed.clone(), 4096), Ok(Bytes::from(data)));
            let mut broken = packed.to_vec();
            broken.extend_from_slice(&noise);
            let _ = decode_body(Some("gzip"), Bytes::from(broken), 4096);
            let _ = decode_body(Some("gzip"), Bytes::from(noise), 4096);
        }
    }
}
