"""S3 with real clients: boto3 (put/get/head/list/copy/delete, multipart, ranges, checksums,
presigned URLs, virtual-host addressing, errors), the AWS CLI (mb/ls/cp/sync/rm/rb), a big
object up and down with the server's memory bounded, and a SIGKILL crash test under
concurrent PUTs.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from kutil import REGION, FreshetServer, unique


def s3_client(endpoint: str, addressing: str = "path", **kw):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="AKIDANY",
        aws_secret_access_key="any-secret",
        config=Config(s3={"addressing_style": addressing}, retries={"max_attempts": 2}, **kw),
    )


@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint)


@pytest.fixture
def bucket(s3, request) -> str:
    name = unique("b")[:40].lower().replace("_", "-")
    s3.create_bucket(Bucket=name)
    return name


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def test_objects_round_trip_with_metadata_and_checksums(s3, bucket):
    body = os.urandom(100_000)
    put = s3.put_object(Bucket=bucket, Key="dir/a b+c.bin", Body=body, ContentType="application/x-test",
                        Metadata={"owner": "me"}, ChecksumAlgorithm="CRC32")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert "ChecksumCRC32" in put
    got = s3.get_object(Bucket=bucket, Key="dir/a b+c.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "me"}
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    head = s3.head_object(Bucket=bucket, Key="dir/a b+c.bin")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"]


def test_ranges_and_conditional_gets(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=2-4")["Body"].read() == b"234"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-3")["Body"].read() == b"789"
    r = s3.get_object(Bucket=bucket, Key="r", Range="bytes=7-")
    assert r["ContentRange"] == "bytes 7-9/10"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=20-30")
    assert code(e.value) == "InvalidRange"
    etag = s3.head_object(Bucket=bucket, Key="r")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfMatch='"nope"')
    assert code(e.value) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="r", IfMatch=etag)["Body"].read() == b"0123456789"


def test_bad_digests_are_refused_and_nothing_is_stored(s3, bucket):
    import base64
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"abc",
                      ContentMD5=base64.b64encode(hashlib.md5(b"xyz").digest()).decode())
    assert code(e.value) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"abc", ChecksumCRC32="AAAAAA==")
    assert code(e.value) == "BadDigest"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_listing_paginates_with_delimiters_start_after_and_url_encoding(s3, bucket):
    keys = [f"p/{i:03d}" for i in range(25)] + ["a", "q/x/1", "q/y/2", "z z"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 7})
    listed = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert listed == sorted(keys)
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a", "z z"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["p/", "q/"]
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1})
    entries = []
    for p in pages:
        entries += [o["Key"] for o in p.get("Contents", [])] + [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    assert entries == ["a", "p/", "q/", "z z"]
    after = s3.list_objects_v2(Bucket=bucket, Prefix="p/", StartAfter="p/020")
    assert [o["Key"] for o in after["Contents"]] == [f"p/{i:03d}" for i in range(21, 25)]
    # botocore decodes only what it asked to be encoded itself (the paginator above did).
    enc = s3.list_objects_v2(Bucket=bucket, Prefix="z", EncodingType="url")
    assert [o["Key"] for o in enc["Contents"]] == ["z%20z"]


def test_delete_objects_and_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", Metadata={"k": "v"}, ContentType="text/plain")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    d = s3.get_object(Bucket=bucket, Key="dst")
    assert d["Body"].read() == b"payload" and d["Metadata"] == {"k": "v"}
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"n": "1"}, ContentType="application/json")
    d2 = s3.head_object(Bucket=bucket, Key="dst2")
    assert d2["Metadata"] == {"n": "1"} and d2["ContentType"] == "application/json"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert code(e.value) == "InvalidRequest"
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "none"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["dst", "none", "src"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dst2"]


def test_errors_carry_aws_codes(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code(e.value) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="no-such-bucket-here", Key="k")
    assert code(e.value) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Invalid_Name")
    assert code(e.value) == "InvalidBucketName"
    s3.create_bucket(Bucket=bucket)  # us-east-1: already owned is 200
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert code(e.value) == "BucketNotEmpty"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert code(e.value) == "ServerSideEncryptionConfigurationNotFoundError"
    assert s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") is None
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="nope")
    assert code(e.value) == "NoSuchUpload"


def test_multipart_uploads_complete_with_aws_etags_and_part_rules(s3, bucket, tmp_path):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    p1 = os.urandom(5 * 1024 * 1024)
    p2 = b"tail"
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=2, Body=p2)["ETag"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]] == [1, 2]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert code(e.value) == "InvalidPartOrder"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]})
    assert code(e.value) == "InvalidPart"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    want = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
    assert done["ETag"] == f'"{want}"'
    # A range across the part boundary.
    r = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={len(p1) - 2}-{len(p1) + 1}")
    assert r["Body"].read() == p1[-2:] + p2[:2]
    # EntityTooSmall: a small part that is not the last.
    up = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    a = s3.upload_part(Bucket=bucket, Key="small", UploadId=up, PartNumber=1, Body=b"a")["ETag"]
    b = s3.upload_part(Bucket=bucket, Key="small", UploadId=up, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": a}, {"PartNumber": 2, "ETag": b}]})
    assert code(e.value) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=up)


def test_upload_file_and_download_file_use_multipart_and_ranges(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(12 * 1024 * 1024 + 123))
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), bucket, "big", Config=cfg)
    assert s3.head_object(Bucket=bucket, Key="big")["ETag"].endswith('-3"')
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "big", str(dst), Config=cfg)
    assert dst.read_bytes() == src.read_bytes()


def test_presigned_urls_and_virtual_host_addressing(endpoint, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    req = urllib.request.Request(url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.read() == b"presigned body"
    port = endpoint.rsplit(":", 1)[1]
    # Virtual-host style by Host header, whether or not <bucket>.localhost resolves here.
    s3.put_object(Bucket=bucket, Key="v/h", Body=b"virtual")
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    conn.request("GET", "/v/h", headers={"Host": f"{bucket}.localhost:{port}"})
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b"virtual")
    conn.close()
    vh = s3_client(f"http://localhost:{port}", addressing="virtual")
    try:
        vh.put_object(Bucket=bucket, Key="v/h", Body=b"virtual")
    except Exception as e:  # noqa: BLE001 - <bucket>.localhost must resolve for this part
        pytest.skip(f"{bucket}.localhost does not resolve here: {e}")
    assert vh.get_object(Bucket=bucket, Key="v/h")["Body"].read() == b"virtual"
    assert s3.get_object(Bucket=bucket, Key="v/h")["Body"].read() == b"virtual"


def aws_cli(endpoint: str, *args: str, cwd: Path | None = None) -> str:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_DEFAULT_REGION=REGION)
    out = subprocess.run(["aws", "--endpoint-url", endpoint, *args], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_aws_cli_makes_lists_copies_syncs_and_removes(endpoint, tmp_path):
    b = unique("cli")[:40].lower().replace("_", "-")
    aws_cli(endpoint, "s3", "mb", f"s3://{b}")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for i in range(3):
        (tree / f"f{i}.txt").write_text(f"file {i}")
        (tree / "sub" / f"g{i}.txt").write_text(f"sub {i}")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    aws_cli(endpoint, "s3", "cp", str(big), f"s3://{b}/big.bin", "--no-progress")
    assert "upload" in aws_cli(endpoint, "s3", "sync", str(tree), f"s3://{b}/tree", "--no-progress")
    assert aws_cli(endpoint, "s3", "sync", str(tree), f"s3://{b}/tree", "--no-progress") == ""
    ls = aws_cli(endpoint, "s3", "ls", f"s3://{b}/tree/")
    assert "PRE sub/" in ls and "f0.txt" in ls
    assert b in aws_cli(endpoint, "s3", "ls")
    out = tmp_path / "out"
    aws_cli(endpoint, "s3", "cp", f"s3://{b}/tree", str(out), "--recursive", "--no-progress")
    assert (out / "sub" / "g2.txt").read_text() == "sub 2"
    aws_cli(endpoint, "s3", "cp", f"s3://{b}/big.bin", str(tmp_path / "big2.bin"), "--no-progress")
    assert (tmp_path / "big2.bin").read_bytes() == big.read_bytes()
    aws_cli(endpoint, "s3", "rm", f"s3://{b}", "--recursive")
    aws_cli(endpoint, "s3", "rb", f"s3://{b}")
    assert b not in aws_cli(endpoint, "s3", "ls")


class _Zeros:
    """A file-like object of `n` pseudo-random bytes generated on the fly (never all in memory)."""

    def __init__(self, n: int, seed: int = 7):
        self.n, self.pos, self.md5 = n, 0, hashlib.md5()
        self.block = random.Random(seed).randbytes(1024 * 1024)

    def read(self, size: int = -1) -> bytes:
        left = self.n - self.pos
        size = left if size is None or size < 0 else min(size, left)
        out = bytearray()
        while len(out) < size:
            off = (self.pos + len(out)) % len(self.block)
            out += self.block[off: off + size - len(out)]
        self.pos += len(out)
        self.md5.update(out)
        return bytes(out)


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@pytest.mark.crash
def test_a_1_gib_object_goes_up_and_down_with_bounded_server_memory(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        c = s3_client(srv.endpoint, read_timeout=300)
        c.create_bucket(Bucket="big-one")
        n = 1024 * 1024 * 1024
        src = _Zeros(n)
        c.upload_fileobj(src, "big-one", "g", Config=TransferConfig(
            multipart_threshold=64 * 1024 * 1024, multipart_chunksize=64 * 1024 * 1024, max_concurrency=4))
        body = c.get_object(Bucket="big-one", Key="g")["Body"]
        md5, got = hashlib.md5(), 0
        for piece in body.iter_chunks(1024 * 1024):
            md5.update(piece)
            got += len(piece)
        assert got == n and md5.hexdigest() == src.md5.hexdigest()
        hwm = vm_hwm_kib(srv.proc.pid)
        # Generous: the server never holds an object, only buffers of a few MiB per request.
        assert hwm < 400 * 1024, f"server peak RSS {hwm} KiB"
    finally:
        srv.stop()


@pytest.mark.crash
def test_acknowledged_puts_survive_sigkill_and_no_half_object_is_listed(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    c = s3_client(srv.endpoint, connect_timeout=2, read_timeout=15)
    c.create_bucket(Bucket="crash")
    acked: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(tid: int):
        cl = s3_client(srv.endpoint, connect_timeout=2, read_timeout=15)
        rng = random.Random(tid)
        i = 0
        while not stop.is_set():
            i += 1
            key = f"w{tid}/{i:05d}"
            body = rng.randbytes(rng.choice([10, 4096, 300_000]))
            try:
                cl.put_object(Bucket="crash", Key=key, Body=body)
            except Exception:  # noqa: BLE001 - the kill cuts requests off
                return
            with lock:
                acked[key] = hashlib.md5(body).hexdigest()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    time.sleep(3)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert acked, "no PUT was acknowledged before the kill"
    srv.start()
    try:
        c = s3_client(srv.endpoint)
        listed = {}
        for p in c.get_paginator("list_objects_v2").paginate(Bucket="crash"):
            for o in p.get("Contents", []):
                listed[o["Key"]] = o
        for key, md5 in acked.items():
            assert key in listed, f"acknowledged {key} lost"
            assert hashlib.md5(c.get_object(Bucket="crash", Key=key)["Body"].read()).hexdigest() == md5
        for key, o in listed.items():
            body = c.get_object(Bucket="crash", Key=key)["Body"].read()
            assert len(body) == o["Size"] and f'"{hashlib.md5(body).hexdigest()}"' == o["ETag"], key
    finally:
        srv.stop()
