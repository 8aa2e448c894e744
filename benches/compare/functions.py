#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Lambda functions on Freshet: warm Invoke, cold starts and Kinesis event source mappings.

    benches/compare/functions.sh                   # 3 runs of each scenario, median reported
    benches/compare/functions.sh --quick           # shorter runs, one each
    benches/compare/functions.sh --binary PATH     # another freshet build

Builds nothing: it runs `target/release/freshet` (or `--binary`), starts it with durability
fsync in a temporary directory, runs the `freshet bench fn-*` scenarios (each deploys a no-op
Python handler and deletes it after), repeats each (the median run is reported with the range of
its headline metric), and writes target/functions-results.json and the section between the
`functions` markers of docs/benchmarks.md.

There is no peer to run side by side: LocalStack and moto run Lambda handlers in Docker, which
this machine does not have, and emulators without Docker skip the Runtime API. The comparison
point for put-to-handler latency is AWS's documented polling of about one second per shard.

Only the Python standard library is used (and compare.py and services.py next to this file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402
from compare import FRESHET, ROOT, bench, get, log, machine_info  # noqa: E402
from services import fmt, freshet_target, median  # noqa: E402

BEGIN = "<!-- functions:begin -->"
END = "<!-- functions:end -->"
# The p99 put-to-handler target of issue 10, at 1,000 records/s.
LATENCY_TARGET_MS = 50.0
RATE = 1000


def scenarios(quick: bool) -> list[tuple[str, str, list[str], tuple[str, ...], bool]]:
    """(key, title, bench arguments, headline metric path, higher is better)."""
    d = "3s" if quick else "10s"
    records = "20000" if quick else "200000"
    samples = "2" if quick else "5"
    return [
        ("invoke-1", "warm Invoke (RequestResponse) of a no-op Python handler, 1 connection",
         ["fn-invoke", "--connections", "1", "--duration", d], ("put", "latency", "p50_ms"), False),
        ("invoke-4", "warm Invoke of a no-op Python handler, 4 connections",
         ["fn-invoke", "--connections", "4", "--duration", d], ("put", "requests_per_s"), True),
        ("invoke-16", "warm Invoke of a no-op Python handler, 16 connections",
         ["fn-invoke", "--connections", "16", "--duration", d], ("put", "requests_per_s"), True),
        ("cold", f"cold starts of a no-op Python handler ({samples} functions)",
         ["fn-cold", "--samples", samples], ("cold_start", "after_create", "p50_ms"), False),
        ("mapping-latency",
         f"put at {RATE:,} records/s (1 KiB, 4 shards) through a Kinesis mapping, BatchSize 100",
         ["fn-mapping-latency", "--rate", str(RATE), "--shards", "4", "--batch-size", "100",
          "--duration", d], ("end_to_end", "p99_ms"), False),
        ("mapping-throughput",
         f"mapping from TRIM_HORIZON over {int(records):,} x 1 KiB (4 shards), BatchSize 100",
         ["fn-mapping-throughput", "--records", records, "--shards", "4", "--batch-size", "100"],
         ("get", "records_per_s"), True),
    ]


def python_version() -> str:
    """The interpreter `python3.12` functions run under (python3.12 when it runs, else python3),
    as Freshet picks it."""
    for exe in ("python3.12", "python3"):
        if not shutil.which(exe):
            continue
        r = subprocess.run([exe, "--version"], capture_output=True, text=True)
        if r.returncode == 0:
            return f"{exe}: {r.stdout.strip() or r.stderr.strip()}"
    return "no python3 found"


def run(binary: Path, quick: bool, repeat: int, workdir: Path) -> dict:
    target = freshet_target(binary, "freshet")
    target.start_cmd = [c.replace("{data}", str(workdir / "data")) for c in target.start_cmd]
    target.start(workdir)
    scen = scenarios(quick)
    runs: dict[str, list[dict | None]] = {key: [] for key, *_ in scen}
    try:
        # Round by round, so a slow spell of the machine spreads over every scenario.
        for _ in range(repeat):
            for key, _title, args, _path, _higher in scen:
                runs[key].append(bench(target.endpoint, "freshet", args, 1800, binary))
    finally:
        target.stop()
    results = {}
    for key, title, args, path, higher in scen:
        best, values = median(runs[key], path, higher)
        results[key] = {"title": title, "args": args, "report": best, "values": values,
                        "path": list(path), "failed": sum(r is None for r in runs[key])}
    return {"version": target.version, "durability": target.durability, "results": results}


def rng(res: dict, digits: int) -> str:
    v = res["values"]
    return f" ({fmt(v[0], digits)}–{fmt(v[-1], digits)})" if len(v) > 1 else ""


def render(r: dict) -> str:
    m = r["machine"]
    res = r["freshet"]["results"]

    def rep(key: str) -> dict | None:
        return res.get(key, {}).get("report")

    def cell(key: str, *path: str, digits: int = 1) -> str:
        v = fmt(get(rep(key), *path), digits)
        return v + (rng(res[key], digits) if key in res and tuple(res[key]["path"]) == path else "")

    lines = [BEGIN, "", "## Functions (Lambda)", "",
             "Measured by `benches/compare/functions.sh` "
             f"(run {r['started']}; {r['repeat']} run{'s' if r['repeat'] != 1 else ''} of each scenario, "
             "the median run shown with the lowest–highest of its headline metric"
             + (", quick mode: shorter runs" if r.get("quick") else "") + "). "
             "Every scenario deploys a no-op Python handler from a zip with CreateFunction, as a user "
             "would, and deletes it afterwards; `freshet bench` and the server share the machine's "
             "cores over loopback, and so do the handler processes (one per execution environment). "
             "Invoke and PutRecords go over kept-alive HTTP/1.1 with unsigned requests (the lean "
             "client of the Kinesis write scenarios), so the server is measured rather than an SDK. "
             "Handlers report when they started, and each record's send time, to the bench over "
             "a loopback TCP socket, not through the server under test. Put-to-handler latency is "
             "from just before the PutRecords call to the handler's start; the throughput run is "
             "timed from CreateEventSourceMapping until the handler has reported every record, so "
             "it includes the mapping's start and the environments' cold starts.", "",
             "There is no peer to run side by side: LocalStack and moto run Lambda handlers in "
             "Docker containers, which this machine does not have, and the Docker-free emulators "
             "skip the Lambda Runtime API. The comparison point for put-to-handler latency is AWS "
             "itself: a Kinesis event source mapping polls each shard about once per second when "
             "it is idle, so AWS's polling alone adds up to about 1 s before a record reaches the "
             "handler.", "",
             "| | |", "|---|---|",
             f"| CPU | {m['cpu']} |",
             f"| cores / memory | {m['cores']} / {m['memory']} |",
             f"| kernel | {m['kernel']} |",
             f"| handler interpreter | {r.get('python', '?')} |",
             f"| freshet | {r['freshet']['version']}; durability: {r['freshet']['durability']} |",
             "", "| scenario | metric | freshet |", "|---|---|---|"]
    rows = [
        ("invoke-1", "invocations/s", ("put", "requests_per_s"), 0),
        ("invoke-1", "p50 ms", ("put", "latency", "p50_ms"), 2),
        ("invoke-1", "p99 ms", ("put", "latency", "p99_ms"), 2),
        ("invoke-4", "invocations/s", ("put", "requests_per_s"), 0),
        ("invoke-4", "p99 ms", ("put", "latency", "p99_ms"), 2),
        ("invoke-16", "invocations/s", ("put", "requests_per_s"), 0),
        ("invoke-16", "p99 ms", ("put", "latency", "p99_ms"), 2),
        ("cold", "first response after CreateFunction, p50 ms", ("cold_start", "after_create", "p50_ms"), 1),
        ("cold", "Init Duration after CreateFunction, p50 ms", ("cold_start", "after_create_init", "p50_ms"), 1),
        ("cold", "first response after UpdateFunctionConfiguration, p50 ms",
         ("cold_start", "after_update", "p50_ms"), 1),
        ("cold", "Init Duration after UpdateFunctionConfiguration, p50 ms",
         ("cold_start", "after_update_init", "p50_ms"), 1),
        ("mapping-latency", "achieved put records/s", ("put", "records_per_s"), 0),
        ("mapping-latency", "put-to-handler p50 ms", ("end_to_end", "p50_ms"), 2),
        ("mapping-latency", "put-to-handler p99 ms", ("end_to_end", "p99_ms"), 2),
        ("mapping-latency", "put-to-handler max ms", ("end_to_end", "max_ms"), 2),
        ("mapping-throughput", "records/s into the handler", ("get", "records_per_s"), 0),
        ("mapping-throughput", "invocations/s", ("get", "requests_per_s"), 0),
    ]
    for key, metric, path, digits in rows:
        if key not in res:
            continue
        lines.append(f"| {res[key]['title']} | {metric} | {cell(key, *path, digits=digits)} |")
    p99 = get(rep("mapping-latency"), "end_to_end", "p99_ms")
    met = "–" if p99 is None else ("yes" if p99 <= LATENCY_TARGET_MS else "**no**")
    lines += ["", "| target (issue 10) | measured | met |", "|---|---|---|",
              f"| put-to-handler p99 ≤ {LATENCY_TARGET_MS:.0f} ms at {RATE:,} records/s "
              f"(AWS's polling alone: about 1,000 ms) | {fmt(p99, 2)} ms | {met} |", ""]
    errors = []
    for key, e in res.items():
        rp = e["report"] or {}
        codes: dict[str, int] = {}
        for row in ("put", "get"):
            for code, n in ((rp.get(row) or {}).get("errors") or {}).items():
                codes[code] = codes.get(code, 0) + n
        if codes:
            errors.append(f"{key}: " + ", ".join(f"{c}={n}" for c, n in sorted(codes.items())))
        if e.get("failed"):
            errors.append(f"{key}: {e['failed']} run(s) failed")
    lines += ["Errors seen: " + ("; ".join(errors) if errors else "none") + ".", ""]
    lines += ["The server's CPU (share of one core) and peak RSS in the median run of each scenario "
              "(the handler processes are not included):", ""]
    for key, e in res.items():
        srv = (e["report"] or {}).get("server") or {}
        if srv:
            lines.append(f"- {key}: CPU {srv.get('cpu_percent', 0):.0f}%, peak RSS "
                         f"{srv.get('peak_rss_mib', 0):.0f} MiB")
    lines += ["", "To reproduce (the script builds nothing), and to run one scenario against a running "
              "`freshet serve`:", "", "```sh", "cargo build --release -p freshet",
              "benches/compare/functions.sh" + (" --quick" if r.get("quick") else "")]
    for key, e in res.items():
        lines.append("target/release/freshet bench " + " ".join(e["args"]))
    lines += ["```", "", END]
    return "\n".join(lines) + "\n"


def write(r: dict, out: Path) -> None:
    section = render(r)
    text = out.read_text() if out.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", lambda _: section, text, flags=re.S)
    else:
        # After the services section when there is one, else before the hand-written sections.
        services_end = "<!-- services:end -->"
        if services_end in text:
            at = text.index(services_end) + len(services_end)
        else:
            at = min([i for m in compare.HAND_WRITTEN if (i := text.find("\n" + m)) >= 0] or [len(text)])
        text = text[:at].rstrip() + "\n\n" + section + "\n" + text[at:].lstrip("\n")
    out.write_text(text)
    log(f"wrote {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None, help="runs per scenario (default 3, 1 with --quick)")
    ap.add_argument("--binary", type=Path, default=FRESHET, help="the freshet binary (default target/release/freshet)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--json-out", type=Path, default=ROOT / "target" / "functions-results.json")
    ap.add_argument("--render-only", action="store_true", help="rewrite the section from --json-out")
    args = ap.parse_args()
    if args.render_only:
        write(json.loads(args.json_out.read_text()), args.out)
        return 0
    binary = args.binary.resolve()
    if not binary.exists():
        raise SystemExit(f"{binary} is missing; build it with `cargo build --release -p freshet`")
    repeat = max(1, args.repeat if args.repeat is not None else (1 if args.quick else 3))
    (ROOT / "target").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="freshet-functions-", dir=ROOT / "target"))
    results: dict = {"machine": machine_info(), "python": python_version(), "repeat": repeat,
                     "quick": args.quick,
                     "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        results["freshet"] = run(binary, args.quick, repeat, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2))
    write(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
