#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kinesis stream -> two Firehose delivery streams -> S3: one writes GZIP-compressed JSON
lines, the other converts the JSON to Parquet with the columns of a Glue table.

Sets the pipeline up on a running Freshet, runs the producer, and checks that the GZIP
objects decompress to exactly the records put and that the Parquet objects parse (pyarrow) to
the table's columns with the same rows and values. See README.md.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import sys
from collections import Counter
from pathlib import Path

# The examples are run from a clone: leave no __pycache__ in it.
sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from exampleutil import (Run, SetupFailed, arguments, create_bucket,  # noqa: E402
                         create_delivery_stream, create_stream, fill, list_keys, main)
from producer import demo_records, put_records  # noqa: E402

COLUMNS = ["ticker_symbol", "sector", "change", "price"]


def row(record: dict) -> tuple:
    return tuple(record[c] for c in COLUMNS)


def gzip_rows(run: Run, bucket: str) -> tuple[list[str], list[tuple], list[str]]:
    """The GZIP objects: (keys, rows of their JSON lines, keys that are not GZIP)."""
    s3 = run.client("s3")
    keys, rows, bad = list_keys(s3, bucket, "raw/"), [], []
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if body[:2] != b"\x1f\x8b" or not key.endswith(".gz"):
            bad.append(key)
            continue
        rows += [row(json.loads(line)) for line in gzip.decompress(body).splitlines() if line]
    return keys, rows, bad


def parquet_tables(run: Run, bucket: str) -> list:
    """Every Parquet object under parquet/, read with pyarrow."""
    import pyarrow.parquet as pq

    s3 = run.client("s3")
    return [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
            for k in list_keys(s3, bucket, "parquet/")]


def pipeline(run: Run) -> None:
    if importlib.util.find_spec("pyarrow") is None:
        raise SetupFailed("this example reads Parquet with pyarrow: pip install pyarrow")
    glue = run.client("glue")
    stream, stream_arn = create_stream(run, "ticker-prices")
    bucket = create_bucket(run, "ticker-prices")
    database = run.name("analytics").replace("-", "_")
    glue.create_database(DatabaseInput={"Name": database})
    run.on_cleanup(f"Glue database {database}", lambda: glue.delete_database(Name=database))
    glue.create_table(**fill((HERE / "glue-table.json").read_text(), DATABASE=database,
                             BUCKET=bucket))
    names = dict(STREAM_ARN=stream_arn, BUCKET=bucket, DATABASE=database)
    create_delivery_stream(run, fill((HERE / "gzip-delivery-stream.json").read_text(),
                                     DELIVERY_STREAM=run.name("ticker-prices-gzip"), **names))
    create_delivery_stream(run, fill((HERE / "parquet-delivery-stream.json").read_text(),
                                     DELIVERY_STREAM=run.name("ticker-prices-parquet"), **names))

    records = demo_records(run.args.count)
    put_records(run.client("kinesis"), stream, records)
    want = Counter(row(r) for r in records)
    print(f"  put {len(records)} records on {stream}", flush=True)

    keys, rows, bad = run.wait_until(lambda: gzip_rows(run, bucket),
                                     lambda g: len(g[1]) >= len(records),
                                     "the GZIP objects")
    run.check(keys and not bad, f"{len(keys)} GZIP object(s) (.gz) under raw/",
              f"not GZIP: {bad[:3]}")
    run.check(Counter(rows) == want,
              f"the GZIP objects decompress to the {len(records)} records put",
              f"{len(rows)} records, {sum((want - Counter(rows)).values())} missing")

    tables = run.wait_until(lambda: parquet_tables(run, bucket),
                            lambda ts: sum(t.num_rows for t in ts) >= len(records),
                            "the Parquet objects")
    names_ok = all(t.schema.names == COLUMNS for t in tables)
    run.check(tables and names_ok, f"{len(tables)} Parquet object(s) under parquet/ with the "
              f"Glue table's columns", f"{[t.schema.names for t in tables][:2]}")
    got = Counter(row(r) for t in tables for r in t.to_pylist())
    run.check(got == want, f"the Parquet rows are the {len(records)} records put, values equal",
              f"{sum(got.values())} rows, {sum((want - got).values())} missing")
    errors = list_keys(run.client("s3"), bucket, "errors/")
    run.check(not errors, "nothing went to the error prefix", f"{errors[:3]}")


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0], count=100)
    main(pipeline, "Example: stream -> Firehose -> S3 as GZIP and as Parquet", parser)
