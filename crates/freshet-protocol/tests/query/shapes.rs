// SPDX-License-Identifier: Apache-2.0
//! Test helpers over the raw botocore models: random JSON values of a shape, botocore's
//! `QuerySerializer` naming rules re-stated as a form encoder, and the value a form carries.
//!
//! They read the committed model JSON directly, so they share no code with the codec under
//! test (the codec compiles the model into its own table).

use serde_json::{Map, Value, json};

pub const SQS_MODEL: &str = include_str!("../../models/sqs-2012-11-05.query.json");
pub const CLOUDWATCH_MODEL: &str = include_str!("../../models/cloudwatch-2010-08-01.query.json");

/// Timestamps the generator uses: the JSON-protocol value and botocore's ISO-8601 form.
const TIMES: &[(f64, &str)] = &[
    (0.0, "1970-01-01T00:00:00Z"),
    (1_704_067_200.0, "2024-01-01T00:00:00Z"),
    (1_704_067_200.25, "2024-01-01T00:00:00.250000Z"),
    (951_782_400.0, "2000-02-29T00:00:00Z"),
    (-1.0, "1969-12-31T23:59:59Z"),
    (4_102_444_799.5, "2099-12-31T23:59:59.500000Z"),
];

/// splitmix64: deterministic per proptest seed, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub struct Model {
    pub raw: Value,
}

impl Model {
    pub fn new(json: &str) -> Model {
        Model {
            raw: serde_json::from_str(json).expect("model json"),
        }
    }

    pub fn operations(&self) -> Vec<(&str, Option<&Value>, Option<&Value>)> {
        let ops = self.raw["operations"].as_object().expect("operations");
        ops.iter()
            .map(|(name, op)| (name.as_str(), op.get("input"), op.get("output")))
            .collect()
    }

    fn shape(&self, r: &Value) -> &Value {
        &self.raw["shapes"][r["shape"].as_str().expect("shape ref")]
    }

    /// `locationName` of the reference, else of the shape.
    fn location_name<'a>(&'a self, r: &'a Value) -> Option<&'a str> {
        r.get("locationName")
            .or_else(|| self.shape(r).get("locationName"))
            .and_then(Value::as_str)
    }

    fn flattened(&self, r: &Value) -> bool {
        r.get("flattened")
            .or_else(|| self.shape(r).get("flattened"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    /// A random JSON-protocol value of the shape `r` refers to. `strings` feeds string values.
    pub fn random(&self, r: &Value, rng: &mut Rng, strings: &[String], depth: usize) -> Value {
        let shape = self.shape(r);
        match shape["type"].as_str().expect("type") {
            "structure" => {
                let mut out = Map::new();
                for (name, member) in shape["members"].as_object().expect("members") {
                    let nested = self.shape(member)["type"] == "structure";
                    if depth < 5
                        && !(nested && depth >= 3)
                        && rng.chance(if depth < 2 { 60 } else { 35 })
                    {
                        out.insert(name.clone(), self.random(member, rng, strings, depth + 1));
                    }
                }
                Value::Object(out)
            }
            "list" => {
                let n = if depth >= 3 {
                    rng.below(2)
                } else {
                    rng.below(4)
                };
                Value::Array(
                    (0..n)
                        .map(|_| self.random(&shape["member"], rng, strings, depth + 1))
                        .collect(),
                )
            }
            "map" => {
                let mut out = Map::new();
                for _ in 0..rng.below(4) {
                    let key = pick(rng, strings);
                    out.insert(key, self.random(&shape["value"], rng, strings, depth + 1));
                }
                Value::Object(out)
            }
            "string" => match shape.get("enum").and_then(Value::as_array) {
                Some(values) if rng.chance(50) => values[rng.below(values.len())].clone(),
                _ => Value::String(pick(rng, strings)),
            },
            "integer" => json!([0, 1, -1, 42, i32::MAX, i32::MIN][rng.below(6)]),
            "long" => json!([0, -7, 1_i64 << 53, i64::MAX, i64::MIN][rng.below(5)]),
            "boolean" => Value::Bool(rng.chance(50)),
            "float" | "double" => {
                json!([0.0, 1.5, -2.25, 1e-7, 1e300, 5e-324, 0.1, 3.0][rng.below(8)])
            }
            "timestamp" => json!(TIMES[rng.below(TIMES.len())].0),
            "blob" => json!(["", "AA==", "AAE=", "AAEC", "3q2+7w=="][rng.below(5)]),
            other => panic!("unhandled type {other}"),
        }
    }

    /// The form parameters botocore's `QuerySerializer` writes for `value` under `prefix`.
    pub fn form(&self, r: &Value, value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
        let shape = self.shape(r);
        match shape["type"].as_str().expect("type") {
            "structure" => {
                for (name, v) in value.as_object().expect("object") {
                    let member = &shape["members"][name];
                    let wire = self.location_name(member).unwrap_or(name);
                    let p = if prefix.is_empty() {
                        wire.to_owned()
                    } else {
                        format!("{prefix}.{wire}")
                    };
                    self.form(member, v, &p, out);
                }
            }
            "list" => {
                let items = value.as_array().expect("array");
                if items.is_empty() {
                    out.push((prefix.to_owned(), String::new()));
                    return;
                }
                let member = &shape["member"];
                let list_prefix = if self.flattened(r) {
                    match self.location_name(member) {
                        Some(name) => match prefix.rsplit_once('.') {
                            Some((head, _)) => format!("{head}.{name}"),
                            None => name.to_owned(),
                        },
                        None => prefix.to_owned(),
                    }
                } else {
                    format!(
                        "{prefix}.{}",
                        self.location_name(member).unwrap_or("member")
                    )
                };
                for (i, item) in items.iter().enumerate() {
                    self.form(member, item, &format!("{list_prefix}.{}", i + 1), out);
                }
            }
            "map" => {
                let full = if self.flattened(r) {
                    prefix.to_owned()
                } else {
                    format!("{prefix}.entry")
                };
                let key_name = self.location_name(&shape["key"]).unwrap_or("key");
                let value_name = self.location_name(&shape["value"]).unwrap_or("value");
                for (i, (k, v)) in value.as_object().expect("object").iter().enumerate() {
                    out.push((format!("{full}.{}.{key_name}", i + 1), k.clone()));
                    self.form(
                        &shape["value"],
                        v,
                        &format!("{full}.{}.{value_name}", i + 1),
                        out,
                    );
                }
            }
            "timestamp" => {
                let epoch = value.as_f64().expect("number");
                let iso = TIMES
                    .iter()
                    .find(|(e, _)| *e == epoch)
                    .expect("known time")
                    .1;
                out.push((prefix.to_owned(), iso.to_owned()));
            }
            "boolean" => out.push((
                prefix.to_owned(),
                value.as_bool().expect("bool").to_string(),
            )),
            "float" | "double" => out.push((
                prefix.to_owned(),
                format!("{:?}", value.as_f64().expect("f64")),
            )),
            _ => out.push((
                prefix.to_owned(),
                match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            )),
        }
    }

    /// Whether `form` writes any parameter for `value`.
    fn emits(&self, r: &Value, value: &Value) -> bool {
        let shape = self.shape(r);
        match shape["type"].as_str().expect("type") {
            "structure" => value
                .as_object()
                .expect("object")
                .iter()
                .any(|(k, v)| self.emits(&shape["members"][k], v)),
            "map" => !value.as_object().expect("object").is_empty(),
            // An empty list is sent as `Name=`; a non-empty one only through its elements.
            "list" => {
                let items = value.as_array().expect("array");
                items.is_empty() || items.iter().any(|v| self.emits(&shape["member"], v))
            }
            _ => true,
        }
    }

    /// The value a decoder recovers from `form`'s parameters: what the form cannot carry
    /// (empty maps, structures that write nothing) is gone. `None` when nothing is left.
    pub fn carried(&self, r: &Value, value: &Value) -> Option<Value> {
        let shape = self.shape(r);
        match shape["type"].as_str().expect("type") {
            "structure" => {
                if !self.emits(r, value) {
                    return None;
                }
                let members = value.as_object().expect("object").iter();
                let kept = members.filter_map(|(k, v)| {
                    self.carried(&shape["members"][k], v)
                        .map(|c| (k.clone(), c))
                });
                Some(Value::Object(kept.collect()))
            }
            "list" => {
                let items = value.as_array().expect("array");
                let kept: Vec<Value> = items
                    .iter()
                    .filter_map(|v| self.carried(&shape["member"], v))
                    .collect();
                (!kept.is_empty() || items.is_empty()).then_some(Value::Array(kept))
            }
            "map" => {
                let entries = value.as_object().expect("object").iter();
                let kept: Map<String, Value> = entries
                    .filter_map(|(k, v)| self.carried(&shape["value"], v).map(|c| (k.clone(), c)))
                    .collect();
                (!kept.is_empty()).then_some(Value::Object(kept))
            }
            "float" | "double" => Some(json!(value.as_f64().expect("f64"))),
            "timestamp" => {
                let f = value.as_f64().expect("f64");
                Some(if f.fract() == 0.0 {
                    json!(f as i64)
                } else {
                    json!(f)
                })
            }
            _ => Some(value.clone()),
        }
    }
}

fn pick(rng: &mut Rng, strings: &[String]) -> String {
    strings
        .get(rng.below(strings.len()))
        .cloned()
        .unwrap_or_default()
}
