# SPDX-License-Identifier: Apache-2.0
"""Puts the records of Firehose's "demo data" (the console's test data: a ticker symbol, its
sector, the price change and the price) on a Kinesis stream with boto3, one JSON document per
line, keyed by ticker symbol.

    python3 producer.py --stream ticker-prices --count 100 --endpoint-url http://127.0.0.1:4567
"""

from __future__ import annotations

import argparse
import json
import random
import time

import boto3

SECTORS = {"QXZ": "HEALTHCARE", "NFLX": "TECHNOLOGY", "AMZN": "RETAIL", "WMT": "RETAIL",
           "XOM": "ENERGY", "JPM": "FINANCIAL", "KIN": "TECHNOLOGY", "DFT": "RETAIL",
           "ASD": "FINANCIAL", "BNM": "ENERGY"}


def demo_records(count: int, seed: int | None = None) -> list[dict]:
    """`count` records like `{"ticker_symbol":"QXZ","sector":"HEALTHCARE","change":-0.05,
    "price":84.51}`."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        ticker = rng.choice(sorted(SECTORS))
        out.append({"ticker_symbol": ticker, "sector": SECTORS[ticker],
                    "change": round(rng.uniform(-5, 5), 2),
                    "price": round(rng.uniform(5, 200), 2)})
    return out


def put_records(kinesis, stream: str, records: list[dict]) -> None:
    """PutRecords, 500 a call, each record a line of JSON; failed entries are put again."""
    for start in range(0, len(records), 500):
        pending = [{"Data": (json.dumps(r) + "\n").encode(), "PartitionKey": r["ticker_symbol"]}
                   for r in records[start:start + 500]]
        delay = 0.1
        while pending:
            out = kinesis.put_records(StreamName=stream, Records=pending)
            pending = [e for e, r in zip(pending, out["Records"]) if "ErrorCode" in r]
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:4567")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    kinesis = boto3.client("kinesis", endpoint_url=args.endpoint_url, region_name=args.region)
    put_records(kinesis, args.stream, demo_records(args.count))
    print(f"Put {args.count} records on {args.stream}.")


if __name__ == "__main__":
    main()
