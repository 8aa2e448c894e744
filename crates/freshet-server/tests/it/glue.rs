// SPDX-License-Identifier: Apache-2.0
//! Glue Data Catalog conformance: the official `aws-sdk-glue` client creates the database
//! and table a Firehose `SchemaConfiguration` names, reads them back, versions the table, and
//! gets AWS's errors.

use std::time::Duration;

use aws_sdk_glue::Client;
use aws_sdk_glue::config::retry::RetryConfig;
use aws_sdk_glue::config::timeout::TimeoutConfig;
use aws_sdk_glue::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_glue::types::{Column, DatabaseInput, SerDeInfo, StorageDescriptor, TableInput};

use super::common::{ACCOUNT_ID, TestServer, assert_code, assert_error};

fn client(server: &TestServer) -> Client {
    let config = aws_sdk_glue::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

fn column(name: &str, t: &str) -> Column {
    Column::builder()
        .name(name)
        .r#type(t)
        .build()
        .expect("column")
}

fn trades_table(name: &str, columns: &[(&str, &str)]) -> TableInput {
    let mut sd = StorageDescriptor::builder()
        .location("s3://bucket/trades/")
        .input_format("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
        .output_format("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
        .serde_info(
            SerDeInfo::builder()
                .serialization_library(
                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                )
                .parameters("serialization.format", "1")
                .build(),
        );
    for (n, t) in columns {
        sd = sd.columns(column(n, t));
    }
    TableInput::builder()
        .name(name)
        .table_type("EXTERNAL_TABLE")
        .parameters("classification", "parquet")
        .storage_descriptor(sd.build())
        .partition_keys(column("dt", "string"))
        .build()
        .expect("table input")
}

async fn create_database(c: &Client, name: &str) {
    c.create_database()
        .database_input(
            DatabaseInput::builder()
                .name(name)
                .description("d")
                .build()
                .expect("db"),
        )
        .send()
        .await
        .expect("create database");
}

#[tokio::test]
async fn a_schema_table_is_created_and_read_back_as_created() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_database(&c, "analytics").await;
    c.create_table()
        .database_name("analytics")
        .table_input(trades_table(
            "Trades",
            &[
                ("ticker", "string"),
                ("price", "double"),
                ("tags", "array<string>"),
            ],
        ))
        .send()
        .await
        .expect("create table");
    let t = c
        .get_table()
        .database_name("analytics")
        .name("trades")
        .send()
        .await
        .expect("get table")
        .table
        .expect("table");
    assert_eq!(t.name, "trades");
    assert_eq!(t.database_name.as_deref(), Some("analytics"));
    assert_eq!(t.catalog_id.as_deref(), Some(ACCOUNT_ID));
    assert_eq!(t.version_id.as_deref(), Some("0"));
    assert!(t.create_time.is_some() && t.update_time.is_some());
    assert_eq!(t.table_type.as_deref(), Some("EXTERNAL_TABLE"));
    assert_eq!(t.partition_keys()[0].name, "dt");
    let sd = t.storage_descriptor.expect("storage descriptor");
    let cols: Vec<(String, String)> = sd
        .columns()
        .iter()
        .map(|c| (c.name.clone(), c.r#type.clone().unwrap_or_default()))
        .collect();
    assert_eq!(cols[2], ("tags".to_owned(), "array<string>".to_owned()));
    assert_eq!(sd.location.as_deref(), Some("s3://bucket/trades/"));
    assert_eq!(
        sd.serde_info
            .and_then(|s| s.parameters)
            .and_then(|p| p.get("serialization.format").cloned()),
        Some("1".to_owned())
    );
    let db = c
        .get_database()
        .name("ANALYTICS")
        .send()
        .await
        .expect("db")
        .database
        .expect("db");
    assert_eq!(
        (db.name.as_str(), db.description.as_deref()),
        ("analytics", Some("d"))
    );
    let dbs = c.get_databases().send().await.expect("dbs");
    assert_eq!(dbs.database_list().len(), 1);
}

#[tokio::test]
async fn updates_make_versions_and_listings_see_the_newest() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_database(&c, "db").await;
    c.create_table()
        .database_name("db")
        .table_input(trades_table("t", &[("a", "int")]))
        .send()
        .await
        .expect("create");
    c.update_table()
        .database_name("db")
        .table_input(trades_table("t", &[("a", "int"), ("b", "bigint")]))
        .send()
        .await
        .expect("update");
    let versions = c
        .get_table_versions()
        .database_name("db")
        .table_name("t")
        .send()
        .await
        .expect("versions");
    let ids: Vec<_> = versions
        .table_versions()
        .iter()
        .filter_map(|v| v.version_id.clone())
        .collect();
    assert_eq!(ids, ["1", "0"]);
    let v0 = c
        .get_table_version()
        .database_name("db")
        .table_name("t")
        .version_id("0")
        .send()
        .await
        .expect("v0")
        .table_version
        .and_then(|v| v.table)
        .and_then(|t| t.storage_descriptor)
        .expect("v0 table");
    assert_eq!(v0.columns().len(), 1);
    let tables = c
        .get_tables()
        .database_name("db")
        .expression("t*")
        .send()
        .await
        .expect("tables");
    assert_eq!(tables.table_list()[0].version_id.as_deref(), Some("1"));
    let parts = c
        .get_partitions()
        .database_name("db")
        .table_name("t")
        .send()
        .await
        .expect("partitions");
    assert!(parts.partitions().is_empty());
}

#[tokio::test]
async fn missing_and_duplicate_entities_answer_aws_errors() {
    let server = TestServer::start().await;
    let c = client(&server);
    assert_error(
        c.get_database().name("nope").send().await,
        "EntityNotFoundException",
        "Database nope not found.",
    );
    assert_error(
        c.create_table()
            .database_name("nope")
            .table_input(trades_table("t", &[]))
            .send()
            .await,
        "EntityNotFoundException",
        "Database nope not found.",
    );
    create_database(&c, "db").await;
    assert_error(
        c.create_database()
            .database_input(DatabaseInput::builder().name("db").build().expect("db"))
            .send()
            .await,
        "AlreadyExistsException",
        "Database already exists.",
    );
    assert_error(
        c.get_table()
            .database_name("db")
            .name("missing")
            .send()
            .await,
        "EntityNotFoundException",
        "Table missing not found.",
    );
    c.create_table()
        .database_name("db")
        .table_input(trades_table("t", &[]))
        .send()
        .await
        .expect("create");
    assert_error(
        c.create_table()
            .database_name("db")
            .table_input(trades_table("t", &[]))
            .send()
            .await,
        "AlreadyExistsException",
        "Table already exists.",
    );
    let msg = assert_code(
        c.get_table().database_name("db").name("").send().await,
        "ValidationException",
    );
    assert!(
        msg.contains("Value '' at 'name' failed to satisfy constraint"),
        "{msg}"
    );
    let out = c
        .batch_delete_table()
        .database_name("db")
        .tables_to_delete("t")
        .tables_to_delete("ghost")
        .send()
        .await
        .expect("batch delete");
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].table_name.as_deref(), Some("ghost"));
    c.delete_database()
        .name("db")
        .send()
        .await
        .expect("delete db");
    assert_error(
        c.get_tables().database_name("db").send().await,
        "EntityNotFoundException",
        "Database db not found.",
    );
}

#[tokio::test]
async fn deleted_tables_are_gone() {
    let server = TestServer::start().await;
    let c = client(&server);
    create_database(&c, "db").await;
    c.create_table()
        .database_name("db")
        .table_input(trades_table(
            "t",
            &[("ticker", "string"), ("price", "decimal(10,2)")],
        ))
        .send()
        .await
        .expect("create");
    c.delete_table()
        .database_name("db")
        .name("t")
        .send()
        .await
        .expect("delete");
    assert_error(
        c.delete_table().database_name("db").name("t").send().await,
        "EntityNotFoundException",
        "Table t not found.",
    );
}
