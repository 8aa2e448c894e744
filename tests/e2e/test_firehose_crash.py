"""Firehose delivery crash safety: SIGKILL the real binary while producers PutRecordBatch into
a DirectPut delivery stream with small buffers (so objects are being written to the bucket at
the moment of the kill), restart it on the same data directory, and prove that every
acknowledged record lands in the bucket at least once.

A record counts as acknowledged only when its PutRecordBatch answered with FailedPutCount 0
or the record's own entry carries a RecordId and no ErrorCode. Duplicates are allowed (AWS
documents at-least-once delivery) and reported; a lost, torn or invented record is a failure.
The same load runs through plain delivery, a Lambda transform, dynamic partitioning with jq
(GZIP objects) and conversion to Parquet. Every wait is bounded.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from fhutil import (ERROR_PREFIX, ROLE_ARN, client, create_stream, list_keys, new_bucket, poll,
                    read_object, s3_destination)
from kutil import ACCOUNT, REGION, FreshetServer
from test_lambda import deploy, lambda_client

pytestmark = pytest.mark.crash

PRODUCERS = 4
CYCLES = 2

# Blueprint-style transform for the "lambda" variant: marks each record as transformed.
TRANSFORM = """
import base64
import json


def lambda_handler(event, context):
    output = []
    for record in event['records']:
        payload = json.loads(base64.b64decode(record['data']))
        payload['transformed'] = True
        output.append({
            'recordId': record['recordId'],
            'result': 'Ok',
            'data': base64.b64encode((json.dumps(payload) + "\\n").encode('utf-8')).decode('utf-8'),
        })
    return {'records': output}
"""


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)         # acknowledged record ids
    attempted: set[str] = field(default_factory=set)     # every record id sent
    refused: int = 0                                      # per-record ErrorCode (not acknowledged)
    errors: list[str] = field(default_factory=list)       # failures before the kill


def produce(endpoint, name, tid, cycle, stop, killing, ledger):
    fh = client("firehose", endpoint, attempts=1, read_timeout=15)
    rng = random.Random(tid * 7919 + cycle)
    n = 0
    while not stop.is_set():
        n += 1
        ids = [f"c{cycle}-p{tid}-n{n}-{i}" for i in range(rng.randint(1, 500))]
        pads = [rng.randint(0, 400) for _ in ids]
        records = [{"Data": json.dumps({"id": rid, "p": tid, "len": p, "pad": "x" * p}).encode() + b"\n"}
                   for rid, p in zip(ids, pads)]
        with ledger.lock:
            ledger.attempted.update(ids)
        try:
            out = fh.put_record_batch(DeliveryStreamName=name, Records=records)
        except (BotoCoreError, ClientError, OSError) as e:
            if not killing.is_set():
                ledger.errors.append(repr(e))
            continue
        responses = out["RequestResponses"]
        if len(responses) != len(ids):
            ledger.errors.append(f"{len(responses)} RequestResponses for {len(ids)} records")
            continue
        with ledger.lock:
            for rid, resp in zip(ids, responses):
                if resp.get("ErrorCode"):
                    ledger.refused += 1
                elif resp.get("RecordId"):
                    ledger.acked.add(rid)
                else:
                    ledger.errors.append(f"a response entry with neither RecordId nor ErrorCode: {resp}")


def delivered(s3, bucket: str, variant: str) -> tuple[list[str], list[str]]:
    """Every record id in the bucket's data objects (with repeats) and every malformed line or
    misplaced record found."""
    ids: list[str] = []
    bad: list[str] = []
    for key in list_keys(s3, bucket):
        if key.startswith("errors/"):
            bad.append(f"{key}: error output")
            continue
        body = read_object(s3, bucket, key)
        if variant == "parquet":
            try:
                rows = pq.read_table(io.BytesIO(body)).to_pylist()
            except (pa.ArrowException, OSError) as e:
                bad.append(f"{key}: not a readable Parquet file: {e}")
                continue
        else:
            if body and not body.endswith(b"\n"):
                bad.append(f"{key}: does not end with a whole record")
            rows = []
            for line in body.splitlines():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    bad.append(f"{key}: torn or foreign line {line[:80]!r}")
        for rec in rows:
            try:
                ok = len(rec["pad"]) == rec["len"] and isinstance(rec["id"], str)
            except (KeyError, TypeError):
                ok = False
            if not ok:
                bad.append(f"{key}: torn or foreign record {str(rec)[:80]}")
                continue
            if variant == "lambda" and rec.get("transformed") is not True:
                bad.append(f"{key}: untransformed record {rec['id']}")
            if variant == "jq" and not key.startswith(f"producer={rec['p']}/"):
                bad.append(f"{key}: record of producer {rec['p']} under another partition")
            ids.append(rec["id"])
    return ids, bad


def configure(variant: str, srv: FreshetServer, bucket: str) -> dict:
    """The destination of each variant: plain delivery, a Lambda transform, dynamic partitioning
    with jq (GZIP objects), or conversion to Parquet."""
    if variant == "plain":
        return s3_destination(bucket, Prefix="load/", ErrorOutputPrefix=ERROR_PREFIX)
    if variant == "lambda":
        lam = lambda_client(srv.endpoint)
        deploy(lam, "transform", {"lambda_function.py": TRANSFORM}, Timeout=60)
        return s3_destination(
            bucket, Prefix="load/", ErrorOutputPrefix=ERROR_PREFIX,
            ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn",
                 "ParameterValue": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:transform"},
                {"ParameterName": "NumberOfRetries", "ParameterValue": "3"},
                {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
                {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"},
            ]}]})
    if variant == "parquet":
        glue = client("glue", srv.endpoint)
        glue.create_database(DatabaseInput={"Name": "crash"})
        glue.create_table(DatabaseName="crash", TableInput={"Name": "records", "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "string"}, {"Name": "p", "Type": "int"},
                        {"Name": "len", "Type": "int"}, {"Name": "pad", "Type": "string"}]}})
        return s3_destination(
            bucket, Prefix="load/", ErrorOutputPrefix=ERROR_PREFIX,
            BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 1},
            DataFormatConversionConfiguration={
                "Enabled": True,
                "SchemaConfiguration": {"RoleARN": ROLE_ARN, "DatabaseName": "crash", "TableName": "records"},
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
            })
    return s3_destination(
        bucket, Prefix="producer=!{partitionKeyFromQuery:p}/", ErrorOutputPrefix=ERROR_PREFIX,
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 1}, CompressionFormat="GZIP",
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "MetadataExtraction", "Parameters": [
            {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{p:.p}"},
            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
        ]}]})


@pytest.mark.parametrize("variant", ["plain", "lambda", "jq", "parquet"])
def test_sigkill_during_delivery_loses_no_acknowledged_record(tmp_path, variant):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        s3 = client("s3", srv.endpoint)
        fh = client("firehose", srv.endpoint)
        bucket = new_bucket(s3, "fh-crash")
        name = "crash-stream"
        create_stream(fh, name, configure(variant, srv, bucket))
        ledger = Ledger()
        for cycle in range(1, CYCLES + 1):
            stop, killing = threading.Event(), threading.Event()
            threads = [threading.Thread(target=produce, daemon=True,
                                        args=(srv.endpoint, name, t, cycle, stop, killing, ledger))
                       for t in range(PRODUCERS)]
            acked_before = len(ledger.acked)
            objects_before = len(list_keys(s3, bucket))
            for t in threads:
                t.start()
            # Kill only once this cycle's load is being delivered: objects are appearing.
            poll(lambda: len(list_keys(s3, bucket)) >= objects_before + 2, deadline_s=60)
            time.sleep(0.3 + random.random())
            objects_at_kill = len(list_keys(s3, bucket))
            killing.set()
            srv.kill()  # SIGKILL with puts and deliveries in flight
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads), "a producer did not stop"
            assert not ledger.errors, f"requests failed before the kill: {ledger.errors[:3]}"
            assert len(ledger.acked) - acked_before > 1000, "too few records acknowledged under load"
            assert objects_at_kill > objects_before, (
                "no object was delivered before the kill: the kill did not land during delivery\n"
                + srv.log_tail())
            srv.start()  # same data directory, new port
            s3 = client("s3", srv.endpoint)
            print(f"{variant} cycle {cycle}: {len(ledger.acked)} records acknowledged, "
                  f"{objects_at_kill} objects at the kill")

        # Delivery settles: every acknowledged record shows up (bounded).
        poll(lambda: ledger.acked <= set(delivered(s3, bucket, variant)[0]), deadline_s=120, interval=1.0)
        ids, bad = delivered(s3, bucket, variant)
        counts: dict[str, int] = {}
        for rid in ids:
            counts[rid] = counts.get(rid, 0) + 1
        duplicates = sum(n - 1 for n in counts.values())
        print(f"{variant}: acknowledged {len(ledger.acked)}, refused {ledger.refused}, delivered lines "
              f"{len(ids)}, distinct {len(counts)}, duplicates {duplicates}, objects {len(list_keys(s3, bucket))}")
        assert not bad, f"{len(bad)} malformed or misplaced lines, e.g. {bad[:3]}"
        strangers = [r for r in counts if r not in ledger.attempted]
        assert not strangers, f"records nobody sent: {strangers[:5]}"
        lost = sorted(ledger.acked - counts.keys())
        assert not lost, f"{len(lost)} acknowledged records never delivered, e.g. {lost[:5]}\n{srv.log_tail()}"
    finally:
        srv.kill()
