# SPDX-License-Identifier: Apache-2.0
"""Load from several client processes, for the boto3-driven benchmarks (s3.py, firehose.py).

boto3 costs about a millisecond of CPU per request, under the GIL: threads of one Python
process cap the request rate well below what a fast server takes. Each worker here is its own
process (forked, so it inherits the benchmark's functions) with its own boto3 client. Workers
build their client and send one warm-up request, meet at a barrier, then run their share; the
phase's wall time runs from the barrier to the last worker's end.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import time
from typing import Callable

_CTX = mp.get_context("fork")


def _worker(work: Callable[[int], int], setup: Callable[[int], None] | None, index: int,
            barrier, out) -> None:
    try:
        if setup is not None:
            setup(index)
        barrier.wait(timeout=120)
        t0 = time.time()
        done = work(index)
        out.put((index, t0, time.time(), done, None))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
        out.put((index, 0.0, 0.0, 0, f"{type(e).__name__}: {e}"))


def run(clients: int, work: Callable[[int], int], setup: Callable[[int], None] | None = None,
        timeout: float = 900.0) -> tuple[float, int]:
    """Runs `work(index)` in `clients` processes after `setup(index)`; returns the wall time
    from the barrier to the last end and the sum of what `work` returned. Raises on any
    worker's error or after `timeout` seconds (the workers are killed)."""
    barrier = _CTX.Barrier(clients)
    out = _CTX.Queue()
    procs = [_CTX.Process(target=_worker, args=(work, setup, i, barrier, out), daemon=True)
             for i in range(clients)]
    for p in procs:
        p.start()
    results = []
    deadline = time.monotonic() + timeout
    try:
        while len(results) < clients:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"workers did not finish within {timeout:.0f} s")
            try:
                results.append(out.get(timeout=min(left, 5.0)))
            except Exception:  # noqa: BLE001 - queue.Empty: check liveness and wait on
                if all(not p.is_alive() for p in procs) and out.empty():
                    raise RuntimeError("a worker died without reporting") from None
    finally:
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGKILL)
            p.join(timeout=5)
    # A failing worker breaks the barrier for the others: report its own error first.
    errors = sorted((r[4] for r in results if r[4]), key=lambda e: e.startswith("BrokenBarrierError"))
    if errors:
        raise RuntimeError(f"worker failed: {errors[0]}")
    start = min(r[1] for r in results)
    end = max(r[2] for r in results)
    return end - start, sum(r[3] for r in results)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
