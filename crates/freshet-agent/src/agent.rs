// SPDX-License-Identifier: Apache-2.0
//! Running an agent: every flow's reader and sender, the checkpoint writer and the progress
//! line, until shutdown (or, with `once`, until every file is sent and checkpointed).

use std::path::PathBuf;
use std::sync::Arc;

use freshet_metrics::Recorder;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::checkpoint::{CheckpointError, Checkpoints};
use crate::config::AgentConfig;
use crate::flow::{self, ReaderParts, SenderParts};
use crate::metrics::{DestinationMetrics, Progress};
use crate::shared::{CheckpointStore, Shared};
use crate::sink::Sink;
use crate::tracker::Tracker;

/// How an agent runs, besides its `agent.json`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Exit once every matched file is read to its end, sent and checkpointed.
    pub once: bool,
    /// The checkpoint file when `checkpointFile` is not set.
    pub default_checkpoint_file: PathBuf,
    /// Where the agent's metrics are recorded (when `cloudwatch.emitMetrics` is on).
    pub recorder: Recorder,
}

/// What an agent did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Records read from files.
    pub records_parsed: u64,
    /// Their bytes.
    pub bytes_parsed: u64,
    /// Records the destinations stored.
    pub records_sent: u64,
}

/// Why an agent could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The checkpoint file is unreadable or corrupt, or could not be written at the end.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A flow's `filePattern` glob could not be compiled.
    #[error("flow {flow}: filePattern: {source}")]
    Glob {
        /// The flow.
        flow: String,
        /// Cause.
        source: regex::Error,
    },
}

/// Runs `config`'s flows into `sink` until `stop` turns true (or, with `once`, until done).
pub async fn run(
    config: AgentConfig,
    sink: Arc<dyn Sink>,
    opts: RunOptions,
    stop: watch::Receiver<bool>,
) -> Result<Summary, AgentError> {
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let path = config
        .checkpoint_file
        .clone()
        .unwrap_or_else(|| opts.default_checkpoint_file.clone());
    let checkpoints = Checkpoints::load(&path)?;
    let progress = Arc::new(Progress::default());
    let shared = Arc::new(Shared {
        sink,
        progress: progress.clone(),
        checkpoints: CheckpointStore::new(checkpoints, config.checkpoint_ttl),
        shutdown_timeout: config.shutdown_timeout,
    });
    let recorder = if config.emit_metrics {
        opts.recorder.clone()
    } else {
        Recorder::disabled()
    };
    let mut readers = JoinSet::new();
    let mut senders = JoinSet::new();
    for flow in config.flows {
        let entries = shared.checkpoints.for_flow(&flow.id);
        let tracker =
            Tracker::new(flow::tracker_options(&flow, opts.once), entries).map_err(|source| {
                AgentError::Glob {
                    flow: flow.id.clone(),
                    source,
                }
            })?;
        tracing::info!(flow = %flow.id, destination = %flow.destination.dimension(), "Starting flow.");
        let (tx, rx) = mpsc::channel(8);
        readers.spawn(flow::run_reader(
            ReaderParts {
                tracker,
                processors: Arc::new(flow.processors),
                poll_interval: flow.poll_interval,
                once: opts.once,
            },
            progress.clone(),
            tx,
            stop.clone(),
        ));
        let metrics =
            DestinationMetrics::new(&recorder, &config.metrics_namespace, &flow.destination);
        senders.spawn(flow::run_sender(
            SenderParts {
                flow_id: flow.id,
                destination: flow.destination,
                partition_key: flow.partition_key,
                max_age: flow.max_buffer_age,
                max_records: flow.max_buffer_records,
                max_bytes: flow.max_buffer_bytes,
                aggregate: flow.aggregated_record_size,
                backoff: Backoff::new(flow.retry_initial, flow.retry_max),
                metrics,
            },
            shared.clone(),
            rx,
            stop.clone(),
        ));
    }
    let (writer_stop, writer_stop_rx) = watch::channel(false);
    let writer = tokio::spawn(shared.clone().run_writer(writer_stop_rx));
    let status_progress = progress.clone();
    let period = config.status_period;
    let status = tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        every.tick().await;
        loop {
            every.tick().await;
            tracing::info!("{}", status_progress.line());
        }
    });
    while let Some(joined) = senders.join_next().await {
        if let Err(error) = joined {
            tracing::error!(%error, "A flow's sender failed.");
        }
    }
    readers.abort_all();
    while readers.join_next().await.is_some() {}
    let _ = writer_stop.send(true);
    let _ = writer.await;
    status.abort();
    let saver = shared.clone();
    tokio::task::spawn_blocking(move || saver.checkpoints.save())
        .await
        .map_err(|e| CheckpointError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
    tracing::info!("{}", progress.line());
    let (records_parsed, bytes_parsed, records_sent) = progress.totals();
    Ok(Summary {
        records_parsed,
        bytes_parsed,
        records_sent,
    })
}
