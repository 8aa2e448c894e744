// SPDX-License-Identifier: Apache-2.0
//! Amazon CloudWatch (metrics, alarms, dashboards) for Freshet.
//!
//! - [`store`]: the durable metric store ([`MetricStore`]): datapoints per metric and period
//!   under AWS's retention tiers, queries by period and statistic, the metric index behind
//!   ListMetrics.
//! - [`collector`]: the component that drains the services' [`Recorder`] into the store
//!   about once a second and samples their gauges once a minute.
//! - [`math`]: metric math (the `Expression`s of GetMetricData, alarms and dashboards).
//! - [`alarms`]: metric and composite alarms, their state machine, evaluation and actions.
//! - [`dashboards`]: dashboard bodies, validated as AWS validates them.
//! - [`prometheus`]: the same metrics in the Prometheus text format.
//! - [`api`]: [`CloudWatchService`], the API over JSON 1.0, RPC v2 CBOR and Query; one module
//!   per operation group under `ops/`.

pub mod alarms;
pub mod api;
pub mod collector;
pub mod dashboards;
pub mod error;
pub mod math;
mod ops;
pub mod prometheus;
pub mod statistic;
pub mod store;

use std::sync::Arc;

use freshet_metrics::Recorder;
use freshet_runtime::Platform;

pub use api::CloudWatchService;
pub use store::MetricStore;

/// The CloudWatch service: its store, alarms and dashboards, and the recorder the other
/// services count into. Cheap to clone.
#[derive(Clone)]
pub struct CloudWatch {
    /// Where metrics are kept.
    pub store: Arc<MetricStore>,
    /// What services record into; drained by [`collector`].
    pub recorder: Recorder,
    /// Alarms.
    pub alarms: Arc<alarms::Alarms>,
    /// Dashboards.
    pub dashboards: Arc<dashboards::Dashboards>,
    /// The account and region in ARNs.
    pub account: Account,
}

impl std::fmt::Debug for CloudWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudWatch").finish_non_exhaustive()
    }
}

/// The account id and region the service answers as (in ARNs).
#[derive(Debug, Clone)]
pub struct Account {
    /// E.g. `000000000000`.
    pub id: String,
    /// E.g. `us-east-1`.
    pub region: String,
}

/// Why the service could not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The metric store failed.
    #[error("metric store: {0}")]
    Store(#[from] store::StoreError),
    /// Alarms or dashboards could not be loaded.
    #[error("{0}")]
    Meta(String),
}

impl CloudWatch {
    /// Opens the service on `platform`; `recorder` is the one the other services were given
    /// (a disabled one when metrics are off).
    pub fn open(
        platform: &Platform,
        recorder: Recorder,
        account: Account,
    ) -> Result<Self, OpenError> {
        let store = MetricStore::open(platform)?;
        let alarms = Arc::new(alarms::Alarms::open(platform).map_err(OpenError::Meta)?);
        let dashboards = Arc::new(dashboards::Dashboards::open(platform).map_err(OpenError::Meta)?);
        Ok(Self {
            store,
            recorder,
            alarms,
            dashboards,
            account,
        })
    }
}
