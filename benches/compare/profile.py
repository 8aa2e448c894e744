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
from compare import FRESHET, ROOT, free_port, log, section_of, wait_port  # noqa: E402

SCENARIOS = {
    "single": ["put", "--shards", "4", "--connections", "64", "--client", "raw"],
    "bulk": ["put-batch", "--shards", "4", "--connections", "8", "--batch", "500", "--client", "raw"],
    "drain": ["get", "--shards", "4", "--records", "200000"],
}

# (what, regex on a frame's symbol; kernel frames start with `k:`). Inclusive shares: a row counts
# every sample with such a frame anywhere on its stack, so nested rows overlap.
PARTS = [
    ("HTTP connection tasks (hyper, all request handling below)", r"freshet_server::http::connection"),
    ("  request routing and the API call", r"freshet_server::http::route"),
    ("    decoding the request (JSON/CBOR, base64, validation)", r"freshet_protocol::decode_input"),
    ("    encoding the response", r"freshet_protocol::encode_output|RecordsJson.*to_vec|freshet_kinesis::.*Operation.*encode"),
    ("    streams layer (routing, hashing, quotas, log append)", r"freshet_kinesis::data::.*put_records?\b|Streams::put_records?\b"),
    ("      log append (offsets, encoding, queueing the write)", r"freshet_log::shard::ShardInner::write_batch"),
    ("    GetRecords read from the log", r"freshet_log::shard::ShardLog::read|freshet_kinesis::.*get_records"),
    ("    response headers and request ids", r"freshet_server::http::api_response"),
    ("  socket send (loopback delivery to the client included)", r"^k:tcp_sendmsg$"),
    ("  socket receive", r"^k:tcp_recvmsg$"),
    ("group commit (syncer thread and sync lanes)", r"freshet_log::(syncer|lanes)::"),
    ("  fdatasync", r"^k:__x64_sys_fdatasync"),
    ("  segment writes (pwrite, pwritev)", r"^k:(__x64_sys_pwrite64|do_pwritev)$"),
    ("tokio scheduler: parking and waking workers", r"tokio::runtime::scheduler::multi_thread::worker::Context::park"),
    ("futex (thread wake-ups)", r"^k:__x64_sys_futex"),
    ("memory allocator (self time)", r"^(_int_malloc|_int_free|malloc|cfree@GLIBC.*|__libc_free|mi_.*|_mi_.*)$"),
]


KERNEL_MARK = "k:"


def parse_script(text: str) -> list[tuple[str, list[str]]]:
    """`perf script` output as (thread name, frames leaf first); kernel frames get a `k:` prefix."""
    samples: list[tuple[str, list[str]]] = []
    for block in text.split("\n\n"):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines or lines[0].startswith("\t"):
            continue
        frames = []
        for line in lines[1:]:
            m = re.match(r"\s*[0-9a-f]+ (.*?)(?:\+0x[0-9a-f]+)? \((.*)\)$", line)
            if m:
                kernel = "kernel" in m.group(2)
                frames.append((KERNEL_MARK if kernel else "") + m.group(1))
        samples.append((lines[0].split()[0], frames))
    return samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--seconds", type=float, default=4.0, help="how long to sample")
    ap.add_argument("--keep", action="store_true", help="keep perf.data under target/")
    ap.add_argument("--data", type=Path, help="analyse this perf.data (from --keep) instead of measuring")
    ap.add_argument("--binary", type=Path, default=FRESHET,
                    help="the server binary to profile (e.g. an older build, to compare)")
    args = ap.parse_args()
    if args.data:
        script = subprocess.run(["perf", "script", "-i", str(args.data)], capture_output=True, text=True,
                                check=True).stdout
        report(args, script)
        return 0
    if shutil.which("perf") is None:
        raise SystemExit("`perf` is not installed (Debian/Ubuntu: linux-perf or linux-tools-$(uname -r))")
    if not args.binary.exists():
        raise SystemExit(f"{args.binary} is missing; build it with `cargo build --release -p freshet`")

    work = Path(tempfile.mkdtemp(prefix="freshet-profile-", dir=ROOT / "target"))
    port = free_port()
    server = subprocess.Popen(
        [str(args.binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data"),
         "--durability", "fsync"],
        # Builds from before the multi-service platform call the Kinesis section `streams`.
        env=dict(os.environ, FRESHET__LOG__LEVEL="warn",
                 **{f"FRESHET__{section_of(args.binary)}__CREATE_DELAY": "0ms"}),
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
        script = subprocess.run(["perf", "script", "-i", str(data)], capture_output=True, text=True,
                                check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=60)
        if args.keep:
            kept = ROOT / "target" / f"profile-{args.scenario}-{args.binary.parent.parent.name}.data"
            if data.exists():
                data.replace(kept)
                log(f"kept {kept}")
        shutil.rmtree(work, ignore_errors=True)

    report(args, script)
    return 0


def report(args: argparse.Namespace, script: str) -> None:
    """Prints the Markdown table for `perf script` output."""
    samples = parse_script(script)
    n = len(samples) or 1
    print(f"| part of the server (`{args.scenario}`: freshet bench {' '.join(SCENARIOS[args.scenario])}) "
          "| share of server CPU samples |")
    print("|---|---|")
    for what, pattern in PARTS:
        rx = re.compile(pattern)
        if what.startswith("memory allocator"):
            hits = sum(1 for _, stack in samples if stack and rx.search(stack[0]))
        else:
            hits = sum(1 for _, stack in samples if any(rx.search(f) for f in stack))
        print(f"| {what.replace('  ', '&nbsp;&nbsp;')} | {100 * hits / n:.1f}% |")
    kernel = sum(1 for _, stack in samples if stack and stack[0].startswith(KERNEL_MARK))
    print(f"| in the kernel (self time, all of the above) | {100 * kernel / n:.1f}% |")
    print(f"\n{len(samples)} samples at 999 Hz.")


if __name__ == "__main__":
    sys.exit(main())
