// SPDX-License-Identifier: Apache-2.0
//! Responses: an operation's output JSON (or an [`ApiError`]) to status, headers and body.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::model::{Location, Member, Scalar, Shape};
use super::{JSON_CONTENT_TYPE, RestModel};
use crate::query::time::{Instant, civil_from_days, days_from_civil};
use crate::{ApiError, Response};

pub(super) fn respond(model: &RestModel, op: &str, value: Value) -> Response {
    match try_respond(model, op, value) {
        Ok(r) => r,
        Err(e) => error_response(model, &e),
    }
}

fn try_respond(model: &RestModel, op: &str, value: Value) -> Result<Response, ApiError> {
    let op = model
        .op(op)
        .ok_or_else(|| ApiError::internal(format!("no operation {op} in the model")))?;
    let mut resp = empty(op.response_code);
    let Some(Shape::Structure { members, payload }) = op.output.and_then(|id| model.shape(id))
    else {
        return Ok(resp);
    };
    let mut object = match value {
        Value::Object(o) => o,
        Value::Null => Map::new(),
        _ => return Err(ApiError::internal("the output is not a JSON object")),
    };
    write_locations(model, members, &mut object, &mut resp)?;
    match payload.and_then(|i| members.get(i)) {
        Some(m) => {
            let v = object.remove(&*m.name).filter(|v| !v.is_null());
            resp.body = match (model.shape(m.shape), v) {
                (_, None) => Bytes::new(),
                (Some(Shape::Scalar(Scalar::Blob)), Some(Value::String(b64))) => STANDARD
                    .decode(b64.as_bytes())
                    .map(Bytes::from)
                    .map_err(|_| ApiError::internal("a blob payload is not base64"))?,
                (Some(Shape::Scalar(Scalar::String)), Some(Value::String(s))) => Bytes::from(s),
                (_, Some(v)) => Bytes::from(serde_json::to_vec(&v).map_err(crate::encode_failure)?),
            };
        }
        None if members.iter().any(|m| m.location == Location::Body) => {
            resp.body = Bytes::from(body_json(members, object)?);
        }
        None => {}
    }
    Ok(resp)
}

fn empty(status: u16) -> Response {
    Response {
        status,
        content_type: Cow::Borrowed(JSON_CONTENT_TYPE),
        headers: Vec::new(),
        body: Bytes::new(),
        error_code: None,
        events: None,
    }
}

/// Moves the header, headers-map and status-code members of `object` onto `resp`.
fn write_locations(
    model: &RestModel,
    members: &[Member],
    object: &mut Map<String, Value>,
    resp: &mut Response,
) -> Result<(), ApiError> {
    for m in members.iter() {
        match m.location {
            Location::Body => {}
            Location::Uri | Location::Query => {
                object.remove(&*m.name);
            }
            Location::StatusCode => {
                if let Some(v) = object.remove(&*m.name) {
                    resp.status = v
                        .as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .filter(|s| (100..600).contains(s))
                        .ok_or_else(|| ApiError::internal("a status code is out of range"))?;
                }
            }
            Location::Header => {
                let Some(v) = object.remove(&*m.name).filter(|v| !v.is_null()) else {
                    continue;
                };
                let text = header_text(model, m, &v)?;
                if m.wire.eq_ignore_ascii_case("content-type") {
                    resp.content_type = Cow::Owned(text);
                } else {
                    resp.headers
                        .push((Cow::Owned(m.wire.to_ascii_lowercase()), text));
                }
            }
            Location::Headers => {
                if let Some(Value::Object(map)) = object.remove(&*m.name) {
                    let prefix = m.wire.to_ascii_lowercase();
                    for (k, v) in map {
                        let text = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        resp.headers
                            .push((Cow::Owned(format!("{prefix}{k}")), text));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The JSON body of the body members of `object`, under their wire names.
fn body_json(members: &[Member], mut object: Map<String, Value>) -> Result<Vec<u8>, ApiError> {
    let mut body = Map::new();
    for m in members.iter().filter(|m| m.location == Location::Body) {
        if let Some(v) = object.remove(&*m.name).filter(|v| !v.is_null()) {
            body.insert(m.wire.to_string(), v);
        }
    }
    serde_json::to_vec(&Value::Object(body)).map_err(crate::encode_failure)
}

fn header_text(model: &RestModel, m: &Member, v: &Value) -> Result<String, ApiError> {
    let scalar = |shape, v: &Value| -> Result<String, ApiError> {
        Ok(match (model.shape(shape), v) {
            (Some(Shape::Scalar(Scalar::Timestamp)), Value::Number(n)) => {
                let seconds = n.as_f64().unwrap_or(0.0);
                match m.timestamp_format.as_deref() {
                    Some("unixTimestamp") => n.to_string(),
                    Some("iso8601") => {
                        let mut s = String::new();
                        crate::query::time::write_iso_millis(
                            &mut s,
                            crate::query::time::millis_from_seconds(seconds),
                        );
                        s
                    }
                    _ => format_http_date(seconds.floor() as i64),
                }
            }
            (Some(Shape::Scalar(Scalar::String)), v) if m.jsonvalue => {
                let json = serde_json::to_vec(v).map_err(crate::encode_failure)?;
                STANDARD.encode(json)
            }
            (_, Value::String(s)) => s.clone(),
            (_, Value::Bool(b)) => b.to_string(),
            (_, Value::Number(n)) => n.to_string(),
            (_, other) => other.to_string(),
        })
    };
    match (model.shape(m.shape), v) {
        (Some(Shape::List(element)), Value::Array(items)) => {
            let parts: Result<Vec<String>, ApiError> =
                items.iter().map(|i| scalar(*element, i)).collect();
            Ok(parts?.join(","))
        }
        _ => scalar(m.shape, v),
    }
}

pub(super) fn error_response(model: &RestModel, e: &ApiError) -> Response {
    let modeled = model.c.errors.get(e.code);
    let members: &[Member] = match modeled.and_then(|m| model.shape(m.shape)) {
        Some(Shape::Structure { members, .. }) => members,
        _ => &[],
    };
    let mut resp = empty(modeled.map_or(e.status, |m| m.status));
    resp.error_code = Some(e.code);
    let mut fields = e.fields.as_deref().cloned().unwrap_or_default();
    // Header members (TooManyRequestsException's Retry-After) go to headers; a failure to
    // render one drops it rather than the error.
    let _ = write_locations(model, members, &mut fields, &mut resp);
    let message_member = members
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case("message") && m.location == Location::Body)
        .map_or(e.message_member(), |m| &*m.wire);
    resp.body = Bytes::from(crate::error::rest_json_error_body(
        e,
        resp.status,
        message_member,
        &fields,
    ));
    resp
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Wed, 01 Jan 2020 00:00:00 GMT` for epoch seconds.
pub(super) fn format_http_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let sod = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[((m - 1).clamp(0, 11)) as usize],
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Parses `Wed, 01 Jan 2020 00:00:00 GMT` (the weekday is not checked).
pub(super) fn parse_http_date(text: &str) -> Option<Instant> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" && *zone != "UTC" {
        return None;
    }
    let d: i64 = day.parse().ok()?;
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(month))? as i64 + 1;
    let y: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&d)
        || !(0..=9999).contains(&y)
        || hms.iter().any(|v| *v < 0)
        || *h > 23
        || *mi > 59
        || *s > 60
    {
        return None;
    }
    Some(Instant {
        seconds: days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s,
        nanos: 0,
    })
}
