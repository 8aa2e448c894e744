// SPDX-License-Identifier: Apache-2.0
//! One module per Glue operation, plus the validation and output shapes they share.

mod batch_delete_table;
mod create_database;
mod create_table;
mod delete_database;
mod delete_table;
mod get_database;
mod get_databases;
mod get_partitions;
mod get_table;
mod get_table_version;
mod get_table_versions;
mod get_tables;
mod update_database;
mod update_table;

use freshet_protocol::json::{JInt, JStr, Timestamp};
use freshet_protocol::validate::{Pattern, Validator};
use freshet_protocol::{ApiError, Protocol, Response, Wire, run};
use serde::Serialize;
use serde_json::json;

use crate::Glue;
use crate::catalog::{DatabaseRecord, TableRecord};
use crate::shapes::{DatabaseInput, TableInput};

/// Glue errors carry bare codes.
pub(crate) const WIRE: Wire = Wire {
    error_namespace: None,
    query_compatible: false,
};

/// Routes an operation name to its module.
pub(crate) async fn dispatch(glue: &Glue, op: &str, protocol: Protocol, body: &[u8]) -> Response {
    match op {
        "CreateDatabase" => {
            run::<Glue, create_database::CreateDatabase>(glue, protocol, body, &WIRE).await
        }
        "GetDatabase" => run::<Glue, get_database::GetDatabase>(glue, protocol, body, &WIRE).await,
        "GetDatabases" => {
            run::<Glue, get_databases::GetDatabases>(glue, protocol, body, &WIRE).await
        }
        "UpdateDatabase" => {
            run::<Glue, update_database::UpdateDatabase>(glue, protocol, body, &WIRE).await
        }
        "DeleteDatabase" => {
            run::<Glue, delete_database::DeleteDatabase>(glue, protocol, body, &WIRE).await
        }
        "CreateTable" => run::<Glue, create_table::CreateTable>(glue, protocol, body, &WIRE).await,
        "GetTable" => run::<Glue, get_table::GetTable>(glue, protocol, body, &WIRE).await,
        "GetTables" => run::<Glue, get_tables::GetTables>(glue, protocol, body, &WIRE).await,
        "UpdateTable" => run::<Glue, update_table::UpdateTable>(glue, protocol, body, &WIRE).await,
        "DeleteTable" => run::<Glue, delete_table::DeleteTable>(glue, protocol, body, &WIRE).await,
        "GetTableVersion" => {
            run::<Glue, get_table_version::GetTableVersion>(glue, protocol, body, &WIRE).await
        }
        "GetTableVersions" => {
            run::<Glue, get_table_versions::GetTableVersions>(glue, protocol, body, &WIRE).await
        }
        "BatchDeleteTable" => {
            run::<Glue, batch_delete_table::BatchDeleteTable>(glue, protocol, body, &WIRE).await
        }
        "GetPartitions" => {
            run::<Glue, get_partitions::GetPartitions>(glue, protocol, body, &WIRE).await
        }
        _ => WIRE.error_response(&ApiError::unknown_operation(), protocol),
    }
}

/// The model's `NameString` / `CatalogIdString` pattern: no control characters but tab.
const NAME_PATTERN: Pattern = (
    |s: &str| {
        s.chars()
            .all(|c| c == '\t' || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}'))
    },
    "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*",
);

/// A `NameString` member (1..=255 characters).
pub(crate) fn name(v: &mut Validator, path: &str, value: &Option<JStr>) {
    v.string(
        path,
        value.as_ref().map(|s| s.0.as_str()),
        1,
        Some(255),
        Some(NAME_PATTERN),
    );
}

/// A required `NameString` member.
pub(crate) fn required_name(v: &mut Validator, path: &str, value: &Option<JStr>) {
    v.required(path, value);
    name(v, path, value);
}

/// A `NameString` inside a document.
pub(crate) fn doc_name(v: &mut Validator, path: &str, value: Option<&str>, required: bool) {
    if required && value.is_none() {
        v.fail(
            freshet_protocol::validate::Shown::Null,
            path,
            "Member must not be null",
        );
    }
    v.string(path, value, 1, Some(255), Some(NAME_PATTERN));
}

/// `CatalogId`.
pub(crate) fn catalog_id(v: &mut Validator, value: &Option<JStr>) {
    name(v, "catalogId", value);
}

/// `MaxResults` within `1..=max`.
pub(crate) fn max_results(v: &mut Validator, value: &Option<JInt>, max: i64) {
    v.int(
        "maxResults",
        value.as_ref().map(|n| n.0),
        Some(1),
        Some(max),
    );
}

/// The page size a request asks for (validated), else `default`.
pub(crate) fn page_size(value: &Option<JInt>, default: usize) -> usize {
    value
        .as_ref()
        .and_then(|n| usize::try_from(n.0).ok())
        .unwrap_or(default)
}

/// The members of a `TableInput` Glue checks.
pub(crate) fn table_input(v: &mut Validator, t: &Option<TableInput>) {
    let Some(t) = t else { return };
    doc_name(v, "tableInput.name", t.name.as_deref(), true);
    doc_name(v, "tableInput.owner", t.owner.as_deref(), false);
    v.int("tableInput.retention", t.retention, Some(0), None);
    v.string(
        "tableInput.tableType",
        t.table_type.as_deref(),
        0,
        Some(255),
        None,
    );
    v.string(
        "tableInput.description",
        t.description.as_deref(),
        0,
        Some(2048),
        None,
    );
}

/// The members of a `DatabaseInput` Glue checks.
pub(crate) fn database_input(v: &mut Validator, d: &Option<DatabaseInput>) {
    let Some(d) = d else { return };
    doc_name(v, "databaseInput.name", d.name.as_deref(), true);
    v.string(
        "databaseInput.description",
        d.description.as_deref(),
        0,
        Some(2048),
        None,
    );
    v.string(
        "databaseInput.locationUri",
        d.location_uri.as_deref(),
        1,
        Some(1024),
        None,
    );
}

/// `Table` in answers: the stored document plus what Glue adds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TableDto {
    #[serde(flatten)]
    input: TableInput,
    database_name: String,
    create_time: Timestamp,
    update_time: Timestamp,
    is_registered_with_lake_formation: bool,
    catalog_id: String,
    version_id: String,
}

impl TableDto {
    pub(crate) fn new(mut r: TableRecord, catalog: &str) -> Self {
        // Glue answers these even when the input left them out.
        r.input.partition_keys.get_or_insert_with(Vec::new);
        r.input.retention.get_or_insert(0);
        TableDto {
            input: r.input,
            database_name: r.database,
            create_time: Timestamp(r.create_ms),
            update_time: Timestamp(r.update_ms),
            is_registered_with_lake_formation: false,
            catalog_id: catalog.to_owned(),
            version_id: r.version.to_string(),
        }
    }
}

/// `Database` in answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DatabaseDto {
    #[serde(flatten)]
    input: DatabaseInput,
    create_time: Timestamp,
    catalog_id: String,
}

impl DatabaseDto {
    pub(crate) fn new(mut r: DatabaseRecord, catalog: &str) -> Self {
        // Glue's default for databases created without Lake Formation permissions.
        r.input.create_table_default_permissions.get_or_insert_with(|| {
            json!([{"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}])
        });
        DatabaseDto {
            input: r.input,
            create_time: Timestamp(r.create_ms),
            catalog_id: catalog.to_owned(),
        }
    }
}

/// The text of an optional string member.
pub(crate) fn text(s: &Option<JStr>) -> &str {
    s.as_ref().map(|s| s.0.as_str()).unwrap_or("")
}

/// The text of an optional string member, if present.
pub(crate) fn opt(s: &Option<JStr>) -> Option<&str> {
    s.as_ref().map(|s| s.0.as_str())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use freshet_meta::Meta;
    use freshet_types::ManualClock;
    use serde_json::Value;

    use super::*;

    async fn call(glue: &Glue, op: &str, body: &str) -> (u16, Value) {
        let r = dispatch(glue, op, Protocol::Json11, body.as_bytes()).await;
        let v = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).expect("json body")
        };
        (r.status, v)
    }

    fn glue() -> (tempfile::TempDir, Glue) {
        let dir = tempfile::tempdir().expect("tempdir");
        let meta = Meta::open_local(&dir.path().join("meta.redb")).expect("meta");
        let clock = ManualClock::new(1_700_000_000_123);
        (
            dir,
            Glue::new(Arc::new(meta), Arc::new(clock), "000000000000"),
        )
    }

    #[tokio::test]
    async fn get_table_answers_the_document_with_what_glue_adds() {
        let (_d, g) = glue();
        assert_eq!(
            call(&g, "CreateDatabase", r#"{"DatabaseInput":{"Name":"db"}}"#).await,
            (200, serde_json::json!({}))
        );
        let (status, _) = call(
            &g,
            "CreateTable",
            r#"{"DatabaseName":"db","TableInput":{"Name":"t","LastAccessTime":1700000000.5,
                "StorageDescriptor":{"Columns":[{"Name":"a","Type":"int"}],"SerdeInfo":{"SerializationLibrary":"x"}}}}"#,
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) = call(&g, "GetTable", r#"{"DatabaseName":"db","Name":"t"}"#).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"Table": {
                "Name": "t",
                "LastAccessTime": 1700000000.5,
                "Retention": 0,
                "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"}], "SerdeInfo": {"SerializationLibrary": "x"}},
                "PartitionKeys": [],
                "DatabaseName": "db",
                "CreateTime": 1700000000.123,
                "UpdateTime": 1700000000.123,
                "IsRegisteredWithLakeFormation": false,
                "CatalogId": "000000000000",
                "VersionId": "0"
            }})
        );
        let (_, db) = call(&g, "GetDatabase", r#"{"Name":"db"}"#).await;
        assert_eq!(
            db["Database"]["CreateTableDefaultPermissions"][0]["Permissions"][0],
            "ALL"
        );
    }

    #[tokio::test]
    async fn constraint_violations_are_validation_errors_with_coral_texts() {
        let (_d, g) = glue();
        let (status, body) = call(&g, "GetTable", r#"{"DatabaseName":"db\u0001","Name":""}"#).await;
        assert_eq!(status, 400);
        assert_eq!(body["__type"], "ValidationException");
        let msg = body["message"].as_str().expect("message");
        assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
        assert!(msg.contains("at 'databaseName' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{msg}");
        let (_, body) = call(
            &g,
            "CreateTable",
            r#"{"DatabaseName":"db","TableInput":{}}"#,
        )
        .await;
        assert_eq!(
            body["message"],
            "1 validation error detected: Value null at 'tableInput.name' failed to satisfy constraint: Member must not be null"
        );
        let (status, body) = call(&g, "StartCrawler", "{}").await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("UnknownOperationException"))
        );
    }
}
