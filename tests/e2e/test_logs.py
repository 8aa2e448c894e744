"""CloudWatch Logs against the real binary: boto3, the AWS CLI v1 commands people run, the
calls `aws logs tail --follow` makes, Live Tail, and a SIGKILL under PutLogEvents load."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from collections import defaultdict

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from kutil import ACCOUNT, REGION, FreshetServer, unique
from test_cli import aws_command


def logs_client(endpoint: str, max_attempts: int = 2, read_timeout: float = 60.0,
                inject_host_prefix: bool = True):
    return boto3.client(
        "logs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": max_attempts}, read_timeout=read_timeout,
                      connect_timeout=5, inject_host_prefix=inject_host_prefix),
    )


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def logs(endpoint):
    return logs_client(endpoint)


@pytest.fixture
def group(logs, request) -> str:
    name = unique("/e2e/" + request.node.name[:40])
    logs.create_log_group(logGroupName=name)
    return name


@pytest.fixture(scope="module")
def aws_logs(endpoint, tmp_path_factory):
    """`aws logs ...` (AWS CLI v1) against the session server; returns parsed JSON output."""
    home = tmp_path_factory.mktemp("aws-logs-home")
    env = os.environ.copy()
    env.update({
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    })

    def run(*args: str, check: bool = True):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "30", "logs", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        if check:
            assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc

    return run


def test_cli_commands_people_run(aws_logs):
    g = unique("/cli/app")
    aws_logs("create-log-group", "--log-group-name", g)
    aws_logs("create-log-stream", "--log-group-name", g, "--log-stream-name", "web-1")
    t = now_ms()
    events = json.dumps([{"timestamp": t - 2, "message": "GET / 200"},
                         {"timestamp": t - 1, "message": "ERROR boom"},
                         {"timestamp": t, "message": '{"level":"warn","ms":120}'}])
    out = aws_logs("put-log-events", "--log-group-name", g, "--log-stream-name", "web-1",
                   "--log-events", events)
    assert len(out["nextSequenceToken"]) == 56
    assert "rejectedLogEventsInfo" not in out

    got = aws_logs("get-log-events", "--log-group-name", g, "--log-stream-name", "web-1")
    assert [e["message"] for e in got["events"]] == ["GET / 200", "ERROR boom", '{"level":"warn","ms":120}']
    assert got["nextForwardToken"].startswith("f/") and got["nextBackwardToken"].startswith("b/")
    head = aws_logs("get-log-events", "--log-group-name", g, "--log-stream-name", "web-1",
                    "--start-from-head", "--limit", "1")
    assert [e["message"] for e in head["events"]] == ["GET / 200"]

    hits = aws_logs("filter-log-events", "--log-group-name", g, "--filter-pattern", "ERROR")
    assert [e["message"] for e in hits["events"]] == ["ERROR boom"]
    assert hits["events"][0]["logStreamName"] == "web-1"
    json_hits = aws_logs("filter-log-events", "--log-group-name", g,
                         "--filter-pattern", "{ $.ms > 100 }")
    assert len(json_hits["events"]) == 1

    groups = aws_logs("describe-log-groups", "--log-group-name-prefix", g)
    assert [x["logGroupName"] for x in groups["logGroups"]] == [g]
    assert groups["logGroups"][0]["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{g}:*"
    streams = aws_logs("describe-log-streams", "--log-group-name", g)
    assert streams["logStreams"][0]["lastEventTimestamp"] == t

    aws_logs("put-retention-policy", "--log-group-name", g, "--retention-in-days", "7")
    assert aws_logs("describe-log-groups", "--log-group-name-prefix", g)["logGroups"][0]["retentionInDays"] == 7
    aws_logs("delete-log-group", "--log-group-name", g)
    err = aws_logs("describe-log-streams", "--log-group-name", g, check=False)
    assert err.returncode != 0 and "ResourceNotFoundException" in err.stderr


def test_cli_paginates_describe_and_filter(aws_logs, logs):
    g = unique("/cli/many")
    logs.create_log_group(logGroupName=g)
    for i in range(30):
        logs.create_log_stream(logGroupName=g, logStreamName=f"s-{i:02}")
    t = now_ms()
    logs.put_log_events(logGroupName=g, logStreamName="s-00",
                        logEvents=[{"timestamp": t - 100 + i, "message": f"m{i}"} for i in range(25)])
    # The CLI follows nextToken itself; --page-size makes it take many pages.
    streams = aws_logs("describe-log-streams", "--log-group-name", g, "--page-size", "7")
    assert [s["logStreamName"] for s in streams["logStreams"]] == [f"s-{i:02}" for i in range(30)]
    events = aws_logs("filter-log-events", "--log-group-name", g, "--page-size", "4")
    assert [e["message"] for e in events["events"]] == [f"m{i}" for i in range(25)]


def test_boto3_errors_are_the_aws_ones(logs, group):
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException) as e:
        logs.create_log_group(logGroupName=group)
    assert e.value.response["Error"]["Message"] == "The specified log group already exists"
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.put_log_events(logGroupName=group, logStreamName="nope",
                            logEvents=[{"timestamp": now_ms(), "message": "x"}])
    assert e.value.response["Error"]["Message"] == "The specified log stream does not exist."
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_log_events(logGroupName=group, logStreamName="s",
                            logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    assert "chronological order" in e.value.response["Error"]["Message"]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.get_log_events(logGroupName=group, logStreamName="s", nextToken="f/nonsense/s")
    assert e.value.response["Error"]["Message"] == "The specified nextToken is invalid."
    out = logs.put_log_events(logGroupName=group, logStreamName="s", sequenceToken="anything",
                              logEvents=[{"timestamp": t - 15 * 86_400_000, "message": "old"},
                                         {"timestamp": t, "message": "ok"}])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    with pytest.raises(ClientError) as e:
        logs.get_log_record(logRecordPointer="x")
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"


def test_boto3_paginators_walk_everything(logs, group):
    for i in range(12):
        logs.create_log_stream(logGroupName=group, logStreamName=f"s{i:02}")
    t = now_ms()
    for i in range(12):
        logs.put_log_events(logGroupName=group, logStreamName=f"s{i:02}",
                            logEvents=[{"timestamp": t - 1000 + i, "message": f"e{i}"}])
    streams = [s["logStreamName"]
               for page in logs.get_paginator("describe_log_streams").paginate(
                   logGroupName=group, PaginationConfig={"PageSize": 5})
               for s in page["logStreams"]]
    assert streams == [f"s{i:02}" for i in range(12)]
    events = [e["message"]
              for page in logs.get_paginator("filter_log_events").paginate(
                  logGroupName=group, interleaved=True, PaginationConfig={"PageSize": 5})
              for e in page["events"]]
    assert events == [f"e{i}" for i in range(12)]


def test_tail_follow_call_sequence_sees_every_event_once(logs, group):
    """The loop of aws-cli v2 `logs tail --follow`, minus its 5 s sleeps."""
    for s in ("app-1", "app-2"):
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    kwargs = {"logGroupName": group, "interleaved": True, "startTime": now_ms() - 10 * 60 * 1000,
              "logStreamNamePrefix": "app"}
    ids_per_ts: dict[int, set[str]] = defaultdict(set)
    printed, sent = [], []
    t = now_ms()
    for rnd in range(8):
        for k in range(3):
            m = f"r{rnd}-{k}"
            logs.put_log_events(logGroupName=group, logStreamName=f"app-{k % 2 + 1}",
                                logEvents=[{"timestamp": t - 1000 + rnd * 2 + k // 2, "message": m}])
            sent.append(m)
        while True:
            resp = logs.filter_log_events(**kwargs)
            for ev in resp["events"]:
                if ev["eventId"] not in ids_per_ts[ev["timestamp"]]:
                    ids_per_ts[ev["timestamp"]].add(ev["eventId"])
                    printed.append(ev["message"])
            if ids_per_ts:
                newest = max(ids_per_ts)
                ids_per_ts = defaultdict(set, {newest: ids_per_ts[newest]})
            if "nextToken" in resp:
                kwargs["nextToken"] = resp["nextToken"]
            else:
                if ids_per_ts:
                    kwargs["startTime"] = max(ids_per_ts)
                kwargs.pop("nextToken", None)
                break
    assert printed == sent


def test_metric_filters_and_tags(logs, group):
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "App",
                                                   "metricValue": "1", "defaultValue": 0}])
    got = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert got[0]["filterName"] == "errors" and got[0]["metricTransformations"][0]["defaultValue"] == 0
    m = logs.test_metric_filter(filterPattern="[ip, user, status=4*]",
                                logEventMessages=["1.2.3.4 bob 404", "1.2.3.4 bob 200"])["matches"]
    assert [x["eventNumber"] for x in m] == [1]
    assert m[0]["extractedValues"]["$status"] == "404"
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    logs.tag_resource(resourceArn=arn, tags={"team": "core"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core"}
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"team": "core"}
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []


def test_start_live_tail_with_boto3(endpoint, logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    # boto3 puts `stream-` before the host for StartLiveTail; a local endpoint needs it off.
    tail_client = logs_client(endpoint, inject_host_prefix=False)
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    resp = tail_client.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern="ERROR")
    stream = resp["responseStream"]
    seen, started = [], False
    deadline = time.monotonic() + 60
    for event in stream:
        if "sessionStart" in event:
            started = True
            assert event["sessionStart"]["logGroupIdentifiers"] == [arn]
            logs.put_log_events(logGroupName=group, logStreamName="s",
                                logEvents=[{"timestamp": now_ms(), "message": "ERROR live"},
                                           {"timestamp": now_ms(), "message": "INFO quiet"}])
        elif "sessionUpdate" in event:
            seen += [r["message"] for r in event["sessionUpdate"]["sessionResults"]]
            if seen or time.monotonic() > deadline:
                break
    stream.close()
    assert started
    assert seen == ["ERROR live"]


# ---------------------------------------------------------------------------------------------
# Crash safety


@pytest.mark.crash
def test_sigkill_under_put_log_events_loses_nothing_acknowledged(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    try:
        group = "/crash/app"
        client = logs_client(srv.endpoint)
        client.create_log_group(logGroupName=group)
        threads_n = 6
        for i in range(threads_n):
            client.create_log_stream(logGroupName=group, logStreamName=f"s{i}")
        acked: dict[str, set[str]] = defaultdict(set)
        attempted: set[str] = set()
        errors: list[str] = []
        lock = threading.Lock()
        for cycle in range(1, 4):
            stop, killing = threading.Event(), threading.Event()

            def produce(tid: int) -> None:
                c = logs_client(srv.endpoint, max_attempts=1, read_timeout=10)
                rng = random.Random(tid * 100 + cycle)
                n = 0
                while not stop.is_set():
                    n += 1
                    batch = [f"c{cycle}-t{tid}-n{n}-i{i}-" + "x" * rng.randint(0, 200)
                             for i in range(rng.randint(1, 50))]
                    with lock:
                        attempted.update(batch)
                    try:
                        t = now_ms()
                        c.put_log_events(logGroupName=group, logStreamName=f"s{tid}",
                                         logEvents=[{"timestamp": t, "message": m} for m in batch])
                    except (BotoCoreError, ClientError, OSError) as e:
                        if not killing.is_set():
                            errors.append(repr(e))
                        continue
                    with lock:
                        acked[f"s{tid}"].update(batch)

            threads = [threading.Thread(target=produce, args=(t,), daemon=True) for t in range(threads_n)]
            before = sum(len(v) for v in acked.values())
            for th in threads:
                th.start()
            time.sleep(3 + random.random() * 2)
            killing.set()
            srv.kill()
            stop.set()
            for th in threads:
                th.join(timeout=30)
            assert not any(th.is_alive() for th in threads)
            assert not errors, errors[:3]
            assert sum(len(v) for v in acked.values()) - before > 100, "too few puts acknowledged"

            srv.start()
            client = logs_client(srv.endpoint)
            for stream, want in acked.items():
                got: list[str] = []
                token = None
                while True:
                    kw = {"nextToken": token} if token else {}
                    page = client.get_log_events(logGroupName=group, logStreamName=stream,
                                                 startFromHead=True, **kw)
                    got += [e["message"] for e in page["events"]]
                    if page["nextForwardToken"] == token:
                        break
                    token = page["nextForwardToken"]
                assert len(got) == len(set(got)), f"{stream}: events read twice after crash {cycle}"
                missing = want - set(got)
                assert not missing, f"crash {cycle}: {len(missing)} acknowledged events lost in {stream}"
                strangers = set(got) - attempted
                assert not strangers, f"crash {cycle}: events nobody sent"
            streams = {s["logStreamName"]: s for s in
                       client.describe_log_streams(logGroupName=group)["logStreams"]}
            for stream, want in acked.items():
                if want:
                    assert "lastIngestionTime" in streams[stream], f"statistics of {stream} recovered"
            total = sum(len(v) for v in acked.values())
            filtered = sum(len(p["events"]) for p in client.get_paginator("filter_log_events").paginate(
                logGroupName=group))
            assert filtered >= total
            print(f"cycle {cycle}: {total} acknowledged events in all, all present after restart")
    finally:
        srv.kill()
