#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Kinesis Agent tails a NYC taxi trip CSV (agent.json, CSVTOJSON) -> Kinesis stream ->
Firehose -> S3 under Firehose/, and a function that decodes the records.

Sets the pipeline up on a running Freshet, starts `freshet agent --config agent.json` (the
Kinesis Agent's own agent.json, with the endpoint and paths filled in), writes the trips to
the file it watches, and checks that every CSV row arrived as JSON in S3 and in the
function's log. See README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable

# The examples are run from a clone: leave no __pycache__ in it.
sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from exampleutil import (Run, SetupFailed, arguments, create_bucket,  # noqa: E402
                         create_delivery_stream, create_mapping, create_stream, deploy_function,
                         fill, list_keys, log_messages, main)

PREFIX = "Firehose/"


def json_documents(body: bytes) -> list[dict]:
    """JSON documents one after another, separated by newlines or not."""
    decoder, text, out, i = json.JSONDecoder(), body.decode(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = decoder.raw_decode(text, i)
        out.append(doc)


def canonical(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True)


def in_s3(run: Run, bucket: str) -> tuple[list[str], Counter]:
    s3 = run.client("s3")
    keys = list_keys(s3, bucket, PREFIX)
    docs: Counter = Counter()
    for key in keys:
        docs.update(canonical(d) for d in
                    json_documents(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    return keys, docs


def in_log(run: Run, function: str) -> Counter:
    marker = "Decoded payload: "
    return Counter(canonical(json.loads(m.split(marker, 1)[1]))
                   for m in log_messages(run, function, f'"{marker.strip()}"') if marker in m)


def agent_config(run: Run, stream: str, work: Path) -> dict:
    """agent.json with this run's endpoint, stream, watched directory and checkpoint file."""
    config = json.loads((HERE / "agent.json").read_text())
    for key in ("kinesis.endpoint", "firehose.endpoint", "cloudwatch.endpoint"):
        config[key] = run.endpoint
    config["checkpointFile"] = str(work / "checkpoints")
    flow = config["flows"][0]
    flow["filePattern"] = str(work / "taxi-trips" / "*.csv")
    flow["kinesisStream"] = stream
    return config


def start_agent(run: Run, config: dict,
                work: Path) -> tuple[subprocess.Popen, Callable[[], int]]:
    """Starts `freshet agent --config agent.json`; returns it and a function that stops it
    (SIGTERM) and returns its exit status. Stopped at the end in any case."""
    binary = run.args.freshet
    if shutil.which(binary) is None:
        raise SetupFailed(f"no `{binary}` to run the agent: pass --freshet PATH or set FRESHET_BIN")
    (work / "agent.json").write_text(json.dumps(config, indent=2))
    log = open(work / "agent.log", "wb")  # noqa: SIM115 - closed when the agent is stopped
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    agent = subprocess.Popen([binary, "agent", "--config", str(work / "agent.json")],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             env=env)

    def stop() -> int:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)  # the agent flushes and checkpoints, then exits
            try:
                agent.wait(20)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
        log.close()
        return agent.returncode

    run.on_cleanup("the agent", stop)
    return agent, stop


def agent_log(work: Path, lines: int = 15) -> str:
    try:
        return "\n".join((work / "agent.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def pipeline(run: Run) -> None:
    csv_lines = Path(run.args.csv).read_text().splitlines(keepends=True)
    header, rows = csv_lines[0], csv_lines[1:run.args.count + 1]
    stream, stream_arn = create_stream(run, "taxi-trips")
    bucket = create_bucket(run, "taxi-trips")
    create_delivery_stream(run, fill((HERE / "delivery-stream.json").read_text(),
                                     DELIVERY_STREAM=run.name("taxi-trips-to-s3"),
                                     STREAM_ARN=stream_arn, BUCKET=bucket))
    function, _ = deploy_function(run, "taxi-trips-decoder", HERE / "decoder", "python3.12",
                                  "lambda_function.lambda_handler")
    create_mapping(run, function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100,
                   MaximumBatchingWindowInSeconds=1)

    work = Path(tempfile.mkdtemp(prefix="freshet-agent-example-"))
    run.on_cleanup("the agent's directory", lambda: shutil.rmtree(work, ignore_errors=True))
    (work / "taxi-trips").mkdir()
    config = agent_config(run, stream, work)
    agent, stop_agent = start_agent(run, config, work)

    # The trips are written while the agent runs, in two appends, as a logger writes them.
    trips = work / "taxi-trips" / "yellow_tripdata.csv"
    half = len(rows) // 2
    with open(trips, "w") as f:
        f.write(header + "".join(rows[:half]))
    with open(trips, "a") as f:
        f.write("".join(rows[half:]))
    print(f"  wrote {len(rows)} trips to {trips}; the agent sends them to {stream}", flush=True)

    fields = config["flows"][0]["dataProcessingOptions"][0]["customFieldNames"]
    want = Counter(canonical(dict(zip(fields, r.rstrip("\n").split(",")))) for r in rows)

    def s3_done(value) -> bool:
        if agent.poll() is not None:
            raise SetupFailed(f"the agent exited with {agent.returncode}:\n{agent_log(work)}")
        return sum(value[1].values()) >= len(rows)

    keys, docs = run.wait_until(lambda: in_s3(run, bucket), s3_done, "the trips in S3")
    run.check(keys and all(k.startswith(PREFIX) for k in keys),
              f"{len(keys)} object(s) under s3://{bucket}/{PREFIX}")
    run.check(docs == want, f"every CSV row ({len(rows)}) arrived in S3 as the JSON CSVTOJSON "
              f"makes of it", f"{sum(docs.values())} documents, "
              f"{sum((want - docs).values())} rows missing; agent log:\n{agent_log(work)}")
    logged = run.wait_until(lambda: in_log(run, function),
                            lambda c: sum(c.values()) >= len(rows), "the decoded trips")
    run.check(logged == want, f"the function decoded every trip ({len(rows)}) in its log",
              f"{sum(logged.values())} decoded, {sum((want - logged).values())} missing")
    status = stop_agent()
    run.check(status == 0 and Path(config["checkpointFile"]).exists(),
              "the agent stopped on SIGTERM (exit status 0) and left its checkpoint file",
              f"exit status {status}; agent log:\n{agent_log(work)}")


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0], count=40)
    parser.add_argument("--csv", default=str(HERE / "taxi-trips.csv"),
                        help="the taxi trip CSV to tail, with its header line (default: the "
                        "sample next to this script; `freshet demo taxi --write-file PATH` "
                        "writes more)")
    parser.add_argument("--freshet", default=os.environ.get("FRESHET_BIN", "freshet"),
                        help="the freshet command that runs the agent (default: $FRESHET_BIN, "
                        "else freshet on the PATH)")
    main(pipeline, "Example: Kinesis Agent (taxi CSV) -> stream -> Firehose -> S3 + decoder",
         parser)
