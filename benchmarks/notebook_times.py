"""Time each chapter notebook executed top to bottom in a fresh kernel.

Usage: python benchmarks/notebook_times.py [--repeat N] [notebook ...]

Prints the median wall-clock time per notebook over N runs (default 3), the
budget being well under 30 s each on a 2-core machine. The notebooks on disk
are not modified.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 30.0


def execute_seconds(path: Path) -> float:
    """Execute ``path`` in a fresh kernel (cwd = its folder) and return the wall-clock seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    header = f"{'notebook':40s} {'median s':>9s} {'min s':>7s} {'max s':>7s}"
    print(f"{header}  budget {BUDGET_SECONDS:.0f} s")
    for path in paths:
        times = [execute_seconds(path) for _ in range(args.repeat)]
        flag = "" if max(times) < BUDGET_SECONDS else "  OVER BUDGET"
        median = statistics.median(times)
        print(f"{path.name:40s} {median:9.2f} {min(times):7.2f} {max(times):7.2f}{flag}")


if __name__ == "__main__":
    main()
