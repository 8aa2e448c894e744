# SPDX-License-Identifier: Apache-2.0
"""The stock trade producer of AWS's Kinesis Data Streams tutorial ("Process real-time stock
data using KPL and KCL"), in Python with boto3: StockTradeGenerator's tickers and mean prices,
prices within 20% of the mean, 1 to 10,000 shares, 40% sells, ids counting up; each trade is
put as JSON with its ticker symbol as the partition key.

    python3 stock_trades.py --stream stock-trades --count 200 --endpoint-url http://127.0.0.1:4567
"""

from __future__ import annotations

import argparse
import json
import random
import time

import boto3

# StockTradeGenerator's stocks and their mean prices.
STOCK_PRICES = [
    ("AAPL", 119.72), ("XOM", 91.56), ("GOOG", 527.83), ("BRK.A", 223999.88), ("MSFT", 42.36),
    ("WFC", 54.21), ("JNJ", 99.78), ("WMT", 85.91), ("CHL", 66.96), ("GE", 24.64),
    ("NVS", 102.46), ("PG", 85.05), ("JPM", 57.82), ("RDS.A", 66.72), ("CVX", 110.43),
    ("PFE", 33.07), ("FB", 74.44), ("VZ", 49.09), ("PTR", 111.08), ("BUD", 120.39),
    ("ORCL", 43.40), ("KO", 41.23), ("T", 34.64), ("DIS", 101.73), ("AMZN", 370.56),
]
MAX_DEVIATION = 0.2  # prices within 20% of the mean
MAX_QUANTITY = 10000
PROBABILITY_SELL = 0.4


class StockTradeGenerator:
    def __init__(self, seed: int | None = None):
        self.random = random.Random(seed)
        self.next_id = 1

    def get_random_trade(self) -> dict:
        ticker, average_price = self.random.choice(STOCK_PRICES)
        trade_type = "SELL" if self.random.random() < PROBABILITY_SELL else "BUY"
        deviation = (self.random.random() - 0.5) * 2.0 * MAX_DEVIATION
        price = round(average_price + deviation * average_price, 2)
        quantity = self.random.randint(1, MAX_QUANTITY)
        trade = {"tickerSymbol": ticker, "tradeType": trade_type, "price": price,
                 "quantity": quantity, "id": self.next_id}
        self.next_id += 1
        return trade


def send_trades(kinesis, stream: str, trades: list[dict]) -> None:
    """PutRecords, 500 trades a call; entries a call did not take are put again."""
    for start in range(0, len(trades), 500):
        pending = [{"Data": json.dumps(t).encode(), "PartitionKey": t["tickerSymbol"]}
                   for t in trades[start:start + 500]]
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
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:4567")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    kinesis = boto3.client("kinesis", endpoint_url=args.endpoint_url, region_name=args.region)
    generator = StockTradeGenerator()
    send_trades(kinesis, args.stream, [generator.get_random_trade() for _ in range(args.count)])
    print(f"Put {args.count} trades on {args.stream}.")


if __name__ == "__main__":
    main()
