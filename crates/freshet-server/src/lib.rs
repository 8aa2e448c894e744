// SPDX-License-Identifier: Apache-2.0
//! Freshet server wiring: configuration, the platform (log backend, metadata store, clock,
//! components), the services on the shared front door, listeners and shutdown.
//!
//! A library so that tests can start a real server in-process on `127.0.0.1:0`:
//! [`start`] opens and recovers the data directory, starts every service and component, binds
//! the listeners and returns a [`RunningServer`]; [`serve`] does the same and runs until
//! SIGINT or SIGTERM. [`start_with`] takes a [`Clock`], so tests can drive time by hand.
//!
//! Tasks: one accept loop per listener (one tokio task per connection, HTTP/1.1 or h2c detected
//! per connection; on the optional TLS port, ALPN `h2` or `http/1.1` after the handshake), the
//! components under the [`Supervisor`] (Kinesis retention and on-demand scaling, CloudWatch
//! Logs checkpoints, retention and subscription filter delivery, Lambda event source mappings and asynchronous invocations,
//! ...), and the
//! log's group-commit thread owned by `freshet-log`.
//!
//! Shutdown order: stop accepting and let requests finish (up to `server.shutdown_timeout`),
//! cancel the components, shut each service down, then make the logs durable and close the
//! metadata store.

pub mod agent;
pub mod config;
mod http;
mod lock;
pub mod subscriptions;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use freshet_apigateway::ApiGatewayService;
use freshet_cloudwatch::{CloudWatch, CloudWatchService};
use freshet_console::ConsoleService;
use freshet_firehose::{Firehose, FirehoseOptions, FirehoseService};
use freshet_glue::{Glue, GlueService};
use freshet_kinesis::{KinesisService, ScalerOptions, Streams, StreamsOptions};
use freshet_lambda::async_invoke::{AsyncQueue, AsyncQueueOptions};
use freshet_lambda::esm::{EsmOptions, Mappings};
use freshet_lambda::exec::{ExecConfig, Executor, LogSink};
use freshet_lambda::{Functions, FunctionsOptions, LambdaService};
use freshet_log::{Durability, LogConfig};
use freshet_logs::{Logs, LogsOptions, LogsService};
use freshet_metrics::Recorder;
use freshet_protocol::{Router, Service};
use freshet_runtime::{Periodic, Platform, Supervisor};
use freshet_sqs::{Sqs, SqsOptions, SqsService};
use freshet_types::{Clock, SystemClock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::config::{Config, DurabilityMode, LoadOptions};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The TLS port's certificate could not be loaded or generated.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The `[agent] config` file is unreadable or invalid.
    #[error("{0}")]
    Agent(String),
    /// Storage could not be opened or recovered.
    #[error("cannot open data directory {dir}: {reason}")]
    Storage {
        /// The data directory.
        dir: String,
        /// What failed.
        reason: String,
    },
}

/// A server that is running. Dropping it does not stop it; call [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: Option<(SocketAddr, tls::CertSource)>,
    stop: watch::Sender<bool>,
    accept: JoinHandle<()>,
    tls_accept: Option<JoinHandle<()>>,
    supervisor: Supervisor,
    platform: Platform,
    grace: std::time::Duration,
    streams: Streams,
    sqs: Sqs,
    logs: Logs,
    functions: Functions,
    firehose: Firehose,
    cloudwatch: CloudWatch,
    s3: freshet_s3::S3,
    executor: ExecutorHandle,
    _lock: lock::DirLock,
}

/// The executor, held for shutdown.
struct ExecutorHandle(Executor);

impl std::fmt::Debug for ExecutorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Executor(..)")
    }
}

impl RunningServer {
    /// The address the server listens on (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TLS port's address, when `server.tls_listen` is set.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(addr, _)| *addr)
    }

    /// The certificate file the TLS port serves (for clients to trust), when it is on.
    pub fn tls_cert_path(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().map(|(_, source)| source.path())
    }

    /// The streams service, for tests that look beneath the API.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// The SQS service, for tests and in-process callers.
    pub fn sqs(&self) -> &Sqs {
        &self.sqs
    }

    /// The CloudWatch Logs service, for tests and in-process writers.
    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    /// The Lambda functions, for tests and in-process invokers (event source mappings).
    pub fn functions(&self) -> &Functions {
        &self.functions
    }

    /// The Firehose delivery streams, for tests (an in-memory sink) and in-process callers.
    pub fn firehose(&self) -> &Firehose {
        &self.firehose
    }

    /// CloudWatch (metric store, alarms, dashboards), for tests and in-process callers.
    pub fn cloudwatch(&self) -> &CloudWatch {
        &self.cloudwatch
    }

    /// The S3 store, for tests and in-process writers (Firehose delivery).
    pub fn s3(&self) -> &freshet_s3::S3 {
        &self.s3
    }

    /// Stops accepting connections, lets requests in flight finish (up to the configured
    /// grace period), then flushes and fsyncs the logs.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        // Both loops got the signal; they drain their connections concurrently.
        if let Some(tls_accept) = self.tls_accept
            && let Err(error) = tls_accept.await
        {
            tracing::warn!(%error, "TLS accept loop ended abnormally.");
        }
        if let Err(error) = self.accept.await {
            tracing::warn!(%error, "Accept loop ended abnormally.");
        }
        if !self.supervisor.shutdown(self.grace).await {
            tracing::warn!("Components still running after the shutdown grace period.");
        }
        // Handler processes must not outlive the server.
        self.executor.0.shutdown();
        // A clean shutdown leaves nothing to replay.
        self.sqs.checkpoint_all().await;
        let streams = self.streams.clone();
        let sqs = self.sqs.clone();
        let logs = self.logs.clone();
        let platform = self.platform.clone();
        // Fsyncs can block; keep them off the async workers.
        let _ = tokio::task::spawn_blocking(move || {
            streams.shutdown();
            sqs.shutdown();
            logs.shutdown();
            platform.shutdown();
        })
        .await;
        tracing::info!("Shutdown complete.");
        Ok(())
    }
}

/// Opens storage, recovers it, binds the listener and starts serving in the background, on
/// the system clock.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    start_with(config, Arc::new(SystemClock)).await
}

/// [`start`] with `clock` as the time every service and component reads (tests pass a
/// `ManualClock` to move retention, expiry and visibility without sleeping).
pub async fn start_with(
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<RunningServer, ServerError> {
    let dir = config.storage.data_dir.clone();
    let storage_err = |reason: String| ServerError::Storage {
        dir: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(&dir).map_err(|e| storage_err(e.to_string()))?;
    let lock = lock::DirLock::acquire(&dir).map_err(storage_err)?;
    let log_config = LogConfig {
        durability: match config.storage.durability {
            DurabilityMode::Fsync => Durability::Fsync,
            DurabilityMode::Interval => Durability::Interval(config.storage.fsync_interval),
            DurabilityMode::None => Durability::None,
        },
        segment_bytes: config.storage.segment_size.0,
        ..LogConfig::default()
    };
    let supervisor = Supervisor::new(clock.clone());
    let platform = Platform::open_local(&dir, log_config, clock, supervisor.tasks())
        .map_err(|e| storage_err(e.to_string()))?;
    // One recorder for every service; disabled, it hands out handles that record nothing.
    let recorder = if config.cloudwatch.metrics {
        Recorder::new(platform.clock.clone())
    } else {
        Recorder::disabled()
    };
    let k = &config.kinesis;
    let opts = StreamsOptions {
        account_id: config.aws.account_id.clone(),
        region: config.aws.region.clone(),
        create_delay: k.create_delay,
        delete_delay: k.delete_delay,
        update_delay: k.update_delay,
        shard_limit: k.shard_limit,
        iterator_ttl_ms: i64::try_from(k.iterator_ttl.as_millis()).unwrap_or(i64::MAX),
        scaler: ScalerOptions {
            enabled: k.on_demand_scaling,
            interval: k.on_demand_scaling_interval,
            merge_after: k.on_demand_scale_down_after,
            ..ScalerOptions::default()
        },
        consumer_delay: k.consumer_delay,
        subscription_lifetime: k.subscription_lifetime,
        subscription_heartbeat: k.subscription_heartbeat,
        on_demand_stream_limit: k.on_demand_stream_limit,
        shard_quotas: k.shard_quotas,
        recorder: recorder.clone(),
    };
    let streams = Streams::open_on(&platform, opts)
        .await
        .map_err(|e| storage_err(e.to_string()))?;
    start_kinesis_components(&supervisor, &streams, &config);
    let sqs = open_sqs(&platform, &supervisor, &config, &recorder)
        .await
        .map_err(|e| storage_err(e.to_string()))?;
    let logs = open_logs(&platform, &config, &recorder)
        .await
        .map_err(|e| storage_err(e.to_string()))?;
    start_logs_components(&supervisor, &logs, &config);
    // Bound before Lambda starts: handlers are told the endpoint (AWS_ENDPOINT_URL).
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.server.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.server.listen,
        source,
    })?;
    let functions = open_functions(&platform, &config).map_err(|e| storage_err(e.to_string()))?;
    let executor = start_executor(&config, &logs, addr).map_err(|e| storage_err(e.to_string()))?;
    functions.set_executor(Arc::new(executor.clone()));
    functions.set_recorder(recorder.clone());
    let async_queue = AsyncQueue::open_on(
        &platform,
        AsyncQueueOptions {
            max_queued: config.lambda.max_queued_events,
            // Running events hold their payload (up to 1 MB) in memory.
            max_in_flight: (config.lambda.total_concurrency as usize).clamp(1, 256),
            ..AsyncQueueOptions::default()
        },
    )
    .await
    .map_err(|e| storage_err(e.to_string()))?;
    functions.set_async_queue(async_queue.clone());
    supervisor.start(async_queue.dispatcher(functions.clone(), sqs.clone()));
    let mappings = Mappings::open(
        &platform,
        Arc::new(functions.clone()),
        streams.clone(),
        sqs.clone(),
        EsmOptions {
            account_id: config.aws.account_id.clone(),
            region: config.aws.region.clone(),
            ..EsmOptions::default()
        },
    )
    .map_err(|e| storage_err(e.to_string()))?;
    supervisor.start(mappings.component());
    let s3 = open_s3(&platform, &config).map_err(|e| storage_err(e.to_string()))?;
    let firehose = open_firehose(&platform, &config, &s3, &recorder)
        .await
        .map_err(|e| storage_err(e.to_string()))?;
    let glue = Glue::new(
        platform.meta.clone(),
        platform.clock.clone(),
        &config.aws.account_id,
    );
    firehose.set_peers(freshet_firehose::Peers {
        streams: Some(streams.clone()),
        invoker: Some(Arc::new(functions.clone())),
        glue: Some(glue.clone()),
    });
    supervisor.start(firehose.component());
    logs.set_subscription_destinations(subscriptions::InProcessDestinations::new(
        streams.clone(),
        firehose.clone(),
        functions.clone(),
    ));
    supervisor.start(logs.subscription_delivery());
    if !config.agent.config.as_os_str().is_empty() {
        let sink = Arc::new(agent::InProcessSink::new(streams.clone(), firehose.clone()));
        let component =
            agent::AgentComponent::new(config.agent.config.clone(), &dir, sink, recorder.clone())
                .map_err(ServerError::Agent)?;
        supervisor.start(component);
    }
    let cloudwatch = CloudWatch::open(
        &platform,
        recorder.clone(),
        freshet_cloudwatch::Account {
            id: config.aws.account_id.clone(),
            region: config.aws.region.clone(),
        },
    )
    .map_err(|e| storage_err(e.to_string()))?;
    supervisor.start(freshet_cloudwatch::collector::component(
        recorder,
        cloudwatch.store.clone(),
    ));
    supervisor.start(freshet_cloudwatch::store::maintenance_component(
        cloudwatch.store.clone(),
    ));
    cloudwatch
        .alarms
        .set_peers(alarm_peers(&config, &sqs, &functions));
    supervisor.start(freshet_cloudwatch::alarms::evaluator::evaluator_every(
        cloudwatch.clone(),
        config.cloudwatch.alarm_evaluation_interval,
    ));
    let services: Vec<Arc<dyn Service>> = vec![
        Arc::new(KinesisService::new(streams.clone())),
        Arc::new(SqsService::new(sqs.clone())),
        Arc::new(LogsService::new(logs.clone())),
        Arc::new(LambdaService::new(functions.clone()).with_mappings(mappings)),
        Arc::new(FirehoseService::new(firehose.clone())),
        Arc::new(s3.service()),
        Arc::new(GlueService::new(glue.clone())),
        Arc::new(ConsoleService::new(cloudwatch.clone())),
        Arc::new(CloudWatchService::new(cloudwatch.clone())),
        Arc::new(ApiGatewayService::new(
            streams.clone(),
            config.apigateway.options(),
        )),
    ];
    let router = Router::new(services);
    let tls = match config.server.tls_listen {
        Some(tls_addr) => {
            let (acceptor, source) = tls::acceptor(
                config.server.tls_cert.as_deref(),
                config.server.tls_key.as_deref(),
                &dir,
            )
            .map_err(ServerError::Tls)?;
            let listener = tokio::net::TcpListener::bind(tls_addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: tls_addr,
                    source,
                })?;
            let bound = listener.local_addr().map_err(|source| ServerError::Bind {
                addr: tls_addr,
                source,
            })?;
            Some((listener, acceptor, bound, source))
        }
        None => None,
    };
    let (stop, stop_rx) = watch::channel(false);
    let served: Vec<&str> = router.services().iter().map(|s| s.info().name).collect();
    let state = Arc::new(http::State {
        router,
        max_body: config.server.max_body_size.0,
        // Validated to fit in u32 permits.
        in_flight: Arc::new(tokio::sync::Semaphore::new(
            config.server.max_in_flight.0 as usize,
        )),
        in_flight_total: config.server.max_in_flight.0,
        body_read_timeout: config.server.body_read_timeout,
        header_read_timeout: config.server.header_read_timeout,
        stop: stop_rx.clone(),
    });
    let accept = tokio::spawn(http::accept_loop(
        listener,
        http::Transport::Plain,
        state.clone(),
        stop_rx.clone(),
        config.server.shutdown_timeout,
    ));
    let (tls_accept, tls) = match tls {
        Some((listener, acceptor, bound, source)) => {
            let task = tokio::spawn(http::accept_loop(
                listener,
                http::Transport::Tls(acceptor),
                state,
                stop_rx.clone(),
                config.server.shutdown_timeout,
            ));
            let how = match &source {
                tls::CertSource::Configured(_) => "configured",
                tls::CertSource::Loaded(_) => "generated earlier",
                tls::CertSource::Generated(_) => "generated now",
            };
            tracing::info!(
                addr = %bound,
                cert = %source.path().display(),
                source = how,
                "Freshet is serving over TLS (ALPN h2 and http/1.1); clients must trust the \
                 certificate."
            );
            (Some(task), Some((bound, source)))
        }
        None => (None, None),
    };
    tracing::info!(
        %addr,
        data_dir = %dir.display(),
        durability = %config.storage.durability,
        services = %served.join(", "),
        "Freshet is serving (HTTP/1.1 and h2c)."
    );
    Ok(RunningServer {
        addr,
        tls,
        stop,
        accept,
        tls_accept,
        supervisor,
        platform,
        grace: config.server.shutdown_timeout,
        streams,
        sqs,
        logs,
        functions,
        firehose,
        cloudwatch,
        s3,
        executor: ExecutorHandle(executor),
        _lock: lock,
    })
}

/// Firehose on the platform. Delivery stages objects in S3's staging directory, so the local
/// store adopts them by rename; buckets mapped in `[firehose.remote_buckets]` go to their
/// external stores instead.
async fn open_firehose(
    platform: &Platform,
    config: &Config,
    s3: &freshet_s3::S3,
    recorder: &Recorder,
) -> Result<Firehose, String> {
    let f = &config.firehose;
    let firehose = Firehose::open(
        platform,
        FirehoseOptions {
            account_id: config.aws.account_id.clone(),
            region: config.aws.region.clone(),
            create_delay: f.create_delay,
            delete_delay: f.delete_delay,
            stream_limit: f.stream_limit,
            undelivered_budget_bytes: f.undelivered_budget.0,
            staging_dir: s3.staging_dir().to_path_buf(),
            recorder: recorder.clone(),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let local = Arc::new(freshet_firehose::sink::local::LocalSink::new(s3.clone()));
    let sink = freshet_firehose::sink::local::RoutedSink::new(local, &f.remote_buckets)
        .map_err(|e| format!("firehose.remote_buckets: {e}"))?;
    firehose.set_sink(Arc::new(sink));
    Ok(firehose)
}

/// What CloudWatch alarm actions reach: SQS and Lambda in process, webhooks for SNS topics.
fn alarm_peers(
    config: &Config,
    sqs: &Sqs,
    functions: &Functions,
) -> freshet_cloudwatch::alarms::actions::Peers {
    let c = &config.cloudwatch;
    let mut by_topic = c.webhooks.clone();
    let default = by_topic.remove("default");
    freshet_cloudwatch::alarms::actions::Peers {
        sqs: Some(sqs.clone()),
        webhooks: freshet_cloudwatch::alarms::actions::Webhooks {
            by_topic,
            default,
            timeout: Some(c.webhook_timeout),
            attempts: Some(c.webhook_attempts),
        },
        invoker: Some(Arc::new(functions.clone())),
    }
}

/// The executor of Lambda handlers: warm local processes, logs into CloudWatch Logs, handlers
/// pointed back at this server's endpoint.
fn start_executor(
    config: &Config,
    logs: &Logs,
    addr: SocketAddr,
) -> Result<Executor, freshet_lambda::exec::SetupError> {
    let l = &config.lambda;
    // Absolute: handler processes run in their code directory, so a relative data dir
    // (the default `./freshet-data`) would not find the runtime clients from there.
    let data_dir = std::path::absolute(&config.storage.data_dir)
        .unwrap_or_else(|_| config.storage.data_dir.clone());
    let mut exec = ExecConfig::new(data_dir.join("lambda").join("exec"));
    exec.max_concurrency = l.total_concurrency;
    exec.idle_timeout = l.idle_timeout;
    exec.region = config.aws.region.clone();
    let host = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    exec.endpoint_url = Some(format!("http://{}", SocketAddr::new(host, addr.port())));
    for runtime in freshet_lambda::spec::Runtime::SUPPORTED {
        if let Some(interpreter) = l.interpreter(runtime.id()) {
            exec.interpreters
                .insert(runtime.id().to_owned(), interpreter.into());
        }
    }
    let sink: Arc<dyn LogSink> = Arc::new(logs.clone());
    Executor::new(exec, sink)
}

/// Opens S3's store under `<data_dir>/s3` (removing what interrupted writes left).
fn open_s3(platform: &Platform, config: &Config) -> Result<freshet_s3::S3, freshet_s3::S3Error> {
    let options = freshet_s3::S3Options {
        region: config.aws.region.clone(),
        virtual_hosts: config.s3.virtual_hosts.clone(),
        credentials: config
            .s3
            .credentials
            .iter()
            .map(|c| (c.access_key_id.clone(), c.secret_access_key.clone()))
            .collect(),
        ..freshet_s3::S3Options::default()
    };
    freshet_s3::S3::open(
        &config.storage.data_dir.join("s3"),
        platform.meta.clone(),
        options,
    )
}

/// Opens the Lambda functions (recovering their records and finishing interrupted state
/// transitions); their code lives under `lambda.code_dir`.
fn open_functions(
    platform: &Platform,
    config: &Config,
) -> Result<Functions, freshet_lambda::functions::Error> {
    let l = &config.lambda;
    let code_dir = l
        .code_dir
        .clone()
        .unwrap_or_else(|| config.storage.data_dir.join("lambda").join("code"));
    // Absolute, for the same reason as the executor's work dir.
    let code_dir = std::path::absolute(&code_dir).unwrap_or(code_dir);
    Functions::open(
        platform.meta.clone(),
        platform.clock.clone(),
        platform.tasks.clone(),
        FunctionsOptions {
            account_id: config.aws.account_id.clone(),
            region: config.aws.region.clone(),
            code_dir,
            total_concurrency: l.total_concurrency,
            min_unreserved: l.min_unreserved_concurrency,
            max_queued_events: l.max_queued_events,
        },
    )
}

/// Opens SQS (recovering every queue) and starts its `sqs-maintenance` component: loading,
/// message move tasks and checkpoints.
async fn open_sqs(
    platform: &Platform,
    supervisor: &Supervisor,
    config: &Config,
    recorder: &Recorder,
) -> Result<Sqs, freshet_sqs::OpenError> {
    let c = &config.sqs;
    let opts = SqsOptions {
        account_id: config.aws.account_id.clone(),
        region: config.aws.region.clone(),
        default_host: format!("localhost:{}", config.server.listen.port()),
        max_loaded_messages: c.max_loaded_messages,
        checkpoint_interval: c.checkpoint_interval,
        checkpoint_changes: c.checkpoint_changes,
        recorder: recorder.clone(),
    };
    let sqs = Sqs::open_on(platform, opts).await?;
    let s = sqs.clone();
    supervisor.start(Periodic::new(
        "sqs-maintenance",
        c.maintenance_interval,
        move || {
            let s = s.clone();
            async move { s.maintain().await }
        },
    ));
    Ok(sqs)
}

/// Kinesis's components: retention (expired segments, then expired closed shards) and, unless
/// disabled, on-demand scaling.
fn start_kinesis_components(supervisor: &Supervisor, streams: &Streams, config: &Config) {
    let s = streams.clone();
    supervisor.start(Periodic::new(
        "kinesis-retention",
        config.storage.retention_check_interval,
        move || {
            let s = s.clone();
            async move {
                let blocking = s.clone();
                match tokio::task::spawn_blocking(move || blocking.enforce_retention()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(segments = n, "Retention deleted expired segments."),
                    Err(error) => tracing::warn!(%error, "Retention task failed."),
                }
                s.expire_closed_shards().await;
            }
        },
    ));
    if config.kinesis.on_demand_scaling {
        let s = streams.clone();
        supervisor.start(Periodic::new(
            "kinesis-on-demand-scaling",
            config.kinesis.on_demand_scaling_interval,
            move || {
                let s = s.clone();
                async move {
                    s.scale_on_demand().await;
                }
            },
        ));
    }
}

/// Opens CloudWatch Logs on the platform (recovering its groups).
async fn open_logs(
    platform: &Platform,
    config: &Config,
    recorder: &Recorder,
) -> Result<Logs, freshet_logs::Error> {
    let l = &config.logs;
    Logs::open(
        platform,
        LogsOptions {
            account_id: config.aws.account_id.clone(),
            region: config.aws.region.clone(),
            live_tail_interval: l.live_tail_interval,
            live_tail_timeout: l.live_tail_timeout,
            max_log_groups: l.max_log_groups,
            recorder: recorder.clone(),
        },
    )
    .await
}

/// CloudWatch Logs' components: statistics checkpoints and retention.
fn start_logs_components(supervisor: &Supervisor, logs: &Logs, config: &Config) {
    let l = logs.clone();
    supervisor.start(Periodic::new(
        "logs-checkpoint",
        config.logs.checkpoint_interval,
        move || {
            let l = l.clone();
            async move {
                match tokio::task::spawn_blocking(move || l.checkpoint()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::warn!(%error, "CloudWatch Logs checkpoint failed."),
                    Err(error) => tracing::warn!(%error, "CloudWatch Logs checkpoint task failed."),
                }
            }
        },
    ));
    let l = logs.clone();
    supervisor.start(Periodic::new(
        "logs-retention",
        config.storage.retention_check_interval,
        move || {
            let l = l.clone();
            async move {
                match tokio::task::spawn_blocking(move || l.enforce_retention()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        segments = n,
                        "CloudWatch Logs retention deleted expired segments."
                    ),
                    Err(error) => tracing::warn!(%error, "CloudWatch Logs retention task failed."),
                }
            }
        },
    ));
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn serve(config: Config) -> Result<(), ServerError> {
    let server = start(config).await?;
    wait_for_signal().await;
    tracing::info!("Shutting down.");
    server.shutdown().await
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "Cannot listen for SIGINT.");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "Cannot listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
