// SPDX-License-Identifier: Apache-2.0
//! The metrics in the Prometheus text exposition format, named as the CloudWatch exporters
//! name them.
