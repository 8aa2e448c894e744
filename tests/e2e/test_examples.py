"""The pipelines of `examples/`, each run as a reader runs it: its `run.py` against the
session's server, in a fresh process. A script sets its pipeline up, drives it, checks what
arrived and exits non-zero when a check failed; a failure here shows the script's report.

The scripts are the checks (every example's README says what they verify); this module adds
only that a passing run printed its checks and created nothing it did not delete.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import kutil

EXAMPLES = kutil.REPO_ROOT / "examples"
# The pipelines, by directory. Each finishes in seconds on a quiet machine; the alarms of
# rest-ingest-failures wait for a complete minute of metrics, so allow for that.
PIPELINES = [
    "kinesis-lambda-consumers",
    "stock-trades-firehose-transform",
    "agent-taxi-firehose",
    "rest-ingest-failures",
    "firehose-gzip-parquet",
]
SCRIPT_TIMEOUT = 240


def run_example(directory: str, endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["FRESHET_BIN"] = str(kutil.freshet_bin())
    return subprocess.run(
        [sys.executable, str(EXAMPLES / directory / "run.py"), "--endpoint", endpoint,
         "--timeout", "150", *args],
        cwd=EXAMPLES / directory, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=SCRIPT_TIMEOUT)


def test_every_example_directory_is_run_here():
    dirs = sorted(p.name for p in EXAMPLES.iterdir() if (p / "run.py").exists())
    assert dirs == sorted(PIPELINES)
    for d in dirs:
        assert (EXAMPLES / d / "README.md").exists(), f"examples/{d} has no README.md"


@pytest.mark.timeout(SCRIPT_TIMEOUT + 30)
@pytest.mark.parametrize("directory", PIPELINES)
def test_the_example_pipeline_delivers_what_its_producer_sent(endpoint, directory):
    proc = run_example(directory, endpoint)
    report = f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
    assert proc.returncode == 0, f"examples/{directory}/run.py exited {proc.returncode}\n{report}"
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("PASSED: "), report
    assert any(line.strip().startswith("[ok]") for line in lines), report
    assert not any("FAILED" in line or "clean-up of" in line for line in lines), report


def test_a_failed_check_makes_the_script_exit_1(endpoint):
    # No records: nothing is delivered, so the checks of what arrived fail.
    proc = run_example("firehose-gzip-parquet", endpoint, "--count", "0", "--timeout", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[FAILED]" in proc.stdout, proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("FAILED: "), proc.stdout


def test_a_pipeline_that_cannot_be_set_up_makes_the_script_exit_2():
    proc = run_example("firehose-gzip-parquet", f"http://127.0.0.1:{kutil.free_port()}",
                       "--count", "1")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "ERROR" in proc.stdout and proc.stdout.splitlines()[-1].startswith("FAILED: "), \
        proc.stdout
