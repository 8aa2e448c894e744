// SPDX-License-Identifier: Apache-2.0
//! Query-protocol service models: botocore's `service-2.json` compiled into a shape table.
//!
//! A model is parsed once into [`QueryModel`]: a vector of shapes addressed by index, each
//! structure member and list/map element a [`Ref`] whose wire traits are already resolved the
//! way botocore resolves them (traits on the member reference win over those on the target
//! shape: `locationName`, `flattened`). Invariants after [`QueryModel::parse`]:
//! every [`ShapeId`] indexes `shapes`; structure `xml_order` is a permutation of its members;
//! each operation's shapes exist. The embedded SQS and CloudWatch models are parsed lazily on
//! first use.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use thiserror::Error;

const SQS_JSON: &str = include_str!("../../models/sqs-2012-11-05.query.json");
const CLOUDWATCH_JSON: &str = include_str!("../../models/cloudwatch-2010-08-01.query.json");

static SQS: LazyLock<QueryModel> = LazyLock::new(|| embedded(SQS_JSON));
static CLOUDWATCH: LazyLock<QueryModel> = LazyLock::new(|| embedded(CLOUDWATCH_JSON));

/// The embedded models are tested to parse; should one ever fail, the service answers every
/// request with `InvalidAction` instead of taking the process down.
fn embedded(json: &str) -> QueryModel {
    QueryModel::parse(json).unwrap_or_else(|_| QueryModel::empty())
}

/// A model that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Not JSON of the botocore model layout.
    #[error("model is not a botocore service model: {0}")]
    Json(String),
    /// `metadata.protocol` is not `query`.
    #[error("model protocol is {0:?}, not \"query\"")]
    NotQuery(String),
    /// A reference to a shape the model does not define.
    #[error("shape {0:?} is referenced but not defined")]
    UnknownShape(String),
    /// A shape type the Query protocol does not carry.
    #[error("shape {shape:?} has unsupported type {kind:?}")]
    UnsupportedType {
        /// The shape's name.
        shape: String,
        /// Its `type`.
        kind: String,
    },
    /// A list without `member`, a map without `key`/`value`, or too many members.
    #[error("shape {0:?} is incomplete or too large")]
    Malformed(String),
}

/// Index of a shape in [`QueryModel`]'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShapeId(u32);

/// A use of a shape with its resolved wire traits.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub(crate) shape: ShapeId,
    /// `locationName` of the reference, else of the shape.
    pub(crate) location_name: Option<Box<str>>,
    /// `flattened` of the reference, else of the shape.
    pub(crate) flattened: bool,
}

/// A structure member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The member name: the JSON key.
    pub(crate) name: Box<str>,
    pub(crate) target: Ref,
    /// The member's serialized name (`locationName`, else its name): the form key of scalars,
    /// structures, maps and non-flattened lists, and of an empty flattened list.
    pub(crate) wire: Box<str>,
    /// The name its values appear under: `wire`, except for a flattened list whose element has
    /// a `locationName` (SQS `AttributeNames` → `AttributeName.1`, `<AttributeName>`).
    pub(crate) element: Box<str>,
}

/// Scalar types, as the Query protocol writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Integer,
    Long,
    Boolean,
    Float,
    Double,
    Timestamp,
    Blob,
}

#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Structure {
        members: Box<[Member]>,
        /// Member indices in the order the XML is written (`xmlOrder`, else model order).
        xml_order: Box<[u16]>,
    },
    List {
        member: Ref,
    },
    Map {
        key: Ref,
        value: Ref,
    },
    Scalar(Scalar),
}

/// One operation of a model.
#[derive(Debug, Clone)]
pub struct Operation {
    name: Box<str>,
    pub(crate) input: Option<ShapeId>,
    pub(crate) output: Option<ShapeId>,
    result_wrapper: Option<Box<str>>,
}

impl Operation {
    /// The operation (and `Action`) name, e.g. `SendMessage`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the operation has an input shape.
    pub fn has_input(&self) -> bool {
        self.input.is_some()
    }

    /// Whether the operation has an output shape (else its response is metadata only).
    pub fn has_output(&self) -> bool {
        self.output.is_some()
    }

    /// The element wrapping the output members, e.g. `SendMessageResult`.
    pub fn result_wrapper(&self) -> Option<&str> {
        self.result_wrapper.as_deref()
    }
}

/// A compiled Query-protocol service model.
#[derive(Debug, Clone)]
pub struct QueryModel {
    api_version: Box<str>,
    xml_namespace: Box<str>,
    endpoint_prefix: Box<str>,
    shapes: Vec<Shape>,
    operations: HashMap<Box<str>, Operation>,
}

impl QueryModel {
    /// SQS 2012-11-05 (botocore 1.31.0), parsed on first use.
    pub fn sqs() -> &'static QueryModel {
        &SQS
    }

    /// CloudWatch 2010-08-01 (botocore 1.31.0), parsed on first use.
    pub fn cloudwatch() -> &'static QueryModel {
        &CLOUDWATCH
    }

    /// Compiles a botocore `service-2.json` whose protocol is `query`.
    pub fn parse(json: &str) -> Result<QueryModel, ModelError> {
        let raw: RawModel =
            serde_json::from_str(json).map_err(|e| ModelError::Json(e.to_string()))?;
        compile(raw)
    }

    fn empty() -> QueryModel {
        QueryModel {
            api_version: "".into(),
            xml_namespace: "".into(),
            endpoint_prefix: "".into(),
            shapes: Vec::new(),
            operations: HashMap::new(),
        }
    }

    /// `metadata.apiVersion`, the `Version` clients send, e.g. `2012-11-05`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// `metadata.xmlNamespace`, the `xmlns` of every response.
    pub fn xml_namespace(&self) -> &str {
        &self.xml_namespace
    }

    /// `metadata.endpointPrefix`, e.g. `sqs` or `monitoring` (the SigV4 scope service).
    pub fn endpoint_prefix(&self) -> &str {
        &self.endpoint_prefix
    }

    /// The operation named `name` (case-sensitive, as AWS matches `Action`).
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// Every operation name, in no particular order.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(|k| &**k)
    }

    pub(crate) fn shape(&self, id: ShapeId) -> Option<&Shape> {
        self.shapes.get(id.0 as usize)
    }
}

// ---- raw botocore layout ----

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    #[serde(default)]
    operations: HashMap<String, RawOperation>,
    #[serde(default)]
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    xml_namespace: String,
    #[serde(default)]
    endpoint_prefix: String,
    #[serde(default)]
    protocol: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    input: Option<RawRef>,
    output: Option<RawOutput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOutput {
    shape: String,
    result_wrapper: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRef {
    shape: String,
    location_name: Option<String>,
    flattened: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: OrderedMembers,
    member: Option<RawRef>,
    key: Option<RawRef>,
    value: Option<RawRef>,
    location_name: Option<String>,
    flattened: Option<bool>,
    xml_order: Option<Vec<String>>,
}

/// Structure members in model order (a JSON object read as a list of pairs, because the
/// order is the XML order and serde_json's map would sort it).
#[derive(Default)]
struct OrderedMembers(Vec<(String, RawRef)>);

impl<'de> Deserialize<'de> for OrderedMembers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedMembers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of member references")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, r)) = map.next_entry::<String, RawRef>()? {
                    out.push((name, r));
                }
                Ok(OrderedMembers(out))
            }
        }
        d.deserialize_map(V)
    }
}

// ---- compilation ----

fn compile(raw: RawModel) -> Result<QueryModel, ModelError> {
    if raw.metadata.protocol != "query" {
        return Err(ModelError::NotQuery(raw.metadata.protocol));
    }
    let names: Vec<&str> = raw.shapes.keys().map(String::as_str).collect();
    let ids: HashMap<&str, ShapeId> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, ShapeId(i as u32)))
        .collect();
    let resolve = |r: &RawRef| -> Result<Ref, ModelError> {
        let id = *ids
            .get(r.shape.as_str())
            .ok_or_else(|| ModelError::UnknownShape(r.shape.clone()))?;
        let target = &raw.shapes[r.shape.as_str()];
        Ok(Ref {
            shape: id,
            location_name: r
                .location_name
                .as_deref()
                .or(target.location_name.as_deref())
                .map(Box::from),
            flattened: r.flattened.or(target.flattened).unwrap_or(false),
        })
    };
    let mut shapes = Vec::with_capacity(names.len());
    for name in &names {
        let s = &raw.shapes[*name];
        let malformed = || ModelError::Malformed((*name).to_owned());
        let shape = match s.kind.as_str() {
            "structure" => {
                let mut members = Vec::with_capacity(s.members.0.len());
                for (member_name, r) in &s.members.0 {
                    let target = resolve(r)?;
                    let wire: Box<str> = target
                        .location_name
                        .clone()
                        .unwrap_or_else(|| member_name.as_str().into());
                    let element =
                        flattened_element_name(&raw, r, &target).unwrap_or_else(|| wire.clone());
                    members.push(Member {
                        name: member_name.as_str().into(),
                        target,
                        wire,
                        element,
                    });
                }
                let xml_order =
                    xml_order(&members, s.xml_order.as_deref()).ok_or_else(malformed)?;
                Shape::Structure {
                    members: members.into(),
                    xml_order,
                }
            }
            "list" => Shape::List {
                member: resolve(s.member.as_ref().ok_or_else(malformed)?)?,
            },
            "map" => Shape::Map {
                key: resolve(s.key.as_ref().ok_or_else(malformed)?)?,
                value: resolve(s.value.as_ref().ok_or_else(malformed)?)?,
            },
            other => Shape::Scalar(scalar(other).ok_or_else(|| ModelError::UnsupportedType {
                shape: (*name).to_owned(),
                kind: other.to_owned(),
            })?),
        };
        shapes.push(shape);
    }
    let mut operations = HashMap::with_capacity(raw.operations.len());
    for (name, op) in &raw.operations {
        let lookup = |shape: &str| {
            ids.get(shape)
                .copied()
                .ok_or_else(|| ModelError::UnknownShape(shape.to_owned()))
        };
        let input = op.input.as_ref().map(|r| lookup(&r.shape)).transpose()?;
        let output = op.output.as_ref().map(|r| lookup(&r.shape)).transpose()?;
        let result_wrapper = op
            .output
            .as_ref()
            .and_then(|o| o.result_wrapper.as_deref())
            .map(Box::from);
        operations.insert(
            name.as_str().into(),
            Operation {
                name: name.as_str().into(),
                input,
                output,
                result_wrapper,
            },
        );
    }
    Ok(QueryModel {
        api_version: raw.metadata.api_version.into(),
        xml_namespace: raw.metadata.xml_namespace.into(),
        endpoint_prefix: raw.metadata.endpoint_prefix.into(),
        shapes,
        operations,
    })
}

/// For a member that is a flattened list whose element reference has a `locationName`, that
/// name: botocore's serializer replaces the member's last key component with it and its parser
/// looks the elements up under it.
fn flattened_element_name(raw: &RawModel, member: &RawRef, target: &Ref) -> Option<Box<str>> {
    if !target.flattened {
        return None;
    }
    let list = raw.shapes.get(member.shape.as_str())?;
    if list.kind != "list" {
        return None;
    }
    let element = list.member.as_ref()?;
    let element_target = raw.shapes.get(element.shape.as_str())?;
    element
        .location_name
        .as_deref()
        .or(element_target.location_name.as_deref())
        .map(Box::from)
}

/// Member indices in `xmlOrder` order; members it does not list follow in model order.
fn xml_order(members: &[Member], order: Option<&[String]>) -> Option<Box<[u16]>> {
    if members.len() > usize::from(u16::MAX) {
        return None;
    }
    let mut out: Vec<u16> = Vec::with_capacity(members.len());
    let mut placed = vec![false; members.len()];
    for name in order.unwrap_or_default() {
        if let Some(i) = members.iter().position(|m| *m.name == **name)
            && !placed[i]
        {
            placed[i] = true;
            out.push(i as u16);
        }
    }
    for (i, done) in placed.iter().enumerate() {
        if !done {
            out.push(i as u16);
        }
    }
    Some(out.into())
}

fn scalar(kind: &str) -> Option<Scalar> {
    Some(match kind {
        "string" | "character" => Scalar::String,
        "integer" | "short" | "byte" => Scalar::Integer,
        "long" => Scalar::Long,
        "boolean" => Scalar::Boolean,
        "float" => Scalar::Float,
        "double" => Scalar::Double,
        "timestamp" => Scalar::Timestamp,
        "blob" => Scalar::Blob,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member<'a>(model: &'a QueryModel, shape: ShapeId, name: &str) -> &'a Member {
        let Some(Shape::Structure { members, .. }) = model.shape(shape) else {
            panic!("not a structure");
        };
        members.iter().find(|m| &*m.name == name).expect("member")
    }

    #[test]
    fn embedded_models_parse() {
        assert!(QueryModel::parse(SQS_JSON).is_ok());
        assert!(QueryModel::parse(CLOUDWATCH_JSON).is_ok());
        assert_eq!(QueryModel::sqs().api_version(), "2012-11-05");
        assert_eq!(
            QueryModel::sqs().xml_namespace(),
            "http://queue.amazonaws.com/doc/2012-11-05/"
        );
        assert_eq!(QueryModel::sqs().operation_names().count(), 23);
        assert_eq!(QueryModel::cloudwatch().api_version(), "2010-08-01");
        assert_eq!(QueryModel::cloudwatch().endpoint_prefix(), "monitoring");
    }

    #[test]
    fn sqs_flattened_list_members_take_the_element_location_name() {
        let model = QueryModel::sqs();
        let op = model.operation("ReceiveMessage").expect("op");
        let m = member(model, op.input.expect("input"), "AttributeNames");
        assert_eq!(&*m.wire, "AttributeNames");
        assert_eq!(&*m.element, "AttributeName");
        assert!(m.target.flattened);
        let op = model.operation("SendMessage").expect("op");
        let m = member(model, op.input.expect("input"), "MessageAttributes");
        assert_eq!(&*m.wire, "MessageAttribute");
        assert_eq!(&*m.element, "MessageAttribute");
    }

    #[test]
    fn member_traits_override_the_target_shape() {
        // StringList is not flattened, but MessageAttributeValue.StringListValues says it is.
        let model = QueryModel::sqs();
        let op = model.operation("SendMessage").expect("op");
        let attrs = member(model, op.input.expect("input"), "MessageAttributes");
        let Some(Shape::Map { value, .. }) = model.shape(attrs.target.shape) else {
            panic!("not a map");
        };
        let m = member(model, value.shape, "StringListValues");
        assert!(m.target.flattened);
        assert_eq!(&*m.element, "StringListValue");
    }

    #[test]
    fn xml_order_reorders_members() {
        let model = QueryModel::cloudwatch();
        let op = model.operation("DescribeAlarms").expect("op");
        let alarms = member(model, op.output.expect("output"), "MetricAlarms");
        let Some(Shape::List { member: alarm }) = model.shape(alarms.target.shape) else {
            panic!("not a list");
        };
        let Some(Shape::Structure { members, xml_order }) = model.shape(alarm.shape) else {
            panic!("not a structure");
        };
        let names: Vec<&str> = xml_order
            .iter()
            .map(|&i| &*members[i as usize].name)
            .collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).expect("present");
        // The model lists ExtendedStatistic before Dimensions; AWS writes it after.
        assert!(pos("ComparisonOperator") < pos("ExtendedStatistic"));
        assert_eq!(names.len(), members.len());
    }

    #[test]
    fn non_query_models_and_dangling_references_are_rejected() {
        let json = r#"{"metadata":{"protocol":"json"},"operations":{},"shapes":{}}"#;
        assert_eq!(
            QueryModel::parse(json).err(),
            Some(ModelError::NotQuery("json".into()))
        );
        let json = r#"{"metadata":{"protocol":"query"},"operations":{"A":{"input":{"shape":"X"}}},"shapes":{}}"#;
        assert_eq!(
            QueryModel::parse(json).err(),
            Some(ModelError::UnknownShape("X".into()))
        );
        assert!(QueryModel::parse("[]").is_err());
    }
}
