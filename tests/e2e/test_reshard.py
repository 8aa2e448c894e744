"""Resharding with boto3: split, merge, update_shard_count, list_shards with ShardFilter,
GetRecords across lineage, and `freshet tail` following a split and a merge."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from kutil import (ACCOUNT, FreshetServer, aws_hash_ranges, create_stream, freshet_bin,
                   kinesis_client, list_all_shards, shard_range, wait_active)


def sid(i: int) -> str:
    return f"shardId-{i:012d}"


def open_ids(kinesis, name: str) -> list[str]:
    resp = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})
    return [s["ShardId"] for s in resp["Shards"]]


def assert_open_shards_tile(shards: list[dict]) -> None:
    ranges = sorted(shard_range(s) for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"])
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert end + 1 == start, ranges


def read_following_lineage(kinesis, name: str) -> list[tuple[str, bytes]]:
    """Every record as (partition key, data), a shard only after all its (listed) parents were
    read to their end."""
    return [(r["PartitionKey"], r["Data"]) for _, r in read_records_following_lineage(kinesis, name)]


def read_records_following_lineage(kinesis, name: str) -> list[tuple[str, dict]]:
    """Every record as (shard id, record), a shard only after all its (listed) parents were
    read to their end."""
    shards = list_all_shards(kinesis, name)
    listed = {s["ShardId"] for s in shards}
    parents = {s["ShardId"]: [p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId"))
                              if p in listed] for s in shards}
    done: set[str] = set()
    queue = deque(sorted(i for i, ps in parents.items() if not ps))
    out: list[tuple[str, dict]] = []
    while queue:
        shard = queue.popleft()
        if shard in done:
            continue
        done.add(shard)
        it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard,
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(10_000):
            resp = kinesis.get_records(ShardIterator=it, Limit=25)
            out.extend((shard, r) for r in resp["Records"])
            nxt = resp.get("NextShardIterator")
            if nxt is None:
                assert resp["ChildShards"], f"{shard} ended without ChildShards"
                for child in resp["ChildShards"]:
                    if all(p in done for p in parents.get(child["ShardId"], [])):
                        queue.append(child["ShardId"])
                break
            assert "ChildShards" not in resp or not resp["ChildShards"]
            if not resp["Records"]:
                break
            it = nxt
    return out


def put_keys(kinesis, name: str, tag: str, n: int, written: list[tuple[str, bytes]]) -> None:
    for i in range(n):
        key = f"key-{i % 6}"
        data = f"{tag}-{i}".encode()
        kinesis.put_record(StreamName=name, PartitionKey=key, Data=data)
        written.append((key, data))


def by_key(records: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    grouped: dict[str, list[bytes]] = defaultdict(list)
    for key, data in records:
        grouped[key].append(data)
    return dict(grouped)


def test_split_and_merge_keep_every_record_readable_across_lineage(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=2)
    written: list[tuple[str, bytes]] = []
    put_keys(kinesis, stream_name, "a", 30, written)
    (s0, e0), _ = aws_hash_ranges(2)
    mid = s0 + (e0 - s0) // 2
    kinesis.split_shard(StreamName=stream_name, ShardToSplit=sid(0), NewStartingHashKey=str(mid))
    wait_active(kinesis, stream_name)
    put_keys(kinesis, stream_name, "b", 30, written)

    shards = {s["ShardId"]: s for s in kinesis.describe_stream(StreamName=stream_name)
              ["StreamDescription"]["Shards"]}
    assert sorted(shards) == [sid(i) for i in range(4)]
    assert "EndingSequenceNumber" in shards[sid(0)]["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shards[sid(1)]["SequenceNumberRange"]
    assert shards[sid(2)]["ParentShardId"] == sid(0)
    assert shard_range(shards[sid(2)]) == (s0, mid - 1)
    assert shard_range(shards[sid(3)]) == (mid, e0)
    assert int(shards[sid(2)]["SequenceNumberRange"]["StartingSequenceNumber"]) > \
        int(shards[sid(0)]["SequenceNumberRange"]["EndingSequenceNumber"])

    # The upper child of the split and shard 1 are adjacent, in that order.
    kinesis.merge_shards(StreamName=stream_name, ShardToMerge=sid(3), AdjacentShardToMerge=sid(1))
    wait_active(kinesis, stream_name)
    put_keys(kinesis, stream_name, "c", 30, written)
    merged = [s for s in list_all_shards(kinesis, stream_name) if s["ShardId"] == sid(4)][0]
    assert merged["ParentShardId"] == sid(3)
    assert merged["AdjacentParentShardId"] == sid(1)
    assert sorted(open_ids(kinesis, stream_name)) == [sid(2), sid(4)]
    assert_open_shards_tile(list_all_shards(kinesis, stream_name))

    read = read_following_lineage(kinesis, stream_name)
    assert sorted(read) == sorted(written), "every record exactly once"
    assert by_key(read) == by_key(written), "each key's records in write order"

    # GetRecords at the end of a closed shard: no NextShardIterator, ChildShards instead.
    it = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=sid(0),
                                    ShardIteratorType="LATEST")["ShardIterator"]
    resp = kinesis.get_records(ShardIterator=it)
    assert resp["Records"] == []
    assert "NextShardIterator" not in resp
    assert [c["ShardId"] for c in resp["ChildShards"]] == [sid(2), sid(3)]
    assert resp["ChildShards"][0]["ParentShards"] == [sid(0)]
    assert resp["ChildShards"][0]["HashKeyRange"] == {"StartingHashKey": str(s0),
                                                      "EndingHashKey": str(mid - 1)}


def test_update_shard_count_scales_with_aws_lineage(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=4)
    resp = kinesis.update_shard_count(StreamName=stream_name, TargetShardCount=5,
                                      ScalingType="UNIFORM_SCALING")
    assert resp["StreamName"] == stream_name
    assert resp["StreamARN"].endswith(f":{ACCOUNT}:stream/{stream_name}")
    assert (resp["CurrentShardCount"], resp["TargetShardCount"]) == (4, 5)
    wait_active(kinesis, stream_name)
    shards = list_all_shards(kinesis, stream_name)
    assert len(shards) == 15, "AWS: 4 -> 5 leaves 15 shards in all"
    assert len(open_ids(kinesis, stream_name)) == 5
    assert sorted(shard_range(s) for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]) \
        == aws_hash_ranges(5), "4 -> 5 gives the even five-shard layout"

    kinesis.update_shard_count(StreamName=stream_name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    wait_active(kinesis, stream_name)
    assert len(list_all_shards(kinesis, stream_name)) == 17
    assert_open_shards_tile(list_all_shards(kinesis, stream_name))

    with pytest.raises(ClientError) as err:
        kinesis.update_shard_count(StreamName=stream_name, TargetShardCount=7,
                                   ScalingType="UNIFORM_SCALING")
    assert err.value.response["Error"]["Code"] == "LimitExceededException"


def test_list_shards_filters_after_a_split(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=1)
    kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"x")
    before = datetime.now(timezone.utc)
    kinesis.split_shard(StreamName=stream_name, ShardToSplit=sid(0), NewStartingHashKey=str(2**127))
    wait_active(kinesis, stream_name)

    def ids(**filt) -> list[str]:
        return [s["ShardId"] for s in kinesis.list_shards(StreamName=stream_name, ShardFilter=filt)["Shards"]]

    assert ids(Type="AT_LATEST") == [sid(1), sid(2)]
    assert ids(Type="AT_TRIM_HORIZON") == [sid(0)]
    assert ids(Type="FROM_TRIM_HORIZON") == [sid(0), sid(1), sid(2)]
    assert ids(Type="AFTER_SHARD_ID", ShardId=sid(0)) == [sid(1), sid(2)]
    assert ids(Type="AT_TIMESTAMP", Timestamp=before) == [sid(0)]
    assert ids(Type="FROM_TIMESTAMP", Timestamp=before) == [sid(0), sid(1), sid(2)]
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(NextToken="x", ShardFilter={"Type": "AT_LATEST"})
    assert err.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_resharding_errors(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=2)
    with pytest.raises(ClientError) as err:
        kinesis.split_shard(StreamName=stream_name, ShardToSplit=sid(0), NewStartingHashKey="1")
    assert err.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "is not both greater than one plus the shard's StartingHashKey 0" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        kinesis.merge_shards(StreamName=stream_name, ShardToMerge=sid(1), AdjacentShardToMerge=sid(0))
    assert err.value.response["Error"]["Message"] == (
        f"Shards {sid(1)} and {sid(0)} in stream {stream_name} under account {ACCOUNT} are not an "
        "adjacent pair of shards eligible for merging")
    with pytest.raises(ClientError) as err:
        kinesis.split_shard(StreamName=stream_name, ShardToSplit=sid(9), NewStartingHashKey="5")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    kinesis.merge_shards(StreamName=stream_name, ShardToMerge=sid(0), AdjacentShardToMerge=sid(1))
    wait_active(kinesis, stream_name)
    with pytest.raises(ClientError) as err:
        kinesis.merge_shards(StreamName=stream_name, ShardToMerge=sid(0), AdjacentShardToMerge=sid(1))
    assert err.value.response["Error"]["Message"] == (
        f"Shard {sid(0)} in stream {stream_name} under account {ACCOUNT} has already been merged or "
        "split, and thus is not eligible for merging or splitting.")


def test_freshet_tail_follows_a_split_and_a_merge_in_key_order(kinesis, stream_name, endpoint):
    create_stream(kinesis, stream_name, shards=2)
    written: list[tuple[str, bytes]] = []
    put_keys(kinesis, stream_name, "a", 24, written)
    (s0, e0), _ = aws_hash_ranges(2)
    kinesis.split_shard(StreamName=stream_name, ShardToSplit=sid(0), NewStartingHashKey=str(s0 + (e0 - s0) // 2))
    wait_active(kinesis, stream_name)
    put_keys(kinesis, stream_name, "b", 24, written)
    kinesis.merge_shards(StreamName=stream_name, ShardToMerge=sid(3), AdjacentShardToMerge=sid(1))
    wait_active(kinesis, stream_name)
    put_keys(kinesis, stream_name, "c", 24, written)

    env = {**os.environ, "FRESHET_ENDPOINT": endpoint, "AWS_REGION": "us-east-1"}
    out = subprocess.run([str(freshet_bin()), "tail", stream_name, "--no-follow", "--from", "trim-horizon"],
                         capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    lines = [line.split(" ", 3) for line in out.stdout.splitlines()]
    read = [(key, data.encode()) for _shard, _seq, key, data in lines]
    assert sorted(read) == sorted(written)
    assert by_key(read) == by_key(written), "tail prints each key's records in write order"


@pytest.mark.crash
def test_sigkill_while_resharding_under_load_loses_nothing_acknowledged(tmp_path):
    """Producers write while the stream is split and rescaled; the server is SIGKILLed
    mid-way. After a restart the open shards still tile the key space, and a consumer that
    follows lineage reads every acknowledged record once, where it was acknowledged, and each
    producer's records of one key in the order it wrote them."""
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log",
                        extra_env={"FRESHET__KINESIS__UPDATE_DELAY": "10ms"})
    srv.start()
    acked: dict[str, tuple[str, str]] = {}
    order: dict[tuple[int, str], list[str]] = defaultdict(list)
    attempted: set[str] = set()
    errors: list[str] = []
    lock = threading.Lock()
    try:
        client = kinesis_client(srv.endpoint)
        stream = "reshard-crash"
        create_stream(client, stream, shards=2)
        for cycle in range(1, 3):
            stop, killing = threading.Event(), threading.Event()

            def produce(tid: int) -> None:
                c = kinesis_client(srv.endpoint, max_attempts=1, read_timeout=10, connect_timeout=2)
                n = 0
                while not stop.is_set():
                    n += 1
                    key = f"t{tid}-k{n % 4}"
                    rid = f"c{cycle}-t{tid}-n{n}"
                    with lock:
                        attempted.add(rid)
                    try:
                        resp = c.put_record(StreamName=stream, PartitionKey=key,
                                            Data=json.dumps({"id": rid}).encode())
                    except (BotoCoreError, ClientError, OSError) as e:
                        if not killing.is_set():
                            errors.append(repr(e))
                        return
                    with lock:
                        acked[rid] = (resp["ShardId"], resp["SequenceNumber"])
                        order[(tid, key)].append(rid)

            threads = [threading.Thread(target=produce, args=(t,), daemon=True) for t in range(6)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            open_now = sorted((shard_range(s), s["ShardId"]) for s in list_all_shards(client, stream)
                              if "EndingSequenceNumber" not in s["SequenceNumberRange"])
            (start, end), widest = max(open_now, key=lambda x: x[0][1] - x[0][0])
            client.split_shard(StreamName=stream, ShardToSplit=widest,
                               NewStartingHashKey=str(start + (end - start) // 2))
            wait_active(client, stream)
            time.sleep(0.3)
            target = len(open_now) + 1
            # The kill lands while this rescale runs or just after it.
            rescale = threading.Thread(target=lambda: _try_rescale(client, stream, target * 2 - 1),
                                       daemon=True)
            rescale.start()
            time.sleep(random.random() * 0.2)
            killing.set()
            srv.kill()
            stop.set()
            for t in [*threads, rescale]:
                t.join(timeout=30)
            assert not errors, errors[:3]

            srv.start()
            client = kinesis_client(srv.endpoint)
            shards = list_all_shards(client, stream)
            assert_open_shards_tile(shards)
            seen: dict[str, tuple[str, str]] = {}
            read_order: dict[tuple[int, str], list[str]] = defaultdict(list)
            for shard, r in read_records_following_lineage(client, stream):
                rid = json.loads(r["Data"])["id"]
                assert rid not in seen, f"{rid} read twice"
                seen[rid] = (shard, r["SequenceNumber"])
                tid = int(rid.split("-")[1][1:])
                read_order[(tid, r["PartitionKey"])].append(rid)
            missing = [rid for rid in acked if rid not in seen]
            assert not missing, f"cycle {cycle}: {len(missing)} acknowledged records lost: {missing[:5]}"
            moved = [rid for rid in acked if seen[rid] != acked[rid]]
            assert not moved, f"cycle {cycle}: records moved: {moved[:5]}"
            assert not [rid for rid in seen if rid not in attempted]
            for k, rids in order.items():
                got = [rid for rid in read_order[k] if rid in acked]
                assert got == rids, f"cycle {cycle}: {k} read out of order"
            assert len(acked) > 50
    finally:
        srv.kill()


def _try_rescale(client, stream: str, target: int) -> None:
    try:
        client.update_shard_count(StreamName=stream, TargetShardCount=target,
                                  ScalingType="UNIFORM_SCALING")
    except (BotoCoreError, ClientError, OSError):
        pass  # the kill may cut it off
