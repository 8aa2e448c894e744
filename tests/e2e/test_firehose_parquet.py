"""Firehose record format conversion, JSON -> Parquet, against the real binary: the schema is
a Glue table created with boto3's `glue` client on the same endpoint, the delivery stream's
DataFormatConversionConfiguration names it (OpenXJsonSerDe in, ParquetSerDe out), and the
delivered objects are read back as users read them, with pyarrow and with DuckDB. Records
that do not fit the schema go to `format-conversion-failed`.

Sources: https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html,
.../record-format-conversion-error-handling.html.
"""

from __future__ import annotations

import datetime
import decimal
import io
import json
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fhutil import (ERROR_PREFIX, ROLE_ARN, as_int, assert_epoch_ms_between, b64decode, client,
                    create_stream, error_documents, list_keys, new_bucket, poll, put_all,
                    read_object, s3_destination)
from kutil import ACCOUNT, REGION, unique

COLUMNS = [
    ("ticker_symbol", "string"),
    ("sector", "string"),
    ("price", "double"),
    ("volume", "bigint"),
    ("shares", "int"),
    ("active", "boolean"),
    ("change", "decimal(10,2)"),
    ("event_time", "timestamp"),
    ("tags", "array<string>"),
    ("venue", "struct<name:string,open:boolean>"),
]

UTC = datetime.timezone.utc
T1 = datetime.datetime(2024, 10, 3, 12, 34, 56, 789000)
T2 = datetime.datetime(2024, 10, 3, 13, 0, 1)
T3 = datetime.datetime(2024, 10, 4, 0, 0, 0, 250000)

# Timestamps in three of the forms OpenXJsonSerDe accepts; one record with keys in other
# case (CaseInsensitive defaults to true); one with fields missing (null); a key that is no
# column is ignored.
RECORDS = [
    {"ticker_symbol": "AMZN", "sector": "RETAIL", "price": 184.5, "volume": 5_000_000_000,
     "shares": 12, "active": True, "change": 1.25, "event_time": "2024-10-03T12:34:56.789Z",
     "tags": ["big", "tech"], "venue": {"name": "NASDAQ", "open": True}, "not_a_column": "ignored"},
    {"Ticker_Symbol": "QXZ", "SECTOR": "ENERGY", "Price": 12.0, "Volume": 7, "Shares": -3,
     "Active": False, "Change": -0.5, "Event_Time": "2024-10-03 13:00:01",
     "Tags": [], "Venue": {"Name": "NYSE", "Open": False}},
    {"ticker_symbol": "WMT", "price": 61.25, "event_time": int(T3.replace(tzinfo=UTC).timestamp() * 1000)},
]

EXPECTED = [
    {"ticker_symbol": "AMZN", "sector": "RETAIL", "price": 184.5, "volume": 5_000_000_000, "shares": 12,
     "active": True, "change": decimal.Decimal("1.25"), "event_time": T1, "tags": ["big", "tech"],
     "venue": {"name": "NASDAQ", "open": True}},
    {"ticker_symbol": "QXZ", "sector": "ENERGY", "price": 12.0, "volume": 7, "shares": -3,
     "active": False, "change": decimal.Decimal("-0.50"), "event_time": T2, "tags": [],
     "venue": {"name": "NYSE", "open": False}},
    {"ticker_symbol": "WMT", "sector": None, "price": 61.25, "volume": None, "shares": None,
     "active": None, "change": None, "event_time": T3, "tags": None, "venue": None},
]

# Not JSON, and JSON whose values do not match the column types.
MISFITS = [b"this is not json {", json.dumps({"ticker_symbol": "BAD", "price": "a lot"}).encode()]


# OpenX takes these timestamp forms by itself; HiveJsonSerDe is told them (Joda patterns and
# "millis"), and gets keys in the columns' case since only OpenX documents CaseInsensitive.
DESERIALIZERS = {
    "OpenXJsonSerDe": {"OpenXJsonSerDe": {}},
    "HiveJsonSerDe": {"HiveJsonSerDe": {"TimestampFormats": [
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "yyyy-MM-dd HH:mm:ss", "millis"]}},
}


def lower_keys(value):
    if isinstance(value, dict):
        return {k.lower(): lower_keys(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def firehose(endpoint):
    return client("firehose", endpoint)


@pytest.fixture(scope="module")
def s3(endpoint):
    return client("s3", endpoint)


@pytest.fixture(scope="module")
def glue(endpoint):
    return client("glue", endpoint)


def naive_utc(ts) -> datetime.datetime:
    """A timestamp as naive UTC, whether the reader gave it a time zone or not."""
    if hasattr(ts, "to_pydatetime"):
        ts = ts.to_pydatetime()
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def normalise(row: dict) -> dict:
    out = dict(row)
    if out["event_time"] is not None:
        out["event_time"] = naive_utc(out["event_time"])
    return out


@pytest.mark.parametrize("deserializer", ["OpenXJsonSerDe", "HiveJsonSerDe"])
def test_json_records_become_parquet_that_pyarrow_and_duckdb_read(firehose, s3, glue, tmp_path, deserializer):
    db = unique("analytics").lower().replace("-", "_")
    table = "stock_trades"
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(DatabaseName=db, TableInput={
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in COLUMNS],
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary":
                          "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        },
    })
    bucket = new_bucket(s3, "fh-parquet")
    name = unique("parquet")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="parquet/", ErrorOutputPrefix=ERROR_PREFIX,
        # Conversion asks for a buffer of at least 64 MiB; the 1 s interval delivers.
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 1},
        DataFormatConversionConfiguration={
            "Enabled": True,
            "SchemaConfiguration": {"RoleARN": ROLE_ARN, "CatalogId": ACCOUNT, "DatabaseName": db,
                                    "TableName": table, "Region": REGION, "VersionId": "LATEST"},
            "InputFormatConfiguration": {"Deserializer": DESERIALIZERS[deserializer]},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
        }))
    start = time.time()
    records = [json.dumps(r if deserializer == "OpenXJsonSerDe" else lower_keys(r)).encode()
               for r in RECORDS]
    put_all(firehose, name, records[:2] + MISFITS + records[2:])

    def tables():
        out = [pq.read_table(io.BytesIO(read_object(s3, bucket, k))) for k in list_keys(s3, bucket, "parquet/")]
        return out if sum(t.num_rows for t in out) >= len(RECORDS) else None

    parts = poll(tables, deadline_s=60)
    assert parts, f"no Parquet rows delivered: {list_keys(s3, bucket)}"
    docs = error_documents(s3, bucket, "errors/format-conversion-failed/", len(MISFITS))
    end = time.time()

    # pyarrow: the columns of the table, in order, with the types Hive's Parquet mapping gives.
    arrow = pa.concat_tables(parts)
    schema = arrow.schema
    assert schema.names == [n for n, _ in COLUMNS]
    types = {f.name: f.type for f in schema}
    assert types["ticker_symbol"] == pa.string() and types["sector"] == pa.string()
    assert types["price"] == pa.float64()
    assert types["volume"] == pa.int64()
    assert types["shares"] == pa.int32()
    assert types["active"] == pa.bool_()
    assert types["change"] == pa.decimal128(10, 2)
    assert pa.types.is_timestamp(types["event_time"])
    assert pa.types.is_list(types["tags"]) and types["tags"].value_type == pa.string()
    assert pa.types.is_struct(types["venue"])
    assert [(f.name, f.type) for f in types["venue"]] == [("name", pa.string()), ("open", pa.bool_())]
    rows = sorted((normalise(r) for r in arrow.to_pylist()), key=lambda r: r["ticker_symbol"])
    assert rows == EXPECTED

    # DuckDB reads the same objects with the same rows and SQL types.
    files = []
    for i, key in enumerate(list_keys(s3, bucket, "parquet/")):
        body = read_object(s3, bucket, key)
        assert body[:4] == b"PAR1" and body[-4:] == b"PAR1", key
        meta = pq.ParquetFile(io.BytesIO(body)).metadata
        codecs = {meta.row_group(g).column(c).compression
                  for g in range(meta.num_row_groups) for c in range(meta.num_columns)}
        assert codecs == {"SNAPPY"}, f"ParquetSerDe compresses with SNAPPY by default, got {codecs}"
        path = tmp_path / f"part-{i}.parquet"
        path.write_bytes(body)
        files.append(str(path))
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet({files!r}) ORDER BY ticker_symbol")
    duck = dict(zip(rel.columns, rel.types))
    duck_types = {c: str(t) for c, t in duck.items()}
    assert duck_types["ticker_symbol"] == "VARCHAR" and duck_types["sector"] == "VARCHAR"
    assert duck_types["price"] == "DOUBLE"
    assert duck_types["volume"] == "BIGINT"
    assert duck_types["shares"] == "INTEGER"
    assert duck_types["active"] == "BOOLEAN"
    assert duck_types["change"] == "DECIMAL(10,2)"
    assert duck_types["event_time"].startswith("TIMESTAMP"), duck_types
    assert duck_types["tags"] == "VARCHAR[]"
    assert duck["venue"].id == "struct", duck_types
    assert [(n, str(t)) for n, t in duck["venue"].children] == [("name", "VARCHAR"), ("open", "BOOLEAN")]
    duck_rows = [normalise(dict(zip(rel.columns, r))) for r in rel.fetchall()]
    assert duck_rows == EXPECTED

    # The records that do not fit, as AWS's format-conversion-failed documents.
    assert sorted(b64decode(d["rawData"]) for d in docs) == sorted(MISFITS)
    for doc in docs:
        required = {"attemptsMade", "arrivalTimestamp", "lastErrorCode", "lastErrorMessage",
                    "attemptEndingTimestamp", "rawData", "dataCatalogTable"}
        assert required <= set(doc) <= required | {"sequenceNumber", "subSequenceNumber"}, doc
        assert isinstance(doc["lastErrorCode"], str) and doc["lastErrorCode"], doc
        assert isinstance(doc["lastErrorMessage"], str) and doc["lastErrorMessage"], doc
        assert as_int(doc["attemptsMade"]) >= 1
        assert_epoch_ms_between(doc["arrivalTimestamp"], start, end, "arrivalTimestamp")
        assert_epoch_ms_between(doc["attemptEndingTimestamp"], start, end, "attemptEndingTimestamp")
        cat = doc["dataCatalogTable"]
        assert (cat["catalogId"], cat["databaseName"], cat["tableName"], cat["region"]) == (
            ACCOUNT, db, table, REGION), cat
        assert cat["catalogArn"] == f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog", cat
        assert isinstance(cat["versionId"], str) and cat["versionId"], cat
    strays = [k for k in list_keys(s3, bucket)
              if not k.startswith(("parquet/", "errors/format-conversion-failed/"))]
    assert not strays, strays
