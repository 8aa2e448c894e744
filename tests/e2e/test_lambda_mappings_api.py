"""Event source mappings against the real binary, continued: Enabled and State transitions with
LastProcessingResult, an SQS queue as the source (ReportBatchItemFailures by messageId, a
failed message coming back after its visibility timeout, the batching window), and the five
mapping commands of the AWS CLI with their JSON output. Invocations are read back from the
function's CloudWatch Logs, as in `test_lambda_mappings.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time

import pytest
from esm import (calls, create_mapping, deploy_fn, new_queue, new_stream, payloads, put, wait_for,
                 wait_state)
from test_cli import aws_command
# The clients are the module-scoped fixtures of test_lambda_mappings (pytest uses imported ones).
from test_lambda_mappings import PY_KINESIS, kin, lam, logs, order, sqs  # noqa: F401

from kutil import REGION

# AWS's SQS example with partial batch responses (Python); a message saying "poison" fails
# the first time it is received.
PY_SQS = '''
import json


def lambda_handler(event, context):
    print("Received event: " + json.dumps(event))
    if event:
        batch_item_failures = []
        sqs_batch_response = {}

        for record in event["Records"]:
            try:
                process_message(record)
            except Exception as e:
                batch_item_failures.append({"itemIdentifier": record['messageId']})

        sqs_batch_response["batchItemFailures"] = batch_item_failures
        print("Returning " + json.dumps(sqs_batch_response))
        return sqs_batch_response


def process_message(record):
    print(f"Processed message {record['body']}")
    if record["body"] == "poison" and record["attributes"]["ApproximateReceiveCount"] == "1":
        raise ValueError("poison message")
'''


def delivered(logs, fn: str, n: int) -> list[int]:
    """Waits until `n` records reached `fn` successfully; returns their `i`s in order."""
    def enough():
        got = [p["i"] for p in payloads(calls(logs, fn))]
        return got if len(got) >= n else None

    return wait_for(enough, f"{n} records processed by {fn}")


def test_disable_and_enable_stop_and_resume_where_the_mapping_stopped(kin, lam, logs):
    name, arn = new_stream(kin, "states")
    fn = deploy_fn(lam, "states", {"lambda_function.py": PY_KINESIS})
    created = create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=10)
    uuid = created["UUID"]
    assert (created["State"], created["LastProcessingResult"]) == (
        "Creating", "No records processed")
    put(kin, name, [("k", order(i)) for i in range(3)])
    assert delivered(logs, fn, 3) == [0, 1, 2]
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK",
             "LastProcessingResult OK")

    updating = lam.update_event_source_mapping(UUID=uuid, BatchSize=5)
    assert (updating["State"], updating["BatchSize"]) == ("Updating", 5)
    assert wait_state(lam, uuid, "Enabled")["BatchSize"] == 5

    disabling = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert (disabling["State"], disabling["StateTransitionReason"]) == (
        "Disabling", "User action")
    wait_state(lam, uuid, "Disabled")
    put(kin, name, [("k", order(i)) for i in range(3, 8)])
    # Nothing runs while disabled; a short look is all a negative can have.
    time.sleep(1)
    assert [p["i"] for p in payloads(calls(logs, fn))] == [0, 1, 2]

    enabling = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert enabling["State"] == "Enabling"
    wait_state(lam, uuid, "Enabled")
    assert delivered(logs, fn, 8) == list(range(8)), "resumed where it stopped, nothing skipped"
    # BatchSize 5 holds after the restart.
    assert all(len(c.records) <= 5 for c in calls(logs, fn)[1:])

    deleting = lam.delete_event_source_mapping(UUID=uuid)
    assert deleting["State"] == "Deleting"

    def gone():
        try:
            lam.get_event_source_mapping(UUID=uuid)
            return False
        except lam.exceptions.ResourceNotFoundException:
            return True

    wait_for(gone, "the mapping to be deleted")
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []


def test_a_mapping_created_disabled_reads_nothing_until_enabled(kin, lam, logs):
    name, arn = new_stream(kin, "created-off")
    fn = deploy_fn(lam, "created-off", {"lambda_function.py": PY_KINESIS})
    created = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn,
                                              StartingPosition="TRIM_HORIZON", Enabled=False)
    assert created["State"] == "Creating"
    wait_state(lam, created["UUID"], "Disabled")
    put(kin, name, [("k", order(i)) for i in range(3)])
    time.sleep(1)
    assert calls(logs, fn) == []
    lam.update_event_source_mapping(UUID=created["UUID"], Enabled=True)
    assert delivered(logs, fn, 3) == [0, 1, 2]


def test_a_queue_mapping_deletes_processed_messages_and_gets_failed_ones_again(lam, logs, sqs):
    url, arn = new_queue(sqs, "esm-src", VisibilityTimeout="2")
    fn = deploy_fn(lam, "sqs", {"lambda_function.py": PY_SQS})
    created = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=10, MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"])
    assert (created["State"], created["StateTransitionReason"]) == ("Creating", "USER_INITIATED")
    assert "StartingPosition" not in created and "LastProcessingResult" not in created
    wait_state(lam, created["UUID"], "Enabled")
    bodies = ["m0", "m1", "poison", "m3", "m4"]
    ids = {sqs.send_message(QueueUrl=url, MessageBody=b)["MessageId"]: b for b in bodies}

    def seen():
        recs = [(r["body"], r["attributes"]["ApproximateReceiveCount"])
                for c in calls(logs, fn) for r in c.records]
        return recs if ("poison", "2") in recs else None

    recs = wait_for(seen, "the failed message to come back")
    assert sorted(recs) == sorted([(b, "1") for b in bodies] + [("poison", "2")])
    first_round = [c for c in calls(logs, fn)
                   if any(r["attributes"]["ApproximateReceiveCount"] == "1" for r in c.records)]
    assert len(first_round) < len(bodies), "the batching window gathers messages sent one by one"

    r = calls(logs, fn)[0].records[0]
    assert set(r) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                      "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"}
    assert ids[r["messageId"]] == r["body"]
    assert r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest()
    assert (r["eventSource"], r["eventSourceARN"], r["awsRegion"]) == ("aws:sqs", arn, REGION)
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
            "ApproximateFirstReceiveTimestamp"} <= set(r["attributes"])

    def empty():
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return a["ApproximateNumberOfMessages"] == "0" == a["ApproximateNumberOfMessagesNotVisible"]

    wait_for(empty, "every message deleted")


def test_the_cli_creates_lists_gets_updates_and_deletes_a_mapping(
        endpoint, kin, lam, logs, sqs, tmp_path):
    name, arn = new_stream(kin, "cli")
    _, dlq_arn = new_queue(sqs, "cli-dlq")
    fn = deploy_fn(lam, "cli", {"lambda_function.py": PY_KINESIS})
    env = os.environ.copy()
    env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "",
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")})

    def aws(*args, check=True):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json", "lambda", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        if not check:
            return proc
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stderr}"
        return json.loads(proc.stdout)

    pattern = json.dumps({"data": {"kind": ["order"]}})
    created = aws(
        "create-event-source-mapping", "--function-name", fn, "--event-source-arn", arn,
        "--starting-position", "TRIM_HORIZON", "--batch-size", "5",
        "--maximum-batching-window-in-seconds", "1", "--parallelization-factor", "2",
        "--maximum-retry-attempts", "3", "--maximum-record-age-in-seconds", "3600",
        "--bisect-batch-on-function-error", "--function-response-types",
        "ReportBatchItemFailures",
        "--destination-config", json.dumps({"OnFailure": {"Destination": dlq_arn}}),
        "--filter-criteria", json.dumps({"Filters": [{"Pattern": pattern}]}))
    uuid = created["UUID"]
    assert created["State"] == "Creating"
    assert {k: created[k] for k in (
        "BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
        "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
        "FunctionResponseTypes", "DestinationConfig", "FilterCriteria", "StartingPosition",
        "EventSourceArn")} == {
        "BatchSize": 5, "MaximumBatchingWindowInSeconds": 1, "ParallelizationFactor": 2,
        "MaximumRetryAttempts": 3, "MaximumRecordAgeInSeconds": 3600,
        "BisectBatchOnFunctionError": True, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": dlq_arn}},
        "FilterCriteria": {"Filters": [{"Pattern": pattern}]}, "StartingPosition": "TRIM_HORIZON",
        "EventSourceArn": arn}
    assert created["FunctionArn"].endswith(f":function:{fn}")
    by_fn = aws("list-event-source-mappings", "--function-name", fn)["EventSourceMappings"]
    by_arn = aws("list-event-source-mappings", "--event-source-arn", arn)["EventSourceMappings"]
    assert [m["UUID"] for m in by_fn] == [m["UUID"] for m in by_arn] == [uuid]
    wait_state(lam, uuid, "Enabled")
    got = aws("get-event-source-mapping", "--uuid", uuid)
    assert (got["UUID"], got["State"], got["BatchSize"]) == (uuid, "Enabled", 5)

    put(kin, name, [("k", order(0, kind="order")), ("k", order(1, kind="refund")),
                    ("k", order(2, kind="order"))])
    assert delivered(logs, fn, 2) == [0, 2]

    updated = aws("update-event-source-mapping", "--uuid", uuid, "--batch-size", "7",
                  "--no-enabled")
    assert (updated["State"], updated["BatchSize"]) == ("Disabling", 7)
    wait_state(lam, uuid, "Disabled")
    deleted = aws("delete-event-source-mapping", "--uuid", uuid)
    assert (deleted["UUID"], deleted["State"]) == (uuid, "Deleting")

    def gone():
        proc = aws("get-event-source-mapping", "--uuid", uuid, check=False)
        return proc.returncode != 0 and "ResourceNotFoundException" in proc.stderr

    wait_for(gone, "get-event-source-mapping to answer ResourceNotFoundException", every=0.2)
