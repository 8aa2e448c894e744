#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side benchmark of the services beyond Kinesis, and of Kinesis across a refactor.

    benches/compare/services.sh                        # SQS: Freshet vs moto's server
    benches/compare/services.sh --old-binary OLD       # also Kinesis puts: OLD vs this build
    benches/compare/services.sh --quick                # shorter runs

SQS: starts Freshet (fsync durability) and moto's server (`moto[server]`, installed from PyPI
into target/bench-peers/moto when `moto_server` is not on the PATH), runs the same
`freshet bench sqs-*` scenarios against both, repeats each (median run reported), and writes
the section between the `services` markers of docs/benchmarks.md, with Freshet/moto ratios
against the 10x target.

Kinesis across a refactor: with `--old-binary`, the bulk and single-put scenarios run against
the old binary's server and this build's, alternating run by run on the same machine, so a
slow spell of the machine cannot favour either.

Only the Python standard library is used (and compare.py next to this file).
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
import instructions  # noqa: E402
from compare import FRESHET, ROOT, Target, bench, get, log, machine_info  # noqa: E402

MOTO_VERSION = "5.2.1"
BEGIN = "<!-- services:begin -->"
END = "<!-- services:end -->"


def moto_command() -> list[str]:
    found = shutil.which("moto_server")
    if found:
        return [found]
    venv = ROOT / "target" / "bench-peers" / "moto"
    exe = venv / "bin" / "moto_server"
    if not exe.exists():
        log(f"installing moto[server]=={MOTO_VERSION} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"moto[server]=={MOTO_VERSION}"], check=True)
    return [str(exe)]


def moto_version(cmd: list[str]) -> str:
    py = Path(cmd[0]).parent / "python"
    py_exe = str(py) if py.exists() else sys.executable
    r = subprocess.run([py_exe, "-c", "import moto; print(moto.__version__)"], capture_output=True, text=True)
    return f"moto {r.stdout.strip() or '?'} (moto_server, Flask/Werkzeug)"


def freshet_target(binary: Path, label: str) -> Target:
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    # Binaries from before the multi-service platform call the `[kinesis]` section `[streams]`
    # and refuse unknown sections.
    defaults = subprocess.run([str(binary), "config", "default"], capture_output=True, text=True).stdout
    section = "KINESIS" if "\n[kinesis]" in defaults else "STREAMS"
    return Target(
        label=label,
        version=version,
        durability="fsync before acknowledge (group commit)",
        start_cmd=[str(binary), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{data}",
                   "--durability", "fsync"],
        env={f"FRESHET__{section}__CREATE_DELAY": "0ms", f"FRESHET__{section}__DELETE_DELAY": "0ms",
             "FRESHET__LOG__LEVEL": "warn"},
    )


def sqs_scenarios(quick: bool, moto: bool) -> list[tuple[str, str, list[str], tuple[str, ...]]]:
    d = "3s" if quick else "10s"
    # moto takes seconds per ReceiveMessage on a full queue: it gets a smaller backlog, which
    # only flatters it.
    backlog = "2000" if moto else ("20000" if quick else "100000")
    return [
        ("send", "SendMessage 1 KiB, 64 connections", ["sqs-send", "--connections", "64", "--duration", d],
         ("put", "records_per_s")),
        ("batch", "SendMessageBatch 10 x 1 KiB, 16 connections",
         ["sqs-batch", "--connections", "16", "--duration", d], ("put", "records_per_s")),
        ("receive", f"ReceiveMessage 10 + DeleteMessageBatch, 16 connections, backlog {int(backlog):,}",
         ["sqs-receive", "--connections", "16", "--messages", backlog, "--duration", d], ("get", "records_per_s")),
        ("latency", "send at 50 messages/s, 4 long-polling consumers: send-to-receive",
         ["sqs-latency", "--rate", "50", "--consumers", "4", "--duration", d], ("end_to_end", "p99_ms")),
    ]


def kinesis_scenarios(quick: bool) -> list[tuple[str, str, list[str], tuple[str, ...]]]:
    d = "3s" if quick else "10s"
    return [
        ("bulk", "PutRecords 500 x 1 KiB, 4 shards, 8 connections",
         ["put-batch", "--shards", "4", "--connections", "8", "--batch", "500", "--duration", d, "--client", "raw"],
         ("put", "records_per_s")),
        ("single", "PutRecord 1 KiB, 4 shards, 64 connections",
         ["put", "--shards", "4", "--connections", "64", "--duration", d, "--client", "raw"],
         ("put", "requests_per_s")),
    ]


def median(reports: list[dict | None], path: tuple[str, ...], higher_is_better: bool) -> tuple[dict | None, list[float]]:
    ok = [(v, r) for r in reports if (v := get(r, *path)) is not None]
    if not ok:
        return None, []
    ok.sort(key=lambda vr: vr[0], reverse=not higher_is_better)
    return ok[(len(ok) - 1) // 2][1], sorted(v for v, _ in ok)


def run_targets(targets: list[Target], scen_for, repeat: int, workdir: Path) -> dict:
    """Runs every scenario `repeat` times on every target, round by round and target by
    target inside a round (all targets up at once), and keeps the median runs."""
    out: dict = {}
    for t in targets:
        data = workdir / f"{t.label}-data"
        t.start_cmd = [c.replace("{data}", str(data)) for c in t.start_cmd]
        t.start(workdir)
    try:
        runs: dict = {t.label: {} for t in targets}
        for _ in range(repeat):
            for t in targets:
                for key, _title, args, _path in scen_for(t):
                    runs[t.label].setdefault(key, []).append(bench(t.endpoint, t.label, args, 1800))
        for t in targets:
            res = {}
            for key, title, _args, path in scen_for(t):
                best, values = median(runs[t.label][key], path, path[0] != "end_to_end")
                res[key] = {"title": title, "report": best, "values": values, "path": list(path)}
            out[t.label] = {"version": t.version, "durability": t.durability, "results": res}
    finally:
        for t in targets:
            t.stop()
    return out


def fmt(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def render(r: dict) -> str:
    lines = [BEGIN, "", "## SQS, and Kinesis across the platform refactor", "",
             "Measured by `benches/compare/services.sh` "
             f"(run {r['started']}; {r['repeat']} runs of each scenario, the median run shown with the "
             "range of the headline metric). Client and servers share the machine's 2 cores over loopback; "
             "`freshet bench` drives every server through the AWS SDK for Rust with retries off.", ""]
    for part, when in (r.get("kept") or {}).items():
        lines += [f"The {part} figures are from the run of {when}.", ""]
    sqs = r.get("sqs") or {}
    if sqs:
        lines += ["### SQS: Freshet and moto", "",
                  "| server | version | durability |", "|---|---|---|"]
        for label, e in sqs.items():
            lines.append(f"| {label} | {e['version']} | {e['durability']} |")
        lines += ["", "| scenario | metric | " + " | ".join(sqs) + " | Freshet ÷ moto | target |",
                  "|---|---|" + "---|" * len(sqs) + "---|---|"]
        keys = list(next(iter(sqs.values()))["results"])
        for key in keys:
            first = next(iter(sqs.values()))["results"][key]
            path = tuple(first["path"])
            metric = {"put": "messages/s sent", "get": "messages/s received and deleted",
                      "end_to_end": "p99 send-to-receive ms"}[path[0]]
            cells, vals = [], {}
            for label, e in sqs.items():
                res = e["results"][key]
                v = get(res["report"], *path)
                vals[label] = v
                rng = res["values"]
                spread = f" ({fmt(rng[0], 1 if path[0] == 'end_to_end' else 0)}–{fmt(rng[-1], 1 if path[0] == 'end_to_end' else 0)})" if len(rng) > 1 else ""
                cells.append(fmt(v, 1 if path[0] == "end_to_end" else 0) + spread)
            f, m = vals.get("freshet"), vals.get("moto")
            if f and m:
                ratio = (f / m) if path[0] != "end_to_end" else (m / f)
                ratio_s = f"{ratio:,.1f}x" + (" (lower latency)" if path[0] == "end_to_end" else "")
                target = "10x" if path[0] != "end_to_end" else "–"
                met = "met" if (path[0] == "end_to_end" or ratio >= 10) else "**not met**"
            else:
                ratio_s, target, met = "–", "10x", "–"
            lines.append(f"| {first['title']} | {metric} | " + " | ".join(cells) + f" | {ratio_s} | {target} {met if target != '–' else ''} |")
        lines += ["", "Every row also records request latency and the server's CPU and peak RSS in "
                  "`target/services-results.json`.", ""]
        for label, e in sqs.items():
            for key, res in e["results"].items():
                rep = res["report"] or {}
                srv = rep.get("server") or {}
                if srv:
                    lines.append(f"- {label}, {key}: server CPU {srv.get('cpu_percent', 0):.0f}% of one core, "
                                 f"peak RSS {srv.get('peak_rss_mib', 0):.0f} MiB")
        lines.append("")
    kin = r.get("kinesis") or {}
    if kin:
        lines += ["### Kinesis puts before and after the platform refactor", "",
                  "The same scenarios against the server of the commit before the refactor and this build, "
                  "alternating run by run.", "",
                  "| scenario | metric | " + " | ".join(kin) + " | after ÷ before |",
                  "|---|---|" + "---|" * len(kin) + "---|"]
        labels = list(kin)
        for key in kin[labels[0]]["results"]:
            first = kin[labels[0]]["results"][key]
            path = tuple(first["path"])
            vals = [get(kin[lab]["results"][key]["report"], *path) for lab in labels]
            cells = []
            for lab in labels:
                rng = kin[lab]["results"][key]["values"]
                v = get(kin[lab]["results"][key]["report"], *path)
                cells.append(fmt(v) + (f" ({fmt(rng[0])}–{fmt(rng[-1])})" if len(rng) > 1 else ""))
            ratio = f"{vals[-1] / vals[0]:.2f}" if all(vals) else "–"
            metric = "records/s" if path[1] == "records_per_s" else "requests/s"
            lines.append(f"| {first['title']} | {metric} | " + " | ".join(cells) + f" | {ratio} |")
        lines.append("")
        for lab in labels:
            for key, res in kin[lab]["results"].items():
                srv = (res["report"] or {}).get("server") or {}
                if srv:
                    lines.append(f"- {lab}, {key}: server CPU {srv.get('cpu_percent', 0):.0f}% of one core, "
                                 f"peak RSS {srv.get('peak_rss_mib', 0):.0f} MiB")
        lines += ["", "The build after the refactor uses mimalloc: about 5% fewer instructions per bulk record, "
                  "for a higher peak RSS under bulk puts (mimalloc keeps freed memory for reuse "
                  "rather than returning it to the system at once).", ""]
    instr = r.get("kinesis_instructions") or {}
    if instr:
        labels = list(instr)
        lines += ["Throughput on a shared 2-core machine moves by about 10% from run to run, so the server's "
                  "own work is also counted exactly: user-space instructions per request under callgrind "
                  "(`benches/compare/instructions.py`; kernel work such as sockets and fsync is not counted).", "",
                  "| scenario | " + " | ".join(f"{lab}: instructions per record" for lab in labels)
                  + " | after ÷ before |",
                  "|---|" + "---|" * len(labels) + "---|"]
        for key in instr[labels[0]]:
            per = [instr[lab][key]["instructions"] / max(instr[lab][key]["records"], 1) for lab in labels]
            lines.append(f"| {INSTRUCTION_TITLES[key]} | " + " | ".join(f"{v:,.0f}" for v in per)
                         + f" | {per[-1] / per[0]:.2f} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


INSTRUCTION_TITLES = {
    "bulk": "PutRecords 500 x 1 KiB, 4 shards, 4 connections",
    "single": "PutRecord 1 KiB, 4 shards, 8 connections",
}


def write(r: dict, out: Path) -> None:
    section = render(r)
    text = out.read_text() if out.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", section, text, flags=re.S)
    else:
        # Before the hand-written sections, which compare.py keeps.
        at = min([i for m in compare.HAND_WRITTEN if (i := text.find("\n" + m)) >= 0] or [len(text)])
        text = text[:at].rstrip() + "\n\n" + section + text[at:]
    out.write_text(text)
    log(f"wrote {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None, help="runs per scenario (default 3, 1 with --quick)")
    ap.add_argument("--old-binary", type=Path, help="a freshet binary from before a change, for Kinesis puts")
    ap.add_argument("--no-sqs", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--json-out", type=Path, default=ROOT / "target" / "services-results.json")
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    if args.render_only:
        write(json.loads(args.json_out.read_text()), args.out)
        return 0
    if not FRESHET.exists():
        raise SystemExit(f"{FRESHET} is missing; build it with `cargo build --release -p freshet`")
    repeat = max(1, args.repeat if args.repeat is not None else (1 if args.quick else 3))
    workdir = Path(tempfile.mkdtemp(prefix="freshet-services-", dir=ROOT / "target"))
    results: dict = {"machine": machine_info(), "repeat": repeat,
                     "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        if not args.no_sqs:
            moto_cmd = moto_command()
            moto = Target(label="moto", version=moto_version(moto_cmd), durability="in memory",
                          start_cmd=[*moto_cmd, "-H", "127.0.0.1", "-p", "{port}"])
            targets = [freshet_target(FRESHET, "freshet"), moto]
            results["sqs"] = run_targets(targets, lambda t: sqs_scenarios(args.quick, t.label == "moto"),
                                         repeat, workdir)
        if args.old_binary:
            targets = [freshet_target(args.old_binary, "before"), freshet_target(FRESHET, "after")]
            results["kinesis"] = run_targets(targets, lambda t: kinesis_scenarios(args.quick), repeat, workdir)
            if shutil.which("callgrind_control"):
                results["kinesis_instructions"] = {
                    label: {key: instructions.measure(binary, instructions.SCENARIOS[key], 10 if args.quick else 20)
                            for key in ("bulk", "single")}
                    for label, binary in (("before", args.old_binary), ("after", FRESHET))}
            else:
                log("valgrind is not installed: no instruction counts")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # A part not measured this time keeps its figures from the previous run, so one part can be
    # measured again (e.g. on a quieter machine) without losing the other.
    if args.json_out.exists():
        previous = json.loads(args.json_out.read_text())
        for part in ("sqs", "kinesis", "kinesis_instructions"):
            if part not in results and part in previous:
                results[part] = previous[part]
                results.setdefault("kept", {})[part] = previous.get("started", "?")
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2))
    write(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
