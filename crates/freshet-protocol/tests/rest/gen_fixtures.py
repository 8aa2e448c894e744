#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential fixtures for freshet-protocol's REST-JSON binder, made by botocore itself.

    python3 crates/freshet-protocol/tests/rest/gen_fixtures.py          # write cases, bless, verify
    python3 crates/freshet-protocol/tests/rest/gen_fixtures.py --verify # only re-verify rendered.json

Uses the installed botocore (1.43.11 when written) and the committed Lambda model.

Requests (`requests.json`): for every operation, a full input (every member) and a minimal one
(required members only), with seeded random values, serialized by botocore's own
`RestJSONSerializer` and `prepare_request_dict` (so method, path, query string, headers and body
are what boto3 sends). Each case stores the JSON value the service must see (blobs as base64,
timestamps as epoch seconds, jsonvalue headers as the JSON itself). The Rust test binds each
request and compares.

Responses and errors (`responses.json`, `errors.json`): output values of every operation and
every modeled error with its members. The Rust test renders them with `RestModel::respond` /
`error_response`; with FRESHET_REST_BLESS set it writes `rendered.json`, which this script then
parses with botocore's `RestJSONParser` (errors the way botocore's endpoint does: generic parse,
then the modeled error shape) and requires exactly the original values back. Without the
variable, the Rust test requires that rendering still gives exactly `rendered.json`.
"""

import argparse
import base64
import datetime
import json
import os
import random
import subprocess
import sys

from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
MODEL = os.path.join(CRATE, "models", "lambda-2015-03-31.rest-json.json")

TEXTS = ["f", "my-function", "a b/c:d", "ünï©ødé", "x+y=z&w", "$LATEST", "~tilde%"]
HEADER_TEXTS = ["RequestResponse", "Event", "Tail", "v-1_2", "abc def"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def value(self, shape, depth, location=None, minimal=False):
        """(botocore param, JSON value) for `shape`."""
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return {"k": [1, "v"]}, {"k": [1, "v"]}
            params, expect = {}, {}
            for name, m in shape.members.items():
                required = name in shape.required_members
                if minimal and not required:
                    continue
                if depth > 3 and not required:
                    continue
                if shape.is_tagged_union and params:
                    break
                if m.serialization.get("eventstream"):
                    continue
                p, e = self.value(m, depth + 1, m.serialization.get("location"))
                params[name], expect[name] = p, e
            return params, expect
        if t == "list":
            n = 0 if depth > 4 else self.r.randint(1, 3)
            pairs = [self.value(shape.member, depth + 1, location) for _ in range(n)]
            return [p for p, _ in pairs], [e for _, e in pairs]
        if t == "map":
            n = 0 if depth > 4 else self.r.randint(1, 2)
            params, expect = {}, {}
            for i in range(n):
                k = f"key{i}{self.r.choice(['', '-x', ' y'])}"
                p, e = self.value(shape.value, depth + 1, location)
                params[k], expect[k] = p, e
            return params, expect
        if t == "string":
            if shape.enum:
                v = self.r.choice(shape.enum)
                return v, v
            if shape.serialization.get("jsonvalue"):
                return {"a": 1}, {"a": 1}
            v = self.r.choice(HEADER_TEXTS if location == "header" else TEXTS)
            return v, v
        if t in ("integer", "long"):
            v = self.r.randint(1, 2**31 - 1 if t == "integer" else 2**40)
            return v, v
        if t == "boolean":
            v = self.r.choice([True, False])
            return v, v
        if t in ("double", "float"):
            v = self.r.choice([0.5, 1.25, 3.0, 1e10])
            return v, v
        if t == "timestamp":
            s = self.r.randint(0, 2_000_000_000)
            return datetime.datetime.fromtimestamp(s, datetime.timezone.utc), s
        if t == "blob":
            b = bytes(self.r.randint(0, 255) for _ in range(self.r.randint(1, 12)))
            if location is None and depth == 1:
                b = b'{"k":"v"}'
            return b, base64.b64encode(b).decode()
        raise ValueError(t)


def service():
    with open(MODEL, encoding="utf-8") as f:
        return ServiceModel(json.load(f), service_name="lambda")


def requests(svc):
    ser = create_serializer("rest-json", include_validation=False)
    cases = []
    for i, name in enumerate(sorted(svc.operation_names)):
        op = svc.operation_model(name)
        for minimal in (False, True):
            g = Gen(i * 2 + minimal)
            if op.input_shape is None:
                params, expect = {}, {}
            else:
                params, expect = g.value(op.input_shape, 0, minimal=minimal)
                payload = op.input_shape.serialization.get("payload")
                if payload and payload not in expect:
                    if op.input_shape.members[payload].type_name == "structure":
                        expect[payload] = {}
            req = ser.serialize_to_request(params, op)
            prepare_request_dict(req, "http://h")
            url = req["url"][len("http://h"):]
            path, _, query = url.partition("?")
            body = req["body"]
            if isinstance(body, str):
                body = body.encode()
            cases.append({
                "operation": name,
                "method": req["method"],
                "path": path,
                "query": query or None,
                "headers": {k: str(v) for k, v in req["headers"].items()},
                "body": base64.b64encode(body or b"").decode(),
                "input": expect,
            })
    return cases


def outputs(svc):
    cases = []
    for i, name in enumerate(sorted(svc.operation_names)):
        op = svc.operation_model(name)
        if op.output_shape is None or op.has_event_stream_output:
            continue
        g = Gen(1000 + i)
        _, expect = g.value(op.output_shape, 0)
        for m, s in op.output_shape.members.items():
            if s.serialization.get("location") == "statusCode":
                expect[m] = g.r.choice([200, 202])
        cases.append({"operation": name, "output": expect})
    return cases


def errors(svc):
    cases = []
    for i, shape in enumerate(sorted(svc.error_shapes, key=lambda s: s.name)):
        g = Gen(5000 + i)
        fields = {}
        message = None
        for m, s in shape.members.items():
            if m == "Type":
                continue
            if m.lower() == "message":
                message = f"{shape.name} happened: {g.r.choice(TEXTS)}"
                continue
            _, fields[m] = g.value(s, 1, s.serialization.get("location"))
        cases.append({
            "code": shape.error_code or shape.name,
            "message": message or "no message member",
            "fields": fields,
        })
    return cases


def normalize(v):
    if isinstance(v, datetime.datetime):
        return v.timestamp()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    return v


def expected_json(v):
    return json.loads(json.dumps(v))


def http_response(r):
    headers = HeadersDict()
    for k, v in r["headers"]:
        headers[k] = v
    headers["content-type"] = r["content_type"]
    if r.get("error_code"):
        headers["x-amzn-errortype"] = r["error_code"]
    return {"status_code": r["status"], "headers": headers,
            "body": base64.b64decode(r["body"])}


def verify(svc):
    with open(os.path.join(FIXTURES, "rendered.json"), encoding="utf-8") as f:
        rendered = json.load(f)
    with open(os.path.join(FIXTURES, "responses.json"), encoding="utf-8") as f:
        responses = json.load(f)
    with open(os.path.join(FIXTURES, "errors.json"), encoding="utf-8") as f:
        errs = json.load(f)
    parser = create_parser("rest-json")
    failures = 0
    for case, r in zip(responses, rendered["responses"]):
        op = svc.operation_model(case["operation"])
        parsed = normalize(parser.parse(http_response(r), op.output_shape))
        want = expected_json(case["output"])
        payload = op.output_shape.serialization.get("payload")
        if payload and isinstance(parsed.get(payload), str) and \
                op.output_shape.members[payload].type_name == "blob":
            parsed[payload] = base64.b64encode(parsed[payload].encode()).decode()
        if parsed != want:
            failures += 1
            print(f"response {case['operation']}:\n  got  {parsed}\n  want {want}")
    any_op = svc.operation_model("GetFunction")
    for case, r in zip(errs, rendered["errors"]):
        resp = http_response(r)
        parsed = parser.parse(resp, any_op.output_shape)
        shape = svc.shape_for_error_code(parsed["Error"]["Code"])
        if shape is not None:
            parsed.update(parser.parse(resp, shape))
        parsed = normalize(parsed)
        ok = parsed["Error"]["Code"] == case["code"] and \
            parsed["Error"]["Message"] == case["message"]
        for k, v in case["fields"].items():
            ok = ok and parsed.get(k) == v
        want_type = "Service" if r["status"] >= 500 else "User"
        ok = ok and parsed.get("Type") == want_type and shape is not None
        if not ok:
            failures += 1
            print(f"error {case['code']}: got {parsed}, want {case}")
    if failures:
        sys.exit(f"{failures} rendered cases did not parse back")
    print(f"verified {len(responses)} responses and {len(errs)} errors")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", action="store_true")
    args = ap.parse_args()
    svc = service()
    if not args.verify:
        for name, cases in (("requests", requests(svc)), ("responses", outputs(svc)),
                            ("errors", errors(svc))):
            with open(os.path.join(FIXTURES, f"{name}.json"), "w", encoding="utf-8") as f:
                json.dump(cases, f, indent=1, ensure_ascii=False, sort_keys=True)
                f.write("\n")
            print(f"wrote {len(cases)} {name}")
        env = dict(os.environ, FRESHET_REST_BLESS="1")
        subprocess.run(["cargo", "test", "-p", "freshet-protocol", "--test", "it", "rest::"],
                       check=True, env=env, cwd=CRATE)
    verify(svc)


if __name__ == "__main__":
    main()
