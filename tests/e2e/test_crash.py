"""Crash safety: SIGKILL the real binary under a concurrent put load, restart it on the same
data directory, and prove that nothing acknowledged was lost, duplicated or reordered.

Each test here starts its own server on its own data directory (durability: the default,
fsync before acknowledge). Every loop is bounded by time or count.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from kutil import (
    FreshetServer,
    assert_strictly_increasing,
    create_stream,
    drain,
    kinesis_client,
    list_all_shards,
    shard_iterator,
)

pytestmark = pytest.mark.crash

THREADS = 8
CYCLES = 3
SHARDS = 4


@dataclass
class Acked:
    """Records the server acknowledged: id -> (shard id, sequence number)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    records: dict[str, tuple[str, str]] = field(default_factory=dict)
    attempted: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def add(self, rid: str, shard: str, seq: str) -> None:
        with self.lock:
            if rid in self.records:
                self.errors.append(f"id {rid} acknowledged twice")
            self.records[rid] = (shard, seq)


def producer(endpoint: str, stream: str, tid: int, cycle: int, stop: threading.Event,
             killing: threading.Event, acked: Acked) -> None:
    try:
        _produce(endpoint, stream, tid, cycle, stop, killing, acked)
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        acked.errors.append(f"producer {tid} crashed: {e!r}")


def _produce(endpoint: str, stream: str, tid: int, cycle: int, stop: threading.Event,
             killing: threading.Event, acked: Acked) -> None:
    """Puts until `stop`: PutRecords batches of 50 and single PutRecords, no retries, so a
    request either got its answer (acknowledged) or did not (unknown)."""
    client = kinesis_client(endpoint, max_attempts=1, read_timeout=10, connect_timeout=2)
    rng = random.Random(tid * 1000 + cycle)
    n = 0
    while not stop.is_set():
        n += 1
        if rng.random() < 0.7:
            ids = [f"c{cycle}-t{tid}-n{n}-i{i}" for i in range(50)]
            entries = [{"Data": json.dumps({"id": rid, "pad": "x" * rng.randint(0, 200)}).encode(),
                        "PartitionKey": f"key-{rng.randrange(5000)}"} for rid in ids]
            with acked.lock:
                acked.attempted.update(ids)
            try:
                resp = client.put_records(StreamName=stream, Records=entries)
            except (BotoCoreError, ClientError, OSError) as e:
                if not killing.is_set():
                    acked.errors.append(repr(e))
                continue
            for rid, entry in zip(ids, resp["Records"]):
                if "SequenceNumber" in entry:
                    acked.add(rid, entry["ShardId"], entry["SequenceNumber"])
        else:
            rid = f"c{cycle}-t{tid}-n{n}-single"
            with acked.lock:
                acked.attempted.add(rid)
            try:
                resp = client.put_record(StreamName=stream, PartitionKey=f"key-{rng.randrange(5000)}",
                                         Data=json.dumps({"id": rid}).encode())
            except (BotoCoreError, ClientError, OSError) as e:
                if not killing.is_set():
                    acked.errors.append(repr(e))
                continue
            acked.add(rid, resp["ShardId"], resp["SequenceNumber"])


def read_everything(client, stream: str) -> dict[str, list[dict]]:
    out = {}
    for shard in list_all_shards(client, stream):
        sid = shard["ShardId"]
        records, _ = drain(client, shard_iterator(client, stream, sid), deadline_s=180)
        out[sid] = records
    return out


def verify(client, stream: str, acked: Acked, cycle: int) -> dict[str, int]:
    """Checks the restarted server against everything acknowledged so far; returns the highest
    sequence number per shard."""
    by_shard = read_everything(client, stream)
    seen: dict[str, tuple[str, str]] = {}
    highest: dict[str, int] = {}
    for sid, records in by_shard.items():
        values = [int(r["SequenceNumber"]) for r in records]
        assert_strictly_increasing(values, f"sequence numbers in {sid} after crash {cycle}")
        if values:
            highest[sid] = values[-1]
        for r in records:
            rid = json.loads(r["Data"])["id"]
            assert rid not in seen, (f"id {rid} read twice after crash {cycle}: {seen[rid]} and "
                                     f"{(sid, r['SequenceNumber'])}")
            seen[rid] = (sid, r["SequenceNumber"])
    missing = [rid for rid in acked.records if rid not in seen]
    assert not missing, (f"crash {cycle}: {len(missing)} of {len(acked.records)} acknowledged records "
                         f"lost, e.g. {missing[:5]}")
    moved = [(rid, acked.records[rid], seen[rid]) for rid in acked.records if seen[rid] != acked.records[rid]]
    assert not moved, f"crash {cycle}: records changed shard or sequence number: {moved[:5]}"
    strangers = [rid for rid in seen if rid not in acked.attempted]
    assert not strangers, f"crash {cycle}: records nobody sent: {strangers[:5]}"
    return highest


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    try:
        client = kinesis_client(srv.endpoint)
        stream = "crash-stream"
        create_stream(client, stream, shards=SHARDS)
        acked = Acked()
        for cycle in range(1, CYCLES + 1):
            stop, killing = threading.Event(), threading.Event()
            threads = [threading.Thread(target=producer,
                                        args=(srv.endpoint, stream, t, cycle, stop, killing, acked),
                                        daemon=True, name=f"producer-{t}") for t in range(THREADS)]
            before = len(acked.records)
            for t in threads:
                t.start()
            time.sleep(3 + random.random() * 2)
            killing.set()
            srv.kill()  # SIGKILL while requests are in flight
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads), "a producer thread did not stop"
            assert not acked.errors, f"puts failed before the kill: {acked.errors[:3]}"
            assert len(acked.records) - before > 100, (
                f"cycle {cycle}: only {len(acked.records) - before} records acknowledged under load")

            srv.start()  # same data directory
            client = kinesis_client(srv.endpoint)
            status = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
            assert status["StreamStatus"] == "ACTIVE"
            assert status["OpenShardCount"] == SHARDS
            highest = verify(client, stream, acked, cycle)
            print(f"cycle {cycle}: {len(acked.records) - before} records acknowledged before SIGKILL, "
                  f"{len(acked.records)} in all, all present after restart")

            # New writes land after everything written before the crash, in every shard.
            for i in range(200):
                rid = f"c{cycle}-after-{i}"
                acked.attempted.add(rid)
                resp = client.put_record(StreamName=stream, PartitionKey=f"after-{i}",
                                         Data=json.dumps({"id": rid}).encode())
                acked.add(rid, resp["ShardId"], resp["SequenceNumber"])
                assert int(resp["SequenceNumber"]) > highest.get(resp["ShardId"], 0), (
                    f"new record in {resp['ShardId']} got {resp['SequenceNumber']}, not above "
                    f"pre-crash {highest.get(resp['ShardId'])}")
        verify(client, stream, acked, CYCLES)
    finally:
        srv.kill()


def test_sigterm_is_graceful_and_keeps_data(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    try:
        client = kinesis_client(srv.endpoint)
        create_stream(client, "graceful", shards=2)
        sent = {}
        for i in range(300):
            resp = client.put_record(StreamName="graceful", PartitionKey=str(i), Data=f"r{i}".encode())
            sent[f"r{i}".encode()] = (resp["ShardId"], resp["SequenceNumber"])
        # A server that does not exit on SIGTERM is killed by stop() and reports -9 here.
        code = srv.stop(timeout=30)
        assert code == 0, f"SIGTERM should exit cleanly with 0, got {code}\n{srv.log_tail()}"

        srv.start()
        client = kinesis_client(srv.endpoint)
        got = {}
        for shard in list_all_shards(client, "graceful"):
            records, _ = drain(client, shard_iterator(client, "graceful", shard["ShardId"]))
            for r in records:
                got[r["Data"]] = (shard["ShardId"], r["SequenceNumber"])
        assert got == sent
    finally:
        srv.kill()
