// SPDX-License-Identifier: Apache-2.0
//! Freshet's CloudWatch Logs service (`Logs_20140328.*`, AWS JSON 1.1): log groups and log
//! streams on the durable log, PutLogEvents, GetLogEvents, FilterLogEvents with the filter
//! pattern language, retention that deletes expired data, tags, metric filters, Live Tail.
//!
//! [`Logs`] is the service handle; other Freshet components use it in process
//! ([`Logs::append`] creates the group and stream it writes to). [`LogsService`] is the API
//! over it, plugged into the shared front door. Modules:
//!
//! * Pure rules, no I/O: [`filter`] (filter patterns, TestMetricFilter), [`names`] (names and
//!   retention values with AWS's texts), [`put_rules`] (PutLogEvents batch rules), [`codec`]
//!   (an event in a log record), [`token`] (every token and id the API hands out), [`index`]
//!   (a stream's sparse index), [`insights`] (the Logs Insights query language).
//! * Storage: `store.rs` (metadata tables and log names), `group.rs` (a group in memory and
//!   how it follows its log).
//! * The service: `service.rs` (open, recovery, control plane), `append.rs` (the data path),
//!   `read.rs` (GetLogEvents), `filter_events.rs` (FilterLogEvents), `describe.rs`,
//!   `metric_filters.rs`, `tags.rs`, `live_tail.rs`, [`subscriptions`] (subscription filters
//!   and their delivery), `maintenance.rs` (checkpoints and
//!   retention, run by the server's components).
//! * The API: `api.rs` and one module per operation under `ops/`.
//!
//! Storage layout: `docs/FORMAT.md` and `store.rs`. What differs from AWS:
//! `docs/ARCHITECTURE.md`, section "CloudWatch Logs".

pub mod api;
mod append;
pub mod codec;
mod describe;
pub mod error;
pub mod filter;
mod filter_events;
mod group;
pub mod index;
pub mod insights;
pub mod live_tail;
mod maintenance;
pub mod metric_filters;
mod metrics;
pub mod model;
pub mod names;
mod ops;
pub mod put_rules;
mod read;
mod service;
pub mod store;
pub mod subscriptions;
pub mod tags;
pub mod token;

pub use api::LogsService;
pub use error::{Error, ErrorKind};
pub use filter::{FilterPattern, Match, PatternError, metric_value, test_metric_filter};
pub use live_tail::{LiveTail, LiveTailEvent, LiveTailItem, LiveTailRequest, LiveTailUpdate};
pub use metric_filters::{MetricDatum, MetricFilter};
pub use model::*;
pub use service::{Logs, LogsOptions};
pub use subscriptions::{
    Destination, DestinationError, OutRecord, RecordOutcome, SubscriptionDestinations,
};
