#!/usr/bin/env bash
# S3 PUT/GET throughput: Freshet, moto's server and (if installed) s3s-fs, with the same boto3
# code; writes the S3 section of docs/benchmarks.md. Arguments go to s3.py (--quick,
# --clients N, --rounds N, --only freshet,moto, --no-write).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
export FRESHET_BIN="${FRESHET_BIN:-${CARGO_TARGET_DIR:-target}/release/freshet}"
exec python3 benches/compare/s3.py "$@"
