"""Lambda against the real binary: functions deployed from zips built here, with Python and
Node handlers written as AWS's documentation writes them, through boto3 (waiters included)
and the AWS CLI v1; AWS's errors for bad input; functions that survive a restart."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import zipfile

import boto3
import pytest
from botocore.config import Config

from kutil import REGION, FreshetServer, unique
from test_cli import aws_command

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

# The handler of AWS's "Getting started" page (lambda_function.lambda_handler).
PYTHON_HANDLER = '''
import json

def lambda_handler(event, context):
    print("value1 = " + event["key1"])
    return {
        "statusCode": 200,
        "body": json.dumps("Hello from Lambda!"),
        "requestId": context.aws_request_id,
    }
'''

# A Kinesis consumer in the style of the kinesis-process-record blueprint.
PYTHON_KINESIS = '''
import base64

def lambda_handler(event, context):
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8")
        print("Decoded payload: " + payload)
    return "Successfully processed {} records.".format(len(event["Records"]))
'''

PYTHON_FAILING = '''
def lambda_handler(event, context):
    raise ValueError("something went wrong: " + str(event.get("n")))
'''

# The Node.js handler of AWS's "Getting started" page (index.mjs).
NODE_HANDLER = '''
export const handler = async (event) => {
  const response = {
    statusCode: 200,
    body: JSON.stringify(`Hello ${event.name}!`),
  };
  return response;
};
'''


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def lambda_client(endpoint: str):
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=120, connect_timeout=5),
    )


@pytest.fixture(scope="module")
def lam(endpoint):
    return lambda_client(endpoint)


def deploy(lam, name: str, files: dict[str, str], runtime="python3.12",
           handler="lambda_function.lambda_handler", **kw) -> dict:
    out = lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                              Code={"ZipFile": zip_of(files)}, **kw)
    lam.get_waiter("function_active_v2").wait(FunctionName=name,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return out


def test_boto3_deploys_and_invokes_a_python_handler(lam):
    name = unique("hello-py")
    created = deploy(lam, name, {"lambda_function.py": PYTHON_HANDLER})
    assert created["State"] == "Pending"
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:000000000000:function:{name}"
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"key1": "v1"}), LogType="Tail")
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    body = json.loads(out["Payload"].read())
    assert body["statusCode"] == 200 and body["body"] == '"Hello from Lambda!"'
    log = base64.b64decode(out["LogResult"]).decode()
    assert "value1 = v1" in log
    assert "START RequestId: " + body["requestId"] in log


def test_a_handler_exception_is_unhandled_with_the_error_document(lam):
    name = unique("fails")
    deploy(lam, name, {"lambda_function.py": PYTHON_FAILING})
    out = lam.invoke(FunctionName=name, Payload=b'{"n": 7}')
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    err = json.loads(out["Payload"].read())
    assert err["errorType"] == "ValueError"
    assert err["errorMessage"] == "something went wrong: 7"
    assert isinstance(err["stackTrace"], list)


def test_a_node_handler_runs(lam):
    name = unique("hello-node")
    deploy(lam, name, {"index.mjs": NODE_HANDLER}, runtime="nodejs20.x", handler="index.handler")
    out = lam.invoke(FunctionName=name, Payload=b'{"name": "Freshet"}')
    assert json.loads(out["Payload"].read()) == {"statusCode": 200, "body": '"Hello Freshet!"'}


def test_updates_versions_aliases_and_the_updated_waiter(lam):
    name = unique("versions")
    deploy(lam, name, {"lambda_function.py": PYTHON_HANDLER})
    lam.update_function_configuration(FunctionName=name, Timeout=10, MemorySize=256,
                                      Environment={"Variables": {"STAGE": "test"}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    conf = lam.get_function_configuration(FunctionName=name)
    assert (conf["Timeout"], conf["MemorySize"]) == (10, 256)
    assert conf["Environment"]["Variables"] == {"STAGE": "test"}
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name,
                             ZipFile=zip_of({"lambda_function.py": PYTHON_KINESIS}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1)
    old = lam.invoke(FunctionName=f"{name}:live", Payload=json.dumps({"key1": "x"}))
    assert old["ExecutedVersion"] == v1
    assert json.loads(old["Payload"].read())["statusCode"] == 200
    event = {"Records": [{"kinesis": {"data": base64.b64encode(b"hi").decode()}}]}
    new = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    assert json.loads(new["Payload"].read()) == "Successfully processed 1 records."
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", v1]
    pages = lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
    assert name in [f["FunctionName"] for p in pages for f in p["Functions"]]


def test_async_and_dry_run_invocations(lam):
    name = unique("async")
    deploy(lam, name, {"lambda_function.py": PYTHON_HANDLER})
    assert lam.invoke(FunctionName=name, InvocationType="Event",
                      Payload=b'{"key1": "a"}')["StatusCode"] == 202
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


def test_bad_input_gets_aws_errors(lam):
    def code(call, **kw):
        with pytest.raises(lam.exceptions.ClientError) as e:
            call(**kw)
        err = e.value.response
        return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]

    base = dict(Role=ROLE, Handler="lambda_function.lambda_handler",
                Code={"ZipFile": zip_of({"lambda_function.py": PYTHON_HANDLER})})
    c, status, msg = code(lam.create_function, FunctionName=unique("java"), Runtime="java21", **base)
    assert (c, status) == ("InvalidParameterValueException", 400) and "python3.12" in msg
    c, _, msg = code(lam.create_function, FunctionName=unique("nozip"), Runtime="python3.12",
                     Role=ROLE, Handler="a.b", Code={"ZipFile": b"print('not a zip')"})
    assert c == "InvalidParameterValueException"
    assert msg == "Could not unzip uploaded file. Please check your file, then try to upload again."
    c, status, msg = code(lam.create_function, FunctionName=unique("h"), Runtime="python3.12",
                          Role=ROLE, Handler="bad handler", Code=base["Code"])
    assert (c, status) == ("ValidationException", 400) and "'handler'" in msg
    c, status, _ = code(lam.create_function, FunctionName=unique("t"), Runtime="python3.12",
                        Timeout=1000, **base)
    assert (c, status) == ("ValidationException", 400)
    c, _, msg = code(lam.create_function, FunctionName=unique("env"), Runtime="python3.12",
                     Environment={"Variables": {"BIG": "x" * 5000}}, **base)
    assert c == "InvalidParameterValueException" and "exceeded the 4KB limit" in msg
    c, status, msg = code(lam.get_function, FunctionName="does-not-exist")
    assert (c, status) == ("ResourceNotFoundException", 404)
    assert msg == f"Function not found: arn:aws:lambda:{REGION}:000000000000:function:does-not-exist"
    name = unique("dup")
    deploy(lam, name, {"lambda_function.py": PYTHON_HANDLER})
    c, status, msg = code(lam.create_function, FunctionName=name, Runtime="python3.12", **base)
    assert (c, status, msg) == ("ResourceConflictException", 409, f"Function already exist: {name}")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    c, status, _ = code(lam.invoke, FunctionName=name)
    assert (c, status) == ("TooManyRequestsException", 429)


def test_cli_v1_deploys_and_invokes(endpoint, tmp_path):
    name = unique("cli")
    zip_path = tmp_path / "function.zip"
    zip_path.write_bytes(zip_of({"lambda_function.py": PYTHON_HANDLER}))
    env = os.environ.copy()
    env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "",
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")})

    def aws(*args):
        cmd = [*aws_command(), "--endpoint-url", endpoint, "--output", "json", "lambda", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    created = aws("create-function", "--function-name", name, "--runtime", "python3.12",
                  "--role", ROLE, "--handler", "lambda_function.lambda_handler",
                  "--zip-file", f"fileb://{zip_path}")
    assert created["Runtime"] == "python3.12"
    aws("wait", "function-active-v2", "--function-name", name)
    out_file = tmp_path / "out.json"
    meta = aws("invoke", "--function-name", name, "--payload", '{"key1": "cli"}',
               str(out_file))
    assert meta["StatusCode"] == 200
    assert json.loads(out_file.read_text())["statusCode"] == 200
    listed = aws("list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]
    aws("delete-function", "--function-name", name)


def test_a_restart_keeps_functions_and_code(tmp_path):
    srv = FreshetServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        lam = lambda_client(srv.endpoint)
        deploy(lam, "survivor", {"lambda_function.py": PYTHON_HANDLER})
        v = lam.publish_version(FunctionName="survivor")["Version"]
        srv.stop()
        srv.start()
        lam = lambda_client(srv.endpoint)
        conf = lam.get_function_configuration(FunctionName="survivor", Qualifier=v)
        assert conf["State"] == "Active"
        out = lam.invoke(FunctionName="survivor", Qualifier=v, Payload=b'{"key1": "again"}')
        assert json.loads(out["Payload"].read())["statusCode"] == 200
    finally:
        srv.stop()
