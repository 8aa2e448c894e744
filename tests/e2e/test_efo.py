"""Enhanced fan-out with boto3: consumer registration and SubscribeToShard, which botocore
reads as an HTTP/1.1 event stream (it needs the initial-response event first)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from kutil import create_stream


def wait_consumer(kinesis, arn: str, status: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        d = kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
        if d["ConsumerStatus"] == status:
            return
        assert time.monotonic() < deadline, f"consumer stuck in {d['ConsumerStatus']}"
        time.sleep(0.05)


def test_subscribe_to_shard_end_to_end(kinesis, stream_name):
    create_stream(kinesis, stream_name, 1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream_name)[
        "StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="boto")["Consumer"]
    arn = consumer["ConsumerARN"]
    assert arn.startswith(f"{stream_arn}/consumer/boto:")
    wait_consumer(kinesis, arn, "ACTIVE")

    listed = kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["boto"]
    described = kinesis.describe_stream_consumer(StreamARN=stream_arn, ConsumerName="boto")
    assert described["ConsumerDescription"]["StreamARN"] == stream_arn
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert summary["ConsumerCount"] == 1

    sent = [f"record-{i}".encode() for i in range(5)]
    for data in sent:
        kinesis.put_record(StreamName=stream_name, Data=data, PartitionKey="k")

    resp = kinesis.subscribe_to_shard(
        ConsumerARN=arn,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "TRIM_HORIZON"},
    )
    got: list[bytes] = []
    last = None
    deadline = time.monotonic() + 30
    for event in resp["EventStream"]:
        e = event["SubscribeToShardEvent"]
        got.extend(r["Data"] for r in e["Records"])
        last = e
        if len(got) >= len(sent) or time.monotonic() > deadline:
            break
    resp["EventStream"].close()
    assert got == sent
    assert last is not None and last["ContinuationSequenceNumber"]
    assert last["MillisBehindLatest"] == 0

    # Resuming after the continuation delivers only newer records.
    time.sleep(5.2)  # past the 5-second window for the same consumer and shard
    kinesis.put_record(StreamName=stream_name, Data=b"later", PartitionKey="k")
    resp = kinesis.subscribe_to_shard(
        ConsumerARN=arn,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER",
                          "SequenceNumber": last["ContinuationSequenceNumber"]},
    )
    for event in resp["EventStream"]:
        records = event["SubscribeToShardEvent"]["Records"]
        if records:
            assert [r["Data"] for r in records] == [b"later"]
            break
    resp["EventStream"].close()

    with pytest.raises(ClientError) as err:
        kinesis.delete_stream(StreamName=stream_name)
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"

    kinesis.deregister_stream_consumer(ConsumerARN=arn)
    deadline = time.monotonic() + 30
    while True:
        try:
            kinesis.describe_stream_consumer(ConsumerARN=arn)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        assert time.monotonic() < deadline, "consumer was never removed"
        time.sleep(0.05)
    kinesis.delete_stream(StreamName=stream_name)


def test_subscribe_to_unknown_consumer_is_resource_not_found(kinesis, stream_name):
    create_stream(kinesis, stream_name, 1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream_name)[
        "StreamDescriptionSummary"]["StreamARN"]
    with pytest.raises(ClientError) as err:
        kinesis.subscribe_to_shard(
            ConsumerARN=f"{stream_arn}/consumer/ghost:1",
            ShardId="shardId-000000000000",
            StartingPosition={"Type": "LATEST"},
        )
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "Consumer ghost, account 000000000000 not found."
