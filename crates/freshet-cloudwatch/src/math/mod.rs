// SPDX-License-Identifier: Apache-2.0
//! Metric math: the `Expression`s of GetMetricData, metric alarms and dashboard widgets.
