#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Trim botocore REST-JSON service models for embedding in freshet-protocol.

Usage: python3 trim_rest.py [BOTOCORE_DATA_DIR]

BOTOCORE_DATA_DIR defaults to the `data` folder of the botocore installed for this Python
(1.43.11 when the models were last written). Only `documentation` fields are removed; the
REST bindings (`http`, `location`, `locationName`, `payload`, `error`, `jsonvalue`,
`timestampFormat`) stay as botocore has them, because `freshet_protocol::rest` is driven by them.
"""

import gzip
import json
import os
import sys

MODELS = {
    "lambda-2015-03-31.rest-json.json": "lambda/2015-03-31/service-2.json.gz",
}
HERE = os.path.dirname(os.path.abspath(__file__))


def strip_docs(node):
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items() if k != "documentation"}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


def main():
    if len(sys.argv) > 1:
        data_dir = sys.argv[1]
    else:
        import botocore

        data_dir = os.path.join(os.path.dirname(botocore.__file__), "data")
    for out_name, rel in MODELS.items():
        with gzip.open(os.path.join(data_dir, rel), "rt", encoding="utf-8") as f:
            model = json.load(f)
        if model["metadata"].get("protocol") != "rest-json":
            sys.exit(f"{rel}: protocol is {model['metadata'].get('protocol')!r}, not rest-json")
        with open(os.path.join(HERE, out_name), "w", encoding="utf-8") as f:
            json.dump(strip_docs(model), f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {out_name}")


if __name__ == "__main__":
    main()
