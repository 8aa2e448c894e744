#!/usr/bin/env bash
# Baseline put throughput of a release `freshet` with wrk (Debian package `wrk`), until
# `freshet bench` exists. Starts its own server on a temporary data directory.
#
#   benches/wrk/run.sh [fsync|interval|none]
#
# Scenarios: PutRecords 500 x 1 KiB (4 shards, 8 connections) and PutRecord 1 KiB (4 shards,
# 64 connections, a new partition key per request).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mode="${1:-fsync}"
port="${PORT:-4610}"
work="$(mktemp -d)"
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release -p freshet
python3 - "$work" <<'PY'
import base64, json, os, sys
work = sys.argv[1]
data = base64.b64encode(os.urandom(1024)).decode()
open(f"{work}/data1k.b64", "w").write(data)
records = [{"Data": data, "PartitionKey": f"key-{i}"} for i in range(500)]
open(f"{work}/putrecords.json", "w").write(json.dumps({"StreamName": "bench", "Records": records}))
PY
target/release/freshet serve --listen "127.0.0.1:$port" --data-dir "$work/data" --durability "$mode" \
    >"$work/server.log" 2>&1 &
pid=$!
export FRESHET_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -sf "$FRESHET_ENDPOINT/health" >/dev/null && break; sleep 0.1; done
target/release/freshet streams create bench --shards 4 >/dev/null
target/release/freshet streams create bench1 --shards 4 >/dev/null

echo "== PutRecords 500 x 1 KiB, 8 connections, durability=$mode"
BENCH_WORK="$work" wrk -t2 -c8 -d10s --latency -s benches/wrk/putrecords.lua "$FRESHET_ENDPOINT/" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "(records/s = 500 x Requests/sec)"
echo "== PutRecord 1 x 1 KiB, 64 connections, durability=$mode"
BENCH_WORK="$work" wrk -t2 -c64 -d10s --latency -s benches/wrk/putrecord.lua "$FRESHET_ENDPOINT/" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
