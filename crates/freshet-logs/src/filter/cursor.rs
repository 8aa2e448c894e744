// SPDX-License-Identifier: Apache-2.0
//! A character cursor over a pattern, shared by the three pattern parsers.
//!
//! Invariant: `pos` is always on a UTF-8 character boundary of `src`, because it only moves
//! by whole characters or by the length of a matched `&str`, so every slice taken is valid.

use super::error::{MAX_NESTING, PatternError};

pub(crate) struct Cursor<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> Cursor<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            depth: 0,
        }
    }

    pub(crate) fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    pub(crate) fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'s str {
        let start = self.pos;
        while let Some(ch) = self.peek() {
            if !keep(ch) {
                break;
            }
            self.pos += ch.len_utf8();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// Byte offset, for slicing with [`Cursor::slice`].
    pub(crate) fn byte_pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn slice(&self, from: usize, to: usize) -> &'s str {
        self.src.get(from..to).unwrap_or("")
    }

    /// 1-based character number of the cursor, for error messages.
    pub(crate) fn position(&self) -> usize {
        self.src.get(..self.pos).map_or(0, |s| s.chars().count()) + 1
    }

    pub(crate) fn expected(&self, expected: &'static str) -> PatternError {
        PatternError::Expected {
            at: self.position(),
            expected,
        }
    }

    pub(crate) fn invalid(&self, problem: &'static str) -> PatternError {
        PatternError::Invalid {
            at: self.position(),
            problem,
        }
    }

    /// Enters one level of parentheses; refuses past [`MAX_NESTING`] so hostile input cannot
    /// recurse the parser off the stack.
    pub(crate) fn enter(&mut self) -> Result<(), PatternError> {
        if self.depth >= MAX_NESTING {
            return Err(PatternError::TooDeep {
                at: self.position(),
            });
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Errors unless only whitespace is left.
    pub(crate) fn expect_end(&mut self) -> Result<(), PatternError> {
        self.skip_ws();
        if self.at_end() {
            Ok(())
        } else {
            Err(self.expected("the end of the pattern"))
        }
    }
}
