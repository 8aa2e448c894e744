"""REST ingest: API Gateway's Kinesis proxies under /restapis/, driven the way their users drive
them (the tutorial's requests as curl commands, front-end style JSON with `requests`), and
read back with boto3 to check the bytes Kinesis stored are the ones AWS would store."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import kutil


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    """A server with one stream-bound API, `ingest`, writing to the stream `bound-<id>`."""
    root = tmp_path_factory.mktemp("rest-ingest")
    bound = kutil.unique("bound")
    config = root / "freshet.toml"
    config.write_text(f'[[apigateway.kinesis_apis]]\nname = "ingest"\nstream = "{bound}"\n')
    srv = kutil.FreshetServer(root / "data", root / "server.log",
                              extra_args=["--config", str(config)])
    srv.start()
    client = kutil.kinesis_client(srv.endpoint)
    kutil.create_stream(client, bound, 1)
    yield srv, client, bound
    srv.stop()


def curl(*args: str) -> tuple[int, dict | None]:
    """Runs curl; returns the HTTP status and the JSON body (None when empty)."""
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *args],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    body, _, status = out.rpartition("\n")
    return int(status), (json.loads(body) if body.strip() else None)


def stored(client, stream: str) -> list[tuple[bytes, str]]:
    records = kutil.read_shard(client, stream, "shardId-000000000000")
    return [(r["Data"], r["PartitionKey"]) for r in records]


def test_the_tutorials_requests_work_against_freshet(rest):
    srv, client, _ = rest
    api = f"{srv.endpoint}/restapis/kinesis/test"
    s = kutil.unique("tutorial")
    status, body = curl("-X", "POST", f"{api}/streams/{s}", "-H", "Content-Type: application/json",
                        "-d", '{"ShardCount": 1}')
    assert (status, body) == (200, None)
    kutil.wait_active(client, s)
    status, body = curl(f"{api}/streams")
    assert status == 200 and s in body["StreamNames"] and body["HasMoreStreams"] is False
    status, body = curl(f"{api}/streams/{s}", "-H", "Content-Type: application/json")
    assert body["StreamDescription"]["StreamName"] == s
    assert body["StreamDescription"]["StreamStatus"] == "ACTIVE"

    status, body = curl("-X", "PUT", f"{api}/streams/{s}/record", "-H",
                        "Content-Type: application/json",
                        "-d", '{"Data": "some data", "PartitionKey": "some key"}')
    assert status == 200 and body["ShardId"] == "shardId-000000000000", body
    status, body = curl("-X", "PUT", f"{api}/streams/{s}/records", "-H",
                        "Content-Type: application/json", "-d",
                        '{"records": [{"data": "some data", "partition-key": "some key"},'
                        ' {"data": "some other data", "partition-key": "some key"}]}')
    assert status == 200 and body["FailedRecordCount"] == 0 and len(body["Records"]) == 2
    status, body = curl("-X", "PUT", f"{api}/streams/{s}/record", "-H",
                        "Content-Type: application/json",
                        "-d", '{"Data": {"ticker": "AMZN", "price": 12.50}, "PartitionKey": "k2"}')
    assert status == 200, body

    # PutRecord's template stores the JSON text of Data (quotes included); PutRecords' stores
    # the string itself, exactly as on AWS.
    assert stored(client, s) == [
        (b'"some data"', "some key"),
        (b"some data", "some key"),
        (b"some other data", "some key"),
        (b'{"ticker":"AMZN","price":12.50}', "k2"),
    ]

    status, body = curl(f"{api}/streams/{s}/sharditerator?shard-id=shardId-000000000000")
    iterator = body["ShardIterator"]
    status, body = curl(f"{api}/streams/{s}/records", "-H", f"Shard-Iterator: {iterator}")
    assert status == 200 and body["MillisBehindLatest"] == 0
    assert [kutil.b64(b'"some data"'), kutil.b64(b"some data")] == \
        [r["Data"] for r in body["Records"][:2]]
    assert body["NextShardIterator"]

    status, body = curl("-X", "DELETE", f"{api}/streams/{s}", "-H",
                        "Content-Type: application/json", "-d", "{}")
    assert (status, body) == (200, None)
    client.get_waiter("stream_not_exists").wait(StreamName=s, WaiterConfig={"Delay": 0.2})


def test_api_gateway_errors_have_its_statuses_and_bodies(rest):
    srv, _, _ = rest
    api = f"{srv.endpoint}/restapis/kinesis/test"
    for method, url in [("GET", f"{api}/nothing"), ("PATCH", f"{api}/streams"),
                        ("GET", f"{srv.endpoint}/restapis/nosuchapi/test/streams"),
                        ("GET", f"{srv.endpoint}/restapis/ingest/test/record")]:
        r = requests.request(method, url, timeout=30)
        assert r.status_code == 403, (method, url, r.text)
        assert r.json() == {"message": "Missing Authentication Token"}
        assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"

    # Kinesis errors come back with the default integration response: 200 and Kinesis's body.
    r = requests.get(f"{api}/streams/no-such-stream", timeout=30)
    assert r.status_code == 200 and r.json()["__type"] == "ResourceNotFoundException"
    assert "x-amzn-ErrorType" not in r.headers
    # DeleteStream maps 4xx to 400 and passes Kinesis's content type on.
    r = requests.delete(f"{api}/streams/no-such-stream", timeout=30)
    assert r.status_code == 400 and r.json()["__type"] == "ResourceNotFoundException"
    assert r.headers["Content-Type"] == "application/x-amz-json-1.1"

    r = requests.put(f"{api}/streams/x/record", data=b'{"Data": ', timeout=30,
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Could not parse request body into json: ")

    # curl -d without a content type sends a form: no template matches, so the body reaches
    # Kinesis unmapped (WHEN_NO_MATCH), which refuses it.
    status, body = curl("-X", "PUT", f"{api}/streams/x/record",
                        "-d", '{"Data": "some data", "PartitionKey": "some key"}')
    assert status == 200 and "__type" in body, body

    r = requests.put(f"{api}/streams/x/record", data=b"x" * (10 * 1024 * 1024 + 1), timeout=60,
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json() == {"message": "Request Too Long"}


def test_the_stream_bound_api_writes_to_its_stream(rest):
    srv, client, bound = rest
    api = f"{srv.endpoint}/restapis/ingest/prod"
    before = len(stored(client, bound))
    r = requests.post(f"{api}/record", json={"data": "Hello World!", "partitionKey": "pk001"},
                      timeout=30)
    assert r.status_code == 200 and r.json()["ShardId"] == "shardId-000000000000", r.text
    r = requests.post(f"{api}/records", timeout=30, json={
        "records": [{"data": "abc", "partitionKey": "pk001"}, {"data": "xyz", "partitionKey": "pk002"}]})
    assert r.status_code == 200 and r.json()["FailedRecordCount"] == 0, r.text
    assert stored(client, bound)[before:] == [
        (b'"Hello World!"', "pk001"), (b"abc", "pk001"), (b"xyz", "pk002")]

    for body in [{"data": "x"}, {"records": [{"data": 1, "partitionKey": "k"}]}, ["x"]]:
        path = "records" if isinstance(body, dict) and "records" in body else "record"
        r = requests.post(f"{api}/{path}", json=body, timeout=30)
        assert r.status_code == 400 and r.json() == {"message": "Invalid request body"}, body
    r = requests.post(f"{api}/record", data="x", headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 415 and r.json() == {"message": "Unsupported Media Type"}


def test_browsers_get_cors_and_signed_requests_work(rest):
    srv, _, bound = rest
    url = f"{srv.endpoint}/restapis/ingest/prod/record"
    r = requests.options(url, timeout=30, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Methods"] == "POST"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type"
    r = requests.post(url, json={"data": "from a page", "partitionKey": "web"}, timeout=30,
                      headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"

    # IAM-authorized APIs: a SigV4 request for execute-api is served too.
    body = json.dumps({"data": "signed", "partitionKey": "iam"})
    req = AWSRequest(method="POST", url=url, data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "execute-api", "us-east-1").add_auth(req)
    r = requests.post(url, data=body, headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 200 and "SequenceNumber" in r.json(), r.text
