#!/usr/bin/env bash
# `freshet agent` tailing a 1 GiB taxi CSV into a 16-shard stream, standalone (raw lines and
# CSVTOJSON) and inside `freshet serve`; writes the agent section of docs/benchmarks.md.
# Arguments go to agent.py (--size-mb N, --shards N, --modes raw,csvtojson,server, --tmp DIR,
# --no-write).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p freshet
export FRESHET_BIN="${FRESHET_BIN:-${CARGO_TARGET_DIR:-target}/release/freshet}"
exec python3 benches/compare/agent.py "$@"
