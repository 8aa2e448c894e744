// SPDX-License-Identifier: Apache-2.0
//! [`Mappings`]: the handle the Lambda API calls for the five *EventSourceMapping
//! operations, and the component that runs one pipeline per enabled mapping.
//!
//! Records live in `lambda.mappings` (JSON [`MappingRecord`] by UUID), written on every API
//! change and state transition (never on the data path). The API only writes the desired
//! state (`Creating`, `Updating`, `Enabling`, `Disabling`, `Deleting`); the component
//! ([`Mappings::component`], started under the server's Supervisor) reconciles: starts,
//! restarts (on a newer revision or after a failure) or stops pipelines, then records the
//! settled state (`Enabled`, `Disabled`, or removes a deleted mapping and its checkpoint).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use freshet_kinesis::{StreamRef, Streams};
use freshet_meta::{Meta, Table};
use freshet_runtime::{Component, ComponentError, Context, Platform};
use freshet_sqs::Sqs;
use freshet_sqs::redrive::QueueArn;
use freshet_types::{Clock, parse_stream_arn};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::esm::batch::Verdict;
use crate::esm::kinesis::{self, PipelineEnv};
use crate::esm::model::{EsmError, FunctionRef, MappingRecord, MappingState, SourceKind};
use crate::esm::sqs;
use crate::spec::Invoker;

/// Longest a starting pipeline may take to fix its position before the mapping shows
/// `Enabled` anyway (it keeps opening; the state only stops waiting for it).
const OPEN_WAIT: Duration = Duration::from_secs(5);

/// Mapping records by UUID.
pub const MAPPINGS: Table = Table::new("lambda", "mappings");

/// Settings of the mappings service.
#[derive(Debug, Clone)]
pub struct EsmOptions {
    /// Account id (ARNs).
    pub account_id: String,
    /// Region (ARNs, `awsRegion`).
    pub region: String,
    /// First retry delay after a failed batch (doubles up to 5 s).
    pub retry_backoff: Duration,
}

impl Default for EsmOptions {
    fn default() -> Self {
        EsmOptions {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            retry_backoff: Duration::from_millis(100),
        }
    }
}

/// Event source mappings. Cheap to clone.
#[derive(Clone)]
pub struct Mappings {
    inner: Arc<Inner>,
}

struct Inner {
    opts: EsmOptions,
    meta: Arc<Meta>,
    clock: Arc<dyn Clock>,
    invoker: Arc<dyn Invoker>,
    streams: Streams,
    sqs: Sqs,
    records: Mutex<BTreeMap<String, MappingRecord>>,
    /// LastProcessingResult as pipelines report it (persisted with the next state change).
    results: Mutex<HashMap<String, String>>,
    control: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn storage(e: impl std::fmt::Display) -> EsmError {
    EsmError::Service(e.to_string())
}

fn not_found() -> EsmError {
    EsmError::NotFound("The resource you requested does not exist.".into())
}

/// The function ARN without a qualifier, for comparing mappings.
fn unqualified(arn: &str) -> &str {
    match arn.splitn(8, ':').nth(7) {
        Some(q) => &arn[..arn.len() - q.len() - 1],
        None => arn,
    }
}

impl Mappings {
    /// Loads the mappings of `platform`. Pipelines start once [`Mappings::component`] runs.
    pub fn open(
        platform: &Platform,
        invoker: Arc<dyn Invoker>,
        streams: Streams,
        sqs: Sqs,
        opts: EsmOptions,
    ) -> Result<Mappings, EsmError> {
        let stored: Vec<(String, MappingRecord)> =
            platform.meta.scan_json(MAPPINGS, "").map_err(storage)?;
        Ok(Mappings {
            inner: Arc::new(Inner {
                opts,
                meta: platform.meta.clone(),
                clock: platform.clock.clone(),
                invoker,
                streams,
                sqs,
                records: Mutex::new(stored.into_iter().collect()),
                results: Mutex::new(HashMap::new()),
                control: tokio::sync::Mutex::new(()),
                wake: tokio::sync::Notify::new(),
            }),
        })
    }

    /// The component that runs the pipelines; start it once under the server's Supervisor.
    pub fn component(&self) -> Arc<dyn Component> {
        Arc::new(Runner {
            mappings: self.clone(),
        })
    }

    fn doc(&self, r: &MappingRecord) -> Value {
        let mut r = r.clone();
        if let Some(res) = lock(&self.inner.results).get(&r.uuid) {
            r.last_result = res.clone();
        }
        r.to_json(&self.inner.opts.region, &self.inner.opts.account_id)
    }

    async fn persist(&self, r: &MappingRecord) -> Result<(), EsmError> {
        let meta = self.inner.meta.clone();
        let rec = r.clone();
        tokio::task::spawn_blocking(move || meta.put_json(MAPPINGS, &rec.uuid, &rec))
            .await
            .map_err(storage)?
            .map_err(storage)?;
        lock(&self.inner.records).insert(r.uuid.clone(), r.clone());
        self.inner.wake.notify_one();
        Ok(())
    }

    fn source_kind(&self, arn: &str) -> Result<SourceKind, EsmError> {
        let o = &self.inner.opts;
        if let Some(s) = parse_stream_arn(arn) {
            let exists = s.region == o.region
                && s.account == o.account_id
                && self
                    .inner
                    .streams
                    .describe_stream_summary(&StreamRef {
                        name: None,
                        arn: Some(arn.to_owned()),
                    })
                    .is_ok();
            if !exists {
                return Err(EsmError::InvalidParameter(format!(
                    "Stream not found: {arn}"
                )));
            }
            return Ok(SourceKind::Kinesis);
        }
        if let Some(q) = QueueArn::parse(arn) {
            let exists = q.region == o.region
                && q.account == o.account_id
                && self.inner.sqs.queue_names().contains(&q.name);
            if !exists {
                return Err(EsmError::InvalidParameter(
                    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.".into(),
                ));
            }
            return Ok(SourceKind::Sqs);
        }
        Err(EsmError::InvalidParameter(
            "Unrecognized event source, must be kinesis, dynamodb stream or sqs.".into(),
        ))
    }

    /// CreateEventSourceMapping. `req` is the request in the model's member names;
    /// `function` is the resolved `FunctionName` (the API answers ResourceNotFound for a
    /// missing function before calling this). Answers the configuration (State `Creating`).
    pub async fn create(&self, req: &Value, function: FunctionRef) -> Result<Value, EsmError> {
        crate::esm::model::validate(req)?;
        let arn = req
            .get("EventSourceArn")
            .and_then(Value::as_str)
            .ok_or_else(|| EsmError::InvalidParameter("Unrecognized event source.".into()))?;
        let kind = self.source_kind(arn)?;
        let _control = self.inner.control.lock().await;
        let uuid = uuid::Uuid::new_v4().to_string();
        let rec = MappingRecord::from_create(uuid, kind, req, function, self.inner.clock.now_ms())?;
        let existing = lock(&self.inner.records)
            .values()
            .find(|r| {
                r.event_source_arn == rec.event_source_arn
                    && unqualified(&r.function.arn) == unqualified(&rec.function.arn)
            })
            .map(|r| r.uuid.clone());
        if let Some(other) = existing {
            // The function's name, without a qualifier the ARN may carry.
            let function = unqualified(&rec.function.arn)
                .rsplit(':')
                .next()
                .unwrap_or_default();
            let source = &rec.event_source_arn;
            // Lambda words this differently for queues and for streams.
            return Err(EsmError::Conflict(match kind {
                SourceKind::Sqs => format!(
                    "An event source mapping with SQS arn (\" {source} \") and function (\" {function} \") already exists. Please update or delete the existing mapping with UUID {other}"
                ),
                SourceKind::Kinesis => format!(
                    "The event source arn (\" {source} \") and function (\" {function} \") provided mapping already exists. Please update or delete the existing mapping with UUID {other}"
                ),
            }));
        }
        self.persist(&rec).await?;
        Ok(self.doc(&rec))
    }

    /// GetEventSourceMapping.
    pub fn get(&self, uuid: &str) -> Result<Value, EsmError> {
        let r = lock(&self.inner.records).get(uuid).cloned();
        r.map(|r| self.doc(&r)).ok_or_else(not_found)
    }

    /// The stored record of a mapping (for tests and the console).
    pub fn record(&self, uuid: &str) -> Option<MappingRecord> {
        lock(&self.inner.records).get(uuid).cloned()
    }

    /// ListEventSourceMappings: `{"EventSourceMappings": [...], "NextMarker"?}`, in UUID
    /// order. `function_arn` (resolved by the API) matches qualified and unqualified ARNs.
    pub fn list(
        &self,
        event_source_arn: Option<&str>,
        function_arn: Option<&str>,
        marker: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<Value, EsmError> {
        let max = max_items.unwrap_or(100).clamp(1, 10_000);
        let records: Vec<MappingRecord> = lock(&self.inner.records)
            .values()
            .filter(|r| event_source_arn.is_none_or(|a| r.event_source_arn == a))
            .filter(|r| {
                function_arn.is_none_or(|f| {
                    r.function.arn == f
                        || (f == unqualified(f) && unqualified(&r.function.arn) == f)
                })
            })
            .filter(|r| marker.is_none_or(|m| r.uuid.as_str() > m))
            .cloned()
            .collect();
        let page: Vec<Value> = records.iter().take(max).map(|r| self.doc(r)).collect();
        let mut out = json!({ "EventSourceMappings": page });
        if records.len() > max
            && let Some(last) = records.get(max - 1)
        {
            out["NextMarker"] = json!(last.uuid);
        }
        Ok(out)
    }

    /// UpdateEventSourceMapping. `function` is the resolved `FunctionName` when the request
    /// changes it. Answers the configuration (State `Updating`, `Enabling` or `Disabling`).
    pub async fn update(
        &self,
        uuid: &str,
        req: &Value,
        function: Option<FunctionRef>,
    ) -> Result<Value, EsmError> {
        crate::esm::model::validate(req)?;
        let _control = self.inner.control.lock().await;
        let mut r = self.record(uuid).ok_or_else(not_found)?;
        if r.state == MappingState::Deleting {
            return Err(EsmError::InUse(format!(
                "Cannot update the event source mapping {uuid} because it is in use."
            )));
        }
        let was_enabled = r.enabled;
        r.apply(req, false)?;
        if let Some(f) = function {
            r.function = f;
        }
        r.state = match (was_enabled, r.enabled) {
            (false, true) => MappingState::Enabling,
            (true, false) => MappingState::Disabling,
            _ => MappingState::Updating,
        };
        r.reason = r.kind.user_reason().into();
        r.last_modified_ms = self.inner.clock.now_ms();
        r.revision += 1;
        self.persist(&r).await?;
        Ok(self.doc(&r))
    }

    /// DeleteEventSourceMapping. Answers the configuration (State `Deleting`); the mapping
    /// and its checkpoint go once its pipeline stopped.
    pub async fn delete(&self, uuid: &str) -> Result<Value, EsmError> {
        let _control = self.inner.control.lock().await;
        let mut r = self.record(uuid).ok_or_else(not_found)?;
        r.state = MappingState::Deleting;
        r.reason = r.kind.user_reason().into();
        r.revision += 1;
        self.persist(&r).await?;
        Ok(self.doc(&r))
    }

    fn report(&self, uuid: &str, v: Verdict) {
        let text = match v {
            Verdict::Ok => "OK",
            Verdict::FunctionFailed | Verdict::NotRun => "PROBLEM: Function call failed",
        };
        lock(&self.inner.results).insert(uuid.to_owned(), text.to_owned());
    }

    fn env(&self) -> PipelineEnv {
        let me = self.clone();
        PipelineEnv {
            streams: self.inner.streams.clone(),
            sqs: self.inner.sqs.clone(),
            invoker: self.inner.invoker.clone(),
            clock: self.inner.clock.clone(),
            region: self.inner.opts.region.clone(),
            backoff_ms: self.inner.opts.retry_backoff.as_millis() as i64,
            report: Arc::new(move |uuid, v| me.report(uuid, v)),
        }
    }
}

struct Running {
    revision: u64,
    cancel: CancellationToken,
    task: JoinHandle<Result<(), String>>,
}

struct Runner {
    mappings: Mappings,
}

impl Component for Runner {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("lambda-event-source-mappings")
    }

    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
        Box::pin(async move {
            let mut running: HashMap<String, Running> = HashMap::new();
            loop {
                let outcome = self.reconcile(&mut running).await;
                if let Err(e) = outcome {
                    tracing::error!(error = %e, "Reconciling event source mappings failed.");
                }
                tokio::select! {
                    () = self.mappings.inner.wake.notified() => {}
                    () = ctx.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            for (_, r) in running.drain() {
                r.cancel.cancel();
                let _ = r.task.await;
            }
            Ok(())
        })
    }
}

impl Runner {
    async fn stop(running: &mut HashMap<String, Running>, uuid: &str) {
        if let Some(r) = running.remove(uuid) {
            r.cancel.cancel();
            let _ = r.task.await;
        }
    }

    /// Starts the mapping's pipeline; the receiver resolves once the pipeline has fixed where
    /// it reads from (or has failed to), so `Enabled` is shown only after a LATEST position
    /// exists: a record put after the client saw `Enabled` is never missed.
    fn start(
        &self,
        running: &mut HashMap<String, Running>,
        rec: &MappingRecord,
    ) -> oneshot::Receiver<()> {
        let cancel = CancellationToken::new();
        let env = self.mappings.env();
        let r = rec.clone();
        let c = cancel.clone();
        let (opened, opened_rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let uuid = r.uuid.clone();
            let out = match r.kind {
                SourceKind::Kinesis => kinesis::run(env, r, c, opened).await,
                SourceKind::Sqs => {
                    // A queue has no position to fix: dropping `opened` says so at once.
                    drop(opened);
                    sqs::run(env, r, c).await
                }
            };
            if let Err(e) = &out {
                tracing::warn!(mapping = %uuid, error = %e, "Event source mapping pipeline failed; restarting it.");
            }
            out
        });
        running.insert(
            rec.uuid.clone(),
            Running {
                revision: rec.revision,
                cancel,
                task,
            },
        );
        opened_rx
    }

    async fn settle(&self, mut rec: MappingRecord, state: MappingState) -> Result<(), EsmError> {
        let _control = self.mappings.inner.control.lock().await;
        // Only settle the revision we acted on; a newer change is reconciled next round.
        let current = self.mappings.record(&rec.uuid);
        if current.as_ref().map(|c| c.revision) != Some(rec.revision) {
            return Ok(());
        }
        rec.state = state;
        if let Some(res) = lock(&self.mappings.inner.results).get(&rec.uuid) {
            rec.last_result = res.clone();
        }
        self.mappings.persist(&rec).await
    }

    async fn reconcile(&self, running: &mut HashMap<String, Running>) -> Result<(), EsmError> {
        let records: Vec<MappingRecord> = lock(&self.mappings.inner.records)
            .values()
            .cloned()
            .collect();
        let known: Vec<String> = records.iter().map(|r| r.uuid.clone()).collect();
        let gone: Vec<String> = running
            .keys()
            .filter(|k| !known.contains(k))
            .cloned()
            .collect();
        for uuid in gone {
            Self::stop(running, &uuid).await;
        }
        for rec in records {
            let uuid = rec.uuid.clone();
            let stale = running
                .get(&uuid)
                .is_some_and(|r| r.revision != rec.revision || r.task.is_finished());
            if stale {
                Self::stop(running, &uuid).await;
            }
            match rec.state {
                MappingState::Deleting => {
                    Self::stop(running, &uuid).await;
                    let _control = self.mappings.inner.control.lock().await;
                    if rec.kind == SourceKind::Kinesis {
                        self.mappings
                            .inner
                            .streams
                            .delete_reader(&kinesis::reader_id(&uuid))
                            .map_err(storage)?;
                    }
                    let meta = self.mappings.inner.meta.clone();
                    let key = uuid.clone();
                    tokio::task::spawn_blocking(move || meta.delete(MAPPINGS, &key))
                        .await
                        .map_err(storage)?
                        .map_err(storage)?;
                    lock(&self.mappings.inner.records).remove(&uuid);
                    lock(&self.mappings.inner.results).remove(&uuid);
                }
                _ if !rec.enabled => {
                    Self::stop(running, &uuid).await;
                    if rec.state != MappingState::Disabled {
                        self.settle(rec, MappingState::Disabled).await?;
                    }
                }
                _ => {
                    if !running.contains_key(&uuid) {
                        let opened = self.start(running, &rec);
                        // Bounded: a stuck open must not stall every other mapping.
                        let _ = tokio::time::timeout(OPEN_WAIT, opened).await;
                    }
                    if rec.state != MappingState::Enabled {
                        self.settle(rec, MappingState::Enabled).await?;
                    }
                }
            }
        }
        Ok(())
    }
}
