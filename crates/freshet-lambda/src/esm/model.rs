// SPDX-License-Identifier: Apache-2.0
//! A mapping's record (JSON in `lambda.mappings` under its UUID), the validation of
//! Create/UpdateEventSourceMapping input with AWS's errors, and the
//! EventSourceMappingConfiguration document the API answers with.
//!
//! Input and output are `serde_json::Value`s in the botocore model's member names
//! (`BatchSize`, `FilterCriteria.Filters[].Pattern`, ...), so the API layer passes decoded
//! request bodies through and encodes answers as they are.

use freshet_protocol::validate::{StringMember, Validator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::esm::batch::{BatchConfig, MAX_PAYLOAD};
use crate::esm::filter::FilterCriteria;

/// What kind of source a mapping reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// A Kinesis data stream.
    Kinesis,
    /// An SQS queue.
    Sqs,
}

impl SourceKind {
    /// `StateTransitionReason` after a change the user made: Lambda writes `User action` for
    /// streams and `USER_INITIATED` for queues.
    pub fn user_reason(self) -> &'static str {
        match self {
            SourceKind::Kinesis => "User action",
            SourceKind::Sqs => "USER_INITIATED",
        }
    }
}

/// A mapping's lifecycle state (`State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingState {
    /// Just created; the pipeline is starting.
    Creating,
    /// Being enabled.
    Enabling,
    /// Running.
    Enabled,
    /// Being disabled.
    Disabling,
    /// Stopped; the checkpoint is kept.
    Disabled,
    /// Changed; the pipeline restarts with the new settings.
    Updating,
    /// Being deleted.
    Deleting,
}

impl MappingState {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MappingState::Creating => "Creating",
            MappingState::Enabling => "Enabling",
            MappingState::Enabled => "Enabled",
            MappingState::Disabling => "Disabling",
            MappingState::Disabled => "Disabled",
            MappingState::Updating => "Updating",
            MappingState::Deleting => "Deleting",
        }
    }
}

/// The function a mapping invokes, as the Lambda API resolved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionRef {
    /// `FunctionArn` as the mapping shows it (qualified if a version or alias was named).
    pub arn: String,
    /// The function's execution role (`invokeIdentityArn` of Kinesis events).
    pub role: String,
}

/// Everything a mapping is: its settings and state. Persisted as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingRecord {
    /// UUID.
    pub uuid: String,
    /// Source kind.
    pub kind: SourceKind,
    /// EventSourceArn.
    pub event_source_arn: String,
    /// The function.
    pub function: FunctionRef,
    /// Enabled as last set.
    pub enabled: bool,
    /// BatchSize.
    pub batch_size: u32,
    /// MaximumBatchingWindowInSeconds.
    pub batching_window: u32,
    /// StartingPosition (streams).
    pub starting_position: Option<String>,
    /// StartingPositionTimestamp, ms (AT_TIMESTAMP).
    pub starting_timestamp_ms: Option<i64>,
    /// ParallelizationFactor (streams).
    pub parallelization: u32,
    /// BisectBatchOnFunctionError (streams).
    pub bisect: bool,
    /// MaximumRetryAttempts (streams), -1 infinite.
    pub max_retries: i64,
    /// MaximumRecordAgeInSeconds (streams), -1 infinite.
    pub max_record_age: i64,
    /// TumblingWindowInSeconds (streams), 0 off.
    pub tumbling_window: u32,
    /// FunctionResponseTypes.
    pub response_types: Vec<String>,
    /// FilterCriteria.Filters[].Pattern, as given.
    pub filters: Option<Vec<Option<String>>>,
    /// DestinationConfig.OnFailure.Destination.
    pub on_failure: Option<String>,
    /// ScalingConfig.MaximumConcurrency (queues).
    pub max_concurrency: Option<u32>,
    /// Members stored and echoed but not acted on (KMSKeyArn, MetricsConfig, ...).
    pub extra: Map<String, Value>,
    /// State.
    pub state: MappingState,
    /// StateTransitionReason.
    pub reason: String,
    /// LastModified, ms.
    pub last_modified_ms: i64,
    /// LastProcessingResult.
    pub last_result: String,
    /// Bumped on every change of settings (a running pipeline with an older one restarts).
    pub revision: u64,
}

/// Why a mapping request failed: AWS's code, status and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EsmError {
    /// 400 InvalidParameterValueException.
    #[error("{0}")]
    InvalidParameter(String),
    /// 400 ValidationException (a member outside the model's range).
    #[error("{0}")]
    Validation(String),
    /// 404 ResourceNotFoundException.
    #[error("{0}")]
    NotFound(String),
    /// 409 ResourceConflictException.
    #[error("{0}")]
    Conflict(String),
    /// 400 ResourceInUseException.
    #[error("{0}")]
    InUse(String),
    /// 500 ServiceException (storage).
    #[error("{0}")]
    Service(String),
}

impl EsmError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            EsmError::InvalidParameter(_) => "InvalidParameterValueException",
            EsmError::Validation(_) => "ValidationException",
            EsmError::NotFound(_) => "ResourceNotFoundException",
            EsmError::Conflict(_) => "ResourceConflictException",
            EsmError::InUse(_) => "ResourceInUseException",
            EsmError::Service(_) => "ServiceException",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            EsmError::InvalidParameter(_) | EsmError::Validation(_) | EsmError::InUse(_) => 400,
            EsmError::NotFound(_) => 404,
            EsmError::Conflict(_) => 409,
            EsmError::Service(_) => 500,
        }
    }
}

fn invalid(msg: impl Into<String>) -> EsmError {
    EsmError::InvalidParameter(msg.into())
}

/// Members of a request this module reads; others are kept in `extra` when echoed.
const ECHOED: &[&str] = &[
    "KMSKeyArn",
    "MetricsConfig",
    "LoggingConfig",
    "ProvisionedPollerConfig",
    "Tags",
];

fn int(req: &Value, key: &str, min: i64, max: i64) -> Result<Option<i64>, EsmError> {
    let Some(v) = req.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let n = v
        .as_i64()
        .ok_or_else(|| invalid(format!("Invalid value for {key}.")))?;
    let member = lower_first(key);
    if n < min {
        return Err(EsmError::Validation(format!(
            "1 validation error detected: Value '{n}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
        )));
    }
    if n > max {
        return Err(EsmError::Validation(format!(
            "1 validation error detected: Value '{n}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
        )));
    }
    Ok(Some(n))
}

/// `StartingPosition` values in the order Lambda lists them (not the model's).
const STARTING_POSITIONS: &[&str] = &["LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"];

/// The model's constraints on a Create/UpdateEventSourceMapping request (ranges, enums), all
/// failures in one ValidationException as Coral reports them. Lambda checks these before it
/// looks at the function, the source or the mapping, so callers run this first.
pub fn validate(req: &Value) -> Result<(), EsmError> {
    let mut v = Validator::new();
    let ranges: [(&str, i64, i64); 6] = [
        ("BatchSize", 1, 10_000),
        ("MaximumBatchingWindowInSeconds", 0, 300),
        ("ParallelizationFactor", 1, 10),
        ("MaximumRecordAgeInSeconds", -1, 604_800),
        ("MaximumRetryAttempts", -1, 10_000),
        ("TumblingWindowInSeconds", 0, 900),
    ];
    for (key, min, max) in ranges {
        let n = req.get(key).and_then(Value::as_i64);
        v.int(lower_first(key).as_str(), n, Some(min), Some(max));
    }
    let position = req.get("StartingPosition").and_then(Value::as_str);
    v.one_of("startingPosition", position, STARTING_POSITIONS);
    if let Some(types) = req.get("FunctionResponseTypes").and_then(Value::as_array) {
        let list: Vec<String> = types
            .iter()
            .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
            .collect();
        v.string_list(
            "functionResponseTypes",
            Some(&list),
            (0, 1),
            StringMember::OneOf(&["ReportBatchItemFailures"]),
        );
    }
    let concurrency = req
        .get("ScalingConfig")
        .and_then(|s| s.get("MaximumConcurrency"))
        .and_then(Value::as_i64);
    v.int(
        "scalingConfig.maximumConcurrency",
        concurrency,
        Some(2),
        Some(1000),
    );
    match v.finish() {
        Some(m) => Err(EsmError::Validation(m)),
        None => Ok(()),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn boolean(req: &Value, key: &str) -> Option<bool> {
    req.get(key).and_then(Value::as_bool)
}

fn unsupported(key: &str) -> EsmError {
    invalid(format!(
        "Unsupported {key} parameter for given event source mapping type."
    ))
}

/// Patterns of `FilterCriteria`: `None` when the member is absent, `Some(vec![])` to clear.
fn filters(req: &Value) -> Result<Option<Vec<Option<String>>>, EsmError> {
    let Some(fc) = req.get("FilterCriteria").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let list = match fc.get("Filters") {
        None | Some(Value::Null) => return Ok(Some(Vec::new())),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(invalid("Invalid filter pattern definition.")),
    };
    let patterns: Vec<Option<String>> = list
        .iter()
        .map(|f| f.get("Pattern").and_then(Value::as_str).map(str::to_owned))
        .collect();
    FilterCriteria::parse(patterns.iter().map(|p| p.as_deref()))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(Some(patterns))
}

fn on_failure(req: &Value) -> Option<Option<String>> {
    let dc = req.get("DestinationConfig").filter(|v| !v.is_null())?;
    Some(
        dc.get("OnFailure")
            .and_then(|o| o.get("Destination"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    )
}

impl MappingRecord {
    /// A new record from a CreateEventSourceMapping request (validated except for the
    /// existence of the source, which the caller checks).
    pub fn from_create(
        uuid: String,
        kind: SourceKind,
        req: &Value,
        function: FunctionRef,
        now_ms: i64,
    ) -> Result<MappingRecord, EsmError> {
        let event_source_arn = req
            .get("EventSourceArn")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let stream = kind == SourceKind::Kinesis;
        let mut r = MappingRecord {
            uuid,
            kind,
            event_source_arn,
            function,
            enabled: true,
            batch_size: if stream { 100 } else { 10 },
            batching_window: 0,
            starting_position: None,
            starting_timestamp_ms: None,
            parallelization: 1,
            bisect: false,
            max_retries: -1,
            max_record_age: -1,
            tumbling_window: 0,
            response_types: Vec::new(),
            filters: None,
            on_failure: None,
            max_concurrency: None,
            extra: Map::new(),
            state: MappingState::Creating,
            reason: kind.user_reason().into(),
            last_modified_ms: now_ms,
            last_result: "No records processed".into(),
            revision: 1,
        };
        validate(req)?;
        let pos = req.get("StartingPosition").and_then(Value::as_str);
        let has_timestamp = req
            .get("StartingPositionTimestamp")
            .is_some_and(|v| !v.is_null());
        if stream {
            match pos {
                None => {
                    return Err(invalid(
                        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
                    ));
                }
                Some("AT_TIMESTAMP") => {
                    let ts = req
                        .get("StartingPositionTimestamp")
                        .and_then(Value::as_f64)
                        .ok_or_else(|| {
                            invalid(
                                "StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP.",
                            )
                        })?;
                    let ms = (ts * 1000.0) as i64;
                    if ms > now_ms {
                        return Err(invalid(
                            "StartingPositionTimestamp cannot be in the future.",
                        ));
                    }
                    r.starting_timestamp_ms = Some(ms);
                }
                // The other values of the enum (validated above).
                Some(_) if has_timestamp => {
                    return Err(invalid(
                        "Timestamp only valid with StartingPosition AT_TIMESTAMP",
                    ));
                }
                Some(_) => {}
            }
            r.starting_position = pos.map(str::to_owned);
        } else if pos.is_some() {
            return Err(invalid(
                "StartingPosition is not valid for SQS event sources.",
            ));
        } else if has_timestamp {
            return Err(unsupported("StartingPositionTimestamp"));
        }
        for key in ECHOED {
            if let Some(v) = req.get(*key).filter(|v| !v.is_null()) {
                r.extra.insert((*key).to_owned(), v.clone());
            }
        }
        r.apply(req, true)?;
        Ok(r)
    }

    /// Applies the settings of a Create or Update request and checks the result.
    pub fn apply(&mut self, req: &Value, creating: bool) -> Result<(), EsmError> {
        validate(req)?;
        let stream = self.kind == SourceKind::Kinesis;
        if let Some(e) = boolean(req, "Enabled") {
            self.enabled = e;
        }
        if let Some(n) = int(req, "BatchSize", 1, 10_000)? {
            self.batch_size = n as u32;
        }
        if let Some(n) = int(req, "MaximumBatchingWindowInSeconds", 0, 300)? {
            self.batching_window = n as u32;
        }
        let stream_only: [(&str, i64, i64); 4] = [
            ("ParallelizationFactor", 1, 10),
            ("MaximumRetryAttempts", -1, 10_000),
            ("MaximumRecordAgeInSeconds", -1, 604_800),
            ("TumblingWindowInSeconds", 0, 900),
        ];
        for (key, min, max) in stream_only {
            let Some(n) = int(req, key, min, max)? else {
                continue;
            };
            if !stream {
                return Err(unsupported(key));
            }
            match key {
                "ParallelizationFactor" => self.parallelization = n as u32,
                "MaximumRetryAttempts" => self.max_retries = n,
                "MaximumRecordAgeInSeconds" => {
                    // AWS: -1, or 60 to 604,800.
                    if n != -1 && n < 60 {
                        return Err(invalid(
                            "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.",
                        ));
                    }
                    self.max_record_age = n;
                }
                _ => self.tumbling_window = n as u32,
            }
        }
        if let Some(b) = boolean(req, "BisectBatchOnFunctionError") {
            if !stream {
                return Err(unsupported("BisectBatchOnFunctionError"));
            }
            self.bisect = b;
        }
        if let Some(d) = on_failure(req) {
            if !stream {
                return Err(unsupported("DestinationConfig"));
            }
            if let Some(arn) = &d
                && !arn.starts_with("arn:aws:sqs:")
            {
                return Err(invalid(format!(
                    "Unsupported destination ARN for on-failure: {arn}. Freshet sends on-failure records to SQS queues."
                )));
            }
            self.on_failure = d;
        }
        if let Some(types) = req.get("FunctionResponseTypes").filter(|v| !v.is_null()) {
            let list: Vec<String> = types
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            self.response_types = list;
        }
        if let Some(f) = filters(req)? {
            self.filters = (!f.is_empty()).then_some(f);
        }
        if let Some(sc) = req.get("ScalingConfig").filter(|v| !v.is_null()) {
            if stream {
                return Err(unsupported("ScalingConfig"));
            }
            self.max_concurrency = int(sc, "MaximumConcurrency", 2, 1000)?.map(|n| n as u32);
        }
        if !creating {
            for key in ECHOED {
                if let Some(v) = req.get(*key).filter(|v| !v.is_null()) {
                    self.extra.insert((*key).to_owned(), v.clone());
                }
            }
        }
        self.check()
    }

    /// Checks field combinations.
    fn check(&self) -> Result<(), EsmError> {
        match self.kind {
            SourceKind::Sqs => {
                if self.batch_size > 10 && self.batching_window == 0 {
                    return Err(invalid(
                        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
                    ));
                }
                if self.event_source_arn.ends_with(".fifo") && self.batch_size > 10 {
                    return Err(invalid(
                        "BatchSize must be between 1 and 10 for FIFO queues.",
                    ));
                }
            }
            SourceKind::Kinesis => {
                if self.tumbling_window > 0 && self.parallelization > 1 {
                    return Err(invalid(
                        "TumblingWindowInSeconds is not supported together with a ParallelizationFactor above 1.",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether ReportBatchItemFailures is on.
    pub fn reports_item_failures(&self) -> bool {
        self.response_types
            .iter()
            .any(|t| t == "ReportBatchItemFailures")
    }

    /// The parsed filters (validated when stored).
    pub fn filter_criteria(&self) -> FilterCriteria {
        match &self.filters {
            Some(f) => FilterCriteria::parse(f.iter().map(|p| p.as_deref())).unwrap_or_default(),
            None => FilterCriteria::default(),
        }
    }

    /// The batch settings of a stream mapping.
    pub fn batch_config(&self) -> BatchConfig {
        BatchConfig {
            batch_size: self.batch_size as usize,
            window_ms: i64::from(self.batching_window) * 1000,
            max_retries: u32::try_from(self.max_retries).ok(),
            max_age_ms: (self.max_record_age >= 0).then_some(self.max_record_age * 1000),
            bisect: self.bisect,
            report_item_failures: self.reports_item_failures(),
            parallelization: self.parallelization as usize,
            tumbling_ms: (self.tumbling_window > 0)
                .then_some(i64::from(self.tumbling_window) * 1000),
            max_payload: MAX_PAYLOAD,
            ..BatchConfig::default()
        }
    }

    /// The EventSourceMappingConfiguration document.
    pub fn to_json(&self, region: &str, account: &str) -> Value {
        let mut v = json!({
            "UUID": self.uuid,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.batching_window,
            "EventSourceArn": self.event_source_arn,
            "FunctionArn": self.function.arn,
            "LastModified": self.last_modified_ms as f64 / 1000.0,
            "State": self.state.as_str(),
            "StateTransitionReason": self.reason,
            "FunctionResponseTypes": self.response_types,
            "EventSourceMappingArn": format!(
                "arn:aws:lambda:{region}:{account}:event-source-mapping:{}", self.uuid
            ),
        });
        if self.kind == SourceKind::Kinesis {
            v["LastProcessingResult"] = json!(self.last_result);
            v["StartingPosition"] = json!(self.starting_position);
            if let Some(ts) = self.starting_timestamp_ms {
                v["StartingPositionTimestamp"] = json!(ts as f64 / 1000.0);
            }
            v["ParallelizationFactor"] = json!(self.parallelization);
            v["BisectBatchOnFunctionError"] = json!(self.bisect);
            v["MaximumRetryAttempts"] = json!(self.max_retries);
            v["MaximumRecordAgeInSeconds"] = json!(self.max_record_age);
            v["TumblingWindowInSeconds"] = json!(self.tumbling_window);
            v["DestinationConfig"] = match &self.on_failure {
                Some(d) => json!({"OnFailure": {"Destination": d}}),
                None => json!({"OnFailure": {}}),
            };
        }
        if let Some(f) = &self.filters {
            let list: Vec<Value> = f.iter().map(|p| json!({ "Pattern": p })).collect();
            v["FilterCriteria"] = json!({ "Filters": list });
        }
        if let Some(c) = self.max_concurrency {
            v["ScalingConfig"] = json!({ "MaximumConcurrency": c });
        }
        for (k, val) in &self.extra {
            if k != "Tags" {
                v[k.as_str()] = val.clone();
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> FunctionRef {
        FunctionRef {
            arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            role: "arn:aws:iam::000000000000:role/r".into(),
        }
    }

    fn create(kind: SourceKind, req: Value) -> Result<MappingRecord, EsmError> {
        MappingRecord::from_create("u".into(), kind, &req, f(), 1_000_000)
    }

    #[test]
    fn streams_need_a_starting_position_and_queues_refuse_one() {
        let e = create(SourceKind::Kinesis, json!({})).expect_err("needs position");
        assert_eq!(
            e,
            EsmError::InvalidParameter(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy \
                 constraint: Member must not be null."
                    .into()
            )
        );
        let e = create(SourceKind::Sqs, json!({"StartingPosition": "LATEST"})).expect_err("sqs");
        assert_eq!(
            e,
            EsmError::InvalidParameter(
                "StartingPosition is not valid for SQS event sources.".into()
            )
        );
        let e = create(
            SourceKind::Kinesis,
            json!({"StartingPosition": "AT_TIMESTAMP"}),
        )
        .expect_err("needs timestamp");
        assert_eq!(e.code(), "InvalidParameterValueException");
        let ok = create(
            SourceKind::Kinesis,
            json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 999.5}),
        )
        .expect("ok");
        assert_eq!(ok.starting_timestamp_ms, Some(999_500));
    }

    #[test]
    fn starting_positions_outside_the_enum_fail_validation_for_every_source() {
        for kind in [SourceKind::Kinesis, SourceKind::Sqs] {
            let e = create(kind, json!({"StartingPosition": "0"})).expect_err("enum");
            assert_eq!(
                e,
                EsmError::Validation(
                    "1 validation error detected: Value '0' at 'startingPosition' failed to \
                     satisfy constraint: Member must satisfy enum value set: [LATEST, \
                     AT_TIMESTAMP, TRIM_HORIZON]"
                        .into()
                )
            );
        }
    }

    #[test]
    fn a_timestamp_needs_at_timestamp() {
        let e = create(
            SourceKind::Kinesis,
            json!({"StartingPosition": "LATEST", "StartingPositionTimestamp": 5.0}),
        )
        .expect_err("timestamp");
        assert_eq!(
            e,
            EsmError::InvalidParameter(
                "Timestamp only valid with StartingPosition AT_TIMESTAMP".into()
            )
        );
    }

    #[test]
    fn every_model_failure_is_reported_in_one_validation_error() {
        let e = validate(&json!({
            "BatchSize": 0, "ParallelizationFactor": 11,
            "FunctionResponseTypes": ["Nope"], "ScalingConfig": {"MaximumConcurrency": 1}
        }))
        .expect_err("invalid");
        assert_eq!(
            e,
            EsmError::Validation(
                "4 validation errors detected: Value '0' at 'batchSize' failed to satisfy \
                 constraint: Member must have value greater than or equal to 1; Value '11' at \
                 'parallelizationFactor' failed to satisfy constraint: Member must have value \
                 less than or equal to 10; Value '[Nope]' at 'functionResponseTypes' failed to \
                 satisfy constraint: Member must satisfy constraint: [Member must satisfy enum \
                 value set: [ReportBatchItemFailures]]; Value '1' at \
                 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must \
                 have value greater than or equal to 2"
                    .into()
            )
        );
    }

    #[test]
    fn streams_and_queues_give_their_own_user_reason() {
        let k = create(SourceKind::Kinesis, json!({"StartingPosition": "LATEST"})).expect("ok");
        assert_eq!(k.to_json("r", "a")["StateTransitionReason"], "User action");
        let q = create(SourceKind::Sqs, json!({})).expect("ok");
        assert_eq!(
            q.to_json("r", "a")["StateTransitionReason"],
            "USER_INITIATED"
        );
    }

    #[test]
    fn ranges_of_the_model_are_enforced_with_validation_errors() {
        for (k, v) in [
            ("BatchSize", 0),
            ("BatchSize", 10_001),
            ("ParallelizationFactor", 11),
            ("MaximumRetryAttempts", -2),
            ("TumblingWindowInSeconds", 901),
            ("MaximumBatchingWindowInSeconds", 301),
        ] {
            let mut req = json!({"StartingPosition": "LATEST"});
            req[k] = json!(v);
            let e = create(SourceKind::Kinesis, req).expect_err(k);
            assert_eq!(e.code(), "ValidationException", "{k}");
        }
    }

    #[test]
    fn sqs_batches_above_ten_need_a_batching_window() {
        let e = create(SourceKind::Sqs, json!({"BatchSize": 11})).expect_err("window");
        assert_eq!(
            e.to_string(),
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        );
        create(
            SourceKind::Sqs,
            json!({"BatchSize": 11, "MaximumBatchingWindowInSeconds": 1}),
        )
        .expect("ok with a window");
        let e = create(SourceKind::Sqs, json!({"BisectBatchOnFunctionError": true}))
            .expect_err("stream only");
        assert_eq!(e.code(), "InvalidParameterValueException");
    }

    #[test]
    fn invalid_filters_are_refused_and_valid_ones_echoed() {
        let e = create(
            SourceKind::Kinesis,
            json!({"StartingPosition": "LATEST", "FilterCriteria": {"Filters": [{"Pattern": "{"}]}}),
        )
        .expect_err("bad pattern");
        assert_eq!(e.to_string(), "Invalid filter pattern definition.");
        let r = create(
            SourceKind::Kinesis,
            json!({"StartingPosition": "LATEST", "FilterCriteria": {"Filters": [{"Pattern": "{\"data\": {\"a\": [1]}}"}]}}),
        )
        .expect("ok");
        let doc = r.to_json("us-east-1", "000000000000");
        assert_eq!(
            doc["FilterCriteria"]["Filters"][0]["Pattern"],
            "{\"data\": {\"a\": [1]}}"
        );
    }

    #[test]
    fn the_configuration_document_echoes_every_setting() {
        let r = create(
            SourceKind::Kinesis,
            json!({
                "StartingPosition": "TRIM_HORIZON", "BatchSize": 7,
                "MaximumBatchingWindowInSeconds": 2, "ParallelizationFactor": 3,
                "BisectBatchOnFunctionError": true, "MaximumRetryAttempts": 4,
                "MaximumRecordAgeInSeconds": 120, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}},
                "KMSKeyArn": "arn:aws:kms:us-east-1:000000000000:key/k"
            }),
        )
        .expect("ok");
        let d = r.to_json("us-east-1", "000000000000");
        assert_eq!(d["BatchSize"], 7);
        assert_eq!(d["MaximumBatchingWindowInSeconds"], 2);
        assert_eq!(d["ParallelizationFactor"], 3);
        assert_eq!(d["BisectBatchOnFunctionError"], true);
        assert_eq!(d["MaximumRetryAttempts"], 4);
        assert_eq!(d["MaximumRecordAgeInSeconds"], 120);
        assert_eq!(d["FunctionResponseTypes"][0], "ReportBatchItemFailures");
        assert_eq!(
            d["DestinationConfig"]["OnFailure"]["Destination"],
            "arn:aws:sqs:us-east-1:000000000000:dlq"
        );
        assert_eq!(d["State"], "Creating");
        assert_eq!(d["StartingPosition"], "TRIM_HORIZON");
        assert_eq!(d["KMSKeyArn"], "arn:aws:kms:us-east-1:000000000000:key/k");
        assert_eq!(
            d["EventSourceMappingArn"],
            "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u"
        );
        let c = r.batch_config();
        assert_eq!(c.max_retries, Some(4));
        assert_eq!(c.max_age_ms, Some(120_000));
        assert!(c.report_item_failures && c.bisect);
    }
}
