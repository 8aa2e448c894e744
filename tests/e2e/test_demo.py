"""`freshet demo`: each demo against a real server, read back with boto3 (and KPL aggregates
taken apart by AWS's own `aws-kinesis-agg`), a delivery stream target, `--write-file`, and
the errors a user sees for a missing stream or bad arguments."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import signal
import subprocess
import time

import pytest
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

import fhutil
import kutil

TLC_COLUMNS = (
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,"
    "RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,"
    "mta_tax,tip_amount,tolls_amount,improvement_surcharge,total_amount,congestion_surcharge"
).split(",")


def demo(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ.copy()
    env["FRESHET_ENDPOINT"] = endpoint
    return subprocess.run([str(kutil.freshet_bin()), "demo", *args], capture_output=True,
                          text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)


def demo_ok(endpoint: str, *args: str) -> str:
    proc = demo(endpoint, *args)
    assert proc.returncode == 0, f"freshet demo {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def read_stream(kinesis, stream: str) -> list[tuple[dict, dict]]:
    """Every record of every shard, with the shard it was read from."""
    out = []
    for shard in kutil.list_all_shards(kinesis, stream):
        for r in kutil.read_shard(kinesis, stream, shard["ShardId"]):
            out.append((shard, r))
    return out


def test_stock_trades_have_the_kinesis_tutorials_shape_and_keys(kinesis, endpoint, stream_name):
    out = demo_ok(endpoint, "stock-trades", "--stream", stream_name, "--create", "--shards", "2",
                  "--count", "300", "--seed", "7")
    assert f"sent 300 records to stream {stream_name}" in out, out
    assert "0 failed" in out and "put latency p50" in out and "seed 7" in out, out

    records = read_stream(kinesis, stream_name)
    assert len(records) == 300
    ids = []
    for _, r in records:
        trade = json.loads(r["Data"])
        assert list(trade) == ["tickerSymbol", "tradeType", "price", "quantity", "id"], trade
        assert r["PartitionKey"] == trade["tickerSymbol"]
        assert trade["tradeType"] in ("BUY", "SELL")
        assert 1 <= trade["quantity"] <= 10_000 and trade["price"] > 0
        ids.append(trade["id"])
    assert sorted(ids) == list(range(1, 301))


def test_a_seed_repeats_the_same_trades(tmp_path):
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"]
    for path, seed in zip(paths, ["11", "11", "12"]):
        demo_ok("http://127.0.0.1:1", "stock-trades", "--write-file", str(path), "--count", "100",
                "--seed", seed)
    a, b, c = (p.read_text() for p in paths)
    assert len(a.splitlines()) == 100
    assert a == b
    assert a != c


def test_firehose_demo_data_goes_to_a_delivery_stream_one_record_per_line(endpoint, stream_name):
    firehose = fhutil.client("firehose", endpoint)
    s3 = fhutil.client("s3", endpoint)
    bucket = fhutil.new_bucket(s3, "demo-fh")
    fhutil.create_stream(firehose, stream_name, fhutil.s3_destination(bucket))

    out = demo_ok(endpoint, "stock-trades", "--format", "firehose", "--delivery-stream",
                  stream_name, "--count", "200")
    assert f"sent 200 records to delivery stream {stream_name}" in out, out

    lines = [line for v in fhutil.wait_for_lines(s3, bucket, 200).values() for line in v]
    assert len(lines) == 200
    for line in lines:
        tick = json.loads(line)
        assert list(tick) == ["TICKER_SYMBOL", "SECTOR", "CHANGE", "PRICE"], tick
        assert tick["PRICE"] >= 0.01


def test_taxi_write_file_is_a_tlc_csv_with_its_header(tmp_path):
    path = tmp_path / "trips.csv"
    out = demo_ok("http://127.0.0.1:1", "taxi", "--write-file", str(path), "--count", "50")
    assert f"wrote 50 records to file {path}" in out, out
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == TLC_COLUMNS
    assert len(rows) == 51
    for row in rows[1:]:
        assert len(row) == len(TLC_COLUMNS)
        trip = dict(zip(TLC_COLUMNS, row))
        assert trip["tpep_pickup_datetime"] < trip["tpep_dropoff_datetime"]
        parts = ["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
                 "improvement_surcharge", "congestion_surcharge"]
        assert abs(sum(float(trip[p]) for p in parts) - float(trip["total_amount"])) < 0.015


def test_a_paced_taxi_run_sends_exactly_rate_times_duration_json_trips(kinesis, endpoint,
                                                                       stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    out = demo_ok(endpoint, "taxi", "--format", "json", "--stream", stream_name, "--rate", "200",
                  "--duration", "1s")
    assert f"sent 200 records to stream {stream_name}" in out, out
    records = read_stream(kinesis, stream_name)
    assert len(records) == 200
    for _, r in records:
        trip = json.loads(r["Data"])
        assert sorted(trip) == sorted(TLC_COLUMNS)
        assert r["PartitionKey"] == str(trip["PULocationID"])


def test_covid_patient_records(kinesis, endpoint, stream_name):
    demo_ok(endpoint, "covid", "--stream", stream_name, "--create", "--count", "120")
    records = read_stream(kinesis, stream_name)
    assert len(records) == 120
    for _, r in records:
        p = json.loads(r["Data"])
        assert r["PartitionKey"] == p["patient_id"]
        assert p["result"] in ("positive", "negative")
        assert p["sex"] in ("female", "male") and 0 <= p["age"] <= 99
        assert p["collected_at"] < p["reported_at"]
        assert not p["hospitalized"] or p["result"] == "positive"


def test_kpl_aggregates_deaggregate_to_the_flink_tutorials_records_on_their_shard(
        kinesis, endpoint, stream_name):
    out = demo_ok(endpoint, "kpl", "--stream", stream_name, "--create", "--shards", "3",
                  "--count", "2500", "--rate", "max")
    assert f"sent 2500 records to stream {stream_name}" in out and "KPL aggregated" in out, out

    records = read_stream(kinesis, stream_name)
    assert 1 < len(records) < 2500, "batches of user records share Kinesis records"
    users = 0
    for shard, r in records:
        lo, hi = kutil.shard_range(shard)
        for u in iter_deaggregate_records([r], data_format="Boto3"):
            k = u["kinesis"]
            assert k.get("aggregated"), "every Kinesis record is an aggregate"
            # The KCL drops a user record whose hash key lies outside its shard.
            assert lo <= int(k["explicitHashKey"]) <= hi
            event = json.loads(base64.b64decode(k["data"]))
            assert list(event) == ["EVENT_TIME", "TICKER", "PRICE"], event
            assert k["partitionKey"] == event["TICKER"]
            assert event["TICKER"] in ("AAPL", "AMZN", "MSFT", "INTC", "TBV")
            assert 0 <= event["PRICE"] <= 100
            assert len(event["EVENT_TIME"]) == len("2026-12-06T10:30:45.123456")
            users += 1
    assert users == 2500


def test_kpl_runs_at_100_records_a_second_by_default(kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 1)
    out = demo_ok(endpoint, "kpl", "--stream", stream_name, "--duration", "1s")
    assert "sent 100 records" in out, out


def test_ctrl_c_finishes_the_requests_in_flight_and_reports_what_was_stored(
        kinesis, endpoint, stream_name):
    kutil.create_stream(kinesis, stream_name, 2)
    env = {**os.environ, "FRESHET_ENDPOINT": endpoint}
    proc = subprocess.Popen([str(kutil.freshet_bin()), "demo", "covid", "--stream", stream_name,
                             "--rate", "500"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, stdin=subprocess.DEVNULL)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    m = re.search(r"^sent (\d+) records to stream ", out, re.M)
    assert m, out
    assert len(read_stream(kinesis, stream_name)) == int(m[1])


@pytest.fixture(scope="module")
def quota_endpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshet-demo-quotas")
    srv = kutil.FreshetServer(root / "data", root / "server.log", extra_args=["--shard-quotas"])
    srv.start()
    yield srv.endpoint
    srv.stop()


def test_throttled_entries_are_resent_until_every_record_is_stored(quota_endpoint, stream_name):
    kinesis = kutil.kinesis_client(quota_endpoint)
    kutil.create_stream(kinesis, stream_name, 1)
    # Four requests of 500 in flight at once pass a shard's burst of 1,000 records however
    # fast or slow this machine is, so some entries are refused and must be resent.
    out = demo_ok(quota_endpoint, "stock-trades", "--stream", stream_name, "--count", "4000")
    assert f"sent 4000 records to stream {stream_name}" in out, out
    retried = int(out.split(" retried")[0].rsplit(", ", 1)[1])
    assert retried > 0 and "0 failed" in out, out
    trades = [json.loads(r["Data"]) for _, r in read_stream(kinesis, stream_name)]
    assert sorted(t["id"] for t in trades) == list(range(1, 4001)), "each trade once"


def test_a_missing_stream_is_a_clear_error(endpoint, stream_name):
    proc = demo(endpoint, "stock-trades", "--stream", stream_name, "--count", "5")
    assert proc.returncode == 1, proc
    assert f"stream {stream_name} does not exist" in proc.stderr and "--create" in proc.stderr

    proc = demo(endpoint, "covid", "--delivery-stream", stream_name, "--count", "5")
    assert proc.returncode == 1, proc
    assert f"delivery stream {stream_name} does not exist" in proc.stderr, proc.stderr


def test_bad_arguments_are_usage_errors(endpoint, tmp_path):
    cases = [
        ["taxi", "--count", "5"],  # no target
        ["taxi", "--stream", "s", "--write-file", str(tmp_path / "f")],  # two targets
        ["taxi", "--stream", "s", "--rate", "fast"],
        ["taxi", "--stream", "s", "--format", "xml"],
        ["covid", "--delivery-stream", "d", "--create"],
        ["kpl", "--delivery-stream", "d", "--count", "5"],
    ]
    for args in cases:
        proc = demo(endpoint, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.strip(), args
