"""CloudWatch crash safety: SIGKILL the real binary while clients send PutMetricData,
PutDashboard and PutMetricAlarm, restart it on the same data directory, and prove that every
acknowledged datapoint, dashboard and alarm is still there, and that no datapoint was counted
twice.

Each PutMetricData call writes five values (1..5) under a metric of its own (dimension
`Call=<cycle>-<thread>-<n>`), so after the restarts an acknowledged call must read back as
exactly SampleCount 5 and Sum 15, and a call cut off by the kill as 0 or those same numbers.
Every loop is bounded by time or count.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from kutil import REGION, FreshetServer

pytestmark = pytest.mark.crash

PRODUCERS = 4
CYCLES = 2
NAMESPACE = "Crash/Test"


def client(endpoint: str, attempts: int = 1):
    return boto3.client(
        "cloudwatch", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": attempts}, read_timeout=15, connect_timeout=2),
    )


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    dashboards: set[str] = field(default_factory=set)
    alarms: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def produce(endpoint, tid, cycle, stop, killing, ledger):
    c = client(endpoint)
    n = 0
    while not stop.is_set():
        n += 1
        call = f"c{cycle}-p{tid}-n{n}"
        with ledger.lock:
            ledger.attempted.add(call)
        try:
            c.put_metric_data(Namespace=NAMESPACE, MetricData=[
                {"MetricName": "Acked", "Dimensions": [{"Name": "Call", "Value": call}],
                 "Value": float(v), "Unit": "Count"} for v in range(1, 6)])
        except (BotoCoreError, ClientError, OSError) as e:
            if not killing.is_set():
                ledger.errors.append(repr(e))
            continue
        with ledger.lock:
            ledger.acked.add(call)


def configure(endpoint, cycle, stop, killing, ledger):
    """Dashboards and alarms, one after the other, until stopped."""
    c = client(endpoint)
    n = 0
    while not stop.is_set():
        n += 1
        name = f"crash-c{cycle}-{n}"
        try:
            if n % 2:
                c.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[{"type":"text","x":0,"y":0,'
                                '"width":6,"height":3,"properties":{"markdown":"' + name + '"}}]}')
                with ledger.lock:
                    ledger.dashboards.add(name)
            else:
                c.put_metric_alarm(AlarmName=name, Namespace=NAMESPACE, MetricName="Acked", Statistic="Sum",
                                   Period=60, EvaluationPeriods=1, Threshold=1.0,
                                   ComparisonOperator="GreaterThanThreshold")
                with ledger.lock:
                    ledger.alarms.add(name)
        except (BotoCoreError, ClientError, OSError) as e:
            if not killing.is_set():
                ledger.errors.append(repr(e))


def read_back(endpoint: str, calls: list[str], start: dt.datetime, end: dt.datetime) -> dict[str, tuple[float, float]]:
    """(SampleCount, Sum) of every call's metric over [start, end)."""
    c = client(endpoint, attempts=5)
    out: dict[str, tuple[float, float]] = {}
    for i in range(0, len(calls), 250):
        chunk = calls[i:i + 250]
        queries = []
        for j, call in enumerate(chunk):
            metric = {"Namespace": NAMESPACE, "MetricName": "Acked", "Dimensions": [{"Name": "Call", "Value": call}]}
            queries.append({"Id": f"n{j}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "SampleCount"}})
            queries.append({"Id": f"s{j}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}})
        values: dict[str, float] = {}
        token = None
        while True:
            kw = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
            if token:
                kw["NextToken"] = token
            r = c.get_metric_data(**kw)
            for res in r["MetricDataResults"]:
                values[res["Id"]] = values.get(res["Id"], 0.0) + sum(res["Values"])
            token = r.get("NextToken")
            if not token:
                break
        for j, call in enumerate(chunk):
            out[call] = (values.get(f"n{j}", 0.0), values.get(f"s{j}", 0.0))
    return out


def test_sigkill_under_put_load_keeps_every_acknowledged_datapoint_dashboard_and_alarm(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log")
    srv.start()
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    try:
        ledger = Ledger()
        for cycle in range(1, CYCLES + 1):
            stop, killing = threading.Event(), threading.Event()
            threads = [threading.Thread(target=produce, args=(srv.endpoint, t, cycle, stop, killing, ledger),
                                        daemon=True) for t in range(PRODUCERS)]
            threads.append(threading.Thread(target=configure, args=(srv.endpoint, cycle, stop, killing, ledger),
                                            daemon=True))
            acked_before = len(ledger.acked)
            for t in threads:
                t.start()
            time.sleep(3 + random.random() * 2)
            killing.set()
            srv.kill()  # SIGKILL with requests in flight
            stop.set()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads), "a worker did not stop"
            assert not ledger.errors, f"requests failed before the kill: {ledger.errors[:3]}"
            assert len(ledger.acked) - acked_before > 50, "too few puts under load"
            srv.start()  # same data directory
            print(f"cycle {cycle}: {len(ledger.acked)} PutMetricData calls acknowledged")

        end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2)
        got = read_back(srv.endpoint, sorted(ledger.attempted), start, end)
        lost = [c for c in ledger.acked if got[c] != (5.0, 15.0)]
        assert not lost, f"{len(lost)} acknowledged calls lost or changed, e.g. {[(c, got[c]) for c in lost[:5]]}"
        torn = [c for c in ledger.attempted - ledger.acked if got[c] not in ((0.0, 0.0), (5.0, 15.0))]
        assert not torn, f"calls cut off by the kill stored in part or twice: {[(c, got[c]) for c in torn[:5]]}"

        c = client(srv.endpoint, attempts=5)
        names = set()
        for page in c.get_paginator("list_dashboards").paginate(DashboardNamePrefix="crash-"):
            names.update(d["DashboardName"] for d in page["DashboardEntries"])
        missing = ledger.dashboards - names
        assert not missing, f"acknowledged dashboards lost: {sorted(missing)[:5]}"
        alarms = set()
        for page in c.get_paginator("describe_alarms").paginate(AlarmNamePrefix="crash-"):
            alarms.update(a["AlarmName"] for a in page["MetricAlarms"])
        missing = ledger.alarms - alarms
        assert not missing, f"acknowledged alarms lost: {sorted(missing)[:5]}"
    finally:
        srv.kill()
