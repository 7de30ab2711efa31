"""Wall time of one theory run: sequential vs a 2-process pool (--jobs 2) vs a 2-worker Dask LocalCluster.

    PYTHONPATH=. python benchmarks/bench_executors.py [--size quick|full] [--paper P] [--claim ID ...] [--jobs 2]

Runs the same selection three times in this one process (sequential first, in-process, with the claim
modules already imported; the pool and the cluster include their start-up: spawning the workers and
importing the claim modules there), checks that the three JSON reports are identical apart from timing,
and prints each wall time with its ratio to the sequential one. The ratios are only meaningful on an
otherwise idle machine: the load average before and after is printed with them.

Measured 2026-12-01 on the shared 2-core machine (load average 5.3 before, 8.6 after; 125 quick theory
claims, seed 0): sequential 49.0 s, --jobs 2 80.9 s (0.61x), --dask local 162.2 s (0.30x); the three
reports identical. With two cores already oversubscribed by other users, two workers only add contention
(the sum of the check times grew from 49 s to 148 s on the pool) and each worker pays its own imports and
caches; the Dask workers cost about 2x more per check again (cause not pinned down; the profiler and the
nanny's MALLOC_TRIM_THRESHOLD_, worth 133 s -> 64 s on two claims, are already off). Expect gains only
with idle cores: a workstation or a cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verification import executors as E  # noqa: E402
from verification import report as R  # noqa: E402
from verification.claims import load_all, select  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="quick", choices=["quick", "full"])
    ap.add_argument("--paper", default=None)
    ap.add_argument("--claim", action="append", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    load_all()
    claims = select(paper=args.paper, ids=args.claim, kind="theory")
    runs = [("sequential", E.SequentialExecutor()), (f"--jobs {args.jobs}", E.ProcessExecutor(args.jobs))]
    try:
        runs.append((f"--dask local ({args.jobs} workers)", E.DaskExecutor("local", args.jobs)))
    except ImportError as exc:
        print(f"(no Dask run: {exc})")
    print(f"{len(claims)} theory claims, size {args.size}, seed {args.seed}, {os.cpu_count()} CPUs, "
          f"load average before {os.getloadavg()[0]:.2f}")
    walls, ref = {}, None
    for name, ex in runs:
        t0 = time.perf_counter()
        vs = E.run_claims_on(claims, seed=args.seed, size=args.size, executor=ex)
        walls[name] = time.perf_counter() - t0
        rep = json.dumps(R.strip_timing(R.build_report(claims, vs, seed=args.seed, size=args.size)))
        same = ref is None or rep == ref
        ref = ref or rep
        busy = sum(v.seconds for v in vs)
        print(f"{name:>28}: {walls[name]:8.1f} s wall  (sum of check times {busy:7.1f} s)  "
              f"report {'identical' if same else 'DIFFERENT'}", flush=True)
        if not same:
            return 1
    base = walls["sequential"]
    print("ratios (sequential wall / wall): " + ", ".join(f"{k} {base / v:.2f}x" for k, v in walls.items()))
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
