"""Retention period changes and their AWS errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from kutil import create_stream, raw_json, wait_active


def retention(kinesis, name: str) -> int:
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"]


def expect_invalid_argument(call, message: str) -> None:
    with pytest.raises(ClientError) as err:
        call()
    e = err.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e["Error"]["Code"] == "InvalidArgumentException", e["Error"]
    assert e["Error"]["Message"] == message


def test_increase_then_decrease_retention(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=1)
    kinesis.put_record(StreamName=stream_name, Data=b"kept", PartitionKey="k")
    assert retention(kinesis, stream_name) == 24

    kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=48)
    wait_active(kinesis, stream_name)
    assert retention(kinesis, stream_name) == 48
    assert kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]["RetentionPeriodHours"] == 48

    expect_invalid_argument(
        lambda: kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=36),
        f"Requested retention period (36 hours) for stream {stream_name} can not be shorter than "
        "existing retention period (48 hours). Use DecreaseRetentionPeriod API.")
    expect_invalid_argument(
        lambda: kinesis.decrease_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=72),
        f"Requested retention period (72 hours) for stream {stream_name} can not be longer than "
        "existing retention period (48 hours). Use IncreaseRetentionPeriod API.")

    kinesis.decrease_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=24)
    wait_active(kinesis, stream_name)
    assert retention(kinesis, stream_name) == 24

    expect_invalid_argument(
        lambda: kinesis.decrease_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=23),
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.")
    expect_invalid_argument(
        lambda: kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=8761),
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.")
    assert retention(kinesis, stream_name) == 24

    # StreamARN works too, and up to the maximum of 8760 hours.
    arn = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=8760)
    wait_active(kinesis, stream_name)
    assert retention(kinesis, stream_name) == 8760

    # Records within the retention period are untouched by the changes.
    it = kinesis.get_shard_iterator(StreamName=stream_name, ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"kept"]


def test_retention_below_minimum_over_raw_http(endpoint, kinesis, stream_name):
    """The same check without any client-side validation in the way."""
    create_stream(kinesis, stream_name, shards=1)
    status, body, headers = raw_json(endpoint, "DecreaseStreamRetentionPeriod",
                                     {"StreamName": stream_name, "RetentionPeriodHours": 23})
    assert status == 400
    assert headers["content-type"].startswith("application/x-amz-json-1.1")
    assert body == {
        "__type": "InvalidArgumentException",
        "message": "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
    }
