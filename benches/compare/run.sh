#!/usr/bin/env bash
# Side-by-side benchmark of Freshet, kinesalite and kinesis-mock; writes docs/benchmarks.md.
# Needs: a Rust toolchain, Node.js with npm, Python 3. Arguments go to compare.py (--quick,
# --no-peers, --restart-gib N, --out FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
exec python3 benches/compare/compare.py "$@"
