#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Stock trades -> Kinesis stream -> Firehose with a Lambda transform -> S3 under the default
YYYY/MM/DD/HH/ prefixes.

Sets the pipeline up on a running Freshet, runs the stock trade producer, and checks that
every trade arrived in S3 once, transformed, in objects under the hour's date prefix. See
README.md.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

# The examples are run from a clone: leave no __pycache__ in it.
sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from exampleutil import (Run, arguments, create_bucket, create_delivery_stream,  # noqa: E402
                         create_stream, deploy_function, fill, list_keys, main)
from stock_trades import StockTradeGenerator, send_trades  # noqa: E402

# <YYYY/MM/DD/HH/><delivery stream>-<version>-<YYYY-MM-DD-HH-MM-SS>-<uuid>, as Firehose names
# objects when the Prefix is empty.
KEY = re.compile(r"(\d{4}/\d\d/\d\d/\d\d)/(.+)-\d+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}")


def delivered(run: Run, bucket: str) -> dict[str, list[dict]]:
    """Object key -> the trades in it (one JSON document per line), errors/ left out."""
    s3 = run.client("s3")
    out = {}
    for key in list_keys(s3, bucket):
        if not key.startswith("errors/"):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            out[key] = [json.loads(line) for line in body.splitlines() if line.strip()]
    return out


def pipeline(run: Run) -> None:
    stream, stream_arn = create_stream(run, "stock-trades")
    bucket = create_bucket(run, "stock-trades")
    _, transform_arn = deploy_function(run, "stock-trades-transform", HERE / "transform",
                                       "python3.12", "lambda_function.lambda_handler")
    delivery = run.name("stock-trades-to-s3")
    config = fill((HERE / "delivery-stream.json").read_text(), DELIVERY_STREAM=delivery,
                  STREAM_ARN=stream_arn, BUCKET=bucket, TRANSFORM_ARN=transform_arn)
    create_delivery_stream(run, config)

    generator = StockTradeGenerator()
    trades = [generator.get_random_trade() for _ in range(run.args.count)]
    hour_before = datetime.now(timezone.utc).strftime("%Y/%m/%d/%H")
    send_trades(run.client("kinesis"), stream, trades)
    print(f"  put {len(trades)} trades on {stream}", flush=True)

    objects = run.wait_until(lambda: delivered(run, bucket),
                             lambda o: sum(len(t) for t in o.values()) >= len(trades),
                             f"{len(trades)} trades in s3://{bucket}")
    hour_after = datetime.now(timezone.utc).strftime("%Y/%m/%d/%H")

    got = [t for ts in objects.values() for t in ts]
    by_id = {t["id"]: t for t in got}
    run.check(len(got) == len(trades) and set(by_id) == {t["id"] for t in trades},
              f"all {len(trades)} trades arrived in s3://{bucket}, each once",
              f"{len(got)} lines, {len(by_id)} distinct trades")
    wrong = [t["id"] for t in trades
             if by_id.get(t["id"]) != {**t, "value": round(t["price"] * t["quantity"], 2)}]
    run.check(not wrong, "every trade was transformed (its value is price x quantity)",
              f"{len(wrong)} trades differ, e.g. ids {wrong[:5]}")

    keys = list(objects)
    bad = [k for k in keys if not (m := KEY.fullmatch(k)) or m.group(2) != delivery
           or not hour_before <= m.group(1) <= hour_after]
    run.check(keys and not bad,
              f"{len(keys)} object(s) under the date prefix {hour_after}/ named as Firehose "
              f"names them", f"unexpected keys {bad[:3]}")
    errors = list_keys(run.client("s3"), bucket, "errors/")
    run.check(not errors, "nothing went to the error prefix", f"{errors[:3]}")
    print(f"  e.g. s3://{bucket}/{keys[0] if keys else '-'}", flush=True)


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0], count=200)
    main(pipeline, "Example: stock trades -> stream -> Firehose + Lambda transform -> S3",
         parser)
