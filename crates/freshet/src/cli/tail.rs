// SPDX-License-Identifier: Apache-2.0
//! `freshet tail`: print records from every shard of a stream, following resharding.
//!
//! One task per shard follows its iterator chain with GetRecords and sends formatted lines to
//! the printer (the command's own task), which enforces `--max-records`, stops on Ctrl-C and
//! stops quietly when stdout is closed (`freshet tail s | head`). Lines of one shard keep their
//! order; lines of different shards interleave.
//!
//! Lineage: the printer starts with the shards ListShards names for the `--from` position
//! (AT_LATEST, AT_TRIM_HORIZON or AT_TIMESTAMP: the oldest shards holding those records). When
//! a closed shard is read to its end, GetRecords names its children; a child starts (at its
//! trim horizon) only once every parent this command reads has ended, and its lines are queued
//! after the parents' lines, so each partition key's records print in order across a split or
//! merge.
//! KPL aggregated records are split into their user records, as the KCL does, unless
//! `--no-deaggregate` is given: each user record is printed with its own partition key and
//! `<sequenceNumber>:<subSequenceNumber>` (a `subSequenceNumber` member in JSON). Records that
//! are not valid aggregates print as they are.

use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, ErrorKind, Write as _};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::operation::get_records::GetRecordsError;
use aws_sdk_kinesis::types::{
    ChildShard, Record, Shard, ShardFilter, ShardFilterType, ShardIteratorType,
};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, ValueEnum};
use freshet_types::kpl;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::cli::client::{AwsResultExt, aws_error};
use crate::cli::streams::list_shards;

/// Pause after a GetRecords call that returned nothing.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Pause after the shard's read throughput was exceeded.
const THROTTLED_POLL: Duration = Duration::from_secs(1);

/// `freshet tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Stream name.
    pub stream: String,
    /// Where to start: trim-horizon, latest, an RFC 3339 timestamp or epoch seconds.
    #[arg(long, default_value = "latest")]
    pub from: StartFrom,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Stop each shard once it is caught up instead of waiting for new records.
    #[arg(long)]
    pub no_follow: bool,
    /// Stop after this many records in total.
    #[arg(long)]
    pub max_records: Option<u64>,
    /// Most records per GetRecords call.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub limit: i32,
    /// Print KPL aggregated records as they are instead of splitting them into user records.
    #[arg(long)]
    pub no_deaggregate: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// `<shardId> <sequenceNumber> <partitionKey> <data as UTF-8, lossy>`.
    Text,
    /// Like text, with the data in base64.
    Base64,
    /// One JSON object per line; data in base64.
    Json,
}

/// The starting position of `--from`.
#[derive(Debug, Clone, PartialEq)]
pub enum StartFrom {
    /// The oldest record kept.
    TrimHorizon,
    /// Only records written after the iterator is created.
    Latest,
    /// The first record at or after this time.
    At(DateTime),
}

impl FromStr for StartFrom {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.to_ascii_lowercase().replace('_', "-").as_str() {
            "trim-horizon" => return Ok(StartFrom::TrimHorizon),
            "latest" => return Ok(StartFrom::Latest),
            _ => {}
        }
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let secs: f64 = t
                .parse()
                .map_err(|_| format!("invalid epoch seconds {t:?}"))?;
            return Ok(StartFrom::At(DateTime::from_secs_f64(secs)));
        }
        parse_rfc3339(t).map(StartFrom::At).ok_or_else(|| {
            format!(
                "invalid --from {s:?}: use trim-horizon, latest, epoch seconds or an RFC 3339 \
                 timestamp such as 2024-05-01T12:00:00Z"
            )
        })
    }
}

/// RFC 3339 with `Z`, a `±HH:MM` offset, or no zone (taken as UTC).
fn parse_rfc3339(s: &str) -> Option<DateTime> {
    let s = s.replacen(' ', "T", 1);
    if let Some(base) = s.strip_suffix(['Z', 'z']) {
        return DateTime::from_str(&format!("{base}Z"), Format::DateTime).ok();
    }
    let bytes = s.as_bytes();
    let n = bytes.len();
    if n > 6 && matches!(bytes[n - 6], b'+' | b'-') && bytes[n - 3] == b':' && s.contains('T') {
        let (base, zone) = s.split_at(n - 6);
        let hours: i64 = zone[1..3].parse().ok()?;
        let minutes: i64 = zone[4..6].parse().ok()?;
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let local = DateTime::from_str(&format!("{base}Z"), Format::DateTime).ok()?;
        let utc_secs = local.secs() - sign * (hours * 3600 + minutes * 60);
        return Some(DateTime::from_secs_and_nanos(
            utc_secs,
            local.subsec_nanos(),
        ));
    }
    DateTime::from_str(&format!("{s}Z"), Format::DateTime).ok()
}

/// Runs `freshet tail`.
pub async fn run(client: Client, args: TailArgs) -> anyhow::Result<ExitCode> {
    let start_filter = match &args.from {
        StartFrom::TrimHorizon => filter(ShardFilterType::AtTrimHorizon, None)?,
        StartFrom::Latest => filter(ShardFilterType::AtLatest, None)?,
        StartFrom::At(ts) => filter(ShardFilterType::AtTimestamp, Some(*ts))?,
    };
    let start = list_shards_filtered(&client, &args.stream, start_filter).await?;
    if start.is_empty() {
        anyhow::bail!("stream {} has no shards", args.stream);
    }
    let mut lineage = Lineage::new(start.iter().map(|s| s.shard_id().to_owned()));
    lineage.learn(&list_shards(&client, &args.stream).await?);
    let (tx, mut rx) = mpsc::channel::<Vec<String>>(start.len() * 2);
    // Kept while readers may still start, so the channel only closes once all have ended.
    let mut tx = Some(tx);
    let mut tasks: JoinSet<anyhow::Result<ShardEnd>> = JoinSet::new();
    let reader = |shard_id: &str, from: StartFrom| ShardReader {
        client: client.clone(),
        stream: args.stream.clone(),
        shard_id: shard_id.to_owned(),
        from,
        follow: !args.no_follow,
        limit: args.limit,
        format: args.format,
        deaggregate: !args.no_deaggregate,
    };
    for shard in &start {
        if let Some(tx) = &tx {
            tasks.spawn(reader(shard.shard_id(), args.from.clone()).run(tx.clone()));
        }
    }

    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut printed = 0u64;
    let mut failure: Option<anyhow::Error> = None;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    'printing: loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            lines = rx.recv() => {
                let Some(lines) = lines else { break };
                for line in lines {
                    if args.max_records.is_some_and(|max| printed >= max) {
                        break 'printing;
                    }
                    if let Err(err) = out.write_all(line.as_bytes()) {
                        failure = stdout_failure(err);
                        break 'printing;
                    }
                    printed += 1;
                }
                if args.max_records.is_some_and(|max| printed >= max) {
                    break;
                }
                if rx.is_empty()
                    && let Err(err) = out.flush()
                {
                    failure = stdout_failure(err);
                    break;
                }
            }
            Some(joined) = tasks.join_next() => {
                let ended = match joined {
                    Ok(Ok(ended)) => ended,
                    Ok(Err(err)) => {
                        failure = Some(err);
                        break;
                    }
                    Err(join) => {
                        failure = Some(anyhow::anyhow!("a shard reader failed: {join}"));
                        break;
                    }
                };
                let ready = match lineage.ended(&client, &args.stream, ended).await {
                    Ok(ready) => ready,
                    Err(err) => {
                        failure = Some(err);
                        break;
                    }
                };
                if let Some(tx) = &tx {
                    for child in ready {
                        tasks.spawn(reader(&child, StartFrom::TrimHorizon).run(tx.clone()));
                    }
                }
                if tasks.is_empty() {
                    tx = None;
                }
            }
        }
    }
    tasks.abort_all();
    if let Err(err) = out.flush()
        && failure.is_none()
    {
        failure = stdout_failure(err);
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn filter(kind: ShardFilterType, ts: Option<DateTime>) -> anyhow::Result<ShardFilter> {
    Ok(ShardFilter::builder()
        .r#type(kind)
        .set_timestamp(ts)
        .build()?)
}

/// Every shard ListShards names for `filter`, across pages.
async fn list_shards_filtered(
    client: &Client,
    stream: &str,
    filter: ShardFilter,
) -> anyhow::Result<Vec<Shard>> {
    let mut shards = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        // NextToken carries the filter; ListShards rejects it with either.
        let req = match &next_token {
            Some(token) => client.list_shards().next_token(token),
            None => client
                .list_shards()
                .stream_name(stream)
                .shard_filter(filter.clone()),
        };
        let out = req.send().await.aws("ListShards")?;
        shards.extend(out.shards().iter().cloned());
        match out.next_token() {
            Some(t) if !out.shards().is_empty() => next_token = Some(t.to_owned()),
            _ => return Ok(shards),
        }
    }
}

/// How a shard reader stopped: at the end of a closed shard (with its children) or because it
/// was caught up with `--no-follow`.
struct ShardEnd {
    shard_id: String,
    children: Vec<ChildShard>,
}

/// Which shards this command reads and which have ended, to start a child only after all of
/// its parents that this command reads.
struct Lineage {
    /// Parents of every shard known (from ListShards and ChildShards).
    parents: HashMap<String, Vec<String>>,
    /// Shards started from the `--from` position.
    start: HashSet<String>,
    /// Shards whose readers ended.
    ended: HashSet<String>,
    /// Shards already started (or queued to start).
    started: HashSet<String>,
}

impl Lineage {
    fn new(start: impl Iterator<Item = String>) -> Lineage {
        let start: HashSet<String> = start.collect();
        Lineage {
            parents: HashMap::new(),
            started: start.clone(),
            start,
            ended: HashSet::new(),
        }
    }

    fn learn(&mut self, shards: &[Shard]) {
        for s in shards {
            let parents = [s.parent_shard_id(), s.adjacent_parent_shard_id()]
                .into_iter()
                .flatten()
                .map(str::to_owned)
                .collect();
            self.parents.insert(s.shard_id().to_owned(), parents);
        }
    }

    /// Whether this command reads `shard`: it is a start shard or descends from one.
    fn reads(&self, shard: &str) -> bool {
        let mut stack = vec![shard];
        let mut seen = HashSet::new();
        while let Some(s) = stack.pop() {
            if self.start.contains(s) {
                return true;
            }
            if seen.insert(s)
                && let Some(ps) = self.parents.get(s)
            {
                stack.extend(ps.iter().map(String::as_str));
            }
        }
        false
    }

    /// Records that a reader ended and returns the children that may start now.
    async fn ended(
        &mut self,
        client: &Client,
        stream: &str,
        end: ShardEnd,
    ) -> anyhow::Result<Vec<String>> {
        self.ended.insert(end.shard_id);
        for c in &end.children {
            self.parents
                .insert(c.shard_id().to_owned(), c.parent_shards().to_vec());
        }
        // A parent this command has not heard of was created after the listing: list again
        // so that the wait below knows whether it is read here.
        let unknown = end
            .children
            .iter()
            .flat_map(|c| c.parent_shards())
            .any(|p| !self.parents.contains_key(p));
        if unknown {
            self.learn(&list_shards(client, stream).await?);
        }
        let mut ready = Vec::new();
        for c in end.children {
            let id = c.shard_id().to_owned();
            let waiting = c
                .parent_shards()
                .iter()
                .any(|p| !self.ended.contains(p) && self.reads(p));
            if !waiting && self.started.insert(id.clone()) {
                ready.push(id);
            }
        }
        Ok(ready)
    }
}

/// A closed stdout is a normal way to stop; other write errors are failures.
fn stdout_failure(err: std::io::Error) -> Option<anyhow::Error> {
    if err.kind() == ErrorKind::BrokenPipe {
        None
    } else {
        Some(anyhow::Error::new(err).context("cannot write to stdout"))
    }
}

/// Follows one shard's iterator chain.
struct ShardReader {
    client: Client,
    stream: String,
    shard_id: String,
    from: StartFrom,
    follow: bool,
    limit: i32,
    format: OutputFormat,
    deaggregate: bool,
}

impl ShardReader {
    async fn run(self, tx: mpsc::Sender<Vec<String>>) -> anyhow::Result<ShardEnd> {
        let end = |children: &[ChildShard]| ShardEnd {
            shard_id: self.shard_id.clone(),
            children: children.to_vec(),
        };
        let mut iterator = self.iterator(None).await?;
        let mut last_seq: Option<String> = None;
        loop {
            let result = self
                .client
                .get_records()
                .shard_iterator(&iterator)
                .limit(self.limit)
                .send()
                .await;
            let out = match result {
                Ok(out) => out,
                Err(err) => match err.as_service_error() {
                    Some(GetRecordsError::ExpiredIteratorException(_)) => {
                        iterator = self.iterator(last_seq.as_deref()).await?;
                        continue;
                    }
                    Some(GetRecordsError::ProvisionedThroughputExceededException(_)) => {
                        tokio::time::sleep(THROTTLED_POLL).await;
                        continue;
                    }
                    _ => return Err(aws_error("GetRecords", err)),
                },
            };
            let records = out.records();
            if let Some(last) = records.last() {
                last_seq = Some(last.sequence_number().to_owned());
                let lines = records.iter().flat_map(|r| self.format_record(r)).collect();
                if tx.send(lines).await.is_err() {
                    return Ok(end(&[]));
                }
            }
            match out.next_shard_iterator() {
                Some(next) => iterator = next.to_owned(),
                // The shard is closed and fully read; its children continue it.
                None => return Ok(end(out.child_shards())),
            }
            if records.is_empty() {
                if !self.follow && out.millis_behind_latest().unwrap_or(0) == 0 {
                    return Ok(end(&[]));
                }
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }

    /// A fresh iterator: after `after_seq` when resuming, else at the `--from` position.
    async fn iterator(&self, after_seq: Option<&str>) -> anyhow::Result<String> {
        let mut req = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(&self.shard_id);
        req = match (after_seq, &self.from) {
            (Some(seq), _) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq),
            (None, StartFrom::TrimHorizon) => {
                req.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
            (None, StartFrom::Latest) => req.shard_iterator_type(ShardIteratorType::Latest),
            (None, StartFrom::At(ts)) => req
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(*ts),
        };
        let out = req.send().await.aws("GetShardIterator")?;
        out.shard_iterator.ok_or_else(|| {
            anyhow::anyhow!(
                "GetShardIterator: no iterator returned for {}",
                self.shard_id
            )
        })
    }

    fn format_record(&self, r: &Record) -> Vec<String> {
        record_lines(&self.shard_id, r, self.format, self.deaggregate)
    }
}

/// The lines of one record: one per user record when `deaggregate` is set and the record is
/// a KPL aggregate, else one.
fn record_lines(
    shard_id: &str,
    r: &Record,
    format: OutputFormat,
    deaggregate: bool,
) -> Vec<String> {
    let users = if deaggregate {
        kpl::deaggregate(r.data().as_ref())
    } else {
        None
    };
    match users {
        Some(users) => users
            .iter()
            .map(|u| format_user_record(shard_id, r, u, format))
            .collect(),
        None => vec![format_record(shard_id, r, format)],
    }
}

/// One output line, newline included.
fn format_record(shard_id: &str, r: &Record, format: OutputFormat) -> String {
    let line = Line {
        shard_id,
        record: r,
        sub_sequence: None,
        partition_key: r.partition_key().unwrap_or(""),
        explicit_hash_key: None,
        data: r.data().as_ref(),
    };
    line.format(format)
}

/// The output line of one user record of the KPL aggregate `r`.
fn format_user_record(
    shard_id: &str,
    r: &Record,
    user: &kpl::UserRecord<'_>,
    format: OutputFormat,
) -> String {
    let line = Line {
        shard_id,
        record: r,
        sub_sequence: Some(user.sub_sequence),
        partition_key: user.partition_key,
        explicit_hash_key: user.explicit_hash_key,
        data: user.data,
    };
    line.format(format)
}

/// What one output line shows: a Kinesis record, or a user record within one.
struct Line<'a> {
    shard_id: &'a str,
    record: &'a Record,
    sub_sequence: Option<u64>,
    partition_key: &'a str,
    explicit_hash_key: Option<&'a str>,
    data: &'a [u8],
}

impl Line<'_> {
    fn format(&self, format: OutputFormat) -> String {
        let (shard_id, key) = (self.shard_id, self.partition_key);
        let seq = match self.sub_sequence {
            Some(sub) => format!("{}:{sub}", self.record.sequence_number()),
            None => self.record.sequence_number().to_owned(),
        };
        match format {
            OutputFormat::Text => {
                let data = String::from_utf8_lossy(self.data);
                format!("{shard_id} {seq} {key} {data}\n")
            }
            OutputFormat::Base64 => {
                format!("{shard_id} {seq} {key} {}\n", BASE64.encode(self.data))
            }
            OutputFormat::Json => {
                // Written by hand so the keys keep this documented order; the sub-sequence
                // number and explicit hash key appear only for user records of an aggregate.
                let ts = self
                    .record
                    .approximate_arrival_timestamp()
                    .and_then(|t| t.fmt(Format::DateTime).ok());
                let mut user = String::new();
                if let Some(sub) = self.sub_sequence {
                    user.push_str(&format!(",\"subSequenceNumber\":{sub}"));
                }
                if let Some(ehk) = self.explicit_hash_key {
                    user.push_str(&format!(",\"explicitHashKey\":{}", json!(ehk)));
                }
                format!(
                    "{{\"shardId\":{},\"sequenceNumber\":{}{user},\"partitionKey\":{},\
                     \"approximateArrivalTimestamp\":{},\"data\":\"{}\"}}\n",
                    json!(shard_id),
                    json!(self.record.sequence_number()),
                    json!(key),
                    json!(ts),
                    BASE64.encode(self.data)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_accepts_keywords_epochs_and_timestamps() {
        assert_eq!("trim-horizon".parse(), Ok(StartFrom::TrimHorizon));
        assert_eq!("TRIM_HORIZON".parse(), Ok(StartFrom::TrimHorizon));
        assert_eq!("latest".parse(), Ok(StartFrom::Latest));
        assert_eq!(
            "1700000000".parse(),
            Ok(StartFrom::At(DateTime::from_secs(1_700_000_000)))
        );
        assert_eq!(
            "2023-11-14T22:13:20Z".parse(),
            Ok(StartFrom::At(DateTime::from_secs(1_700_000_000)))
        );
        assert_eq!(
            "2023-11-14T23:13:20+01:00".parse(),
            Ok(StartFrom::At(DateTime::from_secs(1_700_000_000)))
        );
        assert_eq!(
            "2023-11-14 22:13:20".parse(),
            Ok(StartFrom::At(DateTime::from_secs(1_700_000_000)))
        );
        assert!("yesterday".parse::<StartFrom>().is_err());
    }

    #[test]
    fn json_lines_carry_base64_data_and_rfc3339_time() {
        let record = Record::builder()
            .sequence_number("49")
            .partition_key("k")
            .data(aws_smithy_types::Blob::new(b"hi".to_vec()))
            .approximate_arrival_timestamp(DateTime::from_millis(1_700_000_000_123))
            .build()
            .expect("record");
        let line = format_record("shardId-000000000000", &record, OutputFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert!(line.starts_with("{\"shardId\":"), "{line}");
        assert_eq!(v["data"], "aGk=");
        assert_eq!(v["approximateArrivalTimestamp"], "2023-11-14T22:13:20.123Z");
        let text = format_record("shardId-000000000000", &record, OutputFormat::Text);
        assert_eq!(text, "shardId-000000000000 49 k hi\n");
    }

    fn lines_of(r: &Record, format: OutputFormat, deaggregate: bool) -> Vec<String> {
        record_lines("shardId-000000000000", r, format, deaggregate)
    }

    fn record(data: Vec<u8>) -> Record {
        Record::builder()
            .sequence_number("49")
            .partition_key("outer")
            .data(aws_smithy_types::Blob::new(data))
            .approximate_arrival_timestamp(DateTime::from_millis(1_700_000_000_123))
            .build()
            .expect("record")
    }

    #[test]
    fn aggregates_print_one_line_per_user_record() {
        let data = kpl::aggregate([("a", None, &b"one"[..]), ("b", Some("42"), &b"two"[..])]);
        let r = record(data.clone());
        let lines = lines_of(&r, OutputFormat::Text, true);
        assert_eq!(
            lines,
            vec![
                "shardId-000000000000 49:0 a one\n".to_owned(),
                "shardId-000000000000 49:1 b two\n".to_owned(),
            ]
        );
        let json = lines_of(&r, OutputFormat::Json, true);
        let v: serde_json::Value = serde_json::from_str(&json[1]).expect("json");
        assert_eq!(v["sequenceNumber"], "49");
        assert_eq!(v["subSequenceNumber"], 1);
        assert_eq!(v["partitionKey"], "b");
        assert_eq!(v["explicitHashKey"], "42");
        assert_eq!(v["data"], "dHdv");

        let raw = lines_of(&r, OutputFormat::Base64, false);
        assert_eq!(
            raw,
            vec![format!(
                "shardId-000000000000 49 outer {}\n",
                BASE64.encode(&data)
            )]
        );
    }

    #[test]
    fn records_that_are_not_valid_aggregates_print_as_they_are() {
        let mut data = kpl::aggregate([("a", None, &b"one"[..])]);
        let last = data.len() - 1;
        data[last] ^= 0xff;
        let lines = lines_of(&record(data.clone()), OutputFormat::Json, true);
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
        assert!(v.get("subSequenceNumber").is_none(), "{v}");
        assert_eq!(v["data"], BASE64.encode(&data));
    }
}
