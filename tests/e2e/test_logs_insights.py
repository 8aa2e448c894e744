"""CloudWatch Logs Insights against the real binary: boto3 queries over JSON logs (stats by
bin, parse, sort/limit), Lambda's REPORT fields from a real Python function, the AWS CLI v1
`start-query` / `get-query-results`, saved queries and a SIGKILL that keeps them."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from kutil import FreshetServer, unique
from test_lambda import PYTHON_HANDLER, deploy, lambda_client
from test_logs import aws_logs, logs_client, now_ms  # noqa: F401  (aws_logs is a fixture)


@pytest.fixture(scope="module")
def logs(endpoint):
    return logs_client(endpoint)


def run_query(logs, query: str, start_s: int, end_s: int, **kw) -> dict:
    qid = logs.start_query(startTime=start_s, endTime=end_s, queryString=query, **kw)["queryId"]
    deadline = time.time() + 60
    while True:
        out = logs.get_query_results(queryId=qid)
        if out["status"] not in ("Scheduled", "Running"):
            return out
        assert time.time() < deadline, f"query {query!r} still {out['status']}"
        time.sleep(0.1)


def as_dicts(out: dict) -> list[dict]:
    return [{f["field"]: f["value"] for f in row} for row in out["results"]]


@pytest.fixture(scope="module")
def app(logs):
    """A group with JSON request logs over three 5-minute bins."""
    group = unique("/e2e/insights/app")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="web-1")
    base = (now_ms() // 300_000 - 3) * 300_000
    events = []
    for i in range(30):
        ts = base + i * 30_000  # 10 per bin
        level = "ERROR" if i % 5 == 0 else "INFO"
        events.append({"timestamp": ts, "message": json.dumps(
            {"level": level, "path": f"/api/{i % 3}", "ms": i, "user": {"id": f"u{i % 4}"}})})
    events.append({"timestamp": base + 15, "message": "user=ann action=login took=42ms"})
    events.sort(key=lambda e: e["timestamp"])
    logs.put_log_events(logGroupName=group, logStreamName="web-1", logEvents=events)
    return group, base


def test_stats_by_bin_counts_per_five_minutes(logs, app):
    group, base = app
    out = run_query(logs, "filter ispresent(level) | stats count(*) as n, max(ms) by bin(5m) | sort n desc",
                    base // 1000, base // 1000 + 3600, logGroupName=group)
    assert out["status"] == "Complete"
    rows = as_dicts(out)
    assert [r["n"] for r in rows] == ["10", "10", "10"]
    assert sorted(r["bin(5m)"] for r in rows)[0].endswith(":00.000")
    assert out["statistics"]["recordsScanned"] == 31.0
    assert out["statistics"]["recordsMatched"] == 30.0


def test_fields_filter_sort_limit_and_ptr(logs, app):
    group, base = app
    out = run_query(logs, "fields @timestamp, path, ms, user.id | filter level = 'ERROR' and ms >= 10 "
                    "| sort ms desc | limit 2", base // 1000, base // 1000 + 3600, logGroupName=group)
    rows = out["results"]
    assert [[f["field"] for f in r] for r in rows] == [["@timestamp", "path", "ms", "user.id", "@ptr"]] * 2
    assert [r["ms"] for r in as_dicts(out)] == ["25", "20"]
    assert as_dicts(out)[0]["user.id"] == "u1"


def test_parse_and_string_functions(logs, app):
    group, base = app
    out = run_query(logs, "parse @message 'user=* action=* took=*ms' as who, what, took "
                    "| filter ispresent(who) | fields toupper(who) as WHO, what, took * 2 as twice",
                    base // 1000, base // 1000 + 3600, logGroupName=group)
    assert [{k: v for k, v in r.items() if k != "@ptr"} for r in as_dicts(out)] == [
        {"WHO": "ANN", "what": "login", "twice": "84"}]


def test_bad_queries_are_malformed_with_a_location(logs, app):
    group, base = app
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=group, startTime=0, endTime=1, queryString="fields a | sort")
    err = e.value.response
    assert err["Error"]["Code"] == "MalformedQueryException"
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=unique("/nope"), startTime=0, endTime=1, queryString="fields a")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_lambda_report_lines_give_duration_and_memory(endpoint, logs):
    lam = lambda_client(endpoint)
    name = unique("insights-fn")
    deploy(lam, name, {"lambda_function.py": PYTHON_HANDLER})
    for i in range(3):
        out = lam.invoke(FunctionName=name, Payload=json.dumps({"key1": f"v{i}"}))
        assert out["StatusCode"] == 200
    group = f"/aws/lambda/{name}"
    start = now_ms() // 1000 - 600
    deadline = time.time() + 60
    while True:
        out = run_query(logs, "filter @type = 'REPORT' | stats count(*) as invocations, "
                        "avg(@duration) as avgDuration, max(@memorySize / 1000 / 1000) as memoryMB, "
                        "count_distinct(@requestId) as requests",
                        start, start + 1200, logGroupName=group)
        rows = as_dicts(out)
        if rows and rows[0].get("invocations") == "3":
            break
        assert time.time() < deadline, f"REPORT lines never arrived: {rows}"
        time.sleep(0.5)
    assert rows[0]["memoryMB"] == "128"
    assert rows[0]["requests"] == "3"
    assert float(rows[0]["avgDuration"]) > 0
    # The function's own output may be appended after its REPORT line: wait for it too.
    while True:
        printed = run_query(logs, "filter @message like /value1 = v/ | sort @timestamp asc "
                            "| display @message", start, start + 1200, logGroupName=group)
        lines = [r["@message"].strip() for r in as_dicts(printed)]
        if len(lines) == 3:
            break
        assert time.time() < deadline, f"printed lines never arrived: {lines}"
        time.sleep(0.5)
    assert lines == ["value1 = v0", "value1 = v1", "value1 = v2"]


def test_cli_v1_start_query_and_get_query_results(aws_logs, app):  # noqa: F811
    group, base = app
    started = aws_logs("start-query", "--log-group-name", group, "--start-time", str(base // 1000),
                       "--end-time", str(base // 1000 + 3600), "--query-string",
                       "stats count(*) as n by level | sort level")
    qid = started["queryId"]
    deadline = time.time() + 60
    while True:
        out = aws_logs("get-query-results", "--query-id", qid)
        if out["status"] == "Complete":
            break
        assert time.time() < deadline
        time.sleep(0.2)
    assert out["results"] == [
        [{"field": "n", "value": "1"}],
        [{"field": "level", "value": "ERROR"}, {"field": "n", "value": "6"}],
        [{"field": "level", "value": "INFO"}, {"field": "n", "value": "24"}],
    ]
    described = aws_logs("describe-queries", "--log-group-name", group)
    assert qid in [q["queryId"] for q in described["queries"]]
    stopped = aws_logs("stop-query", "--query-id", qid)
    assert stopped == {"success": False}


def test_sigkill_keeps_saved_queries(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    try:
        logs = logs_client(srv.endpoint)
        ids = [logs.put_query_definition(name=f"team/q{i}", queryString=f"fields @message | limit {i + 1}",
                                         logGroupNames=["/a"])["queryDefinitionId"] for i in range(5)]
        logs.delete_query_definition(queryDefinitionId=ids[0])
        srv.kill()
        srv.start()
        logs = logs_client(srv.endpoint)
        defs = logs.describe_query_definitions(queryDefinitionNamePrefix="team/")["queryDefinitions"]
        assert [d["queryDefinitionId"] for d in defs] == ids[1:]
        assert defs[0]["queryString"] == "fields @message | limit 2"
        assert defs[0]["logGroupNames"] == ["/a"]
    finally:
        srv.stop()
