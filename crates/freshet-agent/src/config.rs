// SPDX-License-Identifier: Apache-2.0
//! The Kinesis Agent's `agent.json`, read unchanged: global keys and `flows`.
//!
//! Parsing goes through `serde_json::Value` rather than a derived struct so that every key
//! is accounted for: a known key is read and range-checked, a key the Kinesis Agent knows but
//! Freshet does not implement is reported by name in [`AgentConfig::warnings`], and an unknown
//! key is reported the same way. Only keys that would change where data goes (a role to
//! assume, a credentials provider class, when the endpoint is AWS) are fatal.
//!
//! Validation collects every error before failing ([`ConfigErrors`]), each naming the flow
//! (`flows[1] (kinesis:orders:/var/log/app/*.log)`) and the key. Numbers may be JSON numbers or
//! strings holding numbers, as the Java agent accepts both.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::processing::Processors;
use crate::sink::{Destination, limits};

/// Global keys the agent reads.
const GLOBAL_KEYS: &[&str] = &[
    "awsAccessKeyId",
    "awsSecretAccessKey",
    "kinesis.endpoint",
    "kinesis.region",
    "firehose.endpoint",
    "firehose.region",
    "cloudwatch.endpoint",
    "cloudwatch.region",
    "cloudwatch.emitMetrics",
    "cloudwatch.namespace",
    "cloudwatch.metricsBufferTimeMillis",
    "checkpointFile",
    "checkpointTimeToLiveDays",
    "log.statusReportingPeriodSeconds",
    "shutdownTimeoutMillis",
    "flows",
];

/// Global keys of the Kinesis Agent that Freshet accepts but does not act on, with why.
const IGNORED_GLOBAL_KEYS: &[(&str, &str)] = &[
    ("sts.endpoint", "roles are not assumed"),
    (
        "cloudwatch.tagInstance",
        "there is no EC2 instance to tag with",
    ),
    (
        "cloudwatch.metricsQueueSize",
        "metrics are aggregated, not queued",
    ),
    ("log.emitMetrics", "metrics go to CloudWatch only"),
    (
        "log.emitInternalMetrics",
        "internal metrics are not emitted",
    ),
    ("log.level", "use RUST_LOG"),
    ("log.file", "the agent logs to stderr"),
    ("log.maxBackupIndex", "the agent logs to stderr"),
    ("log.maxFileSize", "the agent logs to stderr"),
    ("maxSendingThreads", "each flow sends one buffer at a time"),
    (
        "maxSendingThreadsPerCore",
        "each flow sends one buffer at a time",
    ),
    (
        "sendingThreadsMaxQueueSize",
        "each flow sends one buffer at a time",
    ),
    (
        "sendingThreadsKeepAliveMillis",
        "each flow sends one buffer at a time",
    ),
    ("maxConnections", "the SDK client's defaults apply"),
    ("connectionTimeoutMillis", "the SDK client's defaults apply"),
    ("connectionTTLMillis", "the SDK client's defaults apply"),
    ("socketTimeoutMillis", "the SDK client's defaults apply"),
    ("useTcpKeepAlive", "the SDK client's defaults apply"),
    ("useHttpGzip", "the SDK client's defaults apply"),
];

/// Global keys that pick the credentials, hence the account data goes to.
const IDENTITY_KEYS: &[&str] = &[
    "assumeRoleARN",
    "assumeRoleExternalId",
    "userDefinedCredentialsProvider.classname",
    "userDefinedCredentialsProvider.location",
];

/// Flow keys the agent reads.
const FLOW_KEYS: &[&str] = &[
    "filePattern",
    "kinesisStream",
    "deliveryStream",
    "partitionKeyOption",
    "initialPosition",
    "skipHeaderLines",
    "multiLineStartPattern",
    "truncatedRecordTerminator",
    "fileFooterPattern",
    "maxBufferAgeMillis",
    "maxBufferSizeRecords",
    "maxBufferSizeBytes",
    "aggregatedRecordSizeBytes",
    "minTimeBetweenFilePollsMillis",
    "maxTimeBetweenFileTrackerRefreshMillis",
    "retryInitialBackoffMillis",
    "retryMaxBackoffMillis",
    "dataProcessingOptions",
];

/// Flow keys of the Kinesis Agent that Freshet accepts but does not act on.
const IGNORED_FLOW_KEYS: &[(&str, &str)] = &[
    (
        "publishQueueCapacity",
        "each flow sends one buffer at a time",
    ),
    (
        "waitOnFullPublishQueueMillis",
        "each flow sends one buffer at a time",
    ),
    (
        "waitOnEmptyPublishQueueMillis",
        "each flow sends one buffer at a time",
    ),
];

/// Where a file is read from when the agent has no checkpoint for its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialPosition {
    /// Everything in the file.
    StartOfFile,
    /// Only what is written after the agent starts (the Kinesis Agent's default).
    EndOfFile,
}

/// How a Kinesis record's partition key is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKeyOption {
    /// A random number in [0, 1e6) as text (the default): records spread over every shard.
    Random,
    /// The MD5 hex digest of the record: equal records go to the same shard.
    Deterministic,
}

/// One validated flow.
#[derive(Debug)]
pub struct FlowConfig {
    /// `kinesis:<stream>:<pattern>` or `fh:<stream>:<pattern>`, as the Java agent names flows;
    /// the checkpoint key.
    pub id: String,
    /// The directory part of `filePattern` (no wildcards).
    pub directory: PathBuf,
    /// The file-name part of `filePattern` (a glob: `*`, `?`, `[...]`).
    pub file_glob: String,
    /// The original `filePattern`.
    pub file_pattern: String,
    /// Where records go.
    pub destination: Destination,
    /// Partition keys (Kinesis only).
    pub partition_key: PartitionKeyOption,
    /// Where files without a checkpoint start.
    pub initial_position: InitialPosition,
    /// Lines skipped at the start of each file.
    pub skip_header_lines: usize,
    /// A record is a matching line plus the non-matching lines after it.
    pub multi_line_start: Option<regex::bytes::Regex>,
    /// A matching line ends the file: it and what follows are not sent.
    pub file_footer: Option<regex::bytes::Regex>,
    /// Appended to a record cut at the destination's record size.
    pub truncated_record_terminator: Vec<u8>,
    /// A buffer is sent once its oldest record is this old.
    pub max_buffer_age: Duration,
    /// ... or once it holds this many records.
    pub max_buffer_records: usize,
    /// ... or this many bytes.
    pub max_buffer_bytes: usize,
    /// Firehose only: lines packed into one record up to this size (0 = off).
    pub aggregated_record_size: usize,
    /// Pause between polls of a file that had nothing new.
    pub poll_interval: Duration,
    /// Longest time between two listings of the directory.
    pub refresh_interval: Duration,
    /// First retry delay.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// The converter chain.
    pub processors: Processors,
}

/// The whole configuration.
#[derive(Debug)]
pub struct AgentConfig {
    /// Kinesis endpoint URL (`kinesis.endpoint`), if set.
    pub kinesis_endpoint: Option<String>,
    /// Kinesis region.
    pub kinesis_region: Option<String>,
    /// Firehose endpoint URL.
    pub firehose_endpoint: Option<String>,
    /// Firehose region.
    pub firehose_region: Option<String>,
    /// CloudWatch endpoint URL.
    pub cloudwatch_endpoint: Option<String>,
    /// CloudWatch region.
    pub cloudwatch_region: Option<String>,
    /// Static credentials (`awsAccessKeyId`, `awsSecretAccessKey`).
    pub credentials: Option<(String, String)>,
    /// Whether the agent's metrics are published.
    pub emit_metrics: bool,
    /// Their namespace (`AWSKinesisAgent`).
    pub metrics_namespace: String,
    /// How often metrics are published (standalone).
    pub metrics_interval: Duration,
    /// `checkpointFile`, if set.
    pub checkpoint_file: Option<PathBuf>,
    /// Checkpoints not updated for this long are forgotten.
    pub checkpoint_ttl: Duration,
    /// How often the progress line is logged.
    pub status_period: Duration,
    /// Longest a graceful shutdown waits for buffers in flight.
    pub shutdown_timeout: Duration,
    /// The flows.
    pub flows: Vec<FlowConfig>,
    /// Keys read but not acted on, or unknown, each in a sentence naming the key.
    pub warnings: Vec<String>,
}

/// Everything wrong with a configuration, one line each.
#[derive(Debug, thiserror::Error)]
#[error("invalid agent configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigErrors(pub Vec<String>);

impl AgentConfig {
    /// Parses and validates `agent.json` text.
    pub fn parse(text: &str) -> Result<Self, ConfigErrors> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigErrors(vec![format!("not valid JSON: {e}")]))?;
        let Value::Object(root) = value else {
            return Err(ConfigErrors(vec![
                "the top level must be a JSON object".to_owned(),
            ]));
        };
        let mut cx = Cx::default();
        let config = Self::from_map(&root, &mut cx);
        if cx.errors.is_empty() {
            let mut config = config;
            config.warnings = cx.warnings;
            Ok(config)
        } else {
            Err(ConfigErrors(cx.errors))
        }
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![format!("cannot read {}: {e}", path.display())]))?;
        Self::parse(&text)
    }

    /// Points every endpoint at `url` (the CLI's `--endpoint`).
    pub fn override_endpoints(&mut self, url: &str) {
        self.kinesis_endpoint = Some(url.to_owned());
        self.firehose_endpoint = Some(url.to_owned());
        self.cloudwatch_endpoint = Some(url.to_owned());
    }

    fn from_map(root: &Map<String, Value>, cx: &mut Cx) -> Self {
        for key in root.keys() {
            if GLOBAL_KEYS.contains(&key.as_str()) || IDENTITY_KEYS.contains(&key.as_str()) {
                continue;
            }
            match IGNORED_GLOBAL_KEYS.iter().find(|(k, _)| k == key) {
                Some((_, why)) => cx.warn(format!("agent.json key {key} is ignored: {why}.")),
                None => cx.warn(format!("agent.json key {key} is unknown and ignored.")),
            }
        }
        let g = Scope {
            map: root,
            name: "agent.json".to_owned(),
        };
        let kinesis_endpoint = g.string(cx, "kinesis.endpoint");
        let firehose_endpoint = g.string(cx, "firehose.endpoint");
        let cloudwatch_endpoint = g.string(cx, "cloudwatch.endpoint");
        let key_id = g.string(cx, "awsAccessKeyId");
        let secret = g.string(cx, "awsSecretAccessKey");
        let credentials = match (key_id, secret) {
            (Some(k), Some(s)) => Some((k, s)),
            (None, None) => None,
            _ => {
                cx.error(
                    "agent.json: awsAccessKeyId and awsSecretAccessKey must be set together"
                        .to_owned(),
                );
                None
            }
        };
        for key in IDENTITY_KEYS {
            if root.contains_key(*key) {
                // No endpoint set means AWS's; any AWS endpoint set means AWS too.
                let set: Vec<&str> = [&kinesis_endpoint, &firehose_endpoint]
                    .into_iter()
                    .filter_map(|e| e.as_deref())
                    .collect();
                let on_aws = set.is_empty() || set.iter().any(|u| u.contains("amazonaws.com"));
                if on_aws {
                    cx.error(format!(
                        "agent.json: {key} is not supported, and against AWS it would change \
                         the account data goes to; remove it and give credentials through \
                         awsAccessKeyId/awsSecretAccessKey or the environment"
                    ));
                } else {
                    cx.warn(format!(
                        "agent.json key {key} is ignored: credentials are not exchanged for a \
                         role against a non-AWS endpoint."
                    ));
                }
            }
        }
        let flows = match root.get("flows") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| FlowConfig::from_value(i, v, cx))
                .collect(),
            Some(_) => {
                cx.error("agent.json: flows must be a list of flow objects".to_owned());
                Vec::new()
            }
            None => Vec::new(),
        };
        if flows.is_empty() && cx.errors.is_empty() {
            cx.error("agent.json: flows is empty: nothing to tail".to_owned());
        }
        Self {
            kinesis_endpoint,
            kinesis_region: g.string(cx, "kinesis.region"),
            firehose_endpoint,
            firehose_region: g.string(cx, "firehose.region"),
            cloudwatch_endpoint,
            cloudwatch_region: g.string(cx, "cloudwatch.region"),
            credentials,
            emit_metrics: g.boolean(cx, "cloudwatch.emitMetrics").unwrap_or(true),
            metrics_namespace: g
                .string(cx, "cloudwatch.namespace")
                .unwrap_or_else(|| "AWSKinesisAgent".to_owned()),
            metrics_interval: g.millis(
                cx,
                "cloudwatch.metricsBufferTimeMillis",
                1_000,
                3_600_000,
                30_000,
            ),
            checkpoint_file: g.string(cx, "checkpointFile").map(PathBuf::from),
            checkpoint_ttl: Duration::from_secs(
                g.number(cx, "checkpointTimeToLiveDays", 1, 3_650, 7) * 86_400,
            ),
            status_period: Duration::from_secs(g.number(
                cx,
                "log.statusReportingPeriodSeconds",
                1,
                86_400,
                30,
            )),
            shutdown_timeout: g.millis(cx, "shutdownTimeoutMillis", 1, 3_600_000, 10_000),
            flows,
            warnings: Vec::new(),
        }
    }
}

impl FlowConfig {
    fn from_value(index: usize, value: &Value, cx: &mut Cx) -> Option<Self> {
        let Value::Object(map) = value else {
            cx.error(format!("flows[{index}]: must be an object"));
            return None;
        };
        let pattern = map
            .get("filePattern")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let stream = map
            .get("kinesisStream")
            .or_else(|| map.get("deliveryStream"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let prefix = if map.contains_key("deliveryStream") {
            "fh"
        } else {
            "kinesis"
        };
        let id = format!("{prefix}:{stream}:{pattern}");
        let f = Scope {
            map,
            name: format!("flows[{index}] ({id})"),
        };
        for key in map.keys() {
            if FLOW_KEYS.contains(&key.as_str()) {
                continue;
            }
            match IGNORED_FLOW_KEYS.iter().find(|(k, _)| k == key) {
                Some((_, why)) => cx.warn(format!("{}: key {key} is ignored: {why}.", f.name)),
                None => cx.warn(format!("{}: key {key} is unknown and ignored.", f.name)),
            }
        }
        let errors_before = cx.errors.len();
        let file_pattern = f.string(cx, "filePattern");
        let (directory, file_glob) = match &file_pattern {
            Some(p) => split_pattern(p).unwrap_or_else(|why| {
                cx.error(format!("{}: filePattern {why}", f.name));
                (PathBuf::new(), String::new())
            }),
            None => {
                cx.error(format!("{}: filePattern is required", f.name));
                (PathBuf::new(), String::new())
            }
        };
        let kinesis = f.string(cx, "kinesisStream");
        let firehose = f.string(cx, "deliveryStream");
        let destination = match (kinesis, firehose) {
            (Some(k), None) => Destination::KinesisStream(k),
            (None, Some(d)) => Destination::DeliveryStream(d),
            (Some(_), Some(_)) => {
                cx.error(format!(
                    "{}: set kinesisStream or deliveryStream, not both",
                    f.name
                ));
                Destination::KinesisStream(String::new())
            }
            (None, None) => {
                cx.error(format!(
                    "{}: kinesisStream or deliveryStream is required",
                    f.name
                ));
                Destination::KinesisStream(String::new())
            }
        };
        let caps = limits(&destination);
        let partition_key = match f.string(cx, "partitionKeyOption").as_deref() {
            None | Some("RANDOM") => PartitionKeyOption::Random,
            Some("DETERMINISTIC") => PartitionKeyOption::Deterministic,
            Some(other) => {
                cx.error(format!(
                    "{}: partitionKeyOption {other:?} is not RANDOM or DETERMINISTIC",
                    f.name
                ));
                PartitionKeyOption::Random
            }
        };
        if map.contains_key("partitionKeyOption")
            && matches!(destination, Destination::DeliveryStream(_))
        {
            cx.warn(format!(
                "{}: key partitionKeyOption is ignored: delivery streams have no partition keys.",
                f.name
            ));
        }
        let initial_position = match f.string(cx, "initialPosition").as_deref() {
            None | Some("END_OF_FILE") => InitialPosition::EndOfFile,
            Some("START_OF_FILE") => InitialPosition::StartOfFile,
            Some(other) => {
                cx.error(format!(
                    "{}: initialPosition {other:?} is not START_OF_FILE or END_OF_FILE",
                    f.name
                ));
                InitialPosition::EndOfFile
            }
        };
        let aggregated_record_size =
            f.number(cx, "aggregatedRecordSizeBytes", 0, 1_024_000, 0) as usize;
        if aggregated_record_size > 0 && matches!(destination, Destination::KinesisStream(_)) {
            cx.error(format!(
                "{}: aggregatedRecordSizeBytes applies to deliveryStream flows only",
                f.name
            ));
        }
        let retry_initial = f.millis(cx, "retryInitialBackoffMillis", 1, 3_600_000, 100);
        let retry_max = f.millis(cx, "retryMaxBackoffMillis", 1, 3_600_000, 10_000);
        if retry_max < retry_initial {
            cx.error(format!(
                "{}: retryMaxBackoffMillis must be at least retryInitialBackoffMillis",
                f.name
            ));
        }
        let terminator = f
            .string(cx, "truncatedRecordTerminator")
            .unwrap_or_else(|| "\n".to_owned())
            .into_bytes();
        if terminator.len() >= caps.record_bytes {
            cx.error(format!("{}: truncatedRecordTerminator is too long", f.name));
        }
        let options: Vec<Value> = match map.get("dataProcessingOptions") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(_) => {
                cx.error(format!("{}: dataProcessingOptions must be a list", f.name));
                Vec::new()
            }
        };
        let processors = match Processors::from_options(&options) {
            Ok(p) => {
                for w in p.warnings() {
                    cx.warn(format!("{}: {w}", f.name));
                }
                Some(p)
            }
            Err(e) => {
                cx.error(format!("{}: {e}", f.name));
                None
            }
        };
        let flow = FlowConfig {
            id,
            directory,
            file_glob,
            file_pattern: file_pattern.unwrap_or_default(),
            partition_key,
            initial_position,
            skip_header_lines: f.number(cx, "skipHeaderLines", 0, u64::from(u32::MAX), 0) as usize,
            multi_line_start: f.regex(cx, "multiLineStartPattern"),
            file_footer: f.regex(cx, "fileFooterPattern"),
            truncated_record_terminator: terminator,
            max_buffer_age: f.millis(cx, "maxBufferAgeMillis", 1_000, 900_000, 60_000),
            max_buffer_records: f.number(
                cx,
                "maxBufferSizeRecords",
                1,
                caps.batch_records as u64,
                caps.batch_records as u64,
            ) as usize,
            max_buffer_bytes: f.number(
                cx,
                "maxBufferSizeBytes",
                1,
                caps.batch_bytes as u64,
                caps.batch_bytes as u64,
            ) as usize,
            aggregated_record_size,
            poll_interval: f.millis(cx, "minTimeBetweenFilePollsMillis", 1, 600_000, 100),
            refresh_interval: f.millis(
                cx,
                "maxTimeBetweenFileTrackerRefreshMillis",
                1,
                3_600_000,
                10_000,
            ),
            retry_initial,
            retry_max,
            destination,
            processors: processors.unwrap_or_default(),
        };
        (cx.errors.len() == errors_before).then_some(flow)
    }
}

/// Splits `/dir/name-*.log` into the literal directory and the file-name glob.
fn split_pattern(pattern: &str) -> Result<(PathBuf, String), String> {
    let path = std::path::Path::new(pattern);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{pattern:?} has no file name"))?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    if dir.to_string_lossy().contains(['*', '?', '[', '{']) {
        return Err(format!(
            "{pattern:?} has a wildcard in its directory; only the file name may be a glob"
        ));
    }
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    Ok((dir, name.to_owned()))
}

/// Errors and warnings collected while reading.
#[derive(Default)]
struct Cx {
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl Cx {
    fn error(&mut self, e: String) {
        self.errors.push(e);
    }
    fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }
}

/// Typed reads of one JSON object's keys, naming the object in errors.
struct Scope<'a> {
    map: &'a Map<String, Value>,
    name: String,
}

impl Scope<'_> {
    fn string(&self, cx: &mut Cx, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                cx.error(format!(
                    "{}: {key} must be a string, not {other}",
                    self.name
                ));
                None
            }
        }
    }

    fn boolean(&self, cx: &mut Cx, key: &str) -> Option<bool> {
        match self.map.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            other => {
                cx.error(format!(
                    "{}: {key} must be true or false, not {other}",
                    self.name
                ));
                None
            }
        }
    }

    /// A whole number in `[min, max]`; `default` when absent.
    fn number(&self, cx: &mut Cx, key: &str, min: u64, max: u64, default: u64) -> u64 {
        let Some(v) = self.map.get(key) else {
            return default;
        };
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => n,
            Some(n) => {
                cx.error(format!(
                    "{}: {key} is {n}, outside {min}..={max}",
                    self.name
                ));
                default
            }
            None => {
                cx.error(format!(
                    "{}: {key} must be a whole number, not {v}",
                    self.name
                ));
                default
            }
        }
    }

    fn millis(&self, cx: &mut Cx, key: &str, min: u64, max: u64, default: u64) -> Duration {
        Duration::from_millis(self.number(cx, key, min, max, default))
    }

    fn regex(&self, cx: &mut Cx, key: &str) -> Option<regex::bytes::Regex> {
        let text = self.string(cx, key)?;
        // The Java agent matches from the start of the line (Matcher.lookingAt semantics).
        match regex::bytes::Regex::new(&format!("^(?:{text})")) {
            Ok(r) => Some(r),
            Err(e) => {
                cx.error(format!(
                    "{}: {key} is not a valid regular expression: {e}",
                    self.name
                ));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> AgentConfig {
        match AgentConfig::parse(text) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        match AgentConfig::parse(text) {
            Ok(_) => panic!("expected errors"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn a_minimal_kinesis_flow_gets_the_kinesis_agent_defaults() {
        let c = parse(r#"{"flows":[{"filePattern":"/tmp/app/*.log","kinesisStream":"s"}]}"#);
        let f = &c.flows[0];
        assert_eq!(f.id, "kinesis:s:/tmp/app/*.log");
        assert_eq!(f.directory, PathBuf::from("/tmp/app"));
        assert_eq!(f.file_glob, "*.log");
        assert_eq!(f.initial_position, InitialPosition::EndOfFile);
        assert_eq!(f.partition_key, PartitionKeyOption::Random);
        assert_eq!(f.max_buffer_age, Duration::from_secs(60));
        assert_eq!(f.max_buffer_records, 500);
        assert_eq!(f.max_buffer_bytes, 5 * 1024 * 1024);
        assert_eq!(f.truncated_record_terminator, b"\n");
        assert_eq!(f.retry_initial, Duration::from_millis(100));
        assert_eq!(f.retry_max, Duration::from_secs(10));
        assert!(c.emit_metrics);
        assert_eq!(c.metrics_namespace, "AWSKinesisAgent");
        assert_eq!(c.status_period, Duration::from_secs(30));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn a_firehose_flow_is_capped_at_four_mebibytes() {
        let c = parse(r#"{"flows":[{"filePattern":"/a/b","deliveryStream":"d"}]}"#);
        assert_eq!(c.flows[0].max_buffer_bytes, 4 * 1024 * 1024);
        assert_eq!(c.flows[0].id, "fh:d:/a/b");
        let e = errors(
            r#"{"flows":[{"filePattern":"/a/b","deliveryStream":"d","maxBufferSizeBytes":5000000}]}"#,
        );
        assert!(
            e[0].contains("flows[0] (fh:d:/a/b): maxBufferSizeBytes is 5000000"),
            "{e:?}"
        );
    }

    #[test]
    fn numbers_may_be_strings_as_in_the_java_agent() {
        let c = parse(
            r#"{"flows":[{"filePattern":"/a/b","kinesisStream":"s","maxBufferAgeMillis":"2000"}]}"#,
        );
        assert_eq!(c.flows[0].max_buffer_age, Duration::from_secs(2));
    }

    #[test]
    fn every_error_names_its_flow_and_key_and_all_are_reported_at_once() {
        let e = errors(
            r#"{"flows":[
                {"filePattern":"/a/*","kinesisStream":"s","maxBufferAgeMillis":10},
                {"filePattern":"/a/*","kinesisStream":"s","deliveryStream":"d"},
                {"filePattern":"/a/*","kinesisStream":"t","initialPosition":"MIDDLE",
                 "maxBufferSizeRecords":501}
            ]}"#,
        );
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].starts_with("flows[0] (kinesis:s:/a/*): maxBufferAgeMillis is 10"));
        assert!(e[1].contains("flows[1]") && e[1].contains("not both"));
        assert!(
            e.iter()
                .any(|m| m.contains("flows[2]") && m.contains("initialPosition"))
        );
        assert!(
            e.iter()
                .any(|m| m.contains("flows[2]") && m.contains("maxBufferSizeRecords"))
        );
    }

    #[test]
    fn unsupported_and_unknown_keys_are_warned_about_by_name() {
        let c = parse(
            r#"{"cloudwatch.tagInstance":true,"frobnicate":1,
                "assumeRoleARN":"arn:aws:iam::1:role/r","kinesis.endpoint":"http://127.0.0.1:4567",
                "flows":[{"filePattern":"/a/b","kinesisStream":"s","publishQueueCapacity":5,
                          "colour":"red"}]}"#,
        );
        let all = c.warnings.join("\n");
        for key in [
            "cloudwatch.tagInstance",
            "frobnicate",
            "assumeRoleARN",
            "publishQueueCapacity",
            "colour",
        ] {
            assert!(all.contains(key), "{key} missing from {all}");
        }
    }

    #[test]
    fn assuming_a_role_against_aws_is_refused() {
        let e = errors(
            r#"{"assumeRoleARN":"arn:aws:iam::1:role/r",
                "flows":[{"filePattern":"/a/b","kinesisStream":"s"}]}"#,
        );
        assert!(e[0].contains("assumeRoleARN"), "{e:?}");
    }

    #[test]
    fn a_glob_in_the_directory_is_refused() {
        let e = errors(r#"{"flows":[{"filePattern":"/a/*/b.log","kinesisStream":"s"}]}"#);
        assert!(
            e[0].contains("filePattern") && e[0].contains("directory"),
            "{e:?}"
        );
    }

    #[test]
    fn aggregation_is_for_delivery_streams_only() {
        let e = errors(
            r#"{"flows":[{"filePattern":"/a/b","kinesisStream":"s","aggregatedRecordSizeBytes":100}]}"#,
        );
        assert!(e[0].contains("aggregatedRecordSizeBytes"), "{e:?}");
    }

    #[test]
    fn an_empty_flow_list_is_an_error() {
        assert!(errors(r#"{"flows":[]}"#)[0].contains("flows is empty"));
        assert!(errors("[]")[0].contains("JSON object"));
    }

    #[test]
    fn the_endpoint_override_reaches_every_service() {
        let mut c = parse(r#"{"flows":[{"filePattern":"/a/b","kinesisStream":"s"}]}"#);
        c.override_endpoints("http://x");
        assert_eq!(c.kinesis_endpoint.as_deref(), Some("http://x"));
        assert_eq!(c.firehose_endpoint.as_deref(), Some("http://x"));
        assert_eq!(c.cloudwatch_endpoint.as_deref(), Some("http://x"));
    }

    proptest! {
        #[test]
        fn parsing_any_json_never_panics(text in ".{0,200}") {
            let _ = AgentConfig::parse(&text);
        }

        #[test]
        fn buffer_records_in_range_are_accepted_and_others_refused(n in 0u64..2_000) {
            let text = format!(
                r#"{{"flows":[{{"filePattern":"/a/b","kinesisStream":"s","maxBufferSizeRecords":{n}}}]}}"#
            );
            let ok = AgentConfig::parse(&text).is_ok();
            prop_assert_eq!(ok, (1..=500).contains(&n));
        }
    }
}
