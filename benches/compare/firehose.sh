#!/usr/bin/env bash
# Firehose DirectPut throughput and delivery latency: Freshet and moto's server side by side;
# writes the Firehose section of docs/benchmarks.md. Arguments go to firehose.py (--quick,
# --clients N, --batches N, --rounds N, --samples N, --interval-samples N, --no-write).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
export FRESHET_BIN="${FRESHET_BIN:-${CARGO_TARGET_DIR:-target}/release/freshet}"
exec python3 benches/compare/firehose.py "$@"
