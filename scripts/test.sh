#!/usr/bin/env bash
# The one test command (see README): formatting, lints, Rust unit/property/integration tests,
# a build of the micro-benchmarks, then the end-to-end tests with boto3 and the AWS CLI against
# the real `freshet` binary.
#
#   scripts/test.sh            everything
#   scripts/test.sh --e2e      only build the binary and run the end-to-end tests
#
# Every step runs even when an earlier one failed (so one run shows every problem); the script
# exits non-zero if any step failed. Extra pytest arguments can be passed in PYTEST_ARGS
# (e.g. PYTEST_ARGS="-k crash -x").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root="$PWD"

e2e_only=0
for arg in "$@"; do
    case "$arg" in
        --e2e) e2e_only=1 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

started=$SECONDS
failed=()

# step "title" command...: prints a header, runs the command, records a failure.
step() {
    local title="$1"
    shift
    printf '\n==================== %s ====================\n' "$title"
    local t0=$SECONDS
    if "$@"; then
        printf -- '---- ok: %s (%d s)\n' "$title" $((SECONDS - t0))
        return 0
    else
        local rc=$?
        printf -- '---- FAILED (exit %d): %s (%d s)\n' "$rc" "$title" $((SECONDS - t0))
        failed+=("$title")
        return 1
    fi
}

if [[ $e2e_only -eq 0 ]]; then
    step "cargo fmt --check" cargo fmt --all -- --check || true
    step "cargo clippy (warnings are errors)" cargo clippy --workspace --all-targets -- -D warnings || true
    if cargo nextest --version >/dev/null 2>&1; then
        step "Rust tests: cargo nextest run --workspace" cargo nextest run --workspace --no-fail-fast || true
    else
        step "Rust tests: cargo test --workspace (cargo-nextest not installed)" cargo test --workspace --no-fail-fast || true
    fi
    # Builds the criterion benchmarks (release profile) so they never rot; runs none and checks
    # no timings (see docs/benchmarks.md). `--bench '*'` builds only the [[bench]] targets: plain
    # `cargo bench --workspace` would also build every crate's unit tests again in release.
    step "build the benchmarks: cargo bench --no-run" \
        cargo bench --workspace --bench '*' --no-run || true
    step "Rust doc tests" cargo test --workspace --doc || true
fi

target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
case "$target_dir" in /*) ;; *) target_dir="$repo_root/$target_dir" ;; esac
export FRESHET_BIN="$target_dir/debug/freshet"

if step "build the freshet binary" cargo build -p freshet; then
    # shellcheck disable=SC2086 # PYTEST_ARGS is deliberately split into words
    step "end-to-end tests (boto3, AWS CLI, crash) against $FRESHET_BIN" \
        python3 -m pytest tests/e2e -q -p no:cacheprovider ${PYTEST_ARGS:-} || true
else
    failed+=("end-to-end tests (not run: the binary did not build)")
fi

printf '\n==================== summary (%d s) ====================\n' $((SECONDS - started))
# Disk use, so a run that fills the machine says how close it came.
du -sh "$target_dir" 2>/dev/null || true
df -h "$repo_root" 2>/dev/null | tail -1 || true
if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "all steps passed"
