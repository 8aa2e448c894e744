// SPDX-License-Identifier: Apache-2.0
//! The pipeline of one stream mapping: reads the stream with a checkpointed
//! [`StreamReader`] (reader id `lambda-esm-<uuid>`), drives one [`ShardMachine`] per shard,
//! invokes through [`Invoker`], sends failure records to the OnFailure queue, and commits a
//! shard's position only once the machine says everything before it is safe.
//!
//! Waking: the reader's `poll_wait` wakes on the shard logs' visibility watch, so a record
//! reaches the handler as soon as it is durable; deadlines (batching windows, retries,
//! tumbling windows) bound the wait. Resharding: the reader hands out children only after
//! the parents' ends are committed, so per-key order holds across splits and merges.
//!
//! Memory: records read stay in the machines until committable; polling pauses while more
//! than [`MAX_HELD`] are held (a shard blocked on a failing batch stops the others too).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use freshet_kinesis::{ShardBatch, ShardPosition, StartAt, StreamReader, StreamRef, Streams};
use freshet_sqs::Sqs;
use freshet_types::{Clock, ShardId};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use crate::esm::batch::{Commit, Outcome, Rec, ShardMachine, Step, Verdict};
use crate::esm::event::{
    KinesisFailure, KinesisRecord, KinesisSource, WindowInfo, kinesis_event,
    kinesis_failure_record, kinesis_filter_view,
};
use crate::esm::filter::FilterCriteria;
use crate::esm::model::MappingRecord;
use crate::spec::{BoxFuture, Invocation, InvocationResult, InvokeError, Invoker};

/// Most records held in memory by one mapping before it stops reading.
pub const MAX_HELD: usize = 50_000;
/// Longest wait between looks when nothing happens.
const MAX_NAP: Duration = Duration::from_secs(1);

/// Where pipelines report each batch's verdict (LastProcessingResult).
pub(crate) type Report = Arc<dyn Fn(&str, Verdict) + Send + Sync>;

/// What a pipeline runs with.
#[derive(Clone)]
pub(crate) struct PipelineEnv {
    pub streams: Streams,
    pub sqs: Sqs,
    pub invoker: Arc<dyn Invoker>,
    pub clock: Arc<dyn Clock>,
    pub region: String,
    pub backoff_ms: i64,
    /// Reports LastProcessingResult.
    pub report: Report,
}

/// The reader id of mapping `uuid`.
pub(crate) fn reader_id(uuid: &str) -> String {
    format!("lambda-esm-{uuid}")
}

/// Maps an invocation's result to what the batch machine needs.
pub(crate) fn outcome_of(r: Result<InvocationResult, InvokeError>) -> Outcome {
    match r {
        Ok(r) => Outcome::Ran {
            payload: r.payload.to_vec(),
            function_error: r.function_error.map(|e| e.as_str().to_owned()),
            executed_version: r.executed_version,
        },
        // Too large a request or response is the batch's fault: bisect can cut it down.
        Err(InvokeError::RequestTooLarge(m) | InvokeError::ResponseTooLarge(m)) => Outcome::Ran {
            payload: m.into_bytes(),
            function_error: Some("Unhandled".into()),
            executed_version: String::new(),
        },
        Err(InvokeError::Throttled { .. }) => Outcome::NotRun { status_code: 429 },
        Err(InvokeError::NotFound(_)) => Outcome::NotRun { status_code: 404 },
        Err(InvokeError::NotReady { .. }) => Outcome::NotRun { status_code: 409 },
        Err(InvokeError::Service(_)) => Outcome::NotRun { status_code: 500 },
    }
}

struct ShardState {
    machine: ShardMachine<KinesisRecord>,
    committed: Commit,
}

type Done = (ShardId, u64, Outcome);

/// Runs the mapping until `cancel` fires (Ok) or storage fails (Err, the manager restarts it).
pub(crate) async fn run(
    env: PipelineEnv,
    rec: MappingRecord,
    cancel: CancellationToken,
    opened: tokio::sync::oneshot::Sender<()>,
) -> Result<(), String> {
    let start = match rec.starting_position.as_deref() {
        Some("LATEST") => StartAt::Latest,
        Some("AT_TIMESTAMP") => StartAt::AtTimestamp(rec.starting_timestamp_ms.unwrap_or(0)),
        _ => StartAt::TrimHorizon,
    };
    let stream = StreamRef {
        name: None,
        arn: Some(rec.event_source_arn.clone()),
    };
    let reader = env
        .streams
        .open_reader(&reader_id(&rec.uuid), &stream, start)
        .await
        .map_err(|e| e.to_string())?;
    // The reader's position (LATEST included) is fixed and durable: the mapping may show
    // Enabled. Nobody waiting is fine.
    let _ = opened.send(());
    let mut p = Pipeline {
        src: KinesisSource {
            stream_arn: rec.event_source_arn.clone(),
            region: env.region.clone(),
            role_arn: rec.function.role.clone(),
        },
        filters: rec.filter_criteria(),
        cfg: rec.batch_config(),
        shards: BTreeMap::new(),
        give_ups: Vec::new(),
        rec,
        env,
        reader,
    };
    p.cfg.backoff_ms = p.env.backoff_ms;
    let mut inflight: FuturesUnordered<BoxFuture<'static, Done>> = FuturesUnordered::new();
    loop {
        let now = p.env.clock.now_ms();
        let wake = p.drive(now, &mut inflight);
        p.send_give_ups().await;
        p.commit().await?;
        let held: usize = p.shards.values().map(|s| s.machine.held()).sum();
        let nap = wake
            .map(|t| Duration::from_millis((t - now).clamp(0, 1000) as u64))
            .unwrap_or(MAX_NAP)
            .min(if p.give_ups.is_empty() {
                MAX_NAP
            } else {
                Duration::from_millis(p.env.backoff_ms.max(1) as u64)
            });
        let max = p.cfg.batch_size.clamp(1, 10_000) as u32;
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            Some((shard, batch, outcome)) = inflight.next(), if !inflight.is_empty() => {
                let now = p.env.clock.now_ms();
                if let Some(s) = p.shards.get_mut(&shard) {
                    let v = s.machine.complete(batch, outcome, now);
                    (p.env.report)(&p.rec.uuid, v);
                }
            }
            polled = p.reader.poll_wait(max, nap), if held < MAX_HELD => {
                let batches = polled.map_err(|e| e.to_string())?;
                p.push(batches);
            }
            () = tokio::time::sleep(nap), if held >= MAX_HELD => {}
        }
    }
}

struct Pipeline {
    env: PipelineEnv,
    rec: MappingRecord,
    reader: StreamReader,
    src: KinesisSource,
    filters: FilterCriteria,
    cfg: crate::esm::batch::BatchConfig,
    shards: BTreeMap<ShardId, ShardState>,
    give_ups: Vec<(ShardId, Step)>,
}

impl Pipeline {
    fn push(&mut self, batches: Vec<ShardBatch>) {
        let now = self.env.clock.now_ms();
        for b in batches {
            let shard_id = b.shard.to_string();
            let recs: Vec<Rec<KinesisRecord>> = b
                .records
                .into_iter()
                .map(|r| {
                    let k = KinesisRecord {
                        shard_id: shard_id.clone(),
                        sequence: r.sequence.to_string(),
                        partition_key: r.partition_key,
                        data: r.data.to_vec(),
                        arrival_ms: r.arrival_ms,
                        encrypted: r.encrypted,
                    };
                    let passes = self.filters.is_empty() || {
                        let (view, is_json) = kinesis_filter_view(&k);
                        self.filters.matches_record(&view, "data", is_json)
                    };
                    Rec {
                        offset: r.sequence.offset,
                        id: k.sequence.clone(),
                        key: k.partition_key.clone(),
                        arrival_ms: k.arrival_ms,
                        size: k.data.len().div_ceil(3) * 4,
                        passes,
                        data: k,
                    }
                })
                .collect();
            let next = match b.next {
                ShardPosition::At(n) => Some(n),
                ShardPosition::Finished => None,
            };
            let cfg = self.cfg.clone();
            let s = self.shards.entry(b.shard).or_insert_with(|| ShardState {
                machine: ShardMachine::new(cfg, b.from),
                committed: Commit::At(b.from),
            });
            s.machine.push(recs, next, now);
        }
    }

    /// Starts what the machines want started; returns the earliest deadline.
    fn drive(
        &mut self,
        now: i64,
        inflight: &mut FuturesUnordered<BoxFuture<'static, Done>>,
    ) -> Option<i64> {
        let mut wake: Option<i64> = None;
        for (shard, s) in &mut self.shards {
            loop {
                match s.machine.next(now) {
                    Step::Invoke {
                        batch,
                        offsets,
                        window,
                    } => {
                        let records: Vec<KinesisRecord> = offsets
                            .iter()
                            .filter_map(|o| s.machine.record(*o).map(|r| r.data.clone()))
                            .collect();
                        let window = window.map(|w| WindowInfo {
                            start_ms: w.start_ms,
                            end_ms: w.end_ms,
                            state: w.state,
                            shard_id: shard.to_string(),
                            is_final: w.is_final,
                            terminated_early: w.terminated_early,
                        });
                        let event = kinesis_event(&self.src, &records, window.as_ref());
                        let inv = Invocation {
                            request_id: uuid::Uuid::new_v4().to_string(),
                            payload: Bytes::from(serde_json::to_vec(&event).unwrap_or_default()),
                            invoked_arn: self.rec.function.arn.clone(),
                            client_context: None,
                            tail_log: false,
                        };
                        let last_arrival_ms = offsets
                            .last()
                            .and_then(|o| s.machine.record(*o))
                            .map(|r| r.arrival_ms);
                        let invoker = self.env.invoker.clone();
                        let clock = self.env.clock.clone();
                        let function = self.rec.function.arn.clone();
                        let shard = *shard;
                        inflight.push(Box::pin(async move {
                            let r = invoker.invoke(&function, inv).await;
                            if let Some(arrival) = last_arrival_ms {
                                let age = (clock.now_ms() - arrival).max(0);
                                invoker.stream_batch_done(&function, age);
                            }
                            (shard, batch, outcome_of(r))
                        }));
                    }
                    step @ Step::GiveUp { .. } => self.give_ups.push((*shard, step)),
                    Step::WaitUntil(t) => {
                        wake = Some(wake.map_or(t, |w| w.min(t)));
                        break;
                    }
                    Step::Idle => break,
                }
            }
        }
        wake
    }

    /// Sends failure records; ones that fail to send are kept and retried.
    async fn send_give_ups(&mut self) {
        let pending = std::mem::take(&mut self.give_ups);
        for (shard, step) in pending {
            let Step::GiveUp {
                batch,
                ref offsets,
                condition,
                invoke_count,
                ref response,
            } = step
            else {
                continue;
            };
            let Some(s) = self.shards.get_mut(&shard) else {
                continue;
            };
            let first = offsets.first().and_then(|o| s.machine.record(*o));
            let last = offsets.last().and_then(|o| s.machine.record(*o));
            if let (Some(dest), Some(first), Some(last)) = (&self.rec.on_failure, first, last) {
                let doc = kinesis_failure_record(&KinesisFailure {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    function_arn: self.rec.function.arn.clone(),
                    condition,
                    invoke_count,
                    response: response.clone(),
                    now_ms: self.env.clock.now_ms(),
                    shard_id: shard.to_string(),
                    start_sequence: first.id.clone(),
                    end_sequence: last.id.clone(),
                    first_arrival_ms: first.arrival_ms,
                    last_arrival_ms: last.arrival_ms,
                    batch_size: offsets.len(),
                    stream_arn: self.src.stream_arn.clone(),
                });
                if let Err(e) = self
                    .env
                    .sqs
                    .send(dest, &doc.to_string(), BTreeMap::new())
                    .await
                {
                    tracing::warn!(mapping = %self.rec.uuid, error = %e, "Could not send a failure record; retrying.");
                    self.give_ups.push((shard, step));
                    continue;
                }
            }
            s.machine.given_up(batch);
        }
    }

    async fn commit(&mut self) -> Result<(), String> {
        for (shard, s) in &mut self.shards {
            let c = s.machine.committable();
            if c == s.committed {
                continue;
            }
            let pos = match c {
                Commit::At(o) => ShardPosition::At(o),
                Commit::Finished => ShardPosition::Finished,
            };
            self.reader
                .commit(*shard, pos)
                .await
                .map_err(|e| e.to_string())?;
            s.committed = c;
        }
        Ok(())
    }
}
