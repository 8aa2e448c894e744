"""Stream lifecycle, waiters and every paging mechanism, with boto3."""

from __future__ import annotations

from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from kutil import ACCOUNT, REGION, aws_hash_ranges, create_stream, shard_range, unique

SHARD_IDS = [f"shardId-{i:012d}" for i in range(5)]


def test_lifecycle_waiters_and_summary(kinesis, stream_name):
    kinesis.create_stream(StreamName=stream_name, ShardCount=3)
    status = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamStatus"]
    assert status in ("CREATING", "ACTIVE")
    kinesis.get_waiter("stream_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    s = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert s["StreamName"] == stream_name
    assert s["StreamARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream_name}"
    assert s["StreamStatus"] == "ACTIVE"
    assert s["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert s["RetentionPeriodHours"] == 24
    assert s["OpenShardCount"] == 3
    assert s["EncryptionType"] == "NONE"
    assert s["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    assert isinstance(s["StreamCreationTimestamp"], datetime)
    assert "StreamId" not in s, "StreamId is reserved and never emitted"

    d = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert d["HasMoreShards"] is False
    assert [sh["ShardId"] for sh in d["Shards"]] == SHARD_IDS[:3]
    assert [shard_range(sh) for sh in d["Shards"]] == aws_hash_ranges(3)
    assert shard_range(d["Shards"][1]) == (113427455640312821154458202477256070485,
                                           226854911280625642308916404954512140969)

    kinesis.delete_stream(StreamName=stream_name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream_summary(StreamName=stream_name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert stream_name not in kinesis.list_streams()["StreamNames"]

    # The name is free again.
    create_stream(kinesis, stream_name, shards=1)
    kinesis.delete_stream(StreamARN=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream_name}")
    kinesis.get_waiter("stream_not_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_create_without_shard_count_and_on_demand_get_four_shards(kinesis):
    plain = unique("default-shards")
    create_stream(kinesis, plain, shards=None)
    assert kinesis.describe_stream_summary(StreamName=plain)["StreamDescriptionSummary"]["OpenShardCount"] == 4

    od = unique("on-demand")
    create_stream(kinesis, od, shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    s = kinesis.describe_stream_summary(StreamName=od)["StreamDescriptionSummary"]
    assert s["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert s["OpenShardCount"] == 4
    resp = kinesis.put_record(StreamName=od, Data=b"x", PartitionKey="k")
    assert resp["ShardId"].startswith("shardId-")


def test_list_shards_paging(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=5)

    full = kinesis.list_shards(StreamName=stream_name)
    assert [s["ShardId"] for s in full["Shards"]] == SHARD_IDS
    assert [shard_range(s) for s in full["Shards"]] == aws_hash_ranges(5)

    # MaxResults=1, following NextToken alone (a NextToken identifies the stream).
    page = kinesis.list_shards(StreamName=stream_name, MaxResults=1)
    assert [s["ShardId"] for s in page["Shards"]] == SHARD_IDS[:1]
    first_token = page["NextToken"]
    got = [s["ShardId"] for s in page["Shards"]]
    for _ in range(10):
        token = page.get("NextToken")
        if not token:
            break
        page = kinesis.list_shards(NextToken=token, MaxResults=1)
        assert len(page["Shards"]) <= 1
        got += [s["ShardId"] for s in page["Shards"]]
    else:
        pytest.fail(f"ListShards paging did not end after 10 pages: {got}")
    assert got == SHARD_IDS

    # The botocore paginator, resumed from the first page's token.
    pages = list(kinesis.get_paginator("list_shards").paginate(
        PaginationConfig={"PageSize": 1, "StartingToken": first_token, "MaxItems": 100}))
    assert all(len(p["Shards"]) <= 1 for p in pages)
    assert [s["ShardId"] for p in pages for s in p["Shards"]] == SHARD_IDS[1:]

    # And with MaxResults=2 from the start.
    pages = []
    page = kinesis.list_shards(StreamName=stream_name, MaxResults=2)
    pages.append(page)
    while page.get("NextToken") and len(pages) < 10:
        page = kinesis.list_shards(NextToken=page["NextToken"], MaxResults=2)
        pages.append(page)
    assert [len(p["Shards"]) for p in pages if p["Shards"]] == [2, 2, 1]
    assert [s["ShardId"] for p in pages for s in p["Shards"]] == SHARD_IDS

    # ExclusiveStartShardId, and StreamARN instead of StreamName.
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream_name}"
    resp = kinesis.list_shards(StreamARN=arn, ExclusiveStartShardId=SHARD_IDS[2])
    assert [s["ShardId"] for s in resp["Shards"]] == SHARD_IDS[3:]
    resp = kinesis.list_shards(StreamName=stream_name, ShardFilter={"Type": "AT_LATEST"})
    assert [s["ShardId"] for s in resp["Shards"]] == SHARD_IDS

    # A NextToken already names the stream: giving both is refused.
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(StreamName=stream_name, NextToken=first_token)
    e = err.value.response["Error"]
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == "NextToken and StreamName cannot be provided together."


def test_list_streams_paging(kinesis):
    prefix = unique("ls")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        kinesis.create_stream(StreamName=n, ShardCount=1)
    for n in names:
        kinesis.get_waiter("stream_exists").wait(StreamName=n, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    seen: list[str] = []
    resp = kinesis.list_streams(Limit=2)
    for _ in range(1000):
        assert len(resp["StreamNames"]) <= 2
        assert [s["StreamName"] for s in resp["StreamSummaries"]] == resp["StreamNames"]
        for summary in resp["StreamSummaries"]:
            assert summary["StreamARN"].endswith(f":stream/{summary['StreamName']}")
            assert summary["StreamStatus"] in ("CREATING", "ACTIVE", "DELETING", "UPDATING")
        seen += resp["StreamNames"]
        if not resp["HasMoreStreams"]:
            break
        assert resp.get("NextToken"), "HasMoreStreams=true needs a NextToken or boto3 stops silently"
        resp = kinesis.list_streams(Limit=2, NextToken=resp["NextToken"])
    else:
        pytest.fail("ListStreams paging did not end")
    assert len(seen) == len(set(seen)), f"a stream was listed twice: {seen}"
    assert set(names) <= set(seen)

    full = kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}).build_full_result()
    assert len(full["StreamNames"]) == len(set(full["StreamNames"]))
    assert set(names) <= set(full["StreamNames"])
    assert len(full["StreamSummaries"]) == len(full["StreamNames"])

    for n in names:
        kinesis.delete_stream(StreamName=n)


def test_describe_stream_shard_paging(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=5)
    d = kinesis.describe_stream(StreamName=stream_name, Limit=2)["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == SHARD_IDS[:2]
    assert d["HasMoreShards"] is True
    d = kinesis.describe_stream(StreamName=stream_name, Limit=2, ExclusiveStartShardId=SHARD_IDS[1])["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == SHARD_IDS[2:4]
    assert d["HasMoreShards"] is True
    d = kinesis.describe_stream(StreamName=stream_name, Limit=2, ExclusiveStartShardId=SHARD_IDS[3])["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == SHARD_IDS[4:]
    assert d["HasMoreShards"] is False

    full = kinesis.get_paginator("describe_stream").paginate(
        StreamName=stream_name, PaginationConfig={"PageSize": 2}).build_full_result()
    assert [s["ShardId"] for s in full["StreamDescription"]["Shards"]] == SHARD_IDS
    assert full["StreamDescription"]["StreamName"] == stream_name
