// SPDX-License-Identifier: Apache-2.0
//! The `aws-chunked` content encoding, decoded without checking chunk signatures.
//!
//! s3s decodes aws-chunked bodies only while verifying their signatures, which needs the
//! client's secret key. Freshet accepts any credentials by default, so in that mode the
//! service strips the signature (see `crate::service`) and decodes the framing here:
//!
//! ```text
//! <hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n   (repeated)
//! 0[;chunk-signature=<64 hex>]\r\n
//! [<name>:<value>\r\n]*                                      (trailers, e.g. x-amz-checksum-crc32)
//! \r\n
//! ```
//!
//! [`Decoder`] is a pure state machine (property-tested against an encoder); [`decode`]
//! adapts it to a byte stream and hands the trailers over once the body has ended.

use std::sync::{Arc, Mutex};

use bytes::{Buf as _, Bytes, BytesMut};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Why an aws-chunked body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    /// The framing is malformed.
    #[error("The aws-chunked request body is malformed: {0}.")]
    Malformed(&'static str),
    /// The body ended before its last chunk.
    #[error("The aws-chunked request body ended before its final chunk.")]
    Incomplete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk header line.
    Header,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the final chunk: trailer lines until an empty one.
    Trailers,
    /// Finished.
    Done,
}

/// The aws-chunked state machine.
#[derive(Debug)]
pub(crate) struct Decoder {
    state: State,
    /// Trailers seen, names lower-cased.
    pub trailers: Vec<(String, String)>,
}

fn take_line(buf: &mut BytesMut) -> Result<Option<Bytes>, ChunkedError> {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(i) => {
            let line = buf.split_to(i).freeze();
            buf.advance(2);
            Ok(Some(line))
        }
        None if buf.len() > MAX_LINE => Err(ChunkedError::Malformed("a line is too long")),
        None => Ok(None),
    }
}

impl Decoder {
    pub(crate) fn new() -> Decoder {
        Decoder {
            state: State::Header,
            trailers: Vec::new(),
        }
    }

    /// Consumes what it can of `buf`, pushing decoded data to `out`.
    pub(crate) fn feed(
        &mut self,
        buf: &mut BytesMut,
        out: &mut Vec<Bytes>,
    ) -> Result<(), ChunkedError> {
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(());
                    };
                    let size_hex = line.split(|b| *b == b';').next().unwrap_or(&[]);
                    let size = std::str::from_utf8(size_hex)
                        .ok()
                        .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                        .ok_or(ChunkedError::Malformed("a chunk size is not hexadecimal"))?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if buf.is_empty() {
                        return Ok(());
                    }
                    let n = (buf.len() as u64).min(left) as usize;
                    out.push(buf.split_to(n).freeze());
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(());
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ChunkedError::Malformed(
                            "chunk data is longer than its size",
                        ));
                    }
                    buf.advance(2);
                    self.state = State::Header;
                }
                State::Trailers => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(());
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        continue;
                    }
                    let text = std::str::from_utf8(&line)
                        .map_err(|_| ChunkedError::Malformed("a trailer is not text"))?;
                    let (name, value) = text
                        .split_once(':')
                        .ok_or(ChunkedError::Malformed("a trailer has no colon"))?;
                    self.trailers
                        .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
                State::Done => {
                    buf.clear();
                    return Ok(());
                }
            }
        }
    }

    /// Checks the body ended where the encoding says it may. A missing blank line after the
    /// trailers is accepted.
    pub(crate) fn finish(&mut self, buf: &mut BytesMut) -> Result<(), ChunkedError> {
        if self.state == State::Trailers && !buf.is_empty() {
            // A last trailer line without its CRLF.
            buf.extend_from_slice(b"\r\n\r\n");
            let mut sink = Vec::new();
            self.feed(buf, &mut sink)?;
        }
        match self.state {
            State::Done | State::Trailers => Ok(()),
            _ => Err(ChunkedError::Incomplete),
        }
    }
}

/// Where decoded trailers are left for the consumer of the body.
pub(crate) type TrailerSlot = Arc<Mutex<Option<Vec<(String, String)>>>>;

/// Decodes an aws-chunked `body`; its trailers land in `slot` when the body ends.
pub(crate) fn decode<S, E>(body: S, slot: TrailerSlot) -> BoxStream<'static, Result<Bytes, E>>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: From<ChunkedError> + Send + 'static,
{
    struct St<S> {
        body: std::pin::Pin<Box<S>>,
        dec: Decoder,
        buf: BytesMut,
        ready: std::collections::VecDeque<Bytes>,
        slot: TrailerSlot,
        ended: bool,
    }
    let st = St {
        body: Box::pin(body),
        dec: Decoder::new(),
        buf: BytesMut::new(),
        ready: Default::default(),
        slot,
        ended: false,
    };
    stream::unfold(st, |mut st| async move {
        loop {
            if let Some(b) = st.ready.pop_front() {
                return Some((Ok(b), st));
            }
            if st.ended {
                return None;
            }
            match st.body.next().await {
                Some(Ok(piece)) => {
                    st.buf.extend_from_slice(&piece);
                    let mut out = Vec::new();
                    if let Err(e) = st.dec.feed(&mut st.buf, &mut out) {
                        st.ended = true;
                        return Some((Err(E::from(e)), st));
                    }
                    st.ready.extend(out);
                }
                Some(Err(e)) => {
                    st.ended = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.ended = true;
                    if let Err(e) = st.dec.finish(&mut st.buf) {
                        return Some((Err(E::from(e)), st));
                    }
                    if let Ok(mut s) = st.slot.lock() {
                        *s = Some(std::mem::take(&mut st.dec.trailers));
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn encode(chunks: &[Vec<u8>], signed: bool, trailers: &[(&str, &str)]) -> Vec<u8> {
        let sig = if signed {
            format!(";chunk-signature={}", "a".repeat(64))
        } else {
            String::new()
        };
        let mut out = Vec::new();
        for c in chunks.iter().filter(|c| !c.is_empty()) {
            out.extend_from_slice(format!("{:x}{sig}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("0{sig}\r\n").as_bytes());
        for (k, v) in trailers {
            out.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    type Decoded = (Vec<u8>, Vec<(String, String)>);

    fn run(wire: &[u8], split: usize) -> Result<Decoded, ChunkedError> {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in wire.chunks(split.max(1)) {
            buf.extend_from_slice(piece);
            dec.feed(&mut buf, &mut out)?;
        }
        dec.finish(&mut buf)?;
        Ok((out.concat(), dec.trailers))
    }

    #[test]
    fn boto3_unsigned_bodies_with_a_crc32_trailer_decode() {
        let wire = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let (data, trailers) = run(wire, 3).expect("decodes");
        assert_eq!(data, b"hello");
        assert_eq!(
            trailers,
            vec![("x-amz-checksum-crc32".to_owned(), "NhCmhg==".to_owned())]
        );
    }

    #[test]
    fn truncated_and_malformed_bodies_are_errors() {
        assert_eq!(run(b"5\r\nhel", 100), Err(ChunkedError::Incomplete));
        assert!(matches!(
            run(b"zz\r\n", 100),
            Err(ChunkedError::Malformed(_))
        ));
        assert!(matches!(
            run(b"2\r\nhello\r\n0\r\n\r\n", 100),
            Err(ChunkedError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn decoding_inverts_encoding(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..6),
            signed in any::<bool>(),
            with_trailer in any::<bool>(),
            split in 1usize..20,
        ) {
            let trailers: &[(&str, &str)] = if with_trailer { &[("x-amz-checksum-crc32c", "abc=")] } else { &[] };
            let wire = encode(&chunks, signed, trailers);
            let (data, got) = run(&wire, split).expect("decodes");
            prop_assert_eq!(data, chunks.concat());
            prop_assert_eq!(got.len(), trailers.len());
        }

        #[test]
        fn decoding_never_panics(wire in proptest::collection::vec(any::<u8>(), 0..200), split in 1usize..20) {
            let _ = run(&wire, split);
        }
    }
}
