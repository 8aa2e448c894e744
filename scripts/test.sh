#!/usr/bin/env bash
# The one test command (see README): formatting, lints, Rust unit/property/integration tests,
# then the end-to-end tests with boto3 and the AWS CLI against the real `freshet` binary.
#
#   scripts/test.sh            everything
#   scripts/test.sh --e2e      only build the binary and run the end-to-end tests
#
# Extra pytest arguments can be passed in PYTEST_ARGS (e.g. PYTEST_ARGS="-k crash -x").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root="$PWD"

e2e_only=0
for arg in "$@"; do
    case "$arg" in
        --e2e) e2e_only=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

section() {
    printf '\n==================== %s ====================\n' "$*"
}

started=$SECONDS

if [[ $e2e_only -eq 0 ]]; then
    section "cargo fmt --check"
    cargo fmt --all -- --check

    section "cargo clippy (warnings are errors)"
    cargo clippy --workspace --all-targets -- -D warnings

    if cargo nextest --version >/dev/null 2>&1; then
        section "cargo nextest run --workspace"
        cargo nextest run --workspace
    else
        section "cargo test --workspace (cargo-nextest not installed)"
        cargo test --workspace
    fi

    section "doc tests"
    cargo test --workspace --doc
fi

section "build the freshet binary"
cargo build -p freshet
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
case "$target_dir" in /*) ;; *) target_dir="$repo_root/$target_dir" ;; esac
export FRESHET_BIN="$target_dir/debug/freshet"
if [[ ! -x "$FRESHET_BIN" ]]; then
    echo "error: built binary not found at $FRESHET_BIN" >&2
    exit 1
fi

section "end-to-end tests (boto3, AWS CLI, crash) against $FRESHET_BIN"
# shellcheck disable=SC2086 # PYTEST_ARGS is deliberately split into words
python3 -m pytest tests/e2e -q -p no:cacheprovider ${PYTEST_ARGS:-}

section "all tests passed in $((SECONDS - started)) s"
