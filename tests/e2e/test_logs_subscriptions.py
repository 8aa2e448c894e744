"""CloudWatch Logs subscription filters end to end, with boto3 and the AWS CLI v1.

- logs -> Kinesis: the records are gzip DATA_MESSAGEs (after the CONTROL_MESSAGE of the put)
  holding only the matching events, one log stream per record.
- logs -> Firehose -> S3 with the Decompression and CloudWatchLogProcessing processors: the
  S3 object holds the extracted messages.
- logs -> Lambda: a Python handler decodes `event['awslogs']['data']` as AWS's docs show.
- The API's rules: two filters per group, replace by name, errors for bad destinations,
  missing groups and filters.
- A SIGKILL under load: every event PutLogEvents acknowledged reaches the stream.
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import fhutil
import kutil
from kutil import REGION, FreshetServer, unique
from test_cli import aws_command
from test_lambda import deploy, lambda_client

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/cwl-to-destination"


def logs_client(endpoint: str):
    return boto3.client("logs", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 2}))


def stream_arn(name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def poll(check, deadline_s: float = 60.0, interval: float = 0.2):
    end = time.monotonic() + deadline_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(interval)


def decoded_records(kinesis, name: str) -> list[dict]:
    out = []
    for shard in kutil.list_all_shards(kinesis, name):
        for r in kutil.read_shard(kinesis, name, shard["ShardId"]):
            out.append(json.loads(gzip.decompress(r["Data"])) | {"_key": r["PartitionKey"]})
    return out


def data_events(docs: list[dict]) -> list[str]:
    return [e["message"] for d in docs if d["messageType"] == "DATA_MESSAGE" for e in d["logEvents"]]


@pytest.fixture(scope="module")
def logs(endpoint):
    return logs_client(endpoint)


def new_group(logs, streams=("app",)) -> str:
    group = "/e2e/" + unique("subs")
    logs.create_log_group(logGroupName=group)
    for s in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    return group


def put(logs, group, stream, messages, ts=None):
    now = int(time.time() * 1000) if ts is None else ts
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now, "message": m} for m in messages])


def test_logs_to_kinesis_delivers_matching_events_as_gzip_data_messages(logs, kinesis,
                                                                         stream_name):
    kutil.create_stream(kinesis, stream_name, shards=2)
    group = new_group(logs, ("web", "db"))
    logs.put_subscription_filter(logGroupName=group, filterName="errors",
                                 filterPattern="ERROR", destinationArn=stream_arn(stream_name),
                                 roleArn=ROLE)
    put(logs, group, "web", ["ERROR web down", "INFO fine", "ERROR web again"])
    put(logs, group, "db", ["ERROR db slow"])
    docs = poll(lambda: (d := decoded_records(kinesis, stream_name))
                and len(data_events(d)) == 3 and d)
    control = [d for d in docs if d["messageType"] == "CONTROL_MESSAGE"]
    assert len(control) == 1
    assert control[0]["owner"] == "CloudwatchLogs"
    assert control[0]["logEvents"][0]["message"].startswith("CWL CONTROL MESSAGE")
    data = [d for d in docs if d["messageType"] == "DATA_MESSAGE"]
    for d in data:
        assert list(d)[:6] == ["messageType", "owner", "logGroup", "logStream",
                               "subscriptionFilters", "logEvents"]
        assert d["owner"] == ACCOUNT and d["logGroup"] == group
        assert d["subscriptionFilters"] == ["errors"]
        for e in d["logEvents"]:
            assert len(e["id"]) == 56 and e["id"].isdigit()
            assert isinstance(e["timestamp"], int)
    web = [e["message"] for d in data if d["logStream"] == "web" for e in d["logEvents"]]
    assert web == ["ERROR web down", "ERROR web again"]
    # ByLogStream: one partition key per log stream.
    keys = {d["logStream"]: set() for d in data}
    for d in data:
        keys[d["logStream"]].add(d["_key"])
    assert all(len(k) == 1 for k in keys.values()) and keys["web"] != keys["db"]


def test_the_api_rules(logs, kinesis, stream_name):
    kutil.create_stream(kinesis, stream_name)
    group = new_group(logs)
    arn = stream_arn(stream_name)
    logs.put_subscription_filter(logGroupName=group, filterName="a", filterPattern="",
                                 destinationArn=arn, distribution="Random")
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="x",
                                 destinationArn=arn)
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="",
                                     destinationArn=arn)
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    logs.put_subscription_filter(logGroupName=group, filterName="a", filterPattern="WARN",
                                 destinationArn=arn)
    got = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["distribution"]) for f in got] == [
        ("a", "WARN", "ByLogStream"), ("b", "x", "ByLogStream")]
    assert got[0]["destinationArn"] == arn and got[0]["logGroupName"] == group
    assert isinstance(got[0]["creationTime"], int)
    page = logs.describe_subscription_filters(logGroupName=group, limit=1)
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["a"]
    page = logs.describe_subscription_filters(logGroupName=group, limit=1,
                                              nextToken=page["nextToken"])
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["b"]
    assert "nextToken" not in page
    assert len(logs.describe_subscription_filters(
        logGroupName=group, filterNamePrefix="b")["subscriptionFilters"]) == 1
    logs.delete_subscription_filter(logGroupName=group, filterName="b")
    cases = [
        (stream_arn("no-such-stream"), "InvalidParameterException",
         "Could not deliver test message to specified Kinesis stream. Check if the given "
         "kinesis stream is in ACTIVE state."),
        (f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/nope", "InvalidParameterException",
         "Could not deliver test message to specified Firehose stream. Check if the given "
         "Firehose stream is in ACTIVE state."),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope", "InvalidParameterException",
         "Could not execute the lambda function. Make sure you have given CloudWatch Logs "
         "permission to execute your function."),
    ]
    for dest, code, message in cases:
        with pytest.raises(ClientError) as e:
            logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="",
                                         destinationArn=dest)
        assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
            code, message)
    with pytest.raises(ClientError) as e:
        logs.delete_subscription_filter(logGroupName=group, filterName="zz")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.describe_subscription_filters(logGroupName="/no/such/group")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="",
                                     destinationArn=arn, distribution="Sometimes")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.delete_log_group(logGroupName=group)
    logs.create_log_group(logGroupName=group)
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_logs_to_firehose_to_s3_with_cloudwatch_log_processing(logs, endpoint):
    firehose = fhutil.client("firehose", endpoint)
    s3 = fhutil.client("s3", endpoint)
    bucket = fhutil.new_bucket(s3, "cwl")
    name = unique("cwl-fh")
    arn = fhutil.create_stream(firehose, name, fhutil.s3_destination(
        bucket, Prefix="logs/", ProcessingConfiguration={"Enabled": True, "Processors": [
            {"Type": "Decompression",
             "Parameters": [{"ParameterName": "CompressionFormat", "ParameterValue": "GZIP"}]},
            {"Type": "CloudWatchLogProcessing",
             "Parameters": [{"ParameterName": "DataMessageExtraction",
                             "ParameterValue": "true"}]},
            {"Type": "AppendDelimiterToRecord", "Parameters": []},
        ]}))
    group = new_group(logs)
    logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                 destinationArn=arn, roleArn=ROLE)
    put(logs, group, "app", [f"line {i}" for i in range(20)])

    def lines():
        objs = fhutil.objects_under(s3, bucket, "logs/")
        got = [line for body in objs.values() for line in body.decode().splitlines()]
        return got if len(got) >= 20 else None
    got = poll(lines)
    # The CONTROL_MESSAGE is dropped by the extraction; only the messages remain.
    assert sorted(got) == sorted(f"line {i}" for i in range(20))


LAMBDA_HANDLER = '''
import base64
import gzip
import json
import os


def lambda_handler(event, context):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(payload) + "\\n")
'''


def test_logs_to_lambda_as_aws_documents_it(logs, endpoint, tmp_path):
    lam = lambda_client(endpoint)
    out = tmp_path / "payloads.jsonl"
    fn = unique("cwl-handler")
    arn = deploy(lam, fn, {"lambda_function.py": LAMBDA_HANDLER},
                 Environment={"Variables": {"OUT": str(out)}})["FunctionArn"]
    group = new_group(logs)
    logs.put_subscription_filter(logGroupName=group, filterName="to-lambda",
                                 filterPattern="{ $.level = \"error\" }", destinationArn=arn)
    put(logs, group, "app", ['{"level":"error","n":1}', '{"level":"info","n":2}',
                             '{"level":"error","n":3}'])

    def payloads():
        if not out.exists():
            return None
        docs = [json.loads(line) for line in out.read_text().splitlines()]
        return docs if sum(len(d["logEvents"]) for d in docs) >= 2 else None
    docs = poll(payloads, deadline_s=120)
    assert all(d["messageType"] == "DATA_MESSAGE" for d in docs)
    assert [json.loads(e["message"])["n"] for d in docs for e in d["logEvents"]] == [1, 3]
    assert docs[0]["logGroup"] == group and docs[0]["logStream"] == "app"


def test_cli_v1_put_and_describe(endpoint, kinesis, stream_name):
    kutil.create_stream(kinesis, stream_name)
    logs = logs_client(endpoint)
    group = new_group(logs)
    base = [*aws_command(), "--endpoint-url", endpoint, "--region", REGION, "--output", "json",
            "logs"]
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"}
    subprocess.run([*base, "put-subscription-filter", "--log-group-name", group,
                    "--filter-name", "cli", "--filter-pattern", "",
                    "--destination-arn", stream_arn(stream_name)],
                   check=True, capture_output=True, timeout=60, env=env)
    out = subprocess.run([*base, "describe-subscription-filters", "--log-group-name", group],
                         check=True, capture_output=True, timeout=60, env=env)
    filters = json.loads(out.stdout)["subscriptionFilters"]
    assert [f["filterName"] for f in filters] == ["cli"]


@pytest.mark.crash
def test_every_acknowledged_event_reaches_the_stream_across_a_sigkill(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        logs = logs_client(srv.endpoint)
        kinesis = kutil.kinesis_client(srv.endpoint)
        kutil.create_stream(kinesis, "sink", shards=2)
        logs.create_log_group(logGroupName="g")
        for s in ("a", "b"):
            logs.create_log_stream(logGroupName="g", logStreamName=s)
        logs.put_subscription_filter(logGroupName="g", filterName="f", filterPattern="",
                                     destinationArn=stream_arn("sink"))
        acked: list[str] = []
        stop = threading.Event()

        def writer(stream: str):
            i = 0
            while not stop.is_set():
                batch = [f"{stream}-{i + k}" for k in range(20)]
                try:
                    put(logs, "g", stream, batch)
                except Exception:  # noqa: BLE001 - the server is being killed
                    return
                acked.extend(batch)
                i += 20
        threads = [threading.Thread(target=writer, args=(s,)) for s in ("a", "b")]
        for t in threads:
            t.start()
        time.sleep(2.0)
        srv.kill()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert len(acked) > 100
        srv.start()
        logs = logs_client(srv.endpoint)
        kinesis = kutil.kinesis_client(srv.endpoint)
        want = set(acked)

        def delivered():
            got = set(data_events(decoded_records(kinesis, "sink")))
            return got if want <= got else None
        poll(delivered, deadline_s=120, interval=1.0)
    finally:
        srv.stop()
