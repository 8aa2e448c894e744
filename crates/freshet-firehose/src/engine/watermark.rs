// SPDX-License-Identifier: Apache-2.0
//! Which source position may be committed, when records of one source batch end up in many
//! buffers (partitions, error output, backup) that are delivered at different times.
//!
//! Each source batch gets an id in read order. A batch is **open** while some of its records
//! are still being processed (for example waiting in the Lambda buffer), and **holds** one
//! count per output record staged in a buffer that was not yet delivered. The committable
//! position is that of the last batch of the longest prefix of batches that are closed and
//! hold nothing: every record up to it is safe, and nothing after it is assumed to be.
//!
//! Pure: no I/O, no clock. Invariants (property-tested): a batch's position is returned only
//! once every record of it and of every earlier batch was released; positions come out in
//! batch order; each batch is returned at most once.

use std::collections::VecDeque;

/// A batch's id: its index in read order.
pub type BatchId = u64;

#[derive(Debug)]
struct Entry<P> {
    position: P,
    bytes: u64,
    open: bool,
    held: u64,
}

/// The open and held batches of one pipeline, oldest first.
#[derive(Debug)]
pub struct Watermark<P> {
    /// Id of `entries[0]`.
    first: BatchId,
    entries: VecDeque<Entry<P>>,
}

impl<P> Default for Watermark<P> {
    fn default() -> Self {
        Watermark {
            first: 0,
            entries: VecDeque::new(),
        }
    }
}

impl<P> Watermark<P> {
    /// Registers a new batch (open) whose position is `position`; returns its id.
    pub fn begin(&mut self, position: P, bytes: u64) -> BatchId {
        self.entries.push_back(Entry {
            position,
            bytes,
            open: true,
            held: 0,
        });
        self.first + self.entries.len() as u64 - 1
    }

    fn entry(&mut self, id: BatchId) -> Option<&mut Entry<P>> {
        let i = usize::try_from(id.checked_sub(self.first)?).ok()?;
        self.entries.get_mut(i)
    }

    /// One more output record of batch `id` sits in an undelivered buffer.
    pub fn hold(&mut self, id: BatchId) {
        if let Some(e) = self.entry(id) {
            e.held += 1;
        }
    }

    /// `n` output records of batch `id` were delivered.
    pub fn release(&mut self, id: BatchId, n: u64) {
        if let Some(e) = self.entry(id) {
            e.held = e.held.saturating_sub(n);
        }
    }

    /// Every record of batch `id` went through processing (into buffers, or dropped).
    pub fn close(&mut self, id: BatchId) {
        if let Some(e) = self.entry(id) {
            e.open = false;
        }
    }

    /// Batches registered and not yet committed.
    pub fn pending(&self) -> usize {
        self.entries.len()
    }

    /// Removes the leading batches that are closed and hold nothing; returns the position of
    /// the last of them and the bytes of all of them, or `None` if the first batch is not
    /// done.
    pub fn take_committable(&mut self) -> Option<(P, u64)> {
        let mut out: Option<(P, u64)> = None;
        while self.entries.front().is_some_and(|e| !e.open && e.held == 0) {
            let Some(e) = self.entries.pop_front() else {
                break;
            };
            self.first += 1;
            let bytes = out.as_ref().map_or(0, |(_, b)| *b) + e.bytes;
            out = Some((e.position, bytes));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_batch_commits_only_after_it_closed_and_released_everything_it_held() {
        let mut w = Watermark::default();
        let a = w.begin("a", 10);
        w.hold(a);
        w.hold(a);
        assert_eq!(w.take_committable(), None);
        w.close(a);
        assert_eq!(w.take_committable(), None);
        w.release(a, 1);
        assert_eq!(w.take_committable(), None);
        w.release(a, 1);
        assert_eq!(w.take_committable(), Some(("a", 10)));
        assert_eq!(w.take_committable(), None);
    }

    #[test]
    fn a_later_batch_waits_for_an_earlier_one_then_both_commit_at_once() {
        let mut w = Watermark::default();
        let a = w.begin(1, 5);
        let b = w.begin(2, 7);
        w.hold(a);
        w.close(a);
        w.close(b);
        assert_eq!(w.take_committable(), None);
        w.release(a, 1);
        assert_eq!(w.take_committable(), Some((2, 12)));
        assert_eq!(w.pending(), 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Begin,
        Hold(usize),
        Release(usize),
        Close(usize),
        Take,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Begin),
            (0usize..8).prop_map(Op::Hold),
            (0usize..8).prop_map(Op::Release),
            (0usize..8).prop_map(Op::Close),
            Just(Op::Take),
        ]
    }

    proptest! {
        /// Against a model that tracks, per batch, open/held, commits are in order, never
        /// early, and every batch is committed once when everything is released.
        #[test]
        fn commits_are_in_order_and_never_early(ops in proptest::collection::vec(op(), 0..200)) {
            let mut w = Watermark::default();
            // Model: (open, held, committed) by id.
            let mut model: Vec<(bool, u64, bool)> = Vec::new();
            let mut last: Option<u64> = None;
            for o in ops {
                match o {
                    Op::Begin => {
                        let id = w.begin(model.len() as u64, 1);
                        prop_assert_eq!(id, model.len() as u64);
                        model.push((true, 0, false));
                    }
                    Op::Hold(i) => if let Some(m) = model.get_mut(i) && m.0 && !m.2 {
                        // Only open batches get new records.
                        w.hold(i as u64);
                        m.1 += 1;
                    },
                    Op::Release(i) => if let Some(m) = model.get_mut(i) && m.1 > 0 {
                        w.release(i as u64, 1);
                        m.1 -= 1;
                    },
                    Op::Close(i) => if let Some(m) = model.get_mut(i) {
                        w.close(i as u64);
                        m.0 = false;
                    },
                    Op::Take => if let Some((p, _)) = w.take_committable() {
                        let from = last.map_or(0, |l| l + 1);
                        prop_assert!(p >= from);
                        for id in from..=p {
                            let m = &mut model[id as usize];
                            prop_assert!(!m.0 && m.1 == 0 && !m.2, "batch {} committed early", id);
                            m.2 = true;
                        }
                        last = Some(p);
                    },
                }
            }
            for (i, m) in model.iter_mut().enumerate() {
                w.close(i as u64);
                w.release(i as u64, m.1);
            }
            let end = w.take_committable().map(|(p, _)| p).or(last);
            prop_assert_eq!(end, model.len().checked_sub(1).map(|n| n as u64));
        }
    }
}
