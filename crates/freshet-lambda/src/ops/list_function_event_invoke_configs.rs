// SPDX-License-Identifier: Apache-2.0
//! ListFunctionEventInvokeConfigs: the settings of every version and alias of a function,
//! paged by `Marker` and `MaxItems` (1 to 50, default 50).

use serde_json::{Value, json};

use crate::functions::{Error, Functions};
use crate::ops::event_invoke::{input, shape, target};
use crate::ops::page;

pub(crate) fn call(f: &Functions, v: Value) -> Result<Value, Error> {
    let i = input(v, false)?;
    let r = target(f, &i)?;
    let all = f.list_event_invoke_configs(&r.name)?;
    let (items, next) = page(
        all,
        |(arn, _)| arn.clone(),
        i.marker.as_deref(),
        i.max_items,
        50,
    );
    let mut out =
        json!({ "FunctionEventInvokeConfigs": items.iter().map(shape).collect::<Vec<_>>() });
    if let Some(next) = next {
        out["NextMarker"] = json!(next);
    }
    Ok(out)
}
