// SPDX-License-Identifier: Apache-2.0
//! The queue's memory: every queued event's schedule, the index of waiting events by due
//! time, and what runs. Pure bookkeeping under one short mutex (never held across an await).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::async_invoke::Pending;

/// What memory knows of the queue.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) pending: BTreeMap<u64, Pending>,
    /// Pending events not running, by (due, offset).
    pub(crate) ready: BTreeSet<(i64, u64)>,
    /// Accepts whose append is in flight.
    pub(crate) reserved: usize,
    /// Running events per function.
    pub(crate) running: HashMap<String, u32>,
    pub(crate) running_total: usize,
    /// Changes since the last checkpoint, and when the first of them happened.
    pub(crate) changes: u64,
    pub(crate) first_change_ms: Option<i64>,
}

impl State {
    pub(crate) fn insert(&mut self, p: Pending) {
        self.ready.insert((p.due_ms, p.offset));
        self.pending.insert(p.offset, p);
    }

    pub(crate) fn changed(&mut self, now_ms: i64) {
        self.changes += 1;
        self.first_change_ms.get_or_insert(now_ms);
    }

    /// Marks `offset` not running any more (if it was).
    pub(crate) fn stop_running(&mut self, offset: u64) {
        let Some(p) = self.pending.get_mut(&offset) else {
            return;
        };
        if !p.running {
            return;
        }
        p.running = false;
        self.running_total = self.running_total.saturating_sub(1);
        if let Some(n) = self.running.get_mut(&p.function) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.running.remove(&p.function);
            }
        }
    }

    pub(crate) fn remove(&mut self, offset: u64) -> Option<Pending> {
        self.stop_running(offset);
        let p = self.pending.remove(&offset)?;
        self.ready.remove(&(p.due_ms, p.offset));
        Some(p)
    }
}

pub(crate) fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
