// SPDX-License-Identifier: Apache-2.0
//! ADDEC2METADATA: adds the EC2 instance's identity (privateIp, availabilityZone, instanceId,
//! instanceType, accountId, amiId, region, metadataTimestamp, tags) to JSON records.
//!
//! The agent reads these from the EC2 instance metadata service. There is none where Freshet
//! runs, so the values come from whoever builds the chain
//! ([`super::Processors::set_ec2_metadata`]); until then the converter does what the agent
//! does when the service cannot be reached: it passes records through unchanged (and the
//! chain reports a warning at start). With metadata, a record must be a JSON object: the
//! metadata keys are added to it (an existing key keeps its place and takes the new value)
//! and it is printed with `jsonFormat`; a record that is not a JSON object is a conversion
//! error, so the chain sends the raw record, as the agent does.
//!
//! As in the agent, the option also needs a valid `logFormat` (its constructor builds a log
//! parser it never uses); `metadataTTL` is accepted and has nothing to refresh here.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::ProcessingError;
use super::java;
use super::json::{JsonFormat, OrderedObject};
use super::log_to_json::LogParser;
use super::options::OptionReader;

/// The ADDEC2METADATA converter.
#[derive(Debug, Clone)]
pub struct AddEc2Metadata {
    format: JsonFormat,
    metadata: Vec<(String, Value)>,
}

/// What one conversion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2Outcome {
    /// The output holds the record.
    Converted,
    /// The record is not a JSON object; the chain must fall back to the raw record.
    NotAJsonObject,
}

impl AddEc2Metadata {
    /// Validates the option as the agent does.
    pub fn from_option(option: &OptionReader<'_>) -> Result<Self, ProcessingError> {
        LogParser::from_option(option)?;
        Ok(Self {
            format: option.json_format()?,
            metadata: Vec::new(),
        })
    }

    /// Whether metadata has been supplied.
    pub fn has_metadata(&self) -> bool {
        !self.metadata.is_empty()
    }

    /// Supplies the instance metadata, in output order.
    pub fn set_metadata(&mut self, metadata: Vec<(String, Value)>) {
        self.metadata = metadata;
    }

    /// Converts one record.
    pub fn convert(&self, input: &[u8], out: &mut Vec<u8>) -> std::io::Result<Ec2Outcome> {
        if self.metadata.is_empty() {
            out.extend_from_slice(input);
            return Ok(Ec2Outcome::Converted);
        }
        let text = java::decode(input);
        // Like Jackson's `readValue`, text after the object is ignored.
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let Ok(OrderedEntries(mut entries)) = OrderedEntries::deserialize(&mut deserializer) else {
            return Ok(Ec2Outcome::NotAJsonObject);
        };
        for (key, value) in &self.metadata {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value.clone(),
                None => entries.push((key.clone(), value.clone())),
            }
        }
        let view: Vec<(&str, &Value)> = entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
        self.format
            .write_line(&OrderedObject { entries: &view }, out)?;
        Ok(Ec2Outcome::Converted)
    }
}

/// A JSON object's top-level entries in document order (a repeated key keeps its first place
/// and its last value, as a `LinkedHashMap`).
struct OrderedEntries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = OrderedEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedEntries, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    match entries.iter_mut().find(|(k, _)| *k == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                }
                Ok(OrderedEntries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn converter(option: Value) -> Result<AddEc2Metadata, ProcessingError> {
        let object = option.as_object().cloned().unwrap_or_default();
        AddEc2Metadata::from_option(&OptionReader::new(0, "ADDEC2METADATA", &object))
    }

    fn convert(c: &AddEc2Metadata, input: &str) -> (Ec2Outcome, String) {
        let mut out = Vec::new();
        let outcome = c.convert(input.as_bytes(), &mut out).unwrap();
        (outcome, String::from_utf8(out).unwrap())
    }

    #[test]
    fn without_metadata_records_pass_through_unchanged() {
        let c = converter(json!({"logFormat": "RFC3339SYSLOG"})).unwrap();
        assert_eq!(
            convert(&c, "not json\n"),
            (Ec2Outcome::Converted, "not json\n".to_owned())
        );
    }

    #[test]
    fn metadata_is_appended_to_json_records_keeping_their_key_order() {
        let mut c = converter(json!({"logFormat": "RFC3339SYSLOG"})).unwrap();
        c.set_metadata(vec![
            ("instanceId".to_owned(), json!("i-0abc")),
            ("z".to_owned(), json!(2)),
        ]);
        assert_eq!(
            convert(&c, "{\"z\":1,\"a\":true}\n"),
            (
                Ec2Outcome::Converted,
                "{\"z\":2,\"a\":true,\"instanceId\":\"i-0abc\"}\n".to_owned()
            )
        );
    }

    #[test]
    fn a_record_that_is_not_a_json_object_is_a_conversion_error() {
        let mut c = converter(json!({"logFormat": "SYSLOG"})).unwrap();
        c.set_metadata(vec![("k".to_owned(), json!("v"))]);
        assert_eq!(convert(&c, "[1]\n").0, Ec2Outcome::NotAJsonObject);
        assert_eq!(convert(&c, "plain text").0, Ec2Outcome::NotAJsonObject);
    }

    #[test]
    fn the_option_needs_a_log_format_as_in_the_agent() {
        let err = converter(json!({})).unwrap_err();
        assert!(err.to_string().contains("logFormat"), "{err}");
    }
}
