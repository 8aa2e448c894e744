// SPDX-License-Identifier: Apache-2.0
//! Receipt handles: opaque, authenticated tokens naming one receive of one message.
//!
//! A handle is URL-safe base64 (no padding) of 37 bytes:
//!
//! | bytes  | field         | notes                                                     |
//! |--------|---------------|-----------------------------------------------------------|
//! | 0      | version       | u8, [`RECEIPT_VERSION`]                                   |
//! | 1..9   | incarnation   | u64 LE: which queue of that name (a recreated queue differs) |
//! | 9..17  | offset        | u64 LE: the message's offset in the messages log          |
//! | 17..21 | receive count | u32 LE: which receive (the nonce: every receive increments it) |
//! | 21..37 | MAC           | first 16 bytes of HMAC-SHA256(key, domain ‖ arn length ‖ queue ARN ‖ bytes 0..21) |
//!
//! The MAC binds the handle to the queue ARN and the caller's secret key, so a client
//! cannot forge one or use one on another queue. Anything that does not decode and verify is
//! `ReceiptHandleIsInvalid` with AWS's text. Whether a valid handle is still current (its
//! receive count is the message's latest) is the engine's business.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;

/// Handle format version. Persisted in clients' hands: never reuse a number.
pub const RECEIPT_VERSION: u8 = 1;
const PAYLOAD_LEN: usize = 21;
const MAC_LEN: usize = 16;
const DOMAIN: &[u8] = b"freshet-sqs-receipt";

/// What a receipt handle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The queue incarnation the handle was issued by.
    pub incarnation: u64,
    /// Message offset.
    pub offset: u64,
    /// The receive count at the receive that issued it.
    pub receive_count: u32,
}

/// Issues and checks handles for one queue.
#[derive(Clone)]
pub struct ReceiptCodec {
    mac: Hmac<Sha256>,
    incarnation: u64,
}

impl std::fmt::Debug for ReceiptCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("ReceiptCodec")
            .field("incarnation", &self.incarnation)
            .finish()
    }
}

impl ReceiptCodec {
    /// A codec for the queue `queue_arn` (incarnation `incarnation`) with the server's
    /// secret `key` (any length; 32 random bytes recommended).
    pub fn new(key: &[u8], queue_arn: &str, incarnation: u64) -> ReceiptCodec {
        // HMAC accepts keys of any length, so this cannot fail; an empty key still works.
        let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => <Hmac<Sha256> as KeyInit>::new(&Default::default()),
        };
        mac.update(DOMAIN);
        mac.update(
            &u32::try_from(queue_arn.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        mac.update(queue_arn.as_bytes());
        ReceiptCodec { mac, incarnation }
    }

    fn tag(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut m = self.mac.clone();
        m.update(payload);
        let full = m.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// The handle for a receive of the message at `offset` with `receive_count`.
    pub fn encode(&self, offset: u64, receive_count: u32) -> String {
        let mut b = [0u8; PAYLOAD_LEN + MAC_LEN];
        b[0] = RECEIPT_VERSION;
        b[1..9].copy_from_slice(&self.incarnation.to_le_bytes());
        b[9..17].copy_from_slice(&offset.to_le_bytes());
        b[17..21].copy_from_slice(&receive_count.to_le_bytes());
        let tag = self.tag(&b[..PAYLOAD_LEN]);
        b[PAYLOAD_LEN..].copy_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(b)
    }

    /// Decodes and authenticates a handle issued by this queue incarnation.
    pub fn decode(&self, handle: &str) -> Result<Receipt, Error> {
        let invalid = || Error::ReceiptHandleIsInvalid {
            handle: handle.to_owned(),
        };
        // A valid handle is exactly 50 characters; refuse anything else before decoding.
        if handle.len() != 50 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(handle).map_err(|_| invalid())?;
        if bytes.len() != PAYLOAD_LEN + MAC_LEN || bytes[0] != RECEIPT_VERSION {
            return Err(invalid());
        }
        let expected = self.tag(&bytes[..PAYLOAD_LEN]);
        // Constant-time comparison: the MAC is the only secret-dependent part.
        let diff = expected
            .iter()
            .zip(&bytes[PAYLOAD_LEN..])
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(invalid());
        }
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&bytes[i..i + 8]);
            u64::from_le_bytes(a)
        };
        let mut c = [0u8; 4];
        c.copy_from_slice(&bytes[17..21]);
        let receipt = Receipt {
            incarnation: u64_at(1),
            offset: u64_at(9),
            receive_count: u32::from_le_bytes(c),
        };
        if receipt.incarnation != self.incarnation {
            return Err(invalid());
        }
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ARN: &str = "arn:aws:sqs:us-east-1:000000000000:q";

    #[test]
    fn handles_round_trip_and_are_url_safe() {
        let c = ReceiptCodec::new(b"secret", ARN, 7);
        let h = c.encode(42, 3);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            c.decode(&h),
            Ok(Receipt {
                incarnation: 7,
                offset: 42,
                receive_count: 3
            })
        );
    }

    #[test]
    fn handles_from_another_queue_key_or_incarnation_are_invalid() {
        let c = ReceiptCodec::new(b"secret", ARN, 7);
        let h = c.encode(42, 3);
        let other_queue = ReceiptCodec::new(b"secret", "arn:aws:sqs:us-east-1:000000000000:r", 7);
        let other_key = ReceiptCodec::new(b"other", ARN, 7);
        let recreated = ReceiptCodec::new(b"secret", ARN, 8);
        for codec in [other_queue, other_key, recreated] {
            assert_eq!(
                codec.decode(&h),
                Err(Error::ReceiptHandleIsInvalid { handle: h.clone() })
            );
        }
    }

    #[test]
    fn malformed_handles_get_the_aws_text() {
        let c = ReceiptCodec::new(b"k", ARN, 1);
        let e = c.decode("abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "The input receipt handle \"abc\" is not a valid receipt handle."
        );
        assert_eq!(e.code(), "ReceiptHandleIsInvalid");
    }

    proptest! {
        #[test]
        fn a_flipped_character_never_verifies(offset in any::<u64>(), n in any::<u32>(), i in 0usize..50, c in "[A-Za-z0-9_-]") {
            let codec = ReceiptCodec::new(b"k", ARN, 1);
            let h = codec.encode(offset, n);
            let mut chars: Vec<char> = h.chars().collect();
            let replacement = c.chars().next().unwrap_or('A');
            prop_assume!(chars[i] != replacement);
            chars[i] = replacement;
            let tampered: String = chars.into_iter().collect();
            // Either it no longer decodes to the same receipt, or it fails to verify; a
            // change in the last character's padding bits can be a no-op in base64.
            match codec.decode(&tampered) {
                Ok(r) => prop_assert_eq!(codec.encode(r.offset, r.receive_count), h),
                Err(e) => prop_assert_eq!(e.code(), "ReceiptHandleIsInvalid"),
            }
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,80}") {
            let _ = ReceiptCodec::new(b"k", ARN, 1).decode(&s);
        }
    }
}
