"""Time the scalar engine, backprop.scalar.Value, against micrograd: nodes per second.

Usage: python benchmarks/scalar_engine.py [--quick] [--output FILE]

Two workloads, run on both engines by the same code (the engines share an API):

- micrograd's demo: an MLP(2, [16, 16, 1]) with ReLU and its max-margin loss with L2
  regularisation on 100 two-moons points, built and back-propagated once per step (a graph
  of about 66,000 nodes);
- chains of 10^3 to 10^6 ReLU nodes, each the input of the next: the depth that a
  recursive topological sort cannot reach.

A step builds the graph and calls ``backward()``; the rate is the graph's nodes over the
step's time (median of interleaved rounds, ``harness.py``). Python's garbage collector stays
on, as it is for a reader; a full collection before each step (not timed) keeps one
engine's garbage out of the other's timing. micrograd is used if installed (``pip install
micrograd``); its recursive ``backward`` raises RecursionError on deep chains, and the first
depth at which it does is recorded, with the deepest chain it manages.

The control run: every round of the demo also times each engine with the collector off
(``gc.disable()`` around the timed build and backward pass, the collection before the step
still made), right after its step with the collector on. The results file keeps the two
under ``demo`` (collector on) and ``demo_gc_off``, each with every round's times, so the
collector's share of a step is a ratio within a round.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import harness  # noqa: E402

from backprop.scalar import Value  # noqa: E402

DEPTHS = (10**3, 10**4, 10**5, 10**6)


def engines() -> tuple[dict[str, type], list[str]]:
    """The Value classes to compare, and a message for each engine that is not installed."""
    try:
        from micrograd.engine import Value as MicrogradValue
    except ImportError:
        return {"backprop": Value}, ["micrograd is not installed: skipped"]
    return {"backprop": Value, "micrograd": MicrogradValue}, []


def count_nodes(root) -> int:
    """The number of distinct nodes in the graph of ``root`` (an iterative search)."""
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        for parent in node.parents if isinstance(node, Value) else node._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def two_moons(n: int = 100) -> tuple[list[list[float]], list[int]]:
    """scikit-learn's two moons (noise 0.1, random_state=1, as micrograd's demo), labels ±1."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=0.1, random_state=1)
    return X.tolist(), [2 * int(label) - 1 for label in y]


def make_mlp(engine: type, sizes=(2, 16, 16, 1), seed: int = 1337) -> list:
    """Layers of neurons (weights, bias), weights uniform in [-1, 1] as micrograd's."""
    rng = random.Random(seed)
    return [
        [([engine(rng.uniform(-1, 1)) for _ in range(n_in)], engine(0.0)) for _ in range(n_out)]
        for n_in, n_out in zip(sizes, sizes[1:], strict=False)
    ]


def parameters(mlp: list) -> list:
    return [p for layer in mlp for weights, bias in layer for p in (*weights, bias)]


def demo_loss(engine: type, mlp: list, X: list, y: list) -> object:
    """The demo's loss: mean max-margin loss plus 1e-4 times the squared weights."""
    scores = []
    for row in X:
        a = [engine(v) for v in row]
        for index, layer in enumerate(mlp):  # ReLU on every layer but the last
            a = [sum((w * x for w, x in zip(ws, a, strict=True)), bias) for ws, bias in layer]
            a = [z.relu() for z in a] if index < len(mlp) - 1 else a
        scores.append(a[0])
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in parameters(mlp))


def timed_step(build, zero=(), collector: bool = True) -> tuple[float, float]:
    """Zero the gradients, collect garbage (untimed), build and back-propagate: the seconds.

    With ``collector=False`` the garbage collector is off while the step is timed, and is
    switched back to the state it was in afterwards.
    """
    for p in zero:
        p.grad = 0.0
    gc.collect()
    was_enabled = gc.isenabled()
    if not collector:
        gc.disable()
    try:
        start = time.perf_counter()
        out = build()
        built = time.perf_counter()
        out.backward()
        done = time.perf_counter()
    finally:
        if was_enabled:
            gc.enable()
    return built - start, done - built


def measure_demo(found: dict[str, type], rounds: int) -> tuple[dict, dict]:
    """Build and back-propagate the demo's graph in interleaved rounds; medians per engine.

    Each round times every engine with the collector on, then at once with it off (the
    control run). Returns the two sets of results: collector on, collector off.
    """
    X, y = two_moons()
    mlps = {name: make_mlp(engine) for name, engine in found.items()}
    results: dict[bool, dict] = {True: {}, False: {}}
    gradients = {}
    for name, engine in found.items():
        loss = demo_loss(engine, mlps[name], X, y)
        loss.backward()
        gradients[name] = [p.grad for p in parameters(mlps[name])]
        for collector in results:
            results[collector][name] = {
                "nodes": count_nodes(loss),
                "loss": loss.data,
                "build": [],
                "backward": [],
            }
    if len(gradients) == 2:  # the same graph must give the same gradients
        worst = max(abs(a - b) for a, b in zip(*gradients.values(), strict=True))
        if worst > 1e-9:
            raise SystemExit(f"the engines' gradients differ by {worst:.2e}")
    for _ in range(rounds):
        for name, engine in found.items():
            mlp = mlps[name]
            for collector, rows in results.items():
                build, back = timed_step(
                    lambda e=engine, m=mlp: demo_loss(e, m, X, y), parameters(mlp), collector
                )
                rows[name]["build"].append(build)
                rows[name]["backward"].append(back)
    for rows in results.values():
        for row in rows.values():
            row["build_ms"] = statistics.median(row["build"]) * 1e3
            row["backward_ms"] = statistics.median(row["backward"]) * 1e3
            steps = [b + f for b, f in zip(row["build"], row["backward"], strict=True)]
            step = statistics.median(steps)
            row["step_ms"], row["nodes_per_second"] = step * 1e3, row["nodes"] / step
    return results[True], results[False]


def chain_step(engine: type, depth: int) -> tuple[float, float, int]:
    """Build x -> relu -> relu -> ... (depth nodes after x), back-propagate; the seconds."""
    x = engine(0.5)

    def chain():
        y = x
        for _ in range(depth):
            y = y.relu()
        return y

    build, back = timed_step(chain)
    if x.grad != 1.0:
        raise SystemExit(f"chain of {depth}: dy/dx = {x.grad}, expected 1")
    return build, back, depth + 1


def deepest_that_works(engine: type, failing: int) -> int:
    """Bisect for the longest chain that ``engine`` back-propagates, below a failing depth."""
    low, high = 0, failing
    while high - low > 1:
        middle = (low + high) // 2
        try:
            chain_step(engine, middle)
            low = middle
        except RecursionError:
            high = middle
    return low


def measure_chains(found: dict[str, type], depths: tuple[int, ...], rounds: int) -> dict:
    """Nodes per second on each chain; for an engine that fails, the depth where it did."""
    results = {name: {"chains": [], "failed_at": None} for name in found}
    for depth in depths:
        for name, engine in found.items():
            row = results[name]
            if row["failed_at"] is not None:
                continue
            try:
                steps = [chain_step(engine, depth) for _ in range(rounds if depth < 10**6 else 1)]
            except RecursionError:
                row["failed_at"] = depth
                row["deepest_that_works"] = deepest_that_works(engine, depth)
                continue
            build, back = (statistics.median(s[i] for s in steps) for i in (0, 1))
            row["chains"].append(
                {
                    "depth": depth,
                    "nodes": depth + 1,
                    "build_ms": build * 1e3,
                    "backward_ms": back * 1e3,
                    "nodes_per_second": (depth + 1) / (build + back),
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, chains up to 10^5")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks/results/scalar_engine.json"
    )
    args = parser.parse_args()
    rounds, depths = (3, DEPTHS[:3]) if args.quick else (9, DEPTHS)
    found, skipped = engines()
    print("\n".join(skipped))
    demo, demo_gc_off = measure_demo(found, rounds)
    chains = measure_chains(found, depths, rounds)
    machine = harness.machine(("micrograd",))
    machine.update({"gc_enabled": gc.isenabled(), "recursion_limit": sys.getrecursionlimit()})
    machine["gc_thresholds"] = list(gc.get_threshold())
    results = {"machine": machine, "rounds": rounds, "skipped": skipped}
    results.update({"demo": demo, "chains": chains, "demo_gc_off": demo_gc_off})
    if "micrograd" in demo:
        rates = [demo[name]["nodes_per_second"] for name in ("backprop", "micrograd")]
        results["demo_speedup"] = rates[0] / rates[1]
    for title, rows in [("collector on", demo), ("control run, collector off", demo_gc_off)]:
        print(f"micrograd's demo, MLP(2, [16, 16, 1]) on 100 points, {title} "
              f"(median of {rounds} rounds):")  # fmt: skip
        for name, row in rows.items():
            print(
                f"{name:<10} {row['nodes']:7d} nodes  build {row['build_ms']:7.1f} ms  "
                f"back {row['backward_ms']:6.1f} ms  {row['nodes_per_second']:11,.0f} nodes/s"
            )
    for name, row in chains.items():
        for chain in row["chains"]:
            rate = chain["nodes_per_second"]
            print(f"{name:<10} chain of {chain['depth']:>9,}: {rate:11,.0f} nodes/s")
        if row["failed_at"]:
            print(f"{name:<10} chain of {row['failed_at']:>9,}: RecursionError "
                  f"(the deepest that works: {row['deepest_that_works']:,})")  # fmt: skip
    harness.write_results(args.output, results, ROOT)


if __name__ == "__main__":
    main()
