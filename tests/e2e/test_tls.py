"""The TLS port (`freshet serve --tls-listen`) with boto3 and the AWS CLI over https://,
trusting the certificate Freshet generates in its data directory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import boto3
import cbor2
import pytest
from botocore.config import Config
from botocore.exceptions import SSLError

from kutil import REGION, FreshetServer, free_port, unique
from test_cli import aws_command


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshet-tls")
    tls_port = free_port()
    srv = FreshetServer(root / "data", root / "server.log",
                        extra_args=["--tls-listen", f"127.0.0.1:{tls_port}"])
    srv.start()
    srv.tls_port = tls_port
    yield srv
    srv.stop()


def https_client(endpoint: str, verify):
    return boto3.client(
        "kinesis", endpoint_url=endpoint, region_name=REGION, verify=verify,
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def test_boto3_over_https_trusting_the_generated_certificate(tls_server):
    cert = tls_server.data_dir / "tls" / "cert.pem"
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert str(cert) in tls_server.log_tail(200) or "tls/cert.pem" in tls_server.log_tail(200), \
        "the server logs where its certificate is"
    for host in ("localhost", "127.0.0.1"):
        kinesis = https_client(f"https://{host}:{tls_server.tls_port}", str(cert))
        name = unique("tls")
        kinesis.create_stream(StreamName=name, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"over https")
        it = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = kinesis.get_records(ShardIterator=it)["Records"]
        assert [r["Data"] for r in records] == [b"over https"]


def test_an_untrusting_client_refuses_the_certificate(tls_server):
    kinesis = https_client(f"https://localhost:{tls_server.tls_port}", True)
    with pytest.raises(SSLError):
        kinesis.list_streams()


def test_the_tls_port_offers_h2_and_http1_by_alpn(tls_server):
    cert = tls_server.data_dir / "tls" / "cert.pem"
    for offer, chosen in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")):
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.set_alpn_protocols(offer)
        with socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.selected_alpn_protocol() == chosen


def test_aws_cli_over_https_with_a_ca_bundle(tls_server, tmp_path):
    cert = tls_server.data_dir / "tls" / "cert.pem"
    env = os.environ.copy()
    env.update({
        "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_PAGER": "",
    })
    cmd = [*aws_command(), "--endpoint-url", f"https://localhost:{tls_server.tls_port}",
           "--ca-bundle", str(cert), "--output", "json", "kinesis", "list-streams"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "StreamNames" in json.loads(proc.stdout)


@pytest.mark.skipif(not (shutil.which("java") and shutil.which("keytool")), reason="needs a JDK")
def test_a_java_client_trusting_the_certificate_with_keytool_speaks_cbor_over_h2(tls_server, tmp_path):
    """The README's Java recipe, literally: keytool imports the generated certificate into a
    trust store, and the JDK's HTTP client (JSSE, HTTP/2 by ALPN) makes CBOR calls."""
    cert = tls_server.data_dir / "tls" / "cert.pem"
    store = tmp_path / "freshet-trust.p12"
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "freshet", "-file", str(cert),
                    "-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"],
                   check=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    program = Path(__file__).parent / "java" / "CborCall.java"
    endpoint = f"https://localhost:{tls_server.tls_port}"

    def call(op: str, payload: dict):
        proc = subprocess.run(
            ["java", f"-Djavax.net.ssl.trustStore={store}", "-Djavax.net.ssl.trustStorePassword=changeit",
             str(program), endpoint, op, cbor2.dumps(payload).hex()],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        status, version, content_type, body = (proc.stdout.splitlines() + [""])[:4]
        assert version == "HTTP_2", "ALPN chose h2"
        assert content_type == "application/x-amz-cbor-1.1"
        return int(status), bytes.fromhex(body)

    name = f"java-{int(time.time() * 1000)}"
    assert call("CreateStream", {"StreamName": name, "ShardCount": 1})[0] == 200
    kinesis = https_client(endpoint, str(cert))
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    status, body = call("PutRecord", {"StreamName": name, "Data": b"\x00java\xff", "PartitionKey": "k"})
    assert status == 200, body
    shard = cbor2.loads(body)["ShardId"]
    status, body = call("GetShardIterator", {"StreamName": name, "ShardId": shard,
                                             "ShardIteratorType": "TRIM_HORIZON"})
    status, body = call("GetRecords", {"ShardIterator": cbor2.loads(body)["ShardIterator"]})
    assert status == 200, body
    assert b"Data\x46\x00java\xff" in body, body
    assert b"ApproximateArrivalTimestamp\xc1\x1b" in body, body
    status, body = call("DescribeStream", {"StreamName": "missing"})
    assert status == 400
    assert cbor2.loads(body)["__type"] == "ResourceNotFoundException"


def test_the_certificate_survives_a_restart(tls_server):
    cert = tls_server.data_dir / "tls" / "cert.pem"
    before = cert.read_bytes()
    tls_server.stop()
    tls_server.start()
    assert cert.read_bytes() == before
    kinesis = https_client(f"https://localhost:{tls_server.tls_port}", str(cert))
    assert "StreamNames" in kinesis.list_streams()
