// SPDX-License-Identifier: Apache-2.0
//! Freshet's CloudWatch Logs service (`Logs_20140328.*`): this crate will hold the service;
//! today it holds the pure, sans-IO rules the service is built on.
//!
//! * [`filter`]: the filter-pattern language of FilterLogEvents, metric filters, subscription
//!   filters and Live Tail; TestMetricFilter; metric values from matches.
//! * [`names`]: log group, log stream, metric filter and metric names, and retention days, with
//!   AWS's error texts.
//! * [`put_rules`]: the PutLogEvents batch rules: sizes, order, the 24-hour span, and which
//!   events are rejected as too new, too old or expired.
//!
//! Nothing here does I/O or reads a clock: callers pass `now`.

pub mod filter;
pub mod names;
pub mod put_rules;

pub use filter::{FilterPattern, Match, PatternError, metric_value, test_metric_filter};
