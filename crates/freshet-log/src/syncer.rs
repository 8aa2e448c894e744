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
//! A round's shards are fsynced concurrently (up to [`MAX_PARALLEL_SYNCS`] at once): on a
//! journaling file system concurrent fdatasyncs of different files share journal commits, so a
//! round costs about one fsync latency instead of one per dirty shard, which is what puts wait
//! for. Each shard publishes its own durability as soon as its own fsync returns.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::Durability;

/// Most fsyncs a round runs at once (the syncer thread plus scoped helpers).
const MAX_PARALLEL_SYNCS: usize = 8;
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
        }
    }

    /// Puts `shard` in the next round; `wake` asks for the round to start now (Fsync mode,
    /// rolls), otherwise it waits for the next interval tick.
    pub(crate) fn enqueue(&self, shard: &Arc<ShardInner>, wake: bool) {
        if !shard.enqueued.swap(true, Ordering::SeqCst) {
            lock(&self.queue).shards.push(shard.clone());
        }
        if wake {
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
        sync_all(&rest);
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
            sync_all(&round);
        }
    }
}

/// Runs one sync round for every shard of `round`, up to [`MAX_PARALLEL_SYNCS`] at a time.
/// Failures poison their shard and are logged there; the other shards carry on.
fn sync_all(round: &[Arc<ShardInner>]) {
    if round.len() <= 1 {
        for shard in round {
            let _ = shard.sync_round();
        }
        return;
    }
    let lanes = round.len().min(MAX_PARALLEL_SYNCS);
    std::thread::scope(|scope| {
        // Lane i takes shards i, i + lanes, ...; lane 0 runs on this thread.
        for lane in 1..lanes {
            let spawned = std::thread::Builder::new()
                .name("freshet-sync".into())
                .spawn_scoped(scope, move || sync_lane(round, lane, lanes));
            if spawned.is_err() {
                // No thread to be had: this thread does the lane after its own.
                sync_lane(round, lane, lanes);
            }
        }
        sync_lane(round, 0, lanes);
    });
}

fn sync_lane(round: &[Arc<ShardInner>], lane: usize, lanes: usize) {
    for shard in round.iter().skip(lane).step_by(lanes) {
        let _ = shard.sync_round();
    }
}
