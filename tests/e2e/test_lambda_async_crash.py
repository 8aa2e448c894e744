"""Asynchronous invocations and handler processes across a SIGKILL of the real binary.

- Every Event invocation Freshet answered 202 runs at least once, even when the server is
  killed before it ran it: the queue is durable before the answer, and a restart on the same
  data directory runs what was left.
- Handler processes do not outlive a killed server: the embedded Python runtime client exits
  by itself when its parent is gone, and a `provided` bootstrap (which Freshet does not
  control) is stopped by the next start of the server on the same data directory.

Handlers write what they saw to files outside Freshet, so the test sees deliveries whatever
happens to the server. Every wait is bounded.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

import pytest
from test_lambda import ROLE, deploy, lambda_client

from kutil import FreshetServer

pytestmark = pytest.mark.crash

EVENTS = 120

ASYNC_HANDLER = '''
import os
import time

OUT = os.environ["DELIVERIES"]


def lambda_handler(event, context):
    # Slow enough (one at a time, see the reserved concurrency) that the kill lands while
    # most events still wait in the queue.
    time.sleep(0.05)
    with open(OUT, "a") as f:
        f.write("%d\\n" % event["i"])
        f.flush()
        os.fsync(f.fileno())
    return {"ok": event["i"]}
'''

SLEEPING_HANDLER = '''
import os
import time


def lambda_handler(event, context):
    with open(os.environ["PIDFILE"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(600)
'''

# A bootstrap that takes one invocation and then sleeps without watching anything: what a
# third-party runtime that ignores its parent looks like.
SLEEPING_BOOTSTRAP = '''#!/usr/bin/env python3
import os
import time
import urllib.request

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
with urllib.request.urlopen("http://%s/2018-06-01/runtime/invocation/next" % api) as r:
    r.read()
with open(os.environ["PIDFILE"], "w") as f:
    f.write(str(os.getpid()))
time.sleep(600)
'''


def delivered(path) -> set[int]:
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        if line.strip().isdigit():  # a line cut by the kill is incomplete; it runs again
            out.add(int(line))
    return out


def wait_for(pred, timeout: float, what: str, srv: FreshetServer | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    log = f"\n--- server log ---\n{srv.log_tail()}" if srv is not None else ""
    raise AssertionError(f"timed out waiting for {what}{log}")


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for a reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def read_pid(path) -> int | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def executable_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            z.writestr(info, body)
    return buf.getvalue()


def test_sigkill_after_accepting_events_runs_every_one_after_the_restart(tmp_path):
    out_path = tmp_path / "deliveries.txt"
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        lam = lambda_client(srv.endpoint)
        deploy(lam, "async-consumer", {"lambda_function.py": ASYNC_HANDLER},
               Environment={"Variables": {"DELIVERIES": str(out_path)}}, Timeout=30)
        lam.put_function_concurrency(FunctionName="async-consumer",
                                     ReservedConcurrentExecutions=1)
        for i in range(EVENTS):
            out = lam.invoke(FunctionName="async-consumer", InvocationType="Event",
                             Payload=json.dumps({"i": i}).encode())
            assert out["StatusCode"] == 202
        # Kill mid-drain: some events ran, most still wait, one may be running.
        wait_for(lambda: len(delivered(out_path)) >= 10, 60, "the first events to run", srv)
        srv.kill()
        before_kill = len(delivered(out_path))
        assert before_kill < EVENTS, "every event ran before the kill: make the handler slower"

        srv.start()
        want = set(range(EVENTS))
        wait_for(lambda: want <= delivered(out_path), 180, "every accepted event to run", srv)
        print(f"ran before the kill: {before_kill} of {EVENTS}")
    finally:
        srv.stop()


def test_the_python_runtime_exits_when_its_server_is_killed(tmp_path):
    pid_path = tmp_path / "handler.pid"
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        lam = lambda_client(srv.endpoint)
        deploy(lam, "sleeper", {"lambda_function.py": SLEEPING_HANDLER},
               Environment={"Variables": {"PIDFILE": str(pid_path)}}, Timeout=900)
        lam.invoke(FunctionName="sleeper", InvocationType="Event", Payload=b"{}")
        wait_for(lambda: read_pid(pid_path) is not None, 60, "the handler to start", srv)
        pid = read_pid(pid_path)
        assert running(pid)
        srv.kill()
        # No restart: the runtime client notices its parent is gone by itself.
        wait_for(lambda: not running(pid), 30, f"handler process {pid} to exit")
    finally:
        srv.stop()


def test_a_restart_stops_a_bootstrap_the_killed_server_left_running(tmp_path):
    pid_path = tmp_path / "bootstrap.pid"
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        lam = lambda_client(srv.endpoint)
        lam.create_function(FunctionName="stubborn", Runtime="provided.al2023", Role=ROLE,
                            Handler="unused", Timeout=900,
                            Code={"ZipFile": executable_zip({"bootstrap": SLEEPING_BOOTSTRAP})},
                            Environment={"Variables": {"PIDFILE": str(pid_path)}})
        lam.get_waiter("function_active_v2").wait(FunctionName="stubborn",
                                                  WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        lam.invoke(FunctionName="stubborn", InvocationType="Event", Payload=b"{}")
        wait_for(lambda: read_pid(pid_path) is not None, 60, "the bootstrap to start", srv)
        pid = read_pid(pid_path)
        srv.kill()
        time.sleep(2)  # longer than the runtime clients' parent check: this one has none
        assert running(pid), "the bootstrap should still run: nothing stopped it yet"

        srv.start()
        wait_for(lambda: not running(pid), 30, f"bootstrap process {pid} to be stopped", srv)
    finally:
        srv.stop()
        pid = read_pid(pid_path)
        if pid is not None and running(pid):
            os.kill(pid, 9)
