// SPDX-License-Identifier: Apache-2.0
//! `freshet demo stock-trades | taxi | covid | kpl`: realistic records, in the shapes of the
//! AWS tutorials the seed pipelines follow, to a Kinesis stream, a Firehose delivery stream
//! or a file.
//!
//! A run generates records in batches on one task and hands each batch, split into requests
//! within the put API's limits ([`sink::split`]), to at most `--concurrency` sending tasks;
//! a sender resends refused entries with backoff ([`sink::Target::send`]), so a throttled
//! record is late, never lost. `--rate` paces batches ([`pace`]); without it a run with
//! `--count` goes as fast as the target takes records, and an open-ended one (`--duration`,
//! or until Ctrl-C) at the demo's own pace. Ctrl-C stops generating, lets the requests in
//! flight finish, and prints the summary.
//!
//! Generators ([`records::Generator`]) are pure and seeded: `--seed` repeats a run's data
//! except its timestamps, which are the wall clock's.

mod covid;
mod kpl;
mod pace;
mod records;
mod report;
mod setup;
mod sink;
mod stock;
mod taxi;

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tokio::sync::watch;
use tokio::task::JoinSet;

use self::pace::Rate;
use self::records::{Generator, Record};
use self::report::{Live, Progress};
use self::sink::{Entry, MAX_ENTRIES, Outcome, Target};
use self::stock::StockFormat;
use self::taxi::TaxiFormat;
use crate::cli::GlobalOpts;
use crate::cli::client;

/// The pace of an open-ended run without `--rate`: the stock trades tutorial's writer sends
/// one trade every 100 ms.
const DEFAULT_RATE: f64 = 10.0;
/// The pace of an open-ended `kpl` run: the KPL tutorial's 100 records a second.
const KPL_DEFAULT_RATE: f64 = 100.0;
/// User records per KPL aggregate when running as fast as possible.
const KPL_MAX_BATCH: u64 = 1_000;
/// Mixed into the seed for the KPL packer's random hash keys, so that aggregation does not
/// change the records' data.
const PACK_SEED_SALT: u64 = 0x6b70_6c5f_7061_636b;

/// `freshet demo <demo>`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which records to write.
    #[command(subcommand)]
    pub demo: Demo,
}

/// The demos.
#[derive(Debug, Subcommand)]
pub enum Demo {
    /// Stock trades: the Kinesis Data Streams tutorial's StockTrade JSON ({"tickerSymbol",
    /// "tradeType", "price", "quantity", "id"}), or the Firehose console's demo data with
    /// --format firehose; keyed by ticker.
    StockTrades(StockArgs),
    /// NYC yellow taxi trips: CSV lines in the TLC's column order (files get its header), or
    /// JSON objects with the same names with --format json; keyed by pickup zone.
    Taxi(TaxiArgs),
    /// COVID-19 test results as flat JSON patient records; keyed by patient id.
    Covid(PlainArgs),
    /// KPL aggregated records whose user records are the Managed Service for Apache Flink
    /// tutorial's {"EVENT_TIME", "TICKER", "PRICE"} JSON; streams only, 100 records/s unless
    /// --rate or --count says otherwise.
    Kpl(PlainArgs),
}

/// `freshet demo stock-trades`.
#[derive(Debug, Args)]
pub struct StockArgs {
    #[command(flatten)]
    common: Common,
    /// Record shape: kds (the Kinesis tutorial's StockTrade) or firehose (TICKER_SYMBOL,
    /// SECTOR, CHANGE, PRICE).
    #[arg(long, value_enum, default_value_t)]
    format: StockFormat,
}

/// `freshet demo taxi`.
#[derive(Debug, Args)]
pub struct TaxiArgs {
    #[command(flatten)]
    common: Common,
    /// Record format.
    #[arg(long, value_enum, default_value_t)]
    format: TaxiFormat,
}

/// `freshet demo covid` and `freshet demo kpl`.
#[derive(Debug, Args)]
pub struct PlainArgs {
    #[command(flatten)]
    common: Common,
}

/// Options every demo takes.
#[derive(Debug, Clone, Args)]
#[command(group(
    ArgGroup::new("target").required(true).args(["stream", "delivery_stream", "write_file"])
))]
pub struct Common {
    /// Kinesis data stream to put to (PutRecords).
    #[arg(long)]
    stream: Option<String>,
    /// Firehose delivery stream to put to (PutRecordBatch); each record ends with a newline,
    /// so the objects Firehose writes hold one record per line.
    #[arg(long)]
    delivery_stream: Option<String>,
    /// Write the records to this file, one per line (CSV after its header line), instead of
    /// sending them.
    #[arg(long)]
    write_file: Option<PathBuf>,
    /// Records per second, or "max" for as fast as the target takes them. Default: max with
    /// --count, otherwise 10/s (kpl: 100/s).
    #[arg(long)]
    rate: Option<Rate>,
    /// Stop after this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this long (e.g. 30s, 5m). Without --count or --duration a run goes on
    /// until Ctrl-C.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Create the stream if it does not exist, with --shards shards.
    #[arg(long, conflicts_with_all = ["delivery_stream", "write_file"])]
    create: bool,
    /// Shards of the stream --create makes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    shards: u32,
    /// Seed of the random data: the same seed writes the same records (times excepted).
    /// Random when absent; the summary prints it.
    #[arg(long)]
    seed: Option<u64>,
    /// Put requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    concurrency: u32,
    /// Attempts per record (throttled entries are resent with backoff) before it counts as
    /// failed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    max_attempts: u32,
    /// No progress display; only the summary.
    #[arg(long)]
    quiet: bool,
}

/// Where records go.
enum Output {
    Put {
        target: Target,
        /// Firehose: end each record with a newline.
        newline: bool,
        /// kpl: aggregate each batch, drawing hash keys from this.
        pack: Option<Box<StdRng>>,
    },
    File(BufWriter<File>),
}

/// Runs a demo; exit code 1 when records failed, 2 on a usage error clap cannot catch.
pub async fn run(global: &GlobalOpts, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let (name, common, natural_rate) = match &args.demo {
        Demo::StockTrades(a) => ("stock-trades", &a.common, DEFAULT_RATE),
        Demo::Taxi(a) => ("taxi", &a.common, DEFAULT_RATE),
        Demo::Covid(a) => ("covid", &a.common, DEFAULT_RATE),
        Demo::Kpl(a) => ("kpl", &a.common, KPL_DEFAULT_RATE),
    };
    let common = common.clone();
    let is_kpl = matches!(args.demo, Demo::Kpl(_));
    if is_kpl && common.delivery_stream.is_some() {
        eprintln!(
            "error: `freshet demo kpl` writes KPL aggregated records, which only Kinesis data \
             streams take apart; use --stream"
        );
        return Ok(ExitCode::from(2));
    }
    let seed = common.seed.unwrap_or_else(|| rand::rng().random());
    let rng = StdRng::seed_from_u64(seed);
    let generator: Box<dyn Generator> = match &args.demo {
        Demo::StockTrades(a) => Box::new(stock::StockTrades::new(rng, a.format)),
        Demo::Taxi(a) => Box::new(taxi::Taxi::new(rng, a.format)),
        Demo::Covid(_) => Box::new(covid::Covid::new(rng)),
        Demo::Kpl(_) => Box::new(kpl::Kpl::new(rng)),
    };
    let rate = common.rate.unwrap_or(if common.count.is_some() {
        Rate::Max
    } else {
        Rate::PerSecond(natural_rate)
    });
    let (output, what, verb) = if let Some(stream) = &common.stream {
        let client = client::build(global);
        setup::prepare_stream(&client, stream, common.create, common.shards).await?;
        let pack = is_kpl.then(|| Box::new(StdRng::seed_from_u64(seed ^ PACK_SEED_SALT)));
        let target = Target::Kinesis {
            client,
            stream: stream.clone(),
        };
        let output = Output::Put {
            target,
            newline: false,
            pack,
        };
        (output, format!("stream {stream}"), "sent")
    } else if let Some(name) = &common.delivery_stream {
        let client = client::build_firehose(global);
        setup::prepare_delivery_stream(&client, name).await?;
        let target = Target::Firehose {
            client,
            name: name.clone(),
        };
        let output = Output::Put {
            target,
            newline: true,
            pack: None,
        };
        (output, format!("delivery stream {name}"), "sent")
    } else if let Some(path) = &common.write_file {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut writer = BufWriter::new(file);
        if let Some(header) = generator.header() {
            writeln!(writer, "{header}")
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        (
            Output::File(writer),
            format!("file {}", path.display()),
            "wrote",
        )
    } else {
        anyhow::bail!("give --stream, --delivery-stream or --write-file");
    };

    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
        // Keep the sender, so that waiting for a change does not end at once.
        std::future::pending::<()>().await;
    });
    let live = Arc::new(Live::default());
    let limit = limit(rate, common.count, common.duration);
    let progress = Progress::start(name.to_owned(), limit, Arc::clone(&live), common.quiet);
    let run = Run {
        rate,
        limit,
        duration: common.duration,
        concurrency: common.concurrency as usize,
        max_attempts: common.max_attempts,
        batch: if is_kpl {
            KPL_MAX_BATCH
        } else {
            MAX_ENTRIES as u64
        },
    };
    let started = Instant::now();
    let (outcome, fatal) = run.produce(generator, output, stop, live).await;
    progress.finish();
    print!(
        "{}",
        report::summary(verb, &what, &outcome, started.elapsed(), seed, is_kpl)
    );
    if let Some(err) = fatal {
        return Err(err);
    }
    Ok(if outcome.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// How many records the run writes, when that is known up front.
fn limit(rate: Rate, count: Option<u64>, duration: Option<Duration>) -> Option<u64> {
    let by_time = match (rate, duration) {
        (Rate::PerSecond(r), Some(d)) => Some(pace::records_in(r, d)),
        _ => None,
    };
    match (count, by_time) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, t) => c.or(t),
    }
}

/// A run's settings.
struct Run {
    rate: Rate,
    /// Records to write, when known.
    limit: Option<u64>,
    duration: Option<Duration>,
    concurrency: usize,
    max_attempts: u32,
    /// Records per batch when running as fast as possible.
    batch: u64,
}

impl Run {
    /// Generates and writes records until the limit, the duration, Ctrl-C or a fatal error;
    /// returns what was written and the fatal error, if any.
    async fn produce(
        &self,
        mut generator: Box<dyn Generator>,
        mut output: Output,
        mut stop: watch::Receiver<bool>,
        live: Arc<Live>,
    ) -> (Outcome, Option<anyhow::Error>) {
        let started = tokio::time::Instant::now();
        let mut generated = 0u64;
        let mut total = Outcome::default();
        let mut fatal: Option<anyhow::Error> = None;
        let mut inflight: JoinSet<anyhow::Result<Outcome>> = JoinSet::new();
        loop {
            while let Some(done) = inflight.try_join_next() {
                absorb(done, &mut total, &mut fatal);
            }
            if *stop.borrow() || fatal.is_some() || self.limit == Some(generated) {
                break;
            }
            let elapsed = started.elapsed();
            let mut want = match self.rate {
                Rate::Max => {
                    if self.duration.is_some_and(|d| elapsed >= d) {
                        break;
                    }
                    self.batch
                }
                Rate::PerSecond(r) => pace::due_by(r, elapsed).saturating_sub(generated),
            };
            if let Some(limit) = self.limit {
                want = want.min(limit - generated);
            }
            if want == 0 {
                if let Rate::PerSecond(r) = self.rate {
                    let wake = started + pace::next_wake(r, generated, elapsed);
                    tokio::select! {
                        () = tokio::time::sleep_until(wake) => {}
                        _ = stop.changed() => {}
                    }
                }
                continue;
            }
            let now = Timestamp::now();
            let records: Vec<Record> = (0..want).map(|_| generator.next_record(now)).collect();
            generated += want;
            match &mut output {
                Output::File(writer) => match write_lines(writer, &records) {
                    Ok(outcome) => {
                        live.add(&outcome);
                        total.absorb(&outcome);
                    }
                    Err(err) => fatal = Some(err),
                },
                Output::Put {
                    target,
                    newline,
                    pack,
                } => {
                    let entries = match pack {
                        Some(rng) => kpl::pack(records, rng),
                        None => records.into_iter().map(|r| entry(r, *newline)).collect(),
                    };
                    for request in sink::split(entries, target.limits()) {
                        while inflight.len() >= self.concurrency {
                            if let Some(done) = inflight.join_next().await {
                                absorb(done, &mut total, &mut fatal);
                            }
                        }
                        let (target, live) = (target.clone(), Arc::clone(&live));
                        let attempts = self.max_attempts;
                        inflight.spawn(async move {
                            let outcome = target.send(request, attempts).await?;
                            live.add(&outcome);
                            Ok(outcome)
                        });
                    }
                }
            }
        }
        while let Some(done) = inflight.join_next().await {
            absorb(done, &mut total, &mut fatal);
        }
        if let Output::File(writer) = &mut output
            && let Err(err) = writer.flush()
        {
            fatal.get_or_insert(anyhow::anyhow!("cannot write the file: {err}"));
        }
        (total, fatal)
    }
}

fn absorb(
    done: Result<anyhow::Result<Outcome>, tokio::task::JoinError>,
    total: &mut Outcome,
    fatal: &mut Option<anyhow::Error>,
) {
    match done {
        Ok(Ok(outcome)) => total.absorb(&outcome),
        Ok(Err(err)) => {
            fatal.get_or_insert(err);
        }
        Err(join) => {
            fatal.get_or_insert(anyhow::anyhow!("a put request task failed: {join}"));
        }
    }
}

fn entry(record: Record, newline: bool) -> Entry {
    let mut data = record.data;
    if newline {
        data.push(b'\n');
    }
    Entry {
        key: record.key,
        hash_key: None,
        data,
        records: 1,
    }
}

/// Appends records as lines and flushes, so a tailing reader sees whole lines promptly.
fn write_lines(writer: &mut BufWriter<File>, records: &[Record]) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    for r in records {
        writer
            .write_all(&r.data)
            .and_then(|()| writer.write_all(b"\n"))
            .context("cannot write the file")?;
        outcome.records += 1;
        outcome.entries += 1;
        outcome.bytes += r.data.len() as u64 + 1;
    }
    writer.flush().context("cannot write the file")?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_knows_its_size_from_count_or_paced_duration() {
        let secs = |s| Some(Duration::from_secs(s));
        let paced = Rate::PerSecond(10.0);
        assert_eq!(limit(Rate::Max, Some(5), None), Some(5));
        assert_eq!(limit(Rate::Max, None, secs(3)), None);
        assert_eq!(limit(paced, None, secs(3)), Some(30));
        assert_eq!(limit(paced, Some(5), secs(3)), Some(5));
        assert_eq!(limit(paced, Some(50), secs(3)), Some(30));
        assert_eq!(limit(paced, None, None), None);
    }

    #[test]
    fn firehose_records_end_with_a_newline_and_kinesis_records_do_not() {
        let r = || Record {
            key: "k".into(),
            data: b"{}".to_vec(),
        };
        assert_eq!(entry(r(), true).data, b"{}\n");
        assert_eq!(entry(r(), false).data, b"{}");
    }
}
