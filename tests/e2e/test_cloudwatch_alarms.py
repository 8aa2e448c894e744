"""CloudWatch alarms and dashboards with boto3 and the AWS CLI v1: an alarm on a custom
high-resolution metric goes to ALARM and its SQS action receives the notification document,
then OK when the metric recovers; SetAlarmState; history; the AlarmExists waiter; dashboards;
bad input as AWS answers it. The server evaluates alarms every second (configuration), so
nothing waits for minutes; waits poll with generous deadlines and assert no speed."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import kutil
from kutil import ACCOUNT, REGION
from test_cli import aws_command

NAMESPACE = "Freshet/E2E"


@pytest.fixture(scope="module")
def cw_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshet-cw-alarms")
    srv = kutil.FreshetServer(root / "data", root / "server.log", extra_env={
        "FRESHET__CLOUDWATCH__ALARM_EVALUATION_INTERVAL": "1s",
    })
    srv.start()
    yield srv
    srv.stop()


def _client(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 2}, read_timeout=60))


@pytest.fixture(scope="module")
def cw(cw_server):
    return _client("cloudwatch", cw_server.endpoint)


@pytest.fixture(scope="module")
def sqs(cw_server):
    return _client("sqs", cw_server.endpoint)


def put_value(cw, metric: str, value: float) -> None:
    cw.put_metric_data(Namespace=NAMESPACE, MetricData=[{
        "MetricName": metric, "Value": value, "StorageResolution": 1,
        "Timestamp": datetime.datetime.now(datetime.timezone.utc),
        "Dimensions": [{"Name": "Service", "Value": "api"}],
    }])


def wait_state(cw, name: str, want: str, metric: str, value: float, deadline_s: float = 120) -> dict:
    deadline = time.monotonic() + deadline_s
    while True:
        put_value(cw, metric, value)
        alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if alarm["StateValue"] == want:
            return alarm
        assert time.monotonic() < deadline, f"{name} stuck in {alarm['StateValue']}: {alarm['StateReason']}"
        time.sleep(0.5)


def receive_notification(sqs, url: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
            return json.loads(msgs[0]["Body"])
    raise AssertionError("no notification arrived")


def alarm_args(name: str, metric: str, **extra) -> dict:
    return {
        "AlarmName": name, "Namespace": NAMESPACE, "MetricName": metric,
        "Dimensions": [{"Name": "Service", "Value": "api"}], "Statistic": "Maximum",
        "Period": 10, "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", **extra,
    }


def test_alarm_goes_to_alarm_notifies_its_queue_and_recovers(cw, sqs):
    url = sqs.create_queue(QueueName="cw-alarm-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cw.put_metric_alarm(**alarm_args("e2e-errors", "Errors", AlarmActions=[arn], OKActions=[arn],
                                     AlarmDescription="errors seen"))
    cw.get_waiter("alarm_exists").wait(AlarmNames=["e2e-errors"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    created = cw.describe_alarms(AlarmNames=["e2e-errors"])["MetricAlarms"][0]
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["StateReason"] == "Unchecked: Initial alarm creation"
    assert created["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:e2e-errors"

    alarm = wait_state(cw, "e2e-errors", "ALARM", "Errors", 5.0)
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [5.0 (")
    assert json.loads(alarm["StateReasonData"])["threshold"] == 1.0
    doc = receive_notification(sqs, url)
    assert doc["AlarmName"] == "e2e-errors"
    assert doc["AlarmDescription"] == "errors seen"
    assert doc["NewStateValue"] == "ALARM"
    assert doc["OldStateValue"] == "INSUFFICIENT_DATA"
    assert doc["AWSAccountId"] == ACCOUNT
    assert doc["AlarmArn"] == alarm["AlarmArn"]
    assert doc["Trigger"]["MetricName"] == "Errors"
    assert doc["Trigger"]["Namespace"] == NAMESPACE
    assert doc["Trigger"]["Dimensions"] == [{"value": "api", "name": "Service"}]

    wait_state(cw, "e2e-errors", "OK", "Errors", 0.0)
    assert receive_notification(sqs, url)["NewStateValue"] == "OK"

    history = cw.describe_alarm_history(AlarmName="e2e-errors", HistoryItemType="StateUpdate")
    summaries = [h["HistorySummary"] for h in history["AlarmHistoryItems"]]
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in summaries
    assert "Alarm updated from ALARM to OK" in summaries
    deadline = time.monotonic() + 30
    while True:
        actions = cw.describe_alarm_history(AlarmName="e2e-errors", HistoryItemType="Action")["AlarmHistoryItems"]
        if len(actions) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert all(a["HistorySummary"] == f"Successfully executed action {arn}" for a in actions), actions
    cw.delete_alarms(AlarmNames=["e2e-errors"])


def test_set_alarm_state_and_the_paginator(cw):
    cw.put_metric_alarm(**alarm_args("e2e-manual", "Manual", TreatMissingData="notBreaching"))
    cw.set_alarm_state(AlarmName="e2e-manual", StateValue="ALARM", StateReason="paging test")
    items = cw.describe_alarm_history(AlarmName="e2e-manual")["AlarmHistoryItems"]
    kinds = {i["HistoryItemType"] for i in items}
    assert {"ConfigurationUpdate", "StateUpdate"} <= kinds
    manual = [json.loads(i["HistoryData"]) for i in items if i["HistoryItemType"] == "StateUpdate"
              and "paging test" in i["HistoryData"]]
    assert manual and manual[0]["newState"]["stateValue"] == "ALARM"
    for i in range(3):
        cw.put_metric_alarm(**alarm_args(f"e2e-page-{i}", "Paged"))
    pages = cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix="e2e-page-",
                                                         PaginationConfig={"PageSize": 2})
    names = [a["AlarmName"] for p in pages for a in p["MetricAlarms"]]
    assert names == ["e2e-page-0", "e2e-page-1", "e2e-page-2"]


def test_bad_alarms_fail_as_aws_answers(cw):
    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(**alarm_args("bad", "Errors", Period=45))
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(**alarm_args("bad", "Errors", ExtendedStatistic="p99"))
    assert e.value.response["Error"]["Code"] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName="no-such-alarm", StateValue="OK", StateReason="x")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.delete_alarms(AlarmNames=["no-such-alarm"])


def test_dashboards_round_trip_and_validation(cw):
    body = json.dumps({"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
                                    "properties": {"metrics": [[NAMESPACE, "Errors", "Service", "api"]],
                                                   "period": 60, "stat": "Sum", "region": REGION}}]})
    assert cw.put_dashboard(DashboardName="e2e-ops", DashboardBody=body)["DashboardValidationMessages"] == []
    got = cw.get_dashboard(DashboardName="e2e-ops")
    assert got["DashboardBody"] == body
    assert got["DashboardArn"] == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/e2e-ops"
    entries = cw.list_dashboards(DashboardNamePrefix="e2e-")["DashboardEntries"]
    assert [e["DashboardName"] for e in entries] == ["e2e-ops"]
    assert entries[0]["Size"] == len(body)

    with pytest.raises(cw.exceptions.DashboardInvalidInputError) as e:
        cw.put_dashboard(DashboardName="e2e-ops", DashboardBody="not json")
    assert e.value.response["Error"]["Message"] == "The field DashboardBody must be a valid JSON object"
    with pytest.raises(ClientError) as e:
        cw.put_dashboard(DashboardName="e2e-ops", DashboardBody=json.dumps({"widgets": [{"type": "text"}]}))
    assert e.value.response["Error"]["Code"] == "InvalidParameterInput"
    paths = [m["DataPath"] for m in e.value.response["dashboardValidationMessages"]]
    assert paths == ["/widgets/0"]

    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.get_dashboard(DashboardName="e2e-missing")
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.delete_dashboards(DashboardNames=["e2e-ops", "e2e-missing"])
    cw.delete_dashboards(DashboardNames=["e2e-ops"])
    assert cw.list_dashboards(DashboardNamePrefix="e2e-")["DashboardEntries"] == []


def test_aws_cli_v1_alarms_and_dashboards(cw_server, tmp_path):
    env = os.environ.copy()
    env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_PAGER": ""})

    def run(*args: str):
        cmd = [*aws_command(), "--endpoint-url", cw_server.endpoint, "--output", "json", "cloudwatch", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    assert run("put-metric-alarm", "--cli-input-json", json.dumps(alarm_args("cli-alarm", "Cli"))) is None
    alarms = run("describe-alarms", "--alarm-names", "cli-alarm")["MetricAlarms"]
    assert alarms[0]["StateValue"] == "INSUFFICIENT_DATA"
    body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                    "properties": {"markdown": "# hello"}}]})
    assert run("put-dashboard", "--dashboard-name", "cli-dash",
               "--dashboard-body", body)["DashboardValidationMessages"] == []
    assert run("get-dashboard", "--dashboard-name", "cli-dash")["DashboardBody"] == body
    names = [d["DashboardName"] for d in run("list-dashboards")["DashboardEntries"]]
    assert "cli-dash" in names
