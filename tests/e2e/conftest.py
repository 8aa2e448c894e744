"""Fixtures: one `freshet serve` for the whole session (the crash tests start their own)."""

from __future__ import annotations

import re

import pytest

import kutil

_SESSION_SERVER: list[kutil.FreshetServer] = []


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshet-e2e")
    srv = kutil.FreshetServer(root / "data", root / "server.log")
    srv.start()
    _SESSION_SERVER.append(srv)
    yield srv
    _SESSION_SERVER.clear()
    srv.stop()


@pytest.fixture(scope="session")
def endpoint(server) -> str:
    return server.endpoint


@pytest.fixture(scope="session")
def kinesis(endpoint):
    return kutil.kinesis_client(endpoint)


@pytest.fixture
def stream_name(request) -> str:
    return kutil.unique(re.sub(r"[^a-zA-Z0-9.-]+", "-", request.node.name).strip("-")[:40])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tail of the session server's log to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and _SESSION_SERVER and "server" in item.fixturenames:
        srv = _SESSION_SERVER[0]
        state = "running" if srv.alive() else f"EXITED with {srv.proc.returncode if srv.proc else None}"
        report.sections.append((f"freshet server log tail ({state})", srv.log_tail(40)))
