#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`freshet agent` tailing a 1 GiB CSV into a Kinesis data stream: wall time, lines/s, MiB/s,
the agent's CPU seconds and peak RSS, and the server's CPU, standalone and inside
`freshet serve`.

    benches/compare/agent.sh                        # release build, 1 GiB, write docs/benchmarks.md
    python3 benches/compare/agent.py --size-mb 50   # a small run, print only

What it does, on one machine (client and server share its cores over loopback):

- Generates a CSV of NYC taxi trips (the TLC's 18 columns, a header line) of about
  `--size-mb` MiB with `freshet demo taxi --write-file` (fixed seed) in a temp directory, and
  deletes it at the end.
- For each run starts a fresh Freshet (`serve`, release build, fsync durability: a PutRecords
  is acknowledged once its records are on disk; shard quotas off, the default, so nothing
  throttles), creates a stream of `--shards` shards and waits for ACTIVE.
- **Standalone** runs: `freshet agent -c agent.json --once` over HTTP (flow to kinesisStream,
  partitionKeyOption RANDOM, initialPosition START_OF_FILE, skipHeaderLines 1,
  maxBufferSizeRecords 500, maxBufferAgeMillis 1000), raw lines and with CSVTOJSON
  (customFieldNames = the 18 columns). Wall time from spawn to exit (`--once` exits once every line is acknowledged and
  the checkpoint saved); the agent's user+sys CPU and peak RSS from `wait4`; the server's
  CPU from /proc over the same window.
- **In the server** (raw lines): `freshet serve` with `[agent] config` (FRESHET__AGENT__CONFIG)
  whose flow watches an empty directory; once the stream is ACTIVE the CSV is renamed into it
  and the clock runs until CloudWatch's IncomingRecords for the stream reaches the line count
  (polled every 0.2 s; the server collects metrics about once a second, so the figure may be
  up to ~1 s late). The server's CPU (agent included) over that window.
- Every run checks the stream holds exactly the file's line count: the Sum of AWS/Kinesis
  IncomingRecords for the stream (GetMetricStatistics), which counts stored records.

Only the standard library and boto3 are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import ROOT, Target, log, machine_info, start_fresh, stop_all, write_section  # noqa: E402

FRESHET = Path(os.environ.get("FRESHET_BIN", ROOT / "target" / "release" / "freshet"))
BEGIN = "<!-- agent:begin -->"
END = "<!-- agent:end -->"
STREAM = "taxi-trips"
SEED = 13
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
COLUMNS = [
    "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
    "trip_distance", "RatecodeID", "store_and_fwd_flag", "PULocationID", "DOLocationID",
    "payment_type", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
    "improvement_surcharge", "total_amount", "congestion_surcharge",
]
PROGRESS = re.compile(r"Agent: Progress: (\d+) records parsed \((\d+) bytes\), and (\d+) records sent")


def client(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": 3}, read_timeout=120))


# --------------------------------------------------------------------------------------------
# The file.


def generate(path: Path, size_mb: int) -> dict:
    """Writes a taxi CSV of about `size_mb` MiB (header + N lines) at `path`."""
    sample = path.with_suffix(".sample")
    subprocess.run([str(FRESHET), "demo", "taxi", "--write-file", str(sample), "--count", "20000",
                    "--seed", str(SEED), "--quiet"], check=True, capture_output=True)
    lines = sample.read_bytes().splitlines(keepends=True)[1:]
    sample.unlink()
    per_line = sum(len(x) for x in lines) / len(lines)
    count = max(1, int(size_mb * MIB / per_line))
    log(f"generating {count:,} taxi lines (~{size_mb} MiB) at {path}")
    t0 = time.perf_counter()
    subprocess.run([str(FRESHET), "demo", "taxi", "--write-file", str(path), "--count", str(count),
                    "--seed", str(SEED), "--quiet"], check=True, capture_output=True)
    took = time.perf_counter() - t0
    newlines = 0
    with path.open("rb") as f:
        while chunk := f.read(8 * MIB):
            newlines += chunk.count(b"\n")
    size = path.stat().st_size
    log(f"  {size / MIB:,.0f} MiB, {newlines - 1:,} lines after the header, in {took:.1f} s")
    return {"bytes": size, "lines": newlines - 1, "generate_s": took}


# --------------------------------------------------------------------------------------------
# Processes.


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mib(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def server(label: str, env: dict[str, str] | None = None) -> Target:
    version = subprocess.run([str(FRESHET), "--version"], capture_output=True, text=True).stdout.strip()
    return Target(
        label=label, version=version, durability="fsync before acknowledge (group commit)",
        start_cmd=[str(FRESHET), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{data}",
                   "--durability", "fsync"],
        env={"FRESHET__KINESIS__CREATE_DELAY": "0ms", "FRESHET__LOG__LEVEL": "warn", **(env or {})})


def create_stream(endpoint: str, shards: int) -> None:
    k = client("kinesis", endpoint)
    k.create_stream(StreamName=STREAM, ShardCount=shards)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        s = k.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            if s["OpenShardCount"] != shards:
                raise RuntimeError(f"{STREAM} has {s['OpenShardCount']} shards, not {shards}")
            return
        time.sleep(0.1)
    raise RuntimeError(f"{STREAM} not ACTIVE after 60 s")


def stored(endpoint: str, since: dt.datetime) -> tuple[int, int]:
    """(records, bytes) stored in the stream since `since`: Sums of IncomingRecords/Bytes."""
    cw = client("cloudwatch", endpoint)
    out = []
    for name in ("IncomingRecords", "IncomingBytes"):
        pts = cw.get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName=name,
            Dimensions=[{"Name": "StreamName", "Value": STREAM}],
            StartTime=since - dt.timedelta(minutes=2),
            EndTime=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5),
            Period=60, Statistics=["Sum"])["Datapoints"]
        out.append(int(sum(p["Sum"] for p in pts)))
    return out[0], out[1]


def settled_count(endpoint: str, since: dt.datetime, want: int) -> tuple[int, int]:
    """The stored counts once they reach `want` or stop moving (metrics are collected about
    once a second), within 60 s."""
    deadline = time.monotonic() + 60
    last, still = None, 0
    while time.monotonic() < deadline:
        got = stored(endpoint, since)
        if got[0] == want:
            # One more look a little later: a count above `want` would be duplicates.
            time.sleep(2.0)
            return stored(endpoint, since)
        still = still + 1 if got == last else 0
        if still >= 10:
            return got
        last = got
        time.sleep(0.5)
    return last or (0, 0)


# --------------------------------------------------------------------------------------------
# agent.json


def flow(pattern: str, csv: bool) -> dict:
    f = {"filePattern": pattern, "kinesisStream": STREAM, "partitionKeyOption": "RANDOM",
         "initialPosition": "START_OF_FILE", "skipHeaderLines": 1, "maxBufferSizeRecords": 500,
         # The smallest age: a tailer cannot know the file is complete, so inside the server the
         # last partial buffer waits this long (the default, 60 s, would dominate the time).
         # Full buffers go long before; `--once` sends the last one at the end of the file.
         "maxBufferAgeMillis": 1000}
    if csv:
        f["dataProcessingOptions"] = [{"optionName": "CSVTOJSON", "customFieldNames": COLUMNS,
                                       "delimiter": ","}]
    return f


def agent_json(path: Path, flows: list[dict], endpoint: str | None, checkpoints: Path) -> Path:
    cfg: dict = {"cloudwatch.emitMetrics": False, "checkpointFile": str(checkpoints),
                 "log.statusReportingPeriodSeconds": 10, "flows": flows}
    if endpoint:
        cfg.update({"kinesis.endpoint": endpoint, "awsAccessKeyId": "AKIDEXAMPLE",
                    "awsSecretAccessKey": "secret", "kinesis.region": "us-east-1"})
    path.write_text(json.dumps(cfg, indent=2))
    return path


# --------------------------------------------------------------------------------------------
# Runs.


def standalone(work: Path, csv_path: Path, file: dict, shards: int, csv: bool) -> dict:
    name = "csvtojson" if csv else "raw"
    t = server(f"freshet-{name}")
    try:
        start_fresh(t, work)
        create_stream(t.endpoint, shards)
        cfg = agent_json(work / f"agent-{name}.json", [flow(str(csv_path), csv)], t.endpoint,
                         work / f"checkpoints-{name}")
        agent_log = work / f"agent-{name}.log"
        log(f"standalone agent, {name}")
        since = dt.datetime.now(dt.timezone.utc)
        server_cpu0 = cpu_seconds(t.proc.pid)
        t0 = time.perf_counter()
        with agent_log.open("wb") as out:
            p = subprocess.Popen([str(FRESHET), "agent", "-c", str(cfg), "--once",
                                  "--endpoint", t.endpoint],
                                 stdout=out, stderr=subprocess.STDOUT,
                                 env=dict(os.environ, RUST_LOG="info"))
            _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        server_cpu = cpu_seconds(t.proc.pid) - server_cpu0
        server_rss = peak_rss_mib(t.proc.pid)
        text = agent_log.read_text(errors="replace")
        if p.returncode != 0:
            raise RuntimeError(f"agent exited {p.returncode}: {text[-2000:]}")
        progress = PROGRESS.findall(text)
        sent = int(progress[-1][2]) if progress else None
        records, nbytes = settled_count(t.endpoint, since, file["lines"])
        log(f"  {wall:.1f} s, {file['lines'] / wall:,.0f} lines/s; agent says sent {sent}, "
            f"stream holds {records:,}")
        return {"mode": f"standalone, {'CSVTOJSON' if csv else 'raw lines'}", "wall_s": wall,
                "agent_cpu_s": ru.ru_utime + ru.ru_stime, "agent_user_s": ru.ru_utime,
                "agent_sys_s": ru.ru_stime, "agent_rss_mib": ru.ru_maxrss / 1024,
                "server_cpu_s": server_cpu, "server_rss_mib": server_rss,
                "agent_sent": sent, "stored": records, "stored_bytes": nbytes}
    finally:
        stop_all([t])
        cleanup(work / f"{t.label}-data")


def in_server(work: Path, csv_path: Path, file: dict, shards: int) -> dict:
    watched = work / "incoming"
    watched.mkdir(exist_ok=True)
    cfg = agent_json(work / "agent-server.json", [flow(str(watched / "taxi-*.csv"), False)], None,
                     work / "checkpoints-server")
    t = server("freshet-in-server", {"FRESHET__AGENT__CONFIG": str(cfg)})
    moved = watched / "taxi-1.csv"
    try:
        start_fresh(t, work)
        create_stream(t.endpoint, shards)
        log("agent inside freshet serve, raw lines")
        since = dt.datetime.now(dt.timezone.utc)
        server_cpu0 = cpu_seconds(t.proc.pid)
        t0 = time.perf_counter()
        os.rename(csv_path, moved)
        wall = None
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            if stored(t.endpoint, since)[0] >= file["lines"]:
                wall = time.perf_counter() - t0
                break
            time.sleep(0.2)
        server_cpu = cpu_seconds(t.proc.pid) - server_cpu0
        server_rss = peak_rss_mib(t.proc.pid)
        records, nbytes = settled_count(t.endpoint, since, file["lines"])
        log(f"  {wall and f'{wall:.1f} s'}; stream holds {records:,}")
        return {"mode": "inside `freshet serve`, raw lines", "wall_s": wall, "agent_cpu_s": None,
                "agent_rss_mib": None, "server_cpu_s": server_cpu, "server_rss_mib": server_rss,
                "agent_sent": None, "stored": records, "stored_bytes": nbytes}
    finally:
        stop_all([t])
        if moved.exists():
            os.rename(moved, csv_path)
        cleanup(work / f"{t.label}-data")


def cleanup(path: Path) -> None:
    subprocess.run(["rm", "-rf", str(path)], check=False)


def run(args: argparse.Namespace) -> dict:
    res: dict = {"started": dt.datetime.now(dt.timezone.utc), "load": os.getloadavg(),
                 "shards": args.shards, "runs": []}
    res["version"] = subprocess.run([str(FRESHET), "--version"], capture_output=True,
                                    text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="agent-bench-", dir=args.tmp) as tmp:
        work = Path(tmp)
        csv_path = work / "taxi.csv"
        res["file"] = generate(csv_path, args.size_mb)
        for mode in args.modes:
            os.sync()
            if mode == "raw":
                res["runs"].append(standalone(work, csv_path, res["file"], args.shards, False))
            elif mode == "csvtojson":
                res["runs"].append(standalone(work, csv_path, res["file"], args.shards, True))
            elif mode == "server":
                res["runs"].append(in_server(work, csv_path, res["file"], args.shards))
    return res


# --------------------------------------------------------------------------------------------
# The section.


def fmt(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def render(res: dict) -> str:
    m = machine_info()
    f = res["file"]
    load = ", ".join(f"{x:.2f}" for x in res["load"])
    lines = [
        f"Measured by `benches/compare/agent.sh` (run {res['started'].isoformat(timespec='seconds')}; "
        f"{res['version']}; {m['cores']} CPUs {m['cpu']}, shared: the agent, the server and anything "
        f"else running compete for the same 2 cores; load average at the start {load}).", "",
        f"File: {f['bytes'] / MIB:,.0f} MiB of NYC taxi trips (`freshet demo taxi`, 18 columns), "
        f"{f['lines']:,} lines after the header ({f['bytes'] / (f['lines'] + 1):.0f} B a line). "
        f"Stream: {res['shards']} shards, fsync durability, no shard quotas. Flow: "
        "partitionKeyOption RANDOM, initialPosition START_OF_FILE, skipHeaderLines 1, "
        "maxBufferSizeRecords 500, maxBufferAgeMillis 1000 (one PutRecords in flight per flow).", "",
        "| run | wall s | lines/s | MiB/s of file | agent CPU s (user+sys) | agent CPU per 1M lines | "
        "agent peak RSS MiB | server CPU s | server peak RSS MiB | agent + server CPU s | "
        "records in stream | MiB stored |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["runs"]:
        wall = r["wall_s"]
        per_m = r["agent_cpu_s"] / f["lines"] * 1e6 if r["agent_cpu_s"] is not None else None
        total = (r["agent_cpu_s"] or 0.0) + r["server_cpu_s"]
        ok = "" if r["stored"] == f["lines"] else " (expected " + f"{f['lines']:,})"
        lines.append(
            f"| {r['mode']} | {fmt(wall, 1)} | {fmt(wall and f['lines'] / wall)} | "
            f"{fmt(wall and f['bytes'] / MIB / wall, 1)} | {fmt(r['agent_cpu_s'], 1)} | "
            f"{fmt(per_m, 2)} | {fmt(r['agent_rss_mib'])} | {fmt(r['server_cpu_s'], 1)} | "
            f"{fmt(r['server_rss_mib'])} | {fmt(total, 1)} | {r['stored']:,}{ok} | {fmt(r['stored_bytes'] / MIB)} |")
    lines += [
        "",
        "Wall time: standalone, from spawning `freshet agent --once` to its exit (every line "
        "acknowledged, checkpoint saved); inside the server, from renaming the file into the "
        "watched directory to IncomingRecords reaching the line count (polled every 0.2 s; "
        "metrics are collected about once a second, so up to ~1 s late). Agent CPU and peak RSS "
        "from `wait4`; server CPU from /proc over the same window (inside the server it includes "
        "the agent). \"Records in stream\" is the Sum of AWS/Kinesis IncomingRecords; MiB stored "
        "counts data and partition keys.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the CSV in MiB")
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--modes", default="raw,csvtojson,server",
                    help="comma-separated: raw, csvtojson (standalone), server (inside serve)")
    ap.add_argument("--tmp", default=None, help="directory for the CSV and the data directories")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := set(args.modes) - {"raw", "csvtojson", "server"}:
        ap.error(f"unknown modes {sorted(unknown)}")
    if not FRESHET.exists():
        print(f"no Freshet binary at {FRESHET} (set FRESHET_BIN or run agent.sh)", file=sys.stderr)
        return 2
    res = run(args)
    if args.json:
        args.json.write_text(json.dumps(res, default=str, indent=2))
    section = render(res)
    print(section)
    bad = [r["mode"] for r in res["runs"] if r["stored"] != res["file"]["lines"]]
    if bad:
        log(f"the stream does not hold exactly {res['file']['lines']:,} records in: {bad}")
    if not args.no_write and args.size_mb >= 1024 and not bad:
        write_section(BEGIN, END, "Agent: tailing a 1 GiB CSV", section)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
