//! Sync lanes: the long-lived helper threads that run a group-commit round's shard syncs
//! alongside the syncer thread.
//!
//! Concurrent fdatasyncs of different files share journal commits on ext4 and similar file
//! systems, so a round with several dirty shards costs about one fsync latency when their syncs
//! overlap. The lanes provide that overlap without creating threads per round (at thousands of
//! rounds a second, per-round thread spawns cost a tenth of the machine's CPU): they are spawned
//! the first time a round needs them, up to [`MAX_PARALLEL_SYNCS`]` - 1`, and then live until
//! [`Lanes::stop`] (store shutdown) joins them.
//!
//! A round's shards are shared out by a claim counter: the calling thread and every lane woken
//! for the round each take the next unclaimed shard until none is left, so a slow fsync never
//! leaves the other participants idle. Each lane waits on its own job slot, so a round wakes
//! exactly the lanes it uses.
//!
//! Invariants: one round at a time uses the lanes (the pool's mutex is held for the whole
//! round); a round returns only after every lane it woke is done with it; a round with a single
//! shard never touches the lanes; after `stop`, no lane thread is running and none is spawned
//! again (rounds then run on the calling thread alone).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::shard::ShardInner;

/// Most shard syncs a round runs at once (the calling thread plus the lanes).
pub(crate) const MAX_PARALLEL_SYNCS: usize = 8;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One round's shards and the claim counter that shares them out.
struct Round {
    shards: Vec<Arc<ShardInner>>,
    next: AtomicUsize,
    /// Lanes woken for this round that are not done with it yet.
    running: Mutex<usize>,
    done: Condvar,
}

impl Round {
    /// Syncs unclaimed shards until none is left.
    fn work(&self) {
        while let Some(shard) = self.shards.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            // A failure poisons its shard and is logged there; the other shards carry on.
            let _ = shard.sync_round();
        }
    }

    fn lane_done(&self) {
        let mut running = lock(&self.running);
        *running -= 1;
        if *running == 0 {
            self.done.notify_one();
        }
    }

    fn wait_for_lanes(&self) {
        let mut running = lock(&self.running);
        while *running > 0 {
            running = self.done.wait(running).unwrap_or_else(|e| e.into_inner());
        }
    }
}

enum Job {
    Idle,
    Run(Arc<Round>),
    Stop,
}

/// A lane's job slot: the round to help with, handed over by the round's caller.
struct Slot {
    job: Mutex<Job>,
    wake: Condvar,
}

impl Slot {
    fn hand(&self, job: Job) {
        *lock(&self.job) = job;
        self.wake.notify_one();
    }

    /// Waits for the next round; `None` means stop.
    fn next_round(&self) -> Option<Arc<Round>> {
        let mut job = lock(&self.job);
        loop {
            match std::mem::replace(&mut *job, Job::Idle) {
                Job::Idle => job = self.wake.wait(job).unwrap_or_else(|e| e.into_inner()),
                Job::Run(round) => return Some(round),
                Job::Stop => return None,
            }
        }
    }
}

struct Lane {
    slot: Arc<Slot>,
    thread: JoinHandle<()>,
}

#[derive(Default)]
struct Pool {
    lanes: Vec<Lane>,
    stopped: bool,
}

impl Pool {
    /// Spawns lanes until there are `want` (fewer if a spawn fails: the calling thread then
    /// does more of the round itself).
    fn grow_to(&mut self, want: usize) {
        while !self.stopped && self.lanes.len() < want {
            let slot = Arc::new(Slot {
                job: Mutex::new(Job::Idle),
                wake: Condvar::new(),
            });
            let s = slot.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("freshet-sync-{}", self.lanes.len() + 1))
                .spawn(move || lane_main(&s));
            match spawned {
                Ok(thread) => self.lanes.push(Lane { slot, thread }),
                Err(e) => {
                    tracing::warn!(error = %e, "Could not start a sync lane thread; syncing with fewer lanes.");
                    return;
                }
            }
        }
    }
}

fn lane_main(slot: &Slot) {
    while let Some(round) = slot.next_round() {
        // `sync_round` does not panic by design; if it ever did, the lane must still report
        // back, or the round's caller would wait forever.
        if catch_unwind(AssertUnwindSafe(|| round.work())).is_err() {
            tracing::error!("A sync lane panicked during a round.");
        }
        round.lane_done();
    }
}

/// The sync lanes of one syncer.
#[derive(Default)]
pub(crate) struct Lanes {
    pool: Mutex<Pool>,
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("lanes", &self.count())
            .finish()
    }
}

impl Lanes {
    /// Runs one sync round for every shard of `shards`, up to [`MAX_PARALLEL_SYNCS`] at a time,
    /// and returns when all of them are done.
    pub(crate) fn sync_all(&self, shards: Vec<Arc<ShardInner>>) {
        if shards.len() <= 1 {
            for shard in &shards {
                let _ = shard.sync_round();
            }
            return;
        }
        let helpers = shards.len().min(MAX_PARALLEL_SYNCS) - 1;
        let round = Arc::new(Round {
            shards,
            next: AtomicUsize::new(0),
            running: Mutex::new(0),
            done: Condvar::new(),
        });
        let mut pool = lock(&self.pool);
        pool.grow_to(helpers);
        let woken = &pool.lanes[..helpers.min(pool.lanes.len())];
        // Counted before any lane can finish.
        *lock(&round.running) = woken.len();
        for lane in woken {
            lane.slot.hand(Job::Run(round.clone()));
        }
        round.work();
        round.wait_for_lanes();
    }

    /// Lane threads currently alive.
    pub(crate) fn count(&self) -> usize {
        lock(&self.pool).lanes.len()
    }

    /// Stops and joins every lane; later rounds run on their calling thread. Idempotent.
    pub(crate) fn stop(&self) {
        let lanes = {
            // Waits for a round in progress: it holds the pool.
            let mut pool = lock(&self.pool);
            pool.stopped = true;
            std::mem::take(&mut pool.lanes)
        };
        for lane in &lanes {
            lane.slot.hand(Job::Stop);
        }
        for lane in lanes {
            if lane.thread.join().is_err() {
                tracing::error!("A sync lane thread panicked.");
            }
        }
    }
}

impl Drop for Lanes {
    /// Tells lanes still alive (no `stop` ran) to exit. It does not join them: the last
    /// reference to the syncer may be dropped on a lane thread itself.
    fn drop(&mut self) {
        let pool = self.pool.get_mut().unwrap_or_else(|e| e.into_inner());
        for lane in &pool.lanes {
            lane.slot.hand(Job::Stop);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::{Lanes, MAX_PARALLEL_SYNCS};
    use crate::config::{Durability, LogConfig};
    use crate::format::RecordIn;
    use crate::shard::{ShardInner, ShardLog};
    use crate::store::LogStore;

    /// `n` shards in `None` mode, whose appends write at once and leave fsyncing to whoever
    /// runs a round: here, the test.
    fn shards(dir: &std::path::Path, n: usize) -> (LogStore, Vec<Arc<ShardLog>>) {
        let store = LogStore::open(LogConfig {
            durability: Durability::None,
            ..LogConfig::default()
        })
        .unwrap();
        let shards = (0..n)
            .map(|i| store.open_shard(&dir.join(format!("s{i}"))).unwrap())
            .collect();
        (store, shards)
    }

    fn dirty_all(rt: &tokio::runtime::Runtime, shards: &[Arc<ShardLog>]) -> Vec<Arc<ShardInner>> {
        let rec = [RecordIn {
            partition_key: "k",
            data: b"v",
        }];
        for s in shards {
            rt.block_on(s.append(&rec, 1)).unwrap();
            assert!(!s.inner().is_synced());
        }
        shards.iter().map(|s| s.inner().clone()).collect()
    }

    #[test]
    fn lanes_are_spawned_once_and_reused_by_every_round() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (store, shards) = shards(dir.path(), 4);
        let lanes = Lanes::default();
        for _ in 0..200 {
            lanes.sync_all(dirty_all(&rt, &shards));
            // A round of 4 shards uses the calling thread and 3 lanes, always the same 3.
            assert_eq!(lanes.count(), 3);
            assert!(shards.iter().all(|s| s.inner().is_synced()));
        }
        lanes.stop();
        assert_eq!(lanes.count(), 0);
        // After stop, rounds still complete, on the calling thread, and spawn nothing.
        lanes.sync_all(dirty_all(&rt, &shards));
        assert!(shards.iter().all(|s| s.inner().is_synced()));
        assert_eq!(lanes.count(), 0);
        store.shutdown();
    }

    #[test]
    fn a_round_of_one_shard_never_touches_the_lanes() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (store, shards) = shards(dir.path(), 1);
        let lanes = Lanes::default();
        for _ in 0..20 {
            lanes.sync_all(dirty_all(&rt, &shards));
            assert!(shards[0].inner().is_synced());
        }
        assert_eq!(lanes.count(), 0);
        store.shutdown();
    }

    #[test]
    fn lanes_never_exceed_the_parallelism_limit() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (store, shards) = shards(dir.path(), MAX_PARALLEL_SYNCS + 3);
        let lanes = Lanes::default();
        for _ in 0..20 {
            lanes.sync_all(dirty_all(&rt, &shards));
            assert_eq!(lanes.count(), MAX_PARALLEL_SYNCS - 1);
            assert!(shards.iter().all(|s| s.inner().is_synced()));
        }
        // A smaller round wakes fewer lanes but keeps the pool.
        lanes.sync_all(dirty_all(&rt, &shards[..2]));
        assert_eq!(lanes.count(), MAX_PARALLEL_SYNCS - 1);
        lanes.stop();
        store.shutdown();
    }

    #[test]
    fn store_shutdown_joins_the_lanes() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (store, shards) = shards(dir.path(), 3);
        store.syncer().run_round_for_tests(dirty_all(&rt, &shards));
        assert_eq!(store.syncer().lane_count(), 2);
        store.shutdown();
        assert_eq!(store.syncer().lane_count(), 0);
    }
}
