// SPDX-License-Identifier: Apache-2.0
//! The Data Catalog documents: `DatabaseInput`, `TableInput` and the shapes inside them
//! (`StorageDescriptor`, `Column`, `SerDeInfo`, `Order`), with the Glue model's member
//! names.
//!
//! The catalog is a document store: what a user puts in is what Glue gives back, plus the
//! members Glue adds (create/update times, version, catalog). So these shapes are both the
//! request members and the persisted records (JSON in the metadata store); rarely used
//! nested members (view definitions, skew info, schema references, federation) are kept as
//! opaque JSON values.

use std::collections::BTreeMap;

use freshet_protocol::json::{JTimestamp, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A model `Timestamp`: epoch seconds on the wire (and in storage), milliseconds here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochTime(pub i64);

impl Serialize for EpochTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Timestamp(self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for EpochTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JTimestamp::deserialize(d).map(|t| EpochTime(t.0))
    }
}

/// `DatabaseInput` (and, stored, the database record).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DatabaseInput {
    /// The name (Glue keeps it lowercase).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Location, e.g. `s3://bucket/path/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_uri: Option<String>,
    /// Key-value parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    /// Default permissions of new tables (stored, not enforced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_table_default_permissions: Option<Value>,
    /// A resource link target (stored only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<Value>,
    /// A federated database (stored only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_database: Option<Value>,
}

/// `TableInput` (and, stored, the table's document).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableInput {
    /// The name (Glue keeps it lowercase).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Last access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_access_time: Option<EpochTime>,
    /// Last analysis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_analyzed_time: Option<EpochTime>,
    /// Retention.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<i64>,
    /// Where and how the data is stored, with the columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_descriptor: Option<StorageDescriptor>,
    /// Partition columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_keys: Option<Vec<Column>>,
    /// View text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_original_text: Option<String>,
    /// Expanded view text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_expanded_text: Option<String>,
    /// `EXTERNAL_TABLE`, `VIRTUAL_VIEW`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    /// Key-value parameters (`classification`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    /// A resource link target (stored only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_table: Option<Value>,
    /// A view definition (stored only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_definition: Option<Value>,
}

/// `StorageDescriptor`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StorageDescriptor {
    /// The data columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<Column>>,
    /// Where the data is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// More locations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_locations: Option<Vec<String>>,
    /// Input format class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    /// Output format class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    /// Compressed data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressed: Option<bool>,
    /// Bucket count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_buckets: Option<i64>,
    /// The SerDe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serde_info: Option<SerDeInfo>,
    /// Bucketing columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_columns: Option<Vec<String>>,
    /// Sort order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_columns: Option<Vec<Order>>,
    /// Key-value parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    /// Skew information (stored only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skewed_info: Option<Value>,
    /// Subdirectories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_as_sub_directories: Option<bool>,
    /// A schema registry reference (stored only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_reference: Option<Value>,
}

/// `Column`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Column {
    /// Column name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hive type string.
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Key-value parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
}

/// `SerDeInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SerDeInfo {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// SerDe class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization_library: Option<String>,
    /// SerDe parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
}

/// `Order`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    /// Column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// 1 ascending, 0 descending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<i64>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn arb_column() -> impl Strategy<Value = Column> {
        (
            proptest::option::of("[a-z_]{1,8}"),
            proptest::option::of("(int|string|array<int>|struct<a:int>)"),
            proptest::option::of(".{0,10}"),
        )
            .prop_map(|(name, type_name, comment)| Column {
                name,
                type_name,
                comment,
                parameters: None,
            })
    }

    proptest! {
        #[test]
        fn table_documents_round_trip_through_json(
            name in proptest::option::of("[a-z]{1,10}"),
            columns in proptest::collection::vec(arb_column(), 0..5),
            location in proptest::option::of("s3://[a-z]{3,8}/[a-z/]{0,10}"),
            secs in proptest::option::of(0i64..4_000_000_000),
            params in proptest::option::of(proptest::collection::btree_map("[a-z.]{1,8}", ".{0,8}", 0..3)),
        ) {
            let t = TableInput {
                name,
                last_access_time: secs.map(|s| EpochTime(s * 1000 + 250)),
                storage_descriptor: Some(StorageDescriptor {
                    columns: Some(columns),
                    location,
                    serde_info: Some(SerDeInfo { serialization_library: Some("org.openx.data.jsonserde.JsonSerDe".into()), ..SerDeInfo::default() }),
                    ..StorageDescriptor::default()
                }),
                parameters: params,
                ..TableInput::default()
            };
            let json = serde_json::to_vec(&t).expect("encode");
            let back: TableInput = serde_json::from_slice(&json).expect("decode");
            prop_assert_eq!(back, t);
        }
    }

    #[test]
    fn columns_use_the_model_member_names() {
        let c: Column =
            serde_json::from_str(r#"{"Name":"a","Type":"int","Comment":"c"}"#).expect("column");
        assert_eq!(c.type_name.as_deref(), Some("int"));
        assert_eq!(
            serde_json::to_string(&c).expect("json"),
            r#"{"Name":"a","Type":"int","Comment":"c"}"#
        );
    }
}
