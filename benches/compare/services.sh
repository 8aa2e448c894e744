#!/usr/bin/env bash
# SQS side by side with moto's server (and, with --old-binary, Kinesis puts before/after a
# change); writes the services section of docs/benchmarks.md. Needs Rust and Python 3.
# Arguments go to services.py (--quick, --repeat N, --old-binary PATH, --no-sqs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
exec python3 benches/compare/services.py "$@"
