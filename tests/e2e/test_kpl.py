"""KPL aggregated records across implementations: aggregates built by AWS's own Python
library (`aws-kinesis-agg`) read back through `freshet tail`, and `freshet put --aggregate`
output de-aggregated by that library."""

from __future__ import annotations

import base64
import json
import os
import subprocess

from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

import kutil

# (partition key, explicit hash key, data): keys repeat so the tables deduplicate them.
USER_RECORDS = [
    ("user-1", None, b"first"),
    ("user-2", "42", "zweite ✓".encode()),
    ("user-1", None, b""),
    ("user-3", None, bytes(range(256))),
]


def freshet(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ.copy()
    env["FRESHET_ENDPOINT"] = endpoint
    proc = subprocess.run([str(kutil.freshet_bin()), *args], capture_output=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"freshet {' '.join(args)} failed:\n{proc.stderr.decode()}"
    return proc


def tail_json(endpoint: str, stream: str, *extra: str) -> list[dict]:
    out = freshet(endpoint, "tail", stream, "--no-follow", "--from", "trim-horizon",
                  "--format", "json", *extra).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def test_tail_splits_an_aws_kinesis_agg_aggregate(kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    agg = RecordAggregator()
    for pk, ehk, data in USER_RECORDS:
        assert agg.add_user_record(pk, data, explicit_hash_key=ehk) is None
    outer_pk, outer_ehk, blob = agg.clear_and_get().get_contents()
    hash_key = {"ExplicitHashKey": outer_ehk} if outer_ehk else {}
    put = kinesis.put_record(StreamName=stream_name, PartitionKey=outer_pk, Data=blob, **hash_key)
    kinesis.put_record(StreamName=stream_name, PartitionKey="plain", Data=b"not aggregated")

    lines = tail_json(endpoint, stream_name)
    assert len(lines) == len(USER_RECORDS) + 1, lines
    for sub, ((pk, ehk, data), line) in enumerate(zip(USER_RECORDS, lines)):
        assert line["sequenceNumber"] == put["SequenceNumber"]
        assert line["subSequenceNumber"] == sub
        assert line["partitionKey"] == pk
        assert line.get("explicitHashKey") == ehk
        assert base64.b64decode(line["data"]) == data
    plain = lines[-1]
    assert "subSequenceNumber" not in plain
    assert base64.b64decode(plain["data"]) == b"not aggregated"

    raw = tail_json(endpoint, stream_name, "--no-deaggregate")
    assert len(raw) == 2
    assert base64.b64decode(raw[0]["data"]) == blob


def test_freshet_put_aggregate_is_read_by_aws_kinesis_agg(kinesis, endpoint, stream_name,
                                                          tmp_path):
    kutil.create_stream(kinesis, stream_name, 1)
    lines = [json.dumps({"user": f"u{i}", "n": i}) for i in range(50)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = freshet(endpoint, "put", stream_name, str(path), "--aggregate", "--key-field", "user")
    assert b"sent 1 records, 0 failed" in out.stdout, out.stdout

    shard = kutil.list_all_shards(kinesis, stream_name)[0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=it)["Records"]
    assert len(records) == 1
    users = list(iter_deaggregate_records(records, data_format="Boto3"))
    assert [u["kinesis"]["partitionKey"] for u in users] == [f"u{i}" for i in range(50)]
    assert [base64.b64decode(u["kinesis"]["data"]).decode() for u in users] == lines
