"""Per-shard quotas (`freshet serve --shard-quotas`) as boto3 sees them: PutRecords entries
over a hot shard's burst fail alone with ProvisionedThroughputExceededException, and a
throttled PutRecord raises the modelled exception. Burst arithmetic only, no timing."""

from __future__ import annotations

import pytest

import kutil

PTE = "ProvisionedThroughputExceededException"


@pytest.fixture(scope="module")
def quota_endpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshet-quotas")
    srv = kutil.FreshetServer(root / "data", root / "server.log", extra_args=["--shard-quotas"])
    srv.start()
    yield srv.endpoint
    srv.stop()


def test_boto3_sees_throttled_entries_and_calls(quota_endpoint, stream_name):
    client = kutil.kinesis_client(quota_endpoint, max_attempts=1)
    kutil.create_stream(client, stream_name, 1)
    # 500 × (4,000 + 3) bytes is twice the shard's 1 MiB burst: 261 fit, 239 are refused.
    out = client.put_records(StreamName=stream_name,
                             Records=[{"PartitionKey": "hot", "Data": b"x" * 4000}] * 500)
    ok = [r for r in out["Records"] if "ErrorCode" not in r]
    failed = [r for r in out["Records"] if "ErrorCode" in r]
    assert 261 <= len(ok) <= 262
    assert out["FailedRecordCount"] == len(failed) == 500 - len(ok)
    message = (f"Rate exceeded for shard shardId-000000000000 in stream {stream_name} "
               f"under account {kutil.ACCOUNT}.")
    assert {(r["ErrorCode"], r["ErrorMessage"]) for r in failed} == {(PTE, message)}
    assert out["Records"][:len(ok)] == ok, "the refused entries are the last ones"

    # A 10 MiB record goes through a full shard and leaves nine seconds of write debt, so the
    # next PutRecord is refused however slowly this test runs.
    big = f"{stream_name}-big"
    kutil.create_stream(client, big, 1, MaxRecordSizeInKiB=10240)
    client.put_record(StreamName=big, PartitionKey="hot", Data=b"y" * (10 * 1024 * 1024 - 3))
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as e:
        client.put_record(StreamName=big, PartitionKey="hot", Data=b"z")
    assert e.value.response["Error"]["Message"] == message.replace(stream_name, big)
