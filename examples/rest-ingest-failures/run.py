#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""REST ingest (the API Gateway Kinesis proxy) -> Kinesis stream -> function -> SQS failure
queue (the mapping's on-failure destination), with CloudWatch alarms on the function's Errors
and on the failure queue.

Sets the pipeline up on a running Freshet, sends good and bad orders through the REST API,
and checks that every good order was processed, that the invocation record of each bad one
(and only those) arrived in the failure queue, and that both alarms went to ALARM and
notified the alerts queue. See README.md.
"""

from __future__ import annotations

import json
import sys
import urllib.error
from pathlib import Path

# The examples are run from a clone: leave no __pycache__ in it.
sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from exampleutil import (Run, SetupFailed, arguments, create_mapping, create_stream,  # noqa: E402
                         deploy_function, fill, log_messages, main)
from send_orders import put_record, put_records  # noqa: E402

STAGE = "test"


def new_queue(run: Run, base: str) -> tuple[str, str, str]:
    """A queue deleted at the end: (name, URL, ARN)."""
    sqs = run.client("sqs")
    name = run.name(base)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    run.on_cleanup(f"queue {name}", lambda: sqs.delete_queue(QueueUrl=url))
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return name, url, arn


def drain(run: Run, url: str, into: list[dict]) -> list[dict]:
    """Receives (and deletes) what `url` holds now, adding the parsed bodies to `into`."""
    sqs = run.client("sqs")
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for m in out.get("Messages", []):
        into.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return into


def record_at(run: Run, stream: str, shard: str, sequence_number: str) -> bytes | None:
    """The data of the record at `sequence_number`, as a consumer reads it."""
    kinesis = run.client("kinesis")
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=sequence_number)["ShardIterator"]
    records = kinesis.get_records(ShardIterator=it, Limit=1)["Records"]
    return records[0]["Data"] if records else None


def sequence_number(answer: dict) -> str:
    """PutRecord's SequenceNumber. API Gateway answers 200 whatever Kinesis said (the
    tutorial maps no error responses), so an error is a 200 with Kinesis's error body."""
    if "SequenceNumber" not in answer:
        raise SetupFailed(f"the REST API's PutRecord answered {answer}")
    return answer["SequenceNumber"]


def parse_json(data: bytes | None):
    try:
        return json.loads(data or b"")
    except ValueError:
        return data


def pipeline(run: Run) -> None:
    cw = run.client("cloudwatch")
    api = f"{run.endpoint}/restapis/kinesis/{STAGE}"
    stream, stream_arn = create_stream(run, "rest-orders")
    failures, failures_url, failures_arn = new_queue(run, "order-failures")
    _, alerts_url, alerts_arn = new_queue(run, "order-alerts")
    function, _ = deploy_function(run, "rest-orders-consumer", HERE / "consumer", "python3.12",
                                  "lambda_function.lambda_handler")
    alarms = fill((HERE / "alarms.json").read_text(), FUNCTION=function, QUEUE=failures,
                  ALERTS_QUEUE_ARN=alerts_arn)
    for alarm in alarms:
        cw.put_metric_alarm(**alarm)
    names = [a["AlarmName"] for a in alarms]
    run.on_cleanup("alarms", lambda: cw.delete_alarms(AlarmNames=names))
    create_mapping(run, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10,
                   BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
                   DestinationConfig={"OnFailure": {"Destination": failures_arn}})

    # Good orders in two PutRecords calls; two bad ones with PutRecord, whose mapping template
    # stores the JSON text of Data: the string below arrives with its quotes.
    good = [{"orderId": f"order-{i}", "amount": 10 + i} for i in range(run.args.count)]
    half = len(good) // 2
    bad = [{"orderId": "bad-1", "amount": -5}, "not an order"]
    try:
        answers = [put_records(api, stream,
                               [(json.dumps(o), o["orderId"]) for o in good[:half]])]
        bad_seqs = {sequence_number(put_record(api, stream, bad[0], "bad")): bad[0]}
        answers.append(put_records(api, stream,
                                   [(json.dumps(o), o["orderId"]) for o in good[half:]]))
        bad_seqs[sequence_number(put_record(api, stream, bad[1], "bad"))] = bad[1]
    except urllib.error.HTTPError as e:
        raise SetupFailed(f"the REST API answered {e.code} {e.read()[:300]!r} ({e.url})") \
            from None
    except urllib.error.URLError as e:
        raise SetupFailed(f"the REST API at {api} did not answer: {e.reason}") from None
    run.check([a.get("FailedRecordCount") for a in answers] == [0, 0]
              and sum(len(a["Records"]) for a in answers) == len(good) and len(bad_seqs) == 2,
              "the REST API took every order (PutRecords and PutRecord answers)",
              json.dumps(answers)[:300])
    print(f"  sent {len(good)} good and {len(bad)} bad orders through {api}", flush=True)

    def accepted() -> set[str]:
        return {m.split("Accepted order ", 1)[1].strip()
                for m in log_messages(run, function, '"Accepted order"')}

    got = run.wait_until(accepted, lambda g: len(g) >= len(good), "every good order")
    want = {o["orderId"] for o in good}
    run.check(got == want, f"the function processed all {len(good)} good orders",
              f"missing {sorted(want - got)[:5]}")

    docs: list[dict] = []
    run.wait_until(lambda: drain(run, failures_url, docs), lambda d: len(d) >= len(bad),
                   "the invocation records in the failure queue")
    infos = [d.get("KinesisBatchInfo", {}) for d in docs]
    failed_seqs = {i.get("startSequenceNumber") for i in infos}
    run.check(len(docs) == len(bad) and failed_seqs == set(bad_seqs)
              and all(i.get("batchSize") == 1 and i.get("streamArn") == stream_arn
                      for i in infos),
              f"the failure queue got one invocation record per bad order ({len(bad)}), "
              f"each for that record alone",
              f"{len(docs)} records: {json.dumps(infos)[:300]}")
    run.check(all(d.get("requestContext", {}).get("condition") == "RetryAttemptsExhausted"
                  for d in docs), "their condition is RetryAttemptsExhausted")
    stored = {s: record_at(run, stream, i["shardId"], s) for i in infos
              if (s := i.get("startSequenceNumber")) in bad_seqs}
    run.check({s: parse_json(d) for s, d in stored.items()} == bad_seqs,
              "the records they point at are the bad orders, each the JSON text of its Data "
              "(the tutorial's mapping template)", f"{stored}")

    notified: list[dict] = []
    states = run.wait_until(
        lambda: (drain(run, alerts_url, notified),
                 {a["AlarmName"]: a["StateValue"]
                  for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]})[1],
        lambda s: all(v == "ALARM" for v in s.values()), "the alarms to go to ALARM")
    run.check(all(states.get(n) == "ALARM" for n in names),
              f"the alarms {', '.join(names)} are in ALARM", json.dumps(states))
    run.wait_until(lambda: drain(run, alerts_url, notified),
                   lambda n: {x.get("AlarmName") for x in n} >= set(names),
                   "the alarm notifications", timeout=30)
    alerted = {x.get("AlarmName") for x in notified if x.get("NewStateValue") == "ALARM"}
    run.check(alerted == set(names), "the alerts queue got both alarms' ALARM notifications",
              f"got {sorted(alerted)}")


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0], count=20)
    main(pipeline, "Example: REST ingest -> stream -> function -> SQS failure queue + alarms",
         parser)
