"""Helpers for the event source mapping tests: clients, streams, queues and mappings that wait
for their state, and the invocations a function's CloudWatch Logs show.

A mapping's handlers print what they received, as AWS's examples do; the tests read it back
from `/aws/lambda/<function>` through the Logs API, split at the runtime's START and END
lines, and count an invocation once the handler's closing line is in (`SETTLED`). Every wait
here is bounded by a deadline and polls; nothing sleeps a fixed time.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from test_lambda import ROLE, lambda_client, zip_of

from kutil import REGION, unique

__all__ = ["ROLE", "Call", "calls", "calls_at_least", "create_mapping", "deploy_fn", "iso_ms",
           "lambda_client", "logs_client", "new_queue", "new_stream", "payloads", "put",
           "receive_all", "sqs_client", "wait_for", "wait_state", "zip_of"]

DEADLINE = 60.0

# Lines that close an invocation of the tests' handlers: success, a Python exception (the
# runtime's "[ERROR] <Type>: <message>"), a Node console.error, an answer they print.
SETTLED = ("Successfully processed", "[ERROR]", "\tERROR\t", "Returning ")


def _config() -> Config:
    return Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5)


def logs_client(endpoint: str):
    return boto3.client("logs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x", config=_config())


def sqs_client(endpoint: str):
    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x", config=_config())


def wait_for(pred, what: str, timeout: float = DEADLINE, every: float = 0.1):
    """Polls `pred` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r:.400})")


# ---------------------------------------------------------------------------------------------
# Sources


def new_stream(kin, prefix: str, shards: int = 1) -> tuple[str, str]:
    """A new ACTIVE stream: (name, ARN)."""
    name = unique(prefix)
    kin.create_stream(StreamName=name, ShardCount=shards)

    def active():
        s = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        return s["StreamARN"] if s["StreamStatus"] == "ACTIVE" else None

    return name, wait_for(active, f"stream {name} to be ACTIVE", every=0.05)


def put(kin, stream: str, records: list[tuple[str, bytes]]) -> list[str]:
    """Puts (partition key, data) records in one PutRecords; returns their sequence numbers."""
    out = kin.put_records(StreamName=stream,
                          Records=[{"PartitionKey": k, "Data": d} for k, d in records])
    assert out["FailedRecordCount"] == 0, out
    return [r["SequenceNumber"] for r in out["Records"]]


def new_queue(sqs, prefix: str, **attributes: str) -> tuple[str, str]:
    """A new queue: (URL, ARN)."""
    url = sqs.create_queue(QueueName=unique(prefix), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return url, arn


def receive_all(sqs, url: str, count: int, timeout: float = DEADLINE) -> list[dict]:
    """Receives (and deletes) `count` messages, long-polling until the deadline."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"received {len(got)} of {count} messages from {url}"
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  WaitTimeSeconds=max(1, min(5, int(left))))
        for m in out.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


# ---------------------------------------------------------------------------------------------
# Functions and mappings


def deploy_fn(lam, prefix: str, files: dict[str, str], runtime: str = "python3.12",
              handler: str = "lambda_function.lambda_handler", **kw) -> str:
    """Deploys a function from a zip of `files` and waits until it is Active; returns its name."""
    name = unique(prefix)
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                        Code={"ZipFile": zip_of(files)}, **kw)
    wait_for(lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active",
             f"function {name} to be Active", every=0.05)
    return name


def wait_state(lam, uuid: str, state: str) -> dict:
    """Waits until mapping `uuid` is in `state`; returns its configuration."""
    def settled():
        conf = lam.get_event_source_mapping(UUID=uuid)
        return conf if conf["State"] == state else None

    return wait_for(settled, f"mapping {uuid} to be {state}", every=0.05)


def create_mapping(lam, function: str, source_arn: str, **kw) -> dict:
    """Creates a mapping and waits until it is Enabled; returns the CreateEventSourceMapping
    answer (State Creating)."""
    created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=source_arn,
                                              **kw)
    wait_state(lam, created["UUID"], "Enabled")
    return created


def iso_ms(ts: datetime | float) -> str:
    """`2019-11-14T00:38:06.021Z`, as on-failure records write times."""
    if isinstance(ts, datetime):
        ms = round(ts.timestamp() * 1000)
    else:
        ms = round(ts * 1000)
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# What the function's logs say


@dataclass
class Call:
    """One completed invocation, as its log stream shows it."""

    request_id: str
    stream: str
    start_ms: int
    end_ms: int = 0
    lines: list[str] = field(default_factory=list)

    def event(self) -> dict | None:
        """The event the handler printed ("Received event: <json>"), once its line is in."""
        for line in self.lines:
            at = line.find("Received event: ")
            if at >= 0:
                return json.loads(line[at + len("Received event: "):])
        return None

    @property
    def records(self) -> list[dict]:
        """The event's records ([] until the handler's line is in)."""
        e = self.event()
        return e["Records"] if e else []

    @property
    def settled(self) -> bool:
        """Whether the handler's last line is in (it printed its closing line or failed)."""
        return any(m in line for line in self.lines for m in SETTLED)

    @property
    def failed(self) -> bool:
        """Whether the handler raised (the runtime logs `[ERROR] <Type>: <message>`)."""
        return any(line.startswith("[ERROR]") for line in self.lines)

    def printed(self, marker: str) -> list[str]:
        """What followed `marker` on each line that has it."""
        return [line[line.find(marker) + len(marker):].rstrip("\n") for line in self.lines
                if marker in line]


def _log_streams(logs, group: str) -> list[str]:
    names: list[str] = []
    kw: dict = {}
    while True:
        out = logs.describe_log_streams(logGroupName=group, **kw)
        names += [s["logStreamName"] for s in out["logStreams"]]
        if not out.get("nextToken"):
            return names
        kw = {"nextToken": out["nextToken"]}


def _stream_events(logs, group: str, stream: str) -> list[dict]:
    events: list[dict] = []
    kw: dict = {"startFromHead": True}
    while True:
        out = logs.get_log_events(logGroupName=group, logStreamName=stream, **kw)
        events += out["events"]
        token = out.get("nextForwardToken")
        if not out["events"] or not token or token == kw.get("nextToken"):
            return events
        kw = {"startFromHead": True, "nextToken": token}


def calls(logs, function: str) -> list[Call]:
    """Every completed invocation of `function` whose handler lines are all in (see
    `Call.settled`), by start time (then log order)."""
    group = f"/aws/lambda/{function}"
    try:
        streams = _log_streams(logs, group)
    except logs.exceptions.ResourceNotFoundException:
        return []
    out: list[tuple[int, int, Call]] = []
    for stream in streams:
        current: Call | None = None
        ended: Call | None = None
        for i, e in enumerate(_stream_events(logs, group, stream)):
            msg = e["message"].rstrip("\n")
            if msg.startswith("START RequestId: "):
                current, ended = Call(msg.split()[2], stream, e["timestamp"]), None
            elif msg.startswith("END RequestId: ") and current is not None:
                current.end_ms = e["timestamp"]
                out.append((current.start_ms, i, current))
                current, ended = None, current
            elif current is not None:
                current.lines.append(msg)
            elif ended is not None and not msg.startswith("REPORT RequestId: "):
                # As in AWS, a handler's lines come between START and END, never after.
                raise AssertionError(f"{function}: a handler line after END: {msg!r}")
    out.sort(key=lambda t: (t[0], t[2].stream, t[1]))
    return [c for _, _, c in out if c.settled]


def calls_at_least(logs, function: str, n: int) -> list[Call]:
    """Waits until `function` has `n` completed invocations; returns them all."""
    def enough():
        cs = calls(logs, function)
        return cs if len(cs) >= n else None

    return wait_for(enough, f"{n} invocations of {function}")


def payloads(call_list: list[Call], ok_only: bool = True) -> list[dict]:
    """The JSON payloads of the records of `call_list` (of successful invocations only, unless
    `ok_only` is false), in invocation order; data that is not JSON comes as its text."""
    out = []
    for c in call_list:
        if ok_only and c.failed:
            continue
        for r in c.records:
            data = base64.b64decode(r["kinesis"]["data"])
            try:
                out.append(json.loads(data))
            except ValueError:
                out.append(data.decode())
    return out
