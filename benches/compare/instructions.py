#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Instructions a Freshet server executes per request, counted by valgrind (callgrind).

    benches/compare/instructions.py single                    # PutRecord 1 KiB
    benches/compare/instructions.py bulk                      # PutRecords 500 x 1 KiB
    benches/compare/instructions.py bulk --binary OLD --binary target/release/freshet

Throughput on a shared 2-core machine moves by +-10% from run to run with whatever else runs,
which hides a change of a few percent in the server's own work. Instructions retired do not
move with the neighbours: this runs the server under callgrind (about 50x slower, so the load
is light), warms it up, counts user-space instructions only while `freshet bench` drives it
for a fixed time, and divides by the requests (and records) the bench reports. Kernel work
(sockets, fsync) is not counted. Several `--binary` values are measured one after the other
and printed side by side, so a change can be checked against the build before it.
Needs `valgrind` (with callgrind_control). Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import FRESHET, ROOT, free_port, log, section_of, wait_port  # noqa: E402

KEEP = False

SCENARIOS = {
    "single": ["put", "--shards", "4", "--connections", "8", "--client", "raw"],
    "bulk": ["put-batch", "--shards", "4", "--connections", "4", "--batch", "500", "--client", "raw"],
}


def create_stream(port: int, name: str, shards: int) -> None:
    """Creates the stream the runs share (a bench given `--stream` expects it to exist)."""
    body = json.dumps({"StreamName": name, "ShardCount": shards}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.CreateStream"})
    urllib.request.urlopen(req, timeout=120).read()
    time.sleep(2.0)


def callgrind_control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def measure(binary: Path, scenario: list[str], seconds: float, env: dict[str, str] | None = None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="freshet-instr-", dir=ROOT / "target"))
    port = free_port()
    out = work / "callgrind.out"
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data"),
         "--durability", "fsync"],
        env={"PATH": "/usr/bin:/bin", "FRESHET__LOG__LEVEL": "warn",
             f"FRESHET__{section_of(binary)}__CREATE_DELAY": "0ms", **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, server, timeout=120)
        create_stream(port, "instr", 4)
        endpoint = ["--endpoint", f"http://127.0.0.1:{port}", "--no-progress", "--stream", "instr"]
        # Warm-up: creates the stream and fills caches, pools and connections' first use.
        subprocess.run([str(FRESHET), "bench", *scenario, "--duration", "5s", "--warmup", "1s",
                        "--keep-stream", *endpoint], check=True, capture_output=True, timeout=600)
        callgrind_control(server.pid, "--instr=on")
        report = work / "report.json"
        subprocess.run([str(FRESHET), "bench", *scenario, "--duration", f"{seconds:.0f}s",
                        "--warmup", "10ms", "--keep-stream", "--json", str(report), *endpoint],
                       check=True, capture_output=True, timeout=600)
        callgrind_control(server.pid, "--instr=off")
        callgrind_control(server.pid, "--dump")
        time.sleep(1.0)
        put = json.loads(report.read_text())["put"]
        # One dump per --dump: its summary counts everything since instrumentation began.
        summaries = [int(m.group(1)) for d in work.glob("callgrind.out*")
                     for m in re.finditer(r"^totals:\s+(\d+)", d.read_text(errors="replace"), re.M)]
        total = sum(summaries)
        return {"instructions": total, "requests": put["requests"], "records": put["records"]}
    finally:
        server.kill()
        server.wait(timeout=60)
        if not KEEP:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--binary", type=Path, action="append",
                    help="a server binary to measure (repeat to compare; default this build)")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the counted run lasts")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="server environment for an extra run of each binary, e.g. "
                         "FRESHET__CLOUDWATCH__METRICS=false (repeat for more variants)")
    args = ap.parse_args()
    if shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (with callgrind_control) is not installed")
    binaries = args.binary or [FRESHET]
    variants: list[dict[str, str]] = [{}] + [dict([kv.split("=", 1)]) for kv in args.env]
    rows = []
    for b in binaries:
        for env in variants:
            label = " ".join(f"{k}={v}" for k, v in env.items())
            log(f"{b} {label}: {args.scenario} under callgrind for {args.seconds:.0f} s")
            r = measure(b, SCENARIOS[args.scenario], args.seconds, env)
            rows.append((f"{b} {label}".strip(), r))
    print(f"| server binary (`{args.scenario}`) | requests | instructions per request | per record |")
    print("|---|---|---|---|")
    for b, r in rows:
        per_req = r["instructions"] / max(r["requests"], 1)
        per_rec = r["instructions"] / max(r["records"], 1)
        print(f"| `{b}` | {r['requests']} | {per_req:,.0f} | {per_rec:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
