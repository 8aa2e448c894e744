// SPDX-License-Identifier: Apache-2.0
//! Metric values and the in-process recorder.
//!
//! Every service counts what it does into a [`Recorder`] under AWS's namespaces, metric names,
//! dimensions and units. The recorder aggregates per series and per minute (AWS's resolution
//! for service metrics) and hands finished minutes to CloudWatch's store, which owns
//! durability, retention and queries. Services depend on this crate only, never on the
//! CloudWatch service.
//!
//! - [`key`]: [`MetricKey`] (namespace, name, sorted dimensions), [`Unit`], AWS's limits.
//! - [`stats`]: [`StatSet`] (SampleCount/Sum/Minimum/Maximum), [`Sketch`] (percentiles with
//!   1% relative error), [`Datapoint`] and [`Point`].
//! - [`recorder`]: [`Recorder`], [`Series`] and [`GaugeSource`].

pub mod key;
pub mod recorder;
pub mod stats;

pub use key::{Dimension, MetricKey, Unit};
pub use recorder::{GaugeSource, Recorder, Series};
pub use stats::{Datapoint, Point, Sketch, StatSet};

/// Milliseconds in a minute, the resolution of service metrics.
pub const MINUTE_MS: i64 = 60_000;

/// The start of the minute `ts_ms` falls in.
pub fn minute_of(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(MINUTE_MS) * MINUTE_MS
}
