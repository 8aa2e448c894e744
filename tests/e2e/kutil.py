"""Shared helpers for the Freshet end-to-end tests: starting the real binary, clients,
raw AWS JSON 1.1 requests and shard readers.

Everything here is bounded in time: a server that does not come up, a request that does not
answer, or a shard that never drains fails the test instead of hanging it.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "000000000000"
REGION = "us-east-1"
HASH_SPACE = 2**128
TARGET_PREFIX = "Kinesis_20131202"
JSON_CT = "application/x-amz-json-1.1"

# Stream status delays short enough for tests (CREATING/DELETING/UPDATING → next state).
SERVER_ENV = {
    "FRESHET__KINESIS__CREATE_DELAY": "50ms",
    "FRESHET__KINESIS__DELETE_DELAY": "50ms",
    "FRESHET__KINESIS__UPDATE_DELAY": "50ms",
}

# Keep the tests away from whatever AWS configuration or proxy the machine has.
os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
os.environ["no_proxy"] = os.environ["NO_PROXY"]
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)


def freshet_bin() -> Path:
    """The binary under test: $FRESHET_BIN, or target/debug/freshet under the repo root."""
    raw = os.environ.get("FRESHET_BIN") or "target/debug/freshet"
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    """A stream name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------------
# The server process


_LIVE: set["FreshetServer"] = set()
_LIVE_LOCK = threading.Lock()


def _kill_all_servers() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for srv in servers:
        try:
            srv.kill()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


atexit.register(_kill_all_servers)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - not Linux/glibc: atexit and fixtures still stop it
        pass


class FreshetServer:
    """`freshet serve` on a free loopback port with its own data directory and log file."""

    def __init__(self, data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None,
                 extra_args: Iterable[str] = ()):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.extra_env = dict(extra_env or {})
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._log_file = None

    @property
    def endpoint(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "FreshetServer":
        binary = freshet_bin()
        if not binary.exists():
            raise RuntimeError(f"freshet binary not found at {binary}: run `cargo build -p freshet` "
                               "or set FRESHET_BIN")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        last_error = None
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            env = os.environ.copy()
            env.update(SERVER_ENV)
            env.update(self.extra_env)
            cmd = [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}",
                   "--data-dir", str(self.data_dir), *self.extra_args]
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
            self._log_file.write(f"\n===== {time.strftime('%H:%M:%S')} $ {' '.join(cmd)}\n".encode())
            self._log_file.flush()
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
                env=env, cwd=str(self.data_dir.parent), preexec_fn=_die_with_parent,
            )
            with _LIVE_LOCK:
                _LIVE.add(self)
            try:
                self._wait_healthy(timeout)
                return self
            except _EarlyExit as e:
                last_error = e
                self._reap()
                if "address" not in self.log_tail().lower():
                    break
        raise RuntimeError(f"freshet did not start: {last_error}\n--- server log tail ---\n{self.log_tail()}")

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise _EarlyExit(f"exited with code {self.proc.returncode} before answering /health")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"freshet did not answer GET /health with 200 within {timeout}s\n"
                           f"--- server log tail ---\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self._reap()

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout`. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._reap()
        return self.proc.returncode

    def _reap(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])


class _EarlyExit(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Clients


def kinesis_client(endpoint: str, max_attempts: int = 2, read_timeout: float = 60.0,
                   connect_timeout: float = 5.0):
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": max_attempts}, read_timeout=read_timeout,
                      connect_timeout=connect_timeout),
    )


def raw_request(endpoint: str, body: bytes | str, target: str | None = None,
                content_type: str | None = JSON_CT, headers: dict[str, str] | None = None,
                method: str = "POST", path: str = "/", timeout: float = 30.0, sign: bool = True):
    """One HTTP request, SigV4-signed like an SDK's unless `sign` is false; returns
    (status, headers, body bytes)."""
    host, port = endpoint.removeprefix("http://").split(":")
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Host": f"{host}:{port}"}
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    if target is not None:
        hdrs["X-Amz-Target"] = target if "." in target else f"{TARGET_PREFIX}.{target}"
    hdrs.update(headers or {})
    if sign:
        req = AWSRequest(method=method, url=f"{endpoint}{path}", data=body, headers=hdrs)
        SigV4Auth(Credentials("x", "x"), "kinesis", REGION).add_auth(req)
        hdrs = dict(req.headers.items())
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def raw_json(endpoint: str, op: str, payload: Any, **kw):
    """AWS JSON 1.1 call; returns (status, parsed body or None, headers)."""
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    status, headers, data = raw_request(endpoint, body, target=op, **kw)
    parsed = json.loads(data) if data.strip() else None
    return status, parsed, headers


def error_message(body: dict) -> str | None:
    """AWS uses `message`; coral's SerializationException uses `Message`."""
    return body.get("message", body.get("Message"))


# ---------------------------------------------------------------------------------------------
# Streams and shards


def create_stream(client, name: str, shards: int | None = 1, **kw) -> None:
    args = {"StreamName": name, **kw}
    if shards is not None:
        args["ShardCount"] = shards
    client.create_stream(**args)
    wait_active(client, name)


def wait_active(client, name: str) -> None:
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def list_all_shards(client, name: str) -> list[dict]:
    shards: list[dict] = []
    resp = client.list_shards(StreamName=name)
    shards.extend(resp["Shards"])
    for _ in range(10_000):
        token = resp.get("NextToken")
        if not token:
            break
        resp = client.list_shards(NextToken=token)
        shards.extend(resp["Shards"])
    return shards


def hash_of(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def shard_range(shard: dict) -> tuple[int, int]:
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def aws_hash_ranges(n: int) -> list[tuple[int, int]]:
    """The layout AWS gives a new stream of n shards: floor(2^128/n) wide, last one to 2^128-1."""
    width = HASH_SPACE // n
    ranges = [(i * width, (i + 1) * width - 1) for i in range(n)]
    ranges[-1] = (ranges[-1][0], HASH_SPACE - 1)
    return ranges


def shard_iterator(client, name: str, shard_id: str, itype: str = "TRIM_HORIZON", **kw) -> str:
    return client.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType=itype,
                                     **kw)["ShardIterator"]


def drain(client, iterator: str, deadline_s: float = 120.0, limit: int = 10_000,
          empty_polls: int = 2) -> tuple[list[dict], str]:
    """Reads from `iterator` until caught up: `empty_polls` consecutive responses with no records
    and MillisBehindLatest == 0. Returns (records, last NextShardIterator)."""
    records: list[dict] = []
    empties = 0
    deadline = time.monotonic() + deadline_s
    while True:
        if time.monotonic() > deadline:
            raise AssertionError(f"shard did not drain within {deadline_s}s ({len(records)} records read)")
        resp = client.get_records(ShardIterator=iterator, Limit=limit)
        records.extend(resp["Records"])
        nxt = resp.get("NextShardIterator")
        assert nxt, "an open shard must always return a NextShardIterator"
        iterator = nxt
        if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
            empties += 1
            if empties >= empty_polls:
                return records, iterator
        else:
            empties = 0


def read_shard(client, name: str, shard_id: str, itype: str = "TRIM_HORIZON", **kw) -> list[dict]:
    records, _ = drain(client, shard_iterator(client, name, shard_id, itype, **kw))
    return records


def seqs(records: list[dict]) -> list[int]:
    return [int(r["SequenceNumber"]) for r in records]


def assert_strictly_increasing(values: list[int], what: str = "sequence numbers") -> None:
    for i in range(1, len(values)):
        assert values[i] > values[i - 1], (
            f"{what} not strictly increasing at index {i}: {values[i - 1]} then {values[i]}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
