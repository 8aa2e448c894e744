#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CloudWatch metrics: PutMetricData throughput and GetMetricData latency over a day of
1-minute data, Freshet and moto's server side by side, driven by the same boto3 code in one
run.

    benches/compare/cloudwatch.sh                  # release build, run, write docs/benchmarks.md
    python3 benches/compare/cloudwatch.py --quick  # fewer calls and samples, print only

Both servers run at once on free loopback ports (Freshet on an empty temp data directory with
fsync durability: PutMetricData is acknowledged once its datapoints are on disk; moto in
memory).

- PutMetricData throughput: `--clients` processes each send calls of 20 datapoints (20
  metrics of one namespace, one value each, the shape of an application's periodic flush);
  datapoints/s over the wall time, with boto3 and with a lean client (the same JSON 1.0 body
  encoded once, sent over a kept-alive connection). Rounds alternate the servers' order.
- Query latency: each server is loaded with one day of 1-minute data for 100 metrics
  (144,000 datapoints in 144 PutMetricData calls of 1,000), then GetMetricData asks for all
  100 metrics over the day (Average, period 60: 144,000 values, two pages under the
  100,800-datapoint limit; and period 300: 28,800 values, one page), and
  GetMetricStatistics for one metric over the day at period 60 (1,440 datapoints). Samples
  alternate between the servers; p50 and p99 of the full answer (every page). moto's
  GetMetricData takes minutes per call, so it is timed only with `--moto-get-metric-data`.
- boto3's request compression is off for both servers (moto cannot read gzipped bodies).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workers  # noqa: E402
from compare import ROOT, Target, log, machine_info, start_fresh, stop_all, write_section  # noqa: E402
from services import moto_command, moto_version  # noqa: E402

FRESHET = Path(os.environ.get("FRESHET_BIN", ROOT / "target" / "release" / "freshet"))
BEGIN = "<!-- cloudwatch:begin -->"
END = "<!-- cloudwatch:end -->"
NAMESPACE = "Bench/App"
PER_CALL = 20
METRICS = 100
DAY_MINUTES = 1440
# moto's GetMetricData over the day at period 300, timed once (2026-12-06) with this script's
# load_day and get_metric_data, quoted when it is not sampled.
MOTO_GMD_300_S = 274
FAKE_AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/monitoring/aws4_request, "
             "SignedHeaders=host;x-amz-target, Signature=" + "0" * 64)


def client(endpoint: str):
    # botocore gzips PutMetricData bodies over 10 KiB (the model's requestcompression trait);
    # moto's server answers those with HTTP 500 (it decompresses the body twice), so both
    # servers get plain bodies.
    return boto3.client(
        "cloudwatch", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=300,
                      disable_request_compression=True))


def targets() -> list[Target]:
    version = subprocess.run([str(FRESHET), "--version"], capture_output=True, text=True).stdout.strip()
    moto = moto_command()
    return [
        Target(label="freshet", version=version, durability="fsync before acknowledge (group commit)",
               start_cmd=[str(FRESHET), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{data}",
                          "--durability", "fsync"],
               env={"FRESHET__LOG__LEVEL": "warn"}),
        Target(label="moto", version=moto_version(moto), durability="in memory",
               start_cmd=[*moto, "-H", "127.0.0.1", "-p", "{port}"]),
    ]


def flush_body(i: int) -> dict:
    return {"Namespace": NAMESPACE, "MetricData": [
        {"MetricName": f"m{n}", "Dimensions": [{"Name": "Client", "Value": str(i)}],
         "Value": float(n), "Unit": "Count"} for n in range(PER_CALL)]}


def raw_put(conn: http.client.HTTPConnection, body: bytes) -> None:
    conn.request("POST", "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData", "x-amzn-query-mode": "true",
        "Authorization": FAKE_AUTH, "Content-Length": str(len(body))})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"PutMetricData: HTTP {resp.status} {data[:200]!r}")


def throughput(endpoint: str, clients: int, calls: int, raw: bool) -> float:
    state: dict = {}
    host, port = endpoint.removeprefix("http://").split(":")

    def prepare(i: int) -> None:
        state["body"] = flush_body(i)
        if raw:
            state["raw"] = json.dumps(state["body"]).encode()
            state["conn"] = http.client.HTTPConnection(host, int(port), timeout=120)
        else:
            state["cw"] = client(endpoint)

    def work(i: int) -> int:
        for _ in range(calls):
            if raw:
                raw_put(state["conn"], state["raw"])
            else:
                state["cw"].put_metric_data(**state["body"])
        return calls * PER_CALL

    wall, n = workers.run(clients, work, prepare)
    return n / wall


def load_day(endpoint: str, end: dt.datetime) -> None:
    """One day of 1-minute data for METRICS metrics, ending at `end` (exclusive)."""
    cw = client(endpoint)
    start = end - dt.timedelta(minutes=DAY_MINUTES)
    batch: list[dict] = []
    for m in range(METRICS):
        for minute in range(DAY_MINUTES):
            batch.append({"MetricName": "Load", "Dimensions": [{"Name": "Host", "Value": f"h{m:03}"}],
                          "Timestamp": start + dt.timedelta(minutes=minute), "Value": float(minute % 60),
                          "Unit": "Percent"})
            if len(batch) == 1000:
                cw.put_metric_data(Namespace=NAMESPACE, MetricData=batch)
                batch = []
    if batch:
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=batch)


def get_metric_data(cw, start: dt.datetime, end: dt.datetime, period: int) -> int:
    queries = [{"Id": f"q{m}", "MetricStat": {
        "Metric": {"Namespace": NAMESPACE, "MetricName": "Load",
                   "Dimensions": [{"Name": "Host", "Value": f"h{m:03}"}]},
        "Period": period, "Stat": "Average"}} for m in range(METRICS)]
    values, token = 0, None
    while True:
        kw = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        if token:
            kw["NextToken"] = token
        r = cw.get_metric_data(**kw)
        values += sum(len(x["Values"]) for x in r["MetricDataResults"])
        token = r.get("NextToken")
        if not token:
            return values


def get_metric_statistics(cw, start: dt.datetime, end: dt.datetime) -> int:
    r = cw.get_metric_statistics(Namespace=NAMESPACE, MetricName="Load",
                                 Dimensions=[{"Name": "Host", "Value": "h000"}], StartTime=start,
                                 EndTime=end, Period=60, Statistics=["Average", "Maximum"])
    return len(r["Datapoints"])


def timed(f) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = f()
    return (time.perf_counter() - t0) * 1000, n


def run(args: argparse.Namespace) -> dict:
    ts = targets()
    res: dict = {"targets": {t.label: {"version": t.version, "durability": t.durability} for t in ts},
                 "put": {mode: {t.label: [] for t in ts} for mode in ("boto3", "raw")},
                 "query": {}, "values": {}, "started": dt.datetime.now(dt.timezone.utc)}
    # Whole minutes, so every server buckets the same minutes.
    end = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=DAY_MINUTES)
    with tempfile.TemporaryDirectory(prefix="cloudwatch-bench-") as tmp:
        work = Path(tmp)
        try:
            for t in ts:
                start_fresh(t, work)
            for r in range(args.rounds):
                for mode in ("boto3", "raw"):
                    for t in (ts if r % 2 == 0 else list(reversed(ts))):
                        log(f"round {r + 1}: {t.label}, PutMetricData, {mode} client")
                        calls = args.calls * (4 if mode == "raw" else 1)
                        res["put"][mode][t.label].append(throughput(t.endpoint, args.clients, calls, mode == "raw"))
            for t in ts:
                log(f"{t.label}: loading a day of 1-minute data for {METRICS} metrics")
                load_day(t.endpoint, end)
            clients = {t.label: client(t.endpoint) for t in ts}
            kinds = {
                "GetMetricData, 100 metrics, period 60": lambda cw: get_metric_data(cw, start, end, 60),
                "GetMetricData, 100 metrics, period 300": lambda cw: get_metric_data(cw, start, end, 300),
                "GetMetricStatistics, 1 metric, period 60": lambda cw: get_metric_statistics(cw, start, end),
            }
            for name, f in kinds.items():
                res["query"][name] = {t.label: [] for t in ts}
                res["values"][name] = {}
                for i in range(args.samples):
                    for t in (ts if i % 2 == 0 else list(reversed(ts))):
                        if t.label == "moto" and name.startswith("GetMetricData") and not args.moto_get_metric_data:
                            continue
                        ms, n = timed(lambda: f(clients[t.label]))
                        res["query"][name][t.label].append(ms)
                        res["values"][name][t.label] = n
        finally:
            stop_all(ts)
    return res


def fmt(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def render(res: dict, args: argparse.Namespace) -> str:
    labels = list(res["targets"])
    m = machine_info()
    lines = [
        f"Measured by `benches/compare/cloudwatch.sh` (run {res['started'].isoformat(timespec='seconds')}; "
        f"{m['cores']} CPUs {m['cpu']}; client and servers on the same cores over loopback).", "",
        "| server | version | durability |", "|---|---|---|"]
    for label in labels:
        t = res["targets"][label]
        lines.append(f"| {label} | {t['version']} | {t['durability']} |")
    lines += ["", f"PutMetricData of {PER_CALL} datapoints per call, {args.clients} client processes, "
              f"{args.rounds} rounds (median round, lowest–highest):", "",
              "| client | " + " | ".join(f"{x} datapoints/s" for x in labels) + " | Freshet ÷ moto |",
              "|---|" + "---|" * len(labels) + "---|"]
    for mode, by in res["put"].items():
        meds = {label: workers.median(v) for label, v in by.items()}
        cells = [fmt(meds[label]) + (f" ({fmt(min(v))}–{fmt(max(v))})" if len(v) > 1 else "")
                 for label, v in by.items()]
        f, mo = meds.get("freshet"), meds.get("moto")
        ratio = f"{f / mo:.1f}x" if f and mo else "–"
        lines.append(f"| {mode} | " + " | ".join(cells) + f" | {ratio} |")
    lines += ["", f"Queries over one day of 1-minute data ({METRICS} metrics × {DAY_MINUTES} minutes), "
              f"{args.samples} samples per server, alternating; the whole answer (every page):", "",
              "| query | server | values returned | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for name, by in res["query"].items():
        for label, v in by.items():
            n = res["values"][name].get(label)
            lines.append(f"| {name} | {label} | {'–' if n is None else f'{n:,}'} | "
                         f"{fmt(workers.percentile(v, 50), 1)} | {fmt(workers.percentile(v, 99), 1)} |")
    if not args.moto_get_metric_data:
        lines += ["", "moto's GetMetricData is not sampled (run with `--moto-get-metric-data`): it scans "
                  "every stored datapoint for each of the 100 queries, and one call at period 300 took "
                  f"{MOTO_GMD_300_S} s when timed once by hand on this machine (a build running alongside)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer calls and samples; print only")
    ap.add_argument("--clients", type=int, default=4, help="client processes")
    ap.add_argument("--calls", type=int, default=None, help="PutMetricData calls per client per round (boto3)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None, help="query samples per server")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--moto-get-metric-data", action="store_true",
                    help="also time moto's GetMetricData (minutes per call: it scans every datapoint "
                         "for each of the 100 queries)")
    args = ap.parse_args()
    args.calls = args.calls or (50 if args.quick else 300)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.samples = args.samples or (3 if args.quick else 15)
    if not FRESHET.exists():
        print(f"no Freshet binary at {FRESHET} (set FRESHET_BIN or run cloudwatch.sh)", file=sys.stderr)
        return 2
    res = run(args)
    section = render(res, args)
    print(section)
    if not args.quick and not args.no_write:
        write_section(BEGIN, END, "CloudWatch metrics: Freshet and moto", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
