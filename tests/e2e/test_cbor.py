"""CBOR 1.1 from an independent encoder (cbor2), shaped like the Java SDK's requests: byte-string
Data, tag 1 + integer epoch milliseconds for timestamps. boto3 never sends CBOR for Kinesis, so
the requests are raw (SigV4-signed) HTTP; what they write, boto3 reads back."""

from __future__ import annotations

import time

import cbor2

from kutil import create_stream, raw_request

CBOR_CT = "application/x-amz-cbor-1.1"


def cbor_call(endpoint: str, op: str, payload: dict):
    status, headers, data = raw_request(endpoint, cbor2.dumps(payload), target=op,
                                        content_type=CBOR_CT)
    assert headers["content-type"] == CBOR_CT, headers
    return status, data


def test_cbor2_requests_round_trip_with_boto3(endpoint, kinesis, stream_name):
    create_stream(kinesis, stream_name, 1)
    payload = bytes(range(256))
    status, data = cbor_call(endpoint, "PutRecord", {
        "StreamName": stream_name, "Data": payload, "PartitionKey": "k"})
    assert status == 200, data
    put = cbor2.loads(data)
    assert put["ShardId"] == "shardId-000000000000"

    # boto3 (JSON) reads exactly the bytes CBOR wrote.
    it = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=put["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=it)["Records"]
    assert [r["Data"] for r in records] == [payload]
    assert records[0]["SequenceNumber"] == put["SequenceNumber"]

    # AT_TIMESTAMP with tag 1 + integer millis, an hour back: the record is found.
    hour_ago_ms = int(time.time() * 1000) - 3_600_000
    status, data = cbor_call(endpoint, "GetShardIterator", {
        "StreamName": stream_name, "ShardId": put["ShardId"], "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": cbor2.CBORTag(1, hour_ago_ms)})
    assert status == 200, data
    iterator = cbor2.loads(data)["ShardIterator"]
    status, data = cbor_call(endpoint, "GetRecords", {"ShardIterator": iterator})
    assert status == 200, data
    # Checked on the bytes: cbor2 itself would read tag 1 as seconds (the quirk Java expects).
    assert b"ApproximateArrivalTimestamp\xc1\x1b" in data, data[:200]
    assert b"Data\x59\x01\x00" + payload in data, "Data is a 256-byte byte string"


def test_cbor_errors_are_cbor_maps(endpoint):
    status, data = cbor_call(endpoint, "DescribeStream", {"StreamName": "no-such-stream"})
    assert status == 400
    body = cbor2.loads(data)
    assert body["__type"] == "ResourceNotFoundException"
    assert body["message"] == "Stream no-such-stream under account 000000000000 not found."

    status, data = cbor_call(endpoint, "CreateStream", {"StreamName": "x", "ShardCount": "2"})
    assert status == 400
    assert cbor2.loads(data) == {
        "__type": "SerializationException",
        "Message": "class java.lang.String can not be converted to an Integer",
    }

    status, headers, data = raw_request(endpoint, b"\xa1\x64Da", target="PutRecord",
                                        content_type=CBOR_CT)
    assert status == 400
    assert cbor2.loads(data) == {"__type": "SerializationException"}
