// SPDX-License-Identifier: Apache-2.0
//! Request binding: an [`ApiRequest`] to the operation and one JSON input object.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::model::{Location, Member, Scalar, Shape, ShapeId};
use super::{RestModel, parse_query, uri};
use crate::validate::{Shown, Validator};
use crate::{ApiError, ApiRequest, json};

pub(super) fn bind<'m>(
    model: &'m RestModel,
    req: &ApiRequest,
) -> Result<(&'m str, Value), ApiError> {
    let query = parse_query(req.query.as_deref());
    let (index, labels) = uri::resolve(&model.c.templates, req.method.as_str(), &req.path, &query)
        .ok_or_else(|| super::unknown_operation(req.method.as_str(), &req.path))?;
    let op = model
        .c
        .ops
        .get(index)
        .ok_or_else(|| ApiError::internal("operation index out of range"))?;
    let Some(Shape::Structure { members, payload }) = op.input.and_then(|id| model.shape(id))
    else {
        return Ok((&op.name, Value::Object(Map::new())));
    };
    let b = Binder { model, req };
    let mut out = b.body(members, *payload)?;
    let literal_keys: Vec<&str> = model
        .c
        .templates
        .iter()
        .find(|t| t.op == index)
        .map(|t| t.query.iter().map(|(k, _)| &**k).collect())
        .unwrap_or_default();
    for m in members.iter() {
        let value = match m.location {
            Location::Body | Location::StatusCode => continue,
            Location::Uri => match labels.iter().find(|(name, _)| **name == *m.wire) {
                Some((_, text)) => Some(b.scalar_text(m, m.shape, text, "URI label")?),
                None => None,
            },
            Location::Query => b.query_member(m, members, &query, &literal_keys)?,
            Location::Header => match req.headers.get(&*m.wire) {
                Some(v) => Some(b.header_value(m, v.as_bytes())?),
                None => None,
            },
            Location::Headers => {
                let prefix = m.wire.to_ascii_lowercase();
                let map: Map<String, Value> = req
                    .headers
                    .iter()
                    .filter_map(|(name, v)| {
                        let rest = name.as_str().strip_prefix(prefix.as_str())?;
                        let text = std::str::from_utf8(v.as_bytes()).ok()?;
                        Some((rest.to_owned(), Value::String(text.to_owned())))
                    })
                    .collect();
                (!map.is_empty()).then_some(Value::Object(map))
            }
        };
        if let Some(v) = value {
            out.insert(m.name.to_string(), v);
        }
    }
    let mut v = Validator::new();
    for m in members.iter().filter(|m| m.required) {
        if !out.contains_key(&*m.name) {
            let path = lower_camel(&m.name);
            v.fail(Shown::Null, path.as_str(), "Member must not be null");
        }
    }
    if let Some(message) = v.finish() {
        return Err(ApiError::new(model.options.validation, 400, message));
    }
    Ok((&op.name, Value::Object(out)))
}

/// Coral's path of a top-level member: its name with a lower-case first letter.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

struct Binder<'a> {
    model: &'a RestModel,
    req: &'a ApiRequest,
}

impl Binder<'_> {
    fn invalid(&self, message: String) -> ApiError {
        ApiError::new(self.model.options.invalid_content, 400, message)
    }

    /// The members carried by the body.
    fn body(
        &self,
        members: &[Member],
        payload: Option<usize>,
    ) -> Result<Map<String, Value>, ApiError> {
        let mut out = Map::new();
        let body = &self.req.body[..];
        if let Some(m) = payload.and_then(|i| members.get(i)) {
            match self.model.shape(m.shape) {
                Some(Shape::Scalar(Scalar::Blob)) => {
                    if !body.is_empty() {
                        out.insert(m.name.to_string(), Value::String(STANDARD.encode(body)));
                    }
                }
                Some(Shape::Scalar(Scalar::String)) => {
                    if !body.is_empty() {
                        let text = std::str::from_utf8(body).map_err(|_| {
                            self.invalid("The request body is not valid UTF-8.".to_owned())
                        })?;
                        out.insert(m.name.to_string(), Value::String(text.to_owned()));
                    }
                }
                _ => {
                    if let Some(value) = self.json_body()? {
                        out.insert(m.name.to_string(), value);
                    }
                }
            }
            return Ok(out);
        }
        let Some(value) = self.json_body()? else {
            return Ok(out);
        };
        let Value::Object(mut object) = value else {
            return Err(self.invalid("The request body must be a JSON object.".to_owned()));
        };
        for m in members.iter().filter(|m| m.location == Location::Body) {
            if let Some(v) = object.remove(&*m.wire)
                && !v.is_null()
            {
                out.insert(m.name.to_string(), v);
            }
        }
        Ok(out)
    }

    /// The body as JSON; `None` when empty (all whitespace).
    fn json_body(&self) -> Result<Option<Value>, ApiError> {
        let body = &self.req.body[..];
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|e| self.invalid(json::serialization_message(&e)))
    }

    fn query_member(
        &self,
        m: &Member,
        members: &[Member],
        query: &[(Cow<'_, str>, Cow<'_, str>)],
        literal_keys: &[&str],
    ) -> Result<Option<Value>, ApiError> {
        match self.model.shape(m.shape) {
            Some(Shape::List(element)) => {
                let mut items = Vec::new();
                for (_, v) in query.iter().filter(|(k, _)| *k == *m.wire) {
                    items.push(self.scalar_text(m, *element, v, "query parameter")?);
                }
                Ok((!items.is_empty()).then_some(Value::Array(items)))
            }
            Some(Shape::Map(value_shape)) => {
                // Every parameter no named member or literal claims.
                let claimed = |k: &str| {
                    literal_keys.contains(&k)
                        || members.iter().any(|o| {
                            o.location == Location::Query
                                && *o.wire == *k
                                && !matches!(self.model.shape(o.shape), Some(Shape::Map(_)))
                        })
                };
                let is_list = matches!(self.model.shape(*value_shape), Some(Shape::List(_)));
                let mut map = Map::new();
                for (k, v) in query.iter().filter(|(k, _)| !claimed(k)) {
                    if is_list {
                        let entry = map
                            .entry(k.to_string())
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(items) = entry {
                            items.push(Value::String(v.to_string()));
                        }
                    } else {
                        map.entry(k.to_string())
                            .or_insert_with(|| Value::String(v.to_string()));
                    }
                }
                Ok((!map.is_empty()).then_some(Value::Object(map)))
            }
            _ => match query.iter().find(|(k, _)| *k == *m.wire) {
                Some((_, v)) => Ok(Some(self.scalar_text(m, m.shape, v, "query parameter")?)),
                None => Ok(None),
            },
        }
    }

    fn header_value(&self, m: &Member, raw: &[u8]) -> Result<Value, ApiError> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| self.invalid(format!("Header {} is not valid text.", m.wire)))?;
        match self.model.shape(m.shape) {
            Some(Shape::List(element)) => {
                let mut items = Vec::new();
                for part in split_header_list(text) {
                    items.push(self.scalar_text(m, *element, &part, "header")?);
                }
                Ok(Value::Array(items))
            }
            Some(Shape::Scalar(Scalar::String)) if m.jsonvalue => {
                let decoded = STANDARD
                    .decode(text.trim())
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or_else(|| {
                        self.invalid(format!("Header {} must be base64-encoded JSON.", m.wire))
                    })?;
                Ok(decoded)
            }
            _ => self.scalar_text(m, m.shape, text.trim(), "header"),
        }
    }

    /// Converts the text of a label, query parameter or header to the JSON of `shape`.
    fn scalar_text(
        &self,
        m: &Member,
        shape: ShapeId,
        text: &str,
        place: &str,
    ) -> Result<Value, ApiError> {
        let bad = |kind: &str| {
            self.invalid(format!(
                "The {place} {} must be {kind}, not '{text}'.",
                m.wire
            ))
        };
        let Some(Shape::Scalar(scalar)) = self.model.shape(shape) else {
            return Ok(Value::String(text.to_owned()));
        };
        Ok(match scalar {
            Scalar::String | Scalar::Blob | Scalar::Document => Value::String(text.to_owned()),
            Scalar::Integer => text
                .parse::<i32>()
                .map(Value::from)
                .map_err(|_| bad("an integer"))?,
            Scalar::Long => text
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad("an integer"))?,
            Scalar::Boolean => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad("true or false")),
            },
            Scalar::Double => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| bad("a number"))?,
            Scalar::Timestamp => {
                let default = if place == "header" {
                    "rfc822"
                } else {
                    "iso8601"
                };
                let format = m.timestamp_format.as_deref().unwrap_or(default);
                let instant = match format {
                    "rfc822" => super::respond::parse_http_date(text)
                        .or_else(|| crate::query::time::parse(text)),
                    _ => crate::query::time::parse(text),
                };
                instant
                    .map(|i| i.to_json())
                    .ok_or_else(|| bad("a timestamp"))?
            }
        })
    }
}

/// Splits a header list at commas, honouring double-quoted elements (botocore quotes strings
/// holding commas or quotes).
fn split_header_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' if !quoted => {
                out.push(current.trim().to_owned());
                current.clear();
            }
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() || !out.is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}
