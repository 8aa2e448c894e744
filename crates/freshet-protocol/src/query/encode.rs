// SPDX-License-Identifier: Apache-2.0
//! The JSON value of an operation's output → a Query XML response; errors → `ErrorResponse`.
//!
//! The layout mirrors what botocore's `QueryParser` reads (and what AWS writes):
//!
//! * `<OpResponse xmlns="ns"><ResultWrapper>members</ResultWrapper><ResponseMetadata>
//!   <RequestId>id</RequestId></ResponseMetadata></OpResponse>`; without an output shape only
//!   the metadata;
//! * structure members in the model's `xmlOrder` (else model order), named by `locationName`
//!   or member name; JSON members that are absent or `null` are left out, and JSON members the
//!   shape does not have are ignored;
//! * lists wrapped (`<Name><member>..</member></Name>`, `member` renamed by the element's
//!   `locationName`) or flattened (the element repeated, named by its `locationName`, else the
//!   member name); an empty wrapped list is `<Name/>`, an empty flattened list nothing;
//! * maps as `<Name><entry><key/><value/></entry></Name>` or, flattened, repeated
//!   `<Name><KeyName/><ValueName/></Name>`;
//! * timestamps from epoch seconds as ISO-8601 UTC with milliseconds; blobs as the base64 the
//!   JSON value already holds; booleans `true`/`false`; doubles in Rust's shortest round-trip
//!   form; text escaped by [`super::xml`].
//!
//! The output is built from the service's own value, so encoding never fails: a JSON value of
//! the wrong kind for its shape is written as best it can be or left out, never a panic.

use serde_json::Value;

use super::error::Fault;
use super::model::{Member, QueryModel, Ref, Scalar, Shape, ShapeId};
use super::time;
use super::xml::{close, element, open, push_text};

/// Deepest shape nesting written; deeper values (possible only with recursive models) are
/// left out.
const MAX_DEPTH: usize = 32;

/// Encodes a successful response to `op` whose output is `output` (the JSON value the JSON
/// protocol would carry). An operation the model does not have, or one without output, gets
/// the metadata-only response.
pub fn encode_response(model: &QueryModel, op: &str, output: &Value, request_id: &str) -> String {
    let mut out = String::with_capacity(256 + estimate(output));
    let operation = model.operation(op);
    // An unknown name is the caller's mistake; it must still not break the markup.
    let root = match operation {
        Some(operation) => format!("{}Response", operation.name()),
        None => format!(
            "{}Response",
            op.replace(|c: char| !c.is_ascii_alphanumeric(), "")
        ),
    };
    open_with_namespace(&mut out, &root, model.xml_namespace());
    if let Some(operation) = operation
        && let Some(id) = operation.output
    {
        let mut writer = Writer {
            model,
            out: &mut out,
        };
        match operation.result_wrapper() {
            Some(wrapper) => {
                open(writer.out, wrapper);
                writer.structure_members(id, output, 0);
                close(writer.out, wrapper);
            }
            None => writer.structure_members(id, output, 0),
        }
    }
    open(&mut out, "ResponseMetadata");
    element(&mut out, "RequestId", request_id);
    close(&mut out, "ResponseMetadata");
    close(&mut out, &root);
    out
}

/// Encodes an error response:
/// `<ErrorResponse xmlns="ns"><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
///
/// SQS also writes an empty `<Detail/>` after the message; CloudWatch does not. botocore reads
/// `Code` and `Message` either way.
pub fn encode_error(
    model: &QueryModel,
    code: &str,
    fault: Fault,
    message: &str,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(256 + message.len());
    open_with_namespace(&mut out, "ErrorResponse", model.xml_namespace());
    open(&mut out, "Error");
    element(&mut out, "Type", fault.as_str());
    element(&mut out, "Code", code);
    element(&mut out, "Message", message);
    if model.endpoint_prefix() == "sqs" {
        out.push_str("<Detail/>");
    }
    close(&mut out, "Error");
    element(&mut out, "RequestId", request_id);
    close(&mut out, "ErrorResponse");
    out
}

fn open_with_namespace(out: &mut String, name: &str, namespace: &str) {
    out.push('<');
    out.push_str(name);
    if !namespace.is_empty() {
        out.push_str(" xmlns=\"");
        push_text(out, namespace);
        out.push('"');
    }
    out.push('>');
}

/// A rough size of the XML for `v`, to allocate once for large outputs (a 10-message receive).
fn estimate(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 32,
        Value::Array(a) => a.iter().map(estimate).sum(),
        Value::Object(o) => o.iter().map(|(k, v)| 2 * k.len() + estimate(v)).sum(),
        _ => 32,
    }
}

struct Writer<'a> {
    model: &'a QueryModel,
    out: &'a mut String,
}

impl Writer<'_> {
    /// The members of structure `id` from the JSON object `value`, without an enclosing element.
    fn structure_members(&mut self, id: ShapeId, value: &Value, depth: usize) {
        let (Some(Shape::Structure { members, xml_order }), Value::Object(object)) =
            (self.model.shape(id), value)
        else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        for &i in xml_order.iter() {
            let Some(member) = members.get(usize::from(i)) else {
                continue;
            };
            match object.get(&*member.name) {
                None | Some(Value::Null) => {}
                Some(v) => self.member(member, v, depth + 1),
            }
        }
    }

    fn member(&mut self, member: &Member, value: &Value, depth: usize) {
        if let (Some(Shape::List { member: element }), true, Value::Array(items)) = (
            self.model.shape(member.target.shape),
            member.target.flattened,
            value,
        ) {
            for item in items {
                self.element(&member.element, element, item, depth);
            }
            return;
        }
        if let (
            Some(Shape::Map {
                key,
                value: value_ref,
            }),
            true,
            Value::Object(entries),
        ) = (
            self.model.shape(member.target.shape),
            member.target.flattened,
            value,
        ) {
            for (k, v) in entries {
                if v.is_null() {
                    continue;
                }
                open(self.out, &member.wire);
                self.map_entry(key, value_ref, k, v, depth);
                close(self.out, &member.wire);
            }
            return;
        }
        self.element(&member.wire, &member.target, value, depth);
    }

    /// `<name>content</name>` for `value` of shape `r`; nothing if the value cannot be written.
    fn element(&mut self, name: &str, r: &Ref, value: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match self.model.shape(r.shape) {
            Some(Shape::Scalar(kind)) => {
                let mark = self.out.len();
                open(self.out, name);
                if write_scalar(self.out, *kind, value) {
                    close(self.out, name);
                } else {
                    self.out.truncate(mark);
                }
            }
            Some(Shape::Structure { .. }) if value.is_object() => {
                open(self.out, name);
                self.structure_members(r.shape, value, depth);
                close(self.out, name);
            }
            Some(Shape::Structure { .. }) => {}
            Some(Shape::List { member }) => {
                let Value::Array(items) = value else { return };
                open(self.out, name);
                let item_name = member.location_name.as_deref().unwrap_or("member");
                for item in items {
                    self.element(item_name, member, item, depth + 1);
                }
                close(self.out, name);
            }
            Some(Shape::Map {
                key,
                value: value_ref,
            }) => {
                let Value::Object(entries) = value else {
                    return;
                };
                open(self.out, name);
                for (k, v) in entries {
                    if v.is_null() {
                        continue;
                    }
                    open(self.out, "entry");
                    self.map_entry(key, value_ref, k, v, depth + 1);
                    close(self.out, "entry");
                }
                close(self.out, name);
            }
            None => {}
        }
    }

    fn map_entry(&mut self, key: &Ref, value_ref: &Ref, k: &str, v: &Value, depth: usize) {
        element(self.out, key.location_name.as_deref().unwrap_or("key"), k);
        self.element(
            value_ref.location_name.as_deref().unwrap_or("value"),
            value_ref,
            v,
            depth + 1,
        );
    }
}

/// Appends the text of a scalar; false (and nothing appended) if `value` is not a scalar.
fn write_scalar(out: &mut String, kind: Scalar, value: &Value) -> bool {
    match (kind, value) {
        (_, Value::String(s)) => push_text(out, s),
        (_, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (Scalar::Timestamp, Value::Number(n)) => {
            let millis = match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => time::millis_from_whole_seconds(i),
                (None, Some(f)) => time::millis_from_seconds(f),
                (None, None) => return false,
            };
            time::write_iso_millis(out, millis);
        }
        (Scalar::Float | Scalar::Double, Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&format!("{f:?}")),
            _ => out.push_str(&n.to_string()),
        },
        (_, Value::Number(n)) => out.push_str(&n.to_string()),
        (_, Value::Null | Value::Array(_) | Value::Object(_)) => return false,
    }
    true
}

#[cfg(test)]
mod tests;
