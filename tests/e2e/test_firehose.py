"""Firehose DirectPut delivery into Freshet's own S3 with boto3 and the AWS CLI: buffering,
the object name, prefix expressions and GZIP, read back with the S3 API."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from kutil import REGION, unique

ACCOUNT = "000000000000"


def client(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 2}))


@pytest.fixture(scope="module")
def firehose(endpoint):
    return client("firehose", endpoint)


@pytest.fixture(scope="module")
def s3(endpoint):
    return client("s3", endpoint)


def wait_active(firehose, name: str) -> None:
    for _ in range(200):
        status = firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"]["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} stayed {status}")


def wait_objects(s3, bucket: str, count: int, deadline_s: float = 60.0) -> list[dict]:
    """Waits (bounded) until `count` objects are listed: delivery is asynchronous."""
    end = time.monotonic() + deadline_s
    while True:
        objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        if len(objects) >= count or time.monotonic() > end:
            return objects
        time.sleep(0.1)


def test_direct_put_is_delivered_gzipped_under_an_evaluated_prefix(firehose, s3):
    bucket = unique("fh")[:40].lower().replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    name = unique("trades")
    firehose.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "trades/year=!{timestamp:yyyy}/", "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}, "CompressionFormat": "GZIP",
        })
    wait_active(firehose, name)
    records = [json.dumps({"ticker": "AMZN", "n": i}).encode() + b"\n" for i in range(300)]
    out = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
    assert out["FailedPutCount"] == 0
    assert len(out["RequestResponses"]) == 300

    end = time.monotonic() + 60
    delivered: list[bytes] = []
    while time.monotonic() < end:
        delivered = []
        objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        for o in objects:
            delivered.extend(gzip.decompress(
                s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()).splitlines(keepends=True))
        if len(delivered) >= 300:
            break
        time.sleep(0.2)
    assert sorted(delivered) == sorted(records)
    year = time.gmtime().tm_year
    for o in s3.list_objects_v2(Bucket=bucket)["Contents"]:
        assert re.fullmatch(
            rf"trades/year={year}/{re.escape(name)}-1-\d{{4}}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{{36}}\.gz",
            o["Key"]), o["Key"]


def test_the_cli_creates_a_stream_whose_records_land_under_the_default_hour_prefix(endpoint, s3, firehose):
    bucket = unique("cli")[:40].lower().replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    name = unique("cli-stream")
    config = json.dumps({"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/r", "BucketARN": f"arn:aws:s3:::{bucket}",
                         "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}})
    env_args = ["--endpoint-url", endpoint, "--region", REGION]
    subprocess.run(["aws", *env_args, "firehose", "create-delivery-stream", "--delivery-stream-name", name,
                    "--extended-s3-destination-configuration", config], check=True, capture_output=True,
                   env={**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    wait_active(firehose, name)
    before = time.gmtime()
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"hello firehose\n"})
    objects = wait_objects(s3, bucket, 1)
    after = time.gmtime()
    assert len(objects) == 1
    hours = {time.strftime("%Y/%m/%d/%H/", t) for t in (before, after)}
    assert objects[0]["Key"][:14] in hours, objects[0]["Key"]
    assert s3.get_object(Bucket=bucket, Key=objects[0]["Key"])["Body"].read() == b"hello firehose\n"
