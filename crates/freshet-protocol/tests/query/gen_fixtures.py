#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential fixtures for freshet-protocol's Query codec, made by botocore 1.31.0 itself.

    python3 crates/freshet-protocol/tests/query/gen_fixtures.py [--botocore DIR] [--check]

Requests: for every operation of the committed SQS and CloudWatch Query models, realistic and
random inputs are serialized by botocore's own `QuerySerializer` (through `AWSRequest`, so the
body is byte for byte what boto3 1.31 sends). Each case stores the form body and the JSON value
the JSON protocol would carry for the same input (timestamps as epoch seconds, blobs as base64),
less what the Query form cannot carry (an empty map sends nothing). The Rust test decodes each
body and compares.

Responses and errors: random and realistic output values (as JSON) are encoded by the Rust
encoder (`cargo test ... fixtures` with FRESHET_QUERY_BLESS set), then parsed back by botocore's
own `QueryParser`, which must return exactly the output value (datetimes compared as epoch
milliseconds, blobs as bytes). Only XML that botocore reads back correctly is written to the
fixtures; the Rust test then checks that the encoder still produces exactly that XML.

`--check` regenerates into memory and fails if the committed fixtures differ (for CI jobs that
have Python). botocore 1.31.0 is found under --botocore (a folder holding the `botocore`
package), or fetched with `pip download botocore==1.31.0 --no-deps` into a cache folder.
"""

import argparse
import base64
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(CRATE))
FIXTURES = os.path.join(HERE, "fixtures")
MODELS = {
    "sqs": os.path.join(CRATE, "models", "sqs-2012-11-05.query.json"),
    "cloudwatch": os.path.join(CRATE, "models", "cloudwatch-2010-08-01.query.json"),
}
BOTOCORE_VERSION = "1.31.0"
RANDOM_REQUESTS_PER_OP = 3
RANDOM_RESPONSES_PER_OP = 3
ABSENT = object()
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


# ---- botocore 1.31.0 ----

def load_botocore(path):
    if path is None:
        cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                             "freshet", f"botocore-{BOTOCORE_VERSION}")
        if not os.path.isdir(os.path.join(cache, "botocore")):
            os.makedirs(cache, exist_ok=True)
            tmp = tempfile.mkdtemp()
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "-d", tmp, f"botocore=={BOTOCORE_VERSION}"], check=True)
            wheel = next(f for f in os.listdir(tmp) if f.endswith(".whl"))
            with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
                z.extractall(cache)
        path = cache
    sys.path.insert(0, path)
    import botocore  # noqa: E402
    if botocore.__version__ != BOTOCORE_VERSION:
        sys.exit(f"need botocore {BOTOCORE_VERSION}, imported {botocore.__version__} from {botocore.__file__}")
    return botocore


# ---- random values (as the user passes them to botocore) ----

SAFE_TEXT = [
    "", "a", "hello world", "a+b=c&d", "100%", "x/y?z#w", "tab\there", "line1\nline2",
    "crlf\r\nend", "lone\rcr", " padded ", "<tag attr=\"v\">&amp;</tag>", "it's", "é", "日本語",
    "emoji 😀", "\u00a0nbsp", "~!@*()_-.", "a.b.c", "Name.1", "\u2028sep",
]


def rand_text(rng, xml_safe):
    r = rng.random()
    if r < 0.45:
        return rng.choice(SAFE_TEXT)
    if r < 0.7:
        return "".join(rng.choice("abcXYZ019-_. ") for _ in range(rng.randint(1, 12)))
    chars = []
    for _ in range(rng.randint(0, 10)):
        c = rng.choice([
            rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x2FF), rng.randint(0x4E00, 0x4E80),
            rng.randint(0x1F600, 0x1F640), 0x0D, 0x0A, 0x09, 0xFFFD,
            rng.randint(0x01, 0x1F), 0xFFFE,
        ])
        if xml_safe and (c < 0x20 and c not in (0x09, 0x0A, 0x0D) or c in (0xFFFE, 0xFFFF)):
            c = 0x3F
        chars.append(chr(c))
    return "".join(chars)


def rand_double(rng):
    return rng.choice([
        0.0, 1.0, -1.0, 1.5, -2.25, 0.1, 3.0, 1e-7, 123456789.125, 1.7976931348623157e308,
        5e-324, 2.5e-300, 1e21, rng.uniform(-1e6, 1e6), rng.uniform(0, 1),
    ])


def rand_time_input(rng):
    seconds = rng.randint(0, 4102444800)
    micros = rng.choice([0, 0, rng.randint(1, 999999), rng.randint(1, 999) * 1000])
    return EPOCH + datetime.timedelta(seconds=seconds, microseconds=micros)


class Gen:
    """Random values of a shape. `output` selects JSON-form values for the encoder (epoch
    seconds, base64 strings, XML-safe text) instead of botocore input values."""

    def __init__(self, rng, output):
        self.rng = rng
        self.output = output

    def value(self, shape, depth=0, full=False):
        t = shape.type_name
        rng = self.rng
        if t == "structure":
            out = {}
            for name, member in shape.members.items():
                if full and depth < 3 or rng.random() < (0.6 if depth < 2 else 0.35):
                    if member.type_name == "structure" and depth >= 4:
                        continue
                    out[name] = self.value(member, depth + 1, full)
            return out
        if t == "list":
            n = rng.choice([0, 1, 1, 2, 3]) if not full else 2
            if depth >= 3:
                n = min(n, 1)
            return [self.value(shape.member, depth + 1, full) for _ in range(n)]
        if t == "map":
            n = rng.choice([0, 1, 2, 3]) if not full else 2
            out = {}
            for _ in range(n):
                out[self.text(shape.key)] = self.value(shape.value, depth + 1, full)
            return out
        if t == "string":
            return self.text(shape)
        if t in ("integer", "long"):
            lim = 2**31 - 1 if t == "integer" else 2**63 - 1
            return rng.choice([0, 1, -1, 10, 300, lim, -lim - 1, rng.randint(-lim - 1, lim)])
        if t == "boolean":
            return rng.random() < 0.5
        if t in ("float", "double"):
            return rand_double(rng)
        if t == "timestamp":
            if self.output:
                ms = rng.randint(0, 4102444800000)
                return ms // 1000 if ms % 1000 == 0 or rng.random() < 0.3 else ms / 1000
            return rand_time_input(rng)
        if t == "blob":
            data = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 24)))
            return base64.b64encode(data).decode() if self.output else data
        raise ValueError(f"unhandled type {t}")

    def text(self, shape):
        enum = shape.enum if hasattr(shape, "enum") else []
        if enum and self.rng.random() < 0.8:
            return self.rng.choice(enum)
        return rand_text(self.rng, self.output)


# ---- what the Query form carries, as the JSON protocol's value ----

def emits(shape, value):
    """Whether botocore's QuerySerializer writes at least one parameter for value."""
    t = shape.type_name
    if t == "structure":
        return any(emits(shape.members[k], v) for k, v in value.items())
    if t == "map":
        return len(value) > 0
    if t == "list":
        # An empty list is sent as `Name=`; a non-empty one only through its elements.
        return not value or any(emits(shape.member, v) for v in value)
    return True


def expected_json(shape, value):
    """The JSON-protocol value the Query form carries for a botocore input value, or ABSENT."""
    t = shape.type_name
    if t == "structure":
        if not emits(shape, value):
            return ABSENT
        out = {}
        for k, v in value.items():
            e = expected_json(shape.members[k], v)
            if e is not ABSENT:
                out[k] = e
        return out
    if t == "list":
        items = [expected_json(shape.member, v) for v in value]
        items = [i for i in items if i is not ABSENT]
        if not items and value:
            return ABSENT
        return items
    if t == "map":
        out = {}
        for k, v in value.items():
            e = expected_json(shape.value, v)
            if e is not ABSENT:
                out[k] = e
        return out if out else ABSENT
    if t == "timestamp":
        delta = value - EPOCH
        seconds = delta.days * 86400 + delta.seconds
        return seconds if delta.microseconds == 0 else seconds + delta.microseconds / 1e6
    if t == "blob":
        return base64.b64encode(value).decode()
    if t in ("float", "double"):
        return float(value)
    return value


def readable(shape, value):
    """An output value as botocore's QueryParser should return it, in comparable form: lists
    of flattened members that are empty vanish (nothing is written), timestamps in ms."""
    t = shape.type_name
    if t == "structure":
        out = {}
        for k, v in value.items():
            member = shape.members[k]
            if v is None:
                continue
            if member.type_name in ("list", "map") and not v and member.serialization.get("flattened"):
                continue
            out[k] = readable(member, v)
        return out
    if t == "list":
        return [readable(shape.member, v) for v in value]
    if t == "map":
        return {k: readable(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return round(value * 1000)
    if t == "blob":
        return base64.b64decode(value)
    if t in ("float", "double"):
        return float(value)
    return value


def parsed_comparable(shape, value):
    t = shape.type_name
    if t == "structure":
        return {k: parsed_comparable(shape.members[k], v) for k, v in value.items()}
    if t == "list":
        return [parsed_comparable(shape.member, v) for v in value]
    if t == "map":
        return {k: parsed_comparable(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        delta = value - EPOCH
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return value


# ---- realistic cases ----

def realistic_requests():
    t0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    body_1k = ("0123456789abcdef" * 64)[:1023] + "\r"
    attrs = {
        "color": {"DataType": "String", "StringValue": "red & blue"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    }
    q = "http://localhost:4567/000000000000/orders"
    return [
        ("sqs", "CreateQueue", {"QueueName": "orders.fifo", "Attributes": {
            "FifoQueue": "true", "VisibilityTimeout": "40",
            "RedrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"5"}'},
            "tags": {"team": "data", "env": "dev"}}),
        ("sqs", "SendMessage", {"QueueUrl": q, "MessageBody": "hello\r\nworld <&>", "DelaySeconds": 5,
                                "MessageAttributes": attrs,
                                "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988"}},
                                "MessageGroupId": "g1", "MessageDeduplicationId": "d1"}),
        ("sqs", "SendMessageBatch", {"QueueUrl": q, "Entries": [
            {"Id": f"m{i}", "MessageBody": body_1k, "MessageAttributes": {"i": {"DataType": "Number", "StringValue": str(i)}}}
            for i in range(10)]}),
        ("sqs", "ReceiveMessage", {"QueueUrl": q, "AttributeNames": ["All"], "MessageAttributeNames": ["All", "color.*"],
                                   "MaxNumberOfMessages": 10, "VisibilityTimeout": 30, "WaitTimeSeconds": 20,
                                   "ReceiveRequestAttemptId": "a1"}),
        ("sqs", "GetQueueAttributes", {"QueueUrl": q, "AttributeNames": []}),
        ("sqs", "DeleteMessageBatch", {"QueueUrl": q, "Entries": [{"Id": "a", "ReceiptHandle": "rh+/="}, {"Id": "b", "ReceiptHandle": "x"}]}),
        ("sqs", "AddPermission", {"QueueUrl": q, "Label": "l", "AWSAccountIds": ["111122223333", "444455556666"], "Actions": ["SendMessage", "*"]}),
        ("cloudwatch", "PutMetricData", {"Namespace": "Freshet/Test", "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "StreamName", "Value": "s1"}, {"Name": "Shard", "Value": "0"}],
             "Timestamp": t0, "Value": 12.5, "Unit": "Milliseconds", "StorageResolution": 1},
            {"MetricName": "Sizes", "Timestamp": t0 + datetime.timedelta(microseconds=123456),
             "Values": [1.0, 2.5, 1e-3], "Counts": [3.0, 1.0, 7.0],
             "StatisticValues": {"SampleCount": 11.0, "Sum": 10.5, "Minimum": 0.001, "Maximum": 2.5}},
        ]}),
        ("cloudwatch", "GetMetricData", {"StartTime": t0, "EndTime": t0 + datetime.timedelta(hours=1), "MaxDatapoints": 100,
                                         "ScanBy": "TimestampDescending", "MetricDataQueries": [
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords",
                                                   "Dimensions": [{"Name": "StreamName", "Value": "s"}]},
                                        "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "e1", "Expression": "m1 / 60", "Label": "per second", "ReturnData": True}],
                                         "LabelOptions": {"Timezone": "+0130"}}),
        ("cloudwatch", "PutMetricAlarm", {"AlarmName": "high", "MetricName": "IteratorAgeMilliseconds", "Namespace": "AWS/Kinesis",
                                          "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 3, "Threshold": 60000.0,
                                          "ComparisonOperator": "GreaterThanThreshold", "ActionsEnabled": True,
                                          "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:t"], "OKActions": [],
                                          "Dimensions": [{"Name": "StreamName", "Value": "s"}], "TreatMissingData": "breaching",
                                          "Tags": [{"Key": "k", "Value": "v"}]}),
        ("cloudwatch", "DescribeAlarmHistory", {"AlarmName": "high", "HistoryItemType": "StateUpdate", "StartDate": t0,
                                                "EndDate": t0 + datetime.timedelta(days=1), "MaxRecords": 50, "ScanBy": "TimestampAscending"}),
    ]


def realistic_responses():
    return [
        ("sqs", "ReceiveMessage", {"Messages": [
            {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "ReceiptHandle": "MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw",
             "MD5OfBody": "fafb00f5732ab283681e124bf8747ed1", "Body": "This is a test message\r\n",
             "Attributes": {"SenderId": "195004372649", "SentTimestamp": "1238099229000", "ApproximateReceiveCount": "5",
                            "ApproximateFirstReceiveTimestamp": "1250700979248"},
             "MD5OfMessageAttributes": "a18cbb58171ebf4ce88d9fb787f9210b",
             "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"},
                                   "b": {"DataType": "Binary", "BinaryValue": "AAH+/w=="}}},
            {"MessageId": "2", "ReceiptHandle": "r2", "MD5OfBody": "x", "Body": "<xml>&amp;</xml>"}]}),
        ("sqs", "ReceiveMessage", {}),
        ("sqs", "GetQueueAttributes", {"Attributes": {"VisibilityTimeout": "30", "DelaySeconds": "0", "QueueArn": "arn:aws:sqs:us-east-1:0:q"}}),
        ("sqs", "ListQueues", {"QueueUrls": ["http://localhost:4567/0/a", "http://localhost:4567/0/b"], "NextToken": "t"}),
        ("sqs", "SendMessageBatch", {"Successful": [{"Id": "a", "MessageId": "m", "MD5OfMessageBody": "d"}],
                                     "Failed": [{"Id": "b", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "bad"}]}),
        ("sqs", "ListDeadLetterSourceQueues", {"queueUrls": ["http://localhost:4567/0/src"]}),
        ("sqs", "ListQueueTags", {"Tags": {"team": "data"}}),
        ("cloudwatch", "GetMetricStatistics", {"Label": "IncomingRecords", "Datapoints": [
            {"Timestamp": 1704067200, "Sum": 5.0, "Unit": "Count"},
            {"Timestamp": 1704067260.5, "Average": 1.25, "ExtendedStatistics": {"p99": 9.5, "p50": 2.0}}]}),
        ("cloudwatch", "GetMetricData", {"MetricDataResults": [
            {"Id": "m1", "Label": "L", "Timestamps": [1704067200, 1704067260], "Values": [1.0, 2.5], "StatusCode": "Complete"}],
            "Messages": [], "NextToken": "n"}),
        ("cloudwatch", "ListMetrics", {"Metrics": [{"Namespace": "AWS/Kinesis", "MetricName": "IncomingBytes",
                                                    "Dimensions": [{"Name": "StreamName", "Value": "s"}]}]}),
        ("cloudwatch", "DescribeAlarms", {"MetricAlarms": [{"AlarmName": "high", "StateValue": "ALARM", "Threshold": 60000.0,
                                                            "ActionsEnabled": True, "OKActions": [], "StateUpdatedTimestamp": 1704067200.123,
                                                            "Dimensions": [{"Name": "StreamName", "Value": "s"}], "EvaluationPeriods": 3}],
                                          "CompositeAlarms": []}),
        ("cloudwatch", "GetMetricWidgetImage", {"MetricWidgetImage": "iVBORw0KGgo="}),
    ]


ERRORS = [
    ("sqs", "AWS.SimpleQueueService.NonExistentQueue", "Sender", "The specified queue does not exist."),
    ("sqs", "InvalidParameterValue", "Sender", "Value (q&<>\"') for parameter QueueName is invalid.\r\nReason: x"),
    ("sqs", "InternalFailure", "Receiver", "The request processing has failed because of an unknown error, exception or failure."),
    ("sqs", "InvalidAction", "Sender", "The action or operation requested is invalid. Verify that the action is typed correctly."),
    ("cloudwatch", "ResourceNotFound", "Sender", "The named resource does not exist."),
    ("cloudwatch", "InternalServiceError", "Receiver", "é 😀 <oops>"),
    ("cloudwatch", "MissingParameter", "Sender", "A required parameter for the specified action is not supplied."),
]


# ---- generation ----

def make_requests(botocore, models):
    from botocore.awsrequest import AWSRequest
    from botocore.serialize import QuerySerializer
    rng = random.Random(20240101)
    serializer = QuerySerializer()
    cases = []

    def add(service, op_name, params):
        op = models[service].operation_model(op_name)
        req = serializer.serialize_to_request(params, op)
        body = AWSRequest(method="POST", url="https://localhost/", data=req["body"],
                          headers=req["headers"]).prepare().body
        expected = expected_json(op.input_shape, params) if op.input_shape is not None else {}
        cases.append({"service": service, "operation": op_name,
                      "input": {} if expected is ABSENT else expected, "body": body})

    for service, op_name, params in realistic_requests():
        add(service, op_name, params)
    gen = Gen(rng, output=False)
    for service in sorted(models):
        model = models[service]
        for op_name in sorted(model.operation_names):
            shape = model.operation_model(op_name).input_shape
            if shape is None:
                add(service, op_name, {})
                continue
            add(service, op_name, gen.value(shape, full=True))
            for _ in range(RANDOM_REQUESTS_PER_OP):
                add(service, op_name, gen.value(shape))
    return cases


def make_responses(models):
    rng = random.Random(20240102)
    gen = Gen(rng, output=True)
    cases = [{"service": s, "operation": o, "output": v} for s, o, v in realistic_responses()]
    for service in sorted(models):
        model = models[service]
        for op_name in sorted(model.operation_names):
            shape = model.operation_model(op_name).output_shape
            if shape is None:
                cases.append({"service": service, "operation": op_name, "output": {}})
                continue
            cases.append({"service": service, "operation": op_name, "output": gen.value(shape, full=True)})
            for _ in range(RANDOM_RESPONSES_PER_OP):
                cases.append({"service": service, "operation": op_name, "output": gen.value(shape)})
    for i, case in enumerate(cases):
        case["request_id"] = f"req-{i:04d}-{case['service']}"
    errors = [{"service": s, "code": c, "fault": f, "message": m, "request_id": f"err-{i}"}
              for i, (s, c, f, m) in enumerate(ERRORS)]
    return cases, errors


def encode_with_rust(responses, errors):
    """Runs the Rust encoder over the cases (the fixture test in bless mode)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "cases.json")
        dst = os.path.join(tmp, "encoded.json")
        with open(src, "w", encoding="utf-8") as f:
            json.dump({"responses": responses, "errors": errors}, f, ensure_ascii=False)
        env = dict(os.environ, FRESHET_QUERY_BLESS_IN=src, FRESHET_QUERY_BLESS_OUT=dst)
        subprocess.run(["cargo", "test", "--quiet", "-p", "freshet-protocol", "--test", "it", "--",
                        "--exact", "query::fixtures::bless", "--ignored"], cwd=REPO, env=env, check=True)
        with open(dst, encoding="utf-8") as f:
            encoded = json.load(f)
    for case, xml in zip(responses, encoded["responses"]):
        case["xml"] = xml
    for case, xml in zip(errors, encoded["errors"]):
        case["xml"] = xml


def verify_with_botocore(models, responses, errors):
    from botocore.parsers import QueryParser
    parser = QueryParser()
    failures = []
    for case in responses:
        op = models[case["service"]].operation_model(case["operation"])
        parsed = parser.parse({"body": case["xml"].encode(), "headers": {}, "status_code": 200}, op.output_shape)
        meta = parsed.pop("ResponseMetadata", {})
        want = readable(op.output_shape, case["output"]) if op.output_shape is not None else {}
        got = parsed_comparable(op.output_shape, parsed) if op.output_shape is not None else parsed
        if got != want or meta.get("RequestId") != case["request_id"]:
            failures.append((case["operation"], want, got, case["xml"]))
    for case in errors:
        parsed = parser.parse({"body": case["xml"].encode(), "headers": {}, "status_code": 400}, None)
        err = parsed.get("Error", {})
        if (err.get("Code"), err.get("Message"), err.get("Type")) != (case["code"], case["message"], case["fault"]) \
                or parsed.get("ResponseMetadata", {}).get("RequestId") != case["request_id"]:
            failures.append(("error", case, parsed, case["xml"]))
    for f in failures[:5]:
        print("MISMATCH", *f, sep="\n  ", file=sys.stderr)
    if failures:
        sys.exit(f"{len(failures)} responses did not parse back through botocore's QueryParser")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--botocore", help="folder holding the botocore 1.31.0 package")
    ap.add_argument("--check", action="store_true", help="fail if the committed fixtures differ")
    args = ap.parse_args()
    botocore = load_botocore(args.botocore)
    from botocore.model import ServiceModel
    models = {}
    for service, path in MODELS.items():
        with open(path, encoding="utf-8") as f:
            models[service] = ServiceModel(json.load(f), service_name=service)

    requests = make_requests(botocore, models)
    responses, errors = make_responses(models)
    encode_with_rust(responses, errors)
    verify_with_botocore(models, responses, errors)

    outputs = {"requests.json": requests, "responses.json": responses, "errors.json": errors}
    os.makedirs(FIXTURES, exist_ok=True)
    stale = []
    for name, data in outputs.items():
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        path = os.path.join(FIXTURES, name)
        if args.check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        sys.exit(f"fixtures differ from a fresh generation: {', '.join(stale)}")
    print(f"{len(requests)} requests, {len(responses)} responses, {len(errors)} errors: botocore agrees")


if __name__ == "__main__":
    main()
