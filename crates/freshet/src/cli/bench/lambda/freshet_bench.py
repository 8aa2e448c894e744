# SPDX-License-Identifier: Apache-2.0
"""The handlers `freshet bench` deploys (fn-* scenarios). Standard library only.

- `noop`: does nothing (warm Invoke and cold starts).
- `stamps`: for Kinesis events; reports the time the handler started and each record's send
  time (the first 16 bytes of its data are the send time in microseconds, as ASCII digits).
- `count`: for Kinesis events; reports the time the handler started and how many records it got.

Reports are lines `<start_us> <records> [<sent_us> ...]` on one TCP connection per execution
environment to FRESHET_BENCH_REPORT (`127.0.0.1:<port>`, where the bench listens), so nothing
goes through the server under test.
"""

import base64
import os
import socket
import time

_REPORT = os.environ.get("FRESHET_BENCH_REPORT", "")
_conn = None


def _send(line):
    global _conn
    for _ in range(2):
        try:
            if _conn is None:
                host, port = _REPORT.rsplit(":", 1)
                _conn = socket.create_connection((host, int(port)))
                _conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _conn.sendall(line.encode("ascii"))
            return
        except OSError:
            _conn = None
    raise RuntimeError("cannot report to " + _REPORT)


def noop(event, context):
    return None


def stamps(event, context):
    start = time.time_ns() // 1000
    records = event.get("Records") or []
    parts = [str(start), str(len(records))]
    for r in records:
        # 24 base64 characters are exactly the first 18 bytes: only the stamp is decoded.
        parts.append(base64.b64decode(r["kinesis"]["data"][:24])[:16].decode("ascii"))
    _send(" ".join(parts) + "\n")
    return None


def count(event, context):
    start = time.time_ns() // 1000
    _send("%d %d\n" % (start, len(event.get("Records") or [])))
    return None
