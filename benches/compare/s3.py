#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""S3 PUT and GET throughput: Freshet, moto's server and (when installed) s3s-fs, the s3s
reference server, and s3rver (npm), measured by the same boto3 code in one run.

    benches/compare/s3.sh                 # build release, run, write docs/benchmarks.md section
    python3 benches/compare/s3.py --quick # fewer objects, one round, print only

All targets run at once, each on a free loopback port with an empty temp data directory. For
each object size (1 KiB and 1 MiB), `--clients` client processes (one boto3 client each: boto3
threads would cap the rate at one core's worth of Python) PUT their share of the objects under
a fresh prefix, then GET them all back (bodies read to the end). Reported: objects/s and MiB/s
per phase (objects over the wall time of the phase). `--rounds` rounds; within a round the
targets take turns (the order rotates every round), so a busy spell of the shared machine
hits every target; the median round is shown with the lowest–highest.

Durability: Freshet acknowledges a PUT once its file, directory entry and record are on disk
(fsync; concurrent PUTs share the directory fsync and the metadata commit); moto keeps objects
in memory; s3s-fs and s3rver write files without fsync.

s3s-fs is used when `s3s-fs` is on the PATH or in target/bench-peers/s3s-fs/bin (install with
`cargo install s3s-fs --features binary --root target/bench-peers/s3s-fs`); s3rver when
target/bench-peers/node_modules/.bin/s3rver exists (`npm install --prefix
target/bench-peers s3rver`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workers  # noqa: E402
from compare import ROOT, Target, log, machine_info, start_fresh, stop_all, write_section  # noqa: E402
from services import moto_command, moto_version  # noqa: E402

FRESHET = Path(os.environ.get("FRESHET_BIN", ROOT / "target" / "release" / "freshet"))
PEERS = ROOT / "target" / "bench-peers"
BEGIN = "<!-- s3:begin -->"
END = "<!-- s3:end -->"


# Credentials a target insists on (s3rver accepts only its own); others take any.
CREDENTIALS = {"s3rver": ("S3RVER", "S3RVER")}


def client(endpoint: str, label: str = ""):
    key, secret = CREDENTIALS.get(label, ("AKIDEXAMPLE", "secret"))
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"},
                                                      retries={"max_attempts": 1},
                                                      connect_timeout=10, read_timeout=120))


def version_of(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout.strip() or r.stderr.strip()).splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def targets() -> list[Target]:
    out = [Target("freshet", version_of([str(FRESHET), "--version"]),
                  "fsync before acknowledge (file, directory, record; group commit)",
                  [str(FRESHET), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{data}",
                   "--durability", "fsync"], env={"FRESHET__LOG__LEVEL": "warn"})]
    moto = moto_command()
    out.append(Target("moto", moto_version(moto), "in memory", [*moto, "-H", "127.0.0.1", "-p", "{port}"]))
    s3s = shutil.which("s3s-fs") or str(PEERS / "s3s-fs" / "bin" / "s3s-fs")
    if Path(s3s).exists():
        out.append(Target("s3s-fs", version_of([s3s, "--version"]), "files, no fsync",
                          [s3s, "--host", "127.0.0.1", "--port", "{port}", "--access-key", "AKIDEXAMPLE",
                           "--secret-key", "secret", "{data}"]))
    s3rver = PEERS / "node_modules" / ".bin" / "s3rver"
    if s3rver.exists():
        out.append(Target("s3rver", "s3rver " + version_of([str(s3rver), "--version"]), "files, no fsync",
                          [str(s3rver), "--address", "127.0.0.1", "--port", "{port}", "--directory",
                           "{data}", "--silent"]))
    return out


FAKE_AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, "
             "SignedHeaders=host, Signature=" + "0" * 64)


def raw_request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None) -> bytes:
    """One path-style request on a kept-alive connection, with a constant, unverifiable
    `Authorization` header (moto refuses anonymous GETs of private objects but checks no
    signatures; Freshet without configured credentials checks none); the response body."""
    headers = {"Authorization": FAKE_AUTH}
    if body is not None:
        headers["Content-Length"] = str(len(body))
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {resp.status} {data[:200]!r}")
    return data


def measure(endpoint: str, label: str, size: int, count: int, clients: int, tag: str,
            raw: bool) -> dict:
    bucket = f"bench-{size}"
    c = client(endpoint, label)
    try:
        c.head_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - missing: create it (first round)
        c.create_bucket(Bucket=bucket)
    body = os.urandom(size)
    per = count // clients
    state: dict = {}

    host, port = endpoint.removeprefix("http://").split(":")

    def setup(i: int) -> None:
        if raw:
            state["h"] = http.client.HTTPConnection(host, int(port), timeout=120)
            raw_request(state["h"], "HEAD", f"/{bucket}", None)
        else:
            state["c"] = client(endpoint, label)
            state["c"].head_bucket(Bucket=bucket)

    def put(i: int) -> int:
        for n in range(per):
            key = f"{tag}/c{i}/{n:06d}"
            if raw:
                raw_request(state["h"], "PUT", f"/{bucket}/{key}", body)
            else:
                state["c"].put_object(Bucket=bucket, Key=key, Body=body)
        return per

    def get(i: int) -> int:
        for n in range(per):
            key = f"{tag}/c{i}/{n:06d}"
            if raw:
                got = raw_request(state["h"], "GET", f"/{bucket}/{key}", None)
            else:
                got = state["c"].get_object(Bucket=bucket, Key=key)["Body"].read()
            if len(got) != size:
                raise RuntimeError(f"GET returned {len(got)} bytes, not {size}")
        return per

    total = per * clients
    t_put, _ = workers.run(clients, put, setup)
    t_get, _ = workers.run(clients, get, setup)
    mib = total * size / (1024 * 1024)
    return {"put_ops": total / t_put, "put_mib": mib / t_put, "get_ops": total / t_get, "get_mib": mib / t_get}


def run(ts: list[Target], sizes: list[tuple[int, int]], clients: int, rounds: int,
        modes: list[str]) -> dict:
    results: dict = {mode: {t.label: {} for t in ts} for mode in modes}
    with tempfile.TemporaryDirectory(prefix="s3-bench-") as tmp:
        work = Path(tmp)
        try:
            for t in ts:
                start_fresh(t, work)
            for r in range(rounds):
                order = ts[r % len(ts):] + ts[: r % len(ts)]
                for mode in modes:
                    for size, count in sizes:
                        for t in order:
                            if mode == "raw" and t.label != "freshet" and t.label != "moto":
                                continue  # s3s-fs and s3rver verify signatures
                            log(f"round {r + 1}: {t.label}, {mode} client, {count} x {size} B")
                            m = measure(t.endpoint, t.label, size, count, clients, f"{mode}{r}",
                                        mode == "raw")
                            results[mode][t.label].setdefault(size, []).append(m)
        finally:
            stop_all(ts)
    return results


def fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def render(ts: list[Target], by_mode: dict, sizes: list[tuple[int, int]], clients: int, rounds: int) -> str:
    labels = [t.label for t in ts]
    m = machine_info()
    lines = [f"Run {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} by `benches/compare/s3.sh`: "
             f"{clients} client processes, {rounds} rounds (median round, lowest–highest), "
             f"{m['cores']} CPUs ({m['cpu']}) shared by client, servers and other people's builds.", "",
             "| server | version | durability |", "|---|---|---|"]
    lines += [f"| {t.label} | {t.version} | {t.durability} |" for t in ts]
    for mode, results in by_mode.items():
        lines += ["", MODE_TITLES[mode], ""]
        lines += table(labels, results, sizes)
    return "\n".join(lines) + "\n"


MODE_TITLES = {
    "boto3": "**boto3 client** (`put_object`/`get_object`, SigV4, checksums: what a user's script sees):",
    "raw": "**Lean client** (unsigned path-style PUT/GET over kept-alive `http.client` connections: "
           "less client CPU per request, so more of the machine is left to the server):",
}


def table(labels: list[str], results: dict, sizes: list[tuple[int, int]]) -> list[str]:
    lines = ["| object size | objects | metric | " + " | ".join(labels) + " | Freshet ÷ moto |",
             "|---|---|---|" + "---|" * len(labels) + "---|"]
    for size, count in sizes:
        for metric, name in [("put_ops", "PUT objects/s"), ("put_mib", "PUT MiB/s"),
                             ("get_ops", "GET objects/s"), ("get_mib", "GET MiB/s")]:
            cells, meds = [], {}
            for label in labels:
                vals = [x[metric] for x in results[label].get(size, [])]
                meds[label] = workers.median(vals)
                rng = f" ({fmt(min(vals))}–{fmt(max(vals))})" if len(vals) > 1 else ""
                cells.append(fmt(meds[label]) + rng)
            f, mo = meds.get("freshet"), meds.get("moto")
            ratio = f"{f / mo:.1f}x" if f and mo else "–"
            size_s = f"{size // 1024} KiB" if size < 1024 * 1024 else f"{size // (1024 * 1024)} MiB"
            lines.append(f"| {size_s} | {count} | {name} | " + " | ".join(cells) + f" | {ratio} |")
    return lines


def write(section: str) -> None:
    write_section(BEGIN, END, "S3: Freshet, moto and s3s-fs", section)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer objects, one round, print only")
    ap.add_argument("--clients", type=int, default=8, help="client processes")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--only", help="comma-separated target labels")
    ap.add_argument("--client", choices=["boto3", "raw", "both"], default="both")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    modes = ["boto3", "raw"] if args.client == "both" else [args.client]
    if not FRESHET.exists():
        print(f"no Freshet binary at {FRESHET} (set FRESHET_BIN or run s3.sh)", file=sys.stderr)
        return 2
    sizes = [(1024, 400), (1024 * 1024, 40)] if args.quick else [(1024, 4000), (1024 * 1024, 400)]
    rounds = args.rounds or (1 if args.quick else 3)
    ts = [t for t in targets() if not args.only or t.label in args.only.split(",")]
    results = run(ts, sizes, args.clients, rounds, modes)
    section = render(ts, results, sizes, args.clients, rounds)
    print(section)
    if not args.quick and not args.no_write:
        write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
