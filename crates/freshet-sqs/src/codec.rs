// SPDX-License-Identifier: Apache-2.0
//! Little-endian fixed-width primitives shared by the persisted encodings ([`crate::message`],
//! [`crate::journal`], [`crate::checkpoint`]). The reader checks every length against the
//! bytes that remain before it allocates, and never panics.

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than a field needs.
    #[error("truncated {what}: needed {needed} bytes, {left} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes it needed.
        needed: usize,
        /// Bytes that were left.
        left: usize,
    },
    /// A magic number or version this build does not know.
    #[error("unknown {what} {value}")]
    Unknown {
        /// What it was (version, kind, ...).
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// A string that is not UTF-8.
    #[error("{what} is not UTF-8")]
    NotUtf8 {
        /// The field.
        what: &'static str,
    },
    /// Bytes left after the last field.
    #[error("{left} trailing bytes after {what}")]
    Trailing {
        /// The record type.
        what: &'static str,
        /// How many.
        left: usize,
    },
    /// A checksum mismatch.
    #[error("{what} checksum mismatch")]
    Checksum {
        /// The record type.
        what: &'static str,
    },
    /// A field whose value is impossible (e.g. an invalid flag combination).
    #[error("invalid {what}")]
    Invalid {
        /// The field.
        what: &'static str,
    },
}

/// A cursor over encoded bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                left: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u128(&mut self, what: &'static str) -> Result<u128, DecodeError> {
        Ok(u128::from_le_bytes(self.array(what)?))
    }

    /// Bytes with a u16 length prefix.
    pub(crate) fn bytes16(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = usize::from(self.u16(what)?);
        self.take(n, what)
    }

    /// Bytes with a u32 length prefix.
    pub(crate) fn bytes32(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(self.u32(what)?).map_err(|_| DecodeError::Invalid { what })?;
        self.take(n, what)
    }

    pub(crate) fn str16(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes16(what)?).map_err(|_| DecodeError::NotUtf8 { what })
    }

    pub(crate) fn str32(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes32(what)?).map_err(|_| DecodeError::NotUtf8 { what })
    }

    /// A count that will drive allocation: refused when even `min_item` bytes per item could
    /// not fit in what is left.
    pub(crate) fn count(
        &mut self,
        n: u64,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError::Invalid { what })?;
        let needed = n
            .checked_mul(min_item.max(1))
            .ok_or(DecodeError::Invalid { what })?;
        if needed > self.buf.len() {
            return Err(DecodeError::Truncated {
                what,
                needed,
                left: self.buf.len(),
            });
        }
        Ok(n)
    }

    pub(crate) fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                what,
                left: self.buf.len(),
            })
        }
    }
}

/// Appends a u16-length-prefixed byte string, truncating anything longer than u16::MAX
/// (callers validate lengths long before this: ids are at most a few hundred bytes).
pub(crate) fn put_bytes16(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(&b[..n]);
}

/// Appends a u32-length-prefixed byte string (bodies and binary values: at most 1 MiB).
pub(crate) fn put_bytes32(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len().min(u32::MAX as usize);
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&b[..n]);
}
