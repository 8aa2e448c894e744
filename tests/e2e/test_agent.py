"""`freshet agent` end to end: the Kinesis Agent's agent.json against a real server.

Files are written under the test's tmp dir; the agent runs as its own process (`--once` where
the test only needs "everything there is, sent and checkpointed", long-running where files
change while it runs), and what arrived is read back with boto3.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import fhutil
import kutil


def agent_json(tmp: Path, endpoint: str, flows: list[dict], **globals_) -> Path:
    conf = {
        "kinesis.endpoint": endpoint,
        "firehose.endpoint": endpoint,
        "cloudwatch.endpoint": endpoint,
        "cloudwatch.emitMetrics": False,
        "checkpointFile": str(tmp / "checkpoints"),
        "log.statusReportingPeriodSeconds": 1,
        "flows": flows,
    }
    conf.update(globals_)
    path = tmp / "agent.json"
    path.write_text(json.dumps(conf))
    return path


def flow(pattern: Path, stream: str, **kw) -> dict:
    f = {"filePattern": str(pattern), "kinesisStream": stream, "initialPosition": "START_OF_FILE",
         "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 20}
    f.update(kw)
    return f


def run_once(config: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(kutil.freshet_bin()), "agent", "-c", str(config), "--once"],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "RUST_LOG": "info"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def start(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(kutil.freshet_bin()), "agent", "-c", str(config)],
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"),  # noqa: SIM115
                            env={**os.environ, "RUST_LOG": "info"})


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> int:
    proc.send_signal(sig)
    return proc.wait(60)


def stream_data(kinesis, name: str) -> list[str]:
    """Every record of every shard (each shard in order)."""
    out: list[str] = []
    for shard in kutil.list_all_shards(kinesis, name):
        out += [r["Data"].decode() for r in kutil.read_shard(kinesis, name, shard["ShardId"])]
    return out


def wait_for_count(kinesis, name: str, want: int, deadline_s: float = 90) -> list[str]:
    end = time.monotonic() + deadline_s
    while True:
        got = stream_data(kinesis, name)
        if len(got) >= want or time.monotonic() > end:
            return got
        time.sleep(0.3)


def lines(prefix: str, n: int, start: int = 0) -> list[str]:
    return [f"{prefix},{i},{'x' * 20}\n" for i in range(start, start + n)]


def append(path: Path, rows: list[str]) -> None:
    with open(path, "a") as f:
        f.write("".join(rows))


def test_a_csv_file_reaches_the_stream_once_and_in_order(tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    rows = lines("trip", 1500)
    append(data / "taxi.csv", ["vendor,id,pad\n", *rows])
    cfg = agent_json(tmp_path, endpoint, [flow(data / "*.csv", stream_name, skipHeaderLines=1)])
    proc = run_once(cfg)
    assert stream_data(kinesis, stream_name) == rows
    assert "Agent: Progress: 1500 records parsed" in proc.stderr
    assert "1500 records sent successfully to destinations" in proc.stderr
    # Everything was checkpointed: a second run sends nothing.
    run_once(cfg)
    assert len(stream_data(kinesis, stream_name)) == 1500


def test_a_delivery_stream_receives_every_line(tmp_path, endpoint):
    fh = fhutil.client("firehose", endpoint)
    s3 = fhutil.client("s3", endpoint)
    bucket = fhutil.new_bucket(s3, "agent")
    name = kutil.unique("agent-fh")
    fhutil.create_stream(fh, name, fhutil.s3_destination(bucket))
    data = tmp_path / "data"
    data.mkdir()
    rows = lines("fh", 700)
    append(data / "app.log", rows)
    f = flow(data / "app.log", "", aggregatedRecordSizeBytes=4096)
    del f["kinesisStream"]
    f["deliveryStream"] = name
    run_once(agent_json(tmp_path, endpoint, [f]))
    got = fhutil.wait_for_lines(s3, bucket, 700)
    delivered = [line.decode() for v in got.values() for line in v]
    assert sorted(delivered) == sorted(r.rstrip("\n") for r in rows)


def test_rename_and_copytruncate_rotation_while_writing_lose_and_repeat_nothing(
        tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 2)
    data = tmp_path / "data"
    data.mkdir()
    live = data / "app.log"
    live.touch()
    cfg = agent_json(tmp_path, endpoint, [flow(data / "app.log*", stream_name)])
    agent = start(cfg, tmp_path / "agent.log")
    try:
        expected: list[str] = []
        for batch in range(12):
            rows = lines(f"b{batch}", 50)
            append(live, rows)
            expected += rows
            time.sleep(0.05)
            if batch == 4:  # logrotate's default: rename, recreate
                live.rename(data / "app.log.1")
                live.touch()
            if batch == 8:  # copytruncate
                shutil.copy(live, data / "app.log.2")
                with open(live, "r+") as f:
                    f.truncate(0)
        got = wait_for_count(kinesis, stream_name, len(expected))
    finally:
        assert stop(agent) == 0
    counts = Counter(got)
    assert sorted(counts) == sorted(expected), (tmp_path / "agent.log").read_text()[-3000:]
    assert max(counts.values()) == 1


def test_a_file_created_later_is_picked_up(tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    append(data / "a.log", lines("a", 10))
    agent = start(agent_json(tmp_path, endpoint, [flow(data / "*.log", stream_name)]),
                  tmp_path / "agent.log")
    try:
        assert len(wait_for_count(kinesis, stream_name, 10)) == 10
        append(data / "b.log", lines("b", 20))
        got = wait_for_count(kinesis, stream_name, 30)
    finally:
        assert stop(agent) == 0
    assert sorted(got) == sorted(lines("a", 10) + lines("b", 20))


def test_a_graceful_stop_mid_file_resumes_without_gaps_or_duplicates(
        tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    rows = lines("g", 20_000)
    append(data / "big.log", rows)
    cfg = agent_json(tmp_path, endpoint, [flow(data / "big.log", stream_name,
                                               maxBufferSizeRecords=50)])
    agent = start(cfg, tmp_path / "agent.log")
    wait_for_count(kinesis, stream_name, 500)
    assert stop(agent, signal.SIGTERM) == 0
    partial = len(stream_data(kinesis, stream_name))
    run_once(cfg)
    got = stream_data(kinesis, stream_name)
    assert got == rows, f"first run sent {partial}; now {len(got)}"


def test_after_sigkill_every_line_arrives_and_only_in_flight_buffers_repeat(
        tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    rows = lines("k", 20_000)
    append(data / "big.log", rows)
    cfg = agent_json(tmp_path, endpoint, [flow(data / "big.log", stream_name,
                                               maxBufferSizeRecords=50)])
    agent = start(cfg, tmp_path / "agent.log")
    wait_for_count(kinesis, stream_name, 500)
    stop(agent, signal.SIGKILL)
    run_once(cfg)
    got = stream_data(kinesis, stream_name)
    counts = Counter(got)
    assert set(counts) == set(rows)
    duplicates = sum(c - 1 for c in counts.values())
    # The buffer being sent plus those acknowledged during one checkpoint write.
    assert duplicates <= 5 * 50, duplicates
    # Per file order holds apart from the repeated stretch.
    assert [r for i, r in enumerate(got) if counts[r] == 1 or got.index(r) == i] == rows


def test_throttling_is_retried_until_every_line_arrives(tmp_path):
    srv = kutil.FreshetServer(tmp_path / "srv", tmp_path / "srv.log", extra_args=["--shard-quotas"])
    srv.start()
    try:
        # Reads are throttled too (5 GetRecords/s per shard): let the reader retry.
        kinesis = kutil.kinesis_client(srv.endpoint, max_attempts=20)
        name = kutil.unique("agent-throttle")
        kutil.create_stream(kinesis, name, 1)
        data = tmp_path / "data"
        data.mkdir()
        # 3000 records of ~1 KiB: over both shard limits (1000 records/s, 1 MiB/s).
        rows = [f"{i},{'t' * 1000}\n" for i in range(3000)]
        append(data / "fast.log", rows)
        proc = run_once(agent_json(tmp_path, srv.endpoint, [flow(data / "fast.log", name)]))
        got = stream_data(kinesis, name)
        assert sorted(set(got)) == sorted(rows), proc.stderr[-2000:]
    finally:
        srv.stop()


def test_the_agent_runs_inside_serve_and_its_metrics_reach_cloudwatch(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    name = kutil.unique("agent-serve")
    cfg = agent_json(tmp_path, "http://unused.invalid", [flow(data / "*.log", name)],
                     **{"cloudwatch.emitMetrics": True})
    srv = kutil.FreshetServer(tmp_path / "srv", tmp_path / "srv.log",
                              extra_env={"FRESHET__AGENT__CONFIG": str(cfg)})
    srv.start()
    try:
        kinesis = kutil.kinesis_client(srv.endpoint)
        rows = lines("s", 100)
        append(data / "app.log", rows)
        # The stream appears after the agent started: it waits for it rather than dropping.
        kutil.create_stream(kinesis, name, 1)
        got = wait_for_count(kinesis, name, 100)
        assert got == rows, srv.log_tail(30)
        cw = fhutil.client("cloudwatch", srv.endpoint)
        dims = [{"Name": "Destination", "Value": f"KinesisStream:{name}"}]

        def sent():
            pts = cw.get_metric_statistics(
                Namespace="AWSKinesisAgent", MetricName="RecordsSent", Dimensions=dims,
                StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60,
                Statistics=["Sum"])["Datapoints"]
            total = sum(p["Sum"] for p in pts)
            return total if total >= 100 else None

        assert fhutil.poll(sent, deadline_s=30) == 100
    finally:
        srv.stop()
    assert (tmp_path / "checkpoints").exists()


def test_standalone_metrics_are_published_to_cloudwatch(tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    append(data / "m.log", lines("m", 40))
    run_once(agent_json(tmp_path, endpoint, [flow(data / "m.log", stream_name)],
                        **{"cloudwatch.emitMetrics": True,
                           "cloudwatch.metricsBufferTimeMillis": 1000}))
    cw = fhutil.client("cloudwatch", endpoint)
    dims = [{"Name": "Destination", "Value": f"KinesisStream:{stream_name}"}]
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWSKinesisAgent",
                                                      Dimensions=dims)["Metrics"]}
    assert {"BytesSent", "RecordSendAttempts", "RecordsSent"} <= names
    pts = cw.get_metric_statistics(Namespace="AWSKinesisAgent", MetricName="RecordsSent",
                                   Dimensions=dims, StartTime=time.time() - 600,
                                   EndTime=time.time() + 60, Period=60,
                                   Statistics=["Sum"])["Datapoints"]
    assert sum(p["Sum"] for p in pts) == 40


def test_a_bad_configuration_names_the_flow_and_the_key(tmp_path, endpoint):
    cfg = agent_json(tmp_path, endpoint, [{"filePattern": "/tmp/x.log", "kinesisStream": "s",
                                           "maxBufferAgeMillis": 5}])
    proc = subprocess.run([str(kutil.freshet_bin()), "agent", "-c", str(cfg), "--once"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "flows[0] (kinesis:s:/tmp/x.log): maxBufferAgeMillis is 5" in proc.stderr


def test_unsupported_keys_are_warned_about_by_name(tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    append(data / "w.log", lines("w", 3))
    cfg = agent_json(tmp_path, endpoint, [flow(data / "w.log", stream_name,
                                               publishQueueCapacity=10)],
                     **{"cloudwatch.tagInstance": True, "assumeRoleARN": "arn:aws:iam::1:role/r"})
    err = run_once(cfg).stderr
    for key in ("publishQueueCapacity", "cloudwatch.tagInstance", "assumeRoleARN"):
        assert key in err
    assert len(stream_data(kinesis, stream_name)) == 3


def test_csv_lines_become_json_records_with_csvtojson(tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    append(data / "trips.csv", ["vendor_id,fare\n", "1,12.5\n", "2,7\n"])
    f = flow(data / "trips.csv", stream_name, skipHeaderLines=1, dataProcessingOptions=[
        {"optionName": "CSVTOJSON", "customFieldNames": ["vendor_id", "fare"]}])
    run_once(agent_json(tmp_path, endpoint, [f]))
    got = [json.loads(r) for r in stream_data(kinesis, stream_name)]
    assert got == [{"vendor_id": "1", "fare": "12.5"}, {"vendor_id": "2", "fare": "7"}]


def test_logtojson_drops_unparsable_lines_and_addmetadata_wraps_records(
        tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    good = '64.242.88.10 - - [07/Mar/2004:16:05:49 -0800] "GET /x HTTP/1.1" 401 12846\n'
    append(data / "access.log", [good, "not an apache line\n", good])
    f = flow(data / "access.log", stream_name, dataProcessingOptions=[
        {"optionName": "LOGTOJSON", "logFormat": "COMMONAPACHELOG"},
        {"optionName": "ADDMETADATA", "metadata": {"env": "test"}, "timestamp": "false"}])
    cfg = agent_json(tmp_path, endpoint, [f])
    run_once(cfg)
    got = [json.loads(r) for r in stream_data(kinesis, stream_name)]
    assert len(got) == 2
    for doc in got:
        assert doc["metadata"] == {"env": "test"}
        inner = doc["data"] if isinstance(doc["data"], dict) else json.loads(doc["data"])
        assert inner["host"] == "64.242.88.10" and inner["response"] == "401"
    # The dropped line counted as read: nothing is sent again.
    run_once(cfg)
    assert len(stream_data(kinesis, stream_name)) == 2


def test_the_endpoint_flag_replaces_every_endpoint_of_agent_json(
        tmp_path, kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    data = tmp_path / "data"
    data.mkdir()
    append(data / "e.log", lines("e", 5))
    cfg = agent_json(tmp_path, "http://127.0.0.1:9", [flow(data / "e.log", stream_name)])
    proc = subprocess.run([str(kutil.freshet_bin()), "agent", "-c", str(cfg), "--once",
                           "--endpoint", endpoint], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert stream_data(kinesis, stream_name) == lines("e", 5)
