"""Writes and reads with boto3: routing, ordering, every iterator type, GetRecords paging."""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from kutil import (
    assert_strictly_increasing,
    aws_hash_ranges,
    create_stream,
    drain,
    hash_of,
    list_all_shards,
    read_shard,
    seqs,
    shard_iterator,
    shard_range,
)

SEQ_RE = re.compile(r"^\d{56}$")


def make_records(n: int, distinct_keys: int) -> list[tuple[bytes, str]]:
    """n (data, key) pairs, every pair unique, over `distinct_keys` partition keys that include
    non-ASCII ones; one record has empty data and one carries every byte value."""
    rng = random.Random(20131202)
    keys = [f"user-{j}" for j in range(distinct_keys - 4)] + ["ключ-1", "键-2", "🔑-3", "k" * 256]
    records = []
    for i in range(n):
        key = keys[i % len(keys)]
        data = f"record-{i}-".encode() + rng.randbytes(rng.randint(0, 64))
        records.append((data, key))
    records[7] = (b"", "empty-data-key")
    records[8] = (bytes(range(256)) * 4 + b"-8", keys[8])
    return records


def test_ten_thousand_records_round_trip_in_order(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=4)
    desc = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert desc["StreamStatus"] == "ACTIVE"
    shards = desc["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-{i:012d}" for i in range(4)]
    assert [shard_range(s) for s in shards] == aws_hash_ranges(4)
    for s in shards:
        assert SEQ_RE.match(s["SequenceNumberRange"]["StartingSequenceNumber"]), s
        assert "EndingSequenceNumber" not in s["SequenceNumberRange"], "open shards have no end"

    def shard_of(key: str) -> str:
        h = hash_of(key)
        matches = [s["ShardId"] for s in shards if shard_range(s)[0] <= h <= shard_range(s)[1]]
        assert len(matches) == 1, (key, matches)
        return matches[0]

    sent = make_records(10_000, distinct_keys=1_200)
    assert len({k for _, k in sent}) >= 1_000
    acked: dict[tuple[bytes, str], tuple[str, str]] = {}  # (data, key) -> (shard id, seq)

    bulk, singles = sent[:9_900], sent[9_900:]
    for start in range(0, len(bulk), 500):
        batch = bulk[start:start + 500]
        resp = kinesis.put_records(
            StreamName=stream_name,
            Records=[{"Data": d, "PartitionKey": k} for d, k in batch],
        )
        assert resp["FailedRecordCount"] == 0, resp
        assert len(resp["Records"]) == len(batch)
        for (d, k), entry in zip(batch, resp["Records"]):
            assert "ErrorCode" not in entry, entry
            assert SEQ_RE.match(entry["SequenceNumber"]), entry
            assert entry["ShardId"] == shard_of(k), (k, entry)
            acked[(d, k)] = (entry["ShardId"], entry["SequenceNumber"])
    for d, k in singles:
        resp = kinesis.put_record(StreamName=stream_name, Data=d, PartitionKey=k)
        assert SEQ_RE.match(resp["SequenceNumber"]), resp
        assert resp["ShardId"] == shard_of(k), (k, resp)
        acked[(d, k)] = (resp["ShardId"], resp["SequenceNumber"])
    assert len(acked) == 10_000
    all_seqs = [s for _, s in acked.values()]
    assert len(set(all_seqs)) == len(all_seqs), "sequence numbers must be unique in the stream"

    received: Counter = Counter()
    for shard in shards:
        sid = shard["ShardId"]
        lo, hi = shard_range(shard)
        records = read_shard(kinesis, stream_name, sid)
        assert records, f"{sid} got no records from 1,200 keys"
        assert_strictly_increasing(seqs(records), f"sequence numbers in {sid}")
        for r in records:
            key, data = r["PartitionKey"], r["Data"]
            assert lo <= hash_of(key) <= hi, f"key {key!r} read from {sid} hashes outside it"
            assert acked.get((data, key)) == (sid, r["SequenceNumber"]), (
                f"record {data[:20]!r}/{key!r} read from {sid} at {r['SequenceNumber']} "
                f"but acknowledged as {acked.get((data, key))}")
            assert isinstance(r["ApproximateArrivalTimestamp"], datetime)
            received[(data, key)] += 1
    assert received == Counter(sent), (
        f"missing {len(set(sent) - set(received))}, unexpected {len(set(received) - set(sent))}, "
        f"duplicated {sum(1 for c in received.values() if c > 1)}")


def test_explicit_hash_key_overrides_partition_key(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=4)
    ranges = aws_hash_ranges(4)
    for i, (lo, hi) in enumerate(ranges):
        for ehk in (lo, hi):
            resp = kinesis.put_record(StreamName=stream_name, Data=b"x", PartitionKey="same-key",
                                      ExplicitHashKey=str(ehk))
            assert resp["ShardId"] == f"shardId-{i:012d}", (ehk, resp)
    resp = kinesis.put_records(StreamName=stream_name, Records=[
        {"Data": b"y", "PartitionKey": "same-key", "ExplicitHashKey": str(ranges[3][0])},
        {"Data": b"z", "PartitionKey": "same-key", "ExplicitHashKey": "0"},
    ])
    assert [r["ShardId"] for r in resp["Records"]] == ["shardId-000000000003", "shardId-000000000000"]


def put_one(kinesis, name: str, data: bytes, key: str = "pk") -> str:
    return kinesis.put_record(StreamName=name, Data=data, PartitionKey=key)["SequenceNumber"]


def datas(records: list[dict]) -> list[bytes]:
    return [r["Data"] for r in records]


def test_every_iterator_type(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=1)
    sid = "shardId-000000000000"
    first = [f"a{i}".encode() for i in range(5)]
    s = [put_one(kinesis, stream_name, d) for d in first]
    assert_strictly_increasing([int(x) for x in s])

    # TRIM_HORIZON: everything, oldest first.
    assert datas(read_shard(kinesis, stream_name, sid, "TRIM_HORIZON")) == first

    # AT_SEQUENCE_NUMBER: starts with that very record.
    recs = read_shard(kinesis, stream_name, sid, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=s[2])
    assert recs[0]["SequenceNumber"] == s[2]
    assert datas(recs) == first[2:]

    # AFTER_SEQUENCE_NUMBER: starts with the next one; after the last there is nothing yet.
    recs = read_shard(kinesis, stream_name, sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=s[2])
    assert recs[0]["SequenceNumber"] == s[3]
    assert datas(recs) == first[3:]
    assert read_shard(kinesis, stream_name, sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=s[4]) == []

    # LATEST: only what is put after the iterator was taken.
    latest = shard_iterator(kinesis, stream_name, sid, "LATEST")
    resp = kinesis.get_records(ShardIterator=latest)
    assert resp["Records"] == []
    later = [b"l0", b"l1"]
    for d in later:
        put_one(kinesis, stream_name, d)
    recs, _ = drain(kinesis, resp["NextShardIterator"])
    assert datas(recs) == later
    # An iterator names a position, so the first LATEST iterator reads the same records.
    recs, _ = drain(kinesis, latest)
    assert datas(recs) == later

    # AT_TIMESTAMP. botocore sends whole seconds, so the cut is a whole second that lies
    # strictly after the earlier puts and before the later ones.
    cut = math.floor(time.time()) + 1
    while time.time() < cut + 0.25:
        time.sleep(0.05)
    after = [b"t0", b"t1", b"t2"]
    for d in after:
        put_one(kinesis, stream_name, d)
    cut_dt = datetime.fromtimestamp(cut, tz=timezone.utc)
    recs = read_shard(kinesis, stream_name, sid, "AT_TIMESTAMP", Timestamp=cut_dt)
    assert datas(recs) == after
    for r in recs:
        assert r["ApproximateArrivalTimestamp"] >= cut_dt, r
    before = read_shard(kinesis, stream_name, sid, "TRIM_HORIZON")
    for r in before[:len(first) + len(later)]:
        assert r["ApproximateArrivalTimestamp"] < cut_dt, r

    # A timestamp before every record reads from the trim horizon.
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    recs = read_shard(kinesis, stream_name, sid, "AT_TIMESTAMP", Timestamp=old)
    assert datas(recs) == first + later + after

    # A timestamp in the future is refused.
    with pytest.raises(ClientError) as err:
        kinesis.get_shard_iterator(StreamName=stream_name, ShardId=sid, ShardIteratorType="AT_TIMESTAMP",
                                   Timestamp=datetime.now(timezone.utc) + timedelta(hours=1))
    e = err.value.response
    assert e["Error"]["Code"] == "InvalidArgumentException"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e["Error"]["Message"].startswith(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
        "timestampInMillis: "), e["Error"]["Message"]

    # StreamARN addresses the same stream.
    arn = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamARN"]
    it = kinesis.get_shard_iterator(StreamARN=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs, _ = drain(kinesis, it)
    assert datas(recs) == first + later + after


def test_get_records_limit_millis_behind_and_fresh_iterators(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=1)
    sid = "shardId-000000000000"
    early = [f"e{i}".encode() for i in range(10)]
    resp = kinesis.put_records(StreamName=stream_name,
                               Records=[{"Data": d, "PartitionKey": "p"} for d in early])
    assert resp["FailedRecordCount"] == 0
    time.sleep(1.5)
    put_one(kinesis, stream_name, b"tip")

    seen_iterators = []
    it = shard_iterator(kinesis, stream_name, sid, "TRIM_HORIZON")
    seen_iterators.append(it)

    r1 = kinesis.get_records(ShardIterator=it, Limit=3)
    assert datas(r1["Records"]) == early[:3]
    # The consumer is 1.5 s of records behind the tip of the shard.
    assert r1["MillisBehindLatest"] >= 1000, r1["MillisBehindLatest"]
    assert r1["NextShardIterator"] not in seen_iterators
    seen_iterators.append(r1["NextShardIterator"])

    r2 = kinesis.get_records(ShardIterator=r1["NextShardIterator"], Limit=3)
    assert datas(r2["Records"]) == early[3:6]
    assert r2["MillisBehindLatest"] >= 1000, r2["MillisBehindLatest"]
    assert r2["NextShardIterator"] not in seen_iterators
    seen_iterators.append(r2["NextShardIterator"])

    r3 = kinesis.get_records(ShardIterator=r2["NextShardIterator"], Limit=10_000)
    assert datas(r3["Records"]) == early[6:] + [b"tip"]
    assert r3["MillisBehindLatest"] == 0, "caught up"
    it = r3["NextShardIterator"]
    assert it not in seen_iterators
    seen_iterators.append(it)

    # At the tip: no records, still caught up, and a new iterator every time.
    for _ in range(3):
        r = kinesis.get_records(ShardIterator=it)
        assert r["Records"] == []
        assert r["MillisBehindLatest"] == 0
        assert r["NextShardIterator"] not in seen_iterators
        seen_iterators.append(r["NextShardIterator"])
        it = r["NextShardIterator"]

    # Each one of those fresh iterators still reads what comes next.
    put_one(kinesis, stream_name, b"next")
    assert datas(kinesis.get_records(ShardIterator=it)["Records"]) == [b"next"]

    # Limit=1 walks the shard one record at a time.
    it = shard_iterator(kinesis, stream_name, sid, "TRIM_HORIZON")
    walked = []
    for _ in range(20):
        r = kinesis.get_records(ShardIterator=it, Limit=1)
        assert len(r["Records"]) <= 1
        walked += datas(r["Records"])
        it = r["NextShardIterator"]
        if not r["Records"] and r["MillisBehindLatest"] == 0:
            break
    assert walked == early + [b"tip", b"next"]


def test_iterator_wrapped_in_quotes_is_accepted(kinesis, stream_name):
    """AWS accepts a shard iterator wrapped in literal double quotes."""
    create_stream(kinesis, stream_name, shards=1)
    put_one(kinesis, stream_name, b"quoted")
    it = shard_iterator(kinesis, stream_name, "shardId-000000000000")
    assert datas(kinesis.get_records(ShardIterator=f'"{it}"')["Records"]) == [b"quoted"]


def test_put_records_then_read_with_stream_arn(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=2)
    arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/{stream_name}"
    resp = kinesis.put_records(StreamARN=arn, Records=[{"Data": b"a", "PartitionKey": "1"},
                                                        {"Data": b"b", "PartitionKey": "2"}])
    assert resp["FailedRecordCount"] == 0
    got = []
    for shard in list_all_shards(kinesis, stream_name):
        got += datas(read_shard(kinesis, stream_name, shard["ShardId"]))
    assert sorted(got) == [b"a", b"b"]


def test_sequence_number_for_ordering(kinesis, stream_name):
    create_stream(kinesis, stream_name, shards=2)
    prev = kinesis.put_record(StreamName=stream_name, Data=b"0", PartitionKey="ordered")["SequenceNumber"]
    for i in range(1, 20):
        resp = kinesis.put_record(StreamName=stream_name, Data=str(i).encode(), PartitionKey="ordered",
                                  SequenceNumberForOrdering=prev)
        assert int(resp["SequenceNumber"]) > int(prev)
        prev = resp["SequenceNumber"]
