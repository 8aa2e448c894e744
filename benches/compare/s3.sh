#!/usr/bin/env bash
# S3 PUT/GET throughput: Freshet, moto's server and (if installed) s3s-fs, with the same boto3
# client; writes the S3 section of docs/benchmarks.md. Arguments go to s3.py (--quick,
# --clients N, --only freshet,moto).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
exec python3 benches/compare/s3.py "$@"
