// SPDX-License-Identifier: Apache-2.0
//! REST-JSON service models: botocore's `service-2.json` compiled into a shape table and a
//! list of request-URI templates.
//!
//! Invariants after [`compile`]: every [`ShapeId`] indexes `shapes`; every operation's input,
//! output and error shapes exist; a structure's `payload` indexes its members; header names
//! are kept as the model spells them (matching is case-insensitive).

use std::collections::HashMap;

use serde::Deserialize;

use super::uri::Template;
use crate::query::ModelError;

/// Index of a shape in the model's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShapeId(pub(crate) u32);

/// Where a structure member travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Body,
    Uri,
    Query,
    Header,
    /// A map of headers sharing the prefix `wire`.
    Headers,
    StatusCode,
}

/// A structure member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The member name: the key of the service's JSON value.
    pub(crate) name: Box<str>,
    pub(crate) shape: ShapeId,
    pub(crate) location: Location,
    /// `locationName`, else `name`: the label, query key, header (prefix) or JSON key.
    pub(crate) wire: Box<str>,
    pub(crate) required: bool,
    /// A string header carrying base64 of a JSON document.
    pub(crate) jsonvalue: bool,
    /// `timestampFormat` of the reference, else of the shape.
    pub(crate) timestamp_format: Option<Box<str>>,
}

/// Scalar types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Integer,
    Long,
    Boolean,
    Double,
    Timestamp,
    Blob,
    Document,
}

#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Structure {
        members: Box<[Member]>,
        /// Index of the `payload` member.
        payload: Option<usize>,
    },
    List(ShapeId),
    Map(ShapeId),
    Scalar(Scalar),
}

/// A modeled error shape.
#[derive(Debug, Clone)]
pub(crate) struct ErrorShape {
    pub(crate) shape: ShapeId,
    pub(crate) status: u16,
}

/// One operation.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub(crate) name: Box<str>,
    pub(crate) input: Option<ShapeId>,
    pub(crate) output: Option<ShapeId>,
    /// `http.responseCode`, else 200.
    pub(crate) response_code: u16,
}

/// The compiled parts of a model.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    pub(crate) shapes: Vec<Shape>,
    pub(crate) ops: Vec<Op>,
    pub(crate) templates: Vec<Template>,
    pub(crate) errors: HashMap<Box<str>, ErrorShape>,
}

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    #[serde(default)]
    operations: HashMap<String, RawOperation>,
    #[serde(default)]
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawMetadata {
    #[serde(default)]
    protocol: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    http: RawHttp,
    input: Option<RawRef>,
    output: Option<RawRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHttp {
    method: String,
    request_uri: String,
    response_code: Option<u16>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRef {
    shape: String,
    location: Option<String>,
    location_name: Option<String>,
    #[serde(default)]
    jsonvalue: bool,
    timestamp_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: HashMap<String, RawRef>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<RawRef>,
    value: Option<RawRef>,
    payload: Option<String>,
    #[serde(default)]
    exception: bool,
    error: Option<RawError>,
    #[serde(default)]
    jsonvalue: bool,
    #[serde(default)]
    document: bool,
    timestamp_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    http_status_code: Option<u16>,
    code: Option<String>,
}

/// Compiles a botocore model whose protocol is `rest-json` (or `rest-xml`: the bindings are
/// the same; only bodies differ).
pub(crate) fn compile(json: &str) -> Result<Compiled, ModelError> {
    let raw: RawModel = serde_json::from_str(json).map_err(|e| ModelError::Json(e.to_string()))?;
    let protocol = &raw.metadata.protocol;
    if protocol != "rest-json" && protocol != "rest-xml" {
        return Err(ModelError::Json(format!(
            "model protocol is {protocol:?}, not a REST protocol"
        )));
    }
    let mut names: Vec<&str> = raw.shapes.keys().map(String::as_str).collect();
    names.sort_unstable();
    let ids: HashMap<&str, ShapeId> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, ShapeId(i as u32)))
        .collect();
    let lookup = |name: &str| {
        ids.get(name)
            .copied()
            .ok_or_else(|| ModelError::UnknownShape(name.to_owned()))
    };
    let mut shapes = Vec::with_capacity(names.len());
    let mut errors = HashMap::new();
    for name in &names {
        let s = &raw.shapes[*name];
        let malformed = || ModelError::Malformed((*name).to_owned());
        let shape = match s.kind.as_str() {
            "structure" if s.document => Shape::Scalar(Scalar::Document),
            "structure" | "union" => {
                let mut members = Vec::with_capacity(s.members.len());
                let mut keys: Vec<&String> = s.members.keys().collect();
                keys.sort_unstable();
                for member_name in keys {
                    let r = &s.members[member_name];
                    let id = lookup(&r.shape)?;
                    let target = &raw.shapes[r.shape.as_str()];
                    let location = match r.location.as_deref() {
                        None => Location::Body,
                        Some("uri") => Location::Uri,
                        Some("querystring") => Location::Query,
                        Some("header") => Location::Header,
                        Some("headers") => Location::Headers,
                        Some("statusCode") => Location::StatusCode,
                        Some(_) => return Err(malformed()),
                    };
                    members.push(Member {
                        name: member_name.as_str().into(),
                        shape: id,
                        location,
                        wire: r.location_name.as_deref().unwrap_or(member_name).into(),
                        required: s.required.iter().any(|m| m == member_name),
                        jsonvalue: r.jsonvalue || target.jsonvalue,
                        timestamp_format: r
                            .timestamp_format
                            .as_deref()
                            .or(target.timestamp_format.as_deref())
                            .map(Box::from),
                    });
                }
                let payload = match &s.payload {
                    Some(p) => Some(
                        members
                            .iter()
                            .position(|m| *m.name == **p)
                            .ok_or_else(malformed)?,
                    ),
                    None => None,
                };
                if s.exception {
                    let code = s
                        .error
                        .as_ref()
                        .and_then(|e| e.code.as_deref())
                        .unwrap_or(name);
                    let status = s
                        .error
                        .as_ref()
                        .and_then(|e| e.http_status_code)
                        .unwrap_or(400);
                    errors.insert(
                        code.into(),
                        ErrorShape {
                            shape: ids[*name],
                            status,
                        },
                    );
                }
                Shape::Structure {
                    members: members.into(),
                    payload,
                }
            }
            "list" => Shape::List(lookup(&s.member.as_ref().ok_or_else(malformed)?.shape)?),
            "map" => Shape::Map(lookup(&s.value.as_ref().ok_or_else(malformed)?.shape)?),
            other => Shape::Scalar(scalar(other).ok_or_else(|| ModelError::UnsupportedType {
                shape: (*name).to_owned(),
                kind: other.to_owned(),
            })?),
        };
        shapes.push(shape);
    }
    let mut op_names: Vec<&String> = raw.operations.keys().collect();
    op_names.sort_unstable();
    let mut ops = Vec::with_capacity(op_names.len());
    let mut templates = Vec::with_capacity(op_names.len());
    for name in op_names {
        let op = &raw.operations[name];
        let index = ops.len();
        templates.push(
            Template::parse(&op.http.method, &op.http.request_uri, index)
                .ok_or_else(|| ModelError::Malformed(name.clone()))?,
        );
        ops.push(Op {
            name: name.as_str().into(),
            input: op.input.as_ref().map(|r| lookup(&r.shape)).transpose()?,
            output: op.output.as_ref().map(|r| lookup(&r.shape)).transpose()?,
            response_code: op.http.response_code.unwrap_or(200),
        });
    }
    Ok(Compiled {
        shapes,
        ops,
        templates,
        errors,
    })
}

fn scalar(kind: &str) -> Option<Scalar> {
    Some(match kind {
        "string" | "character" => Scalar::String,
        "integer" | "short" | "byte" => Scalar::Integer,
        "long" => Scalar::Long,
        "boolean" => Scalar::Boolean,
        "float" | "double" => Scalar::Double,
        "timestamp" => Scalar::Timestamp,
        "blob" => Scalar::Blob,
        _ => return None,
    })
}
