# SPDX-License-Identifier: Apache-2.0
"""Freshet's Python runtime client: runs a Lambda handler against the Lambda Runtime API.

Standard library only. Behaves like awslambdaric (the AWS Python runtime interface client):
the same handler resolution and init errors, context object, JSON (un)marshalling, error
documents, and log output (stdout unbuffered; `logging` lines as
"[LEVEL]\\t<time>\\t<request id>\\t<message>"; errors as "[ERROR] Type: message" plus the
traceback, written as one log event: lines are joined with "\\r", which Freshet turns back
into newlines inside one event, as Lambda's telemetry log pipe does).

Usage: python3 freshet_lambda_runtime.py <module.handler>, with AWS_LAMBDA_RUNTIME_API set.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback

_LINE_JOIN = "\r"
_INDENT = "\u00a0"  # NO-BREAK SPACE, as awslambdaric indents traceback lines
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error "
    "correlates with a change in the runtime version, you may be able to mitigate this error "
    "by temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)

_request_id = None


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


class _Unbuffered:
    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def _one_event(msg):
    """One log event on stdout: inner newlines become \\r, one newline at the end."""
    body = msg[:-1] if msg.endswith("\n") else msg
    return body.replace("\n", _LINE_JOIN) + "\n"


class _LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(_one_event(self.format(record)))
        except Exception:
            self.handleError(record)


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        return True


def _setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = _LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


def _indent(line):
    n = len(line) - len(line.lstrip(" "))
    return _INDENT * n + line[n:]


def _log_error(error):
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            head += ":"
        head += " " + error["errorMessage"]
    lines = [head]
    trace = error.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            if element == "":
                lines.append("")
            else:
                lines.extend(_indent(l) for l in element.splitlines())
    sys.stdout.write(_LINE_JOIN.join(lines) + "\n")


def _make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    frames = [
        (f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)
    ]
    for i, frame in enumerate(frames):
        if not frame[0].endswith("freshet_lambda_runtime.py"):
            return frames[i:]
    return frames


def _fault_from_exception(exc_info, request_id=None):
    etype, value, tb = exc_info
    return _make_error(
        str(value), etype.__name__, traceback.format_list(_user_frames(tb)), request_id
    )


class _Encoder(json.JSONEncoder):
    def default(self, obj):
        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return float("nan")
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        return super().default(obj)


_NON_ASCII = os.environ.get("AWS_EXECUTION_ENV") in (
    "AWS_Lambda_python3.12",
    "AWS_Lambda_python3.13",
)


def _to_json(obj):
    return json.dumps(obj, cls=_Encoder, ensure_ascii=not _NON_ASCII)


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME,
            "Bad handler '{}': {}".format(handler, str(e)),
        )
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def _obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field, None))
    return obj


class LambdaContext(object):
    def __init__(self, request_id, client_context, identity, deadline_ms, invoked_arn):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_arn
        self.tenant_id = None
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


class RuntimeClient(object):
    def __init__(self, address):
        self.address = address
        self.conn = None
        self.user_agent = "aws-lambda-python/{}.{}.{}-freshet".format(*sys.version_info[:3])

    def _request(self, method, path, body=None, headers=None):
        hdrs = {"User-Agent": self.user_agent}
        hdrs.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.address)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp, data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise

    def next(self):
        resp, body = self._request("GET", "/2018-06-01/runtime/invocation/next")
        if resp.status != 200:
            raise RuntimeError("Failed to get next")
        return resp, body

    def post_result(self, request_id, body, content_type):
        self._request(
            "POST",
            "/2018-06-01/runtime/invocation/{}/response".format(request_id),
            body,
            {"Content-Type": content_type},
        )

    def post_error(self, request_id, error):
        self._request(
            "POST",
            "/2018-06-01/runtime/invocation/{}/error".format(request_id),
            _to_json(error).encode("utf-8"),
            {"Content-Type": "application/json"},
        )

    def post_init_error(self, error):
        self._request(
            "POST",
            "/2018-06-01/runtime/init/error",
            _to_json(error).encode("utf-8"),
            {_ERROR_TYPE_HEADER: error["errorType"], "Content-Type": "application/json"},
        )


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, str(e)),
        )


def _handle(client, handler, resp, body):
    global _request_id
    request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
    _request_id = request_id
    trace_id = resp.getheader("Lambda-Runtime-Trace-Id")
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    error = None
    try:
        client_context = resp.getheader("Lambda-Runtime-Client-Context")
        identity = resp.getheader("Lambda-Runtime-Cognito-Identity")
        context = LambdaContext(
            request_id,
            _parse_json_header(client_context, "Client Context") if client_context else None,
            _parse_json_header(identity, "Cognito Identity") if identity else None,
            int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0),
            resp.getheader("Lambda-Runtime-Invoked-Function-Arn"),
        )
        content_type = resp.getheader("Content-Type")
        if content_type == "application/json":
            try:
                event = json.loads(body)
            except Exception as e:
                raise FaultException(
                    FaultException.UNMARSHAL_ERROR,
                    "Unable to unmarshal input: {}".format(str(e)),
                )
        else:
            event = body
        result = handler(event, context)
        if isinstance(result, bytes):
            payload, result_type = result, "application/unknown"
        else:
            try:
                payload, result_type = _to_json(result).encode("utf-8"), "application/json"
            except Exception as e:
                raise FaultException(
                    FaultException.MARSHAL_ERROR,
                    "Unable to marshal response: {}".format(str(e)),
                )
    except FaultException as e:
        error = _make_error(e.msg, e.exception_type, e.trace, request_id)
    except Exception:
        error = _fault_from_exception(sys.exc_info(), request_id)
    if error is not None:
        _log_error(error)
        client.post_error(request_id, error)
    else:
        client.post_result(request_id, payload, result_type)


def _exit_with_group():
    """Ends this process and anything the handler started in its process group."""
    try:
        # A group whose id is our pid is ours (Freshet starts us as its leader); otherwise
        # there is no such group and this fails harmlessly.
        os.killpg(os.getpid(), signal.SIGKILL)
    except OSError:
        pass
    os._exit(1)


def _watch_parent():
    """Exits once the server that started this process is gone.

    A server killed with SIGKILL cannot stop its handler processes; this one is then
    re-parented, so getppid() changes. Checked every second from a daemon thread, so a
    handler that sleeps or computes does not delay it.
    """
    parent = os.getppid()
    if parent <= 1:
        return

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                _exit_with_group()

    threading.Thread(target=watch, name="freshet-parent-watch", daemon=True).start()


def main():
    _watch_parent()
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    # The function's code comes first on sys.path, not this script's directory.
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sys.path.insert(0, task_root)
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    if len(sys.argv) < 2:
        raise ValueError("Handler not set")
    error = None
    try:
        _setup_logging()
        handler = _get_handler(sys.argv[1])
    except FaultException as e:
        error = _make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error = _fault_from_exception(sys.exc_info())
    if error is not None:
        logging.warning(_UNHANDLED_WARNING)
        _log_error(error)
        client.post_init_error(error)
        sys.exit(1)
    while True:
        try:
            resp, body = client.next()
            _handle(client, handler, resp, body)
        except (OSError, http.client.HTTPException):
            # The Runtime API refuses connections or dropped one: the server is gone.
            _exit_with_group()


if __name__ == "__main__":
    main()
