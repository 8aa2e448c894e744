#!/usr/bin/env bash
# CloudWatch PutMetricData throughput and GetMetricData latency over a day of 1-minute data:
# Freshet and moto's server side by side; writes the CloudWatch section of docs/benchmarks.md.
# Arguments go to cloudwatch.py (--quick, --clients N, --calls N, --rounds N, --samples N,
# --no-write).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
export FRESHET_BIN="${FRESHET_BIN:-${CARGO_TARGET_DIR:-target}/release/freshet}"
exec python3 benches/compare/cloudwatch.py "$@"
