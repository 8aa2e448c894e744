"""The web console in headless Chromium (Debian's `chromium`, driven by Playwright): each page
against resources made with boto3, asserting on what the page shows, with a screenshot of each
in target/console-screenshots/ (CI keeps them). Also the console's HTTP surface: `/`,
`/console/<asset>` and `/metrics`.

Pages that read CloudWatch (charts, alarms, dashboards) are checked when the server's
CloudWatch API answers; until then those tests skip saying so."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import time
import urllib.parse
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from kutil import REGION, REPO_ROOT, unique

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", REPO_ROOT / "target" / "console-screenshots"))
# Long enough for the console's 7 s poll plus a slow CI machine; only an upper bound.
WAIT_MS = 45_000
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
MAX_HASH = str(2**128 - 1)


def client(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 2}, read_timeout=120, connect_timeout=5))


def wait_for(pred, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def get(endpoint: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    u = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def cloudwatch_answers(cw) -> bool:
    """Whether the server's CloudWatch API implements the calls the console makes."""
    try:
        cw.get_metric_data(MetricDataQueries=[{"Id": "a", "Expression": "TIME_SERIES(1)"}],
                           StartTime=time.time() - 600, EndTime=time.time())
        cw.describe_alarms(MaxRecords=1)
        cw.list_dashboards()
        return True
    except ClientError as e:
        return e.response["Error"]["Code"] not in ("UnknownOperationException", "NotImplemented",
                                                   "InvalidAction")


# ---- the HTTP surface (no browser needed) ----

def test_the_root_serves_the_console_and_assets_revalidate(endpoint):
    status, headers, body = get(endpoint, "/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert b"/console/app.js" in body
    status, headers, body = get(endpoint, "/console/app.js", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-type"].startswith("text/javascript")
    assert headers["content-encoding"] == "gzip"
    status, _, _ = get(endpoint, "/console/app.js", {"If-None-Match": headers["etag"]})
    assert status == 304
    assert get(endpoint, "/console/nope.js")[0] == 404
    _, _, full = get(endpoint, "/console/style.css")
    status, headers, body = get(endpoint, "/console/style.css", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(full))


def test_metrics_are_served_as_prometheus_text(endpoint):
    status, headers, _ = get(endpoint, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")


def test_a_signed_s3_request_for_a_bucket_named_console_still_reaches_s3(endpoint):
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket="console")
    s3.put_object(Bucket="console", Key="k", Body=b"in s3")
    assert s3.get_object(Bucket="console", Key="k")["Body"].read() == b"in s3"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="console")["Contents"]] == ["k"]


# ---- the pages, in Chromium ----

@pytest.fixture
def real_cloudwatch(endpoint):
    """Skips (before a browser page is opened) unless the server's CloudWatch API answers."""
    if not cloudwatch_answers(client("cloudwatch", endpoint)):
        pytest.skip("the server's CloudWatch API does not answer GetMetricData, DescribeAlarms "
                    "and ListDashboards yet")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (tests/e2e/requirements.txt)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser, endpoint, request):
    from playwright.sync_api import expect
    expect.set_options(timeout=WAIT_MS)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.base = endpoint  # type: ignore[attr-defined]
    yield pg
    pg.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_overview_counts_what_exists(page, endpoint):
    from playwright.sync_api import expect
    kin = client("kinesis", endpoint)
    name = unique("console-overview")
    kin.create_stream(StreamName=name, ShardCount=1)
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    page.goto(f"{endpoint}/#/")
    cards = page.get_by_test_id("counts")
    expect(cards).to_contain_text("Streams")
    count = len(kin.list_streams(Limit=10000)["StreamNames"])
    expect(cards.locator("a.card", has_text="Streams").first.locator(".n")).to_have_text(str(count))


def test_the_stream_list_pages_and_filters_hundreds_of_streams(page, endpoint):
    from playwright.sync_api import expect
    kin = client("kinesis", endpoint)
    prefix = unique("many")
    names = [f"{prefix}-{i:03d}" for i in range(60)]
    for n in names:
        kin.create_stream(StreamName=n, ShardCount=1)
    page.goto(f"{endpoint}/#/streams")
    page.get_by_label("Filter streams").fill(prefix)
    expect(page.get_by_text("60 of ")).to_be_visible()
    table = page.get_by_test_id("streams")
    expect(table).to_contain_text(names[0])
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    page.get_by_role("button", name="Next ›").click()
    expect(table).to_contain_text(names[59])
    expect(table.locator("tbody tr")).to_have_count(10)
    shot(page, "streams-list")


def test_stream_detail_shows_shards_hash_ranges_and_lineage(page, endpoint):
    from playwright.sync_api import expect
    kin = client("kinesis", endpoint)
    name = unique("console-detail")
    kin.create_stream(StreamName=name, ShardCount=1)
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    kin.put_records(StreamName=name, Records=[{"Data": b"x" * 100, "PartitionKey": str(i)} for i in range(20)])
    kin.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    wait_for(lambda: kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
             ["StreamStatus"] == "ACTIVE", "the reshard")
    shards = kin.list_shards(StreamName=name)["Shards"]
    children = [s for s in shards if s.get("ParentShardId")]
    assert children, shards
    page.goto(f"{endpoint}/#/streams/{name}")
    table = page.get_by_test_id("shards")
    for s in shards:
        expect(table).to_contain_text(s["ShardId"])
    expect(table).to_contain_text(MAX_HASH)
    expect(table).to_contain_text("CLOSED")
    parent = children[0]["ParentShardId"]
    row = table.locator("tbody tr", has_text=children[0]["ShardId"]).first
    expect(row).to_contain_text(parent)
    expect(table.locator(".hashbar")).to_have_count(len(shards))
    expect(page.get_by_test_id("consumers")).to_contain_text("No enhanced fan-out consumers")


def test_stream_charts_draw_the_incoming_records(real_cloudwatch, page, endpoint):
    from playwright.sync_api import expect
    kin = client("kinesis", endpoint)
    name = unique("console-chart")
    kin.create_stream(StreamName=name, ShardCount=1)
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    kin.put_records(StreamName=name, Records=[{"Data": b"y", "PartitionKey": str(i)} for i in range(50)])
    cw = client("cloudwatch", endpoint)
    query = [{"Id": "m", "MetricStat": {"Metric": {"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords",
              "Dimensions": [{"Name": "StreamName", "Value": name}]}, "Period": 60, "Stat": "Sum"}}]
    wait_for(lambda: cw.get_metric_data(MetricDataQueries=query, StartTime=time.time() - 3600,
                                        EndTime=time.time() + 60)["MetricDataResults"][0]["Values"],
             "IncomingRecords in CloudWatch")
    page.goto(f"{endpoint}/#/streams/{name}")
    incoming = page.get_by_test_id("chart").filter(has_text="Incoming records").first
    expect(incoming.locator("canvas")).to_have_count(1)
    assert int(incoming.get_attribute("data-points") or 0) > 0


def test_queues_show_their_depth(page, endpoint):
    from playwright.sync_api import expect
    sqs = client("sqs", endpoint)
    name = unique("console-q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for i in range(7):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    page.goto(f"{endpoint}/#/queues")
    page.get_by_label("Filter queues").fill(name)
    row = page.get_by_test_id("queues").locator("tbody tr", has_text=name)
    expect(row.locator("td").nth(2)).to_have_text("7")
    row.get_by_role("link", name=name).click()
    expect(page.get_by_test_id("queue-attributes")).to_contain_text("Visible messages7")


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, body in files.items():
            z.writestr(n, body)
    return buf.getvalue()


def test_a_function_page_tails_its_logs(page, endpoint):
    from playwright.sync_api import expect
    lam = client("lambda", endpoint)
    name = unique("console-fn")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                        Handler="lambda_function.lambda_handler",
                        Code={"ZipFile": zip_of({"lambda_function.py":
                              "def lambda_handler(event, context):\n"
                              "    print('console-marker', event['n'])\n"
                              "    return event\n"})})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    lam.invoke(FunctionName=name, Payload=json.dumps({"n": 1}))
    page.goto(f"{endpoint}/#/functions")
    expect(page.get_by_test_id("functions")).to_contain_text(name)
    page.get_by_role("link", name=name).click()
    logs = page.get_by_test_id("function-logs")
    expect(logs).to_contain_text("console-marker 1")
    # Live: a later invocation appears without reloading.
    lam.invoke(FunctionName=name, Payload=json.dumps({"n": 2}))
    expect(logs).to_contain_text("console-marker 2")


def test_the_log_viewer_filters_by_pattern(page, endpoint):
    from playwright.sync_api import expect
    logs = client("logs", endpoint)
    group = unique("/console/app")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now - 3000, "message": "INFO started"},
        {"timestamp": now - 2000, "message": "ERROR disk full <b>not bold</b>"},
        {"timestamp": now - 1000, "message": "INFO still fine"},
    ])
    page.goto(f"{endpoint}/#/logs/{urllib.parse.quote(group, safe='')}")
    events = page.get_by_test_id("log-events")
    expect(events).to_contain_text("INFO still fine")
    page.get_by_label("Filter pattern").fill("ERROR")
    page.get_by_role("button", name="Filter").click()
    expect(events.get_by_test_id("log-line")).to_have_count(1)
    expect(events).to_contain_text("ERROR disk full <b>not bold</b>")
    assert events.locator("b").count() == 0  # API text is never markup
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": int(time.time() * 1000), "message": "ERROR tail works"}])
    expect(events).to_contain_text("ERROR tail works")
    expect(events.get_by_test_id("log-line")).to_have_count(2)


def test_a_delivery_stream_page_shows_its_config_and_delivered_objects(page, endpoint):
    from playwright.sync_api import expect
    fh, s3 = client("firehose", endpoint), client("s3", endpoint)
    bucket = unique("console-fh")[:40].lower().replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    name = unique("console-fh")
    fh.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "events/", "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
        })
    wait_for(lambda: fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
             ["DeliveryStreamStatus"] == "ACTIVE", "the delivery stream")
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"{}\n"} for _ in range(10)])
    key = wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])],
                   "a delivered object")[0]
    page.goto(f"{endpoint}/#/firehose")
    expect(page.get_by_test_id("delivery-streams")).to_contain_text(name)
    page.get_by_role("link", name=name).click()
    expect(page.locator("main")).to_contain_text(f"arn:aws:s3:::{bucket}")
    expect(page.locator("main")).to_contain_text("events/")
    expect(page.get_by_test_id("objects")).to_contain_text(key)


def test_alarms_show_state_reason_and_history(real_cloudwatch, page, endpoint):
    from playwright.sync_api import expect
    cw = client("cloudwatch", endpoint)
    name = unique("console-alarm")
    cw.put_metric_alarm(AlarmName=name, Namespace="Console/Test", MetricName="Load", Statistic="Average",
                        Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    # Data over the threshold keeps it in ALARM after the next evaluation too.
    cw.put_metric_data(Namespace="Console/Test", MetricData=[{"MetricName": "Load", "Value": 9.0}])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="console test says ALARM")
    page.goto(f"{endpoint}/#/alarms")
    row = page.get_by_test_id("alarms").locator("tbody tr", has_text=name)
    expect(row.locator(".badge")).to_have_text("ALARM")
    expect(row).to_contain_text(re.compile("console test says ALARM|Threshold Crossed"))
    row.get_by_role("link", name=name).click()
    expect(page.get_by_test_id("alarm-history")).to_contain_text("ALARM")
    page.goto(f"{endpoint}/#/")
    expect(page.get_by_test_id("alarming")).to_contain_text(name)


def test_dashboards_render_their_widgets(real_cloudwatch, page, endpoint):
    from playwright.sync_api import expect
    cw = client("cloudwatch", endpoint)
    host = unique("host")
    cw.put_metric_data(Namespace="Console/Test", MetricData=[
        {"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": host}], "Value": v,
         "Timestamp": time.time() - 60 * i} for i, v in enumerate([3, 5, 8])])
    name = unique("console-dash")
    body = {"widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
         "properties": {"markdown": "# Ops board\nSee **this** <script>alert(1)</script>"}},
        {"type": "metric", "x": 0, "y": 2, "width": 12, "height": 6,
         "properties": {"title": "Requests per host", "region": REGION, "stat": "Sum", "period": 60,
                        "metrics": [["Console/Test", "Requests", "Host", host, {"id": "m1"}],
                                    [{"expression": "m1 * 2", "label": "Doubled", "id": "e1"}]]}},
    ]}
    cw.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    page.goto(f"{endpoint}/#/dashboards")
    page.get_by_role("link", name=name).click()
    dash = page.get_by_test_id("dashboard")
    expect(dash.locator("h1", has_text="Ops board")).to_be_visible()
    expect(dash).to_contain_text("<script>alert(1)</script>")
    expect(dash.locator("strong", has_text="this")).to_be_visible()
    chart = dash.get_by_test_id("chart").filter(has_text="Requests per host")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_contain_text("Doubled")


def test_every_page_loads_without_script_errors(page, endpoint):
    from playwright.sync_api import expect
    for route, heading in [("firehose", "Delivery streams"), ("functions", "Functions"),
                           ("queues", "Queues"), ("alarms", "Alarms"), ("dashboards", "Dashboards"),
                           ("logs", "Logs"), ("nowhere", "Not found")]:
        page.goto(f"{endpoint}/#/{route}")
        expect(page.locator("main h1")).to_have_text(heading)
        shot(page, f"page-{route}")


def test_charts_markdown_and_dashboard_queries_work_in_the_browser(page, endpoint):
    """The console's own modules in Chromium, without CloudWatch: uPlot draws a series,
    Markdown keeps markup as text and drops script links, and dashboard metric rows become
    GetMetricData queries ("." repeats, ids prefixed, expressions rewritten)."""
    from playwright.sync_api import expect
    page.goto(f"{endpoint}/#/nowhere")
    queries = page.evaluate("""async () => {
      const { chart } = await import('/console/chart.js');
      const { markdown } = await import('/console/markdown.js');
      const { widgetQueries } = await import('/console/pages/dashboards.js');
      const main = document.querySelector('main');
      const c = chart('Synthetic', [{ label: 'a', timestamps: [60, 120, 180], values: [1, 5, 2] }]);
      c.id = 'synthetic';
      main.prepend(c);
      const md = markdown('# Title\\n<img src=x onerror=alert(1)> **bold** [bad](javascript:alert(1)) [ok](https://example.com)');
      md.id = 'md';
      main.prepend(md);
      return widgetQueries({ stat: 'Sum', metrics: [
        ['AWS/Kinesis', 'IncomingRecords', 'StreamName', 'a', { id: 'm1' }],
        ['.', '.', '.', 'b'],
        [{ expression: 'm1 + m1', label: 'Twice', id: 'e1' }],
      ] }, 'w0_', 60);
    }""")
    expect(page.locator("#synthetic canvas")).to_have_count(1)
    assert page.locator("#synthetic").get_attribute("data-points") == "3"
    md = page.locator("#md")
    expect(md.locator("h1")).to_have_text("Title")
    expect(md).to_contain_text("<img src=x onerror=alert(1)>")
    assert md.locator("img").count() == 0
    expect(md.locator("strong")).to_have_text("bold")
    assert md.get_by_role("link", name="bad").get_attribute("href") == "#"
    assert md.get_by_role("link", name="ok").get_attribute("href") == "https://example.com/"
    assert [q["Id"] for q in queries] == ["w0_m1", "w0_auto1", "w0_e1"]
    first, second, expr = queries
    assert first["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "StreamName", "Value": "a"}]
    assert second["MetricStat"]["Metric"]["MetricName"] == "IncomingRecords"
    assert second["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "StreamName", "Value": "b"}]
    assert second["MetricStat"]["Stat"] == "Sum"
    assert expr["Expression"] == "w0_m1 + w0_m1"
    assert expr["Label"] == "Twice"


def test_insights_results_become_tables_series_and_bars_in_the_browser(page, endpoint):
    """insights.js without a server: dashboards' `SOURCE` prefixes split into log groups,
    GetQueryResults rows become one chart series per group value, and bar views size by the
    first numeric field."""
    from playwright.sync_api import expect
    page.goto(f"{endpoint}/#/nowhere")
    got = page.evaluate("""async () => {
      const ins = await import('/console/insights.js');
      const cell = (field, value) => ({ field, value });
      const stats = ins.rowsOf([
        [cell('bin(1m)', '2026-12-06 10:01:00.000'), cell('level', 'error'), cell('n', '2')],
        [cell('bin(1m)', '2026-12-06 10:00:00.000'), cell('level', 'error'), cell('n', '1')],
        [cell('bin(1m)', '2026-12-06 10:00:00.000'), cell('level', 'info'), cell('n', '7')],
      ]);
      const main = document.querySelector('main');
      const bars = ins.render({ status: 'Complete', statistics: {}, ...ins.rowsOf([
        [cell('level', 'info'), cell('count(*)', '8')], [cell('level', 'error'), cell('count(*)', '2')]]) },
        { view: 'bar', title: 'By level' });
      bars.id = 'bars';
      main.prepend(bars);
      const plain = ins.render({ status: 'Complete', statistics: { recordsMatched: 1, recordsScanned: 3 },
        ...ins.rowsOf([[cell('@timestamp', '2026-12-06 10:00:00.000'), cell('@message', '<b>hi</b>'), cell('@ptr', 'p')]]) });
      plain.id = 'plain';
      main.prepend(plain);
      return {
        split: [ins.splitSource("SOURCE '/aws/lambda/a' | SOURCE \\"b c\\" | fields @message | limit 5"),
                ins.splitSource("SOURCE 'only'")],
        series: ins.seriesOf(stats),
        none: ins.seriesOf(ins.rowsOf([[cell('level', 'x'), cell('n', '1')]])),
      };
    }""")
    assert got["split"] == [{"groups": ["/aws/lambda/a", "b c"], "query": "fields @message | limit 5"},
                            {"groups": ["only"], "query": "fields @timestamp, @message"}]
    by_label = {s["label"]: s for s in got["series"]}
    assert set(by_label) == {"error", "info"}
    assert by_label["error"]["values"] == [1, 2]
    assert by_label["error"]["timestamps"][1] - by_label["error"]["timestamps"][0] == 60
    assert got["none"] is None
    bars = page.locator("#bars")
    expect(bars.locator(".barrow")).to_have_count(2)
    assert bars.locator(".barrow").first.locator(".bar").get_attribute("style") == "width: 100%;"
    plain = page.locator("#plain")
    expect(plain.locator("th")).to_have_text(["@timestamp", "@message"])
    expect(plain.locator("td").nth(1)).to_have_text("<b>hi</b>")
    expect(plain.get_by_test_id("insights-status")).to_contain_text("1 of 3 records matched")


def test_log_widgets_and_the_logs_page_run_insights_queries(real_cloudwatch, page, endpoint):
    from playwright.sync_api import expect
    logs = client("logs", endpoint)
    group = unique("/console/insights")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    levels = ["info"] * 5 + ["error"] * 3
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 1000 * (len(levels) - i), "message": json.dumps({"level": lv, "n": i})}
        for i, lv in enumerate(levels)])
    name = unique("console-logdash")
    source = f"SOURCE '{group}'"
    body = {"widgets": [
        {"type": "log", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "Recent errors", "region": REGION, "view": "table",
            "query": f"{source} | fields @timestamp, @message\n| filter level = 'error'\n| sort @timestamp desc\n| limit 20"}},
        {"type": "log", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "By level", "region": REGION, "view": "bar",
            "query": f"{source} | stats count(*) as events by level"}},
        {"type": "log", "x": 0, "y": 6, "width": 24, "height": 6, "properties": {
            "title": "Events per minute", "region": REGION, "view": "timeSeries",
            "query": f"{source} | stats count(*) as events by bin(1m)"}},
    ]}
    boto_cw = client("cloudwatch", endpoint)
    boto_cw.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    page.goto(f"{endpoint}/#/dashboards/{urllib.parse.quote(name)}")
    widgets = page.get_by_test_id("log-widget")
    expect(widgets).to_have_count(3)
    errors_table = widgets.nth(0).get_by_test_id("insights-table")
    expect(errors_table.locator("tbody tr")).to_have_count(3)
    expect(errors_table).to_contain_text('"level": "error"')
    expect(errors_table).not_to_contain_text('"level": "info"')
    bars = widgets.nth(1).get_by_test_id("insights-bars")
    expect(bars.locator(".barrow", has_text="info")).to_contain_text("5")
    expect(bars.locator(".barrow", has_text="error")).to_contain_text("3")
    chart = widgets.nth(2).get_by_test_id("insights-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    assert int(chart.get_attribute("data-points")) >= 1
    shot(page, "dashboard-log-widgets")

    page.goto(f"{endpoint}/#/logs/{urllib.parse.quote(group, safe='')}")
    box = page.get_by_label("Logs Insights query")
    box.fill("fields level, n | filter n >= 6 | sort n asc")
    page.get_by_role("button", name="Run query").click()
    result = page.get_by_test_id("insights-result").get_by_test_id("insights-table")
    expect(result.locator("tbody tr")).to_have_count(2)
    expect(result.locator("tbody tr").first).to_contain_text("error")
    expect(page.get_by_test_id("insights-status")).to_contain_text("Complete")
    shot(page, "logs-insights")


def fake_cloudwatch(page) -> list[dict]:
    """Answers the console's CloudWatch calls in the browser with AWS's documented JSON 1.0
    shapes (the other services stay real), so the alarm and dashboard pages are checked
    whatever the server's CloudWatch implements. Returns the GetMetricData requests seen."""
    now = time.time()
    seen: list[dict] = []
    body = {"widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
         "properties": {"markdown": "## Fake board\nAll *good* <i>here</i>"}},
        {"type": "metric", "x": 0, "y": 2, "width": 12, "height": 6,
         "properties": {"title": "CPU of web-1", "stat": "Average", "period": 60,
                        "metrics": [["AWS/EC2", "CPUUtilization", "InstanceId", "i-1"]]}},
        {"type": "metric", "x": 12, "y": 2, "width": 12, "height": 6,
         "properties": {"title": "Errors doubled",
                        "metrics": [["App", "Errors", {"id": "m1", "visible": False}],
                                    [{"expression": "m1 * 2", "id": "e1", "label": "Twice the errors"}]]}},
        {"type": "metric", "x": 0, "y": 8, "width": 6, "height": 3,
         "properties": {"title": "Queue depth now", "view": "singleValue",
                        "metrics": [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "jobs"]]}},
        {"type": "alarm", "x": 6, "y": 8, "width": 6, "height": 3,
         "properties": {"title": "Alarm states", "alarms": ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high"]}},
    ]}

    def answer(route, request):
        target = request.headers.get("x-amz-target", "")
        if not target.startswith("GraniteServiceVersion20100801."):
            route.continue_()
            return
        op = target.split(".", 1)[1]
        req = json.loads(request.post_data or "{}")
        if op == "DescribeAlarms":
            out = {"MetricAlarms": [{
                "AlarmName": "cpu-high", "StateValue": "ALARM", "Namespace": "AWS/EC2",
                "StateReason": "Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0).",
                "MetricName": "CPUUtilization", "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1,
                "Threshold": 5.0, "ComparisonOperator": "GreaterThanThreshold", "StateUpdatedTimestamp": now}],
                "CompositeAlarms": []}
        elif op == "DescribeAlarmHistory":
            out = {"AlarmHistoryItems": [{"AlarmName": "cpu-high", "Timestamp": now, "HistoryItemType": "StateUpdate",
                                          "HistorySummary": "Alarm updated from OK to ALARM"}]}
        elif op == "ListDashboards":
            out = {"DashboardEntries": [{"DashboardName": "ops", "Size": 300, "LastModified": now}]}
        elif op == "GetDashboard":
            out = {"DashboardName": "ops", "DashboardBody": json.dumps(body)}
        elif op == "GetMetricData":
            seen.append(req)
            out = {"MetricDataResults": [
                {"Id": q["Id"], "Label": q.get("Label") or q["Id"], "StatusCode": "Complete",
                 "Timestamps": [now - 120, now - 60, now], "Values": [1.0, 4.0, 2.0]}
                for q in req["MetricDataQueries"] if q.get("ReturnData", True)]}
        else:
            out = {}
        route.fulfill(status=200, content_type="application/x-amz-json-1.0", body=json.dumps(out))

    page.route("**/", answer)
    return seen


def test_alarm_pages_render_aws_response_shapes(page, endpoint):
    from playwright.sync_api import expect
    fake_cloudwatch(page)
    page.goto(f"{endpoint}/#/")
    expect(page.get_by_test_id("alarming")).to_contain_text("cpu-high")
    expect(page.get_by_test_id("counts").locator("a.card", has_text="Alarms in ALARM").locator(".n")).to_have_text("1")
    page.goto(f"{endpoint}/#/alarms/cpu-high")
    row = page.get_by_test_id("alarms").locator("tbody tr", has_text="cpu-high")
    expect(row).to_contain_text("ALARM")
    expect(row).to_contain_text("Average AWS/EC2/CPUUtilization > 5 for 1 × 60s")
    expect(row).to_contain_text("Threshold Crossed")
    expect(page.get_by_test_id("alarm-history")).to_contain_text("Alarm updated from OK to ALARM")
    shot(page, "alarms-fake")


def test_dashboard_pages_render_widgets_on_the_grid(page, endpoint):
    from playwright.sync_api import expect
    seen = fake_cloudwatch(page)
    page.goto(f"{endpoint}/#/dashboards")
    page.get_by_role("link", name="ops").click()
    dash = page.get_by_test_id("dashboard")
    expect(dash.locator("h2", has_text="Fake board")).to_be_visible()
    expect(dash.locator("em")).to_have_text("good")
    expect(dash).to_contain_text("<i>here</i>")
    cpu = dash.get_by_test_id("chart").filter(has_text="CPU of web-1")
    expect(cpu.locator("canvas")).to_have_count(1)
    doubled = dash.get_by_test_id("chart").filter(has_text="Errors doubled")
    expect(doubled.locator("canvas")).to_have_count(1)
    expect(doubled).to_contain_text("Twice the errors")
    # Both widgets' queries went in one GetMetricData call, ids prefixed per widget.
    queries = seen[-1]["MetricDataQueries"]
    assert [q["Id"] for q in queries] == ["w1_auto0", "w2_m1", "w2_e1", "w3_auto0"]
    single = dash.get_by_test_id("widget").filter(has_text="Queue depth now")
    expect(single.locator(".card .n")).to_have_text("2")
    alarm = dash.get_by_test_id("widget").filter(has_text="Alarm states")
    expect(alarm).to_contain_text("ALARM cpu-high")
    assert queries[2]["Expression"] == "w2_m1 * 2"
    assert queries[1]["ReturnData"] is False
    # Side by side on the 24-column grid: the second metric widget starts halfway across.
    boxes = [dash.get_by_test_id("widget").nth(i).bounding_box() for i in range(3)]
    assert abs(boxes[1]["y"] - boxes[2]["y"]) < 2
    assert boxes[2]["x"] > boxes[1]["x"] + boxes[1]["width"] * 0.9
    assert boxes[0]["width"] > boxes[1]["width"] * 1.9
    shot(page, "dashboard-fake")


def test_stream_detail_charts_draw_what_get_metric_data_answers(page, endpoint):
    from playwright.sync_api import expect
    kin = client("kinesis", endpoint)
    name = unique("console-fakecharts")
    kin.create_stream(StreamName=name, ShardCount=1)
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    seen = fake_cloudwatch(page)
    page.goto(f"{endpoint}/#/streams/{name}")
    charts = page.get_by_test_id("chart")
    for title in ["Incoming records", "Incoming bytes", "Iterator age", "Throttled requests"]:
        expect(charts.filter(has_text=title).locator("canvas")).to_have_count(1)
    metrics = {q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"]["Stat"]
               for q in seen[-1]["MetricDataQueries"]}
    assert metrics["GetRecords.IteratorAgeMilliseconds"] == "Maximum"
    assert metrics["IncomingRecords"] == "Sum"
    dims = seen[-1]["MetricDataQueries"][0]["MetricStat"]["Metric"]["Dimensions"]
    assert dims == [{"Name": "StreamName", "Value": name}]
