// SPDX-License-Identifier: Apache-2.0
//! Freshet server wiring: configuration, the HTTP listener, background tasks and shutdown.
//!
//! A library so that tests can start a real server in-process on `127.0.0.1:0`:
//! [`start`] opens and recovers the data directory, binds the listener and returns a
//! [`RunningServer`]; [`serve`] does the same and runs until SIGINT or SIGTERM.
//!
//! Tasks: one accept loop per listener (one tokio task per connection, HTTP/1.1 or h2c detected
//! per connection; on the optional TLS port, ALPN `h2` or `http/1.1` after the handshake), one
//! retention task (expired segments and closed shards), one on-demand scaling task (unless
//! disabled), and the log's group-commit thread owned by `freshet-log`.

pub mod config;
mod http;
mod lock;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use freshet_aws::Kinesis;
use freshet_log::{Durability, LogConfig};
use freshet_streams::{ScalerOptions, Streams, StreamsOptions};
use freshet_types::SystemClock;
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
    retention: JoinHandle<()>,
    scaler: Option<JoinHandle<()>>,
    streams: Streams,
    _lock: lock::DirLock,
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
        self.retention.abort();
        // An aborted task still holds its clone of the service until it is polled to the end.
        let _ = self.retention.await;
        if let Some(scaler) = self.scaler {
            scaler.abort();
            let _ = scaler.await;
        }
        let streams = self.streams.clone();
        // Fsyncs can block; keep them off the async workers.
        let _ = tokio::task::spawn_blocking(move || streams.shutdown()).await;
        tracing::info!("Shutdown complete.");
        Ok(())
    }
}

/// Opens storage, recovers it, binds the listener and starts serving in the background.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
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
    let s = &config.streams;
    let opts = StreamsOptions {
        account_id: s.account_id.clone(),
        region: s.region.clone(),
        create_delay: s.create_delay,
        delete_delay: s.delete_delay,
        update_delay: s.update_delay,
        shard_limit: s.shard_limit,
        iterator_ttl_ms: i64::try_from(s.iterator_ttl.as_millis()).unwrap_or(i64::MAX),
        scaler: ScalerOptions {
            enabled: s.on_demand_scaling,
            interval: s.on_demand_scaling_interval,
            merge_after: s.on_demand_scale_down_after,
            ..ScalerOptions::default()
        },
        consumer_delay: s.consumer_delay,
        subscription_lifetime: s.subscription_lifetime,
        subscription_heartbeat: s.subscription_heartbeat,
        on_demand_stream_limit: s.on_demand_stream_limit,
        shard_quotas: s.shard_quotas,
    };
    let streams = Streams::open(&dir, log_config, opts, Arc::new(SystemClock))
        .await
        .map_err(|e| storage_err(e.to_string()))?;
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
    let state = Arc::new(http::State {
        kinesis: Kinesis::new(streams.clone()),
        max_body: config.server.max_body_size.0,
        // Validated to fit in u32 permits.
        in_flight: tokio::sync::Semaphore::new(config.server.max_in_flight.0 as usize),
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
                "Freshet is serving Kinesis over TLS (ALPN h2 and http/1.1); clients must trust \
                 the certificate."
            );
            (Some(task), Some((bound, source)))
        }
        None => (None, None),
    };
    let retention = tokio::spawn(retention_task(
        streams.clone(),
        config.storage.retention_check_interval,
    ));
    let scaler = s
        .on_demand_scaling
        .then(|| tokio::spawn(scaler_task(streams.clone(), s.on_demand_scaling_interval)));
    tracing::info!(
        %addr,
        data_dir = %dir.display(),
        durability = %config.storage.durability,
        "Freshet is serving Kinesis (HTTP/1.1 and h2c)."
    );
    Ok(RunningServer {
        addr,
        tls,
        stop,
        accept,
        tls_accept,
        retention,
        scaler,
        streams,
        _lock: lock,
    })
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

/// Deletes expired segments and expires closed shards periodically.
async fn retention_task(streams: Streams, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = streams.clone();
        match tokio::task::spawn_blocking(move || s.enforce_retention()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(segments = n, "Retention deleted expired segments."),
            Err(error) => tracing::warn!(%error, "Retention task failed."),
        }
        streams.expire_closed_shards().await;
    }
}

/// Rescales ON_DEMAND streams periodically.
async fn scaler_task(streams: Streams, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        streams.scale_on_demand().await;
    }
}
