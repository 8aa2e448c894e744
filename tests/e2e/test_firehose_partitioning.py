"""Firehose dynamic partitioning against the real binary: partition keys from an inline jq
query (MetadataExtraction, `!{partitionKeyFromQuery:...}`) and from a Lambda transform
(`metadata.partitionKeys`, `!{partitionKeyFromLambda:...}`), RecordDeAggregation of
concatenated JSON, AppendDelimiterToRecord, error routing of records that are not JSON, and
one stream created and fed with the AWS CLI v1 (`--cli-input-json`, since shorthand cannot
carry `!{...}`).

Source: https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time

import pytest

from fhutil import (ERROR_PREFIX, as_int, assert_epoch_ms_between, b64decode, client,
                    create_stream, error_documents, list_keys, new_bucket, objects_under, poll,
                    put_all, s3_destination, wait_active)
from kutil import ACCOUNT, REGION, unique
from test_cli import aws_command
from test_lambda import deploy, lambda_client

# AWS's example of a Lambda that returns partition keys (dynamic partitioning guide), as
# published: it reads the envelope fields and passes the data through unchanged.
LAMBDA_KEYS = '''
from __future__ import print_function
import base64
import json
import datetime

# Signature for all Lambda functions that user must implement
def lambda_handler(firehose_records_input, context):
    print("Received records for processing from DeliveryStream: " + firehose_records_input['deliveryStreamArn']
          + ", Region: " + firehose_records_input['region']
          + ", and InvocationId: " + firehose_records_input['invocationId'])

    # Create return value.
    firehose_records_output = {'records': []}

    # Go through records and process them
    for firehose_record_input in firehose_records_input['records']:
        # Get user payload
        payload = base64.b64decode(firehose_record_input['data'])
        json_value = json.loads(payload)

        print("Record that was received")
        print(json_value)
        print("\\n")
        # Create output Firehose record and add modified payload and record ID to it.
        firehose_record_output = {}
        event_timestamp = datetime.datetime.fromtimestamp(json_value['eventTimestamp'])
        partition_keys = {"customerId": json_value['customerId'],
                          "year": event_timestamp.strftime('%Y'),
                          "month": event_timestamp.strftime('%m'),
                          "date": event_timestamp.strftime('%d'),
                          "hour": event_timestamp.strftime('%H'),
                          "minute": event_timestamp.strftime('%M')
                          }

        # Create output Firehose record and add modified payload and record ID to it.
        firehose_record_output = {'recordId': firehose_record_input['recordId'],
                                  'data': firehose_record_input['data'],
                                  'result': 'Ok',
                                  'metadata': { 'partitionKeys': partition_keys }}

        # Must set proper record ID
        # Add the record to the list of output records.

        firehose_records_output['records'].append(firehose_record_output)

    # At the end return processed records
    return firehose_records_output
'''


@pytest.fixture(scope="module")
def firehose(endpoint):
    return client("firehose", endpoint)


@pytest.fixture(scope="module")
def s3(endpoint):
    return client("s3", endpoint)


def processor(ptype: str, **params: str) -> dict:
    out: dict = {"Type": ptype}
    if params:
        out["Parameters"] = [{"ParameterName": k, "ParameterValue": v} for k, v in params.items()]
    return out


def partitioned(bucket: str, prefix: str, processors: list[dict]) -> dict:
    # Dynamic partitioning asks for a buffer of at least 64 MiB; the 1 s interval delivers.
    return s3_destination(
        bucket, Prefix=prefix, ErrorOutputPrefix=ERROR_PREFIX,
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 1},
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={"Enabled": True, "Processors": processors})


def lines_by_prefix(s3, bucket: str, prefixes: list[str], want: int, deadline_s: float = 60.0):
    """Waits (bounded) until `want` lines are delivered under the given prefixes; returns
    prefix -> parsed JSON lines."""
    def read():
        return {p: [json.loads(line) for body in objects_under(s3, bucket, p).values()
                    for line in body.splitlines()] for p in prefixes}

    def enough():
        found = read()
        return found if sum(len(v) for v in found.values()) >= want else None

    got = poll(enough, deadline_s)
    return got if got is not None else read()


JQ_PROCESSORS = [
    processor("RecordDeAggregation", SubRecordType="JSON"),
    processor("MetadataExtraction",
              MetadataExtractionQuery="{customer_id:.customer_id,device:.device.type}",
              JsonParsingEngine="JQ-1.6"),
    processor("AppendDelimiterToRecord"),
]


def test_jq_keys_split_deaggregated_records_into_one_prefix_per_key(firehose, s3):
    bucket = new_bucket(s3, "fh-jq")
    name = unique("jq")
    create_stream(firehose, name, partitioned(
        bucket, "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/",
        JQ_PROCESSORS))
    customers, devices = ["c-1", "c-2", "c-3"], ["phone", "tablet"]
    subs = [{"customer_id": customers[i % 3], "device": {"type": devices[i % 2]}, "n": i}
            for i in range(120)]
    # Concatenated JSON objects, several per put record, as RecordDeAggregation expects.
    records = [b"".join(json.dumps(s, separators=(",", ":")).encode() for s in subs[i:i + 4])
               for i in range(0, len(subs), 4)]
    put_all(firehose, name, records)

    prefixes = [f"customer_id={c}/device={d}/" for c in customers for d in devices]
    got = lines_by_prefix(s3, bucket, prefixes, len(subs))
    for c in customers:
        for d in devices:
            want = sorted(s["n"] for s in subs if s["customer_id"] == c and s["device"]["type"] == d)
            assert sorted(x["n"] for x in got[f"customer_id={c}/device={d}/"]) == want, (c, d)
    keys = list_keys(s3, bucket)
    strays = [k for k in keys if not k.startswith(tuple(prefixes))]
    assert not strays, f"objects outside the partition prefixes: {strays}"
    for key in keys:  # AppendDelimiterToRecord: one record per line, every line ended
        body = objects_under(s3, bucket, key)[key]
        assert body.endswith(b"\n") and b"}{" not in body, body[:200]


def test_records_that_are_not_json_go_to_processing_failed(firehose, s3):
    bucket = new_bucket(s3, "fh-notjson")
    name = unique("notjson")
    create_stream(firehose, name, partitioned(
        bucket, "customer_id=!{partitionKeyFromQuery:customer_id}/",
        [processor("MetadataExtraction", MetadataExtractionQuery="{customer_id:.customer_id}",
                   JsonParsingEngine="JQ-1.6"),
         processor("AppendDelimiterToRecord")]))
    good = [json.dumps({"customer_id": "c-9", "n": i}).encode() for i in range(10)]
    bad = [b"this is not json", b"<xml>nor this</xml>"]
    start = time.time()
    put_all(firehose, name, good[:5] + bad + good[5:])

    docs = error_documents(s3, bucket, "errors/processing-failed/", len(bad))
    got = lines_by_prefix(s3, bucket, ["customer_id=c-9/"], len(good))
    end = time.time()
    assert sorted(x["n"] for x in got["customer_id=c-9/"]) == list(range(10))
    assert sorted(b64decode(d["rawData"]) for d in docs) == sorted(bad)
    for doc in docs:
        assert doc["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed", doc
        assert isinstance(doc["errorMessage"], str) and doc["errorMessage"], doc
        assert as_int(doc["attemptsMade"]) >= 1
        assert_epoch_ms_between(doc["arrivalTimestamp"], start, end, "arrivalTimestamp")
        assert_epoch_ms_between(doc["attemptEndingTimestamp"], start, end, "attemptEndingTimestamp")
    strays = [k for k in list_keys(s3, bucket)
              if not k.startswith(("customer_id=c-9/", "errors/processing-failed/"))]
    assert not strays, strays


def test_lambda_partition_keys_choose_the_prefix(firehose, s3, endpoint):
    lam = lambda_client(endpoint)
    fn = unique("partition-keys")
    deploy(lam, fn, {"lambda_function.py": LAMBDA_KEYS}, Timeout=60)
    bucket = new_bucket(s3, "fh-lambda-keys")
    name = unique("lambda-keys")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    create_stream(firehose, name, partitioned(
        bucket,
        "customer=!{partitionKeyFromLambda:customerId}/year=!{partitionKeyFromLambda:year}/"
        "month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:date}/"
        "hour=!{partitionKeyFromLambda:hour}/",
        [processor("Lambda", LambdaArn=arn, NumberOfRetries="1", BufferSizeInMBs="1",
                   BufferIntervalInSeconds="1"),
         processor("AppendDelimiterToRecord")]))
    # Two customers, two hours a day apart (Lambda runs in UTC).
    t1 = int(datetime.datetime(2024, 10, 3, 9, 15, tzinfo=datetime.timezone.utc).timestamp())
    t2 = int(datetime.datetime(2024, 10, 4, 17, 45, tzinfo=datetime.timezone.utc).timestamp())
    events = [{"customerId": f"cust-{i % 2}", "eventTimestamp": (t1, t2)[i % 2] + i, "n": i}
              for i in range(40)]
    put_all(firehose, name, [json.dumps(e).encode() for e in events])

    prefixes = {"cust-0": "customer=cust-0/year=2024/month=10/day=03/hour=09/",
                "cust-1": "customer=cust-1/year=2024/month=10/day=04/hour=17/"}
    got = lines_by_prefix(s3, bucket, list(prefixes.values()), len(events))
    for cust, prefix in prefixes.items():
        assert sorted(x["n"] for x in got[prefix]) == [e["n"] for e in events if e["customerId"] == cust]
    strays = [k for k in list_keys(s3, bucket) if not k.startswith(tuple(prefixes.values()))]
    assert not strays, f"objects outside the partition prefixes: {strays}"


def test_the_cli_creates_and_feeds_a_jq_partitioned_stream(endpoint, s3, firehose, tmp_path):
    env = os.environ.copy()
    env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
                "AWS_PAGER": "", "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")})

    def aws(*args: str):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip().startswith(("{", "[")) else proc.stdout

    bucket = unique("fh-cli")[:48].lower()
    aws("s3", "mb", f"s3://{bucket}")
    name = unique("cli-partitioned")
    spec = tmp_path / "stream.json"
    spec.write_text(json.dumps({
        "DeliveryStreamName": name,
        "DeliveryStreamType": "DirectPut",
        "ExtendedS3DestinationConfiguration": partitioned(
            bucket, "ticker=!{partitionKeyFromQuery:ticker}/year=!{timestamp:yyyy}/",
            [processor("MetadataExtraction", MetadataExtractionQuery="{ticker:.ticker_symbol}",
                       JsonParsingEngine="JQ-1.6"),
             processor("AppendDelimiterToRecord")]),
    }))
    created = aws("firehose", "create-delivery-stream", "--cli-input-json", f"file://{spec}")
    assert created["DeliveryStreamARN"] == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}"
    wait_active(firehose, name)
    desc = aws("firehose", "describe-delivery-stream", "--delivery-stream-name", name)
    dest = desc["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert dest["Prefix"] == "ticker=!{partitionKeyFromQuery:ticker}/year=!{timestamp:yyyy}/"
    assert dest["DynamicPartitioningConfiguration"]["Enabled"] is True

    trades = [{"ticker_symbol": ("AMZN", "QXZ")[i % 2], "price": 100 + i} for i in range(10)]
    batch = tmp_path / "batch.json"
    # CLI v1 sends a blob given in JSON as the text itself (base64-encoded on the wire).
    batch.write_text(json.dumps({"DeliveryStreamName": name,
                                 "Records": [{"Data": json.dumps(t)} for t in trades]}))
    out = aws("firehose", "put-record-batch", "--cli-input-json", f"file://{batch}")
    assert out["FailedPutCount"] == 0

    year = time.gmtime().tm_year
    want = {f"ticker={t}/year={year}/": sorted(x["price"] for x in trades if x["ticker_symbol"] == t)
            for t in ("AMZN", "QXZ")}
    got = lines_by_prefix(s3, bucket, list(want), len(trades))
    assert {p: sorted(x["price"] for x in v) for p, v in got.items()} == want
    listing = aws("s3", "ls", f"s3://{bucket}/", "--recursive")
    assert listing.count("\n") == len(list_keys(s3, bucket)) and f"ticker=AMZN/year={year}/" in listing
    key = next(k for k in list_keys(s3, bucket) if k.startswith("ticker=QXZ/"))
    aws("s3", "cp", f"s3://{bucket}/{key}", str(tmp_path / "obj"))
    assert [json.loads(x)["ticker_symbol"] for x in (tmp_path / "obj").read_text().splitlines()][0] == "QXZ"


# Keys from both sources: the jq query names the customer, the function classifies the record.
CLASSIFY = '''
import base64
import json


def lambda_handler(event, context):
    output = []
    for record in event['records']:
        payload = json.loads(base64.b64decode(record['data']))
        kind = 'big' if payload['amount'] >= 100 else 'small'
        output.append({'recordId': record['recordId'], 'result': 'Ok', 'data': record['data'],
                       'metadata': {'partitionKeys': {'kind': kind}}})
    return {'records': output}
'''


def test_keys_from_jq_and_from_the_lambda_combine_in_one_prefix(firehose, s3, endpoint):
    lam = lambda_client(endpoint)
    fn = unique("classify")
    deploy(lam, fn, {"lambda_function.py": CLASSIFY}, Timeout=60)
    bucket = new_bucket(s3, "fh-both-keys")
    name = unique("both-keys")
    create_stream(firehose, name, partitioned(
        bucket, "customer=!{partitionKeyFromQuery:customer}/kind=!{partitionKeyFromLambda:kind}/",
        [processor("MetadataExtraction", MetadataExtractionQuery="{customer:.customer}",
                   JsonParsingEngine="JQ-1.6"),
         processor("Lambda", LambdaArn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}",
                   NumberOfRetries="1", BufferSizeInMBs="1", BufferIntervalInSeconds="1"),
         processor("AppendDelimiterToRecord")]))
    orders = [{"customer": ("ann", "bob")[i % 2], "amount": (5, 500)[(i // 2) % 2], "n": i} for i in range(40)]
    put_all(firehose, name, [json.dumps(o).encode() for o in orders])

    want = {}
    for o in orders:
        prefix = f"customer={o['customer']}/kind={'big' if o['amount'] >= 100 else 'small'}/"
        want.setdefault(prefix, []).append(o["n"])
    got = lines_by_prefix(s3, bucket, list(want), len(orders))
    assert {p: sorted(x["n"] for x in v) for p, v in got.items()} == want
    strays = [k for k in list_keys(s3, bucket) if not k.startswith(tuple(want))]
    assert not strays, f"objects outside the partition prefixes: {strays}"
