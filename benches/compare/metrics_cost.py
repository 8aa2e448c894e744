#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Wall-clock cost of CloudWatch metrics on the Kinesis put path: the same release binary
serving with metrics on and with `FRESHET__CLOUDWATCH__METRICS=false`, both servers up at
once, the `services.py` Kinesis scenarios run round by round on each.

    python3 benches/compare/metrics_cost.py              # 3 rounds of 10 s per scenario
    python3 benches/compare/metrics_cost.py --repeat 5

Prints a Markdown table (median run, lowest–highest). The exact figure is the instruction
count (`instructions.py bulk --env FRESHET__CLOUDWATCH__METRICS=false`); this shows what the
difference looks like in throughput on the machine at hand, noise included.
Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import FRESHET, ROOT, get  # noqa: E402
from services import freshet_target, kinesis_scenarios, run_targets  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per scenario and server")
    ap.add_argument("--quick", action="store_true", help="3 s runs instead of 10 s")
    args = ap.parse_args()
    if not FRESHET.exists():
        raise SystemExit(f"{FRESHET} is missing; build it with `cargo build --release -p freshet`")
    on = freshet_target(FRESHET, "metrics on")
    off = freshet_target(FRESHET, "metrics off")
    off.env["FRESHET__CLOUDWATCH__METRICS"] = "false"
    workdir = Path(tempfile.mkdtemp(prefix="freshet-metrics-cost-", dir=ROOT / "target"))
    try:
        res = run_targets([on, off], lambda _t: kinesis_scenarios(args.quick), max(1, args.repeat), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("| scenario | metric | metrics on | metrics off | on ÷ off |")
    print("|---|---|---|---|---|")
    for key, _title, _args, _path in kinesis_scenarios(args.quick):
        cells, meds = [], []
        for label in ("metrics on", "metrics off"):
            r = res[label]["results"][key]
            med = get(r["report"], *r["path"])
            vals = r["values"]
            meds.append(med)
            cells.append("–" if med is None else f"{med:,.0f} ({min(vals):,.0f}–{max(vals):,.0f})")
        ratio = f"{meds[0] / meds[1]:.3f}" if all(meds) else "–"
        title = res["metrics on"]["results"][key]["title"]
        unit = "records/s" if key == "bulk" else "requests/s"
        print(f"| {title} | {unit} | {cells[0]} | {cells[1]} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
