"""SQS crash safety: SIGKILL the real binary while producers send (single and batch) and
consumers receive and delete (single and batch), restart it on the same data directory, and
prove that every acknowledged send is still there unless a delete of it was sent (a delete cut
off by the kill may have been applied), and that no acknowledged delete came back.

A delete counts as acknowledged only when the server answered it and the handle was the latest
one the test saw for that message (an older handle "succeeds but might not delete", as AWS
documents). Every loop is bounded by time or count.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from kutil import REGION, FreshetServer

pytestmark = pytest.mark.crash

PRODUCERS = 4
CONSUMERS = 3
CYCLES = 2
VISIBILITY = 10


def client(endpoint: str, attempts: int = 1):
    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": attempts}, read_timeout=15, connect_timeout=2),
    )


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[str] = field(default_factory=set)          # acknowledged sends
    attempted: set[str] = field(default_factory=set)     # every send tried
    deleted: set[str] = field(default_factory=set)       # acknowledged deletes (latest handle)
    delete_tried: set[str] = field(default_factory=set)  # every delete sent, answered or not
    receives: dict[str, int] = field(default_factory=dict)  # id -> receives seen
    errors: list[str] = field(default_factory=list)


def produce(endpoint, url, tid, cycle, stop, killing, ledger):
    c = client(endpoint)
    rng = random.Random(tid * 7919 + cycle)
    n = 0
    while not stop.is_set():
        n += 1
        if rng.random() < 0.5:
            ids = [f"c{cycle}-p{tid}-n{n}-{i}" for i in range(10)]
            with ledger.lock:
                ledger.attempted.update(ids)
            try:
                out = c.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "MessageBody": json.dumps({"id": mid, "pad": "x" * rng.randint(0, 300)})}
                    for i, mid in enumerate(ids)])
            except (BotoCoreError, ClientError, OSError) as e:
                if not killing.is_set():
                    ledger.errors.append(repr(e))
                continue
            with ledger.lock:
                for s in out.get("Successful", []):
                    ledger.sent.add(ids[int(s["Id"])])
        else:
            mid = f"c{cycle}-p{tid}-n{n}-single"
            with ledger.lock:
                ledger.attempted.add(mid)
            try:
                c.send_message(QueueUrl=url, MessageBody=json.dumps({"id": mid}))
            except (BotoCoreError, ClientError, OSError) as e:
                if not killing.is_set():
                    ledger.errors.append(repr(e))
                continue
            with ledger.lock:
                ledger.sent.add(mid)


def consume(endpoint, url, tid, cycle, stop, killing, ledger):
    c = client(endpoint)
    rng = random.Random(tid * 104729 + cycle)
    while not stop.is_set():
        try:
            got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    VisibilityTimeout=VISIBILITY).get("Messages", [])
        except (BotoCoreError, ClientError, OSError) as e:
            if not killing.is_set():
                ledger.errors.append(repr(e))
            continue
        seen = []
        with ledger.lock:
            for m in got:
                mid = json.loads(m["Body"])["id"]
                ledger.receives[mid] = ledger.receives.get(mid, 0) + 1
                seen.append((mid, m["ReceiptHandle"], ledger.receives[mid]))
        chosen = [s for s in seen if rng.random() < 0.8]  # the rest stay in flight
        if not chosen:
            continue
        with ledger.lock:
            # A delete cut off by the kill may still have been applied.
            ledger.delete_tried.update(mid for mid, _, _ in chosen)
        try:
            if rng.random() < 0.5:
                out = c.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": h} for i, (_, h, _) in enumerate(chosen)])
                ok = [chosen[int(s["Id"])] for s in out.get("Successful", [])]
            else:
                ok = []
                for s in chosen:
                    c.delete_message(QueueUrl=url, ReceiptHandle=s[1])
                    ok.append(s)
        except (BotoCoreError, ClientError, OSError) as e:
            if not killing.is_set():
                ledger.errors.append(repr(e))
            continue
        with ledger.lock:
            for mid, _, nth in ok:
                if ledger.receives.get(mid) == nth:  # still the latest handle we know of
                    ledger.deleted.add(mid)


def drain(endpoint, url) -> list[str]:
    """Receives and deletes until the queue stays empty past every visibility timeout."""
    c = client(endpoint, attempts=3)
    out = []
    quiet_since = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > VISIBILITY + 2:
                return out
            continue
        quiet_since = None
        for m in got:
            out.append(json.loads(m["Body"])["id"])
        c.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    raise AssertionError("the queue did not drain within 120 s")


def test_sigkill_under_send_receive_delete_load_keeps_every_acknowledgement(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log",
                        extra_env={"FRESHET__SQS__CHECKPOINT_CHANGES": "500"})
    srv.start()
    try:
        url = client(srv.endpoint).create_queue(QueueName="crash-q")["QueueUrl"]
        path = url.split("/", 3)[3]
        ledger = Ledger()
        for cycle in range(1, CYCLES + 1):
            stop, killing = threading.Event(), threading.Event()
            url = f"{srv.endpoint}/{path}"
            threads = [threading.Thread(target=produce, args=(srv.endpoint, url, t, cycle, stop, killing, ledger),
                                        daemon=True) for t in range(PRODUCERS)]
            threads += [threading.Thread(target=consume, args=(srv.endpoint, url, t, cycle, stop, killing, ledger),
                                         daemon=True) for t in range(CONSUMERS)]
            sent_before, deleted_before = len(ledger.sent), len(ledger.deleted)
            for t in threads:
                t.start()
            time.sleep(3 + random.random() * 2)
            killing.set()
            srv.kill()  # SIGKILL with requests in flight
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads), "a worker did not stop"
            assert not ledger.errors, f"requests failed before the kill: {ledger.errors[:3]}"
            assert len(ledger.sent) - sent_before > 100, "too few sends under load"
            assert len(ledger.deleted) - deleted_before > 20, "too few deletes under load"
            srv.start()  # same data directory
            print(f"cycle {cycle}: {len(ledger.sent)} sends and {len(ledger.deleted)} deletes acknowledged")

        url = f"{srv.endpoint}/{path}"
        remaining = drain(srv.endpoint, url)
        counts: dict[str, int] = {}
        for mid in remaining:
            counts[mid] = counts.get(mid, 0) + 1
        twice = [m for m, n in counts.items() if n > 1]
        assert not twice, f"messages delivered twice while draining: {twice[:5]}"
        strangers = [m for m in counts if m not in ledger.attempted]
        assert not strangers, f"messages nobody sent: {strangers[:5]}"
        resurrected = [m for m in counts if m in ledger.deleted]
        assert not resurrected, f"acknowledged deletes came back: {resurrected[:5]}"
        lost = [m for m in ledger.sent if m not in ledger.delete_tried and m not in counts]
        assert not lost, f"{len(lost)} acknowledged sends lost, e.g. {lost[:5]}"
    finally:
        srv.kill()


def test_sigterm_checkpoints_and_keeps_queues(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    try:
        c = client(srv.endpoint)
        url = c.create_queue(QueueName="graceful.fifo",
                             Attributes={"FifoQueue": "true"})["QueueUrl"]
        first = c.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g",
                               MessageDeduplicationId="d1")
        c.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g", MessageDeduplicationId="d2")
        code = srv.stop(timeout=30)
        assert code == 0, f"SIGTERM should exit cleanly with 0, got {code}\n{srv.log_tail()}"
        srv.start()
        c = client(srv.endpoint)
        url = f"{srv.endpoint}/000000000000/graceful.fifo"
        dup = c.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
        assert dup["MessageId"] == first["MessageId"]
        got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == ["a", "b"]
    finally:
        srv.kill()
