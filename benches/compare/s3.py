#!/usr/bin/env python3
"""S3 PUT and GET throughput: Freshet, moto's server and (when installed) s3s-fs, the s3s
reference server, measured by the same boto3 client in one run.

    benches/compare/s3.sh                 # build release, run, write docs/benchmarks.md section
    python3 benches/compare/s3.py --quick # fewer objects, print only

Each target starts on a free loopback port with an empty data directory. For each object size
(1 KiB and 1 MiB) and `--clients` concurrent clients (threads, one boto3 client each), every
client PUTs its share of the objects, then GETs them all back (bodies read to the end). Reported:
objects/s and MiB/s per phase (total objects over the wall time of the phase). Freshet runs with
its default fsync durability: a PUT is acknowledged only once on disk; moto keeps objects in
memory; s3s-fs writes files without fsync.

s3s-fs is used when `s3s-fs` is on the PATH or in target/bench-peers/s3s-fs/bin (install with
`cargo install s3s-fs --features binary --root target/bench-peers/s3s-fs`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from services import moto_command  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FRESHET = Path(os.environ.get("FRESHET_BIN", ROOT / "target" / "release" / "freshet"))
BEGIN = "<!-- s3:begin -->"
END = "<!-- s3:end -->"


@dataclass
class Target:
    label: str
    cmd: list[str]  # with {port} and {dir}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not open its port")


def client(endpoint: str):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret", config=Config(s3={"addressing_style": "path"},
                                                      retries={"max_attempts": 1},
                                                      max_pool_connections=4))


def phase(endpoint: str, clients: int, work) -> float:
    """Runs `work(client, index)` on `clients` threads; the wall time."""
    cs = [client(endpoint) for _ in range(clients)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(cs[i], i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0


def measure(endpoint: str, size: int, count: int, clients: int) -> dict:
    bucket = f"bench-{size}"
    client(endpoint).create_bucket(Bucket=bucket)
    body = os.urandom(size)
    per = count // clients

    def put(c, i):
        for n in range(per):
            c.put_object(Bucket=bucket, Key=f"c{i}/{n:06d}", Body=body)

    def get(c, i):
        for n in range(per):
            c.get_object(Bucket=bucket, Key=f"c{i}/{n:06d}")["Body"].read()

    total = per * clients
    t_put = phase(endpoint, clients, put)
    t_get = phase(endpoint, clients, get)
    mib = total * size / (1024 * 1024)
    return {"put_ops": total / t_put, "put_mib": mib / t_put, "get_ops": total / t_get, "get_mib": mib / t_get}


def run_target(t: Target, sizes: list[tuple[int, int]], clients: int) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        cmd = [c.format(port=port, dir=d) for c in t.cmd]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc)
            endpoint = f"http://127.0.0.1:{port}"
            return {size: measure(endpoint, size, count, clients) for size, count in sizes}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def targets() -> list[Target]:
    out = [Target("freshet", [str(FRESHET), "serve", "--listen", "127.0.0.1:{port}", "--data-dir", "{dir}"])]
    out.append(Target("moto", [*moto_command(), "-H", "127.0.0.1", "-p", "{port}"]))
    s3s = shutil.which("s3s-fs") or str(ROOT / "target" / "bench-peers" / "s3s-fs" / "bin" / "s3s-fs")
    if Path(s3s).exists():
        out.append(Target("s3s-fs", [s3s, "--host", "127.0.0.1", "--port", "{port}",
                                     "--access-key", "AKIDEXAMPLE", "--secret-key", "secret", "{dir}"]))
    return out


def render(results: dict, sizes: list[tuple[int, int]], clients: int) -> str:
    labels = list(results)
    lines = [f"S3 PUT then GET of the same objects, {clients} concurrent boto3 clients "
             f"(`benches/compare/s3.py`, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs).", "",
             "| object size | objects | metric | " + " | ".join(labels) + " | Freshet ÷ moto |",
             "|---|---|---|" + "---|" * len(labels) + "---|"]
    for size, count in sizes:
        for metric, name in [("put_ops", "PUT objects/s"), ("put_mib", "PUT MiB/s"),
                             ("get_ops", "GET objects/s"), ("get_mib", "GET MiB/s")]:
            vals = [results[label].get(size, {}).get(metric) for label in labels]
            f, m = results.get("freshet", {}).get(size, {}).get(metric), results.get("moto", {}).get(size, {}).get(metric)
            ratio = f"{f / m:.1f}x" if f and m else "-"
            cells = [f"{v:.1f}" if v is not None else "-" for v in vals]
            lines.append(f"| {size // 1024} KiB | {count} | {name} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text += f"\n## S3: Freshet, moto and s3s-fs\n\n{block}\n"
    doc.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer objects, print only")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--only", help="comma-separated target labels")
    args = ap.parse_args()
    sizes = [(1024, 400), (1024 * 1024, 40)] if args.quick else [(1024, 4000), (1024 * 1024, 400)]
    results = {}
    for t in targets():
        if args.only and t.label not in args.only.split(","):
            continue
        print(f"-- {t.label}", file=sys.stderr)
        results[t.label] = run_target(t, sizes, args.clients)
    section = render(results, sizes, args.clients)
    print(section)
    if not args.quick:
        write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
