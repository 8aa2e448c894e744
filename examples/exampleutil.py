# SPDX-License-Identifier: Apache-2.0
"""What every example's run.py shares: the endpoint, clients, unique names, bounded waits,
checks with a short report, and clean-up.

Not user code: the pipelines' own code (producers, handlers, settings) lives in each example's
directory. A run script creates its resources with names that end in a fresh run id (so it can
run twice, or beside another run), checks what arrived, prints one line per check and exits 1
when a check failed (2 when the pipeline could not be set up), deleting what it created
either way unless `--keep` is given.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import time
import traceback
import uuid
import zipfile
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config

DEFAULT_ENDPOINT = "http://127.0.0.1:4567"
ACCOUNT = "000000000000"
REGION = "us-east-1"
LAMBDA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
FIREHOSE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/firehose-delivery-role"

# A local endpoint never goes through a proxy.
os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1",
                                                 "localhost"]))
os.environ["no_proxy"] = os.environ["NO_PROXY"]


def arguments(description: str, count: int) -> argparse.ArgumentParser:
    """The options every run script takes; a script adds its own before parsing."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--endpoint", default=os.environ.get("FRESHET_ENDPOINT", DEFAULT_ENDPOINT),
                   help="Freshet's endpoint (default: $FRESHET_ENDPOINT, else %(default)s)")
    p.add_argument("--count", type=int, default=count,
                   help="how many records the producer sends (default %(default)s)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for the data to arrive (default %(default)s)")
    p.add_argument("--keep", action="store_true",
                   help="keep what the run created (to look at it in the console)")
    return p


class SetupFailed(Exception):
    """The pipeline could not be set up or driven (not a failed check of its outcome)."""


class Run:
    """One run of an example: its clients, names, checks and clean-ups.

    Use as a context manager; `exit_code()` afterwards. Clean-ups run in reverse order of
    registration, so a mapping goes before its function and stream.
    """

    def __init__(self, title: str, args: argparse.Namespace):
        self.title = title
        self.args = args
        self.endpoint = args.endpoint.rstrip("/")
        self.id = uuid.uuid4().hex[:8]
        self.started = time.time()
        self.results: list[tuple[bool, str]] = []
        self.notes: list[str] = []
        self._cleanups: list[tuple[str, Callable[[], Any]]] = []
        self._clients: dict[str, Any] = {}
        self.error: str | None = None

    # Clients and names -------------------------------------------------------------------

    def client(self, service: str):
        """A boto3 client for `service` on the endpoint; any credentials work on Freshet."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=REGION,
                aws_access_key_id="x", aws_secret_access_key="x",
                config=Config(retries={"max_attempts": 3}, read_timeout=60, connect_timeout=5))
        return self._clients[service]

    def name(self, base: str) -> str:
        """`base` with this run's id: unique, and valid for streams, functions and buckets."""
        return f"{base}-{self.id}"

    # Waiting ------------------------------------------------------------------------------

    def wait_until(self, get: Callable[[], Any], done: Callable[[Any], bool] = bool,
                   what: str = "the data", timeout: float | None = None,
                   every: float = 0.25) -> Any:
        """Polls `get()` until `done(value)` holds or `timeout` (default `--timeout`) passes,
        and returns the last value either way: the caller's check says what was missing."""
        deadline = time.monotonic() + (self.args.timeout if timeout is None else timeout)
        while True:
            value = get()
            if done(value):
                return value
            if time.monotonic() > deadline:
                self.note(f"gave up waiting for {what}")
                return value
            time.sleep(every)

    # Checks and the report ----------------------------------------------------------------

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        """Records one check of the outcome; `detail` is printed when it failed."""
        self.results.append((bool(ok), what if ok or not detail else f"{what}: {detail}"))
        return bool(ok)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def on_cleanup(self, what: str, fn: Callable[[], Any]) -> None:
        self._cleanups.append((what, fn))

    def __enter__(self) -> "Run":
        print(f"{self.title} (run {self.id}, endpoint {self.endpoint})", flush=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None:
            self.error = "".join(traceback.format_exception(exc_type, exc, tb)) \
                if not isinstance(exc, SetupFailed) else str(exc)
        if not self.args.keep:
            for what, fn in reversed(self._cleanups):
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - clean-up is best effort, reported
                    self.note(f"clean-up of {what} failed: {e}")
        self.report()
        return exc is None or isinstance(exc, Exception)

    def report(self) -> None:
        for ok, what in self.results:
            print(f"  [{'ok' if ok else 'FAILED'}] {what}")
        for n in self.notes:
            print(f"  note: {n}")
        if self.error:
            print(f"  ERROR: {self.error.rstrip()}")
        passed = sum(ok for ok, _ in self.results)
        verdict = "PASSED" if self.exit_code() == 0 else "FAILED"
        kept = " (resources kept)" if self.args.keep else ""
        print(f"{verdict}: {passed}/{len(self.results)} checks in "
              f"{time.time() - self.started:.1f} s{kept}", flush=True)

    def exit_code(self) -> int:
        if self.error:
            return 2
        if not self.results or not all(ok for ok, _ in self.results):
            return 1
        return 0


# ---------------------------------------------------------------------------------------------
# Resources the examples share


def create_stream(run: Run, base: str, shards: int = 1) -> tuple[str, str]:
    """A new ACTIVE Kinesis stream, deleted at the end: (name, ARN)."""
    kinesis = run.client("kinesis")
    name = run.name(base)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    run.on_cleanup(f"stream {name}", lambda: kinesis.delete_stream(
        StreamName=name, EnforceConsumerDeletion=True))
    kinesis.get_waiter("stream_exists").wait(StreamName=name,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return name, arn


def create_bucket(run: Run, base: str) -> str:
    """A new S3 bucket, emptied and deleted at the end."""
    s3 = run.client("s3")
    bucket = run.name(base).lower()
    s3.create_bucket(Bucket=bucket)

    def delete():
        for key in list_keys(s3, bucket):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)

    run.on_cleanup(f"bucket {bucket}", delete)
    return bucket


def list_keys(s3, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def create_delivery_stream(run: Run, config: dict) -> str:
    """CreateDeliveryStream with `config` (the example's settings, filled in), ACTIVE before it
    returns; deleted at the end. Returns its name."""
    firehose = run.client("firehose")
    name = config["DeliveryStreamName"]
    firehose.create_delivery_stream(**config)
    run.on_cleanup(f"delivery stream {name}",
                   lambda: firehose.delete_delivery_stream(DeliveryStreamName=name))
    desc = run.wait_until(
        lambda: firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"],
        lambda d: d["DeliveryStreamStatus"] == "ACTIVE", f"{name} to be ACTIVE", 60)
    if desc["DeliveryStreamStatus"] != "ACTIVE":
        raise SetupFailed(f"delivery stream {name} is {desc['DeliveryStreamStatus']}: "
                          f"{desc.get('FailureDescription')}")
    return name


def zip_dir(directory: Path) -> bytes:
    """The deployment package of a function: every file of `directory`, at the zip's root."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, path.relative_to(directory).as_posix())
    return buf.getvalue()


def deploy_function(run: Run, base: str, code_dir: Path, runtime: str, handler: str,
                    **kw: Any) -> tuple[str, str]:
    """Creates a function from the files of `code_dir` and waits until it is Active; deleted
    (with its log group) at the end: (name, ARN)."""
    lam, logs = run.client("lambda"), run.client("logs")
    name = run.name(base)
    arn = lam.create_function(FunctionName=name, Runtime=runtime, Role=LAMBDA_ROLE,
                              Handler=handler, Code={"ZipFile": zip_dir(code_dir)},
                              Timeout=30, **kw)["FunctionArn"]

    def delete():
        lam.delete_function(FunctionName=name)
        try:
            logs.delete_log_group(logGroupName=f"/aws/lambda/{name}")
        except logs.exceptions.ResourceNotFoundException:
            pass

    run.on_cleanup(f"function {name}", delete)
    lam.get_waiter("function_active_v2").wait(FunctionName=name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return name, arn


def create_mapping(run: Run, function: str, source_arn: str, **kw: Any) -> str:
    """An event source mapping, Enabled before it returns; deleted at the end. Returns its UUID."""
    lam = run.client("lambda")
    uuid_ = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=source_arn,
                                            **kw)["UUID"]
    run.on_cleanup(f"mapping {uuid_}", lambda: lam.delete_event_source_mapping(UUID=uuid_))
    state = run.wait_until(lambda: lam.get_event_source_mapping(UUID=uuid_)["State"],
                           lambda s: s == "Enabled", f"mapping {uuid_} to be Enabled", 60)
    if state != "Enabled":
        raise SetupFailed(f"mapping {uuid_} of {function} never became Enabled")
    return uuid_


def log_messages(run: Run, function: str, pattern: str = "") -> list[str]:
    """Every message of `/aws/lambda/<function>` that matches the filter `pattern`."""
    logs = run.client("logs")
    out: list[str] = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}", filterPattern=pattern)
        for page in pages:
            out.extend(e["message"].rstrip("\n") for e in page["events"])
    except logs.exceptions.ResourceNotFoundException:
        return []
    return out


def metric_sum(run: Run, namespace: str, metric: str, dimensions: dict[str, str] | None = None,
               since: float | None = None) -> float:
    """The Sum of a metric over the run so far (1-minute periods added up)."""
    cw = run.client("cloudwatch")
    start = (since or run.started) - 120
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
        StartTime=start - start % 60, EndTime=time.time() + 120, Period=60,
        Statistics=["Sum"])["Datapoints"]
    return sum(p["Sum"] for p in points)


def fill(template: str, **values: str) -> Any:
    """A settings file of the example with its `${NAME}` placeholders filled in, parsed. Only
    upper-case names are placeholders, so `$.path` and `!{...}` expressions stay as written."""
    def value(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"no value for the placeholder ${{{m.group(1)}}}")
        return str(values[m.group(1)])

    return json.loads(re.sub(r"\$\{([A-Z_]+)\}", value, template))


def main(run_fn: Callable[[Run], None], title: str, parser: argparse.ArgumentParser) -> None:
    """Parses the arguments, runs `run_fn` in a Run, and exits with the run's status."""
    args = parser.parse_args()
    with Run(title, args) as run:
        run_fn(run)
    sys.exit(run.exit_code())
