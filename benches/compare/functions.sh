#!/usr/bin/env bash
# Lambda functions on Freshet (warm Invoke, cold starts, Kinesis event source mappings); writes
# the "Functions (Lambda)" section of docs/benchmarks.md and target/functions-results.json.
# Builds nothing: run `cargo build --release -p freshet` first. Needs Python 3 (the handlers run
# under it). Arguments go to functions.py (--quick, --repeat N, --binary PATH, --out FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec python3 benches/compare/functions.py "$@"
