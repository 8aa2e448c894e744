#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Firehose DirectPut: PutRecordBatch throughput and delivery latency, Freshet and moto's
server side by side, driven by the same boto3 code in one run.

    benches/compare/firehose.sh                  # release build, run, write docs/benchmarks.md
    python3 benches/compare/firehose.py --quick  # fewer batches and samples, print only

Both servers run at once, each on a free loopback port (Freshet on an empty temp data
directory, fsync durability: a put is acknowledged once its records are on disk; moto in
memory). On each: a bucket and DirectPut delivery streams with an ExtendedS3 destination,
created with boto3.

- Throughput: `--clients` processes (one boto3 client each) send PutRecordBatch calls of 500
  records of ~100 B, then of 1 KiB, to a stream with the default BufferingHints (5 MiB,
  300 s). Records/s and MiB/s of acknowledged records (FailedPutCount subtracted) over the
  wall time. `--rounds` rounds, the servers taking turns within each round (the order
  flips every round), so a busy spell of the shared machine hits both; the median round is
  reported with the range.
- Delivery latency: to a stream with IntervalInSeconds=0, put one record with a unique
  marker, then poll list_objects_v2 (and read new objects) until one holding the marker
  appears; the time from the put's start. Samples alternate between the servers. One more
  series on Freshet only with IntervalInSeconds=60 shows the interval is honoured (delivery
  should take 60 s, not less).

Servers are stopped (process group SIGTERM, then SIGKILL) and their data removed on every
exit path. Uses boto3 (installed) and moto's server (`moto_server` on the PATH, or installed
from PyPI into target/bench-peers/moto).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workers  # noqa: E402
from compare import ROOT, Target, log, machine_info, start_fresh, stop_all, write_section  # noqa: E402
from services import moto_command, moto_version  # noqa: E402

FRESHET = Path(os.environ.get("FRESHET_BIN", ROOT / "target" / "release" / "freshet"))
BEGIN = "<!-- firehose:begin -->"
END = "<!-- firehose:end -->"
ROLE = "arn:aws:iam::123456789012:role/firehose-bench"
BUCKET = "fh-bench"
BATCH = 500
# The lean client makes this many times more calls than boto3 per round.
RAW_FACTOR = 4


def client(service: str, endpoint: str):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=120,
                      s3={"addressing_style": "path"}))


def targets() -> list[Target]:
    version = subprocess.run([str(FRESHET), "--version"], capture_output=True, text=True).stdout.strip()
    moto = moto_command()
    return [
        Target(label="freshet", version=version, durability="fsync before acknowledge (group commit)",
               start_cmd=[str(FRESHET), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{data}",
                          "--durability", "fsync"],
               env={"FRESHET__FIREHOSE__CREATE_DELAY": "0ms", "FRESHET__FIREHOSE__DELETE_DELAY": "0ms",
                    "FRESHET__LOG__LEVEL": "warn"}),
        Target(label="moto", version=moto_version(moto), durability="in memory",
               start_cmd=[*moto, "-H", "127.0.0.1", "-p", "{port}"]),
    ]


def create_stream(endpoint: str, name: str, interval_s: int, size_mb: int = 5) -> None:
    fh = client("firehose", endpoint)
    fh.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{BUCKET}", "Prefix": f"{name}/",
            "ErrorOutputPrefix": f"errors/{name}/",
            "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval_s},
            "CompressionFormat": "UNCOMPRESSED"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not become ACTIVE")


def setup(endpoint: str) -> None:
    client("s3", endpoint).create_bucket(Bucket=BUCKET)
    create_stream(endpoint, "tput-100", 300)
    create_stream(endpoint, "tput-1024", 300)
    create_stream(endpoint, "latency-0", 0)


FAKE_AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/firehose/aws4_request, "
             "SignedHeaders=host;x-amz-target, Signature=" + "0" * 64)


def raw_put_batch(conn: http.client.HTTPConnection, body: bytes) -> int:
    """One PutRecordBatch with a pre-encoded JSON 1.1 body and a constant, unverified
    `Authorization` header (neither server checks signatures); its FailedPutCount."""
    conn.request("POST", "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
        "Authorization": FAKE_AUTH, "Content-Length": str(len(body))})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"PutRecordBatch: HTTP {resp.status} {data[:200]!r}")
    return int(json.loads(data)["FailedPutCount"])


def throughput(endpoint: str, size: int, clients: int, batches: int, raw: bool) -> dict:
    """PutRecordBatch of BATCH records of `size` bytes, `batches` calls per client."""
    stream = f"tput-{size}"
    state: dict = {}
    host, port = endpoint.removeprefix("http://").split(":")

    def prepare(i: int) -> None:
        state["fh"] = client("firehose", endpoint)
        state["fh"].describe_delivery_stream(DeliveryStreamName=stream)
        # Newline-terminated JSON-ish lines of exactly `size` bytes, distinct per record.
        state["records"] = [
            {"Data": (f'{{"c":{i},"n":{n},"p":"'.encode() + b"x" * size)[: size - 2] + b'"\n'}
            for n in range(BATCH)]
        if raw:
            state["body"] = json.dumps({"DeliveryStreamName": stream, "Records": [
                {"Data": base64.b64encode(r["Data"]).decode()} for r in state["records"]]}).encode()
            state["conn"] = http.client.HTTPConnection(host, int(port), timeout=120)

    def work(i: int) -> int:
        ok = 0
        for _ in range(batches):
            if raw:
                ok += BATCH - raw_put_batch(state["conn"], state["body"])
            else:
                r = state["fh"].put_record_batch(DeliveryStreamName=stream, Records=state["records"])
                ok += BATCH - r["FailedPutCount"]
        return ok

    wall, ok = workers.run(clients, work, prepare)
    sent = clients * batches * BATCH
    return {"records_s": ok / wall, "mib_s": ok * size / wall / (1024 * 1024), "failed": sent - ok,
            "records": sent}


class Poller:
    """Finds the object holding a marker in a stream's prefix, reading each new object once."""

    def __init__(self, endpoint: str, prefix: str) -> None:
        self.s3 = client("s3", endpoint)
        self.prefix = prefix
        self.seen: set[str] = set()
        self.holding: dict[str, str] = {}  # marker -> key, for markers found early

    def keys(self) -> list[str]:
        out, token = [], None
        while True:
            kw = {"Bucket": BUCKET, "Prefix": self.prefix}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            out.extend(o["Key"] for o in r.get("Contents", []))
            if not r.get("IsTruncated"):
                return out
            token = r["NextContinuationToken"]

    def scan(self) -> None:
        for k in self.keys():
            if k in self.seen:
                continue
            self.seen.add(k)
            body = self.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode(errors="replace")
            for line in body.splitlines():
                if line.startswith("marker-"):
                    self.holding[line.strip()] = k

    def wait(self, marker: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.scan()
            if marker in self.holding:
                return True
            time.sleep(0.01)
        return False


def latency_sample(endpoint: str, stream: str, poller: Poller, timeout: float) -> float | None:
    fh = client("firehose", endpoint)
    marker = f"marker-{uuid.uuid4().hex}"
    t0 = time.perf_counter()
    fh.put_record(DeliveryStreamName=stream, Record={"Data": f"{marker}\n".encode()})
    if not poller.wait(marker, timeout):
        return None
    return (time.perf_counter() - t0) * 1000


def run(args: argparse.Namespace) -> dict:
    ts = targets()
    results: dict = {"targets": {t.label: {"version": t.version, "durability": t.durability} for t in ts},
                     "throughput": {mode: {t.label: {} for t in ts} for mode in args.modes}, "latency": {}, "started": dt.datetime.now(dt.timezone.utc)}
    with tempfile.TemporaryDirectory(prefix="firehose-bench-") as tmp:
        work = Path(tmp)
        try:
            for t in ts:
                start_fresh(t, work)
                setup(t.endpoint)
            sizes = [100, 1024]
            for r in range(args.rounds):
                order = ts if r % 2 == 0 else list(reversed(ts))
                for mode in args.modes:
                    for size in sizes:
                        for t in order:
                            log(f"round {r + 1}: {t.label}, {mode} client, {size} B records")
                            # The lean client is ~10x faster: more calls keep its rounds long
                            # enough (seconds) to measure.
                            calls = args.batches * (RAW_FACTOR if mode == "raw" else 1)
                            m = throughput(t.endpoint, size, args.clients, calls, mode == "raw")
                            results["throughput"][mode][t.label].setdefault(size, []).append(m)
            pollers = {t.label: Poller(t.endpoint, "latency-0/") for t in ts}
            lat: dict[str, list[float | None]] = {t.label: [] for t in ts}
            for i in range(args.samples):
                for t in (ts if i % 2 == 0 else list(reversed(ts))):
                    lat[t.label].append(latency_sample(t.endpoint, "latency-0", pollers[t.label], 30.0))
            results["latency"]["0"] = lat
            if args.interval_samples > 0:
                fresh = next(t for t in ts if t.label == "freshet")
                create_stream(fresh.endpoint, "latency-60", 60)
                poller = Poller(fresh.endpoint, "latency-60/")
                log(f"freshet, IntervalInSeconds=60: {args.interval_samples} samples of about 60 s")
                results["latency"]["60"] = {"freshet": [
                    latency_sample(fresh.endpoint, "latency-60", poller, 90.0)
                    for _ in range(args.interval_samples)]}
        finally:
            stop_all(ts)
    return results


def fmt(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


MODE_TITLES = {
    "boto3": "**boto3 client** (`put_record_batch`: what a user's script sees; boto3 encodes every "
             "call's 500 records, which costs the shared CPUs more than a fast server's work):",
    "raw": "**Lean client** (the same JSON 1.1 PutRecordBatch body encoded once per client and sent "
           "over a kept-alive `http.client` connection, so more of the machine is left to the server):",
}


def render(res: dict, args: argparse.Namespace) -> str:
    labels = list(res["targets"])
    m = machine_info()
    lines = [
        f"Measured by `benches/compare/firehose.sh` (run {res['started'].isoformat(timespec='seconds')}; "
        f"{m['cores']} CPUs {m['cpu']}, shared with other builds during the run; client and servers "
        f"on the same cores over loopback).", "",
        "| server | version | durability |", "|---|---|---|"]
    for label in labels:
        t = res["targets"][label]
        lines.append(f"| {label} | {t['version']} | {t['durability']} |")
    lines += ["", f"PutRecordBatch, {BATCH} records per call, {args.clients} client processes × "
              f"{args.batches} calls per round with boto3 ({args.batches * RAW_FACTOR} with the lean "
              f"client), {args.rounds} rounds (median round, lowest–highest)."]
    for mode, by_label in res["throughput"].items():
        lines += ["", MODE_TITLES[mode], "",
                  "| records | metric | " + " | ".join(labels) + " | Freshet ÷ moto | target |",
                  "|---|---|" + "---|" * len(labels) + "---|---|"]
        for size in (100, 1024):
            for metric, name, digits in (("records_s", "records/s", 0), ("mib_s", "MiB/s", 1)):
                cells, meds = [], {}
                for label in labels:
                    vals = [x[metric] for x in by_label[label].get(size, [])]
                    med = workers.median(vals)
                    meds[label] = med
                    rng = f" ({fmt(min(vals), digits)}–{fmt(max(vals), digits)})" if len(vals) > 1 else ""
                    cells.append(fmt(med, digits) + rng)
                f, mo = meds.get("freshet"), meds.get("moto")
                ratio = f"{f / mo:.1f}x" if f and mo else "–"
                target = ("10x met" if f and mo and f / mo >= 10 else "10x not met") if metric == "records_s" else ""
                lines.append(f"| {BATCH} × {size} B | {name} | " + " | ".join(cells) + f" | {ratio} | {target} |")
    failed = {label: sum(x["failed"] for by_label in res["throughput"].values()
                         for runs in by_label[label].values() for x in runs) for label in labels}
    lines += ["", "Records refused (FailedPutCount) over all rounds: "
              + ", ".join(f"{k} {v}" for k, v in failed.items()) + ".", "",
              "Delivery latency, put of one record to an object holding it listed in the bucket "
              "(list_objects_v2 polled every 10 ms, new objects read):", "",
              "| BufferingHints interval | server | samples | p50 ms | p99 ms | max ms | not delivered |",
              "|---|---|---|---|---|---|---|"]
    for interval, by in res["latency"].items():
        for label, vals in by.items():
            got = [v for v in vals if v is not None]
            lines.append(f"| {interval} s | {label} | {len(vals)} | {fmt(workers.percentile(got, 50))} | "
                         f"{fmt(workers.percentile(got, 99))} | {fmt(max(got) if got else None)} | "
                         f"{len(vals) - len(got)} |")
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    write_section(BEGIN, END, "Firehose: Freshet and moto", section)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer calls and samples; print only")
    ap.add_argument("--clients", type=int, default=4, help="client processes")
    ap.add_argument("--batches", type=int, default=None, help="PutRecordBatch calls per client per round")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None, help="latency samples per server")
    ap.add_argument("--interval-samples", type=int, default=None,
                    help="Freshet samples with IntervalInSeconds=60 (about a minute each; 0 skips)")
    ap.add_argument("--client", choices=["boto3", "raw", "both"], default="both")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    args.modes = ["boto3", "raw"] if args.client == "both" else [args.client]
    args.batches = args.batches or (5 if args.quick else 25)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.samples = args.samples or (5 if args.quick else 20)
    if args.interval_samples is None:
        args.interval_samples = 0 if args.quick else 2
    if not FRESHET.exists():
        print(f"no Freshet binary at {FRESHET} (set FRESHET_BIN or run firehose.sh)", file=sys.stderr)
        return 2
    res = run(args)
    section = render(res, args)
    print(section)
    if not args.quick and not args.no_write:
        write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
