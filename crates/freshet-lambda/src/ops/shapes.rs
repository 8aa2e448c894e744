// SPDX-License-Identifier: Apache-2.0
//! Output shapes shared by several operations: `FunctionConfiguration` and
//! `AliasConfiguration`, with AWS's member names and formats.

use serde_json::{Map, Value, json};

use crate::functions::Functions;
use crate::functions::names::LATEST;
use crate::functions::record::{AliasRecord, FunctionRecord, State, UpdateStatus, VersionConfig};
use crate::functions::versions::b64_of_hex;
use freshet_types::civil::civil_from_days;

/// `FunctionConfiguration` of one version.
pub(crate) fn configuration(f: &Functions, record: &FunctionRecord, c: &VersionConfig) -> Value {
    let arn = f.function_arn(&record.name);
    let function_arn = if c.version == LATEST {
        arn
    } else {
        format!("{arn}:{}", c.version)
    };
    let mut m = Map::new();
    m.insert("FunctionName".into(), json!(record.name));
    m.insert("FunctionArn".into(), json!(function_arn));
    m.insert("Runtime".into(), json!(c.runtime));
    m.insert("Role".into(), json!(c.role));
    m.insert("Handler".into(), json!(c.handler));
    m.insert("CodeSize".into(), json!(c.code.size));
    m.insert("Description".into(), json!(c.description));
    m.insert("Timeout".into(), json!(c.timeout));
    m.insert("MemorySize".into(), json!(c.memory_size));
    m.insert(
        "LastModified".into(),
        json!(lambda_time(c.last_modified_ms)),
    );
    m.insert("CodeSha256".into(), json!(b64_of_hex(&c.code.sha256)));
    m.insert("Version".into(), json!(c.version));
    if !c.environment.is_empty() {
        m.insert("Environment".into(), json!({ "Variables": c.environment }));
    }
    m.insert("TracingConfig".into(), json!({ "Mode": c.tracing_mode }));
    m.insert("RevisionId".into(), json!(c.revision_id));
    m.insert("State".into(), json!(c.state.as_str()));
    match c.state {
        State::Pending => {
            m.insert(
                "StateReason".into(),
                json!("The function is being created."),
            );
            m.insert("StateReasonCode".into(), json!("Creating"));
        }
        State::Failed => {
            m.insert(
                "StateReason".into(),
                json!("Freshet could not prepare the function's code."),
            );
            m.insert("StateReasonCode".into(), json!("InternalError"));
        }
        State::Active => {}
    }
    m.insert(
        "LastUpdateStatus".into(),
        json!(c.last_update_status.as_str()),
    );
    match (c.last_update_status, c.state) {
        (UpdateStatus::InProgress, State::Pending) => {
            m.insert(
                "LastUpdateStatusReason".into(),
                json!("The function is being created."),
            );
            m.insert("LastUpdateStatusReasonCode".into(), json!("Creating"));
        }
        (UpdateStatus::Failed, _) => {
            m.insert(
                "LastUpdateStatusReason".into(),
                json!("Freshet could not prepare the function's code."),
            );
            m.insert("LastUpdateStatusReasonCode".into(), json!("InternalError"));
        }
        _ => {}
    }
    m.insert("PackageType".into(), json!("Zip"));
    m.insert("Architectures".into(), json!([c.architecture]));
    m.insert(
        "EphemeralStorage".into(),
        json!({ "Size": c.ephemeral_storage }),
    );
    m.insert(
        "SnapStart".into(),
        json!({ "ApplyOn": "None", "OptimizationStatus": "Off" }),
    );
    let group = c
        .log_group
        .clone()
        .unwrap_or_else(|| format!("/aws/lambda/{}", record.name));
    m.insert(
        "LoggingConfig".into(),
        json!({ "LogFormat": c.log_format, "LogGroup": group }),
    );
    Value::Object(m)
}

/// `AliasConfiguration`.
pub(crate) fn alias(f: &Functions, function: &str, a: &AliasRecord) -> Value {
    let mut m = Map::new();
    m.insert(
        "AliasArn".into(),
        json!(format!("{}:{}", f.function_arn(function), a.name)),
    );
    m.insert("Name".into(), json!(a.name));
    m.insert("FunctionVersion".into(), json!(a.function_version));
    m.insert("Description".into(), json!(a.description));
    if !a.weights.is_empty() {
        m.insert(
            "RoutingConfig".into(),
            json!({ "AdditionalVersionWeights": a.weights }),
        );
    }
    m.insert("RevisionId".into(), json!(a.revision_id));
    Value::Object(m)
}

/// Lambda's `LastModified` format: `2024-01-31T12:34:56.789+0000`.
pub(crate) fn lambda_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}+0000",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_uses_lambdas_format() {
        assert_eq!(lambda_time(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(lambda_time(951_782_400_123), "2000-02-29T00:00:00.123+0000");
    }
}
