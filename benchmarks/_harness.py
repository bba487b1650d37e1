"""Shared harness for groundup's benchmarks: each side in its own process, alternating A B A B.

A benchmark script defines its workloads as functions and hands them to :func:`main`::

    def groundup_fit(args):  ...; return {"seconds": t, "accuracy": acc}
    def anchor_fit(args):    ...; return {"seconds": t, "accuracy": acc}

    CASES = {"fit": (groundup_fit, anchor_fit)}
    if __name__ == "__main__":
        main(CASES, anchor="scikit-learn")

Run without arguments, the script re-invokes itself as ``--worker SIDE --case NAME`` in a fresh
process for every measurement (idle OpenBLAS threads of one library slow the other when both share a
process), alternating groundup and the anchor for ``--rounds`` rounds, and prints the median of each
metric and the ratio of median seconds groundup/anchor. A worker prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable

Workload = Callable[[argparse.Namespace], dict]


def _parser(anchor: str, extra: Callable[[argparse.ArgumentParser], None] | None):
    parser = argparse.ArgumentParser(description=f"groundup vs {anchor}, each side in its own process")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per case")
    parser.add_argument("--case", action="append", help="run only these cases (repeatable)")
    parser.add_argument("--worker", choices=["groundup", "anchor"], help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the summary to this JSON file")
    parser.add_argument("--threads", type=int, default=None,
                        help="pin both sides to N BLAS/OpenMP threads (fairer on a busy machine)")
    if extra is not None:
        extra(parser)
    return parser


def _run_worker(script: str, side: str, case: str, passthrough: list[str],
                threads: int | None = None) -> dict | None:
    cmd = [sys.executable, script, "--worker", side, "--case", case, *passthrough]
    env = dict(os.environ)
    if threads:
        # set before the worker starts, so OpenBLAS and torch size their pools from it
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "GROUNDUP_NUM_THREADS"):
            env[var] = str(threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        print(f"  {side:>8} {case}: failed: {tail[0]}", file=sys.stderr)
        return None
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if not lines:
        return None
    result = json.loads(lines[-1])
    if result.get("skipped"):
        print(f"  {side:>8} {case}: skipped ({result['skipped']})", file=sys.stderr)
        return None
    return result


def main(
    cases: dict[str, tuple[Workload, Workload | None]],
    anchor: str,
    extra_args: Callable[[argparse.ArgumentParser], None] | None = None,
) -> dict:
    parser = _parser(anchor, extra_args)
    args, _ = parser.parse_known_args()
    if args.worker:
        gu, an = cases[args.case[0]]
        fn = gu if args.worker == "groundup" else an
        if fn is None:
            print(json.dumps({"skipped": f"no {anchor} counterpart"}))
            return {}
        try:
            result = fn(args)
        except ImportError as exc:  # the anchor is optional (torch)
            result = {"skipped": f"{exc}"}
        print(json.dumps(result))
        return result

    # Pass through the script's own options to the workers.
    passthrough = [a for a in sys.argv[1:] if a not in ("--json",)]
    if args.json:
        i = passthrough.index(args.json) if args.json in passthrough else -1
        if i >= 0:
            passthrough.pop(i)
    passthrough = [a for a in passthrough if not a.startswith("--case") and a not in (args.case or [])]
    names = args.case or list(cases)
    summary = {}
    pinned = f", {args.threads} thread(s) each" if args.threads else ""
    print(f"groundup vs {anchor}: {args.rounds} alternating rounds, each side in its own "
          f"process{pinned}")
    for name in names:
        runs: dict[str, list[dict]] = {"groundup": [], "anchor": []}
        for _ in range(args.rounds):
            for side in ("groundup", "anchor"):
                result = _run_worker(sys.argv[0], side, name, passthrough, args.threads)
                if result is not None:
                    runs[side].append(result)
        row = {}
        for side, results in runs.items():
            if results:
                keys = results[0].keys()
                row[side] = {
                    k: statistics.median(r[k] for r in results)
                    for k in keys
                    if isinstance(results[0][k], (int, float))
                }
        if "groundup" in row and "anchor" in row and row["anchor"].get("seconds"):
            row["ratio"] = row["groundup"]["seconds"] / row["anchor"]["seconds"]
        summary[name] = row
        _print_row(name, row, anchor)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    return summary


def _fmt(metrics: dict) -> str:
    parts = []
    for k, v in metrics.items():
        if k == "seconds":
            parts.append(f"{v * 1e3:.3f} ms" if v < 1 else f"{v:.2f} s")
        else:
            parts.append(f"{k}={v:.4g}")
    return ", ".join(parts)


def _print_row(name: str, row: dict, anchor: str) -> None:
    print(f"{name}")
    if "groundup" in row:
        print(f"  groundup : {_fmt(row['groundup'])}")
    if "anchor" in row:
        print(f"  {anchor:<9}: {_fmt(row['anchor'])}")
    if "ratio" in row:
        print(f"  ratio groundup/{anchor} = {row['ratio']:.2f}x")
    else:
        print(f"  ratio: n/a ({anchor} not available)")


def median_time(fn: Callable[[], object], repeats: int = 20, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls after ``warmup`` calls."""
    import time

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
