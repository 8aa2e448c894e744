// SPDX-License-Identifier: Apache-2.0
//! GetAccountSettings.

use serde_json::{Value, json};

use crate::functions::Functions;
use crate::functions::code::{MAX_UNZIPPED, MAX_ZIPPED};

pub(crate) fn call(f: &Functions) -> Value {
    let (count, code, unreserved) = f.account_usage();
    json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800u64,
            "CodeSizeUnzipped": MAX_UNZIPPED,
            "CodeSizeZipped": MAX_ZIPPED,
            "ConcurrentExecutions": f.options().total_concurrency,
            "UnreservedConcurrentExecutions": unreserved,
        },
        "AccountUsage": { "TotalCodeSize": code, "FunctionCount": count },
    })
}
