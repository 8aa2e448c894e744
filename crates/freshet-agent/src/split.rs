// SPDX-License-Identifier: Apache-2.0
//! The record splitter: bytes of a file in, records out. Sans-IO.
//!
//! Invariants:
//! - Only complete lines (ending in `\n`) become records; a partial last line waits for more
//!   bytes, however long it takes.
//! - Every byte fed is covered, in order, by exactly one [`Piece`] once it is emitted: a
//!   record, or a skip (header lines, the footer line). So the `end` of the last piece is the
//!   offset a checkpoint may store: nothing before it is unaccounted for.
//! - A record is at most `max_record` bytes: a longer one is cut and ends with the
//!   terminator. A line is never held in memory beyond `max_record + 1` bytes, so a file
//!   without newlines cannot exhaust memory.
//! - With `multi_line_start`, a record is a matching line plus the non-matching lines that
//!   follow; it is complete when the next matching line arrives, or when the reader decides
//!   the file is idle ([`Splitter::flush_pending`]). Lines before the first matching line
//!   are records of their own, never dropped.
//! - `skip_header_lines` applies from offset 0 only (a resumed file has had its header).

use std::sync::Arc;

use regex::bytes::Regex;

/// How a flow cuts files into records.
#[derive(Debug, Clone)]
pub struct SplitRules {
    /// Start of a multi-line record.
    pub multi_line_start: Option<Regex>,
    /// A line that ends the file.
    pub file_footer: Option<Regex>,
    /// Header lines skipped at offset 0.
    pub skip_header_lines: usize,
    /// Largest record, terminator included.
    pub max_record: usize,
    /// Appended to a cut record.
    pub terminator: Vec<u8>,
}

/// A piece of the file, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A record: the bytes to send (lines with their `\n`), and the offset after it.
    Record {
        /// Offset of its first byte.
        start: u64,
        /// Offset after its last byte.
        end: u64,
        /// The record.
        data: Vec<u8>,
    },
    /// Bytes consumed without a record (header, footer), up to `end`.
    Skip {
        /// Offset after the skipped bytes.
        end: u64,
    },
}

impl Piece {
    /// The offset after the piece.
    pub fn end(&self) -> u64 {
        match self {
            Piece::Record { end, .. } | Piece::Skip { end } => *end,
        }
    }
}

#[derive(Debug)]
struct Pending {
    start: u64,
    end: u64,
    data: Vec<u8>,
}

/// The splitter of one file.
#[derive(Debug)]
pub struct Splitter {
    rules: Arc<SplitRules>,
    /// Offset of the next byte fed.
    pos: u64,
    /// The current line so far (at most `max_record + 1` bytes of it).
    line: Vec<u8>,
    line_start: u64,
    /// Header lines still to skip.
    header_left: usize,
    pending: Option<Pending>,
    footer_hit: bool,
}

impl Splitter {
    /// A splitter for a file read from `offset`.
    pub fn new(rules: Arc<SplitRules>, offset: u64) -> Self {
        let header_left = if offset == 0 {
            rules.skip_header_lines
        } else {
            0
        };
        Self {
            rules,
            pos: offset,
            line: Vec::new(),
            line_start: offset,
            header_left,
            pending: None,
            footer_hit: false,
        }
    }

    /// Offset of the next byte to feed.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Whether the footer was seen (the rest of the file is ignored).
    pub fn finished(&self) -> bool {
        self.footer_hit
    }

    /// Whether a multi-line record is waiting for its end.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Feeds the next bytes of the file; complete pieces are appended to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<Piece>) {
        let keep = self.rules.max_record + 1;
        while !bytes.is_empty() {
            match memchr_newline(bytes) {
                Some(i) => {
                    let room = keep.saturating_sub(self.line.len());
                    self.line.extend_from_slice(&bytes[..=i][..room.min(i + 1)]);
                    self.pos += (i + 1) as u64;
                    bytes = &bytes[i + 1..];
                    let line = std::mem::take(&mut self.line);
                    let start = self.line_start;
                    self.line_start = self.pos;
                    self.on_line(line, start, out);
                }
                None => {
                    let room = keep.saturating_sub(self.line.len());
                    self.line.extend_from_slice(&bytes[..room.min(bytes.len())]);
                    self.pos += bytes.len() as u64;
                    bytes = &[];
                }
            }
        }
    }

    /// Emits the multi-line record waiting for its end (the file went idle).
    pub fn flush_pending(&mut self, out: &mut Vec<Piece>) {
        if let Some(p) = self.pending.take() {
            out.push(Piece::Record {
                start: p.start,
                end: p.end,
                data: self.cut(p.data),
            });
        }
    }

    fn on_line(&mut self, line: Vec<u8>, start: u64, out: &mut Vec<Piece>) {
        let end = self.pos;
        if self.footer_hit {
            return;
        }
        if self.header_left > 0 {
            self.header_left -= 1;
            out.push(Piece::Skip { end });
            return;
        }
        if self
            .rules
            .file_footer
            .as_ref()
            .is_some_and(|r| r.is_match(&line))
        {
            self.flush_pending(out);
            self.footer_hit = true;
            out.push(Piece::Skip { end });
            return;
        }
        let Some(start_re) = &self.rules.multi_line_start else {
            let data = self.cut(line);
            out.push(Piece::Record { start, end, data });
            return;
        };
        if start_re.is_match(&line) {
            self.flush_pending(out);
            self.pending = Some(Pending {
                start,
                end,
                data: line,
            });
            return;
        }
        let keep = self.rules.max_record + 1;
        match &mut self.pending {
            Some(p) => {
                let room = keep.saturating_sub(p.data.len());
                p.data.extend_from_slice(&line[..room.min(line.len())]);
                p.end = end;
            }
            None => {
                let data = self.cut(line);
                out.push(Piece::Record { start, end, data });
            }
        }
    }

    /// Cuts a record longer than the limit and ends it with the terminator.
    fn cut(&self, mut data: Vec<u8>) -> Vec<u8> {
        let max = self.rules.max_record;
        if data.len() > max {
            let term = &self.rules.terminator;
            data.truncate(max.saturating_sub(term.len()));
            data.extend_from_slice(term);
        }
        data
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules() -> SplitRules {
        SplitRules {
            multi_line_start: None,
            file_footer: None,
            skip_header_lines: 0,
            max_record: 1024,
            terminator: b"\n".to_vec(),
        }
    }

    fn split(rules: SplitRules, chunks: &[&[u8]]) -> Vec<Piece> {
        let mut s = Splitter::new(Arc::new(rules), 0);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
        }
        out
    }

    fn records(pieces: &[Piece]) -> Vec<String> {
        pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Record { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
                Piece::Skip { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_partial_last_line_waits_for_its_newline() {
        let mut s = Splitter::new(Arc::new(rules()), 0);
        let mut out = Vec::new();
        s.feed(b"one\ntw", &mut out);
        assert_eq!(records(&out), ["one\n"]);
        assert_eq!(out.last().map(Piece::end), Some(4));
        s.feed(b"o\n", &mut out);
        assert_eq!(records(&out), ["one\n", "two\n"]);
        assert_eq!(out.last().map(Piece::end), Some(8));
    }

    #[test]
    fn header_lines_are_skipped_only_from_offset_zero() {
        let r = SplitRules {
            skip_header_lines: 2,
            ..rules()
        };
        let out = split(r.clone(), &[b"h1\nh2\na\nb\n"]);
        assert_eq!(records(&out), ["a\n", "b\n"]);
        assert_eq!(out[1], Piece::Skip { end: 6 });
        let mut resumed = Splitter::new(Arc::new(r), 6);
        let mut out = Vec::new();
        resumed.feed(b"a\n", &mut out);
        assert_eq!(records(&out), ["a\n"]);
    }

    #[test]
    fn multi_line_records_end_at_the_next_start_line_or_when_flushed() {
        let r = SplitRules {
            multi_line_start: Regex::new(r"^\d").ok(),
            ..rules()
        };
        let mut s = Splitter::new(Arc::new(r), 0);
        let mut out = Vec::new();
        s.feed(b"orphan\n1 boom\n  at a\n  at b\n2 ok\n", &mut out);
        assert_eq!(records(&out), ["orphan\n", "1 boom\n  at a\n  at b\n"]);
        assert_eq!(out.last().map(Piece::end), Some(28));
        assert!(s.has_pending());
        s.flush_pending(&mut out);
        assert_eq!(records(&out).last().map(String::as_str), Some("2 ok\n"));
        assert_eq!(out.last().map(Piece::end), Some(33));
    }

    #[test]
    fn long_records_are_cut_and_end_with_the_terminator() {
        let r = SplitRules {
            max_record: 8,
            terminator: b"~\n".to_vec(),
            ..rules()
        };
        let out = split(r, &[b"0123456789abc", b"def\nok\n"]);
        assert_eq!(records(&out), ["012345~\n", "ok\n"]);
        assert_eq!(out[0].end(), 17);
    }

    #[test]
    fn the_footer_line_ends_the_file() {
        let r = SplitRules {
            file_footer: Regex::new("END").ok(),
            ..rules()
        };
        let out = split(r, &[b"a\nEND\nb\n"]);
        assert_eq!(records(&out), ["a\n"]);
        assert_eq!(out.last(), Some(&Piece::Skip { end: 6 }));
    }

    proptest! {
        #[test]
        fn pieces_cover_every_complete_line_in_order_however_the_input_is_chunked(
            lines in proptest::collection::vec("[a-z]{0,20}", 0..30),
            tail in "[a-z]{0,5}",
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let complete = text.len() as u64;
            text.push_str(&tail);
            let bytes = text.as_bytes();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut s = Splitter::new(Arc::new(rules()), 0);
            let mut out = Vec::new();
            let mut at = 0;
            for p in points.into_iter().chain([bytes.len()]) {
                s.feed(&bytes[at..p], &mut out);
                at = p;
            }
            let expected: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
            prop_assert_eq!(records(&out), expected);
            prop_assert_eq!(out.last().map_or(0, Piece::end), complete);
            let mut prev = 0;
            for p in &out {
                if let Piece::Record { start, .. } = p {
                    prop_assert_eq!(*start, prev);
                }
                prev = p.end();
            }
        }

        #[test]
        fn no_record_exceeds_the_limit(
            text in proptest::collection::vec(any::<u8>(), 0..500),
            max in 2usize..40,
        ) {
            let r = SplitRules { max_record: max, ..rules() };
            let out = split(r, &[&text]);
            for p in &out {
                if let Piece::Record { data, .. } = p {
                    prop_assert!(data.len() <= max);
                    prop_assert_eq!(data.last(), Some(&b'\n'));
                }
            }
        }
    }
}
