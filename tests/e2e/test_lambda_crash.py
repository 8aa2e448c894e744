"""Event source mapping crash safety: SIGKILL the real binary while a Kinesis mapping feeds a
backlog to a Python handler, restart it on the same data directory, and prove that every record
reaches the handler at least once (none skipped) and that each partition key's records first
arrive in order.

The handler is written as AWS's Kinesis examples write it (decode base64, handle each record)
and appends what it saw to a file outside Freshet, so the test sees deliveries whatever happens
to the server. A mapping commits its position only after the handler returned, so a kill
re-delivers some records; that is allowed, a gap is not. Every wait is bounded.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest
from test_lambda import ROLE, deploy, lambda_client

from kutil import FreshetServer, create_stream, kinesis_client, wait_active

pytestmark = pytest.mark.crash

KEYS = 16
PER_KEY = 150  # 2,400 records
BATCH = 25

HANDLER = '''
import base64
import json
import os
import time

OUT = os.environ["DELIVERIES"]


def lambda_handler(event, context):
    lines = []
    for record in event["Records"]:
        payload = json.loads(base64.b64decode(record["kinesis"]["data"]))
        lines.append(f"{payload['k']} {payload['i']} {record['kinesis']['sequenceNumber']}\\n")
    # Slow enough that the kill lands mid-backlog.
    time.sleep(0.02)
    with open(OUT, "a") as f:
        f.write("".join(lines))
        f.flush()
        os.fsync(f.fileno())
    return {"batchItemFailures": []}
'''


def deliveries(path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:  # a line cut by the kill is incomplete; its batch is redelivered
            out.append((parts[0], int(parts[1])))
    return out


def wait_for(pred, timeout: float, what: str, srv: FreshetServer) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n--- server log ---\n{srv.log_tail()}")


def test_sigkill_while_a_mapping_drains_a_backlog_redelivers_and_never_skips(tmp_path):
    out_path = tmp_path / "deliveries.txt"
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        kin = kinesis_client(srv.endpoint)
        create_stream(kin, "orders", shards=2)
        wait_active(kin, "orders")
        stream_arn = kin.describe_stream_summary(StreamName="orders")[
            "StreamDescriptionSummary"]["StreamARN"]
        lam = lambda_client(srv.endpoint)
        deploy(lam, "consumer", {"lambda_function.py": HANDLER},
               Environment={"Variables": {"DELIVERIES": str(out_path)}}, Timeout=30)

        records = [{"Data": json.dumps({"k": f"key-{k}", "i": i}).encode(),
                    "PartitionKey": f"key-{k}"}
                   for i in range(PER_KEY) for k in range(KEYS)]
        for start in range(0, len(records), 500):
            out = kin.put_records(StreamName="orders", Records=records[start:start + 500])
            assert out["FailedRecordCount"] == 0

        lam.create_event_source_mapping(FunctionName="consumer", EventSourceArn=stream_arn,
                                        StartingPosition="TRIM_HORIZON", BatchSize=BATCH)
        total = KEYS * PER_KEY
        wait_for(lambda: len(deliveries(out_path)) >= total // 4, 120,
                 "a quarter of the backlog before the kill", srv)
        srv.kill()
        before_kill = len(deliveries(out_path))
        assert before_kill < total, "the backlog drained before the kill: make the handler slower"

        srv.start()
        want = {(f"key-{k}", i) for k in range(KEYS) for i in range(PER_KEY)}
        wait_for(lambda: want <= set(deliveries(out_path)), 180,
                 "every record after the restart", srv)

        seen = deliveries(out_path)
        print(f"delivered before the kill: {before_kill}; deliveries in all: {len(seen)} of {total}")
        first: dict[str, list[int]] = defaultdict(list)
        got: set[tuple[str, int]] = set()
        for key, i in seen:
            if (key, i) not in got:
                got.add((key, i))
                first[key].append(i)
        for key, order in first.items():
            assert order == sorted(order), f"{key} first arrived out of order: {order[:40]}"
        assert got == want
    finally:
        srv.stop()
