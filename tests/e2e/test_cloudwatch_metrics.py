"""CloudWatch metrics end to end: boto3 (AWS JSON 1.0, its default for CloudWatch), a
hand-made smithy RPC v2 CBOR request, the Query protocol (a signed form POST), and the AWS CLI
v1 `cloudwatch` commands, against the real binary."""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import boto3
import cbor2
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from kutil import REGION
from test_cli import aws_command

NS = "Freshet/E2E"


@pytest.fixture(scope="module")
def cw(endpoint):
    return boto3.client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5),
    )


def minute_ago(minutes: int) -> dt.datetime:
    now = int(time.time())
    return dt.datetime.fromtimestamp(now - now % 60 - minutes * 60, tz=dt.timezone.utc)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def signed(endpoint: str, body: bytes, headers: dict[str, str], path: str = "/"):
    """A SigV4-signed POST with signing name `monitoring`; returns (status, headers, body)."""
    host, port = endpoint.removeprefix("http://").split(":")
    hdrs = {"Host": f"{host}:{port}", **headers}
    req = AWSRequest(method="POST", url=f"{endpoint}{path}", data=body, headers=hdrs)
    SigV4Auth(Credentials("x", "x"), "monitoring", REGION).add_auth(req)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, body=body, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_put_then_statistics_data_and_list(cw):
    name = unique_name("Latency")
    t0 = minute_ago(5)
    dims = [{"Name": "Service", "Value": "api"}]
    cw.put_metric_data(Namespace=NS, MetricData=[
        {"MetricName": name, "Dimensions": dims, "Timestamp": t0 + dt.timedelta(seconds=2),
         "Values": [1.0, 10.0], "Counts": [3, 1], "Unit": "Milliseconds"},
        {"MetricName": name, "Dimensions": dims, "Timestamp": t0 + dt.timedelta(seconds=61),
         "Value": 20.0, "Unit": "Milliseconds"},
        {"MetricName": name, "Dimensions": dims, "Timestamp": t0 + dt.timedelta(seconds=62),
         "StatisticValues": {"SampleCount": 2, "Sum": 8, "Minimum": 3, "Maximum": 5},
         "Unit": "Milliseconds"},
    ])
    stats = cw.get_metric_statistics(
        Namespace=NS, MetricName=name, Dimensions=dims, StartTime=t0,
        EndTime=t0 + dt.timedelta(minutes=2), Period=60,
        Statistics=["Sum", "SampleCount", "Average"], ExtendedStatistics=["p50"])
    points = sorted(stats["Datapoints"], key=lambda d: d["Timestamp"])
    assert [p["Timestamp"] for p in points] == [t0, t0 + dt.timedelta(minutes=1)]
    assert points[0]["Sum"] == 13 and points[0]["SampleCount"] == 4
    assert points[0]["Unit"] == "Milliseconds"
    assert abs(points[0]["ExtendedStatistics"]["p50"] - 1.0) < 0.05
    assert points[1]["Sum"] == 28 and points[1]["SampleCount"] == 3
    # The StatisticValues set has no percentiles, so neither has the merged minute.
    assert "ExtendedStatistics" not in points[1]

    metric = {"Namespace": NS, "MetricName": name, "Dimensions": dims}
    out = cw.get_metric_data(
        StartTime=t0, EndTime=t0 + dt.timedelta(minutes=2), ScanBy="TimestampAscending",
        MetricDataQueries=[
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
             "ReturnData": False},
            {"Id": "rate", "Expression": "RATE(m1)", "Label": "rate"},
            {"Id": "total", "Expression": "SUM([m1, m1 * 2])"},
        ])
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"rate", "total"}
    assert results["total"]["Values"] == [39, 84]
    assert results["total"]["StatusCode"] == "Complete"
    assert results["rate"]["Values"] == [pytest.approx(15 / 60)]

    listed = cw.list_metrics(Namespace=NS, MetricName=name)["Metrics"]
    assert listed == [{"Namespace": NS, "MetricName": name, "Dimensions": dims}]


def test_paginators_and_a_gzipped_batch(cw):
    ns = unique_name("Freshet/Many")
    # 700 data in one call: far over 10 KiB, so botocore gzips the body.
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": f"M{i:04d}", "Dimensions": [{"Name": "Host", "Value": f"h{i}"}],
         "Value": float(i)} for i in range(700)])
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=ns))
    assert len(pages) == 2
    assert sum(len(p["Metrics"]) for p in pages) == 700

    t0 = minute_ago(3)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Hi", "Timestamp": t0 + dt.timedelta(seconds=s), "Value": float(s),
         "StorageResolution": 1} for s in range(150)])
    pages = list(cw.get_paginator("get_metric_data").paginate(
        StartTime=t0, EndTime=t0 + dt.timedelta(minutes=3),
        MetricDataQueries=[{"Id": "hi", "MetricStat": {
            "Metric": {"Namespace": ns, "MetricName": "Hi"}, "Period": 1, "Stat": "Sum"}}],
        PaginationConfig={"PageSize": 100}))
    assert len(pages) == 2
    values = [v for p in pages for r in p["MetricDataResults"] for v in r["Values"]]
    # TimestampDescending by default.
    assert values == [float(s) for s in reversed(range(150))]
    assert pages[0]["MetricDataResults"][0]["StatusCode"] == "PartialData"


def test_search_expressions_find_metrics_by_schema(cw):
    ns = unique_name("Freshet/Search")
    t0 = minute_ago(4)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "IncomingRecords", "Dimensions": [{"Name": "StreamName", "Value": s}],
         "Timestamp": t0, "Value": v} for s, v in [("a", 1), ("b", 2), ("c", 4)]] + [
        {"MetricName": "IncomingRecords", "Dimensions": [
            {"Name": "StreamName", "Value": "a"}, {"Name": "ShardId", "Value": "s"}],
         "Timestamp": t0, "Value": 100}])
    out = cw.get_metric_data(
        StartTime=t0, EndTime=t0 + dt.timedelta(minutes=1),
        MetricDataQueries=[
            {"Id": "s", "Expression":
                f"SEARCH('{{{ns},StreamName}} MetricName=\"IncomingRecords\"', 'Sum', 60)",
             "ReturnData": False},
            {"Id": "total", "Expression": "SUM(s)"},
        ])
    [total] = out["MetricDataResults"]
    assert total["Values"] == [7]


def test_bad_input_is_refused_as_aws_refuses_it(cw):
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.put_metric_data(Namespace="AWS/Kinesis", MetricData=[{"MetricName": "M", "Value": 1}])
    assert e.value.response["Error"]["Message"] == \
        "The value AWS/Kinesis for parameter Namespace is invalid."
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.put_metric_data(Namespace=NS, MetricData=[{
            "MetricName": "M", "Value": 1,
            "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}])
    assert "must not have a size greater than 30" in e.value.response["Error"]["Message"]
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.put_metric_data(Namespace=NS, MetricData=[
            {"MetricName": "M", "Values": [float(v) for v in range(151)]}])
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException):
        cw.put_metric_data(Namespace=NS, MetricData=[{
            "MetricName": "M", "Value": 1,
            "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
    t0 = minute_ago(60 * 24)
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException) as e:
        cw.get_metric_statistics(Namespace=NS, MetricName="M", StartTime=t0,
                                 EndTime=t0 + dt.timedelta(days=1), Period=1,
                                 Statistics=["Sum"])
    assert "exceeds the limit of 1,440" in e.value.response["Error"]["Message"]
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.get_metric_data(StartTime=t0, EndTime=t0 + dt.timedelta(hours=1),
                           MetricDataQueries=[{"Id": "e1", "Expression": "NOPE(1)"}])
    assert e.value.response["Error"]["Message"] == "Error in expression e1: Unknown function NOPE"


def test_a_hand_made_rpc_v2_cbor_request(endpoint):
    name = unique_name("Cbor")
    t0 = int(minute_ago(2).timestamp())
    body = cbor2.dumps({"Namespace": NS, "MetricData": [
        {"MetricName": name, "Value": 2.5, "Timestamp": cbor2.CBORTag(1, t0 + 3)}]})
    headers = {"Content-Type": "application/cbor", "Accept": "application/cbor",
               "smithy-protocol": "rpc-v2-cbor", "x-amzn-query-mode": "true"}
    path = "/service/GraniteServiceVersion20100801/operation/"
    status, hdrs, _ = signed(endpoint, body, headers, path + "PutMetricData")
    assert status == 200
    assert hdrs.get("smithy-protocol") == "rpc-v2-cbor"
    query = cbor2.dumps({"Namespace": NS, "MetricName": name, "Period": 60,
                         "StartTime": cbor2.CBORTag(1, float(t0)),
                         "EndTime": cbor2.CBORTag(1, float(t0 + 60)), "Statistics": ["Sum"]})
    status, hdrs, data = signed(endpoint, query, headers, path + "GetMetricStatistics")
    assert status == 200, data
    [point] = cbor2.loads(data)["Datapoints"]
    assert point["Sum"] == 2.5
    # cbor2 reads tag 1 as a datetime: epoch seconds, not milliseconds.
    assert point["Timestamp"] == dt.datetime.fromtimestamp(t0, tz=dt.timezone.utc)
    status, hdrs, data = signed(endpoint, cbor2.dumps({"Namespace": "AWS/X", "MetricData": [
        {"MetricName": "M", "Value": 1}]}), headers, path + "PutMetricData")
    assert status == 400
    assert hdrs.get("x-amzn-query-error", "").startswith("InvalidParameterValue;")


def test_the_query_protocol(endpoint):
    name = unique_name("Query")
    form = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": NS,
            "MetricData.member.1.MetricName": name, "MetricData.member.1.Value": "3",
            "MetricData.member.1.Dimensions.member.1.Name": "Host",
            "MetricData.member.1.Dimensions.member.1.Value": "h1"}
    ct = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, _, data = signed(endpoint, urllib.parse.urlencode(form).encode(), ct)
    assert status == 200, data
    assert b"PutMetricDataResponse" in data
    form = {"Action": "ListMetrics", "Version": "2010-08-01", "MetricName": name}
    status, _, data = signed(endpoint, urllib.parse.urlencode(form).encode(), ct)
    assert status == 200, data
    assert f"<MetricName>{name}</MetricName>".encode() in data
    assert b"<Name>Host</Name>" in data
    form = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "AWS/Nope",
            "MetricData.member.1.MetricName": "M", "MetricData.member.1.Value": "1"}
    status, _, data = signed(endpoint, urllib.parse.urlencode(form).encode(), ct)
    assert status == 400
    assert b"<Code>InvalidParameterValue</Code>" in data


def test_a_gzipped_body_sent_by_hand(endpoint):
    name = unique_name("Zip")
    body = gzip.compress(json.dumps({"Namespace": NS, "MetricData": [
        {"MetricName": name, "Value": 1}]}).encode())
    status, _, data = signed(endpoint, body, {
        "Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
        "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"})
    assert status == 200, data


@pytest.fixture(scope="module")
def aws_cw(endpoint, tmp_path_factory):
    home = tmp_path_factory.mktemp("aws-home-cw")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": str(home / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_PAGER": ""}

    def run(*args: str):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json", "cloudwatch", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    return run


def test_aws_cli_cloudwatch_commands(aws_cw):
    name = unique_name("Cli")
    t0 = minute_ago(3)
    start, end = t0.isoformat(), (t0 + dt.timedelta(minutes=1)).isoformat()
    aws_cw("put-metric-data", "--namespace", NS, "--metric-data", json.dumps([
        {"MetricName": name, "Value": 4, "Timestamp": (t0 + dt.timedelta(seconds=5)).isoformat(),
         "Dimensions": [{"Name": "Env", "Value": "test"}]}]))
    stats = aws_cw("get-metric-statistics", "--namespace", NS, "--metric-name", name,
                   "--dimensions", "Name=Env,Value=test", "--start-time", start,
                   "--end-time", end, "--period", "60", "--statistics", "Sum")
    assert [p["Sum"] for p in stats["Datapoints"]] == [4.0]
    listed = aws_cw("list-metrics", "--namespace", NS, "--metric-name", name)
    assert listed["Metrics"][0]["Dimensions"] == [{"Name": "Env", "Value": "test"}]
    data = aws_cw("get-metric-data", "--start-time", start, "--end-time", end,
                  "--metric-data-queries", json.dumps([
                      {"Id": "m", "MetricStat": {"Metric": {
                          "Namespace": NS, "MetricName": name,
                          "Dimensions": [{"Name": "Env", "Value": "test"}]},
                          "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                      {"Id": "e", "Expression": "m * 10"}]))
    assert data["MetricDataResults"][0]["Values"] == [40.0]
