// SPDX-License-Identifier: Apache-2.0
//! CSVTOJSON: turns a delimiter-separated line into a JSON object keyed by `customFieldNames`.
//!
//! The agent's dialect, which is not RFC 4180: one trailing `\n` is dropped, the line is cut
//! with Java's `String.split(delimiter)` (the delimiter is a regex, default `,`; no quoting,
//! no trimming: `"v1, v2"` gives `" v2"`), the i-th name takes the i-th piece, names without a
//! piece are `null` (split drops trailing empty pieces, so `a,b,` gives `null`, not `""`, for
//! a third name), extra pieces are ignored. Values are always strings. A name given twice
//! keeps its first position and takes the last of its pieces, as a Java `LinkedHashMap` does.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::ProcessingError;
use super::java::{self, Delimiter};
use super::json::JsonFormat;
use super::options::OptionReader;

/// The CSVTOJSON converter.
#[derive(Debug, Clone)]
pub struct CsvToJson {
    /// Output keys in order, each with the column that supplies its value.
    keys: Vec<(String, usize)>,
    delimiter: Delimiter,
    format: JsonFormat,
}

impl CsvToJson {
    /// Reads `customFieldNames` (required), `delimiter` and `jsonFormat`.
    pub fn from_option(option: &OptionReader<'_>) -> Result<Self, ProcessingError> {
        let names = option.required_string_list("customFieldNames")?;
        let pattern = option.string("delimiter")?.unwrap_or(",");
        let delimiter = Delimiter::new(pattern).map_err(|e| {
            option.error(format!(
                "delimiter \"{pattern}\" is not a valid regular expression: {e}"
            ))
        })?;
        Ok(Self {
            keys: map_keys(&names),
            delimiter,
            format: option.json_format()?,
        })
    }

    /// Bytes the output adds to the input's in the usual case (keys, quotes, separators), so
    /// the output buffer is allocated once.
    pub fn overhead(&self) -> usize {
        self.keys.iter().map(|(k, _)| k.len() + 6).sum::<usize>() + 16
    }

    /// The output keys in order (each name once).
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(name, _)| name.as_str())
    }

    /// Converts one record.
    pub fn convert(&self, input: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        let text = java::decode(input);
        let line = java::strip_newline(&text);
        let mut columns = Vec::with_capacity(self.keys.len() + 1);
        self.delimiter.split(line, &mut columns);
        self.format.write_line(
            &Row {
                keys: &self.keys,
                columns: &columns,
            },
            out,
        )
    }
}

/// Output keys for a list of names that may repeat: first position, last column.
pub fn map_keys(names: &[String]) -> Vec<(String, usize)> {
    let mut keys: Vec<(String, usize)> = Vec::with_capacity(names.len());
    for (column, name) in names.iter().enumerate() {
        match keys.iter_mut().find(|(key, _)| key == name) {
            Some(entry) => entry.1 = column,
            None => keys.push((name.clone(), column)),
        }
    }
    keys
}

/// One converted line, serialized without building a map.
struct Row<'a> {
    keys: &'a [(String, usize)],
    columns: &'a [&'a str],
}

impl Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.keys.len()))?;
        for (key, column) in self.keys {
            map.serialize_entry(key, &self.columns.get(*column))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn converter(option: Value) -> Result<CsvToJson, ProcessingError> {
        let object = option.as_object().cloned().unwrap_or_default();
        CsvToJson::from_option(&OptionReader::new(0, "CSVTOJSON", &object))
    }

    fn convert_with(converter: &CsvToJson, input: &str) -> String {
        let mut out = Vec::new();
        converter.convert(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn four_columns() -> CsvToJson {
        converter(json!({"customFieldNames": ["column1", "column2", "column3", "column4"]}))
            .unwrap()
    }

    #[test]
    fn the_documented_example_keeps_the_space_after_the_comma() {
        let c = converter(json!({"customFieldNames": ["f1", "f2"]})).unwrap();
        assert_eq!(
            convert_with(&c, "v1, v2"),
            "{\"f1\":\"v1\",\"f2\":\" v2\"}\n"
        );
    }

    #[test]
    fn values_are_not_trimmed_and_embedded_newlines_are_escaped() {
        assert_eq!(
            convert_with(&four_columns(), "value1, value2,valu\ne3,    value4\n"),
            "{\"column1\":\"value1\",\"column2\":\" value2\",\"column3\":\"valu\\ne3\",\"column4\":\"    value4\"}\n"
        );
    }

    #[test]
    fn fewer_values_than_names_leave_the_rest_null() {
        assert_eq!(
            convert_with(&four_columns(), "value1, value2,value3\n"),
            "{\"column1\":\"value1\",\"column2\":\" value2\",\"column3\":\"value3\",\"column4\":null}\n"
        );
    }

    #[test]
    fn more_values_than_names_are_ignored() {
        assert_eq!(
            convert_with(&four_columns(), "value1,value2,value3,value4,value5\n"),
            "{\"column1\":\"value1\",\"column2\":\"value2\",\"column3\":\"value3\",\"column4\":\"value4\"}\n"
        );
    }

    #[test]
    fn trailing_empty_values_are_null_but_inner_ones_are_empty_strings() {
        assert_eq!(
            convert_with(&four_columns(), "a,,c,\n"),
            "{\"column1\":\"a\",\"column2\":\"\",\"column3\":\"c\",\"column4\":null}\n"
        );
    }

    #[test]
    fn the_tab_delimiter_from_the_docs_splits_tab_separated_values() {
        let c = converter(json!({
            "customFieldNames": ["column1", "column2", "column3", "column4"],
            "delimiter": "\\t"
        }))
        .unwrap();
        assert_eq!(
            convert_with(&c, "value1\t value2\tvalue3\t    value4\n"),
            "{\"column1\":\"value1\",\"column2\":\" value2\",\"column3\":\"value3\",\"column4\":\"    value4\"}\n"
        );
    }

    #[test]
    fn the_delimiter_is_a_regular_expression() {
        let c =
            converter(json!({"customFieldNames": ["a", "b"], "delimiter": "\\s*\\|\\s*"})).unwrap();
        assert_eq!(convert_with(&c, "x | y\n"), "{\"a\":\"x\",\"b\":\"y\"}\n");
    }

    #[test]
    fn quotes_are_data_not_syntax() {
        let c = converter(json!({"customFieldNames": ["a", "b", "c"]})).unwrap();
        assert_eq!(
            convert_with(&c, "\"x,y\",z\n"),
            "{\"a\":\"\\\"x\",\"b\":\"y\\\"\",\"c\":\"z\"}\n"
        );
    }

    #[test]
    fn a_repeated_name_keeps_its_first_place_and_its_last_value() {
        let c = converter(json!({"customFieldNames": ["a", "b", "a"]})).unwrap();
        assert_eq!(convert_with(&c, "1,2,3\n"), "{\"a\":\"3\",\"b\":\"2\"}\n");
    }

    #[test]
    fn pretty_print_uses_jacksons_layout() {
        let c = converter(json!({"customFieldNames": ["a", "b"], "jsonFormat": "PRETTYPRINT"}))
            .unwrap();
        assert_eq!(
            convert_with(&c, "1,2\n"),
            "{\n  \"a\" : \"1\",\n  \"b\" : \"2\"\n}\n"
        );
    }

    #[test]
    fn missing_custom_field_names_is_an_error_naming_the_parameter() {
        let err = converter(json!({})).unwrap_err();
        assert!(err.to_string().contains("customFieldNames"), "{err}");
    }

    #[test]
    fn an_invalid_delimiter_regex_is_an_error() {
        let err = converter(json!({"customFieldNames": ["a"], "delimiter": "("})).unwrap_err();
        assert!(err.to_string().contains("delimiter"), "{err}");
    }

    proptest! {
        #[test]
        fn output_is_one_json_object_with_exactly_the_configured_keys(
            names in proptest::collection::vec("[a-z\"\\\\]{1,4}", 0..6),
            delimiter in prop_oneof![Just(","), Just("\\t"), Just(";+"), Just("|"), Just("")],
            line in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let c = converter(json!({"customFieldNames": names, "delimiter": delimiter})).unwrap();
            let mut out = Vec::new();
            c.convert(&line, &mut out).unwrap();
            prop_assert_eq!(out.last(), Some(&b'\n'));
            let value: Value = serde_json::from_slice(&out).unwrap();
            let object = value.as_object().unwrap();
            let mut expected: Vec<&str> = c.keys().collect();
            let mut got: Vec<&str> = object.keys().map(String::as_str).collect();
            expected.sort_unstable();
            got.sort_unstable();
            prop_assert_eq!(got, expected);
            prop_assert!(object.values().all(|v| v.is_string() || v.is_null()));
        }
    }
}
