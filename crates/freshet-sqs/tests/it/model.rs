// SPDX-License-Identifier: Apache-2.0
//! Model-based tests: random operation sequences against a Vec-based reference model of a
//! standard queue (exact results and counts), and invariant checks for FIFO queues.

use std::collections::{BTreeMap, HashMap};

use freshet_sqs::engine::{EngineConfig, SendRequest};
use proptest::prelude::*;

use super::harness::{Sim, attrs};

#[derive(Debug, Clone)]
pub enum Op {
    Send { delay: u8 },
    Receive { max: u8, vis: Option<u8> },
    Delete { pick: usize },
    ChangeVisibility { pick: usize, t: u8 },
    Purge,
    Advance { ms: u32 },
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3).prop_map(|d| Op::Send { delay: if d == 2 { 3 } else { 0 } }),
        4 => (1u8..=10, proptest::option::of(0u8..5)).prop_map(|(max, vis)| Op::Receive { max, vis }),
        3 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        2 => (any::<usize>(), 0u8..5).prop_map(|(pick, t)| Op::ChangeVisibility { pick, t }),
        1 => Just(Op::Purge),
        3 => (0u32..8_000).prop_map(|ms| Op::Advance { ms }),
    ]
}

#[derive(Debug, Clone)]
struct ModelMsg {
    sent: i64,
    avail: i64,
    count: u32,
    last_receive: i64,
    deleted: bool,
}

/// The reference: a Vec of messages, scanned in order.
#[derive(Debug, Default)]
struct Model {
    msgs: Vec<ModelMsg>,
    retention_ms: i64,
    vis_default_ms: i64,
    last_purge: Option<i64>,
}

impl Model {
    fn live(&self, i: usize, now: i64) -> bool {
        let m = &self.msgs[i];
        !m.deleted && m.sent + self.retention_ms > now
    }

    fn receive(&mut self, max: usize, vis_ms: Option<i64>, now: i64) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        for i in 0..self.msgs.len() {
            if out.len() >= max {
                break;
            }
            if self.live(i, now) && self.msgs[i].avail <= now {
                let m = &mut self.msgs[i];
                m.count += 1;
                m.avail = now + vis_ms.unwrap_or(self.vis_default_ms);
                m.last_receive = now;
                out.push((i as u64, m.count));
            }
        }
        out
    }

    fn delete(&mut self, (o, c): (u64, u32), now: i64) {
        let i = o as usize;
        if self.live(i, now) && self.msgs[i].count == c {
            self.msgs[i].deleted = true;
        }
    }

    fn change_visibility(&mut self, (o, c): (u64, u32), t: i64, now: i64) -> Result<(), ()> {
        let i = o as usize;
        if !self.live(i, now) || self.msgs[i].count != c {
            return Err(());
        }
        if self.msgs[i].avail <= now {
            return Ok(());
        }
        let until = now + t * 1000;
        if until - self.msgs[i].last_receive > 43_200_000 {
            return Err(());
        }
        self.msgs[i].avail = until;
        Ok(())
    }

    fn purge(&mut self, now: i64) -> Result<(), ()> {
        if self.last_purge.is_some_and(|p| now < p + 60_000) {
            return Err(());
        }
        for m in &mut self.msgs {
            m.deleted = true;
        }
        self.last_purge = Some(now);
        Ok(())
    }

    fn counts(&self, now: i64) -> (u64, u64, u64) {
        let (mut v, mut n, mut d) = (0, 0, 0);
        for i in 0..self.msgs.len() {
            if !self.live(i, now) {
                continue;
            }
            let m = &self.msgs[i];
            if m.avail > now && m.count > 0 {
                n += 1;
            } else if m.avail > now {
                d += 1;
            } else {
                v += 1;
            }
        }
        (v, n, d)
    }
}

/// Runs `ops` on a standard queue and the model, checking every answer; returns the sim.
pub fn run_standard(ops: &[Op], config: EngineConfig, checkpoint_at: Option<usize>) -> Sim {
    let mut q = Sim::new(
        "model",
        attrs(&[("MessageRetentionPeriod", "60"), ("VisibilityTimeout", "2")]),
        config,
    );
    let mut model = Model {
        retention_ms: 60_000,
        vis_default_ms: 2_000,
        ..Model::default()
    };
    let mut handles: Vec<(String, (u64, u32))> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        if checkpoint_at == Some(step) {
            let c = q.checkpoint();
            q.restart(Some(&c));
        }
        let now = q.now;
        match op {
            Op::Send { delay } => {
                q.send_req(SendRequest {
                    body: format!("m{}", q.messages.len()),
                    delay_seconds: Some(i64::from(*delay)),
                    ..Default::default()
                })
                .expect("send");
                model.msgs.push(ModelMsg {
                    sent: now,
                    avail: now + i64::from(*delay) * 1000,
                    count: 0,
                    last_receive: 0,
                    deleted: false,
                });
            }
            Op::Receive { max, vis } => {
                let got = q.receive(usize::from(*max), vis.map(u32::from));
                let expected =
                    model.receive(usize::from(*max), vis.map(|v| i64::from(v) * 1000), now);
                let actual: Vec<(u64, u32)> = got
                    .iter()
                    .map(|(d, _)| (d.offset, d.receive_count))
                    .collect();
                assert_eq!(actual, expected, "receive at step {step}");
                for (d, m) in got {
                    assert_eq!(m.body, format!("m{}", d.offset));
                    handles.push((d.receipt_handle, (d.offset, d.receive_count)));
                }
            }
            Op::Delete { pick } => {
                if !handles.is_empty() {
                    let (h, key) = handles[pick % handles.len()].clone();
                    q.delete(&h).expect("delete succeeds on a standard queue");
                    model.delete(key, now);
                }
            }
            Op::ChangeVisibility { pick, t } => {
                if !handles.is_empty() {
                    let (h, key) = handles[pick % handles.len()].clone();
                    let actual = q.change_visibility(&h, i64::from(*t)).is_ok();
                    let expected = model.change_visibility(key, i64::from(*t), now).is_ok();
                    assert_eq!(actual, expected, "change visibility at step {step}");
                }
            }
            Op::Purge => {
                assert_eq!(
                    q.purge().is_ok(),
                    model.purge(now).is_ok(),
                    "purge at step {step}"
                );
            }
            Op::Advance { ms } => q.advance(i64::from(*ms)),
        }
        let c = q.engine.counts(q.now);
        let window_fits = q.engine.load_request().is_none();
        if window_fits {
            assert_eq!(
                (c.visible, c.not_visible, c.delayed),
                model.counts(q.now),
                "counts at step {step}"
            );
        }
    }
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_standard_queue_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        run_standard(&ops, EngineConfig::default(), None);
    }

    #[test]
    fn loading_in_small_batches_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        // The model knows no window cap; the cap itself is checked in window_cap.
        run_standard(&ops, EngineConfig { window_cap: 1_000, inflight_limit: 120_000, load_batch: 2 }, None);
    }

    #[test]
    fn fifo_queues_keep_group_order_and_one_batch_in_flight_per_group(
        ops in proptest::collection::vec((0u8..6, 0u8..3, any::<usize>(), 0u32..4_000), 1..100)
    ) {
        check_fifo(&ops);
    }
}

#[derive(Debug, Default, Clone)]
struct Track {
    group: u8,
    deleted: bool,
    receive_id: Option<usize>,
    visible_until: i64,
}

fn check_fifo(ops: &[(u8, u8, usize, u32)]) {
    let mut q = Sim::fifo("f.fifo", &[("VisibilityTimeout", "2")]);
    let mut track: BTreeMap<u64, Track> = BTreeMap::new();
    let mut handles: Vec<(String, u64)> = Vec::new();
    let mut next_dedup = 0u64;
    for (receive_id, &(kind, group, pick, ms)) in ops.iter().enumerate() {
        match kind {
            0 | 1 => {
                next_dedup += 1;
                let offset = q.messages.len() as u64;
                q.send_fifo("b", &format!("g{group}"), &next_dedup.to_string())
                    .expect("send");
                track.insert(
                    offset,
                    Track {
                        group,
                        ..Track::default()
                    },
                );
            }
            2 | 3 => {
                let now = q.now;
                let got = q.receive(usize::from(group) * 3 + 1, None);
                let mut per_group: HashMap<u8, Vec<u64>> = HashMap::new();
                for (d, _) in &got {
                    let t = &track[&d.offset];
                    assert!(!t.deleted, "a deleted message came back");
                    per_group.entry(t.group).or_default().push(d.offset);
                    handles.push((d.receipt_handle.clone(), d.offset));
                }
                for (g, offsets) in per_group {
                    // In order, starting at the group's oldest live message, contiguous.
                    let live: Vec<u64> = track
                        .iter()
                        .filter(|(_, t)| t.group == g && !t.deleted)
                        .map(|(o, _)| *o)
                        .collect();
                    assert_eq!(&live[..offsets.len()], &offsets[..], "group order");
                    // No other receive of this group is still in flight.
                    for (o, t) in &track {
                        if t.group == g && !t.deleted && !offsets.contains(o) {
                            assert!(
                                t.visible_until <= now || t.receive_id.is_none(),
                                "two batches of one group in flight"
                            );
                        }
                    }
                    for o in offsets {
                        let t = track.get_mut(&o).expect("tracked");
                        t.receive_id = Some(receive_id);
                        t.visible_until = now + 2_000;
                    }
                }
            }
            4 => {
                if !handles.is_empty() {
                    let (h, o) = handles[pick % handles.len()].clone();
                    if q.delete(&h).is_ok() && track[&o].visible_until > q.now {
                        // Only the latest handle inside its timeout deletes.
                        if let Some(t) = track.get_mut(&o) {
                            t.deleted = true;
                        }
                    }
                }
            }
            _ => q.advance(i64::from(ms)),
        }
        // Sync deletions the engine made (a stale handle deletes nothing; the counts tell).
        let c = q.engine.counts(q.now);
        let live = track.values().filter(|t| !t.deleted).count() as u64;
        assert_eq!(c.visible + c.not_visible + c.delayed, live);
    }
    // Everything not deleted is eventually delivered.
    q.advance(10_000);
    let mut seen = 0;
    for _ in 0..1_000 {
        let got = q.receive(10, Some(30));
        if got.is_empty() {
            break;
        }
        for (d, _) in got {
            q.delete(&d.receipt_handle).expect("delete");
            seen += 1;
        }
    }
    assert_eq!(seen, track.values().filter(|t| !t.deleted).count());
}
