// SPDX-License-Identifier: Apache-2.0
//! Catalog tests on a temporary metadata store.

use freshet_types::ManualClock;

use super::*;
use crate::shapes::{Column as ColumnShape, StorageDescriptor};

const ACCOUNT: &str = "000000000000";

fn glue() -> (tempfile::TempDir, Glue, ManualClock) {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = Meta::open_local(&dir.path().join("meta.redb")).expect("meta");
    let clock = ManualClock::new(1_700_000_000_000);
    let g = Glue::new(Arc::new(meta), Arc::new(clock.clone()), ACCOUNT);
    (dir, g, clock)
}

fn db(name: &str) -> DatabaseInput {
    DatabaseInput {
        name: Some(name.to_owned()),
        ..DatabaseInput::default()
    }
}

fn table(name: &str, cols: &[(&str, &str)]) -> TableInput {
    TableInput {
        name: Some(name.to_owned()),
        storage_descriptor: Some(StorageDescriptor {
            columns: Some(
                cols.iter()
                    .map(|(n, t)| ColumnShape {
                        name: Some((*n).to_owned()),
                        type_name: Some((*t).to_owned()),
                        ..ColumnShape::default()
                    })
                    .collect(),
            ),
            ..StorageDescriptor::default()
        }),
        partition_keys: Some(vec![ColumnShape {
            name: Some("dt".into()),
            type_name: Some("string".into()),
            ..ColumnShape::default()
        }]),
        ..TableInput::default()
    }
}

#[test]
fn databases_are_created_once_and_found_by_any_case() {
    let (_d, g, _) = glue();
    g.create_database(ACCOUNT, db("Sales")).expect("create");
    assert!(matches!(
        g.create_database(ACCOUNT, db("sales")),
        Err(GlueError::DatabaseExists)
    ));
    let r = g.get_database(ACCOUNT, "SALES").expect("get");
    assert_eq!(r.input.name.as_deref(), Some("sales"));
    let err = g.get_database(ACCOUNT, "nope").expect_err("missing");
    assert_eq!(err.to_string(), "Database nope not found.");
}

#[test]
fn tables_need_their_database_and_are_unique() {
    let (_d, g, _) = glue();
    let err = g
        .create_table(ACCOUNT, "db", table("t", &[]))
        .expect_err("no db");
    assert_eq!(err.to_string(), "Database db not found.");
    g.create_database(ACCOUNT, db("db")).expect("db");
    g.create_table(ACCOUNT, "db", table("T", &[("a", "int")]))
        .expect("table");
    assert!(matches!(
        g.create_table(ACCOUNT, "db", table("t", &[])),
        Err(GlueError::TableExists)
    ));
    let t = g.get_table(ACCOUNT, "db", "t").expect("get");
    assert_eq!((t.version, t.input.name.as_deref()), (0, Some("t")));
    assert_eq!(
        g.get_table(ACCOUNT, "db", "x")
            .expect_err("missing")
            .to_string(),
        "Table x not found."
    );
}

#[test]
fn updates_keep_versions_and_columns_follow_the_requested_version() {
    let (_d, g, clock) = glue();
    g.create_database(ACCOUNT, db("db")).expect("db");
    g.create_table(ACCOUNT, "db", table("t", &[("a", "int")]))
        .expect("table");
    clock.advance(1000);
    g.update_table(
        ACCOUNT,
        "db",
        table("t", &[("a", "int"), ("b", "string")]),
        false,
        Some("0"),
    )
    .expect("update");
    let t = g.get_table(ACCOUNT, "db", "t").expect("get");
    assert_eq!((t.version, t.update_ms - t.create_ms), (1, 1000));
    let latest = g.table_columns(None, "db", "t", None).expect("cols");
    assert_eq!(latest.len(), 2);
    assert_eq!(
        latest[1],
        Column {
            name: "b".into(),
            type_name: "string".into()
        }
    );
    assert_eq!(
        g.table_columns(None, "db", "t", Some("0"))
            .expect("v0")
            .len(),
        1
    );
    assert!(matches!(
        g.table_columns(None, "db", "t", Some("7")),
        Err(GlueError::VersionNotFound { .. })
    ));
    let versions = g
        .list_table_versions(ACCOUNT, "db", "t", None, 100)
        .expect("versions");
    assert_eq!(
        versions.items.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 0]
    );
    assert!(matches!(
        g.update_table(ACCOUNT, "db", table("t", &[]), false, Some("0")),
        Err(GlueError::ConcurrentModification)
    ));
    g.update_table(ACCOUNT, "db", table("t", &[]), true, None)
        .expect("skip archive");
    let versions = g
        .list_table_versions(ACCOUNT, "db", "t", None, 100)
        .expect("versions");
    assert_eq!(
        versions.items.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 0]
    );
}

#[test]
fn listings_page_and_filter_by_expression() {
    let (_d, g, _) = glue();
    g.create_database(ACCOUNT, db("db")).expect("db");
    for n in ["orders", "orders_2024", "trades", "users"] {
        g.create_table(ACCOUNT, "db", table(n, &[])).expect("table");
    }
    let p1 = g.list_tables(ACCOUNT, "db", None, None, 3).expect("page 1");
    assert_eq!(p1.items.len(), 3);
    let p2 = g
        .list_tables(ACCOUNT, "db", None, p1.next_token.as_deref(), 3)
        .expect("page 2");
    assert_eq!(p2.items[0].input.name.as_deref(), Some("users"));
    assert_eq!(p2.next_token, None);
    let names = |p: Page<TableRecord>| {
        p.items
            .into_iter()
            .filter_map(|t| t.input.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            g.list_tables(ACCOUNT, "db", Some("orders*"), None, 100)
                .expect("glob")
        ),
        ["orders", "orders_2024"]
    );
    assert_eq!(
        names(
            g.list_tables(ACCOUNT, "db", Some("trades|users"), None, 100)
                .expect("alt")
        ),
        ["trades", "users"]
    );
    assert!(matches!(
        g.list_tables(ACCOUNT, "db", Some("(("), None, 100),
        Err(GlueError::InvalidInput(_))
    ));
}

#[test]
fn deleting_a_database_drops_its_tables() {
    let (_d, g, _) = glue();
    g.create_database(ACCOUNT, db("db")).expect("db");
    g.create_table(ACCOUNT, "db", table("t", &[]))
        .expect("table");
    g.delete_database(ACCOUNT, "db").expect("delete");
    g.create_database(ACCOUNT, db("db")).expect("again");
    assert!(matches!(
        g.get_table(ACCOUNT, "db", "t"),
        Err(GlueError::TableNotFound { .. })
    ));
    g.create_table(ACCOUNT, "db", table("t", &[]))
        .expect("table again");
    assert_eq!(g.get_table(ACCOUNT, "db", "t").expect("get").version, 0);
}

#[test]
fn batch_delete_reports_missing_tables_and_deletes_the_rest() {
    let (_d, g, _) = glue();
    g.create_database(ACCOUNT, db("db")).expect("db");
    g.create_table(ACCOUNT, "db", table("a", &[])).expect("a");
    let errors = g
        .batch_delete_tables(ACCOUNT, "db", &["a".into(), "b".into()])
        .expect("batch");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].1.to_string(), "Table b not found.");
    assert!(g.get_table(ACCOUNT, "db", "a").is_err());
}

#[test]
fn catalogs_are_separate() {
    let (_d, g, _) = glue();
    g.create_database("111111111111", db("db")).expect("db");
    assert!(g.get_database(ACCOUNT, "db").is_err());
    assert_eq!(g.catalog(None), ACCOUNT);
}
