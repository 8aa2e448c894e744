//! The group-commit syncer: one dedicated std thread per [`crate::LogStore`] that fsyncs dirty
//! shards on behalf of every appender.
//!
//! In `Fsync` mode an appender writes its batch, enqueues its shard and waits on a oneshot; the
//! syncer drains the whole queue at once, so every append that arrived while the previous round
//! was fsyncing shares the next round's single fdatasync per file (group commit across all
//! shards). In `Interval` mode the queue is drained once per interval; in `None` mode shards are
//! only enqueued when a segment roll needs sealing. Invariant: a shard is in the queue at most
//! once (its `enqueued` flag), and a write that happens after a round captured its mark always
//! re-enqueues the shard.
//!
//! A round's shards are fsynced concurrently (up to [`crate::lanes::MAX_PARALLEL_SYNCS`] at
//! once, on the syncer thread and the long-lived sync lanes of [`crate::lanes`]): on a journaling
//! file system concurrent fdatasyncs of different files share journal commits, so a round costs
//! about one fsync latency instead of one per dirty shard, which is what puts wait for. Each
//! shard publishes its own durability as soon as its own fsync returns.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::Durability;
use crate::lanes::Lanes;
use crate::shard::ShardInner;

#[derive(Debug, Default)]
struct Queue {
    shards: Vec<Arc<ShardInner>>,
    stop: bool,
}

/// State shared between appenders and the syncer thread.
#[derive(Debug)]
pub(crate) struct Syncer {
    queue: Mutex<Queue>,
    wake: Condvar,
    interval: Option<Duration>,
    lanes: Lanes,
}

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Syncer {
    pub(crate) fn new(durability: Durability) -> Syncer {
        let interval = match durability {
            Durability::Interval(d) => Some(d),
            Durability::Fsync | Durability::None => None,
        };
        Syncer {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            interval,
            lanes: Lanes::default(),
        }
    }

    /// Puts `shard` in the next round; `wake` asks for the round to start now (Fsync mode,
    /// rolls), otherwise it waits for the next interval tick.
    ///
    /// Only the append that queues the shard wakes the thread (a `notify` is a futex syscall
    /// even when nobody waits, and in Fsync mode every append asks): a shard already queued was
    /// pushed before its queuer's wake, and the thread only sleeps on an empty queue, so that
    /// wake covers everyone behind it. In Interval mode the thread sleeps with shards queued
    /// (until the tick), so a roll's wake is always sent.
    pub(crate) fn enqueue(&self, shard: &Arc<ShardInner>, wake: bool) {
        let queued_now = !shard.enqueued.swap(true, Ordering::SeqCst);
        if queued_now {
            lock(&self.queue).shards.push(shard.clone());
        }
        if wake && (queued_now || self.interval.is_some()) {
            self.wake.notify_one();
        }
    }

    /// Asks the thread to exit after its current round.
    pub(crate) fn stop(&self) {
        lock(&self.queue).stop = true;
        self.wake.notify_all();
    }

    /// Runs a final round for whatever is still queued, on the calling thread (shutdown).
    pub(crate) fn flush_queue(&self) {
        let rest = std::mem::take(&mut lock(&self.queue).shards);
        self.lanes.sync_all(rest);
    }

    /// Stops and joins the sync lanes (shutdown, after the last round).
    pub(crate) fn stop_lanes(&self) {
        self.lanes.stop();
    }

    /// Sync lane threads alive, for tests.
    #[cfg(test)]
    pub(crate) fn lane_count(&self) -> usize {
        self.lanes.count()
    }

    /// Runs one round for `shards` on the calling thread and the lanes, for tests.
    #[cfg(test)]
    pub(crate) fn run_round_for_tests(&self, shards: Vec<Arc<ShardInner>>) {
        self.lanes.sync_all(shards);
    }

    /// The thread's body.
    pub(crate) fn run(&self) {
        let mut next_tick = self.interval.map(|d| Instant::now() + d);
        loop {
            let round = {
                let mut q = lock(&self.queue);
                loop {
                    if q.stop {
                        return;
                    }
                    match (self.interval, next_tick) {
                        (Some(d), Some(tick)) => {
                            let now = Instant::now();
                            if now >= tick {
                                next_tick = Some(now + d);
                                break std::mem::take(&mut q.shards);
                            }
                            q = self
                                .wake
                                .wait_timeout(q, tick - now)
                                .unwrap_or_else(|e| e.into_inner())
                                .0;
                        }
                        _ => {
                            if !q.shards.is_empty() {
                                break std::mem::take(&mut q.shards);
                            }
                            q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                }
            };
            self.lanes.sync_all(round);
        }
    }
}
