"""The timing harness the benchmark scripts share: one pinned thread, interleaved rounds.

A script calls :func:`pin_to_one_core` before it imports NumPy (the BLAS reads its thread
variables when it loads), then times its contenders with :func:`interleaved_rounds`: every
round times each contender once, for as many calls in a row as fill ``seconds`` (a block
of consecutive steps, the steady state). Medians summarise a contender; a ratio between
two contenders is the median of their ratios within a round (:func:`paired_ratio`), which
cancels the slow spells of a shared machine, when whole rounds run 10-30% slow together.
This module imports nothing heavy, so that pinning can come first.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
Timings = dict[str, list[float]]


def pin_to_one_core() -> None:
    """One thread for every BLAS, and this process on one core (call before NumPy loads)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def seconds_per_call(call: Callable[[], object], calls: int) -> float:
    """The mean wall-clock time of ``calls`` calls in a row."""
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def interleaved_rounds(
    calls: dict[str, Callable[[], object]], rounds: int, seconds: float
) -> tuple[Timings, dict[str, int]]:
    """Time every call once per round, in blocks of consecutive calls filling ``seconds``.

    Returns the seconds per call of each contender in each round, and the block sizes.
    """
    blocks = {name: max(1, round(seconds / seconds_per_call(c, 1))) for name, c in calls.items()}
    timings: Timings = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            timings[name].append(seconds_per_call(call, blocks[name]))
    return timings, blocks


def paired_ratio(timings: Timings, top: str, bottom: str) -> float | None:
    """The median over rounds of top's time / bottom's time within the same round.

    Both were timed moments apart, so a slow spell of a shared machine, which can stretch a
    whole round by a tenth or more, cancels out of each ratio. None if either is missing.
    """
    if top not in timings or bottom not in timings:
        return None
    return statistics.median(t / b for t, b in zip(timings[top], timings[bottom], strict=True))


def quartiles(values: list[float]) -> list[float]:
    """The first and third quartiles (the spread that a median comes with)."""
    low, _, high = statistics.quantiles(values, n=4)
    return [low, high]


def result_rows(
    timings: Timings, flops: float, peak: float, errors: dict, unit: str = "step"
) -> dict:
    """Per contender: its median time in ms per ``unit``, its rate and share of ``peak``.

    ``flops`` is the work of one call in operations, ``peak`` the peak product's rate in
    GFLOP/s, ``errors`` each contender's gradient error; the ratios are :func:`paired_ratio`
    against the ``numpy`` and ``backprop`` contenders, and ``torch``'s against each.
    """
    rows = {}
    for contender, values in timings.items():
        gflops = flops / statistics.median(values) / 1e9
        rows[contender] = {
            f"ms_per_{unit}": statistics.median(values) * 1e3,
            "gflops": gflops,
            "percent_of_peak": 100 * gflops / peak,
            "ms_quartiles": [q * 1e3 for q in quartiles(values)],
            "time_vs_numpy": paired_ratio(timings, contender, "numpy"),
            "time_vs_backprop": paired_ratio(timings, contender, "backprop"),
            "speedup_vs_torch": paired_ratio(timings, "torch", contender),
            "gradient_error": errors[contender],
        }
    return rows


def machine(packages: tuple[str, ...]) -> dict:
    """What the numbers were measured on: processor, Python, library versions, threads."""
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    versions = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "cpu": cpu,
        "machine": platform.machine(),
        "cores_visible": os.cpu_count(),
        "cores_used": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "versions": versions,
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


def write_results(path: Path, results: dict, root: Path) -> None:
    """Write the results as JSON and say where (relative to the repository if inside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    print(f"\nwritten to {shown}")
