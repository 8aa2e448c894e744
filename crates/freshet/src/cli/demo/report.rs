// SPDX-License-Identifier: Apache-2.0
//! What a demo run shows: a progress bar on a terminal, or a plain line every few seconds
//! when standard output is not one (so CI logs stay readable), and the final summary.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::sink::Outcome;

/// How often the plain progress line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// How often the bar is redrawn.
const BAR_EVERY: Duration = Duration::from_millis(200);

/// Counters the progress display reads while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    /// Demo records stored (or written).
    pub records: AtomicU64,
    /// Demo records given up.
    pub failed: AtomicU64,
    /// Entries resent.
    pub retried: AtomicU64,
}

impl Live {
    /// Counts a finished request's outcome.
    pub fn add(&self, o: &Outcome) {
        self.records.fetch_add(o.records, Ordering::Relaxed);
        self.failed.fetch_add(o.failed, Ordering::Relaxed);
        self.retried.fetch_add(o.retried, Ordering::Relaxed);
    }
}

/// The running progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts showing progress of `live` (out of `total` when known) unless `quiet`.
    pub fn start(label: String, total: Option<u64>, live: Arc<Live>, quiet: bool) -> Progress {
        if quiet {
            return Progress {
                bar: None,
                ticker: None,
            };
        }
        if std::io::stdout().is_terminal() {
            let bar = match total {
                Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stdout()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout()),
            };
            let template = if total.is_some() {
                "{prefix} [{wide_bar}] {pos}/{len} {msg}"
            } else {
                "{spinner} {prefix} {pos} records {elapsed} {msg}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label);
            let shown = bar.clone();
            let ticker = tokio::spawn(async move {
                let mut rate = RateMeter::new();
                loop {
                    tokio::time::sleep(BAR_EVERY).await;
                    let records = live.records.load(Ordering::Relaxed);
                    shown.set_position(records);
                    shown.set_message(status(&live, rate.update(records)));
                }
            });
            return Progress {
                bar: Some(bar),
                ticker: Some(ticker),
            };
        }
        let ticker = tokio::spawn(async move {
            let mut rate = RateMeter::new();
            loop {
                tokio::time::sleep(PLAIN_EVERY).await;
                let records = live.records.load(Ordering::Relaxed);
                let of = total.map(|n| format!("/{n}")).unwrap_or_default();
                println!(
                    "{label}: {records}{of} records, {}",
                    status(&live, rate.update(records))
                );
            }
        });
        Progress {
            bar: None,
            ticker: Some(ticker),
        }
    }

    /// Stops and clears the display.
    pub fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn status(live: &Live, per_second: f64) -> String {
    format!(
        "{per_second:.0}/s, {} failed, {} retried",
        live.failed.load(Ordering::Relaxed),
        live.retried.load(Ordering::Relaxed)
    )
}

/// Records per second since the previous reading.
struct RateMeter {
    last: (Instant, u64),
}

impl RateMeter {
    fn new() -> RateMeter {
        RateMeter {
            last: (Instant::now(), 0),
        }
    }

    fn update(&mut self, records: u64) -> f64 {
        let now = Instant::now();
        let secs = (now - self.last.0).as_secs_f64().max(1e-9);
        let rate = records.saturating_sub(self.last.1) as f64 / secs;
        self.last = (now, records);
        rate
    }
}

/// The final summary, one fact per line.
pub fn summary(
    verb: &str,
    what: &str,
    outcome: &Outcome,
    elapsed: Duration,
    seed: u64,
    aggregated: bool,
) -> String {
    use std::fmt::Write as _;
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{verb} {} records to {what}: {} bytes in {:.2}s ({:.0} records/s)",
        outcome.records,
        outcome.bytes,
        secs,
        outcome.records as f64 / secs
    );
    if aggregated {
        let _ = writeln!(s, "  in {} KPL aggregated records", outcome.entries);
    }
    let _ = writeln!(
        s,
        "  {} failed, {} retried",
        outcome.failed, outcome.retried
    );
    for (code, n) in &outcome.errors {
        let _ = writeln!(s, "  {n} records given up after {code}");
    }
    if let Some(l) = outcome.latency.summary() {
        let _ = writeln!(
            s,
            "  put latency p50 {:.2} ms, p99 {:.2} ms over {} requests",
            l.p50_ms, l.p99_ms, l.samples
        );
    }
    let _ = writeln!(s, "  seed {seed} (--seed {seed} repeats this data)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_records_failures_latency_and_seed() {
        let mut o = Outcome {
            records: 300,
            entries: 3,
            bytes: 30_000,
            failed: 2,
            retried: 5,
            requests: 4,
            ..Outcome::default()
        };
        o.latency.record(Duration::from_millis(4));
        o.errors
            .insert("ProvisionedThroughputExceededException".into(), 2);
        let s = summary("sent", "stream s", &o, Duration::from_secs(2), 42, true);
        assert!(
            s.starts_with("sent 300 records to stream s: 30000 bytes in 2.00s (150 records/s)\n"),
            "{s}"
        );
        assert!(s.contains("in 3 KPL aggregated records"), "{s}");
        assert!(s.contains("2 failed, 5 retried"), "{s}");
        assert!(s.contains("2 records given up after ProvisionedThroughputExceededException"));
        assert!(
            s.contains("put latency p50 4.00 ms, p99 4.00 ms over 1 requests"),
            "{s}"
        );
        assert!(s.contains("seed 42"), "{s}");
    }
}
