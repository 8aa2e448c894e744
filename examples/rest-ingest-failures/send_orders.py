# SPDX-License-Identifier: Apache-2.0
"""A client of the REST API that AWS's tutorial "Create a REST API as an Amazon Kinesis proxy
in API Gateway" builds, as a web or IoT front end calls it: plain HTTP PUTs with JSON bodies,
no AWS SDK and no signing. Freshet serves that API at `<endpoint>/restapis/kinesis/<stage>`
(on AWS: `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`).

    python3 send_orders.py --api http://127.0.0.1:4567/restapis/kinesis/test --stream orders
"""

from __future__ import annotations

import argparse
import json
import urllib.request


def call(api: str, method: str, path: str, body: dict | None = None) -> dict:
    """One request to the API; the integration's answer (Kinesis's own JSON) is returned."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{api}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def put_record(api: str, stream: str, data, partition_key: str) -> dict:
    """PUT /streams/{stream-name}/record. The tutorial's mapping template stores the JSON text
    of `Data` (`$util.base64Encode($input.json('$.Data'))`): an object arrives as its JSON."""
    return call(api, "PUT", f"/streams/{stream}/record",
                {"Data": data, "PartitionKey": partition_key})


def put_records(api: str, stream: str, records: list[tuple[str, str]]) -> dict:
    """PUT /streams/{stream-name}/records with (data, partition key) pairs; each `data` string
    is stored as it is."""
    return call(api, "PUT", f"/streams/{stream}/records",
                {"records": [{"data": d, "partition-key": k} for d, k in records]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:4567/restapis/kinesis/test")
    parser.add_argument("--stream", required=True)
    args = parser.parse_args()
    print(put_record(args.api, args.stream, {"orderId": "1", "amount": 12}, "customer-1"))
    print(put_records(args.api, args.stream, [
        (json.dumps({"orderId": "2", "amount": 30}), "customer-2"),
        (json.dumps({"orderId": "3", "amount": 7}), "customer-3"),
    ]))


if __name__ == "__main__":
    main()
