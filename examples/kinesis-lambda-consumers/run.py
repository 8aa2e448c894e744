#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Producer -> Kinesis stream -> a Python and a Node.js function (event source mappings), their
logs in CloudWatch Logs, a metric filter on the Python function's logs, and a dashboard.

Sets the pipeline up on a running Freshet, runs the producer, and checks that every order was
processed by both functions, that the metric filter's metric sums the orders' amounts, and
that the dashboard reads back as it was put. See README.md.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# The examples are run from a clone: leave no __pycache__ in it.
sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from exampleutil import (Run, arguments, create_mapping, create_stream,  # noqa: E402
                         deploy_function, fill, log_messages, main, metric_sum)
from producer import generate_orders, put_orders  # noqa: E402

RECORD_DATA = re.compile(r"Record Data: (\{.*\})")


def orders_processed(run: Run, function: str) -> dict[str, dict]:
    """The orders `function` logged as processed ("Record Data: ..."), by order id."""
    out: dict[str, dict] = {}
    for message in log_messages(run, function, '"Record Data"'):
        if m := RECORD_DATA.search(message):
            order = json.loads(m.group(1))
            out[order["orderId"]] = order
    return out


def pipeline(run: Run) -> None:
    logs, cw = run.client("logs"), run.client("cloudwatch")
    stream, stream_arn = create_stream(run, "orders")
    py_fn, _ = deploy_function(run, "orders-python", HERE / "python_consumer", "python3.12",
                               "lambda_function.lambda_handler")
    node_fn, _ = deploy_function(run, "orders-node", HERE / "node_consumer", "nodejs20.x",
                                 "index.handler")
    namespace = f"OrdersPipeline-{run.id}"
    names = dict(STREAM=stream, PY_FUNCTION=py_fn, NODE_FUNCTION=node_fn, NAMESPACE=namespace)

    # The metric filter goes on before any order is logged: filters see new events only.
    metric_filter = fill((HERE / "metric-filter.json").read_text(), **names)
    try:
        logs.create_log_group(logGroupName=metric_filter["logGroupName"])
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_metric_filter(**metric_filter)

    dashboard = run.name("orders")
    body = fill((HERE / "dashboard.json").read_text(), **names)
    cw.put_dashboard(DashboardName=dashboard, DashboardBody=json.dumps(body))
    run.on_cleanup(f"dashboard {dashboard}",
                   lambda: cw.delete_dashboards(DashboardNames=[dashboard]))

    for fn in (py_fn, node_fn):
        create_mapping(run, fn, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100,
                       MaximumBatchingWindowInSeconds=1)

    orders = generate_orders(run.args.count)
    put_orders(run.client("kinesis"), stream, orders)
    want = {o["orderId"]: o for o in orders}
    print(f"  put {len(orders)} orders on {stream}", flush=True)

    for fn, runtime in ((py_fn, "Python"), (node_fn, "Node.js")):
        got = run.wait_until(lambda: orders_processed(run, fn), lambda g: len(g) >= len(want),
                             f"{fn} to process every order")
        missing = sorted(set(want) - set(got))
        run.check(got == want, f"the {runtime} function processed all {len(want)} orders",
                  f"{len(got)} processed, {len(missing)} missing (e.g. {missing[:3]})")

    total = sum(o["amount"] for o in orders)
    seen = run.wait_until(lambda: metric_sum(run, namespace, "OrderAmount"),
                          lambda s: s == total, "the metric filter's sum")
    run.check(seen == total, f"the metric filter's {namespace}/OrderAmount sums to {total}",
              f"it sums to {seen}")
    incoming = run.wait_until(
        lambda: metric_sum(run, "AWS/Kinesis", "IncomingRecords", {"StreamName": stream}),
        lambda s: s == len(orders), "AWS/Kinesis IncomingRecords")
    run.check(incoming == len(orders),
              f"AWS/Kinesis IncomingRecords of the stream is {len(orders)}", f"it is {incoming}")
    invocations = run.wait_until(
        lambda: {fn: metric_sum(run, "AWS/Lambda", "Invocations", {"FunctionName": fn})
                 for fn in (py_fn, node_fn)},
        lambda v: all(n >= 1 for n in v.values()), "AWS/Lambda Invocations")
    run.check(all(v >= 1 for v in invocations.values()),
              "AWS/Lambda Invocations counts both functions", str(invocations))

    back = json.loads(cw.get_dashboard(DashboardName=dashboard)["DashboardBody"])
    listed = [d["DashboardName"] for d in
              cw.list_dashboards(DashboardNamePrefix=dashboard)["DashboardEntries"]]
    run.check(back == body and listed == [dashboard],
              f"the dashboard {dashboard} reads back as it was put and is listed",
              f"listed {listed}")


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0], count=100)
    main(pipeline, "Example: producer -> stream -> Python and Node.js consumers", parser)
