// SPDX-License-Identifier: Apache-2.0
//! Converter tests: files written here are read back with the parquet crate's reader, and
//! with pyarrow and DuckDB when python3 has them (skipped with a printed reason otherwise).

use std::collections::BTreeMap;
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type, TimestampMillisecondType,
};
use arrow_array::{Array, RecordBatch};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::*;

fn col(name: &str, t: &str) -> Column {
    Column {
        name: name.to_owned(),
        hive_type: t.to_owned(),
    }
}

fn openx() -> Input {
    Input::OpenX {
        case_insensitive: true,
        convert_dots_to_underscores: false,
        column_to_json_key: BTreeMap::new(),
    }
}

fn trades() -> Vec<Column> {
    vec![
        col("ticker_symbol", "string"),
        col("sector", "varchar(16)"),
        col("price", "double"),
        col("change", "decimal(10,2)"),
        col("volume", "bigint"),
        col("day", "date"),
        col("ts", "timestamp"),
        col("tags", "array<string>"),
        col("attrs", "map<string,int>"),
        col("venue", "struct<name:string,open:boolean>"),
    ]
}

const RECORDS: &[&str] = &[
    r#"{"TICKER_SYMBOL":"QXZ","sector":"HEALTHCARE","price":84.51,"change":-0.05,"volume":1200,"day":"2024-10-03","ts":"2024-10-03T12:00:01.250Z","tags":["a","b"],"attrs":{"x":1},"venue":{"Name":"NYSE","open":true}}"#,
    r#"{"ticker_symbol":"AMZN","price":"12","change":"1.005","volume":"7","ts":1727956801,"extra":"ignored"}"#,
];

fn write(
    columns: &[Column],
    input: Input,
    options: ParquetOptions,
    records: &[&str],
) -> (Vec<u8>, Vec<RecordError>) {
    let mut c = Converter::new(columns, input, options, Vec::new()).expect("converter");
    let mut errors = Vec::new();
    for r in records {
        if let Err(e) = c.push(r.as_bytes()) {
            errors.push(e);
        }
    }
    (c.finish().expect("finish"), errors)
}

fn read(file: Vec<u8>) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .expect("reader")
        .build()
        .expect("build")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches")
}

#[test]
fn records_are_written_and_read_back_with_their_types() {
    let (file, errors) = write(&trades(), openx(), ParquetOptions::default(), RECORDS);
    assert!(errors.is_empty(), "{errors:?}");
    let batches = read(file);
    let b = &batches[0];
    assert_eq!(b.num_rows(), 2);
    let tickers = b.column(0).as_string::<i32>();
    assert_eq!((tickers.value(0), tickers.value(1)), ("QXZ", "AMZN"));
    assert!(b.column(1).is_null(1));
    let price = b.column(2).as_primitive::<Float64Type>();
    assert_eq!((price.value(0), price.value(1)), (84.51, 12.0));
    let change = b.column(3).as_primitive::<Decimal128Type>();
    assert_eq!((change.value(0), change.value(1)), (-5, 101));
    assert_eq!(b.column(4).as_primitive::<Int64Type>().value(1), 7);
    assert_eq!(b.column(5).as_primitive::<Date32Type>().value(0), 19_999);
    let ts = b.column(6).as_primitive::<TimestampMillisecondType>();
    assert_eq!(
        (ts.value(0), ts.value(1)),
        (1_727_956_801_250, 1_727_956_801_000)
    );
    let tags = b.column(7).as_list::<i32>();
    assert_eq!(tags.value(0).as_string::<i32>().value(1), "b");
    assert!(tags.is_null(1));
    let attrs = b.column(8).as_map();
    assert_eq!(
        attrs
            .value(0)
            .column(1)
            .as_primitive::<Int32Type>()
            .value(0),
        1
    );
    let venue = b.column(9).as_struct();
    assert_eq!(venue.column(0).as_string::<i32>().value(0), "NYSE");
    assert!(venue.is_null(1));
}

#[test]
fn failed_records_are_reported_and_the_rest_still_converts() {
    let records = [r#"{"volume":"many"}"#, "not json", r#"{"volume":3}"#];
    let (file, errors) = write(&trades(), openx(), ParquetOptions::default(), &records);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].code, RecordError::MALFORMED_DATA);
    assert_eq!(errors[1].code, RecordError::PARSE_ERROR);
    let batches = read(file);
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    assert_eq!(batches[0].column(4).as_primitive::<Int64Type>().value(0), 3);
}

#[test]
fn every_compression_and_writer_version_reads_back() {
    for compression in [
        ParquetCompression::Uncompressed,
        ParquetCompression::Gzip,
        ParquetCompression::Snappy,
    ] {
        for writer_version in [WriterVersion::V1, WriterVersion::V2] {
            let options = ParquetOptions {
                compression,
                writer_version,
                enable_dictionary: writer_version == WriterVersion::V1,
                ..ParquetOptions::default()
            };
            let (file, _) = write(&trades(), openx(), options, RECORDS);
            let reader = SerializedFileReader::new(Bytes::from(file.clone())).expect("reader");
            let meta = reader.metadata().row_group(0).column(0).compression();
            assert_eq!(
                format!("{meta:?}").split('(').next(),
                format!(
                    "{:?}",
                    match compression {
                        ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
                        ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
                        ParquetCompression::Snappy => Compression::SNAPPY,
                    }
                )
                .split('(')
                .next()
            );
            assert_eq!(read(file)[0].num_rows(), 2);
        }
    }
}

#[test]
fn large_inputs_are_split_into_row_groups_by_the_byte_budget() {
    let columns = vec![col("payload", "string"), col("n", "int")];
    let mut c = Converter::new(
        &columns,
        openx(),
        ParquetOptions {
            compression: ParquetCompression::Uncompressed,
            enable_dictionary: false,
            ..ParquetOptions::default()
        },
        Vec::new(),
    )
    .expect("converter");
    let payload = "x".repeat(4096);
    let rows = 3 * ROW_GROUP_BUDGET / 4096;
    for n in 0..rows {
        c.push(format!(r#"{{"payload":"{payload}{n}","n":{n}}}"#).as_bytes())
            .expect("push");
    }
    assert_eq!(c.rows(), rows as u64);
    let file = c.finish().expect("finish");
    let reader = SerializedFileReader::new(Bytes::from(file.clone())).expect("reader");
    assert!(
        reader.metadata().num_row_groups() >= 3,
        "{}",
        reader.metadata().num_row_groups()
    );
    let total: usize = read(file).iter().map(RecordBatch::num_rows).sum();
    assert_eq!(total, rows);
}

#[test]
fn unsupported_schemas_are_refused_up_front() {
    let err = Converter::new(
        &[col("u", "uniontype<int,string>")],
        openx(),
        ParquetOptions::default(),
        Vec::new(),
    )
    .expect_err("union");
    assert!(err.to_string().contains("column 'u'"), "{err}");
    assert!(matches!(
        Converter::new(&[], openx(), ParquetOptions::default(), Vec::new()),
        Err(ConvertError::NoColumns)
    ));
    assert!(matches!(
        Converter::new(
            &[col("a", "int"), col("A", "int")],
            openx(),
            ParquetOptions::default(),
            Vec::new()
        ),
        Err(ConvertError::DuplicateColumn(_))
    ));
}

#[test]
fn an_empty_conversion_is_still_a_valid_file() {
    let (file, _) = write(&trades(), openx(), ParquetOptions::default(), &[]);
    let reader = SerializedFileReader::new(Bytes::from(file)).expect("reader");
    assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
}

/// A failing output surfaces at `finish`, not as a record error.
#[test]
fn output_failures_are_reported_by_finish() {
    #[derive(Debug)]
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    match Converter::new(&trades(), openx(), ParquetOptions::default(), Broken) {
        // The writer may fail as soon as it writes the magic.
        Err(e) => assert!(e.to_string().contains("disk full"), "{e}"),
        Ok(mut c) => {
            c.push(RECORDS[0].as_bytes()).expect("push");
            let err = c.finish().expect_err("broken output");
            assert!(err.to_string().contains("disk full"), "{err}");
        }
    }
}

const PY_CHECK: &str = r#"
import sys, pyarrow.parquet as pq, duckdb
t = pq.read_table(sys.argv[1]).to_pylist()
assert t[0]["ticker_symbol"] == "QXZ", t
assert str(t[0]["change"]) == "-0.05", t
assert t[0]["ts"].isoformat() == "2024-10-03T12:00:01.250000", t
assert t[0]["tags"] == ["a", "b"], t
assert dict(t[0]["attrs"]) == {"x": 1}, t
assert t[0]["venue"] == {"name": "NYSE", "open": True}, t
assert t[1]["tags"] is None and t[1]["volume"] == 7, t
r = duckdb.sql(f"select ticker_symbol, price, day, ts, venue.name from read_parquet('{sys.argv[1]}') order by volume desc").fetchall()
assert r[0][0] == "QXZ" and r[0][1] == 84.51 and str(r[0][2]) == "2024-10-03", r
assert str(r[0][3]) == "2024-10-03 12:00:01.250000" and r[0][4] == "NYSE", r
print("ok")
"#;

#[test]
fn pyarrow_and_duckdb_read_the_file_when_installed() {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow, duckdb"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("skipped: python3 with pyarrow and duckdb is not available");
        return;
    }
    for compression in [ParquetCompression::Snappy, ParquetCompression::Gzip] {
        let (file, _) = write(
            &trades(),
            openx(),
            ParquetOptions {
                compression,
                ..ParquetOptions::default()
            },
            RECORDS,
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("trades.parquet");
        std::fs::write(&path, file).expect("write");
        let out = Command::new("python3")
            .args(["-c", PY_CHECK])
            .arg(&path)
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
