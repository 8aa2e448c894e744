// SPDX-License-Identifier: Apache-2.0
//! Reading one `dataProcessingOptions` element: typed access to its keys, with errors that
//! name the option, the key and what was expected.

use serde_json::{Map, Value};

use super::ProcessingError;
use super::json::JsonFormat;

/// One option object and where it sits in the list.
#[derive(Debug, Clone, Copy)]
pub struct OptionReader<'a> {
    index: usize,
    name: &'a str,
    object: &'a Map<String, Value>,
}

impl<'a> OptionReader<'a> {
    /// Wraps option number `index`, whose `optionName` is `name`.
    pub fn new(index: usize, name: &'a str, object: &'a Map<String, Value>) -> Self {
        Self {
            index,
            name,
            object,
        }
    }

    /// An error about this option.
    pub fn error(&self, message: impl Into<String>) -> ProcessingError {
        ProcessingError {
            index: self.index,
            option: self.name.to_owned(),
            message: message.into(),
        }
    }

    /// The raw value of `key`, if present (JSON `null` counts as absent, as in the agent).
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    /// A string parameter.
    pub fn string(&self, key: &str) -> Result<Option<&'a str>, ProcessingError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.error(format!("{key} must be a string, not {}", type_name(other))))
            }
        }
    }

    /// A list-of-strings parameter.
    pub fn string_list(&self, key: &str) -> Result<Option<Vec<String>>, ProcessingError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.error(format!(
                        "{key} must be a list of strings, but it holds {}",
                        type_name(other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.error(format!(
                "{key} must be a list of strings, not {}",
                type_name(other)
            ))),
        }
    }

    /// A required list-of-strings parameter.
    pub fn required_string_list(&self, key: &str) -> Result<Vec<String>, ProcessingError> {
        self.string_list(key)?
            .ok_or_else(|| self.error(format!("the required parameter {key} is missing")))
    }

    /// A flag the agent reads as a string (`"true"`, any case, is true; any other string is
    /// false); a JSON boolean is accepted too.
    pub fn string_flag(&self, key: &str) -> Result<bool, ProcessingError> {
        match self.value(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => Ok(s.eq_ignore_ascii_case("true")),
            Some(other) => Err(self.error(format!(
                "{key} must be \"true\" or \"false\", not {}",
                type_name(other)
            ))),
        }
    }

    /// `jsonFormat` (default COMPACT).
    pub fn json_format(&self) -> Result<JsonFormat, ProcessingError> {
        match self.string("jsonFormat")? {
            None => Ok(JsonFormat::Compact),
            Some(name) => JsonFormat::from_name(name).ok_or_else(|| {
                self.error(format!(
                    "unknown jsonFormat \"{name}\"; supported: {}",
                    JsonFormat::NAMES.join(", ")
                ))
            }),
        }
    }
}

/// The JSON type of a value, for error messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
