"""Shared helpers for the Firehose end-to-end tests: clients, buckets, delivery streams with
small buffers, bounded waits on delivered objects, and error-output documents.

Delivery is asynchronous, so every read of the bucket here polls with a deadline and returns
what it saw when the deadline passes; the caller asserts on that, so a stream that never
delivers fails the test instead of hanging it.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any, Callable

import boto3
from botocore.config import Config

from kutil import ACCOUNT, REGION, unique

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/firehose-delivery-role"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/"


def client(service: str, endpoint: str, attempts: int = 2, read_timeout: float = 60.0):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": attempts}, read_timeout=read_timeout,
                                      connect_timeout=5))


def new_bucket(s3, hint: str) -> str:
    """A fresh bucket with a valid, unique name."""
    bucket = unique(hint)[:48].lower().replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    return bucket


def wait_active(firehose, name: str, deadline_s: float = 30.0) -> dict:
    end = time.monotonic() + deadline_s
    while True:
        desc = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        if desc["DeliveryStreamStatus"] == "ACTIVE":
            return desc
        if time.monotonic() > end:
            raise AssertionError(f"{name} stayed {desc['DeliveryStreamStatus']}: {desc.get('FailureDescription')}")
        time.sleep(0.05)


def s3_destination(bucket: str, **extra: Any) -> dict:
    """An ExtendedS3DestinationConfiguration with small buffers (1 MB / 1 s) unless overridden."""
    conf = {
        "RoleARN": ROLE_ARN,
        "BucketARN": f"arn:aws:s3:::{bucket}",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
    }
    conf.update(extra)
    return conf


def create_stream(firehose, name: str, destination: dict) -> str:
    arn = firehose.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                                          ExtendedS3DestinationConfiguration=destination)[
        "DeliveryStreamARN"]
    wait_active(firehose, name)
    return arn


def put_all(firehose, name: str, records: list[bytes]) -> None:
    """PutRecordBatch in batches of 500; every record must be acknowledged."""
    for start in range(0, len(records), 500):
        chunk = records[start:start + 500]
        out = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in chunk])
        assert out["FailedPutCount"] == 0, out["RequestResponses"][:3]


def list_keys(s3, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def read_object(s3, bucket: str, key: str) -> bytes:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body) if key.endswith(".gz") else body


def poll(check: Callable[[], Any], deadline_s: float = 60.0, interval: float = 0.2) -> Any:
    """Calls `check` until it returns something truthy or the deadline passes; returns the last
    value either way so the caller's assertion shows what was there."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval)


def objects_under(s3, bucket: str, prefix: str = "") -> dict[str, bytes]:
    return {k: read_object(s3, bucket, k) for k in list_keys(s3, bucket, prefix)}


def wait_for_lines(s3, bucket: str, want: int, prefix: str = "", deadline_s: float = 60.0,
                   exclude: str | None = None) -> dict[str, list[bytes]]:
    """Waits (bounded) until the objects under `prefix` (minus keys starting with `exclude`)
    hold at least `want` newline-terminated lines; returns key -> lines."""
    def check():
        out = {k: v.splitlines() for k, v in objects_under(s3, bucket, prefix).items()
               if not (exclude and k.startswith(exclude))}
        return out if sum(len(v) for v in out.values()) >= want else None

    got = poll(check, deadline_s)
    if got is None:
        got = {k: v.splitlines() for k, v in objects_under(s3, bucket, prefix).items()
               if not (exclude and k.startswith(exclude))}
    return got


def error_documents(s3, bucket: str, prefix: str, want: int, deadline_s: float = 60.0) -> list[dict]:
    """Waits (bounded) for `want` error-output documents under `prefix`; returns them parsed.
    AWS writes one JSON document per failed record; they may be separated by newlines or
    simply concatenated, so both are read."""
    def docs() -> list[dict]:
        out: list[dict] = []
        for body in objects_under(s3, bucket, prefix).values():
            out.extend(split_json_documents(body))
        return out

    def enough():
        found = docs()
        return found if len(found) >= want else None

    got = poll(enough, deadline_s)
    return got if got is not None else docs()


def split_json_documents(body: bytes) -> list[dict]:
    """Concatenated or newline-separated JSON documents."""
    decoder = json.JSONDecoder()
    text = body.decode()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = decoder.raw_decode(text, i)
        out.append(doc)


def b64decode(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def as_int(value: Any) -> int:
    """AWS's documentation prints counts and timestamps as quoted placeholders; delivered
    documents carry numbers. Either way the value must be an integer."""
    if isinstance(value, bool):
        raise AssertionError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    assert isinstance(value, str) and value.isdigit(), f"expected an integer, got {value!r}"
    return int(value)


def assert_epoch_ms_between(value: Any, start_s: float, end_s: float, what: str) -> None:
    ms = as_int(value)
    assert int(start_s * 1000) - 2000 <= ms <= int(end_s * 1000) + 2000, (
        f"{what} {ms} is not an epoch-ms time within the test ({start_s:.0f}..{end_s:.0f} s)")
