"""Kinesis event source mappings against the real binary, one test per mapping field, each
showing the field honoured (not just stored) through what a deployed handler received.

Handlers are written as AWS's documentation and blueprints write them (kinesis-process-record:
decode base64, print each record; the ReportBatchItemFailures and tumbling-window examples),
deployed from zips with boto3. They print the event they received, so every test reads the
invocations back from the function's CloudWatch Logs (see `esm.py`). Records are JSON orders
`{"k": <key>, "i": <n>}`; a record that is not JSON makes the blueprint handler raise.

The MaximumRecordAgeInSeconds test is last: AWS's minimum age is 60 s, so its records are put
when the module starts and have aged while the other tests ran.
"""

from __future__ import annotations

import ast
import json
import math
import re
import time
import uuid as uuidlib
from collections import Counter
from datetime import datetime, timezone

import pytest
from esm import (ROLE, calls, calls_at_least, create_mapping, deploy_fn, iso_ms, lambda_client,
                 logs_client, new_queue, new_stream, payloads, put, receive_all, sqs_client,
                 wait_for)

from kutil import ACCOUNT, REGION, kinesis_client

SHARD0 = "shardId-000000000000"

# AWS's example of a Kinesis consumer (Python), with the event printed first so the test sees
# each batch, and "every record is an order, as JSON" as the interesting work.
PY_KINESIS = '''
import base64
import json

print('Loading function')


def lambda_handler(event, context):
    print("Received event: " + json.dumps(event))
    for record in event['Records']:
        try:
            print(f"Processed Kinesis Event - EventID: {record['eventID']}")
            record_data = base64.b64decode(record['kinesis']['data']).decode('utf-8')
            print(f"Record Data: {record_data}")
            # TODO: Do interesting work based on the new data
            json.loads(record_data)
        except Exception as e:
            print(f"An error occurred {e}")
            raise e
    print(f"Successfully processed {len(event['Records'])} records.")
'''

# AWS's ReportBatchItemFailures example for Kinesis (Python); an order marked "flaky" fails the
# first time it is processed.
PY_REPORT_FAILURES = '''
import base64
import json
import os

MARKER = os.environ["FAILED_ONCE"]


def process(record):
    order = json.loads(base64.b64decode(record["kinesis"]["data"]))
    if order.get("flaky") and not os.path.exists(MARKER):
        open(MARKER, "w").close()
        raise RuntimeError("flaky order " + str(order["i"]))


def handler(event, context):
    print("Received event: " + json.dumps(event))
    records = event.get("Records")
    curRecordSequenceNumber = ""
    for record in records:
        try:
            # Process your record
            curRecordSequenceNumber = record["kinesis"]["sequenceNumber"]
            process(record)
        except Exception as e:
            # Return failed record's sequence number
            print(f"Returning failed record {curRecordSequenceNumber}: {e}")
            return {"batchItemFailures":[{"itemIdentifier": curRecordSequenceNumber}]}

    print(f"Successfully processed {len(records)} records.")
    return {"batchItemFailures":[]}
'''

# AWS's tumbling-window example (Python): counts records per partition key in the state.
PY_TUMBLING = '''
import json


def lambda_handler(event, context):
    print('Received event: ' + json.dumps(event))
    print('Incoming state: ', event['state'])
    # Check if this is the end of the window to either aggregate or process.
    if event['isFinalInvokeForWindow']:
        # logic to handle final state of the window
        print('Destination invoke')
    else:
        print('Aggregate invoke')
    # Check for early terminations
    if event['isWindowTerminatedEarly']:
        print('Window terminated early')
    # Aggregation logic
    state = event['state']
    for record in event['Records']:
        state[record['kinesis']['partitionKey']] = state.get(record['kinesis']['partitionKey'], 0) + 1
    print('Returning state: ', state)
    return {'state': state}
'''

# AWS's ReportBatchItemFailures example for Kinesis (Node.js), the "Received event" line added.
NODE_KINESIS = '''
exports.handler = async (event, context) => {
  console.log(`Received event: ${JSON.stringify(event)}`);
  for (const record of event.Records) {
    try {
      console.log(`Processed Kinesis Event - EventID: ${record.eventID}`);
      const recordData = await getRecordDataAsync(record.kinesis);
      console.log(`Record Data: ${recordData}`);
      // TODO: Do interesting work based on the new data
      JSON.parse(recordData);
    } catch (err) {
      console.error(`An error occurred ${err}`);
      /* Since we are working with streams, we can return the failed item immediately.
            Lambda will immediately begin to retry processing from this failed item onwards. */
      return {
        batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }],
      };
    }
  }
  console.log(`Successfully processed ${event.Records.length} records.`);
  return { batchItemFailures: [] };
};

async function getRecordDataAsync(payload) {
  var data = Buffer.from(payload.data, "base64").toString("utf-8");
  await Promise.resolve(1); //Placeholder for actual async work
  return data;
}
'''


def order(i: int, key: str = "k", **extra) -> bytes:
    return json.dumps({"k": key, "i": i, **extra}).encode()


@pytest.fixture(scope="module")
def kin(endpoint):
    return kinesis_client(endpoint)


@pytest.fixture(scope="module")
def lam(endpoint):
    return lambda_client(endpoint)


@pytest.fixture(scope="module")
def logs(endpoint):
    return logs_client(endpoint)


@pytest.fixture(scope="module")
def sqs(endpoint):
    return sqs_client(endpoint)


@pytest.fixture(scope="module", autouse=True)
def aged(kin):
    """Records put as the module starts, for the MaximumRecordAgeInSeconds test at its end."""
    name, arn = new_stream(kin, "aged")
    seqs = put(kin, name, [("k", order(i)) for i in range(3)])
    return {"name": name, "arn": arn, "seqs": seqs, "put_at": time.time()}


def ok_calls(logs, fn: str, n: int) -> list:
    """Waits until the successful invocations of `fn` hold `n` records; returns every call."""
    def enough():
        cs = calls(logs, fn)
        return cs if sum(len(c.records) for c in cs if not c.failed) >= n else None

    return wait_for(enough, f"{n} records processed by {fn}")


def seqs_of(cs) -> list[list[str]]:
    return [[r["kinesis"]["sequenceNumber"] for r in c.records] for c in cs]


def arrivals(kin, stream: str) -> dict[str, datetime]:
    shard_it = kin.get_shard_iterator(StreamName=stream, ShardId=SHARD0,
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = kin.get_records(ShardIterator=shard_it)["Records"]
    return {r["SequenceNumber"]: r["ApproximateArrivalTimestamp"] for r in recs}


def test_trim_horizon_delivers_the_backlog_in_batches_of_at_most_batch_size(kin, lam, logs):
    name, arn = new_stream(kin, "batch")
    seqs = put(kin, name, [(f"key-{i % 2}", order(i, f"key-{i % 2}")) for i in range(7)])
    fn = deploy_fn(lam, "batch", {"lambda_function.py": PY_KINESIS})
    created = create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=3)
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "User action"
    assert created["LastProcessingResult"] == "No records processed"
    assert (created["BatchSize"], created["StartingPosition"]) == (3, "TRIM_HORIZON")

    cs = ok_calls(logs, fn, 7)
    assert not any(c.failed for c in cs)
    assert all(1 <= len(c.records) <= 3 for c in cs), [len(c.records) for c in cs]
    assert [s for batch in seqs_of(cs) for s in batch] == seqs
    assert cs[0].printed("Record Data: ") == [
        order(i, f"key-{i % 2}").decode() for i in range(len(cs[0].records))]

    # The event is exactly AWS's.
    first = cs[0].records[0]
    assert set(first) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                          "invokeIdentityArn", "awsRegion", "eventSourceARN"}
    assert first["eventID"] == f"{SHARD0}:{seqs[0]}"
    assert (first["eventSource"], first["eventVersion"], first["eventName"]) == (
        "aws:kinesis", "1.0", "aws:kinesis:record")
    assert (first["invokeIdentityArn"], first["awsRegion"], first["eventSourceARN"]) == (
        ROLE, REGION, arn)
    k = first["kinesis"]
    assert set(k) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                      "approximateArrivalTimestamp"}
    assert (k["kinesisSchemaVersion"], k["partitionKey"], k["sequenceNumber"]) == (
        "1.0", "key-0", seqs[0])
    assert isinstance(k["approximateArrivalTimestamp"], float)
    assert iso_ms(k["approximateArrivalTimestamp"]) == iso_ms(arrivals(kin, name)[seqs[0]])


def test_a_batching_window_gathers_records_put_one_by_one(kin, lam, logs):
    name, arn = new_stream(kin, "window")
    fn = deploy_fn(lam, "window", {"lambda_function.py": PY_KINESIS})
    create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=100,
                   MaximumBatchingWindowInSeconds=2)
    seqs = [kin.put_record(StreamName=name, PartitionKey="k", Data=order(i))["SequenceNumber"]
            for i in range(5)]
    cs = ok_calls(logs, fn, 5)
    assert [s for batch in seqs_of(cs) for s in batch] == seqs
    assert len(cs) < 5, f"5 records put one by one came in {len(cs)} invocations"


def test_latest_skips_what_was_put_before_the_mapping(kin, lam, logs):
    name, arn = new_stream(kin, "latest")
    put(kin, name, [("k", order(i)) for i in range(3)])
    fn = deploy_fn(lam, "latest", {"lambda_function.py": PY_KINESIS})
    create_mapping(lam, fn, arn, StartingPosition="LATEST")
    after = put(kin, name, [("k", order(i)) for i in range(3, 6)])
    cs = ok_calls(logs, fn, 3)
    assert [s for batch in seqs_of(cs) for s in batch] == after


def test_at_timestamp_starts_at_the_first_record_at_or_after_the_timestamp(kin, lam, logs):
    name, arn = new_stream(kin, "at-ts")
    put(kin, name, [("k", order(i)) for i in range(3)])
    # boto3 sends StartingPositionTimestamp in whole seconds: start at the next one.
    t = math.floor(time.time()) + 1
    wait_for(lambda: time.time() >= t + 0.05, "the next second", timeout=5, every=0.02)
    after = put(kin, name, [("k", order(i)) for i in range(3, 6)])
    fn = deploy_fn(lam, "at-ts", {"lambda_function.py": PY_KINESIS})
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=datetime.fromtimestamp(t + 3600, tz=timezone.utc))
    created = create_mapping(lam, fn, arn, StartingPosition="AT_TIMESTAMP",
                             StartingPositionTimestamp=datetime.fromtimestamp(t, tz=timezone.utc))
    assert created["StartingPositionTimestamp"].timestamp() == t
    cs = ok_calls(logs, fn, 3)
    assert [s for batch in seqs_of(cs) for s in batch] == after


def test_parallelization_runs_a_shards_batches_concurrently_keeping_each_keys_order(
        kin, lam, logs):
    name, arn = new_stream(kin, "parallel")
    keys = [f"user-{n}" for n in range(8)]
    put(kin, name, [(key, order(i, key)) for i in range(5) for key in keys])
    fn = deploy_fn(lam, "parallel", {"lambda_function.py": PY_KINESIS})
    create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=3,
                   ParallelizationFactor=4)
    cs = ok_calls(logs, fn, 40)
    assert sorted((p["k"], p["i"]) for p in payloads(cs)) == sorted(
        (key, i) for key in keys for i in range(5)), "every record exactly once"
    for key in keys:
        mine = [(c, [p["i"] for p in payloads([c]) if p["k"] == key]) for c in cs]
        mine = [(c, order_seen) for c, order_seen in mine if order_seen]
        assert [i for _, seen in mine for i in seen] == list(range(5)), key
        for (a, _), (b, _) in zip(mine, mine[1:]):
            assert a.end_ms <= b.start_ms, f"{key}: batches overlapped"
    # One shard, several batches at once: more than one execution environment (log stream).
    assert len({c.stream for c in cs}) > 1


def test_bisect_isolates_a_poison_record_and_sends_only_it_to_the_destination(
        kin, lam, logs, sqs):
    name, arn = new_stream(kin, "bisect")
    data = [order(i) for i in range(8)]
    data[5] = b"not json: poison"
    seqs = put(kin, name, [("k", d) for d in data])
    dlq_url, dlq_arn = new_queue(sqs, "bisect-dlq")
    fn = deploy_fn(lam, "bisect", {"lambda_function.py": PY_KINESIS})
    create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=8,
                   BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
                   DestinationConfig={"OnFailure": {"Destination": dlq_arn}})
    doc = json.loads(receive_all(sqs, dlq_url, 1)[0]["Body"])
    info = doc["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        seqs[5], seqs[5], 1)
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"

    cs = ok_calls(logs, fn, 7)
    # Halved until the poison is alone, which then gets its one retry.
    assert [len(c.records) for c in cs if c.failed] == [8, 4, 2, 1, 1]
    assert all(seqs[5] in s for s, c in zip(seqs_of(cs), cs) if c.failed)
    assert [p["i"] for p in payloads(cs)] == [0, 1, 2, 3, 4, 6, 7]


def test_retries_exhausted_send_aws_invocation_record_to_the_queue_and_move_on(
        kin, lam, logs, sqs):
    name, arn = new_stream(kin, "retries")
    seqs = put(kin, name, [("k", order(0)), ("k", b"not json"), ("k", order(2))])
    dlq_url, dlq_arn = new_queue(sqs, "retries-dlq")
    fn = deploy_fn(lam, "retries", {"lambda_function.py": PY_KINESIS})
    created = create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=3,
                             MaximumRetryAttempts=2,
                             DestinationConfig={"OnFailure": {"Destination": dlq_arn}})
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": dlq_arn}}
    assert created["MaximumRetryAttempts"] == 2
    msg = receive_all(sqs, dlq_url, 1)[0]
    received_at = time.time()
    doc = json.loads(msg["Body"])

    assert set(doc) == {"requestContext", "responseContext", "version", "timestamp",
                        "KinesisBatchInfo"}
    req = doc["requestContext"]
    assert set(req) == {"requestId", "functionArn", "condition", "approximateInvokeCount"}
    assert str(uuidlib.UUID(req["requestId"])) == req["requestId"]
    assert req["functionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    assert (req["condition"], req["approximateInvokeCount"]) == ("RetryAttemptsExhausted", 3)
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                      "functionError": "Unhandled"}
    assert doc["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["timestamp"])
    written = datetime.strptime(doc["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()
    at = arrivals(kin, name)
    assert at[seqs[2]].timestamp() - 0.001 <= written <= received_at
    assert doc["KinesisBatchInfo"] == {
        "shardId": SHARD0,
        "startSequenceNumber": seqs[0],
        "endSequenceNumber": seqs[2],
        "approximateArrivalOfFirstRecord": iso_ms(at[seqs[0]]),
        "approximateArrivalOfLastRecord": iso_ms(at[seqs[2]]),
        "batchSize": 3,
        "streamArn": arn,
    }
    failed = [c for c in calls(logs, fn) if c.failed]
    assert seqs_of(failed) == [seqs] * 3
    uuid = created["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == (
        "PROBLEM: Function call failed")

    # The shard is not blocked: the next record is processed.
    nxt = put(kin, name, [("k", order(3))])
    cs = ok_calls(logs, fn, 1)
    assert seqs_of([c for c in cs if not c.failed]) == [nxt]
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK",
             "LastProcessingResult OK")


def test_report_batch_item_failures_restarts_from_the_reported_record(
        kin, lam, logs, tmp_path):
    name, arn = new_stream(kin, "partial")
    seqs = put(kin, name, [("k", order(i, flaky=(i == 3))) for i in range(6)])
    fn = deploy_fn(lam, "partial", {"lambda_function.py": PY_REPORT_FAILURES},
                   handler="lambda_function.handler",
                   Environment={"Variables": {"FAILED_ONCE": str(tmp_path / "failed-once")}})
    created = create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=10,
                             FunctionResponseTypes=["ReportBatchItemFailures"])
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    calls_at_least(logs, fn, 2)
    last = put(kin, name, [("k", order(6))])
    cs = calls_at_least(logs, fn, 3)
    assert seqs_of(cs) == [seqs, seqs[3:], last]


def test_a_node_handler_reports_a_failed_item_until_its_retries_run_out(kin, lam, logs):
    name, arn = new_stream(kin, "node")
    data = [order(i) for i in range(5)]
    data[2] = b"not json"
    seqs = put(kin, name, [("k", d) for d in data])
    fn = deploy_fn(lam, "node", {"index.js": NODE_KINESIS}, runtime="nodejs20.x",
                   handler="index.handler")
    create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON",
                   FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1)
    calls_at_least(logs, fn, 2)
    last = put(kin, name, [("k", order(5))])
    cs = calls_at_least(logs, fn, 3)
    # Retried from the failed record once, then given up (no destination) and passed.
    assert seqs_of(cs) == [seqs, seqs[2:], last]
    assert cs[0].printed("Processed Kinesis Event - EventID: ") == [
        f"{SHARD0}:{s}" for s in seqs[:3]]
    assert cs[0].printed("Record Data: ") == [d.decode() for d in data[:3]]
    assert cs[2].printed("Record Data: ") == [order(5).decode()]


def test_tumbling_windows_carry_state_and_end_with_a_final_invocation(kin, lam, logs):
    name, arn = new_stream(kin, "tumbling")
    fn = deploy_fn(lam, "tumbling", {"lambda_function.py": PY_TUMBLING})
    created = create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON", BatchSize=2,
                             TumblingWindowInSeconds=2)
    assert created["TumblingWindowInSeconds"] == 2
    seqs = put(kin, name, [("ab"[i % 2], order(i, "ab"[i % 2])) for i in range(6)])

    def windows():
        by_window: dict[str, list] = {}
        for c in calls(logs, fn):
            by_window.setdefault(c.event()["window"]["start"], []).append(c)
        done = sum(len(c.records) for cs in by_window.values() for c in cs) == 6 and all(
            cs[-1].event()["isFinalInvokeForWindow"] for cs in by_window.values())
        return by_window if done else None

    by_window = wait_for(windows, "every window's final invocation")
    # Six records in batches of two: some window got several invocations before its final one.
    assert max(len(cs) for cs in by_window.values()) >= 3
    assert [s for cs in by_window.values() for s in sum(seqs_of(cs), [])] == seqs
    for start, cs in by_window.items():
        events = [c.event() for c in cs]
        returned = [ast.literal_eval(c.printed("Returning state: ")[0].strip()) for c in cs]
        assert events[0]["state"] == {}
        for e, prev in zip(events[1:], returned):
            assert e["state"] == prev, "state carried to the next invocation of the window"
        assert [e["isFinalInvokeForWindow"] for e in events] == [False] * (len(cs) - 1) + [True]
        assert not any(e["isWindowTerminatedEarly"] for e in events)
        keys = Counter(r["kinesis"]["partitionKey"] for e in events for r in e["Records"])
        assert returned[-1] == dict(keys)
        w0 = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        for e in events:
            assert (e["shardId"], e["eventSourceARN"]) == (SHARD0, arn)
            w1 = datetime.strptime(e["window"]["end"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=timezone.utc)
            assert (w1 - w0).total_seconds() == 2
            for r in e["Records"]:
                assert w0.timestamp() <= r["kinesis"]["approximateArrivalTimestamp"] < (
                    w1.timestamp())


def test_filter_criteria_pass_matching_json_records_only(kin, lam, logs):
    name, arn = new_stream(kin, "filter")
    put(kin, name, [
        ("k", order(0, kind="order")),
        ("k", order(1, kind="refund", amount=500)),
        ("k", order(2, kind="refund", amount=5)),
        ("k", b"plain text, not JSON"),
        ("k", order(4, kind="Order")),
        ("k", order(5, kind="order")),
    ])
    filters = [{"Pattern": json.dumps({"data": {"kind": ["order"]}})},
               {"Pattern": json.dumps({"data": {"amount": [{"numeric": [">", 100]}]}})}]
    fn = deploy_fn(lam, "filter", {"lambda_function.py": PY_KINESIS})
    created = create_mapping(lam, fn, arn, StartingPosition="TRIM_HORIZON",
                             FilterCriteria={"Filters": filters})
    assert created["FilterCriteria"] == {"Filters": filters}
    cs = ok_calls(logs, fn, 3)
    # The last record matched, so everything before it was either delivered or filtered out.
    assert [p["i"] for p in payloads(cs)] == [0, 1, 5]


def test_records_older_than_the_maximum_age_go_to_the_destination_uninvoked(
        aged, kin, lam, logs, sqs):
    # AWS's smallest MaximumRecordAgeInSeconds is 60: the module's first records are that old
    # by now, unless this test runs alone.
    wait_for(lambda: time.time() > aged["put_at"] + 61, "the records to age", timeout=70,
             every=0.5)
    dlq_url, dlq_arn = new_queue(sqs, "age-dlq")
    fn = deploy_fn(lam, "age", {"lambda_function.py": PY_KINESIS})
    created = create_mapping(lam, fn, aged["arn"], StartingPosition="TRIM_HORIZON",
                             MaximumRecordAgeInSeconds=60,
                             DestinationConfig={"OnFailure": {"Destination": dlq_arn}})
    assert created["MaximumRecordAgeInSeconds"] == 60
    fresh = put(kin, aged["name"], [("k", order(10))])
    doc = json.loads(receive_all(sqs, dlq_url, 1)[0]["Body"])
    assert doc["requestContext"]["condition"] == "RecordAgeExceeded"
    info = doc["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        aged["seqs"][0], aged["seqs"][-1], 3)
    cs = ok_calls(logs, fn, 1)
    assert seqs_of(cs) == [fresh], "aged records never reach the function"
