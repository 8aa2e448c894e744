# SPDX-License-Identifier: Apache-2.0
"""An order producer, written as boto3 producers in AWS's Kinesis tutorials are: it generates
orders as JSON and puts them on a stream with PutRecords, 500 at a time, keyed by customer so
each customer's orders stay in order, and puts again the entries a call did not take
(ProvisionedThroughputExceeded), so no order is lost.

    python3 producer.py --stream orders --count 100 --endpoint-url http://127.0.0.1:4567
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid

import boto3


def generate_orders(count: int, seed: int | None = None) -> list[dict]:
    """`count` orders: an id, a customer, a number of items and an amount in whole dollars."""
    rng = random.Random(seed)
    return [{
        "orderId": str(uuid.UUID(int=rng.getrandbits(128))),
        "customerId": f"customer-{rng.randint(1, 20)}",
        "items": rng.randint(1, 5),
        "amount": rng.randint(5, 500),
    } for _ in range(count)]


def put_orders(kinesis, stream: str, orders: list[dict]) -> list[str]:
    """Puts every order (retrying the failed entries of a call); returns the sequence numbers."""
    sequence_numbers: list[str] = []
    for start in range(0, len(orders), 500):
        pending = [{"Data": json.dumps(o).encode(), "PartitionKey": o["customerId"]}
                   for o in orders[start:start + 500]]
        delay = 0.1
        while pending:
            out = kinesis.put_records(StreamName=stream, Records=pending)
            retry = []
            for entry, result in zip(pending, out["Records"]):
                if "SequenceNumber" in result:
                    sequence_numbers.append(result["SequenceNumber"])
                else:
                    retry.append(entry)
            pending = retry
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
    return sequence_numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:4567")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    kinesis = boto3.client("kinesis", endpoint_url=args.endpoint_url, region_name=args.region)
    put_orders(kinesis, args.stream, generate_orders(args.count))
    print(f"Put {args.count} orders on {args.stream}.")


if __name__ == "__main__":
    main()
