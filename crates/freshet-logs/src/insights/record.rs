// SPDX-License-Identifier: Apache-2.0
//! An event as a query row: the system fields, the fields Logs Insights discovers in JSON
//! messages (dotted paths, array items as `a.0`), and the fields of Lambda's START, END and
//! REPORT lines (`@type`, `@requestId`, `@duration`, `@billedDuration`, `@memorySize` and
//! `@maxMemoryUsed` in bytes as AWS gives them (MB × 1,000,000), `@initDuration`).

use base64::Engine as _;
use serde_json::Value as Json;

use super::eval::Row;
use super::value::Value;

/// Most fields discovered in one JSON message (the rest are left out).
pub const MAX_JSON_FIELDS: usize = 200;
/// Deepest JSON nesting flattened.
const MAX_JSON_DEPTH: usize = 16;

/// Where an event is, for `@ptr` and the row's system fields.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// The account id (for `@log`).
    pub account: &'a str,
    /// The log group.
    pub group: &'a str,
    /// The group's incarnation id.
    pub group_id: u64,
    /// The log stream.
    pub stream: &'a str,
    /// The event's offset in its group's log.
    pub offset: u64,
    /// Event time, ms.
    pub timestamp_ms: i64,
    /// Ingestion time, ms.
    pub ingestion_ms: i64,
    /// The message.
    pub message: &'a str,
}

impl<'a> EventRef<'a> {
    /// The event `event`, decoded from `record` of `group`'s log.
    pub(crate) fn stored(
        account: &'a str,
        group: &'a crate::group::Group,
        record: &'a freshet_log::StoredRecord,
        event: &crate::codec::DecodedEvent<'a>,
    ) -> Self {
        EventRef {
            account,
            group: &group.name,
            group_id: group.id,
            stream: &record.partition_key,
            offset: record.offset,
            timestamp_ms: event.timestamp_ms,
            ingestion_ms: record.arrival_ms,
            message: event.message,
        }
    }
}

/// An opaque `@ptr`: base64 of the group id and the event's log offset.
pub fn ptr(group_id: u64, offset: u64) -> String {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&group_id.to_be_bytes());
    b.extend_from_slice(&offset.to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The row of one event.
pub fn row_of(e: &EventRef<'_>) -> Row {
    let mut row = Row::default();
    row.fields.reserve(8);
    row.set("@timestamp", Value::Time(e.timestamp_ms));
    row.set("@message", Value::Str(e.message.to_owned()));
    row.set("@logStream", Value::Str(e.stream.to_owned()));
    row.set("@log", Value::Str(format!("{}:{}", e.account, e.group)));
    row.set("@ingestionTime", Value::Time(e.ingestion_ms));
    discover(&mut row, e.message);
    row.set("@ptr", Value::Str(ptr(e.group_id, e.offset)));
    row
}

/// Adds the fields a message carries.
pub fn discover(row: &mut Row, message: &str) {
    let trimmed = message.trim();
    if trimmed.starts_with('{') {
        if let Ok(Json::Object(map)) = serde_json::from_str::<Json>(trimmed) {
            let mut budget = MAX_JSON_FIELDS;
            for (k, v) in &map {
                flatten(row, k, v, 0, &mut budget);
            }
        }
        return;
    }
    lambda_fields(row, trimmed);
}

fn flatten(row: &mut Row, path: &str, v: &Json, depth: usize, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    match v {
        Json::Object(map) if depth < MAX_JSON_DEPTH => {
            for (k, v) in map {
                flatten(row, &format!("{path}.{k}"), v, depth + 1, budget);
            }
        }
        Json::Array(items) if depth < MAX_JSON_DEPTH => {
            for (i, v) in items.iter().enumerate() {
                flatten(row, &format!("{path}.{i}"), v, depth + 1, budget);
            }
        }
        Json::Null => {}
        Json::Number(n) => {
            *budget -= 1;
            row.set(path, Value::Num(n.as_f64().unwrap_or(0.0)));
        }
        Json::String(s) => {
            *budget -= 1;
            row.set(path, Value::Str(s.clone()));
        }
        Json::Bool(b) => {
            *budget -= 1;
            row.set(path, Value::Str(b.to_string()));
        }
        other => {
            *budget -= 1;
            row.set(path, Value::Str(other.to_string()));
        }
    }
}

/// Lambda's platform lines (as `freshet-lambda`'s executor and AWS write them).
fn lambda_fields(row: &mut Row, line: &str) {
    let (kind, rest) = if let Some(r) = line.strip_prefix("REPORT RequestId: ") {
        ("REPORT", r)
    } else if let Some(r) = line.strip_prefix("START RequestId: ") {
        ("START", r)
    } else if let Some(r) = line.strip_prefix("END RequestId: ") {
        ("END", r)
    } else {
        return;
    };
    let mut parts = rest.split('\t');
    let first = parts.next().unwrap_or("");
    let request_id = first.split_whitespace().next().unwrap_or("");
    row.set("@type", Value::Str(kind.to_owned()));
    row.set("@requestId", Value::Str(request_id.to_owned()));
    if kind != "REPORT" {
        return;
    }
    for part in parts {
        let Some((key, value)) = part.split_once(": ") else {
            continue;
        };
        let mut words = value.split_whitespace();
        let Some(n) = words.next().and_then(|n| n.parse::<f64>().ok()) else {
            continue;
        };
        let (name, v) = match key.trim() {
            "Duration" => ("@duration", n),
            "Billed Duration" => ("@billedDuration", n),
            "Memory Size" => ("@memorySize", n * 1_000_000.0),
            "Max Memory Used" => ("@maxMemoryUsed", n * 1_000_000.0),
            "Init Duration" => ("@initDuration", n),
            _ => continue,
        };
        row.set(name, Value::Num(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Row {
        row_of(&EventRef {
            account: "000000000000",
            group: "/g",
            group_id: 1,
            stream: "s",
            offset: 7,
            timestamp_ms: 1000,
            ingestion_ms: 1001,
            message,
        })
    }

    #[test]
    fn json_messages_give_dotted_fields() {
        let r =
            event(r#"{"level":"ERROR","req":{"path":"/x","ms":12.5},"tags":["a","b"],"n":null}"#);
        assert_eq!(r.get("level"), Some(&Value::Str("ERROR".into())));
        assert_eq!(r.get("req.ms"), Some(&Value::Num(12.5)));
        assert_eq!(r.get("tags.1"), Some(&Value::Str("b".into())));
        assert_eq!(r.get("n"), None);
        assert_eq!(r.get("@log"), Some(&Value::Str("000000000000:/g".into())));
        assert_eq!(r.fields.last().map(|f| f.0.as_str()), Some("@ptr"));
    }

    #[test]
    fn lambda_report_lines_give_lambda_fields() {
        let r = event(
            "REPORT RequestId: abc-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 150.12 ms\t",
        );
        assert_eq!(r.get("@type"), Some(&Value::Str("REPORT".into())));
        assert_eq!(r.get("@requestId"), Some(&Value::Str("abc-1".into())));
        assert_eq!(r.get("@duration"), Some(&Value::Num(1.23)));
        assert_eq!(r.get("@billedDuration"), Some(&Value::Num(2.0)));
        assert_eq!(r.get("@memorySize"), Some(&Value::Num(128e6)));
        assert_eq!(r.get("@maxMemoryUsed"), Some(&Value::Num(40e6)));
        assert_eq!(r.get("@initDuration"), Some(&Value::Num(150.12)));
        let r = event("START RequestId: abc-2 Version: $LATEST");
        assert_eq!(r.get("@requestId"), Some(&Value::Str("abc-2".into())));
        assert_eq!(r.get("@type"), Some(&Value::Str("START".into())));
    }

    #[test]
    fn huge_json_is_bounded() {
        let body: Vec<String> = (0..1000).map(|i| format!("\"k{i}\":{i}")).collect();
        let r = event(&format!("{{{}}}", body.join(",")));
        assert_eq!(r.fields.len(), 5 + MAX_JSON_FIELDS + 1);
    }
}
