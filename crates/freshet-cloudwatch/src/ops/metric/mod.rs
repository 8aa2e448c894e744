// SPDX-License-Identifier: Apache-2.0
//! The metric operations.

use freshet_protocol::{Input, Response};

use super::Ctx;

/// Routes one of the metric operations.
pub(crate) async fn dispatch(_ctx: &Ctx<'_>, op: &str, input: Input<'_>) -> Response {
    crate::api::unknown_operation(op, input.protocol())
}
