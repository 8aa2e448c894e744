"""The AWS CLI, unchanged but for --endpoint-url."""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from kutil import ACCOUNT, REGION


def aws_command() -> list[str]:
    """`aws` from PATH, or the awscli package of this interpreter when PATH has none."""
    path = shutil.which("aws")
    return [path] if path else [sys.executable, "-m", "awscli"]


@functools.lru_cache(maxsize=1)
def cli_major_version() -> int:
    out = subprocess.run([*aws_command(), "--version"], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    text = (out.stdout + out.stderr).strip()
    assert text.startswith("aws-cli/"), text
    return int(text.split("/")[1].split(".")[0])


@pytest.fixture(scope="module")
def aws(endpoint, tmp_path_factory):
    home = tmp_path_factory.mktemp("aws-home")
    env = os.environ.copy()
    env.update({
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    })

    def run(*args: str, check: bool = True, service: str = "kinesis"):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "30", service, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        if check:
            assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc

    return run


def test_cli_round_trip(aws, stream_name):
    assert aws("create-stream", "--stream-name", stream_name, "--shard-count", "2") is None

    deadline = time.monotonic() + 30
    while True:
        summary = aws("describe-stream-summary", "--stream-name", stream_name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            break
        assert time.monotonic() < deadline, f"stream stuck in {summary['StreamStatus']}"
        time.sleep(0.2)
    assert summary["OpenShardCount"] == 2
    assert summary["RetentionPeriodHours"] == 24
    assert summary["StreamARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream_name}"

    assert stream_name in aws("list-streams")["StreamNames"]

    payload = "hello from the aws cli ✓"
    binary_format = ["--cli-binary-format", "raw-in-base64-out"] if cli_major_version() >= 2 else []
    put = aws("put-record", "--stream-name", stream_name, "--partition-key", "cli-key",
              "--data", payload, *binary_format)
    assert put["ShardId"] in ("shardId-000000000000", "shardId-000000000001")
    assert len(put["SequenceNumber"]) == 56

    iterator = aws("get-shard-iterator", "--stream-name", stream_name, "--shard-id", put["ShardId"],
                   "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    got = aws("get-records", "--shard-iterator", iterator)
    assert len(got["Records"]) == 1
    rec = got["Records"][0]
    assert base64.b64decode(rec["Data"]).decode("utf-8") == payload
    assert rec["PartitionKey"] == "cli-key"
    assert rec["SequenceNumber"] == put["SequenceNumber"]
    assert got["NextShardIterator"]
    assert got["MillisBehindLatest"] == 0

    iterator = aws("get-shard-iterator", "--stream-name", stream_name, "--shard-id", put["ShardId"],
                   "--shard-iterator-type", "AT_SEQUENCE_NUMBER",
                   "--starting-sequence-number", put["SequenceNumber"])["ShardIterator"]
    assert aws("get-records", "--shard-iterator", iterator, "--limit", "1")["Records"][0]["SequenceNumber"] == put["SequenceNumber"]

    assert aws("delete-stream", "--stream-name", stream_name) is None
    deadline = time.monotonic() + 30
    while True:
        proc = aws("describe-stream-summary", "--stream-name", stream_name, check=False)
        if proc.returncode != 0:
            assert "ResourceNotFoundException" in proc.stderr, proc.stderr
            assert f"Stream {stream_name} under account {ACCOUNT} not found." in proc.stderr, proc.stderr
            break
        assert json.loads(proc.stdout)["StreamDescriptionSummary"]["StreamStatus"] == "DELETING"
        assert time.monotonic() < deadline, "stream was never deleted"
        time.sleep(0.2)
    assert stream_name not in aws("list-streams")["StreamNames"]


def test_a_service_freshet_does_not_serve_says_so(aws):
    """Not a 403 that reads like a credentials problem: the answer names the service."""
    proc = aws("list-tables", check=False, service="dynamodb")
    assert proc.returncode != 0
    assert "NotImplemented" in proc.stderr, proc.stderr
    assert "Freshet does not serve service 'dynamodb'" in proc.stderr, proc.stderr
    assert "It serves: kinesis, sqs, logs, lambda, firehose, s3, glue, monitoring, execute-api." in proc.stderr, proc.stderr


def test_cli_reports_errors(aws):
    proc = aws("describe-stream", "--stream-name", "nope", check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr
    assert "Stream nope under account 000000000000 not found." in proc.stderr
