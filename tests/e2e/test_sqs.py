"""SQS through boto3 and the AWS CLI v1, unchanged but for the endpoint URL."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config

from kutil import ACCOUNT, REGION, unique
from test_cli import aws_command


@pytest.fixture(scope="module")
def sqs(endpoint):
    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5),
    )


@pytest.fixture(scope="module")
def aws_sqs(endpoint, tmp_path_factory):
    home = tmp_path_factory.mktemp("aws-home-sqs")
    env = os.environ.copy()
    env.update({
        "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_PAGER": "",
    })

    def run(*args: str, check: bool = True):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "30", "sqs", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        if check:
            assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc

    return run


def md5_of_attributes(attrs: dict) -> str:
    """MD5OfMessageAttributes as AWS documents it (sqs-message-metadata)."""
    buf = b""
    for name in sorted(attrs):
        value = attrs[name]
        data_type = value["DataType"]
        buf += struct.pack("!I", len(name.encode())) + name.encode()
        buf += struct.pack("!I", len(data_type.encode())) + data_type.encode()
        if data_type.startswith("Binary"):
            raw = value["BinaryValue"]
            buf += b"\x02" + struct.pack("!I", len(raw)) + raw
        else:
            raw = value["StringValue"].encode()
            buf += b"\x01" + struct.pack("!I", len(raw)) + raw
    return hashlib.md5(buf).hexdigest()


def test_boto3_round_trip_with_attributes_and_md5s(sqs, endpoint):
    name = unique("orders")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{endpoint}/{ACCOUNT}/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    attrs = {
        "s": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number.float", "StringValue": "1.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="hi", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hi").hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"])["Messages"]
    assert len(got) == 1
    m = got[0]
    assert m["Body"] == "hi" and m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.delete_queue(QueueUrl=url)


def test_boto3_errors_are_the_modeled_exceptions(sqs, endpoint):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=unique("missing"))
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    name = unique("batch")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"},
                                                      {"Id": "a", "MessageBody": "2"}])
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})


def test_boto3_batches_fifo_and_paginators(sqs):
    url = sqs.create_queue(QueueName=unique("f") + ".fifo",
                           Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": f"e{i}", "MessageBody": f"m{i}", "MessageGroupId": "g"} for i in range(10)])
    assert len(out["Successful"]) == 10 and not out.get("Failed")
    dup = sqs.send_message(QueueUrl=url, MessageBody="m0", MessageGroupId="g")
    assert dup["MessageId"] == out["Successful"][0]["MessageId"]
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    assert bodies == [f"m{i}" for i in range(10)]
    prefix = unique("page")
    for i in range(5):
        sqs.create_queue(QueueName=f"{prefix}-{i}")
    pages = list(sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix,
                                                         PaginationConfig={"PageSize": 2}))
    assert [len(p["QueueUrls"]) for p in pages] == [2, 2, 1]


def test_boto3_long_poll_returns_when_a_message_arrives(sqs):
    url = sqs.create_queue(QueueName=unique("long"))["QueueUrl"]
    result = {}

    def poll():
        started = time.monotonic()
        result["r"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        result["elapsed"] = time.monotonic() - started

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    t.join(timeout=60)
    assert [m["Body"] for m in result["r"]["Messages"]] == ["wake"]
    # Not a speed limit: only that the poll did not sit out its whole wait.
    assert result["elapsed"] < 19


def test_boto3_dead_letter_queue_and_redrive(sqs):
    dlq_url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.create_queue(QueueName=unique("src"), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}),
        "VisibilityTimeout": "0",
    })["QueueUrl"]
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    assert len(sqs.receive_message(QueueUrl=src)["Messages"]) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=src)  # moved instead
    moved = sqs.receive_message(QueueUrl=dlq_url, MessageSystemAttributeNames=["All"],
                                VisibilityTimeout=0)["Messages"]
    assert moved[0]["Body"] == "poison"
    assert moved[0]["Attributes"]["DeadLetterQueueSourceArn"].endswith(src.rsplit("/", 1)[1])
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [src]
    sqs.start_message_move_task(SourceArn=dlq_arn)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if task["Status"] == "COMPLETED":
            break
        time.sleep(0.1)
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 1
    back = sqs.receive_message(QueueUrl=src)["Messages"]
    assert back[0]["Body"] == "poison"


def test_cli_v1_commands(aws_sqs, endpoint):
    name = unique("cli")
    url = aws_sqs("create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=45")["QueueUrl"]
    assert url == f"{endpoint}/{ACCOUNT}/{name}"
    sent = aws_sqs("send-message", "--queue-url", url, "--message-body", "from the cli",
                   "--message-attributes", '{"k":{"DataType":"String","StringValue":"v"}}')
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"from the cli").hexdigest()
    attrs = aws_sqs("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attrs["VisibilityTimeout"] == "45" and attrs["ApproximateNumberOfMessages"] == "1"
    got = aws_sqs("receive-message", "--queue-url", url, "--message-attribute-names", "All",
                  "--attribute-names", "All")["Messages"]
    assert got[0]["Body"] == "from the cli"
    assert got[0]["MessageAttributes"]["k"]["StringValue"] == "v"
    aws_sqs("change-message-visibility", "--queue-url", url, "--receipt-handle",
            got[0]["ReceiptHandle"], "--visibility-timeout", "0")
    again = aws_sqs("receive-message", "--queue-url", url)["Messages"]
    aws_sqs("delete-message", "--queue-url", url, "--receipt-handle", again[0]["ReceiptHandle"])
    assert aws_sqs("receive-message", "--queue-url", url) is None
    listed = aws_sqs("list-queues", "--queue-name-prefix", name)
    assert listed["QueueUrls"] == [url]
    aws_sqs("tag-queue", "--queue-url", url, "--tags", "team=a")
    assert aws_sqs("list-queue-tags", "--queue-url", url)["Tags"] == {"team": "a"}
    aws_sqs("purge-queue", "--queue-url", url)
    aws_sqs("delete-queue", "--queue-url", url)
    proc = aws_sqs("get-queue-url", "--queue-name", name, check=False)
    assert proc.returncode != 0
    assert "NonExistentQueue" in proc.stderr or "QueueDoesNotExist" in proc.stderr, proc.stderr
