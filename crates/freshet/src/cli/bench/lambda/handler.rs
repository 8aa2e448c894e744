// SPDX-License-Identifier: Apache-2.0
//! The handler the function scenarios deploy, and what it reports back.
//!
//! The handler (`freshet_bench.py`, embedded) is packed into a zip here. Mapping scenarios
//! give it `FRESHET_BENCH_REPORT=127.0.0.1:<port>`, where a [`Listener`] accepts one TCP
//! connection per execution environment and reads lines `<start_us> <records> [<sent_us> ...]`:
//! the wall-clock time the handler started and, for `stamps`, each record's send time. The
//! bench computes send-to-handler-start latency from them; the server under test carries none of
//! this traffic, so measuring does not load it.
//!
//! Records carry their send time as the first 16 bytes of their data, microseconds since the
//! epoch in ASCII digits ([`stamped`]); the handler decodes only those.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use zip::write::SimpleFileOptions;

use crate::cli::bench::stats::{Latencies, Live};

/// The handler module, as deployed.
const SOURCE: &str = include_str!("freshet_bench.py");
/// Its file name in the zip (the handler strings below name its module).
const FILE: &str = "freshet_bench.py";
/// Does nothing.
pub(super) const NOOP: &str = "freshet_bench.noop";
/// Reports each Kinesis record's send time.
pub(super) const STAMPS: &str = "freshet_bench.stamps";
/// Reports how many Kinesis records it got.
pub(super) const COUNT: &str = "freshet_bench.count";
/// The environment variable that tells the handler where to report.
pub(super) const REPORT_VAR: &str = "FRESHET_BENCH_REPORT";
/// Bytes of the send-time stamp at the start of a record.
pub(super) const STAMP_LEN: usize = 16;
/// The smallest record that holds a stamp the handler can decode (24 base64 characters).
pub(super) const MIN_RECORD: u32 = 18;
/// Longest report line read (a batch of 10,000 stamps fits).
const MAX_LINE: usize = 256 * 1024;

/// The deployment package: the handler module, stored (not deflated).
pub(super) fn package() -> anyhow::Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file(FILE, options).context("zip")?;
    w.write_all(SOURCE.as_bytes()).context("zip")?;
    Ok(w.finish().context("zip")?.into_inner())
}

/// Record data of `size` bytes (at least [`MIN_RECORD`]) stamped with `at_us`.
pub(super) fn stamped(at_us: u64, size: usize) -> Vec<u8> {
    let mut data = format!("{at_us:0width$}", width = STAMP_LEN).into_bytes();
    data.truncate(STAMP_LEN);
    data.resize(size.max(MIN_RECORD as usize), b'.');
    data
}

/// One report line: when the handler started, how many records it got, their send times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Delivery {
    /// Wall-clock microseconds when the handler started.
    pub start_us: u64,
    /// Records in the event.
    pub records: u64,
    /// Send times of the records (empty for `count`).
    pub stamps: Vec<u64>,
}

/// Parses a report line; `None` when it is not one.
pub(super) fn parse_line(line: &str) -> Option<Delivery> {
    let mut parts = line.split_ascii_whitespace();
    let start_us = parts.next()?.parse().ok()?;
    let records = parts.next()?.parse().ok()?;
    let stamps = parts
        .map(str::parse)
        .collect::<Result<Vec<u64>, _>>()
        .ok()?;
    Some(Delivery {
        start_us,
        records,
        stamps,
    })
}

/// The `Init Duration` of the REPORT line in an invocation's log tail, in milliseconds.
pub(super) fn init_duration_ms(log: &str) -> Option<f64> {
    let report = log.lines().rev().find(|l| l.starts_with("REPORT "))?;
    let field = report
        .split('\t')
        .find_map(|f| f.trim().strip_prefix("Init Duration: "))?;
    field.strip_suffix(" ms")?.trim().parse().ok()
}

/// What the handlers reported so far.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    /// Invocations reported.
    pub invocations: u64,
    /// Records those invocations got.
    pub records: u64,
    /// Records whose send time is inside the window.
    pub in_window: u64,
    /// Invocations that got a record sent inside the window.
    pub invocations_in_window: u64,
    /// Send-to-handler-start latency of the records sent inside the window.
    pub latency: Latencies,
    /// Lines that were not reports.
    pub bad_lines: u64,
    /// Send times that count for latency; none until the measurement starts.
    window: Option<StampWindow>,
}

/// Send times that count: `[from_us, end_us)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct StampWindow {
    /// First counted send time.
    pub from_us: u64,
    /// First send time past the window.
    pub end_us: u64,
}

impl Tally {
    fn absorb(&mut self, d: &Delivery) {
        self.invocations += 1;
        self.records += d.records;
        let Some(w) = self.window else { return };
        let mut counted = false;
        for &sent in &d.stamps {
            if (w.from_us..w.end_us).contains(&sent) {
                self.in_window += 1;
                self.latency.record_us(d.start_us.saturating_sub(sent));
                counted = true;
            }
        }
        self.invocations_in_window += u64::from(counted);
    }
}

/// Accepts the handlers' report connections on 127.0.0.1 and tallies their lines.
pub(super) struct Listener {
    /// Where handlers report (`127.0.0.1:<port>`).
    pub addr: String,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

struct Shared {
    tally: Mutex<Tally>,
    changed: Notify,
    /// The progress line's counters, which count handled records when given.
    live: Option<Arc<Live>>,
}

impl Listener {
    /// Listens on a free loopback port; handled records are added to `live` when given.
    pub async fn start(live: Option<Arc<Live>>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen for handler reports")?;
        let addr = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared {
            tally: Mutex::new(Tally::default()),
            changed: Notify::new(),
            live,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self {
            addr,
            shared,
            accept,
        })
    }

    /// From now on, records sent inside `window` count for latency.
    pub fn measure(&self, window: StampWindow) {
        self.shared
            .tally
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .window = Some(window);
    }

    /// A copy of the tally.
    pub fn tally(&self) -> Tally {
        self.shared
            .tally
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until `done` holds for the tally, or `deadline`; returns whether it held.
    pub async fn wait_for(
        &self,
        deadline: tokio::time::Instant,
        done: impl Fn(&Tally) -> bool,
    ) -> bool {
        loop {
            let changed = self.shared.changed.notified();
            if done(&self.shared.tally.lock().unwrap_or_else(|p| p.into_inner())) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return done(&self.tally());
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks end with the accept loop (the JoinSet aborts them when dropped).
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, most likely: wait instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        conns.spawn(async move {
            let mut lines = BufReader::new(stream);
            let mut line = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let parsed = (line.len() <= MAX_LINE)
                    .then(|| parse_line(&line))
                    .flatten();
                {
                    let mut t = shared.tally.lock().unwrap_or_else(|p| p.into_inner());
                    match &parsed {
                        Some(d) => t.absorb(d),
                        None => t.bad_lines += 1,
                    }
                }
                if let (Some(live), Some(d)) = (&shared.live, &parsed) {
                    live.add_records(d.records);
                }
                shared.changed.notify_waiters();
            }
        });
        while conns.try_join_next().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_package_is_a_zip_holding_the_handler_module() {
        let zip = package().expect("zip");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("read zip");
        let mut f = archive.by_name(FILE).expect("handler file");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text).expect("read");
        assert_eq!(text, SOURCE);
        for handler in [NOOP, STAMPS, COUNT] {
            let function = handler.rsplit('.').next().expect("function");
            assert!(text.contains(&format!("def {function}(event, context):")));
        }
    }

    #[test]
    fn the_init_duration_is_read_from_the_report_line() {
        let log = "START RequestId: a Version: $LATEST\nEND RequestId: a\n\
                   REPORT RequestId: a\tDuration: 1.20 ms\tBilled Duration: 2 ms\t\
                   Memory Size: 128 MB\tMax Memory Used: 12 MB\tInit Duration: 150.25 ms\t\n";
        assert_eq!(init_duration_ms(log), Some(150.25));
        let warm = "REPORT RequestId: a\tDuration: 1.20 ms\tBilled Duration: 2 ms\t\
                    Memory Size: 128 MB\tMax Memory Used: 12 MB\t\n";
        assert_eq!(init_duration_ms(warm), None);
    }

    #[test]
    fn only_stamps_inside_the_window_count_for_latency() {
        let mut t = Tally {
            window: Some(StampWindow {
                from_us: 100,
                end_us: 200,
            }),
            ..Tally::default()
        };
        t.absorb(&Delivery {
            start_us: 1_150,
            records: 3,
            stamps: vec![50, 150, 199],
        });
        assert_eq!((t.invocations, t.records, t.in_window), (1, 3, 2));
        assert_eq!(t.invocations_in_window, 1);
        let l = t.latency.summary().expect("samples");
        assert_eq!(l.samples, 2);
        assert!((l.max_ms - 1.0).abs() < 0.01, "{l:?}");
    }

    proptest! {
        #[test]
        fn report_lines_parse_back(start in any::<u64>(), records in any::<u64>(),
                                   stamps in proptest::collection::vec(any::<u64>(), 0..50)) {
            let mut line = format!("{start} {records}");
            for s in &stamps {
                line.push_str(&format!(" {s}"));
            }
            line.push('\n');
            let d = parse_line(&line).expect("a report line");
            prop_assert_eq!(d, Delivery { start_us: start, records, stamps });
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(s in "\\PC{0,200}") {
            let _ = parse_line(&s);
            let _ = init_duration_ms(&s);
        }

        #[test]
        fn init_durations_parse_back(hundredths in 0u64..100_000_000) {
            let ms = format!("{}.{:02}", hundredths / 100, hundredths % 100);
            let log = format!("REPORT RequestId: x\tDuration: 1.00 ms\tInit Duration: {ms} ms\t\n");
            let got = init_duration_ms(&log).expect("init duration");
            prop_assert!((got - hundredths as f64 / 100.0).abs() < 1e-6);
        }

        /// What the handler does: decode the first 24 base64 characters, keep 16 bytes.
        #[test]
        fn the_handler_reads_the_stamp_from_24_base64_characters(
            at in 0u64..10_000_000_000_000_000, size in 0usize..2048,
        ) {
            let data = stamped(at, size);
            prop_assert_eq!(data.len(), size.max(MIN_RECORD as usize));
            let b64 = STANDARD.encode(&data);
            let head = STANDARD.decode(&b64[..24]).expect("base64");
            let stamp: u64 = std::str::from_utf8(&head[..STAMP_LEN]).expect("ascii").parse().expect("digits");
            prop_assert_eq!(stamp, at);
        }
    }
}
