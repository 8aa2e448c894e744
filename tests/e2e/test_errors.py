"""Bad input gets the AWS error a client expects, and the server stays up afterwards."""

from __future__ import annotations

import http.client
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from kutil import ACCOUNT, JSON_CT, REGION, b64, create_stream, raw_json, raw_request, shard_iterator

SHARD0 = "shardId-000000000000"


def client_error(call) -> dict:
    with pytest.raises(ClientError) as err:
        call()
    resp = err.value.response
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400, resp
    return resp["Error"]


def assert_up(kinesis) -> None:
    """A successful call right after the bad one: the server is still answering."""
    resp = kinesis.list_streams(Limit=1)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.fixture
def one_shard_stream(kinesis, stream_name) -> str:
    create_stream(kinesis, stream_name, shards=1)
    return stream_name


# --- errors through boto3 --------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda k: k.describe_stream(StreamName="nope"),
    lambda k: k.describe_stream_summary(StreamName="nope"),
    lambda k: k.describe_stream_summary(StreamARN=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/nope"),
    lambda k: k.put_record(StreamName="nope", Data=b"x", PartitionKey="k"),
    lambda k: k.put_records(StreamName="nope", Records=[{"Data": b"x", "PartitionKey": "k"}]),
    lambda k: k.list_shards(StreamName="nope"),
    lambda k: k.delete_stream(StreamName="nope"),
    lambda k: k.increase_stream_retention_period(StreamName="nope", RetentionPeriodHours=48),
], ids=["DescribeStream", "DescribeStreamSummary", "DescribeStreamSummary-ARN", "PutRecord",
        "PutRecords", "ListShards", "DeleteStream", "IncreaseStreamRetentionPeriod"])
def test_unknown_stream_is_resource_not_found(kinesis, call):
    e = client_error(lambda: call(kinesis))
    assert e["Code"] == "ResourceNotFoundException"
    assert e["Message"] == "Stream nope under account 000000000000 not found."
    assert_up(kinesis)


def test_get_shard_iterator_unknown_stream_and_shard(kinesis, one_shard_stream):
    e = client_error(lambda: kinesis.get_shard_iterator(
        StreamName="nope", ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON"))
    assert e["Code"] == "ResourceNotFoundException"
    assert e["Message"] == "Shard shardId-000000000000 in stream nope under account 000000000000 does not exist"

    e = client_error(lambda: kinesis.get_shard_iterator(
        StreamName=one_shard_stream, ShardId="shardId-000000000007", ShardIteratorType="TRIM_HORIZON"))
    assert e["Code"] == "ResourceNotFoundException"
    assert e["Message"] == (f"Shard shardId-000000000007 in stream {one_shard_stream} "
                            "under account 000000000000 does not exist")
    assert_up(kinesis)


def test_duplicate_create_is_resource_in_use(kinesis, one_shard_stream):
    e = client_error(lambda: kinesis.create_stream(StreamName=one_shard_stream, ShardCount=1))
    assert e["Code"] == "ResourceInUseException"
    assert e["Message"] == f"Stream {one_shard_stream} under account 000000000000 already exists."
    assert_up(kinesis)


@pytest.mark.parametrize("iterator", ["garbage", "A" * 200, "AAAAAAAAAAAAAAAAAAAAAAAA"])
def test_bad_iterator_is_invalid_argument(kinesis, iterator):
    e = client_error(lambda: kinesis.get_records(ShardIterator=iterator))
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == "Invalid ShardIterator."
    assert_up(kinesis)


def test_forged_iterator_is_invalid_argument(kinesis, one_shard_stream):
    kinesis.put_record(StreamName=one_shard_stream, Data=b"secret", PartitionKey="k")
    it = shard_iterator(kinesis, one_shard_stream, SHARD0)
    # Flip one character in the middle of an otherwise valid iterator.
    mid = len(it) // 2
    forged = it[:mid] + ("B" if it[mid] != "B" else "C") + it[mid + 1:]
    e = client_error(lambda: kinesis.get_records(ShardIterator=forged))
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == "Invalid ShardIterator."
    # The real one still works.
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"secret"]


def test_iterator_type_and_sequence_number_mismatch(kinesis, one_shard_stream):
    seq = kinesis.put_record(StreamName=one_shard_stream, Data=b"x", PartitionKey="k")["SequenceNumber"]
    e = client_error(lambda: kinesis.get_shard_iterator(
        StreamName=one_shard_stream, ShardId=SHARD0, ShardIteratorType="AT_SEQUENCE_NUMBER"))
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == (
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber "
        "or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
    e = client_error(lambda: kinesis.get_shard_iterator(
        StreamName=one_shard_stream, ShardId=SHARD0, ShardIteratorType="LATEST", StartingSequenceNumber=seq))
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == (
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber "
        "or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified LATEST and also a StartingSequenceNumber.")
    e = client_error(lambda: kinesis.get_shard_iterator(
        StreamName=one_shard_stream, ShardId=SHARD0, ShardIteratorType="AT_TIMESTAMP"))
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == ("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                            "Current request has no timestamp parameter.")
    assert_up(kinesis)


def test_bad_explicit_hash_key(kinesis, one_shard_stream):
    too_big = str(2**128)
    e = client_error(lambda: kinesis.put_record(StreamName=one_shard_stream, Data=b"x", PartitionKey="k",
                                                ExplicitHashKey=too_big))
    assert e["Code"] == "InvalidArgumentException"
    assert e["Message"] == ("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                            f"Specified value was {too_big}")
    assert_up(kinesis)


def test_oversized_record_is_rejected_and_largest_record_accepted(kinesis, one_shard_stream):
    mib = 1024 * 1024
    e = client_error(lambda: kinesis.put_record(StreamName=one_shard_stream, Data=b"x" * (mib + 1), PartitionKey="k"))
    assert e["Code"] in ("ValidationException", "InvalidArgumentException"), e
    assert_up(kinesis)
    e = client_error(lambda: kinesis.put_records(StreamName=one_shard_stream, Records=[
        {"Data": b"small", "PartitionKey": "k"}, {"Data": b"x" * (mib + 1), "PartitionKey": "k"}]))
    assert e["Code"] in ("ValidationException", "InvalidArgumentException"), e
    assert_up(kinesis)

    # Data plus partition key of exactly 1 MiB is the largest record allowed.
    big = bytes(range(256)) * (mib // 256)
    big = big[: mib - 1]
    resp = kinesis.put_record(StreamName=one_shard_stream, Data=big, PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamName=one_shard_stream, ShardId=SHARD0, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=resp["SequenceNumber"])["ShardIterator"]
    recs = kinesis.get_records(ShardIterator=it, Limit=1)["Records"]
    assert recs[0]["Data"] == big, "the failed puts must not have stored anything"
    # Nothing from the rejected PutRecords call was stored.
    it = shard_iterator(kinesis, one_shard_stream, SHARD0)
    assert [len(r["Data"]) for r in kinesis.get_records(ShardIterator=it)["Records"]] == [mib - 1]


def test_too_many_records_is_validation_exception(kinesis, one_shard_stream):
    e = client_error(lambda: kinesis.put_records(
        StreamName=one_shard_stream, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501))
    assert e["Code"] == "ValidationException"
    msg = e["Message"]
    assert msg.startswith("1 validation error detected: Value '"), msg
    assert msg.endswith("' at 'records' failed to satisfy constraint: "
                        "Member must have length less than or equal to 500"), msg
    assert_up(kinesis)


def test_model_constraints_are_validation_exceptions(endpoint, kinesis):
    cases = [
        ("CreateStream", {"StreamName": "ok-name", "ShardCount": 0},
         "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
         "Member must have value greater than or equal to 1"),
        ("CreateStream", {"StreamName": "bad name!", "ShardCount": 1},
         "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
        ("GetRecords", {"ShardIterator": "x", "Limit": 10001},
         "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
         "Member must have value less than or equal to 10000"),
        ("CreateStream", {"StreamName": "bad name!", "ShardCount": 0},
         "2 validation errors detected: "
         "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; "
         "Value 'bad name!' at 'streamName' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    ]
    for op, payload, message in cases:
        status, body, _ = raw_json(endpoint, op, payload)
        assert status == 400, (op, payload, body)
        assert body["__type"] == "ValidationException", (op, payload, body)
        if message.startswith("2 "):
            # The order of the items is AWS's own; accept either order, but every item.
            items = set(message.split(": ", 1)[1].split("; "))
            assert body["message"].startswith("2 validation errors detected: "), body
            assert set(body["message"].split(": ", 1)[1].split("; ")) == items, body
        else:
            assert body["message"] == message, (op, payload, body)
        assert_up(kinesis)


# --- raw HTTP ---------------------------------------------------------------------------------


def test_malformed_json_is_serialization_exception(endpoint, kinesis):
    for body in ['{"StreamName": ', "not json at all", '{"StreamName": "a"', "\x00\x01\x02"]:
        status, headers, data = raw_request(endpoint, body, target="DescribeStreamSummary")
        assert status == 400, (body, data)
        assert headers["content-type"].startswith(JSON_CT)
        assert json.loads(data)["__type"] == "SerializationException", (body, data)
        assert_up(kinesis)


def test_empty_body_is_serialization_exception(endpoint, kinesis):
    status, _, data = raw_request(endpoint, b"", target="DescribeStreamSummary")
    assert status == 400
    assert json.loads(data)["__type"] == "SerializationException"
    assert_up(kinesis)


@pytest.mark.parametrize("op,payload", [
    ("DescribeStreamSummary", {"StreamName": 123}),
    ("DescribeStreamSummary", {"StreamName": ["a"]}),
    ("DescribeStreamSummary", {"StreamName": {"a": 1}}),
    ("CreateStream", {"StreamName": "wrong-types", "ShardCount": "abc"}),
    ("CreateStream", {"StreamName": "wrong-types", "ShardCount": {"n": 1}}),
    ("PutRecords", {"StreamName": "wrong-types", "Records": {"Data": "eA==", "PartitionKey": "k"}}),
    ("PutRecords", {"StreamName": "wrong-types", "Records": "nope"}),
    ("PutRecord", {"StreamName": "wrong-types", "Data": "not base64!", "PartitionKey": "k"}),
    ("PutRecord", {"StreamName": "wrong-types", "Data": "abcde", "PartitionKey": "k"}),
    ("PutRecord", {"StreamName": "wrong-types", "Data": 5, "PartitionKey": "k"}),
    ("GetShardIterator", {"StreamName": "wrong-types", "ShardId": SHARD0, "ShardIteratorType": "AT_TIMESTAMP",
                          "Timestamp": "yesterday"}),
], ids=lambda v: v if isinstance(v, str) else json.dumps(v)[:40])
def test_wrong_types_are_serialization_exceptions(endpoint, kinesis, op, payload):
    status, body, _ = raw_json(endpoint, op, payload)
    assert status == 400, body
    assert body["__type"] == "SerializationException", body
    assert_up(kinesis)


def test_unknown_operation(endpoint, kinesis):
    status, body, _ = raw_json(endpoint, "Frobnicate", {})
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert_up(kinesis)


def test_raw_success_envelope(endpoint, kinesis, one_shard_stream):
    """200, JSON 1.1 content type, a request id, and an empty body for output-less operations."""
    status, body, headers = raw_json(endpoint, "PutRecord",
                                     {"StreamName": one_shard_stream, "Data": b64(b"raw"), "PartitionKey": "k"})
    assert status == 200
    assert headers["content-type"].startswith(JSON_CT)
    assert headers.get("x-amzn-requestid")
    assert set(body) == {"ShardId", "SequenceNumber"} or set(body) == {"ShardId", "SequenceNumber", "EncryptionType"}
    # Unknown members are ignored.
    status, body, _ = raw_json(endpoint, "DescribeStreamSummary", {"StreamName": one_shard_stream, "Bogus": 1})
    assert status == 200
    assert body["StreamDescriptionSummary"]["StreamName"] == one_shard_stream
    status, body, _ = raw_json(endpoint, "IncreaseStreamRetentionPeriod",
                               {"StreamName": one_shard_stream, "RetentionPeriodHours": 24})
    assert status == 200
    assert body is None, "operations without an output shape answer with an empty body"


def test_oversized_body_is_refused_and_server_stays_up(endpoint, kinesis):
    size = 17 * 1024 * 1024
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    body = b'{"StreamName":"x","PartitionKey":"k","Data":"' + b"A" * (size - 60) + b'"}'
    req = AWSRequest(method="POST", url=f"{endpoint}/", data=body, headers={
        "Content-Type": JSON_CT, "X-Amz-Target": "Kinesis_20131202.PutRecord"})
    SigV4Auth(Credentials("x", "x"), "kinesis", REGION).add_auth(req)
    status = None
    try:
        conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
        status = conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        # The server may answer before reading the whole body and close; the answer can then
        # be lost to the reset. What matters is that it refused and keeps serving.
        try:
            status = conn.getresponse().status
        except (http.client.HTTPException, OSError):
            status = None
    finally:
        conn.close()
    assert status in (413, 400, None), status
    print(f"17 MiB body answered with {status if status else 'a connection reset'}")
    assert_up(kinesis)
    # And the same with a small, honest request on a new connection.
    assert raw_json(endpoint, "ListStreams", {})[0] == 200


def test_non_post_is_access_denied_xml(endpoint, kinesis):
    """AWS answers anything but POST with 403 and an XML AccessDeniedException."""
    for method in ("GET", "PUT", "DELETE"):
        status, _, data = raw_request(endpoint, b"", target=None, content_type=None, method=method)
        assert status == 403, (method, status, data)
        text = data.decode()
        assert "<AccessDeniedException>" in text, text
        assert "Unable to determine service/operation name to be authorized" in text, text
    assert_up(kinesis)
