"""Glue Data Catalog against the real binary: the database and table a Firehose
SchemaConfiguration names, created as boto3 / CloudFormation users create them, read back,
versioned, and AWS's errors."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from kutil import ACCOUNT, REGION, unique


@pytest.fixture(scope="module")
def glue(endpoint):
    return boto3.client(
        "glue",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5),
    )


# What AWS::Glue::Table's TableInput looks like for a Firehose Parquet destination.
def table_input(name: str, columns: list[tuple[str, str]]) -> dict:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t, "Comment": ""} for n, t in columns],
            "Location": "s3://stock-trades/parquet/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
        },
    }


COLUMNS = [
    ("ticker_symbol", "string"),
    ("sector", "string"),
    ("change", "decimal(10,2)"),
    ("price", "double"),
    ("event_time", "timestamp"),
    ("tags", "array<string>"),
    ("venue", "struct<name:string,open:boolean>"),
]


def error_of(exc: pytest.ExceptionInfo) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_schema_table_round_trips_as_created(glue):
    db = unique("analytics").lower()
    glue.create_database(DatabaseInput={"Name": db, "Description": "Firehose schemas"})
    glue.create_table(DatabaseName=db, TableInput=table_input("StockTrades", COLUMNS))

    t = glue.get_table(DatabaseName=db, Name="stocktrades")["Table"]
    assert t["Name"] == "stocktrades"
    assert t["DatabaseName"] == db
    assert t["CatalogId"] == ACCOUNT
    assert t["VersionId"] == "0"
    assert t["CreateTime"] and t["UpdateTime"]
    assert [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]] == COLUMNS
    assert t["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"serialization.format": "1"}
    assert t["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert t["Parameters"] == {"classification": "parquet"}

    d = glue.get_database(Name=db)["Database"]
    assert d["Name"] == db and d["Description"] == "Firehose schemas"
    assert db in [x["Name"] for x in glue.get_databases()["DatabaseList"]]
    names = [x["Name"] for x in glue.get_tables(DatabaseName=db, Expression="stock*")["TableList"]]
    assert names == ["stocktrades"]


def test_update_table_keeps_versions(glue):
    db = unique("versions").lower()
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(DatabaseName=db, TableInput=table_input("t", COLUMNS[:2]))
    glue.update_table(DatabaseName=db, TableInput=table_input("t", COLUMNS))
    assert glue.get_table(DatabaseName=db, Name="t")["Table"]["VersionId"] == "1"
    versions = glue.get_table_versions(DatabaseName=db, TableName="t")["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["1", "0"]
    v0 = glue.get_table_version(DatabaseName=db, TableName="t", VersionId="0")["TableVersion"]
    assert len(v0["Table"]["StorageDescriptor"]["Columns"]) == 2
    assert glue.get_partitions(DatabaseName=db, TableName="t")["Partitions"] == []


def test_errors_match_aws(glue):
    missing = unique("missing").lower()
    with pytest.raises(ClientError) as e:
        glue.get_database(Name=missing)
    assert error_of(e) == ("EntityNotFoundException", f"Database {missing} not found.", 400)

    db = unique("errors").lower()
    glue.create_database(DatabaseInput={"Name": db})
    with pytest.raises(ClientError) as e:
        glue.create_database(DatabaseInput={"Name": db})
    assert error_of(e) == ("AlreadyExistsException", "Database already exists.", 400)
    with pytest.raises(ClientError) as e:
        glue.get_table(DatabaseName=db, Name="nope")
    assert error_of(e) == ("EntityNotFoundException", "Table nope not found.", 400)

    glue.create_table(DatabaseName=db, TableInput=table_input("t", COLUMNS))
    with pytest.raises(ClientError) as e:
        glue.create_table(DatabaseName=db, TableInput=table_input("t", COLUMNS))
    assert error_of(e) == ("AlreadyExistsException", "Table already exists.", 400)

    out = glue.batch_delete_table(DatabaseName=db, TablesToDelete=["t", "ghost"])
    assert out["Errors"] == [{
        "TableName": "ghost",
        "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "Table ghost not found."},
    }]

    glue.delete_database(Name=db)
    with pytest.raises(ClientError) as e:
        glue.get_tables(DatabaseName=db)
    assert error_of(e)[0] == "EntityNotFoundException"
