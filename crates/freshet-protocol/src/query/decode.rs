// SPDX-License-Identifier: Apache-2.0
//! Query request parameters → the JSON value of the operation's input.
//!
//! The parameters are first gathered into a trie keyed by the dot-separated segments of their
//! names (`SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.StringValue`), then the
//! input shape is walked over that trie: each member looks up only its own wire name, so
//! parameters the model does not know are never visited (AWS ignores them too). The naming
//! rules mirror botocore's `QuerySerializer`:
//!
//! * structure member: `Prefix.<locationName or member name>`;
//! * list: `Prefix.member.N` (`member` replaced by the element's `locationName`), or when
//!   flattened `Prefix.N`, where a flattened list member whose element has a `locationName`
//!   replaces its own last segment with it (`AttributeNames` → `AttributeName.1`); an empty
//!   list is sent as `Prefix=` (the member's own name);
//! * map: `Prefix.entry.N.key` / `.value`, or when flattened `Prefix.N.<key locationName>` /
//!   `.N.<value locationName>` (SQS `Attribute.1.Name`, `Attribute.1.Value`).
//!
//! Indices are decimal without leading zeros, from 1; they may be sparse and in any order, and
//! elements are taken in index order. The first occurrence of a name wins. Scalars become the
//! JSON type of their shape; a value that does not parse as that type is
//! `InvalidParameterValue`. Work is linear in the size of the parameters, and nesting is
//! bounded by [`MAX_DEPTH`].

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::error::QueryError;
use super::model::{Member, QueryModel, Ref, Scalar, Shape, ShapeId};
use super::time;

/// Deepest shape nesting decoded; past it (possible only with recursive models) the request is
/// a `MalformedQueryString`. Parameter names with more segments than this are ignored.
pub const MAX_DEPTH: usize = 32;

/// Decodes a Query request: the `Action` and the operation's input as a JSON object.
///
/// `Version` and parameters that are not part of the input (signature fields, unknown members)
/// are ignored. Errors: `MissingAction`, `InvalidAction`, `InvalidParameterValue`,
/// `MalformedQueryString`; required members are the service's to check (`MissingParameter`).
pub fn decode_request(
    model: &QueryModel,
    params: &[(String, String)],
) -> Result<(String, Value), QueryError> {
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str());
    let action = match action {
        None | Some("") => return Err(QueryError::MissingAction),
        Some(a) => a,
    };
    let op = model
        .operation(action)
        .ok_or_else(|| QueryError::invalid_action(action))?;
    let input = match op.input {
        None => Value::Object(Map::new()),
        Some(id) => {
            let root = Node::build(params);
            let mut decoder = Decoder {
                model,
                path: Vec::new(),
            };
            decoder
                .structure(id, &root, 0)?
                .unwrap_or_else(|| Value::Object(Map::new()))
        }
    };
    Ok((op.name().to_owned(), input))
}

/// One segment of the parameter-name trie.
#[derive(Default)]
struct Node<'a> {
    value: Option<&'a str>,
    children: HashMap<&'a str, Node<'a>>,
}

impl<'a> Node<'a> {
    fn build(params: &'a [(String, String)]) -> Node<'a> {
        let mut root = Node::default();
        for (name, value) in params {
            // Deeper names match no shape; skipping them also bounds the trie's depth.
            if name.bytes().filter(|&b| b == b'.').count() >= MAX_DEPTH {
                continue;
            }
            let mut node = &mut root;
            for segment in name.split('.') {
                node = node.children.entry(segment).or_default();
            }
            if node.value.is_none() {
                node.value = Some(value);
            }
        }
        root
    }

    fn child(&self, name: &str) -> Option<&Node<'a>> {
        self.children.get(name)
    }

    fn is_empty_marker(node: Option<&Self>) -> bool {
        node.is_some_and(|n| n.value == Some(""))
    }

    /// Children named by a list or map index, in index order.
    fn indexed(&self) -> Vec<(&'a str, &Node<'a>)> {
        let mut items: Vec<(u32, &'a str, &Node<'a>)> = self
            .children
            .iter()
            .filter_map(|(seg, node)| parse_index(seg).map(|i| (i, *seg, node)))
            .collect();
        items.sort_unstable_by_key(|(i, _, _)| *i);
        items
            .into_iter()
            .map(|(_, seg, node)| (seg, node))
            .collect()
    }
}

/// `1`, `2`, ... : decimal, no sign, no leading zero, at most nine digits.
fn parse_index(segment: &str) -> Option<u32> {
    let b = segment.as_bytes();
    if b.is_empty() || b.len() > 9 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    segment.parse().ok()
}

struct Decoder<'a> {
    model: &'a QueryModel,
    /// Wire-name segments of the value being decoded, for error messages.
    path: Vec<&'a str>,
}

impl<'a> Decoder<'a> {
    fn too_deep() -> QueryError {
        QueryError::MalformedQueryString {
            reason: "Parameters are nested too deeply.",
        }
    }

    /// The value whose parameters are rooted at `node`.
    fn value(
        &mut self,
        r: &'a Ref,
        node: &Node<'a>,
        depth: usize,
    ) -> Result<Option<Value>, QueryError> {
        if depth > MAX_DEPTH {
            return Err(Self::too_deep());
        }
        match self.model.shape(r.shape) {
            Some(Shape::Scalar(kind)) => match node.value {
                Some(text) => self.scalar(*kind, text).map(Some),
                None => Ok(None),
            },
            Some(Shape::Structure { .. }) => self.structure(r.shape, node, depth),
            Some(Shape::List { member }) => {
                let holder = if r.flattened {
                    Some(node)
                } else {
                    node.child(member.location_name.as_deref().unwrap_or("member"))
                };
                let segment = if r.flattened {
                    None
                } else {
                    member.location_name.as_deref().or(Some("member"))
                };
                self.list(
                    member,
                    holder,
                    segment,
                    Node::is_empty_marker(Some(node)),
                    depth,
                )
            }
            Some(Shape::Map { key, value }) => self.map(r.flattened, key, value, node, depth),
            None => Ok(None),
        }
    }

    fn structure(
        &mut self,
        id: ShapeId,
        node: &Node<'a>,
        depth: usize,
    ) -> Result<Option<Value>, QueryError> {
        if depth > MAX_DEPTH {
            return Err(Self::too_deep());
        }
        let Some(Shape::Structure { members, .. }) = self.model.shape(id) else {
            return Ok(None);
        };
        let mut out = Map::new();
        for m in members.iter() {
            if let Some(v) = self.member(m, node, depth + 1)? {
                out.insert(m.name.to_string(), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    fn member(
        &mut self,
        m: &'a Member,
        parent: &Node<'a>,
        depth: usize,
    ) -> Result<Option<Value>, QueryError> {
        let flattened_list = match self.model.shape(m.target.shape) {
            Some(Shape::List { member }) if m.target.flattened => Some(member),
            _ => None,
        };
        if let Some(element) = flattened_list {
            // Elements live under `element`; botocore marks an empty list under `wire`.
            let holder = parent.child(&m.element);
            let empty =
                Node::is_empty_marker(parent.child(&m.wire)) || Node::is_empty_marker(holder);
            self.path.push(&m.element);
            let out = self.list(element, holder, None, empty, depth);
            self.path.pop();
            return out;
        }
        let Some(node) = parent.child(&m.wire) else {
            return Ok(None);
        };
        self.path.push(&m.wire);
        let out = self.value(&m.target, node, depth);
        self.path.pop();
        out
    }

    /// A list whose indexed elements are the children of `holder` (reached from the list's own
    /// node through `segment`, for error paths); `empty` if the list was sent as `Name=`.
    fn list(
        &mut self,
        element: &'a Ref,
        holder: Option<&Node<'a>>,
        segment: Option<&'a str>,
        empty: bool,
        depth: usize,
    ) -> Result<Option<Value>, QueryError> {
        let mut items = Vec::new();
        if let Some(holder) = holder {
            if let Some(seg) = segment {
                self.path.push(seg);
            }
            for (index, node) in holder.indexed() {
                self.path.push(index);
                let item = self.value(element, node, depth + 1);
                self.path.pop();
                if let Some(v) = item? {
                    items.push(v);
                }
            }
            if segment.is_some() {
                self.path.pop();
            }
        }
        Ok(if items.is_empty() && !empty {
            None
        } else {
            Some(Value::Array(items))
        })
    }

    fn map(
        &mut self,
        flattened: bool,
        key: &'a Ref,
        value: &'a Ref,
        node: &Node<'a>,
        depth: usize,
    ) -> Result<Option<Value>, QueryError> {
        let holder = if flattened {
            Some(node)
        } else {
            node.child("entry")
        };
        let Some(holder) = holder else {
            return Ok(None);
        };
        let key_name = key.location_name.as_deref().unwrap_or("key");
        let value_name = value.location_name.as_deref().unwrap_or("value");
        if !flattened {
            self.path.push("entry");
        }
        let mut out = Map::new();
        let mut result = Ok(());
        for (index, entry) in holder.indexed() {
            let (Some(k), Some(v)) = (
                entry.child(key_name).and_then(|n| n.value),
                entry.child(value_name),
            ) else {
                continue;
            };
            if out.contains_key(k) {
                continue;
            }
            self.path.push(index);
            self.path.push(value_name);
            let decoded = self.value(value, v, depth + 1);
            self.path.truncate(self.path.len() - 2);
            match decoded {
                Ok(Some(v)) => {
                    out.insert(k.to_owned(), v);
                }
                Ok(None) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if !flattened {
            self.path.pop();
        }
        result?;
        Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Object(out))
        })
    }

    fn scalar(&self, kind: Scalar, text: &str) -> Result<Value, QueryError> {
        let invalid = |expected| QueryError::invalid_value(self.path.join("."), text, expected);
        Ok(match kind {
            Scalar::String => Value::String(text.to_owned()),
            Scalar::Integer => Value::from(text.parse::<i32>().map_err(|_| invalid("an integer"))?),
            Scalar::Long => {
                Value::from(text.parse::<i64>().map_err(|_| invalid("a long integer"))?)
            }
            Scalar::Boolean => {
                if text.eq_ignore_ascii_case("true") {
                    Value::Bool(true)
                } else if text.eq_ignore_ascii_case("false") {
                    Value::Bool(false)
                } else {
                    return Err(invalid("a boolean (true or false)"));
                }
            }
            Scalar::Float | Scalar::Double => text
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| invalid("a finite number"))?,
            Scalar::Timestamp => time::parse(text)
                .map(time::Instant::to_json)
                .filter(|v| !v.is_null())
                .ok_or_else(|| invalid("an ISO 8601 timestamp"))?,
            Scalar::Blob => {
                base64_simd::STANDARD
                    .check(text.as_bytes())
                    .map_err(|_| invalid("base64-encoded binary data"))?;
                Value::String(text.to_owned())
            }
        })
    }
}

#[cfg(test)]
mod tests;
