// SPDX-License-Identifier: Apache-2.0
//! Server configuration: the structs, the embedded commented defaults, and the loader.
//!
//! Precedence, lowest first: built-in defaults (identical to `default.toml`), the `--config`
//! file, environment variables `FRESHET__<SECTION>__<KEY>`, then command-line overrides. Unknown
//! keys anywhere fail the load with the key's name.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The fully commented default configuration, which is also its reference documentation.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("default.toml");

/// Prefix of environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "FRESHET__";

/// Everything `freshet serve` can be configured with.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The listener.
    pub server: ServerConfig,
    /// The data directory and durability.
    pub storage: StorageConfig,
    /// The account and region every service answers as.
    pub aws: AwsConfig,
    /// Kinesis Data Streams behaviour.
    pub kinesis: KinesisConfig,
    /// SQS behaviour.
    pub sqs: SqsConfig,
    /// CloudWatch Logs behaviour.
    pub logs: LogsConfig,
    /// Lambda functions.
    pub lambda: LambdaConfig,
    /// Firehose delivery streams.
    pub firehose: FirehoseConfig,
    /// S3 buckets and objects.
    pub s3: S3Config,
    /// CloudWatch: whether services publish metrics, alarm evaluation, SNS topic webhooks.
    pub cloudwatch: CloudWatchConfig,
    /// API Gateway REST APIs: the Kinesis proxy and stream-bound ingest APIs.
    pub apigateway: ApiGatewayConfig,
    /// The file-tailing agent run inside the server.
    pub agent: AgentSection,
    /// Logging.
    pub log: LogConfig,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address (HTTP/1.1 and h2c).
    pub listen: SocketAddr,
    /// Largest request body accepted by services that set no limit of their own
    /// (`Service::max_body`).
    pub max_body_size: ByteSize,
    /// Most request-body bytes held in memory at once across all connections.
    pub max_in_flight: ByteSize,
    /// Grace period for in-flight requests at shutdown.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Longest a client may take to send a request's headers (and the first request on a
    /// new connection).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Longest a client may take between two pieces of a request body.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Second listen address, for HTTPS (ALPN `h2` and `http/1.1`); off when unset.
    pub tls_listen: Option<SocketAddr>,
    /// PEM certificate chain for the TLS port; a self-signed one is generated when unset.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4567)),
            max_body_size: ByteSize(16 * 1024 * 1024),
            max_in_flight: ByteSize(256 * 1024 * 1024),
            shutdown_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            tls_listen: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// When puts are acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DurabilityMode {
    /// After fdatasync (group commit).
    #[default]
    Fsync,
    /// After the write; fsync every `fsync_interval`.
    Interval,
    /// After the write; fsync only on segment roll and shutdown.
    None,
}

impl fmt::Display for DurabilityMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DurabilityMode::Fsync => "fsync",
            DurabilityMode::Interval => "interval",
            DurabilityMode::None => "none",
        })
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Durability mode.
    pub durability: DurabilityMode,
    /// Fsync period in interval mode.
    #[serde(with = "humantime_serde")]
    pub fsync_interval: Duration,
    /// Segment roll size.
    pub segment_size: ByteSize,
    /// Period of the retention task.
    #[serde(with = "humantime_serde")]
    pub retention_check_interval: Duration,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./freshet-data"),
            durability: DurabilityMode::Fsync,
            fsync_interval: Duration::from_millis(100),
            segment_size: ByteSize(64 * 1024 * 1024),
            retention_check_interval: Duration::from_secs(30),
        }
    }
}

/// `[aws]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Account id in ARNs, queue URLs and messages.
    pub account_id: String,
    /// Region in ARNs and queue URLs.
    pub region: String,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }
}

/// `[kinesis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KinesisConfig {
    /// CREATING → ACTIVE delay.
    #[serde(with = "humantime_serde")]
    pub create_delay: Duration,
    /// DELETING → gone delay.
    #[serde(with = "humantime_serde")]
    pub delete_delay: Duration,
    /// UPDATING → ACTIVE delay.
    #[serde(with = "humantime_serde")]
    pub update_delay: Duration,
    /// Most open shards across all streams.
    pub shard_limit: u32,
    /// Lifetime of shard iterators.
    #[serde(with = "humantime_serde")]
    pub iterator_ttl: Duration,
    /// Whether ON_DEMAND streams split and merge shards with their write traffic.
    pub on_demand_scaling: bool,
    /// How often write rates are measured for on-demand scaling.
    #[serde(with = "humantime_serde")]
    pub on_demand_scaling_interval: Duration,
    /// How long two neighbouring cold shards wait before they are merged.
    #[serde(with = "humantime_serde")]
    pub on_demand_scale_down_after: Duration,
    /// Consumer CREATING → ACTIVE and DELETING → gone delay.
    #[serde(with = "humantime_serde")]
    pub consumer_delay: Duration,
    /// How long a SubscribeToShard event stream stays open.
    #[serde(with = "humantime_serde")]
    pub subscription_lifetime: Duration,
    /// Longest gap between SubscribeToShard events when no records arrive.
    #[serde(with = "humantime_serde")]
    pub subscription_heartbeat: Duration,
    /// Most streams in ON_DEMAND mode.
    pub on_demand_stream_limit: u32,
    /// Throttle each shard of a provisioned stream at the AWS shard limits.
    pub shard_quotas: bool,
}

impl Default for KinesisConfig {
    fn default() -> Self {
        Self {
            create_delay: Duration::from_millis(100),
            delete_delay: Duration::from_millis(100),
            update_delay: Duration::from_millis(100),
            shard_limit: 10_000,
            iterator_ttl: Duration::from_secs(300),
            on_demand_scaling: true,
            on_demand_scaling_interval: Duration::from_secs(5),
            on_demand_scale_down_after: Duration::from_secs(15 * 60),
            consumer_delay: Duration::from_millis(100),
            subscription_lifetime: Duration::from_secs(300),
            subscription_heartbeat: Duration::from_secs(5),
            on_demand_stream_limit: 50,
            shard_quotas: false,
        }
    }
}

/// `[sqs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqsConfig {
    /// Most messages per queue whose metadata is kept in memory; later ones wait on disk.
    pub max_loaded_messages: usize,
    /// Longest time between checkpoints of a queue that changed.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Duration,
    /// Checkpoint a queue after this many journal entries and sends, even sooner.
    pub checkpoint_changes: u64,
    /// How often loading, move-task steps and checkpoint checks run.
    #[serde(with = "humantime_serde")]
    pub maintenance_interval: Duration,
}

impl Default for SqsConfig {
    fn default() -> Self {
        Self {
            max_loaded_messages: 100_000,
            checkpoint_interval: Duration::from_secs(30),
            checkpoint_changes: 50_000,
            maintenance_interval: Duration::from_millis(250),
        }
    }
}

/// `[logs]`: CloudWatch Logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    /// How often per-stream statistics are written to the metadata store.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Duration,
    /// Period of StartLiveTail's session updates.
    #[serde(with = "humantime_serde")]
    pub live_tail_interval: Duration,
    /// How long a StartLiveTail session stays open.
    #[serde(with = "humantime_serde")]
    pub live_tail_timeout: Duration,
    /// Most log groups.
    pub max_log_groups: usize,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            checkpoint_interval: Duration::from_secs(5),
            live_tail_interval: Duration::from_secs(1),
            live_tail_timeout: Duration::from_secs(3 * 60 * 60),
            max_log_groups: 1_000_000,
        }
    }
}

/// `[firehose]`: Data Firehose delivery streams.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirehoseConfig {
    /// How long a new delivery stream stays CREATING.
    #[serde(with = "humantime_serde")]
    pub create_delay: Duration,
    /// How long a deleted delivery stream stays DELETING.
    #[serde(with = "humantime_serde")]
    pub delete_delay: Duration,
    /// Most delivery streams.
    pub stream_limit: usize,
    /// Undelivered DirectPut data per stream beyond which puts are throttled.
    pub undelivered_budget: ByteSize,
    /// Buckets whose objects go to an external S3-compatible store, by bucket name.
    pub remote_buckets:
        std::collections::BTreeMap<String, freshet_firehose::sink::remote::RemoteStore>,
}

/// `[agent]`: a Kinesis Agent `agent.json` the server runs with its in-process sink.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSection {
    /// Path of the agent.json; empty: no agent.
    pub config: PathBuf,
}

/// `[cloudwatch]`: service metrics, alarm evaluation and actions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudWatchConfig {
    /// Whether the services publish their AWS/* metrics (off: nothing is recorded).
    pub metrics: bool,
    /// How often every alarm is evaluated.
    #[serde(with = "humantime_serde")]
    pub alarm_evaluation_interval: Duration,
    /// Per-attempt timeout of a webhook POST.
    #[serde(with = "humantime_serde")]
    pub webhook_timeout: Duration,
    /// Attempts per webhook notification (at least 1).
    pub webhook_attempts: u32,
    /// Webhook URL per SNS topic name; the key `default` serves topics not listed.
    pub webhooks: std::collections::BTreeMap<String, String>,
}

impl Default for CloudWatchConfig {
    fn default() -> Self {
        Self {
            metrics: true,
            alarm_evaluation_interval: Duration::from_secs(10),
            webhook_timeout: Duration::from_secs(5),
            webhook_attempts: 3,
            webhooks: Default::default(),
        }
    }
}

impl Default for FirehoseConfig {
    fn default() -> Self {
        Self {
            create_delay: Duration::from_millis(500),
            delete_delay: Duration::from_millis(500),
            stream_limit: 5000,
            undelivered_budget: ByteSize(1 << 30),
            remote_buckets: Default::default(),
        }
    }
}

/// `[s3]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// Host suffixes of virtual-host addressing: `<bucket>.<suffix>[:port]`.
    pub virtual_hosts: Vec<String>,
    /// Credentials whose signatures are verified; empty accepts any credentials unchecked.
    pub credentials: Vec<S3Credential>,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            virtual_hosts: vec!["localhost".to_owned()],
            credentials: Vec::new(),
        }
    }
}

/// One `[[s3.credentials]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct S3Credential {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

/// `[apigateway]`: REST ingest under `/restapis/`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ApiGatewayConfig {
    /// Whether the Kinesis proxy tutorial's API is served at `/restapis/kinesis/<stage>/`.
    pub kinesis_proxy: bool,
    /// Stream-bound APIs (`/restapis/<name>/<stage>/record` and `/records`).
    pub kinesis_apis: Vec<KinesisApiConfig>,
}

impl Default for ApiGatewayConfig {
    fn default() -> Self {
        Self {
            kinesis_proxy: true,
            kinesis_apis: Vec::new(),
        }
    }
}

impl ApiGatewayConfig {
    /// The service's options.
    pub fn options(&self) -> freshet_apigateway::ApiGatewayOptions {
        freshet_apigateway::ApiGatewayOptions {
            kinesis_proxy: self.kinesis_proxy,
            stream_apis: self
                .kinesis_apis
                .iter()
                .map(|a| freshet_apigateway::StreamApi {
                    name: a.name.clone(),
                    stream: a.stream.clone(),
                })
                .collect(),
        }
    }
}

/// One `[[apigateway.kinesis_apis]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KinesisApiConfig {
    /// The API's name in the path.
    pub name: String,
    /// The Kinesis stream its records go to.
    pub stream: String,
}

/// `[lambda]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LambdaConfig {
    /// Where deployment packages are stored and unpacked; `None` (empty in the file) for
    /// `<data_dir>/lambda/code`.
    #[serde(deserialize_with = "empty_is_none")]
    pub code_dir: Option<PathBuf>,
    /// Concurrent executions across all functions (the account's `ConcurrentExecutions`).
    pub total_concurrency: u32,
    /// Concurrency that reservations (PutFunctionConcurrency) must leave to the others.
    pub min_unreserved_concurrency: u32,
    /// How long an idle execution environment is kept warm.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Event (asynchronous) invocations accepted and not yet finished, beyond which Invoke
    /// answers TooManyRequestsException.
    pub max_queued_events: usize,
    /// The interpreter of each runtime family (`python`, `nodejs`) or runtime
    /// (`python3.12`, which wins over its family); unset ones use `python3.<minor>` if it
    /// runs, else `python3`, and `node`.
    pub interpreters: std::collections::BTreeMap<String, String>,
}

impl Default for LambdaConfig {
    fn default() -> Self {
        Self {
            code_dir: None,
            total_concurrency: 1000,
            min_unreserved_concurrency: 100,
            idle_timeout: Duration::from_secs(300),
            max_queued_events: 10_000,
            interpreters: std::collections::BTreeMap::new(),
        }
    }
}

impl LambdaConfig {
    /// The interpreter for runtime `id` (`python3.12`): its own entry, else its family's.
    pub fn interpreter(&self, id: &str) -> Option<&str> {
        let family = if id.starts_with("python") {
            "python"
        } else if id.starts_with("nodejs") {
            "nodejs"
        } else {
            id
        };
        self.interpreters
            .get(id)
            .or_else(|| self.interpreters.get(family))
            .map(String::as_str)
    }
}

fn empty_is_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let s = String::deserialize(d)?;
    Ok((!s.is_empty()).then(|| PathBuf::from(s)))
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Env-filter directives.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// A size in bytes, written in configuration as `"64MiB"`, `"512KiB"`, `"1GB"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid size {s:?}: expected e.g. \"64MiB\""))?;
        let mult: u64 = match unit.trim() {
            "" | "B" => 1,
            "KB" | "kB" => 1000,
            "KiB" => 1 << 10,
            "MB" => 1000 * 1000,
            "MiB" => 1 << 20,
            "GB" => 1000 * 1000 * 1000,
            "GiB" => 1 << 30,
            other => {
                return Err(format!(
                    "invalid size unit {other:?} in {s:?}: use B, KiB, MiB or GiB"
                ));
            }
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| format!("size {s:?} is too large"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Str(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Where configuration comes from, besides the defaults.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// The `--config` file.
    pub file: Option<PathBuf>,
    /// Whether to read `FRESHET__*` environment variables.
    pub read_env: bool,
    /// Command-line overrides as (`section.key`, value) pairs; values are parsed as TOML when
    /// they parse, as strings otherwise.
    pub overrides: Vec<(String, String)>,
}

/// Why configuration could not be loaded. Every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(p: String) -> Self {
        Self { problems: vec![p] }
    }
}

impl Config {
    /// Loads configuration from the sources in `opts`, then validates it.
    pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
        let mut table = match &opts.file {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        if opts.read_env {
            let mut vars: Vec<(String, String)> = std::env::vars()
                .filter_map(|(k, v)| {
                    let rest = k.strip_prefix(ENV_PREFIX)?;
                    Some((rest.to_ascii_lowercase().replace("__", "."), v))
                })
                .collect();
            vars.sort();
            for (key, value) in vars {
                set_dotted(&mut table, &key, &value).map_err(|e| {
                    ConfigError::one(format!(
                        "environment {ENV_PREFIX}{}: {e}",
                        key.to_ascii_uppercase().replace('.', "__")
                    ))
                })?;
            }
        }
        for (key, value) in &opts.overrides {
            set_dotted(&mut table, key, value)
                .map_err(|e| ConfigError::one(format!("{key}: {e}")))?;
        }
        check_removed(&table)?;
        let config: Config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::one(e.to_string().trim().to_owned()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but make no sense, returning every problem at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.server.max_body_size.0 < 1024 * 1024 {
            problems.push("server.max_body_size must be at least 1MiB".to_owned());
        }
        if self.server.max_in_flight < self.server.max_body_size {
            problems.push("server.max_in_flight must be at least server.max_body_size".to_owned());
        }
        if self.server.max_in_flight.0 > u64::from(u32::MAX) {
            problems.push("server.max_in_flight must be under 4GiB".to_owned());
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            problems.push("server.tls_cert and server.tls_key must be set together".to_owned());
        }
        if self
            .server
            .tls_listen
            .is_some_and(|t| t == self.server.listen && t.port() != 0)
        {
            problems.push(format!(
                "server.tls_listen must differ from server.listen ({})",
                self.server.listen
            ));
        }
        if self.server.tls_cert.is_some() && self.server.tls_listen.is_none() {
            problems.push(
                "server.tls_cert is set but server.tls_listen is not: set the TLS address too"
                    .to_owned(),
            );
        }
        if self.lambda.total_concurrency == 0
            || self.lambda.min_unreserved_concurrency > self.lambda.total_concurrency
        {
            problems.push(
                "lambda.total_concurrency must be at least 1 and at least \
                 lambda.min_unreserved_concurrency"
                    .to_owned(),
            );
        }
        for key in self.lambda.interpreters.keys() {
            let known = key == "python"
                || key == "nodejs"
                || freshet_lambda::spec::Runtime::parse(key).is_some_and(|r| !r.is_provided());
            if !known {
                problems.push(format!(
                    "lambda.interpreters.{key}: not a runtime family (python, nodejs) or a \
                     Python/Node runtime Freshet runs"
                ));
            }
        }
        if self.storage.segment_size.0 < 64 * 1024 {
            problems.push("storage.segment_size must be at least 64KiB".to_owned());
        }
        if self.storage.segment_size.0 > u64::from(u32::MAX) {
            problems.push("storage.segment_size must be under 4GiB".to_owned());
        }
        if self.storage.durability == DurabilityMode::Interval
            && self.storage.fsync_interval.is_zero()
        {
            problems.push("storage.fsync_interval must be greater than zero".to_owned());
        }
        if self.storage.retention_check_interval.is_zero() {
            problems.push("storage.retention_check_interval must be greater than zero".to_owned());
        }
        let a = &self.aws.account_id;
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("aws.account_id must be 12 digits, not {a:?}"));
        }
        let r = &self.aws.region;
        if r.is_empty()
            || !r
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            problems.push(format!(
                "aws.region must look like \"us-east-1\", not {r:?}"
            ));
        }
        if self.kinesis.iterator_ttl.is_zero() {
            problems.push("kinesis.iterator_ttl must be greater than zero".to_owned());
        }
        if self.kinesis.on_demand_scaling_interval.is_zero() {
            problems
                .push("kinesis.on_demand_scaling_interval must be greater than zero".to_owned());
        }
        if self.kinesis.shard_limit == 0 {
            problems.push("kinesis.shard_limit must be at least 1".to_owned());
        }
        if self.kinesis.subscription_lifetime.is_zero() {
            problems.push("kinesis.subscription_lifetime must be greater than zero".to_owned());
        }
        if self.kinesis.subscription_heartbeat.is_zero() {
            problems.push("kinesis.subscription_heartbeat must be greater than zero".to_owned());
        }
        if self.sqs.max_loaded_messages == 0 {
            problems.push("sqs.max_loaded_messages must be at least 1".to_owned());
        }
        if self.sqs.checkpoint_interval.is_zero() {
            problems.push("sqs.checkpoint_interval must be greater than zero".to_owned());
        }
        if self.sqs.maintenance_interval.is_zero() {
            problems.push("sqs.maintenance_interval must be greater than zero".to_owned());
        }
        for (key, d) in [
            ("logs.checkpoint_interval", self.logs.checkpoint_interval),
            ("logs.live_tail_interval", self.logs.live_tail_interval),
            ("logs.live_tail_timeout", self.logs.live_tail_timeout),
        ] {
            if d.is_zero() {
                problems.push(format!("{key} must be greater than zero"));
            }
        }
        problems.extend(self.apigateway.options().problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

/// Keys and sections that existed once: their presence fails the load with what to write
/// instead, rather than a bare "unknown field".
const REMOVED: &[(&str, &str)] = &[(
    "streams",
    "the [streams] section is now [kinesis] (FRESHET__KINESIS__*), and its account_id and \
         region moved to [aws] (they apply to every service)",
)];

fn check_removed(table: &toml::Table) -> Result<(), ConfigError> {
    let problems: Vec<String> = REMOVED
        .iter()
        .filter(|(key, _)| {
            let mut parts = key.split('.');
            let section = parts.next().unwrap_or_default();
            match (table.get(section), parts.next()) {
                (Some(_), None) => true,
                (Some(toml::Value::Table(t)), Some(k)) => t.contains_key(k),
                _ => false,
            }
        })
        .map(|(key, guidance)| format!("{key} is no longer a configuration key: {guidance}"))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems })
    }
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::one(format!("cannot read {}: {e}", path.display())))?;
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::one(format!("{}: {}", path.display(), e.to_string().trim())))
}

fn set_dotted(table: &mut toml::Table, key: &str, raw: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("invalid key {key:?}"));
    }
    let value = parse_value(raw);
    let (last, sections) = parts
        .split_last()
        .ok_or_else(|| format!("invalid key {key:?}"))?;
    let mut t = table;
    for s in sections {
        let entry = t
            .entry((*s).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("{s} is not a section"))?;
    }
    t.insert((*last).to_owned(), value);
    Ok(())
}

/// A value given on the command line or in the environment: TOML when it parses as a TOML
/// scalar (numbers, booleans, quoted strings), a plain string otherwise.
fn parse_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_file_equals_built_in_defaults() {
        let from_file: Config = toml::from_str(DEFAULT_CONFIG_TOML).expect("default.toml parses");
        let built_in = Config::default();
        assert_eq!(format!("{from_file:?}"), format!("{built_in:?}"));
    }

    #[test]
    fn stream_bound_apis_load_and_bad_ones_fail_with_every_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[[apigateway.kinesis_apis]]\nname = \"ingest\"\nstream = \"orders\"\n",
        )
        .expect("write");
        let c = Config::load(&LoadOptions {
            file: Some(path.clone()),
            ..Default::default()
        })
        .expect("loads");
        let opts = c.apigateway.options();
        assert!(opts.kinesis_proxy);
        assert_eq!(opts.stream_apis[0].stream, "orders");
        std::fs::write(
            &path,
            "[[apigateway.kinesis_apis]]\nname = \"kinesis\"\nstream = \"a b\"\n",
        )
        .expect("write");
        let err = Config::load(&LoadOptions {
            file: Some(path),
            ..Default::default()
        })
        .expect_err("bad api");
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[storage]\ndurabilty = \"none\"\n").expect("write");
        let err = Config::load(&LoadOptions {
            file: Some(path),
            ..Default::default()
        })
        .expect_err("typo must fail");
        assert!(err.to_string().contains("durabilty"), "{err}");
    }

    #[test]
    fn overrides_beat_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[storage]\ndurability = \"none\"\nsegment_size = \"1MiB\"\n",
        )
        .expect("write");
        let c = Config::load(&LoadOptions {
            file: Some(path),
            read_env: false,
            overrides: vec![("storage.durability".into(), "interval".into())],
        })
        .expect("loads");
        assert_eq!(c.storage.durability, DurabilityMode::Interval);
        assert_eq!(c.storage.segment_size, ByteSize(1 << 20));
    }

    #[test]
    fn validation_reports_every_problem() {
        let mut c = Config::default();
        c.aws.account_id = "12".into();
        c.kinesis.shard_limit = 0;
        let err = c.validate().expect_err("invalid");
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn tls_cert_and_key_go_together_with_an_address() {
        let mut c = Config::default();
        c.server.tls_cert = Some("cert.pem".into());
        let err = c.validate().expect_err("key missing");
        assert_eq!(err.problems.len(), 2, "{err}");
        c.server.tls_key = Some("key.pem".into());
        c.server.tls_listen = Some(c.server.listen);
        let err = c.validate().expect_err("same port twice");
        assert!(err.to_string().contains("must differ"), "{err}");
        c.server.tls_listen = Some(SocketAddr::from(([127, 0, 0, 1], 4568)));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn shard_quotas_are_off_by_default_and_on_with_an_override() {
        assert!(!Config::default().kinesis.shard_quotas);
        let c = Config::load(&LoadOptions {
            overrides: vec![("kinesis.shard_quotas".into(), "true".into())],
            ..Default::default()
        })
        .expect("loads");
        assert!(c.kinesis.shard_quotas);
    }

    #[test]
    fn the_old_streams_section_fails_with_guidance() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[streams]\nshard_quotas = true\n").expect("write");
        let err = Config::load(&LoadOptions {
            file: Some(path),
            ..LoadOptions::default()
        })
        .expect_err("removed section");
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(err.problems[0].contains("is now [kinesis]"), "{err}");
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!("64MiB".parse::<ByteSize>(), Ok(ByteSize(64 << 20)));
        assert_eq!("512 KiB".parse::<ByteSize>(), Ok(ByteSize(512 << 10)));
        assert_eq!("100".parse::<ByteSize>(), Ok(ByteSize(100)));
        assert!("5 parsecs".parse::<ByteSize>().is_err());
    }
}
