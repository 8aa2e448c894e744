#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Trim botocore Query-protocol service models for embedding in freshet-protocol.

Usage: python3 trim.py [BOTOCORE_DATA_DIR]

BOTOCORE_DATA_DIR is the `botocore/data` folder of the botocore 1.31.0 wheel (the last release
whose SQS model is still the Query protocol). Without it, the wheel is fetched with
`pip download botocore==1.31.0 --no-deps` into a temporary folder.

Only `documentation` fields are removed: member order, `locationName`, `flattened`,
`resultWrapper`, `xmlNamespace`, `xmlOrder` and constraints stay as botocore has them, because
the Query codec derives the wire names and the XML member order from them.
"""

import json
import os
import subprocess
import sys
import tempfile
import zipfile

BOTOCORE_VERSION = "1.31.0"
MODELS = {
    "sqs-2012-11-05.query.json": "sqs/2012-11-05/service-2.json",
    "cloudwatch-2010-08-01.query.json": "cloudwatch/2010-08-01/service-2.json",
}
HERE = os.path.dirname(os.path.abspath(__file__))


def fetch_data_dir():
    tmp = tempfile.mkdtemp(prefix="botocore-")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp,
         f"botocore=={BOTOCORE_VERSION}"],
        check=True,
    )
    wheel = next(f for f in os.listdir(tmp) if f.endswith(".whl"))
    with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
        z.extractall(tmp)
    return os.path.join(tmp, "botocore", "data")


def strip_docs(node):
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items() if k != "documentation"}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else fetch_data_dir()
    for out_name, rel in MODELS.items():
        with open(os.path.join(data_dir, rel), encoding="utf-8") as f:
            model = json.load(f)
        if model["metadata"].get("protocol") != "query":
            sys.exit(f"{rel}: protocol is {model['metadata'].get('protocol')!r}, not query")
        trimmed = strip_docs(model)
        with open(os.path.join(HERE, out_name), "w", encoding="utf-8") as f:
            json.dump(trimmed, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {out_name}")


if __name__ == "__main__":
    main()
