// SPDX-License-Identifier: Apache-2.0
//! The file-tailing agent inside `freshet serve` (`[agent] config`): the agent.json's flows
//! run as a supervised component whose sink calls the Kinesis and Firehose services in
//! process (never HTTP loopback), and whose metrics go to the server's recorder, hence to
//! CloudWatch and `/metrics`. Endpoints and credentials in the file are ignored.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use freshet_agent::{
    AgentConfig, Destination, EntryOutcome, RunOptions, SendError, Sink, SinkRecord,
};
use freshet_firehose::Firehose;
use freshet_kinesis::{PutEntry, PutOutcome, StreamRef, Streams};
use freshet_metrics::Recorder;
use freshet_runtime::{Component, ComponentError, Context};
use futures_util::future::BoxFuture;

/// Sends agent buffers to this server's streams and delivery streams.
#[derive(Debug, Clone)]
pub struct InProcessSink {
    streams: Streams,
    firehose: Firehose,
}

impl InProcessSink {
    /// A sink over the server's services.
    pub fn new(streams: Streams, firehose: Firehose) -> Self {
        Self { streams, firehose }
    }
}

#[async_trait]
impl Sink for InProcessSink {
    async fn put(
        &self,
        dest: &Destination,
        records: &[SinkRecord],
    ) -> Result<Vec<EntryOutcome>, SendError> {
        match dest {
            Destination::KinesisStream(name) => {
                let entries: Vec<PutEntry<'_>> = records
                    .iter()
                    .map(|r| PutEntry {
                        data: &r.data,
                        partition_key: &r.partition_key,
                        explicit_hash_key: None,
                    })
                    .collect();
                let out = self
                    .streams
                    .put_records(&StreamRef::name(name.clone()), &entries)
                    .await
                    .map_err(|e| {
                        SendError::from_code(
                            freshet_kinesis::api::code_of(e.kind()).0,
                            e.to_string(),
                        )
                    })?;
                Ok(out
                    .into_iter()
                    .map(|o| match o {
                        PutOutcome::Stored { .. } => EntryOutcome::Sent,
                        PutOutcome::Failed { code, message } => EntryOutcome::Failed {
                            code: code.to_owned(),
                            message,
                        },
                    })
                    .collect())
            }
            Destination::DeliveryStream(name) => {
                let data: Vec<Bytes> = records.iter().map(|r| r.data.clone()).collect();
                let out = self.firehose.put_records(name, &data).await.map_err(|e| {
                    SendError::from_code(freshet_firehose::api::code_of(e.kind()).0, e.to_string())
                })?;
                Ok(out
                    .into_iter()
                    .map(|o| match o {
                        freshet_firehose::ingest::PutOutcome::Ok(_) => EntryOutcome::Sent,
                        freshet_firehose::ingest::PutOutcome::Failed(code, message) => {
                            EntryOutcome::Failed {
                                code: code.to_owned(),
                                message,
                            }
                        }
                    })
                    .collect())
            }
        }
    }
}

/// The agent as a component.
pub struct AgentComponent {
    config: PathBuf,
    checkpoints: PathBuf,
    sink: Arc<dyn Sink>,
    recorder: Recorder,
}

impl AgentComponent {
    /// Checks `config` now (so a bad agent.json fails the server's start with its errors)
    /// and returns the component that runs it.
    pub fn new(
        config: PathBuf,
        data_dir: &std::path::Path,
        sink: Arc<dyn Sink>,
        recorder: Recorder,
    ) -> Result<Arc<Self>, String> {
        AgentConfig::load(&config).map_err(|e| format!("agent {}: {e}", config.display()))?;
        Ok(Arc::new(Self {
            config,
            checkpoints: data_dir.join("agent").join("checkpoints"),
            sink,
            recorder,
        }))
    }
}

impl Component for AgentComponent {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("agent")
    }

    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
        Box::pin(async move {
            let config = AgentConfig::load(&self.config)
                .map_err(|e| ComponentError(format!("{}: {e}", self.config.display())))?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let cancel = ctx.clone();
            let watcher = tokio::spawn(async move {
                cancel.cancelled().await;
                let _ = stop_tx.send(true);
            });
            let opts = RunOptions {
                once: false,
                default_checkpoint_file: self.checkpoints.clone(),
                recorder: self.recorder.clone(),
            };
            let result = freshet_agent::run(config, self.sink.clone(), opts, stop_rx).await;
            watcher.abort();
            result
                .map(|_| ())
                .map_err(|e| ComponentError(e.to_string()))
        })
    }
}
