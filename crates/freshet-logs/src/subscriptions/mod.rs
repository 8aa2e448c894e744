// SPDX-License-Identifier: Apache-2.0
//! Subscription filters: PutSubscriptionFilter, DescribeSubscriptionFilters,
//! DeleteSubscriptionFilter, and the delivery of matching events to Kinesis Data Streams,
//! Firehose and Lambda (`delivery.rs`, payloads in `payload.rs`).
//!
//! Rules (API reference, PutSubscriptionFilter): at most [`MAX_FILTERS_PER_GROUP`] filters
//! per group; a put with an existing name replaces that filter; the destination must be a
//! stream, delivery stream or function of this account and region, and must take a test
//! message when the filter is put (a `CONTROL_MESSAGE` for Kinesis and Firehose, a dry run for
//! Lambda), else InvalidParameterException with AWS's text. A filter delivers the events
//! ingested after it was put; it is deleted with its group.
//!
//! Freshet reaches the destinations in process through [`SubscriptionDestinations`], which
//! the server implements over its Kinesis, Firehose and Lambda handles (this crate depends on
//! none of them) and sets with [`Logs::set_subscription_destinations`].
//!
//! Durability: `logs.subscription_filters` holds the filters and
//! `logs.subscription_cursors` each filter's cursor (the group log offset below which every
//! matching event was acknowledged by the destination); see `store.rs` and `docs/FORMAT.md`.

mod delivery;
pub mod payload;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use base64::Engine as _;
use bytes::Bytes;
use freshet_meta::{MetaError, Txn, TxnExt};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use self::delivery::SubscriptionDelivery;
use crate::error::{Error, Result};
use crate::filter::FilterPattern;
use crate::group::Group;
use crate::service::{Logs, blocking};
use crate::store;

/// Most subscription filters per log group (AWS: two).
pub const MAX_FILTERS_PER_GROUP: usize = 2;
/// Most filters DescribeSubscriptionFilters answers per page.
pub const MAX_DESCRIBE_LIMIT: usize = 50;

/// Filters by group id and filter name.
pub const FILTERS: freshet_meta::Table =
    freshet_meta::Table::new(store::NAMESPACE, "subscription_filters");
/// Delivery cursors by group id and filter name.
pub const CURSORS: freshet_meta::Table =
    freshet_meta::Table::new(store::NAMESPACE, "subscription_cursors");

/// How events are spread over a Kinesis stream's shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Distribution {
    /// Events of one log stream go to one shard (the default).
    ByLogStream,
    /// Any shard.
    Random,
}

impl Distribution {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::ByLogStream => "ByLogStream",
            Distribution::Random => "Random",
        }
    }
}

/// A subscription filter as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionFilterRecord {
    /// Incarnation id: a put with the same name makes a new one (its cursor starts anew).
    pub id: u64,
    /// filterName.
    pub name: String,
    /// filterPattern, as given.
    pub pattern: String,
    /// destinationArn.
    pub destination_arn: String,
    /// roleArn (stored and shown; Freshet has no IAM).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// distribution.
    pub distribution: Distribution,
    /// Creation time, ms.
    pub created_ms: i64,
    /// applyOnTransformedLogs (stored; Freshet has no transformers, so the events are the
    /// ingested ones either way).
    #[serde(default)]
    pub apply_on_transformed_logs: bool,
}

/// A filter's cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorRecord {
    /// The filter incarnation it belongs to.
    pub filter_id: u64,
    /// Every matching event below this group log offset was acknowledged.
    pub offset: u64,
}

/// Where a filter sends its events, parsed from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `arn:aws:kinesis:<region>:<account>:stream/<name>`.
    Kinesis {
        /// The stream's name.
        stream: String,
    },
    /// `arn:aws:firehose:<region>:<account>:deliverystream/<name>`.
    Firehose {
        /// The delivery stream's name.
        delivery_stream: String,
    },
    /// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
    Lambda {
        /// The function ARN, as given.
        function: String,
    },
}

impl Destination {
    /// The largest gzip data message one record of this destination takes.
    pub fn gzip_limit(&self) -> usize {
        match self {
            Destination::Kinesis { .. } => payload::KINESIS_RECORD_LIMIT,
            Destination::Firehose { .. } => payload::FIREHOSE_RECORD_LIMIT,
            Destination::Lambda { .. } => payload::lambda_gzip_limit(),
        }
    }
}

/// One record for a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    /// Kinesis partition key (ignored by the others).
    pub partition_key: String,
    /// gzip data message (Kinesis, Firehose) or the `{"awslogs":...}` event (Lambda).
    pub data: Bytes,
}

/// What a destination did with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Stored (Kinesis, Firehose) or queued for invocation (Lambda).
    Delivered,
    /// Refused; retried later.
    Failed {
        /// AWS error code.
        code: String,
        /// Message.
        message: String,
    },
}

/// Why a whole send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationError {
    /// AWS error code.
    pub code: String,
    /// Message.
    pub message: String,
}

impl fmt::Display for DestinationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The destinations subscription filters deliver to, in process.
pub trait SubscriptionDestinations: Send + Sync + fmt::Debug + 'static {
    /// Sends records (Kinesis: PutRecords; Firehose: PutRecordBatch; Lambda: one Event
    /// invocation per record), at most 500 and 4 MiB at a time; one outcome per record.
    fn send<'a>(
        &'a self,
        destination: &'a Destination,
        records: &'a [OutRecord],
    ) -> BoxFuture<'a, Result<Vec<RecordOutcome>, DestinationError>>;

    /// Whether a Lambda destination can be invoked (a DryRun invocation).
    fn check_function<'a>(
        &'a self,
        function: &'a str,
    ) -> BoxFuture<'a, Result<(), DestinationError>>;
}

/// A subscription filter with its group.
#[derive(Debug, Clone)]
pub struct SubscriptionFilterInfo {
    /// logGroupName.
    pub group: String,
    /// The filter.
    pub filter: SubscriptionFilterRecord,
}

/// A live filter: what its delivery task follows.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) group: Arc<Group>,
    pub(crate) record: SubscriptionFilterRecord,
    pub(crate) pattern: FilterPattern,
    pub(crate) destination: Destination,
    /// Its cursor: set when the entry is made, advanced after each commit (a restarted task
    /// resumes there).
    pub(crate) cursor: std::sync::atomic::AtomicU64,
}

/// The live filters of every group, and the destinations.
#[derive(Debug)]
pub(crate) struct Registry {
    filters: Mutex<BTreeMap<(u64, String), Arc<Entry>>>,
    destinations: OnceLock<Arc<dyn SubscriptionDestinations>>,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            filters: Mutex::default(),
            destinations: OnceLock::new(),
            changed: tokio::sync::watch::channel(0).0,
        }
    }
}

impl Registry {
    fn filters(&self) -> MutexGuard<'_, BTreeMap<(u64, String), Arc<Entry>>> {
        self.filters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn insert(&self, e: Entry) {
        self.filters()
            .insert((e.group.id, e.record.name.clone()), Arc::new(e));
        self.bump();
    }

    /// Forgets the filters of a deleted group.
    pub(crate) fn group_deleted(&self, group_id: u64) {
        self.filters().retain(|(g, _), _| *g != group_id);
        self.bump();
    }

    pub(crate) fn snapshot(&self) -> Vec<Arc<Entry>> {
        self.filters().values().cloned().collect()
    }

    pub(crate) fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub(crate) fn destinations(&self) -> Option<Arc<dyn SubscriptionDestinations>> {
        self.destinations.get().cloned()
    }
}

/// A PutSubscriptionFilter request, checked against the model.
#[derive(Debug, Clone)]
pub struct PutSubscriptionFilter {
    /// logGroupName.
    pub group: String,
    /// filterName.
    pub name: String,
    /// filterPattern.
    pub pattern: String,
    /// destinationArn.
    pub destination_arn: String,
    /// roleArn.
    pub role_arn: Option<String>,
    /// distribution (`None`: ByLogStream).
    pub distribution: Option<Distribution>,
    /// applyOnTransformedLogs.
    pub apply_on_transformed_logs: bool,
    /// fieldSelectionCriteria.
    pub field_selection_criteria: Option<String>,
    /// emitSystemFields.
    pub emit_system_fields: Vec<String>,
}

/// Parses a destination ARN of this account and region.
pub fn parse_destination(arn: &str, region: &str, account: &str) -> Result<Destination> {
    let bad = || Error::SubscriptionDestination {
        message: format!(
            "Invalid destination ARN {arn}: Freshet delivers to Kinesis streams, Firehose streams and Lambda functions of account {account} in {region}."
        ),
    };
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(r), Some(a), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    if !partition.starts_with("aws") || r != region || a != account {
        return Err(bad());
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .filter(|n| !n.is_empty() && !n.contains(['/', ':']))
            .map(str::to_owned)
    };
    match service {
        "kinesis" => named("stream/")
            .map(|stream| Destination::Kinesis { stream })
            .ok_or_else(bad),
        "firehose" => named("deliverystream/")
            .map(|delivery_stream| Destination::Firehose { delivery_stream })
            .ok_or_else(bad),
        "lambda" => match resource.strip_prefix("function:") {
            Some(rest) if !rest.is_empty() && rest.split(':').count() <= 2 => {
                Ok(Destination::Lambda {
                    function: arn.to_owned(),
                })
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn encode_token(name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sf1/{name}"))
}

fn parse_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sf1/")
        .map(str::to_owned)
}

/// Reads the filters and cursors of the group `group_id`.
pub(crate) fn load_group(
    txn: &dyn Txn,
    group_id: u64,
) -> Result<Vec<(SubscriptionFilterRecord, Option<CursorRecord>)>, MetaError> {
    let prefix = format!("{}/", store::group_key(group_id));
    let mut out = Vec::new();
    for (key, _) in txn.scan(FILTERS, &prefix)? {
        if let Some(f) = txn.get_json::<SubscriptionFilterRecord>(FILTERS, &key)? {
            let cursor = txn
                .get_json::<CursorRecord>(CURSORS, &key)?
                .filter(|c| c.filter_id == f.id);
            out.push((f, cursor));
        }
    }
    Ok(out)
}

/// Removes a group's filters and cursors (inside DeleteLogGroup's transaction).
pub(crate) fn delete_group_rows(txn: &mut dyn Txn, group_id: u64) -> Result<(), MetaError> {
    let prefix = format!("{}/", store::group_key(group_id));
    for (key, _) in txn.scan(FILTERS, &prefix)? {
        txn.delete(FILTERS, &key)?;
    }
    for (key, _) in txn.scan(CURSORS, &prefix)? {
        txn.delete(CURSORS, &key)?;
    }
    Ok(())
}

impl Logs {
    /// Sets where subscription filters deliver. Call once, before serving; later calls are
    /// ignored.
    pub fn set_subscription_destinations(&self, d: Arc<dyn SubscriptionDestinations>) {
        let _ = self.inner.subscriptions.destinations.set(d);
    }

    /// The delivery component, for the server's supervisor.
    pub fn subscription_delivery(&self) -> Arc<SubscriptionDelivery> {
        SubscriptionDelivery::new(self.clone())
    }

    /// Loads the stored filters of every group (at open).
    pub(crate) fn load_subscriptions(&self) -> Result<()> {
        let groups: Vec<Arc<Group>> = self.groups().values().cloned().collect();
        let loaded = self.inner.meta.read(|t| {
            let mut all = Vec::new();
            for g in &groups {
                all.push((g.clone(), load_group(t, g.id)?));
            }
            Ok::<_, MetaError>(all)
        })?;
        let (region, account) = (&self.inner.opts.region, &self.inner.opts.account_id);
        for (g, filters) in loaded {
            for (record, cursor) in filters {
                let (Ok(pattern), Ok(destination)) = (
                    FilterPattern::parse(&record.pattern),
                    parse_destination(&record.destination_arn, region, account),
                ) else {
                    tracing::warn!(group = %g.name, filter = %record.name, "Skipping a stored subscription filter this build cannot parse.");
                    continue;
                };
                let cursor = cursor.map_or_else(|| g.log.start_offset(), |c| c.offset);
                self.inner.subscriptions.insert(Entry {
                    group: g.clone(),
                    record,
                    pattern,
                    destination,
                    cursor: cursor.into(),
                });
            }
        }
        Ok(())
    }

    /// PutSubscriptionFilter: creates or replaces the filter, after the destination took a
    /// test message.
    pub async fn put_subscription_filter(&self, req: PutSubscriptionFilter) -> Result<()> {
        crate::names::validate_filter_name(&req.name)?;
        let pattern = FilterPattern::parse(&req.pattern)
            .map_err(|source| Error::SubscriptionFilterPattern { source })?;
        if req
            .field_selection_criteria
            .as_deref()
            .is_some_and(|c| !c.is_empty())
        {
            return Err(Error::SubscriptionUnsupported {
                member: "fieldSelectionCriteria",
            });
        }
        if !req.emit_system_fields.is_empty() {
            return Err(Error::SubscriptionUnsupported {
                member: "emitSystemFields",
            });
        }
        let opts = &self.inner.opts;
        let destination = parse_destination(&req.destination_arn, &opts.region, &opts.account_id)?;
        let g = self.group(&req.group)?;
        self.check_slot(&g, &req.name)?;
        self.test_destination(&destination).await?;
        let _control = self.inner.control.lock().await;
        let g = self.group(&req.group)?;
        let created_ms = self
            .check_slot(&g, &req.name)?
            .unwrap_or_else(|| self.now_ms());
        let meta = self.inner.meta.clone();
        let key = store::child_key(g.id, &req.name);
        // Delivery starts with the events ingested from now on.
        let offset = g.log.next_offset();
        let draft = SubscriptionFilterRecord {
            id: 0,
            name: req.name,
            pattern: req.pattern,
            destination_arn: req.destination_arn,
            role_arn: req.role_arn,
            distribution: req.distribution.unwrap_or(Distribution::ByLogStream),
            created_ms,
            apply_on_transformed_logs: req.apply_on_transformed_logs,
        };
        let record = blocking(move || {
            Ok(meta.transaction(|t| {
                let mut record = draft.clone();
                record.id = store::allocate_id(t)?;
                t.put_json(FILTERS, &key, &record)?;
                t.put_json(
                    CURSORS,
                    &key,
                    &CursorRecord {
                        filter_id: record.id,
                        offset,
                    },
                )?;
                Ok::<_, MetaError>(record)
            })?)
        })
        .await?;
        self.inner.subscriptions.insert(Entry {
            group: g,
            record,
            pattern,
            destination,
            cursor: offset.into(),
        });
        Ok(())
    }

    /// The creation time of the filter a put replaces (`None`: a new filter), or
    /// LimitExceededException when the group has no room for a new one.
    fn check_slot(&self, g: &Group, name: &str) -> Result<Option<i64>> {
        let filters = self.inner.subscriptions.filters();
        if let Some(e) = filters.get(&(g.id, name.to_owned())) {
            return Ok(Some(e.record.created_ms));
        }
        let count = filters.keys().filter(|(id, _)| *id == g.id).count();
        if count >= MAX_FILTERS_PER_GROUP {
            return Err(Error::SubscriptionFilterLimit);
        }
        Ok(None)
    }

    /// Sends the destination AWS's test: a CONTROL_MESSAGE (Kinesis, Firehose), a dry run
    /// (Lambda).
    async fn test_destination(&self, d: &Destination) -> Result<()> {
        let refused = || {
            Error::SubscriptionDestination {
            message: match d {
                Destination::Kinesis { .. } => "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state.".to_owned(),
                Destination::Firehose { .. } => "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.".to_owned(),
                Destination::Lambda { .. } => "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.".to_owned(),
            },
        }
        };
        let Some(dest) = self.inner.subscriptions.destinations() else {
            return Err(refused());
        };
        let what = match d {
            Destination::Kinesis { .. } => "Kinesis stream",
            Destination::Firehose { .. } => "Firehose",
            Destination::Lambda { function } => {
                return dest.check_function(function).await.map_err(|error| {
                    tracing::debug!(%error, "A subscription destination refused the test.");
                    refused()
                });
            }
        };
        let record = OutRecord {
            partition_key: uuid::Uuid::new_v4().simple().to_string(),
            data: Bytes::from(payload::control_message(what, self.now_ms())),
        };
        match dest.send(d, std::slice::from_ref(&record)).await {
            Ok(out) if out.iter().all(|o| *o == RecordOutcome::Delivered) => Ok(()),
            Ok(out) => {
                tracing::debug!(?out, "A subscription destination refused the test message.");
                Err(refused())
            }
            Err(error) => {
                tracing::debug!(%error, "A subscription destination refused the test message.");
                Err(refused())
            }
        }
    }

    /// DeleteSubscriptionFilter.
    pub async fn delete_subscription_filter(&self, group: &str, name: &str) -> Result<()> {
        let _control = self.inner.control.lock().await;
        let g = self.group(group)?;
        let k = (g.id, name.to_owned());
        if !self.inner.subscriptions.filters().contains_key(&k) {
            return Err(Error::SubscriptionFilterNotFound);
        }
        let meta = self.inner.meta.clone();
        let key = store::child_key(g.id, name);
        blocking(move || {
            Ok(meta.transaction(|t| {
                t.delete(FILTERS, &key)?;
                t.delete(CURSORS, &key)?;
                Ok::<_, MetaError>(())
            })?)
        })
        .await?;
        self.inner.subscriptions.filters().remove(&k);
        self.inner.subscriptions.bump();
        Ok(())
    }

    /// DescribeSubscriptionFilters of one group, by name.
    pub fn describe_subscription_filters(
        &self,
        group: &str,
        prefix: Option<&str>,
        limit: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<crate::model::Page<SubscriptionFilterInfo>> {
        let after = match next_token {
            Some(t) => Some(parse_token(t).ok_or(Error::InvalidNextToken)?),
            None => None,
        };
        let g = self.group(group)?;
        let mut all: Vec<SubscriptionFilterInfo> = self
            .inner
            .subscriptions
            .filters()
            .iter()
            .filter(|((id, name), _)| {
                *id == g.id
                    && prefix.is_none_or(|p| name.starts_with(p))
                    && after.as_ref().is_none_or(|a| name > a)
            })
            .map(|(_, e)| SubscriptionFilterInfo {
                group: g.name.clone(),
                filter: e.record.clone(),
            })
            .collect();
        let limit = limit
            .unwrap_or(MAX_DESCRIBE_LIMIT)
            .clamp(1, MAX_DESCRIBE_LIMIT);
        let more = all.len() > limit;
        all.truncate(limit);
        let next_token = match (more, all.last()) {
            (true, Some(last)) => Some(encode_token(&last.filter.name)),
            _ => None,
        };
        Ok(crate::model::Page {
            items: all,
            next_token,
        })
    }

    /// Commits a filter's cursor, if the filter is still this incarnation. `false`: it is
    /// gone or replaced.
    pub(crate) async fn commit_cursor(&self, e: &Entry, offset: u64) -> Result<bool> {
        let meta = self.inner.meta.clone();
        let key = store::child_key(e.group.id, &e.record.name);
        let id = e.record.id;
        blocking(move || {
            Ok(meta.transaction(|t| {
                match t.get_json::<SubscriptionFilterRecord>(FILTERS, &key)? {
                    Some(f) if f.id == id => {}
                    _ => return Ok::<_, MetaError>(false),
                }
                t.put_json(
                    CURSORS,
                    &key,
                    &CursorRecord {
                        filter_id: id,
                        offset,
                    },
                )?;
                Ok(true)
            })?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_arns_of_this_account_and_region_parse() {
        let p = |arn| parse_destination(arn, "us-east-1", "000000000000");
        assert_eq!(
            p("arn:aws:kinesis:us-east-1:000000000000:stream/s").unwrap(),
            Destination::Kinesis { stream: "s".into() }
        );
        assert_eq!(
            p("arn:aws:firehose:us-east-1:000000000000:deliverystream/d").unwrap(),
            Destination::Firehose {
                delivery_stream: "d".into()
            }
        );
        assert!(matches!(
            p("arn:aws:lambda:us-east-1:000000000000:function:f:live").unwrap(),
            Destination::Lambda { .. }
        ));
        for bad in [
            "",
            "nope",
            "arn:aws:kinesis:eu-west-1:000000000000:stream/s",
            "arn:aws:kinesis:us-east-1:111111111111:stream/s",
            "arn:aws:kinesis:us-east-1:000000000000:stream/",
            "arn:aws:logs:us-east-1:000000000000:destination:d",
            "arn:aws:lambda:us-east-1:000000000000:function:",
            "arn:aws:sqs:us-east-1:000000000000:q",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(parse_token(&encode_token("a/b")).as_deref(), Some("a/b"));
        assert_eq!(parse_token("!!"), None);
        assert_eq!(parse_token("Zm9v"), None);
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_arn_never_panics(arn in "\\PC{0,80}") {
            let _ = parse_destination(&arn, "us-east-1", "000000000000");
        }
    }
}
