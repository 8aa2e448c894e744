#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side benchmark of Freshet, kinesalite and kinesis-mock (npm `kinesis-local`).

One command, from a fresh clone:

    benches/compare/run.sh            # full run, writes docs/benchmarks.md and the plot
    benches/compare/run.sh --quick    # shorter runs and a 1 GiB restart test

It builds Freshet in release mode, installs the peers from npm into target/bench-peers,
starts every server on loopback, measures the machine's own limits (sequential write with
fdatasync, and a no-op HTTP server driven by the same client), runs the same `freshet bench`
scenarios against each server in one run, and writes docs/benchmarks.md (machine, versions,
durability, results, ratios, targets) and docs/benchmarks-throughput.svg.

Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = ROOT / "target" / "bench-peers"
FRESHET = ROOT / "target" / "release" / "freshet"
KINESALITE_VERSION = "3.3.3"
KINESIS_LOCAL_VERSION = "0.6.2"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def section_of(binary: Path) -> str:
    """The configuration section holding Kinesis settings in `binary` (renamed by the platform)."""
    defaults = subprocess.run([str(binary), "config", "default"], capture_output=True, text=True).stdout
    return "KINESIS" if "[kinesis]" in defaults else "STREAMS"


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


@dataclass
class Target:
    """A server under test."""

    label: str
    version: str
    durability: str
    start_cmd: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    port: int = 0
    log_path: Path | None = None
    # At most this many runs of each scenario (kinesis-mock is two orders of magnitude slower:
    # repeating it costs many minutes and changes no ratio).
    max_repeats: int = 1_000
    # Records for the drain scenario when the default would take too long to even write.
    drain_records: int | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        cmd = [c.replace("{port}", str(self.port)).replace("{port2}", str(free_port())) for c in self.start_cmd]
        env = dict(os.environ)
        env.update({k: v.replace("{port}", str(self.port)) for k, v in self.env.items()})
        self.log_path = workdir / f"{self.label}.log"
        log(f"starting {self.label} on {self.endpoint}")
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


def start_fresh(t: Target, workdir: Path) -> None:
    """Starts `t` on a new empty data directory under `workdir` (`{data}` in its command)."""
    data = workdir / f"{t.label}-data"
    data.mkdir()
    t.start_cmd = [c.replace("{data}", str(data)) for c in t.start_cmd]
    t.start(workdir)


def stop_all(ts: list[Target]) -> None:
    """Stops every target, even when one fails to stop."""
    for t in ts:
        try:
            t.stop()
        except Exception as e:  # noqa: BLE001 - stop the others anyway
            log(f"stopping {t.label}: {e}")


def write_section(begin: str, end: str, title: str, section: str) -> None:
    """Replaces the block between `begin` and `end` in docs/benchmarks.md with `section`, or
    appends it under a `## title` heading."""
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += f"\n## {title}\n\n{block}\n"
    doc.write_text(text)


# Pause after every scenario for the disk to settle. Each scenario deletes its stream, and the
# bulk one writes about 4 GB: on a file system mounted with `discard` (as this VM's is) the
# journal commit that frees those blocks issues the discards, and fdatasyncs of the next
# scenario waited behind it for up to 100 ms (SubscribeToShard p99 went from 1.4 ms to 18 ms).
SETTLE_S = 3.0


def settle() -> None:
    """Flushes the file systems and waits, so a scenario starts on a quiet disk."""
    os.sync()
    time.sleep(SETTLE_S)


def bench(target_endpoint: str, label: str, scenario: list[str], timeout: float,
          binary: Path | None = None) -> dict | None:
    """Runs `freshet bench` (of `binary`, by default this checkout's release build) and returns
    its JSON report (None when it failed). Settles the disk first (see [`settle`])."""
    settle()
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [str(binary or FRESHET), "bench", *scenario, "--endpoint", target_endpoint, "--label", label,
           "--no-progress", "--json", str(out)]
    log(f"  {label}: bench {' '.join(scenario)}")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"  {label}: timed out after {timeout:.0f} s")
        return None
    if r.returncode != 0:
        log(f"  {label}: failed: {r.stderr.strip()[-500:]}")
        return None
    sys.stderr.write(r.stdout)
    report = json.loads(out.read_text())
    out.unlink()
    return report


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "kernel": platform.release(),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
    }


def install_peers() -> None:
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    marker = PEERS_DIR / "node_modules" / "kinesis-local" / "package.json"
    if marker.exists() and (PEERS_DIR / "node_modules" / "kinesalite" / "package.json").exists():
        return
    log("installing kinesalite and kinesis-local from npm")
    subprocess.run(
        ["npm", "install", "--prefix", str(PEERS_DIR), "--no-audit", "--no-fund", "--no-save",
         f"kinesalite@{KINESALITE_VERSION}", f"kinesis-local@{KINESIS_LOCAL_VERSION}"],
        check=True,
    )


def fmt(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def get(report: dict | None, *path: str) -> float | None:
    cur = report
    for p in path:
        if not isinstance(cur, dict) or cur.get(p) is None:
            return None
        cur = cur[p]
    return cur  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# The SVG plot: records/s (log scale) against connections and against shards.

COLORS = {"freshet": "#1f77b4", "kinesalite": "#ff7f0e", "kinesis-mock": "#2ca02c", "no-op HTTP": "#7f7f7f"}


def svg_plot(sweeps: dict[str, dict[str, list[tuple[int, float | None]]]], path: Path) -> None:
    import math

    panels = [("connections", "PutRecords 500 x 1 KiB, 4 shards: records/s vs connections"),
              ("shards", "PutRecords 500 x 1 KiB, 8 connections: records/s vs shards")]
    w, h, pad_l, pad_b, pad_t, gap = 460, 300, 70, 45, 40, 40
    total_w = pad_l + 2 * w + gap + 20
    total_h = pad_t + h + pad_b + 40
    values = [v for series in sweeps.values() for pts in series.values() for _, v in pts if v]
    lo = 10 ** math.floor(math.log10(max(min(values), 1))) if values else 1
    hi = 10 ** math.ceil(math.log10(max(values))) if values else 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{total_w}" height="{total_h}" fill="white"/>']
    for i, (axis, title) in enumerate(panels):
        x0 = pad_l + i * (w + gap)
        y0 = pad_t
        out.append(f'<text x="{x0 + w / 2}" y="{y0 - 15}" text-anchor="middle" font-weight="bold">{title}</text>')
        out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#333"/>')
        xs = sorted({x for series in sweeps.values() for x, _ in series.get(axis, [])})
        if not xs:
            continue

        def px(x: int) -> float:
            return x0 + (xs.index(x) + 0.5) * w / len(xs)

        def py(v: float) -> float:
            return y0 + h - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * h

        decade = lo
        while decade <= hi:
            y = py(decade)
            out.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + w}" y2="{y}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 5}" y="{y + 4}" text-anchor="end">{decade:,.0f}</text>')
            decade *= 10
        for x in xs:
            out.append(f'<text x="{px(x)}" y="{y0 + h + 18}" text-anchor="middle">{x}</text>')
        out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 36}" text-anchor="middle">{axis}</text>')
        for label, series in sweeps.items():
            pts = [(px(x), py(v)) for x, v in series.get(axis, []) if v]
            if not pts:
                continue
            color = COLORS.get(label, "#000")
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
            for x, y in pts:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
    lx = pad_l
    for label in sweeps:
        color = COLORS.get(label, "#000")
        out.append(f'<rect x="{lx}" y="{total_h - 22}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{lx + 16}" y="{total_h - 12}">{label}</text>')
        lx += 40 + 8 * len(label)
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


# --------------------------------------------------------------------------------------------


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def restart_test(gib: float, workdir: Path) -> dict:
    """Fills a data directory with `gib` GiB of 1 KiB records, stops the server, starts it again
    and times how long until it answers /health and a GetRecords from the trim horizon."""
    data = workdir / "restart-data"
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, FRESHET__KINESIS__CREATE_DELAY="0ms")
    cmd = [str(FRESHET), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data),
           "--durability", "none"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    subprocess.run([str(FRESHET), "--endpoint", endpoint, "streams", "create", "restart", "--shards", "4"], check=True, capture_output=True)
    target = int(gib * 1024**3)
    log(f"restart: filling {gib} GiB")
    while dir_bytes(data) < target:
        bench(endpoint, "freshet", ["put-batch", "--stream", "restart", "--connections", "8",
                                    "--duration", "20s", "--warmup", "0s"], timeout=600)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    size = dir_bytes(data)
    log(f"restart: {size / 1024**3:.2f} GiB on disk; restarting")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serving = None
    while time.monotonic() < started + 300:
        try:
            with urllib.request.urlopen(f"{endpoint}/health", timeout=1) as resp:
                if resp.status == 200:
                    serving = time.monotonic() - started
                    break
        except OSError:
            time.sleep(0.005)
    first_read = None
    if serving is not None:
        r = subprocess.run([str(FRESHET), "--endpoint", endpoint, "tail", "restart", "--from", "trim-horizon",
                            "--max-records", "1"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            first_read = time.monotonic() - started
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    shutil.rmtree(data, ignore_errors=True)
    return {"bytes": size, "serving_s": serving, "first_read_s": first_read}


# --------------------------------------------------------------------------------------------


def targets(peers: bool) -> list[Target]:
    version = subprocess.run([str(FRESHET), "--version"], capture_output=True, text=True).stdout.strip()
    out = [Target(
        label="freshet",
        version=version,
        durability="fsync before acknowledge (group commit)",
        start_cmd=[str(FRESHET), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{data}",
                   "--durability", "fsync"],
        env={"FRESHET__KINESIS__CREATE_DELAY": "0ms", "FRESHET__KINESIS__DELETE_DELAY": "0ms",
             "FRESHET__LOG__LEVEL": "warn"},
    )]
    if peers:
        modules = PEERS_DIR / "node_modules"
        out.append(Target(
            label="kinesalite",
            version=f"kinesalite {KINESALITE_VERSION}",
            durability="in memory (its default; nothing is written to disk)",
            start_cmd=["node", str(modules / "kinesalite" / "cli.js"), "--port", "{port}",
                       "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0",
                       "--shardLimit", "1000"],
        ))
        out.append(Target(
            label="kinesis-mock",
            version=f"kinesis-local {KINESIS_LOCAL_VERSION} (kinesis-mock, Scala.js on Node)",
            durability="in memory (persistence off, its default)",
            start_cmd=["node", "main.js"],
            cwd=modules / "kinesis-local",
            env={"KINESIS_MOCK_PLAIN_PORT": "{port}", "SHARD_LIMIT": "1000", "LOG_LEVEL": "WARN"},
            max_repeats=1,
            # Its PutRecords slow down as it fills: 200,000 records took over ten minutes.
            drain_records=20_000,
        ))
        # The TLS port must be free too.
        out[-1].env["KINESIS_MOCK_TLS_PORT"] = str(free_port())
    return out


@dataclass
class Scenario:
    key: str
    title: str
    args: list[str]
    # The metric the median run is chosen by, and whether more is better.
    primary: tuple[str, ...] = ("put", "records_per_s")
    higher_is_better: bool = True
    timeout: float = 900


def scenarios(quick: bool) -> list[Scenario]:
    d = "3s" if quick else "10s"
    drain = "20000" if quick else "200000"
    return [
        Scenario("bulk", "PutRecords 500 x 1 KiB, 4 shards, 8 connections",
                 ["put-batch", "--shards", "4", "--connections", "8", "--batch", "500", "--duration", d,
                  "--client", "raw"]),
        Scenario("single", "PutRecord 1 KiB, 4 shards, 64 connections",
                 ["put", "--shards", "4", "--connections", "64", "--duration", d, "--client", "raw"],
                 primary=("put", "requests_per_s")),
        Scenario("single-sdk", "PutRecord 1 KiB, 4 shards, 64 connections, AWS SDK client",
                 ["put", "--shards", "4", "--connections", "64", "--duration", d],
                 primary=("put", "requests_per_s")),
        Scenario("drain", f"GetRecords drain of {int(drain):,} x 1 KiB, 4 shards",
                 ["get", "--shards", "4", "--records", drain], primary=("get", "records_per_s"), timeout=1800),
        Scenario("latency-poll", "put-to-consumer latency at 5k records/s, GetRecords loop",
                 ["latency", "--shards", "4", "--rate", "5000", "--consumer", "polling", "--duration", d],
                 primary=("end_to_end", "p99_ms"), higher_is_better=False),
        Scenario("latency-efo", "put-to-consumer latency at 5k records/s, SubscribeToShard",
                 ["latency", "--shards", "4", "--rate", "5000", "--consumer", "efo", "--duration", d],
                 primary=("end_to_end", "p99_ms"), higher_is_better=False),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs and a 1 GiB restart test")
    ap.add_argument("--no-peers", action="store_true", help="measure Freshet and the baselines only")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs of each scenario; the report shows the median run and the range (default 3, 1 with --quick)")
    ap.add_argument("--restart-gib", type=float, default=None, help="data for the restart test (default 10, 1 with --quick)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--json-out", type=Path, default=ROOT / "target" / "bench-results.json")
    ap.add_argument("--render-only", action="store_true",
                    help="do not measure: rewrite the report from the --json-out file of an earlier run")
    args = ap.parse_args()
    if args.render_only:
        write_report(json.loads(args.json_out.read_text()), args)
        return 0
    restart_gib = args.restart_gib if args.restart_gib is not None else (1.0 if args.quick else 10.0)
    repeat = max(1, args.repeat if args.repeat is not None else (1 if args.quick else 3))
    if not FRESHET.exists():
        raise SystemExit(f"{FRESHET} is missing; build it with `cargo build --release -p freshet`")
    if not args.no_peers:
        install_peers()

    workdir = Path(tempfile.mkdtemp(prefix="freshet-compare-", dir=ROOT / "target"))
    results: dict = {"machine": machine_info(), "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                     "quick": args.quick, "repeat": repeat, "targets": {}, "baselines": {}, "sweeps": {}, "restart": None}
    try:
        # The machine's own limits.
        log("baseline: sequential write with fdatasync")
        disk = subprocess.run([str(FRESHET), "bench", "disk", "--dir", str(workdir), "--block", "524288",
                               "--duration", "5s", "--json", "-"], capture_output=True, text=True, check=True)
        results["baselines"]["disk"] = json.loads(disk.stdout)
        noop = Target(label="no-op HTTP", version="freshet bench noop-server", durability="none (no storage)",
                      start_cmd=[str(FRESHET), "bench", "noop-server", "--listen", "127.0.0.1:{port}"])
        noop.start(workdir)
        try:
            for sc in scenarios(args.quick)[:3]:
                results["baselines"][sc.key] = bench(noop.endpoint, noop.label, sc.args + ["--stream", "noop"], sc.timeout)
            results["sweeps"]["no-op HTTP"] = sweep(noop, args.quick, given_stream=True)
        finally:
            noop.stop()

        for t in targets(not args.no_peers):
            data = workdir / f"{t.label}-data"
            t.start_cmd = [c.replace("{data}", str(data)) for c in t.start_cmd]
            t.start(workdir)
            entry = {"version": t.version, "durability": t.durability, "results": {}, "runs": {}}
            try:
                # Rounds of every scenario rather than one scenario N times in a row, so a slow
                # spell of the machine spreads over scenarios instead of sinking one.
                runs: dict[str, list[dict | None]] = {sc.key: [] for sc in scenarios(args.quick)}
                for _ in range(min(repeat, t.max_repeats)):
                    for sc in scenarios(args.quick):
                        runs[sc.key].append(bench(t.endpoint, t.label, scenario_args(sc, t), sc.timeout))
                for sc in scenarios(args.quick):
                    entry["results"][sc.key], entry["runs"][sc.key] = median_run(sc, runs[sc.key])
                results["sweeps"][t.label] = sweep(t, args.quick)
            finally:
                t.stop()
                shutil.rmtree(data, ignore_errors=True)
            results["targets"][t.label] = entry

        results["restart"] = restart_test(restart_gib, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2))
    write_report(results, args)
    return 0


def scenario_args(sc: Scenario, t: Target) -> list[str]:
    """The scenario's arguments, with the target's smaller drain when it has one."""
    if sc.key == "drain" and t.drain_records is not None:
        at = sc.args.index("--records")
        return [*sc.args[: at + 1], str(t.drain_records), *sc.args[at + 2:]]
    return sc.args


def median_run(sc: Scenario, reports: list[dict | None]) -> tuple[dict | None, list[float]]:
    """The run whose primary metric is the median (the lower middle of an even count, on the
    side of the worse value), and the primary metric of every run that produced one."""
    ok = [(v, r) for r in reports if (v := get(r, *sc.primary)) is not None]
    if not ok:
        return None, []
    ok.sort(key=lambda vr: vr[0], reverse=not sc.higher_is_better)
    # Sorted worst first, so the lower middle of an even count is the more pessimistic one.
    return ok[(len(ok) - 1) // 2][1], sorted(v for v, _ in ok)


# Headings of the hand-written sections at the end of docs/benchmarks.md.
HAND_WRITTEN = ("<!-- services:begin -->", "<!-- functions:begin -->", "## Where the time goes",
                "## Micro-benchmarks")


def write_report(results: dict, args: argparse.Namespace) -> None:
    """Writes the Markdown report and the plot next to it."""
    svg = args.out.parent / "benchmarks-throughput.svg"
    svg_plot(results["sweeps"], svg)
    # Sections written by hand (the profile and the criterion micro-benchmarks) are kept from
    # the old file: everything from the first of them on.
    kept = ""
    if args.out.exists():
        old = args.out.read_text()
        found = [at for marker in HAND_WRITTEN if (at := old.find(f"\n{marker}")) >= 0]
        if found:
            kept = old[min(found):]
    args.out.write_text(render(results, svg.name, args) + kept)
    log(f"wrote {args.out} and {svg} (results: {args.json_out})")


def sweep(t: Target, quick: bool, given_stream: bool = False) -> dict[str, list[tuple[int, float | None]]]:
    """records/s of PutRecords 500 x 1 KiB against connections (4 shards) and shards (8 connections)."""
    d = "2s" if quick else "5s"
    extra = ["--stream", "noop"] if given_stream else []
    out: dict[str, list[tuple[int, float | None]]] = {"connections": [], "shards": []}
    for c in [1, 2, 4, 8, 16, 32]:
        r = bench(t.endpoint, t.label, ["put-batch", "--shards", "4", "--connections", str(c), "--duration", d,
                                        "--warmup", "1s", "--client", "raw", *extra], 600)
        out["connections"].append((c, get(r, "put", "records_per_s")))
    if not given_stream:
        for s in [1, 2, 4, 8, 16]:
            r = bench(t.endpoint, t.label, ["put-batch", "--shards", str(s), "--connections", "8", "--duration", d,
                                            "--warmup", "1s", "--client", "raw"], 600)
            out["shards"].append((s, get(r, "put", "records_per_s")))
    return out


def render(r: dict, svg_name: str, args: argparse.Namespace) -> str:
    t = r["targets"]
    labels = list(t)
    scen = {s.key: s for s in scenarios(r["quick"])}
    m = r["machine"]
    disk_mib = get(r["baselines"].get("disk"), "put", "mib_per_s")
    lines = [
        "# Benchmarks",
        "",
        "Freshet side by side with kinesalite and kinesis-mock, and with the machine's own limits, all",
        "measured in one run by:",
        "",
        "```sh",
        "benches/compare/run.sh" + (" --quick" if r["quick"] else ""),
        "```",
        "",
        f"Run {r['started']}. Every number below comes from `freshet bench`, with a warm-up before each",
        "measured window; the JSON of the whole run is written to `target/bench-results.json`. The",
        "write scenarios use its lean client (`--client raw`: unsigned JSON 1.1 over kept-alive",
        "HTTP/1.1), because the AWS SDK for Rust costs more CPU per request than a fast server",
        "does (the no-op rows show each client's ceiling); reads and latency use the SDK with",
        "retries off. Client and server share the same cores over loopback, as they do when a",
        "developer runs a local Kinesis next to their tests. Before every scenario the harness",
        "syncs the file systems and waits 3 s, so the data a previous scenario deleted (this VM",
        "mounts ext4 with `discard`) does not stall the next scenario's fdatasyncs.",
        "",
        *(["kinesis-mock drains 20,000 records instead of 200,000: its writes slow down as it fills, and",
           "writing 200,000 took over ten minutes. Its drain rate is measured on the smaller stream.", ""]
          if "kinesis-mock" in r["targets"] and not r["quick"] else []),
        *([f"Each scenario ran {r['repeat']} times per server (kinesis-mock once: it is two orders of",
           "magnitude slower, and more runs of it would take many minutes without moving a ratio).",
           "Tables show the median run, and the lowest–highest of the runs next to the headline",
           "metric; ratios and targets use the medians.", ""] if r.get("repeat", 1) > 1 else []),
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']} |",
        f"| cores / memory | {m['cores']} / {m['memory']} |",
        f"| kernel | {m['kernel']} |",
        f"| node | {m['node']} |",
    ]
    for label in labels:
        lines.append(f"| {label} | {t[label]['version']}; durability: {t[label]['durability']} |")
    lines += [
        "",
        "## The machine's limits",
        "",
        "| baseline | result |",
        "|---|---|",
        f"| sequential write of 512 KiB blocks, fdatasync after each | {fmt(disk_mib, 1)} MiB/s |",
        f"| no-op HTTP server, PutRecords 500 x 1 KiB, 8 connections | {fmt(get(r['baselines'].get('bulk'), 'put', 'records_per_s'))} records/s |",
        f"| no-op HTTP server, PutRecord 1 KiB, 64 connections | {fmt(get(r['baselines'].get('single'), 'put', 'requests_per_s'))} req/s, p99 {fmt(get(r['baselines'].get('single'), 'put', 'latency', 'p99_ms'), 2)} ms |",
        f"| no-op HTTP server, PutRecord 1 KiB, 64 connections, AWS SDK client | {fmt(get(r['baselines'].get('single-sdk'), 'put', 'requests_per_s'))} req/s |",
        "",
        "## Results",
        "",
    ]
    header = "| scenario | metric | " + " | ".join(labels) + " |"
    lines += [header, "|---|---|" + "---|" * len(labels)]

    def cell(label: str, key: str, path: tuple, digits: int) -> str:
        text = fmt(get(t[label]["results"].get(key), *path), digits)
        spread = t[label].get("runs", {}).get(key) or []
        if path == scen[key].primary and len(spread) > 1:
            text += f" ({fmt(spread[0], digits)}–{fmt(spread[-1], digits)})"
        return text

    def row(key: str, metric: str, path: tuple, digits: int = 0) -> None:
        cells = [cell(l, key, path, digits) for l in labels]
        lines.append(f"| {scen[key].title} | {metric} | " + " | ".join(cells) + " |")

    row("bulk", "records/s", ("put", "records_per_s"))
    row("bulk", "MiB/s", ("put", "mib_per_s"), 1)
    row("bulk", "p99 ms", ("put", "latency", "p99_ms"), 1)
    row("bulk", "server peak RSS MiB", ("server", "peak_rss_mib"), 1)
    row("bulk", "server CPU %", ("server", "cpu_percent"))
    row("single", "req/s", ("put", "requests_per_s"))
    row("single", "p50 ms", ("put", "latency", "p50_ms"), 2)
    row("single", "p99 ms", ("put", "latency", "p99_ms"), 2)
    row("single", "p99.9 ms", ("put", "latency", "p999_ms"), 2)
    row("single-sdk", "req/s", ("put", "requests_per_s"))
    row("single-sdk", "p99 ms", ("put", "latency", "p99_ms"), 2)
    row("drain", "records/s", ("get", "records_per_s"))
    row("latency-poll", "achieved put records/s", ("put", "records_per_s"))
    row("latency-poll", "put-to-consumer p50 ms", ("end_to_end", "p50_ms"), 2)
    row("latency-poll", "put-to-consumer p99 ms", ("end_to_end", "p99_ms"), 2)
    row("latency-efo", "put-to-consumer p50 ms", ("end_to_end", "p50_ms"), 2)
    row("latency-efo", "put-to-consumer p99 ms", ("end_to_end", "p99_ms"), 2)
    lines += ["", "Errors seen (by AWS error code):", ""]
    for l in labels:
        errs = {k: (v.get("put") or {}).get("errors") or (v.get("get") or {}).get("errors")
                for k, v in t[l]["results"].items() if v}
        errs = {k: e for k, e in errs.items() if e}
        failed = [k for k, v in t[l]["results"].items() if v is None]
        lines.append(f"- {l}: " + (", ".join(f"{k}: {e}" for k, e in errs.items()) or "none")
                     + (f"; scenarios that failed or timed out: {', '.join(failed)}" if failed else ""))

    if len(labels) > 1:
        lines += ["", "## Ratios (Freshet / peer)", "",
                  "| scenario | " + " | ".join(f"vs {l}" for l in labels[1:]) + " |",
                  "|---|" + "---|" * (len(labels) - 1)]

    def ratio(key: str, path: tuple) -> list[str]:
        mine = get(t["freshet"]["results"].get(key), *path)
        out = []
        for l in labels[1:]:
            theirs = get(t[l]["results"].get(key), *path)
            out.append(f"{mine / theirs:,.1f}x" if mine and theirs else "n/a")
        return out

    if len(labels) > 1:
        for key, metric, path in [("bulk", "records/s", ("put", "records_per_s")),
                                  ("single", "req/s", ("put", "requests_per_s")),
                                  ("drain", "records/s", ("get", "records_per_s"))]:
            lines.append(f"| {scen[key].title} ({metric}) | " + " | ".join(ratio(key, path)) + " |")

    f = t["freshet"]["results"]
    kl = t.get("kinesalite", {}).get("results", {})

    def times(key: str, path: tuple) -> float | None:
        a, b = get(f.get(key), *path), get(kl.get(key), *path)
        return a / b if a and b else None

    bulk_mib = get(f.get("bulk"), "put", "mib_per_s")
    disk_share = bulk_mib / disk_mib if bulk_mib and disk_mib else None
    rs = r.get("restart") or {}
    checks = [
        ("PutRecords 500 x 1 KiB: ≥ 15x kinesalite records/s", times("bulk", ("put", "records_per_s")), 15, "x"),
        ("PutRecords 500 x 1 KiB: ≥ 50% of fdatasync write bandwidth", disk_share and disk_share * 100, 50, "%"),
        ("PutRecord 1 KiB, 64 connections: ≥ 10x kinesalite req/s", times("single", ("put", "requests_per_s")), 10, "x"),
        ("PutRecord 1 KiB, 64 connections: p99 ≤ 10 ms", get(f.get("single"), "put", "latency", "p99_ms"), -10, " ms"),
        ("GetRecords drain: ≥ 10x kinesalite records/s", times("drain", ("get", "records_per_s")), 10, "x"),
        ("latency at 5k/s, SubscribeToShard: p99 ≤ 5 ms", get(f.get("latency-efo"), "end_to_end", "p99_ms"), -5, " ms"),
        ("latency at 5k/s, GetRecords loop: p99 ≤ 20 ms", get(f.get("latency-poll"), "end_to_end", "p99_ms"), -20, " ms"),
        ("peak RSS during the bulk scenario < 256 MiB", get(f.get("bulk"), "server", "peak_rss_mib"), -256, " MiB"),
        (f"restart with {rs.get('bytes', 0) / 1024**3:.1f} GiB retained: serving in < 2 s", rs.get("serving_s"), -2, " s"),
    ]
    lines += ["", "## Targets (issue 4)", "", "| target | measured | met |", "|---|---|---|"]
    for title, value, bound, unit in checks:
        if value is None:
            lines.append(f"| {title} | n/a | not measured |")
            continue
        met = value >= bound if bound > 0 else value <= -bound
        lines.append(f"| {title} | {value:,.2f}{unit} | {'yes' if met else '**no**'} |")
    lines += [
        "",
        "## Throughput against connections and shards",
        "",
        f"![records/s against connections and shards]({svg_name})",
        "",
        "PutRecords of 500 x 1 KiB; log scale. The no-op HTTP line is the ceiling the client and",
        "loopback put on any server on this machine.",
        "",
    ]
    if rs:
        lines += ["## Restart", "",
                  f"A data directory holding {rs.get('bytes', 0) / 1024**3:.2f} GiB was serving (`/health` 200) "
                  f"{fmt(rs.get('serving_s'), 2)} s after the process started, and answered a read from the "
                  f"trim horizon at {fmt(rs.get('first_read_s'), 2)} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
