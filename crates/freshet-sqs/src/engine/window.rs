// SPDX-License-Identifier: Apache-2.0
//! The in-memory window: compact per-message state of the loaded live messages, the state of
//! known-but-unloaded messages (from a checkpoint or replayed journal entries), and FIFO
//! group interning.
//!
//! Invariants:
//! * `slots` holds only live loaded messages, all at offsets `< loaded_end`; at most
//!   `cap` of them (loading stops at the cap).
//! * Below `reload_end`, an unloaded offset is live only if `patches` has it as `Live`;
//!   at or above it, an unloaded offset is live (pristine) unless `patches` says `Dead`.
//! * Below `purge_floor` nothing is live.
//! * A group's refcount is the number of loaded slots in it.

use std::collections::{BTreeMap, HashMap};

use crate::checkpoint::MessageState;
use crate::message::MessageMeta;

/// `Slot::group` of a message without a (FIFO) group.
pub(crate) const NO_GROUP: u32 = u32::MAX;
/// `Slot` time fields without a value.
pub(crate) const NONE_MS: i64 = i64::MIN;

/// One loaded live message: 48 bytes (plus the map key), never the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// SentTimestamp: retention counts from it.
    pub sent_ms: i64,
    /// When it becomes receivable: sent + delay while pristine, else the visibility deadline.
    pub avail_ms: i64,
    /// ApproximateFirstReceiveTimestamp or [`NONE_MS`].
    pub first_receive_ms: i64,
    /// Latest receive or [`NONE_MS`].
    pub last_receive_ms: i64,
    /// Receives so far (the current receipt nonce).
    pub receive_count: u32,
    /// FIFO group index or [`NO_GROUP`].
    pub group: u32,
    /// Hidden while the caller moves it to another queue.
    pub moving: bool,
}

impl Slot {
    pub(crate) fn state(&self, offset: u64) -> MessageState {
        let some = |v: i64| (v != NONE_MS).then_some(v);
        MessageState {
            offset,
            receive_count: self.receive_count,
            visible_until_ms: (self.receive_count > 0).then_some(self.avail_ms),
            first_receive_ms: some(self.first_receive_ms),
            last_receive_ms: some(self.last_receive_ms),
        }
    }
}

/// What is known about an unloaded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Patch {
    /// Live with this state.
    Live(MessageState),
    /// Gone.
    Dead,
}

#[derive(Debug, Default)]
struct Groups {
    index: HashMap<Box<str>, u32>,
    names: Vec<(Box<str>, u32)>,
    free: Vec<u32>,
}

impl Groups {
    fn acquire(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            if let Some(e) = self.names.get_mut(i as usize) {
                e.1 = e.1.saturating_add(1);
            }
            return i;
        }
        let entry = (Box::<str>::from(name), 1);
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(e) = self.names.get_mut(i as usize) {
                    *e = entry;
                }
                i
            }
            None => {
                self.names.push(entry);
                u32::try_from(self.names.len() - 1).unwrap_or(NO_GROUP)
            }
        };
        self.index.insert(Box::from(name), i);
        i
    }

    fn release(&mut self, i: u32) {
        if let Some(e) = self.names.get_mut(i as usize)
            && e.1 > 0
        {
            e.1 -= 1;
            if e.1 == 0 {
                self.index.remove(&e.0);
                e.0 = Box::from("");
                self.free.push(i);
            }
        }
    }
}

/// The window.
#[derive(Debug, Default)]
pub(crate) struct Window {
    pub slots: BTreeMap<u64, Slot>,
    pub patches: BTreeMap<u64, Patch>,
    pub loaded_end: u64,
    pub reload_end: u64,
    pub purge_floor: u64,
    groups: Groups,
}

impl Window {
    /// Loads the record at `offset` (the next one at or after `loaded_end`) if it is live.
    /// `fifo` decides whether its group is interned.
    pub fn load(&mut self, offset: u64, meta: &MessageMeta, fifo: bool) {
        if offset < self.loaded_end {
            return;
        }
        self.loaded_end = offset.saturating_add(1);
        if offset < self.purge_floor {
            self.patches.remove(&offset);
            return;
        }
        let patch = self.patches.remove(&offset);
        let state = match (offset < self.reload_end, patch) {
            (_, Some(Patch::Dead)) | (true, None) => return,
            (_, Some(Patch::Live(s))) => Some(s),
            (false, None) => None,
        };
        let pristine_avail = meta
            .sent_ms
            .saturating_add(i64::from(meta.delay_seconds).saturating_mul(1000));
        let group = match (&meta.group_id, fifo) {
            (Some(g), true) => self.groups.acquire(g),
            _ => NO_GROUP,
        };
        let mut slot = Slot {
            sent_ms: meta.sent_ms,
            avail_ms: pristine_avail,
            first_receive_ms: meta.first_receive_ms.unwrap_or(NONE_MS),
            last_receive_ms: NONE_MS,
            receive_count: 0,
            group,
            moving: false,
        };
        if let Some(s) = state {
            slot.receive_count = s.receive_count;
            if let Some(v) = s.visible_until_ms {
                slot.avail_ms = v;
            }
            if let Some(f) = s.first_receive_ms {
                slot.first_receive_ms = f;
            }
            slot.last_receive_ms = s.last_receive_ms.unwrap_or(NONE_MS);
        }
        self.slots.insert(offset, slot);
    }

    /// Removes a loaded message (deleted, expired, moved, purged) or marks an unloaded one
    /// gone.
    pub fn remove(&mut self, offset: u64) {
        if let Some(slot) = self.slots.remove(&offset) {
            if slot.group != NO_GROUP {
                self.groups.release(slot.group);
            }
        } else if offset >= self.loaded_end && offset >= self.purge_floor {
            if offset < self.reload_end {
                self.patches.remove(&offset);
            } else {
                self.patches.insert(offset, Patch::Dead);
            }
        }
    }

    /// Everything below `below` is gone.
    pub fn purge_below(&mut self, below: u64) {
        let keep = self.slots.split_off(&below);
        let gone = std::mem::replace(&mut self.slots, keep);
        for slot in gone.values() {
            if slot.group != NO_GROUP {
                self.groups.release(slot.group);
            }
        }
        self.patches = self.patches.split_off(&below);
        self.purge_floor = self.purge_floor.max(below);
        self.loaded_end = self.loaded_end.max(below);
    }

    /// The state of a live message, loaded or not; `None` if gone or unknown.
    pub fn state(&self, offset: u64) -> Option<MessageState> {
        if let Some(s) = self.slots.get(&offset) {
            return Some(s.state(offset));
        }
        match self.patches.get(&offset) {
            Some(Patch::Live(s)) => Some(*s),
            _ => None,
        }
    }

    /// Updates the receive state of a message, loaded or not (replay may reach messages the
    /// window has not loaded again yet).
    pub fn set_state(&mut self, state: MessageState) {
        let offset = state.offset;
        if let Some(slot) = self.slots.get_mut(&offset) {
            slot.receive_count = state.receive_count;
            if let Some(v) = state.visible_until_ms {
                slot.avail_ms = v;
            }
            if let Some(f) = state.first_receive_ms {
                slot.first_receive_ms = f;
            }
            if let Some(l) = state.last_receive_ms {
                slot.last_receive_ms = l;
            }
            return;
        }
        let unloaded_live = offset >= self.loaded_end
            && offset >= self.purge_floor
            && match self.patches.get(&offset) {
                Some(Patch::Dead) => false,
                Some(Patch::Live(_)) => true,
                None => offset >= self.reload_end,
            };
        if unloaded_live {
            self.patches.insert(offset, Patch::Live(state));
        }
    }

    /// Interned group count (for tests of boundedness).
    pub fn group_count(&self) -> usize {
        self.groups.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_at_most_48_bytes() {
        assert!(std::mem::size_of::<Slot>() <= 48);
    }

    fn meta(group: Option<&str>) -> MessageMeta {
        MessageMeta {
            message_id: "m".into(),
            sent_ms: 0,
            delay_seconds: 0,
            group_id: group.map(str::to_owned),
            dedup_id: None,
            sequence_number: None,
            first_receive_ms: None,
        }
    }

    #[test]
    fn groups_are_interned_while_loaded_and_released_after() {
        let mut w = Window::default();
        w.load(0, &meta(Some("a")), true);
        w.load(1, &meta(Some("a")), true);
        w.load(2, &meta(Some("b")), true);
        assert_eq!(w.group_count(), 2);
        w.remove(0);
        w.remove(2);
        assert_eq!(w.group_count(), 1);
        w.remove(1);
        assert_eq!(w.group_count(), 0);
        w.load(3, &meta(Some("c")), true);
        assert_eq!(w.slots[&3].group, 0, "a freed index is reused");
    }

    #[test]
    fn below_the_reload_end_only_listed_messages_come_back() {
        let mut w = Window {
            reload_end: 3,
            ..Window::default()
        };
        let s = MessageState {
            offset: 1,
            receive_count: 2,
            visible_until_ms: Some(99),
            first_receive_ms: Some(5),
            last_receive_ms: Some(6),
        };
        w.patches.insert(1, Patch::Live(s));
        for o in 0..4 {
            w.load(o, &meta(None), false);
        }
        assert_eq!(w.slots.keys().copied().collect::<Vec<_>>(), [1, 3]);
        assert_eq!(w.slots[&1].state(1), s);
    }

    #[test]
    fn a_purge_drops_everything_below_it() {
        let mut w = Window::default();
        for o in 0..5 {
            w.load(o, &meta(Some("g")), true);
        }
        w.purge_below(3);
        assert_eq!(w.slots.keys().copied().collect::<Vec<_>>(), [3, 4]);
        w.load(2, &meta(None), false);
        assert_eq!(w.slots.len(), 2);
    }
}
