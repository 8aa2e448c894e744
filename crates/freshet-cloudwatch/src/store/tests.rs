// SPDX-License-Identifier: Apache-2.0
//! The store end to end on a temporary platform: durability across a crash, sealing,
//! rollups, retention, tiers, the metric index.

use std::path::Path;
use std::sync::Arc;

use freshet_log::{LogConfig, RecordIn};
use freshet_metrics::{Datapoint, MetricKey, Point, Sketch, Unit};
use freshet_runtime::{Platform, Tasks};
use freshet_types::ManualClock;

use super::tiers::{DAY_MS, HOUR_MS, Tier};
use super::*;

/// A day boundary, so that tests can reason about windows.
const T0: i64 = 1_800_000_000_000 / DAY_MS * DAY_MS;

fn platform(dir: &Path, clock: &ManualClock) -> Platform {
    let config = LogConfig {
        segment_bytes: 16 * 1024,
        ..LogConfig::default()
    };
    Platform::open_local(dir, config, Arc::new(clock.clone()), Tasks::detached()).unwrap()
}

fn open(dir: &Path, clock: &ManualClock) -> (Platform, Arc<MetricStore>) {
    let p = platform(dir, clock);
    let s = MetricStore::open(&p).unwrap();
    (p, s)
}

/// A crash: the store is dropped without maintenance or a clean close.
fn crash(p: Platform, s: Arc<MetricStore>) {
    drop(s);
    p.shutdown();
}

fn key(name: &str) -> Arc<MetricKey> {
    Arc::new(MetricKey::new("App", name, [("Host", "a")]))
}

fn pt(key: &Arc<MetricKey>, ts: i64, res: u32, v: f64) -> Point {
    Point {
        key: key.clone(),
        timestamp_ms: ts,
        resolution_s: res,
        value: Datapoint::one(v, Unit::Count),
    }
}

async fn sums(
    s: &MetricStore,
    k: &MetricKey,
    start: i64,
    end: i64,
    period_s: u32,
) -> Vec<(i64, f64)> {
    s.query(&Query {
        key: k,
        start_ms: start,
        end_ms: end,
        period_s,
        unit: None,
    })
    .await
    .unwrap()
    .into_iter()
    .map(|(t, dp)| (t, dp.stats.sum))
    .collect()
}

/// One point a minute for `minutes` minutes from `from`, value = minute number.
async fn fill(s: &MetricStore, k: &Arc<MetricKey>, from: i64, minutes: i64) {
    let points = (0..minutes)
        .map(|m| pt(k, from + m * 60_000, 60, m as f64))
        .collect();
    s.put(points).await.unwrap();
}

fn expected(from: i64, minutes: i64, start: i64, period_ms: i64) -> Vec<(i64, f64)> {
    let mut out: std::collections::BTreeMap<i64, f64> = Default::default();
    for m in 0..minutes {
        let ts = from + m * 60_000;
        if ts >= start {
            *out.entry(start + (ts - start) / period_ms * period_ms)
                .or_default() += m as f64;
        }
    }
    out.into_iter().collect()
}

#[tokio::test]
async fn every_put_survives_a_crash_and_merges_with_deltas_for_the_same_minute() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 30 * 60_000);
    let (p, s) = open(dir.path(), &clock);
    let k = key("Requests");
    s.put(vec![
        pt(&k, T0 + 60_000, 60, 1.0),
        pt(&k, T0 + 61_000, 1, 7.0),
    ])
    .await
    .unwrap();
    s.ingest(vec![pt(&k, T0 + 60_000, 60, 2.0)]).await.unwrap();
    crash(p, s);

    let (_p, s) = open(dir.path(), &clock);
    assert_eq!(
        sums(&s, &k, T0, T0 + HOUR_MS, 60).await,
        vec![(T0 + 60_000, 10.0)]
    );
    assert_eq!(
        sums(&s, &k, T0, T0 + HOUR_MS, 1).await,
        vec![(T0 + 60_000, 3.0), (T0 + 61_000, 7.0)]
    );
    assert_eq!(s.list(&ListFilter::default(), None, 10), vec![k]);
}

#[tokio::test]
async fn sealed_hours_answer_like_memory_and_are_not_replayed_twice() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (p, s) = open(dir.path(), &clock);
    let k = key("Latency");
    fill(&s, &k, T0, 150).await;
    s.put(vec![pt(&k, T0 + 5_000, 1, 100.0)]).await.unwrap();
    clock.set(T0 + 150 * 60_000);
    let before = sums(&s, &k, T0, T0 + 3 * HOUR_MS, 60).await;
    let fine_before = sums(&s, &k, T0, T0 + 3 * HOUR_MS, 10).await;
    assert_eq!(before.len(), 150);

    let report = s.maintain().await.unwrap();
    assert_eq!(report.sealed_hours, 2);
    assert_eq!(
        lock(&s.state).mem.len(),
        1,
        "only the current hour stays in memory"
    );
    assert_eq!(sums(&s, &k, T0, T0 + 3 * HOUR_MS, 60).await, before);
    assert_eq!(sums(&s, &k, T0, T0 + 3 * HOUR_MS, 10).await, fine_before);

    crash(p, s);
    let (_p, s) = open(dir.path(), &clock);
    assert_eq!(sums(&s, &k, T0, T0 + 3 * HOUR_MS, 60).await, before);
    assert_eq!(sums(&s, &k, T0, T0 + 3 * HOUR_MS, 10).await, fine_before);
}

#[tokio::test]
async fn a_late_point_for_a_sealed_hour_still_lands() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 2 * HOUR_MS);
    let (p, s) = open(dir.path(), &clock);
    let k = key("Late");
    fill(&s, &k, T0, 2).await;
    s.maintain().await.unwrap();
    s.put(vec![pt(&k, T0, 60, 5.0)]).await.unwrap();
    s.maintain().await.unwrap();
    let want = |first: f64| vec![(T0, first), (T0 + 60_000, 1.0)];
    assert_eq!(sums(&s, &k, T0, T0 + HOUR_MS, 60).await, want(5.0));
    let blocks = |s: &MetricStore| lock(&s.state).blocks[&(Tier::Minute, T0)].len();
    assert_eq!(blocks(&s), 2);

    // More late points gather in memory until the next late seal is due.
    s.put(vec![pt(&k, T0, 60, 10.0)]).await.unwrap();
    s.maintain().await.unwrap();
    assert_eq!(blocks(&s), 2);
    assert_eq!(sums(&s, &k, T0, T0 + HOUR_MS, 60).await, want(15.0));
    clock.advance(15 * 60_000);
    s.maintain().await.unwrap();
    assert_eq!(blocks(&s), 3);
    crash(p, s);
    let (_p, s) = open(dir.path(), &clock);
    assert_eq!(sums(&s, &k, T0, T0 + HOUR_MS, 60).await, want(15.0));
}

#[tokio::test]
async fn old_ranges_read_rollups_that_equal_direct_aggregation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 2 * DAY_MS);
    let (p, s) = open(dir.path(), &clock);
    let k = key("Rolled");
    let minutes = 2 * 24 * 60;
    fill(&s, &k, T0, minutes).await;
    clock.set(T0 + 3 * DAY_MS);
    s.maintain().await.unwrap();
    assert_eq!(lock(&s.state).rolled.len(), 2);

    // 20 days on: only 5-minute data answers, and a late point for a rolled day lands too.
    clock.set(T0 + 20 * DAY_MS);
    s.put(vec![pt(&k, T0 + 7 * 60_000, 60, 1000.0)])
        .await
        .unwrap();
    s.maintain().await.unwrap();
    let mut want = expected(T0, minutes, T0, 300_000);
    want[1].1 += 1000.0;
    assert_eq!(sums(&s, &k, T0, T0 + 2 * DAY_MS, 300).await, want);
    assert_eq!(sums(&s, &k, T0, T0 + 2 * DAY_MS, 60).await, vec![]);

    // 100 days on: only hourly data.
    clock.set(T0 + 100 * DAY_MS);
    s.maintain().await.unwrap();
    let mut want = expected(T0, minutes, T0, DAY_MS);
    want[0].1 += 1000.0;
    assert_eq!(sums(&s, &k, T0, T0 + 2 * DAY_MS, 86_400).await, want);
    assert_eq!(sums(&s, &k, T0, T0 + 2 * DAY_MS, 300).await, vec![]);
    crash(p, s);
    let (_p, s) = open(dir.path(), &clock);
    assert_eq!(sums(&s, &k, T0, T0 + 2 * DAY_MS, 86_400).await, want);
}

#[tokio::test]
async fn a_range_spanning_rolled_and_recent_days_reads_both() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 17 * DAY_MS);
    let (_p, s) = open(dir.path(), &clock);
    let k = key("Span");
    // One day 16 days ago (rolled up, minutes expired) and the last hour (in memory).
    fill(&s, &k, T0, 24 * 60).await;
    s.maintain().await.unwrap();
    fill(&s, &k, T0 + 17 * DAY_MS - HOUR_MS, 60).await;
    let got = sums(&s, &k, T0, T0 + 17 * DAY_MS, 3600).await;
    assert_eq!(got.len(), 25);
    assert_eq!(
        got[24],
        (T0 + 17 * DAY_MS - HOUR_MS, (0..60).sum::<i64>() as f64)
    );
}

#[tokio::test]
async fn retention_deletes_old_blocks_and_forgets_silent_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 2 * DAY_MS);
    let (_p, s) = open(dir.path(), &clock);
    let k = key("Old");
    fill(&s, &k, T0, 24 * 60).await;
    s.maintain().await.unwrap();
    let count = |t: Tier| {
        lock(&s.state)
            .blocks
            .keys()
            .filter(|(x, _)| *x == t)
            .count()
    };
    assert_eq!(count(Tier::Minute), 24);
    let start = |t: Tier| s.blocks.log(t).unwrap().start_offset();
    assert_eq!(start(Tier::Minute), 0);

    clock.set(T0 + 18 * DAY_MS);
    let report = s.maintain().await.unwrap();
    assert_eq!(report.expired_windows, 24);
    assert_eq!(count(Tier::Minute), 0);
    assert!(
        start(Tier::Minute) > 0,
        "expired minute segments are deleted"
    );
    assert_eq!(count(Tier::FiveMinute), 1);

    clock.set(T0 + 460 * DAY_MS);
    let report = s.maintain().await.unwrap();
    assert_eq!(report.expired_metrics, 1);
    assert!(lock(&s.state).blocks.is_empty());
    let all = ListFilter {
        active_since_ms: Some(i64::MIN),
        ..ListFilter::default()
    };
    assert!(s.list(&all, None, 10).is_empty());
}

#[tokio::test]
async fn the_wal_is_truncated_once_its_hours_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (_p, s) = open(dir.path(), &clock);
    let k = key("Wal");
    for h in 0..12 {
        fill(&s, &k, T0 + h * HOUR_MS, 60).await;
    }
    clock.set(T0 + 12 * HOUR_MS + 10 * 60_000);
    s.maintain().await.unwrap();
    assert!(s.wal.start_offset() > 0);
    assert!(lock(&s.state).mem.is_empty());
    assert_eq!(sums(&s, &k, T0, T0 + 12 * HOUR_MS, 3600).await.len(), 12);
}

#[tokio::test]
async fn an_undecodable_wal_record_is_skipped_on_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (p, s) = open(dir.path(), &clock);
    let k = key("Corrupt");
    s.put(vec![pt(&k, T0, 60, 1.0)]).await.unwrap();
    let junk = [RecordIn {
        partition_key: "",
        data: &[codec::VERSION, codec::KIND_WAL, 5, 1, 2],
    }];
    s.wal.append(&junk, T0).await.unwrap();
    s.put(vec![pt(&k, T0, 60, 2.0)]).await.unwrap();
    crash(p, s);
    let (_p, s) = open(dir.path(), &clock);
    assert_eq!(sums(&s, &k, T0, T0 + 60_000, 60).await, vec![(T0, 3.0)]);
}

#[tokio::test]
async fn new_metrics_past_the_limit_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let p = platform(dir.path(), &clock);
    let config = StoreConfig {
        max_metrics: 2,
        ..StoreConfig::default()
    };
    let s = MetricStore::open_with(&p, config).unwrap();
    s.put(vec![pt(&key("a"), T0, 60, 1.0), pt(&key("b"), T0, 60, 1.0)])
        .await
        .unwrap();
    let err = s.put(vec![pt(&key("c"), T0, 60, 1.0)]).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooManyMetrics { limit: 2 }),
        "{err}"
    );
    s.put(vec![pt(&key("a"), T0, 60, 1.0)]).await.unwrap();
}

#[tokio::test]
async fn list_shows_metrics_active_in_the_last_two_weeks_in_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 20 * DAY_MS);
    let (_p, s) = open(dir.path(), &clock);
    s.put(vec![pt(&key("b"), T0 + 19 * DAY_MS, 60, 1.0)])
        .await
        .unwrap();
    s.put(vec![pt(&key("a"), T0 + 19 * DAY_MS, 60, 1.0)])
        .await
        .unwrap();
    s.put(vec![pt(&key("old"), T0, 60, 1.0)]).await.unwrap();
    let listed = s.list(&ListFilter::default(), None, 10);
    assert_eq!(listed, vec![key("a"), key("b")]);
    assert_eq!(
        s.list(&ListFilter::default(), Some(&key("a")), 10),
        vec![key("b")]
    );
    let since = ListFilter {
        active_since_ms: Some(T0),
        ..ListFilter::default()
    };
    assert_eq!(s.list(&since, None, 10).len(), 3);
}

#[tokio::test]
async fn sketches_survive_sealing_and_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (_p, s) = open(dir.path(), &clock);
    let k = key("Dist");
    let mut points = Vec::new();
    for m in 0..(24 * 60) {
        let mut sk = Sketch::new();
        sk.add(f64::from(m % 100) + 1.0, 1.0);
        points.push(Point {
            key: k.clone(),
            timestamp_ms: T0 + i64::from(m) * 60_000,
            resolution_s: 60,
            value: Datapoint {
                stats: freshet_metrics::StatSet::one(f64::from(m % 100) + 1.0),
                sketch: Some(sk),
                unit: Unit::Milliseconds,
            },
        });
    }
    s.put(points).await.unwrap();
    clock.set(T0 + 30 * DAY_MS);
    s.maintain().await.unwrap();
    let got = s
        .query(&Query {
            key: &k,
            start_ms: T0,
            end_ms: T0 + DAY_MS,
            period_s: 86_400,
            unit: Some(Unit::Milliseconds),
        })
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let sketch = got[0].1.sketch.as_ref().unwrap();
    assert_eq!(sketch.count(), 1440.0);
    let p50 = sketch.quantile(0.5).unwrap();
    // Values 1..=40 occur 15 times, 41..=100 14 times: rank 719 is 49.
    assert!((p50 - 49.0).abs() <= 0.49, "{p50}");
}

#[tokio::test]
async fn latest_gives_each_metric_its_newest_merged_minute() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (_p, s) = open(dir.path(), &clock);
    let k = key("Now");
    s.ingest(vec![pt(&k, T0, 60, 1.0), pt(&k, T0 + 60_000, 60, 2.0)])
        .await
        .unwrap();
    s.ingest(vec![pt(&k, T0 + 60_000, 60, 3.0)]).await.unwrap();
    let latest = s.latest();
    assert_eq!(latest.len(), 1);
    assert_eq!((latest[0].1, latest[0].2.stats.sum), (T0 + 60_000, 5.0));
    // While the second minute is open, the complete one is the first.
    let complete = s.latest_complete(T0 + 90_000);
    assert_eq!((complete[0].1, complete[0].2.stats.sum), (T0, 1.0));
    let complete = s.latest_complete(T0 + 120_000);
    assert_eq!((complete[0].1, complete[0].2.stats.sum), (T0 + 60_000, 5.0));
}

#[tokio::test]
async fn a_torn_wal_tail_loses_only_the_torn_record_on_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (p, s) = open(dir.path(), &clock);
    let k = key("Torn");
    s.put(vec![pt(&k, T0, 60, 1.0)]).await.unwrap();
    s.put(vec![pt(&k, T0, 60, 2.0)]).await.unwrap();
    crash(p, s);
    let wal_dir = dir.path().join("logs/cloudwatch/metrics/wal");
    let mut segments: Vec<_> = std::fs::read_dir(&wal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    let last = segments.last().unwrap();
    let len = std::fs::metadata(last).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(last).unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);

    let (_p, s) = open(dir.path(), &clock);
    assert_eq!(sums(&s, &k, T0, T0 + 60_000, 60).await, vec![(T0, 1.0)]);
}

/// A step of the model-based test.
#[derive(Debug, Clone)]
enum Op {
    /// Put integer values at these minutes back from now (high resolution when `hi`).
    Put {
        back_min: Vec<u8>,
        value: u8,
        hi: bool,
    },
    /// Move the clock forward this many minutes.
    Advance(u16),
    Maintain,
    Crash,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (proptest::collection::vec(0u8..180, 1..8), 1u8..50, any::<bool>())
            .prop_map(|(back_min, value, hi)| Op::Put { back_min, value, hi }),
        2 => (1u16..400).prop_map(Op::Advance),
        2 => Just(Op::Maintain),
        1 => Just(Op::Crash),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    #[test]
    fn the_store_answers_like_a_plain_list_of_points_through_seals_and_crashes(
        ops in proptest::collection::vec(op(), 1..25),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let clock = ManualClock::new(T0 + DAY_MS);
            let k = key("Model");
            let (mut p, mut s) = open(dir.path(), &clock);
            let mut model: Vec<(i64, f64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Put { back_min, value, hi } => {
                        let now = clock.now_ms();
                        let points: Vec<Point> = back_min
                            .iter()
                            .map(|b| {
                                let ts = now - i64::from(*b) * 60_000 - 1_500;
                                pt(&k, ts, if hi { 1 } else { 60 }, f64::from(value))
                            })
                            .collect();
                        s.put(points).await.unwrap();
                        for b in back_min {
                            let ts = now - i64::from(b) * 60_000 - 1_500;
                            model.push((ts, f64::from(value)));
                        }
                    }
                    Op::Advance(m) => clock.advance(i64::from(m) * 60_000),
                    Op::Maintain => {
                        s.maintain().await.unwrap();
                    }
                    Op::Crash => {
                        crash(p, s);
                        (p, s) = open(dir.path(), &clock);
                    }
                }
            }
            // Minute data over the whole run (it stays within 15 days), then, 20 days on,
            // the 5-minute rollups of the same points.
            let end = clock.now_ms() + HOUR_MS;
            let minutes = hourly(&s, &k, end).await;
            assert_eq!(&minutes, &expect(&model));
            clock.advance(20 * DAY_MS);
            s.maintain().await.unwrap();
            crash(p, s);
            let (_p, s) = open(dir.path(), &clock);
            assert_eq!(hourly(&s, &k, end).await, minutes);
        });
    }
}

type Stats = (f64, f64, f64, f64);

async fn hourly(s: &MetricStore, k: &MetricKey, end: i64) -> Vec<(i64, Stats)> {
    let q = Query {
        key: k,
        start_ms: T0,
        end_ms: end,
        period_s: 3600,
        unit: None,
    };
    s.query(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, dp)| {
            (
                t,
                (dp.stats.count, dp.stats.sum, dp.stats.min, dp.stats.max),
            )
        })
        .collect()
}

fn expect(model: &[(i64, f64)]) -> Vec<(i64, Stats)> {
    let start = T0;
    let mut want: std::collections::BTreeMap<i64, Stats> = Default::default();
    for (ts, v) in model {
        let b = start + (ts - start).div_euclid(HOUR_MS) * HOUR_MS;
        let e = want.entry(b).or_insert((0.0, 0.0, f64::MAX, f64::MIN));
        e.0 += 1.0;
        e.1 += v;
        e.2 = e.2.min(*v);
        e.3 = e.3.max(*v);
    }
    want.into_iter().collect()
}

#[tokio::test]
async fn queries_with_extreme_or_reversed_ranges_answer_nothing_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (_p, s) = open(dir.path(), &clock);
    let k = key("Edge");
    s.put(vec![pt(&k, T0, 60, 1.0)]).await.unwrap();
    for (start, end, period) in [
        (T0 + HOUR_MS, T0, 60),
        (i64::MIN, i64::MAX, 60),
        (T0 - 20 * DAY_MS, i64::MAX, 300),
        (T0 - 100 * DAY_MS, i64::MAX, 3600),
        (T0, i64::MAX, 1),
        (T0 - 10, T0 + 10, u32::MAX),
    ] {
        let got = s
            .query(&Query {
                key: &k,
                start_ms: start,
                end_ms: end,
                period_s: period,
                unit: None,
            })
            .await
            .unwrap();
        assert!(got.len() <= 1, "{start} {end} {period}: {got:?}");
    }
    assert_eq!(sums(&s, &k, T0, i64::MAX, 60).await, vec![(T0, 1.0)]);
}
