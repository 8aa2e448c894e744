"""Firehose data transformation with a Lambda processor, against the real binary: Python
handlers written as AWS's `kinesis-firehose-process-record-python` blueprint writes them,
results Ok / Dropped / ProcessingFailed, a handler that raises, and the `processing-failed`
documents AWS writes under the ErrorOutputPrefix.

Sources: https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html (event and
response), .../data-transformation-failure-handling.html (retries, processing-failed format).
"""

from __future__ import annotations

import json
import time

import pytest

from fhutil import (ERROR_PREFIX, ROLE_ARN, as_int, assert_epoch_ms_between, b64decode, client,
                    create_stream, error_documents, list_keys, new_bucket, objects_under, poll, put_all,
                    s3_destination, wait_active, wait_for_lines)
from kutil import ACCOUNT, REGION, unique
from test_lambda import deploy, lambda_client

# The kinesis-firehose-process-record-python blueprint, with its "custom processing" filled in
# (upper-case the payload).
BLUEPRINT = '''
from __future__ import print_function

import base64

print('Loading function')


def lambda_handler(event, context):
    output = []

    for record in event['records']:
        print(record['recordId'])
        payload = base64.b64decode(record['data']).decode('utf-8')

        # Do custom processing on the payload here
        payload = payload.upper()

        output_record = {
            'recordId': record['recordId'],
            'result': 'Ok',
            'data': base64.b64encode(payload.encode('utf-8')).decode('utf-8')
        }
        output.append(output_record)

    print('Successfully processed {} records.'.format(len(event['records'])))

    return {'records': output}
'''

# The same blueprint deciding per record: keep (transformed), drop, or fail. It also writes
# the event's envelope to a file so the test can check the contract Firehose sends.
FILTERING = '''
import base64
import json
import os


def lambda_handler(event, context):
    with open(os.environ["EVENTS"], "a") as f:
        f.write(json.dumps({k: v for k, v in event.items() if k != "records"}
                           | {"records": [{k: v for k, v in r.items() if k != "data"}
                                          for r in event["records"]]}) + "\\n")
    output = []
    for record in event['records']:
        payload = json.loads(base64.b64decode(record['data']))
        if payload['action'] == 'drop':
            result = 'Dropped'
        elif payload['action'] == 'fail':
            result = 'ProcessingFailed'
        else:
            result = 'Ok'
        payload['processed'] = True
        output.append({
            'recordId': record['recordId'],
            'result': result,
            'data': base64.b64encode((json.dumps(payload) + "\\n").encode('utf-8')).decode('utf-8'),
        })
    return {'records': output}
'''

# A handler that raises: every invocation is a function error. Each call writes the payloads
# it saw to a file first, so the test can count attempts per record.
RAISING = '''
import base64
import os


def lambda_handler(event, context):
    with open(os.environ["CALLS"], "a") as f:
        for record in event['records']:
            f.write(base64.b64decode(record['data']).decode('utf-8').strip() + "\\n")
    raise RuntimeError("the transform is broken")
'''


@pytest.fixture(scope="module")
def firehose(endpoint):
    return client("firehose", endpoint)


@pytest.fixture(scope="module")
def s3(endpoint):
    return client("s3", endpoint)


@pytest.fixture(scope="module")
def lam(endpoint):
    return lambda_client(endpoint)


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def lambda_processing(arn: str, retries: int = 1) -> dict:
    return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": arn},
        {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
        {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
        {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"},
    ]}]}


def assert_processing_failed_document(doc: dict, raw: bytes, lambda_name: str, start: float,
                                      end: float) -> None:
    """The documented processing-failed document for `raw`, written by the Lambda processor."""
    assert set(doc) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                        "attemptEndingTimestamp", "rawData", "lambdaArn"}, doc
    assert b64decode(doc["rawData"]) == raw
    assert as_int(doc["attemptsMade"]) >= 1
    assert_epoch_ms_between(doc["arrivalTimestamp"], start, end, "arrivalTimestamp")
    assert_epoch_ms_between(doc["attemptEndingTimestamp"], start, end, "attemptEndingTimestamp")
    assert as_int(doc["arrivalTimestamp"]) <= as_int(doc["attemptEndingTimestamp"])
    assert isinstance(doc["errorCode"], str) and doc["errorCode"], doc
    assert isinstance(doc["errorMessage"], str), doc
    # AWS writes the ARN it invoked; an unqualified function is invoked as $LATEST.
    assert doc["lambdaArn"] in (function_arn(lambda_name), function_arn(lambda_name) + ":$LATEST"), doc


def test_the_blueprint_handler_transforms_every_record(firehose, s3, lam):
    fn = unique("blueprint")
    deploy(lam, fn, {"lambda_function.py": BLUEPRINT}, Timeout=60)
    bucket = new_bucket(s3, "fh-transform")
    name = unique("transformed")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(fn))))
    records = [f"trade {i} amzn\n".encode() for i in range(250)]
    put_all(firehose, name, records)

    got = wait_for_lines(s3, bucket, len(records), prefix="out/")
    lines = [line for v in got.values() for line in v]
    assert sorted(lines) == sorted(r.strip().upper() for r in records)
    assert not list_keys(s3, bucket, "errors/")


def test_dropped_records_vanish_and_failed_ones_go_to_processing_failed(firehose, s3, lam, tmp_path):
    events = tmp_path / "events.jsonl"
    fn = unique("filtering")
    deploy(lam, fn, {"lambda_function.py": FILTERING}, Timeout=60,
           Environment={"Variables": {"EVENTS": str(events)}})
    bucket = new_bucket(s3, "fh-filter")
    name = unique("filtered")
    arn = create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(fn))))
    actions = ["keep", "drop", "fail"]
    payloads = [{"n": i, "action": actions[i % 3]} for i in range(90)]
    raw = {p["n"]: json.dumps(p).encode() for p in payloads}
    start = time.time()
    put_all(firehose, name, list(raw.values()))

    failed = [p["n"] for p in payloads if p["action"] == "fail"]
    kept = [p["n"] for p in payloads if p["action"] == "keep"]
    docs = error_documents(s3, bucket, "errors/processing-failed/", len(failed))
    got = wait_for_lines(s3, bucket, len(kept), prefix="out/")
    end = time.time()

    delivered = [json.loads(line) for v in got.values() for line in v]
    assert sorted(d["n"] for d in delivered) == kept, "only Ok records are delivered"
    assert all(d["processed"] is True for d in delivered), "delivered data is the transformed data"
    assert sorted(json.loads(b64decode(d["rawData"]))["n"] for d in docs) == failed
    for doc in docs:
        n = json.loads(b64decode(doc["rawData"]))["n"]
        assert_processing_failed_document(doc, raw[n], fn, start, end)
    other = [k for k in list_keys(s3, bucket) if not k.startswith(("out/", "errors/processing-failed/"))]
    assert not other, f"objects outside the data and processing-failed prefixes: {other}"

    # The event each invocation carried (AWS's transformation event).
    seen = [json.loads(line) for line in events.read_text().splitlines()]
    assert seen, "the function was never invoked"
    for event in seen:
        assert event["deliveryStreamArn"] == arn
        assert event["region"] == REGION
        assert isinstance(event["invocationId"], str) and event["invocationId"]
        assert "sourceKinesisStreamArn" not in event, "DirectPut has no source stream"
        for r in event["records"]:
            assert isinstance(r["recordId"], str) and r["recordId"]
            assert_epoch_ms_between(r["approximateArrivalTimestamp"], start, end,
                                    "approximateArrivalTimestamp")
            assert "kinesisRecordMetadata" not in r, "DirectPut records carry no Kinesis metadata"
    assert len({e["invocationId"] for e in seen}) == len(seen)
    assert sum(len(e["records"]) for e in seen) == len(payloads)


def test_a_raising_handler_is_retried_then_its_records_are_processing_failed(firehose, s3, lam, tmp_path):
    calls = tmp_path / "calls.txt"
    fn = unique("raising")
    deploy(lam, fn, {"lambda_function.py": RAISING}, Timeout=60,
           Environment={"Variables": {"CALLS": str(calls)}})
    bucket = new_bucket(s3, "fh-raise")
    name = unique("broken")
    retries = 2
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(fn), retries=retries)))
    records = [f"record-{i}".encode() for i in range(20)]
    start = time.time()
    put_all(firehose, name, records)

    docs = error_documents(s3, bucket, "errors/processing-failed/", len(records), deadline_s=90)
    end = time.time()
    assert sorted(b64decode(d["rawData"]) for d in docs) == sorted(records)
    for doc in docs:
        assert_processing_failed_document(doc, b64decode(doc["rawData"]), fn, start, end)
        assert doc["errorCode"] == "Lambda.FunctionError", doc
        assert as_int(doc["attemptsMade"]) == retries + 1, doc
    attempts: dict[str, int] = {}
    for line in calls.read_text().splitlines():
        attempts[line] = attempts.get(line, 0) + 1
    assert attempts == {r.decode(): retries + 1 for r in records}, (
        "each record is sent once and retried NumberOfRetries times")
    assert not list_keys(s3, bucket, "out/"), "nothing of a failed batch is delivered"
    assert objects_under(s3, bucket, "errors/processing-failed/")


# Breaks the contract: answers for every record but the first of each invocation.
FORGETFUL = '''
import base64


def lambda_handler(event, context):
    return {'records': [{'recordId': r['recordId'], 'result': 'Ok', 'data': r['data']}
                        for r in event['records'][1:]]}
'''


def test_a_response_missing_a_record_id_fails_the_records_with_missing_record_id(firehose, s3, lam):
    fn = unique("forgetful")
    deploy(lam, fn, {"lambda_function.py": FORGETFUL}, Timeout=60)
    bucket = new_bucket(s3, "fh-missing-id")
    name = unique("missing-id")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(fn), retries=0)))
    records = [f"r{i}\n".encode() for i in range(10)]
    start = time.time()
    put_all(firehose, name, records)

    # A response that breaks the recordId contract fails its whole invocation.
    docs = error_documents(s3, bucket, "errors/processing-failed/", len(records))
    end = time.time()
    assert sorted(b64decode(d["rawData"]) for d in docs) == sorted(records)
    for doc in docs:
        assert_processing_failed_document(doc, b64decode(doc["rawData"]), fn, start, end)
        assert doc["errorCode"] == "Lambda.MissingRecordId", doc
    assert not list_keys(s3, bucket, "out/")


def test_append_delimiter_alone_ends_every_record_with_a_newline(firehose, s3):
    bucket = new_bucket(s3, "fh-delim")
    name = unique("delimited")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]}))
    records = [json.dumps({"n": i}).encode() for i in range(50)]  # no newline of their own
    put_all(firehose, name, records)
    got = wait_for_lines(s3, bucket, len(records), prefix="out/")
    assert sorted(line for v in got.values() for line in v) == sorted(records)
    for key, body in objects_under(s3, bucket, "out/").items():
        assert body.endswith(b"\n") and b"}{" not in body, key


def test_source_record_backup_keeps_the_records_before_the_transform(firehose, s3, lam):
    fn = unique("blueprint-backup")
    deploy(lam, fn, {"lambda_function.py": BLUEPRINT}, Timeout=60)
    bucket = new_bucket(s3, "fh-main")
    backup = new_bucket(s3, "fh-backup")
    name = unique("backed-up")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(fn)),
        S3BackupMode="Enabled",
        S3BackupConfiguration={"RoleARN": ROLE_ARN, "BucketARN": f"arn:aws:s3:::{backup}", "Prefix": "source/",
                               "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}}))
    records = [f"order {i} pending\n".encode() for i in range(30)]
    put_all(firehose, name, records)

    got = wait_for_lines(s3, bucket, len(records), prefix="out/")
    assert sorted(line for v in got.values() for line in v) == sorted(r.strip().upper() for r in records)
    saved = wait_for_lines(s3, backup, len(records), prefix="source/")
    assert sorted(line for v in saved.values() for line in v) == sorted(r.strip() for r in records)


def test_update_destination_turns_the_transform_on_for_later_records(firehose, s3, lam):
    fn = unique("blueprint-later")
    deploy(lam, fn, {"lambda_function.py": BLUEPRINT}, Timeout=60)
    bucket = new_bucket(s3, "fh-update")
    name = unique("updated")
    create_stream(firehose, name, s3_destination(bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX))
    before = [f"before {i}\n".encode() for i in range(10)]
    put_all(firehose, name, before)
    wait_for_lines(s3, bucket, len(before), prefix="out/")

    desc = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    firehose.update_destination(
        DeliveryStreamName=name, CurrentDeliveryStreamVersionId=desc["VersionId"],
        DestinationId=desc["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"ProcessingConfiguration": lambda_processing(function_arn(fn))})
    desc = wait_active(firehose, name)
    assert desc["VersionId"] == "2"
    # AWS applies an update "usually within a few minutes": probe (bounded) until it has.
    probes: list[bytes] = []

    def transformed():
        probes.append(f"probe {len(probes)}\n".encode())
        put_all(firehose, name, probes[-1:])
        return any(b"PROBE" in body for body in objects_under(s3, bucket, "out/").values())

    assert poll(transformed, deadline_s=90, interval=1.0), "the transform never took effect"
    after = [f"after {i}\n".encode() for i in range(10)]
    put_all(firehose, name, after)

    got = wait_for_lines(s3, bucket, len(before) + len(probes) + len(after), prefix="out/")
    lines = sorted(line for v in got.values() for line in v if not line.lower().startswith(b"probe"))
    assert lines == sorted([r.strip() for r in before] + [r.strip().upper() for r in after])
    for key, body in objects_under(s3, bucket, "out/").items():
        if body.startswith((b"before", b"AFTER", b"PROBE")):
            version = "1" if body.startswith(b"before") else "2"
            assert f"/{name}-{version}-" in key, (key, body[:40])


def test_a_function_that_does_not_exist_sends_the_records_to_processing_failed(firehose, s3):
    bucket = new_bucket(s3, "fh-no-function")
    name = unique("no-function")
    ghost = unique("ghost")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(ghost), retries=1)))
    records = [b"lost?\n", b"no, kept as an error\n"]
    start = time.time()
    put_all(firehose, name, records)
    docs = error_documents(s3, bucket, "errors/processing-failed/", len(records))
    end = time.time()
    assert sorted(b64decode(d["rawData"]) for d in docs) == sorted(records)
    for doc in docs:
        assert_processing_failed_document(doc, b64decode(doc["rawData"]), ghost, start, end)
        assert doc["errorCode"].startswith("Lambda."), doc
    assert not list_keys(s3, bucket, "out/")


def test_a_buffer_whose_records_are_all_dropped_writes_no_object(firehose, s3, lam, tmp_path):
    fn = unique("drop-all")
    deploy(lam, fn, {"lambda_function.py": FILTERING}, Timeout=60,
           Environment={"Variables": {"EVENTS": str(tmp_path / "events.jsonl")}})
    bucket = new_bucket(s3, "fh-drop-all")
    name = unique("drop-all")
    create_stream(firehose, name, s3_destination(
        bucket, Prefix="out/", ErrorOutputPrefix=ERROR_PREFIX,
        ProcessingConfiguration=lambda_processing(function_arn(fn))))
    put_all(firehose, name, [json.dumps({"n": i, "action": "drop"}).encode() for i in range(20)])
    # Bounded wait for the function to have seen every record, then for delivery to pass.
    assert poll(lambda: (tmp_path / "events.jsonl").exists() and sum(
        len(json.loads(line)["records"]) for line in (tmp_path / "events.jsonl").read_text().splitlines()) >= 20,
        deadline_s=60), "the function never saw the records"
    put_all(firehose, name, [json.dumps({"n": 99, "action": "keep"}).encode()])
    got = wait_for_lines(s3, bucket, 1, prefix="out/")
    assert [json.loads(line)["n"] for v in got.values() for line in v] == [99]
    assert all(body for body in objects_under(s3, bucket).values()), "an empty object was written"
