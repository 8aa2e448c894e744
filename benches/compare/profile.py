#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Where a Freshet server spends its CPU under one benchmark scenario.

    benches/compare/profile.py single     # PutRecord 1 KiB, 4 shards, 64 connections
    benches/compare/profile.py bulk       # PutRecords 500 x 1 KiB, 4 shards, 8 connections
    benches/compare/profile.py drain      # GetRecords drain of 200,000 x 1 KiB, 4 shards

Starts the release binary (build it first: `cargo build --release -p freshet`) on loopback with
durability=fsync, drives it with `freshet bench` exactly as benches/compare/compare.py does,
samples the server process with `perf record --call-graph dwarf` for a few seconds in the
middle of the run, and prints a Markdown table: the share of the server's CPU samples spent
under each part of the request path (inclusive, so nested rows overlap), plus the kernel/user
split. Needs Linux `perf` with permission to profile the process (root, or
kernel.perf_event_paranoid <= 1). Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import FRESHET, ROOT, free_port, log, wait_port  # noqa: E402

SCENARIOS = {
    "single": ["put", "--shards", "4", "--connections", "64", "--client", "raw"],
    "bulk": ["put-batch", "--shards", "4", "--connections", "8", "--batch", "500", "--client", "raw"],
    "drain": ["get", "--shards", "4", "--records", "200000"],
}

# (what, regex on the symbol of a frame). Inclusive shares: a row counts every sample with such a
# frame anywhere on its stack.
PARTS = [
    ("HTTP connection tasks (hyper, all request handling below)", r"freshet_server::http::connection"),
    ("  request routing and the API call", r"freshet_server::http::route"),
    ("    decoding the request (JSON/CBOR, base64, validation)", r"freshet_aws::decode_input"),
    ("    encoding the response", r"freshet_aws::encode_output|freshet_aws::.*encode_get_records"),
    ("    log append (offsets, encoding, write)", r"freshet_log::shard::ShardInner::write_batch"),
    ("    GetRecords read from the log", r"freshet_log::shard::ShardLog::read|freshet_streams::.*get_records"),
    ("    response headers and request ids", r"freshet_server::http::api_response"),
    ("  socket send (loopback delivery to the client included)", r"\btcp_sendmsg$"),
    ("  socket receive", r"\btcp_recvmsg$"),
    ("group commit (syncer thread and sync lanes)", r"freshet_log::syncer::"),
    ("  fdatasync", r"__x64_sys_fdatasync"),
    ("  segment writes (pwrite, pwritev)", r"__x64_sys_pwritev?64|__x64_sys_pwritev2?"),
    ("tokio scheduler: parking and waking workers", r"tokio::runtime::scheduler::multi_thread::worker::Context::park"),
    ("futex (thread wake-ups)", r"__x64_sys_futex"),
    ("memory allocator (self time)", r"^(_int_malloc|_int_free|malloc|cfree@GLIBC.*|__libc_free|mi_.*|_mi_.*)$"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--seconds", type=float, default=4.0, help="how long to sample")
    ap.add_argument("--keep", action="store_true", help="keep perf.data under target/")
    args = ap.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("`perf` is not installed (Debian/Ubuntu: linux-perf or linux-tools-$(uname -r))")
    if not FRESHET.exists():
        raise SystemExit(f"{FRESHET} is missing; build it with `cargo build --release -p freshet`")

    work = Path(tempfile.mkdtemp(prefix="freshet-profile-", dir=ROOT / "target"))
    port = free_port()
    server = subprocess.Popen(
        [str(FRESHET), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data"),
         "--durability", "fsync"],
        env=dict(os.environ, FRESHET__STREAMS__CREATE_DELAY="0ms", FRESHET__LOG__LEVEL="warn"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = work / "perf.data"
    try:
        wait_port(port, server)
        scenario = SCENARIOS[args.scenario]
        timed = ["--duration", f"{args.seconds + 4:.0f}s", "--warmup", "1s"] if args.scenario != "drain" else []
        bench = subprocess.Popen([str(FRESHET), "bench", *scenario, *timed, "--endpoint", f"http://127.0.0.1:{port}",
                                  "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Past the stream setup and warm-up (for a drain: into the fill, then the drain).
        time.sleep(2.0)
        log(f"sampling the server for {args.seconds} s")
        subprocess.run(["perf", "record", "-F", "999", "-g", "--call-graph", "dwarf,16384", "-p", str(server.pid),
                        "-o", str(data), "--", "sleep", str(args.seconds)],
                       check=True, capture_output=True)
        out, _ = bench.communicate(timeout=900)
        sys.stderr.write(out)
        report = subprocess.run(["perf", "report", "-i", str(data), "--children", "--sort", "symbol", "--stdio",
                                 "-g", "none", "--percent-limit", "0.01"],
                                capture_output=True, text=True, check=True).stdout
        dsos = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso", "--stdio",
                               "-g", "none"], capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=60)
        if args.keep:
            kept = ROOT / "target" / f"profile-{args.scenario}.data"
            if data.exists():
                data.replace(kept)
                log(f"kept {kept}")
        shutil.rmtree(work, ignore_errors=True)

    # "  12.34%  0.56%  [.] symbol" (children, self, kind, symbol)
    rows = []
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*(?:-\s+-\s*)?$", line)
        if m:
            rows.append((float(m.group(1)), float(m.group(2)), m.group(3).strip()))
    kernel = sum(float(m.group(1)) for line in dsos.splitlines()
                 if (m := re.match(r"\s*([\d.]+)%\s+\[kernel", line)))
    print(f"| part of the server (`{args.scenario}`: freshet bench {' '.join(SCENARIOS[args.scenario])}) "
          "| share of server CPU samples |")
    print("|---|---|")
    for what, pattern in PARTS:
        rx = re.compile(pattern)
        if what.startswith("memory allocator"):
            share = sum(selfp for _, selfp, sym in rows if rx.search(sym))
        else:
            # The outermost matching frame holds the inclusive share; taking the maximum avoids
            # counting a recursive or inlined duplicate twice.
            share = max((child for child, _, sym in rows if rx.search(sym)), default=0.0)
        print(f"| {what.replace('  ', '&nbsp;&nbsp;')} | {share:.1f}% |")
    print(f"| in the kernel (self time, all of the above) | {kernel:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
