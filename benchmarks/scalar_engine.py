"""Time the scalar engine, backprop.scalar.Value, against micrograd: nodes per second.

Usage: python benchmarks/scalar_engine.py [--quick] [--output FILE]

Two workloads, each run on both engines by the same code (the engines share an API):

- micrograd's demo: an MLP(2, [16, 16, 1]) with ReLU, its max-margin loss with L2
  regularisation on 100 two-moons points, built and back-propagated once per step. The
  graph has about 66,000 nodes.
- chains of 10^3 to 10^6 ReLU nodes, each the input of the next: the depth that a
  recursive topological sort cannot reach.

A step is the forward pass that builds the graph plus ``backward()``; the rate is the
graph's nodes divided by the step's time (median of interleaved rounds). Python's garbage
collector stays on, as it is for a reader; a full collection before each timed step (not
timed) keeps one engine's leftover garbage out of the other's timings. micrograd is used
if installed (``pip install micrograd``); its recursive ``backward`` raises RecursionError
on deep chains, and the first depth at which it does is recorded, with the deepest chain
it manages. Results go to ``benchmarks/results/scalar_engine.json``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backprop.scalar import Value  # noqa: E402

DEPTHS = (10**3, 10**4, 10**5, 10**6)


def engines() -> tuple[dict[str, type], list[str]]:
    """The Value classes to compare, and a message for each engine that is not installed."""
    found: dict[str, type] = {"backprop": Value}
    try:
        from micrograd.engine import Value as MicrogradValue
    except ImportError:
        return found, ["micrograd is not installed: skipped (pip install micrograd)"]
    found["micrograd"] = MicrogradValue
    return found, []


def parents(node) -> tuple:
    """A node's inputs, in either engine."""
    return node.parents if isinstance(node, Value) else tuple(node._prev)


def count_nodes(root) -> int:
    """The number of distinct nodes the graph of ``root`` holds (an iterative search)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in parents(stack.pop()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


# -- micrograd's demo ----------------------------------------------------------------------


def two_moons(n: int = 100, noise: float = 0.1) -> tuple[list[list[float]], list[int]]:
    """scikit-learn's two moons (random_state=1, as micrograd's demo), labels -1 and +1."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=1)
    return X.tolist(), [2 * int(label) - 1 for label in y]


def make_mlp(engine: type, sizes=(2, 16, 16, 1), seed: int = 1337) -> list:
    """Layers of neurons (weights, bias) with weights uniform in [-1, 1], as micrograd's."""
    rng = random.Random(seed)
    return [
        [([engine(rng.uniform(-1, 1)) for _ in range(n_in)], engine(0.0)) for _ in range(n_out)]
        for n_in, n_out in zip(sizes, sizes[1:], strict=False)
    ]


def parameters(mlp: list) -> list:
    return [p for layer in mlp for weights, bias in layer for p in (*weights, bias)]


def score(mlp: list, x: list) -> object:
    """The MLP's output: ReLU on every layer but the last, as micrograd.nn.MLP."""
    for index, layer in enumerate(mlp):
        x = [
            sum((w * xi for w, xi in zip(weights, x, strict=True)), bias) for weights, bias in layer
        ]
        if index < len(mlp) - 1:
            x = [a.relu() for a in x]
    return x[0]


def demo_loss(engine: type, mlp: list, X: list, y: list) -> object:
    """The loss of micrograd's demo: mean max-margin loss plus 1e-4 times the squared weights."""
    scores = [score(mlp, [engine(v) for v in row]) for row in X]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + 1e-4 * sum(p * p for p in parameters(mlp))


def demo_step(engine: type, mlp: list, X: list, y: list) -> tuple[float, float]:
    """One step, zero_grad + build + backward; return the seconds spent building and back."""
    for p in parameters(mlp):
        p.grad = 0.0
    gc.collect()  # each step starts from a clean heap, not with the garbage of the last one
    start = time.perf_counter()
    loss = demo_loss(engine, mlp, X, y)
    built = time.perf_counter()
    loss.backward()
    return built - start, time.perf_counter() - built


def measure_demo(found: dict[str, type], rounds: int) -> dict:
    """Build and back-propagate the demo's graph in interleaved rounds; medians per engine."""
    X, y = two_moons()
    models = {name: make_mlp(engine) for name, engine in found.items()}
    results = {}
    gradients = {}
    for name, engine in found.items():
        loss = demo_loss(engine, models[name], X, y)
        loss.backward()
        gradients[name] = [p.grad for p in parameters(models[name])]
        results[name] = {"nodes": count_nodes(loss), "loss": loss.data, "build": [], "backward": []}
        del loss
    if "micrograd" in gradients:  # the same graph must give the same gradients
        worst = max(abs(a - b) for a, b in zip(*gradients.values(), strict=True))
        if worst > 1e-9:
            raise SystemExit(f"the engines' gradients differ by {worst:.2e}")
    for _ in range(rounds):
        for name, engine in found.items():
            build, back = demo_step(engine, models[name], X, y)
            results[name]["build"].append(build)
            results[name]["backward"].append(back)
    for row in results.values():
        row["build_ms"] = statistics.median(row["build"]) * 1e3
        row["backward_ms"] = statistics.median(row["backward"]) * 1e3
        step = statistics.median(b + f for b, f in zip(row["build"], row["backward"], strict=True))
        row["step_ms"] = step * 1e3
        row["nodes_per_second"] = row["nodes"] / step
    return results


# -- deep chains ---------------------------------------------------------------------------


def chain_step(engine: type, depth: int) -> tuple[float, float, float]:
    """Build x -> relu -> relu -> ... (depth nodes after x), back-propagate; return timings."""
    x = engine(0.5)
    gc.collect()
    start = time.perf_counter()
    y = x
    for _ in range(depth):
        y = y.relu()
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    if x.grad != 1.0:
        raise SystemExit(f"chain of {depth}: dy/dx = {x.grad}, expected 1")
    return built - start, done - built, depth + 1


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
            steps = []
            try:
                for _ in range(rounds if depth < 10**6 else 1):
                    steps.append(chain_step(engine, depth))
            except RecursionError:
                row["failed_at"] = depth
                row["deepest_that_works"] = deepest_that_works(engine, depth)
                continue
            build = statistics.median(s[0] for s in steps)
            back = statistics.median(s[1] for s in steps)
            row["chains"].append(
                {
                    "depth": depth,
                    "nodes": steps[0][2],
                    "build_ms": build * 1e3,
                    "backward_ms": back * 1e3,
                    "nodes_per_second": steps[0][2] / (build + back),
                }
            )
    return results


def machine() -> dict:
    try:
        micrograd = importlib.metadata.version("micrograd")
    except importlib.metadata.PackageNotFoundError:
        micrograd = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "micrograd": micrograd,
        "gc_enabled": gc.isenabled(),
        "recursion_limit": sys.getrecursionlimit(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, chains up to 10^5")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks/results/scalar_engine.json"
    )
    args = parser.parse_args()
    rounds, depths = (3, DEPTHS[:3]) if args.quick else (9, DEPTHS)
    found, skipped = engines()
    for message in skipped:
        print(message)
    demo = measure_demo(found, rounds)
    chains = measure_chains(found, depths, rounds)
    results = {
        "machine": machine(),
        "rounds": rounds,
        "skipped": skipped,
        "demo": demo,
        "chains": chains,
    }
    if "micrograd" in demo:
        results["demo_speedup"] = (
            demo["backprop"]["nodes_per_second"] / demo["micrograd"]["nodes_per_second"]
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")

    print(f"micrograd's demo, MLP(2, [16, 16, 1]) on 100 points (median of {rounds} rounds):")
    print(f"{'engine':<10} {'nodes':>7} {'build ms':>9} {'back ms':>8} {'nodes/s':>11}")
    for name, row in demo.items():
        print(
            f"{name:<10} {row['nodes']:7d} {row['build_ms']:9.1f} {row['backward_ms']:8.1f} "
            f"{row['nodes_per_second']:11,.0f}"
        )
    if "demo_speedup" in results:
        print(f"backprop / micrograd: {results['demo_speedup']:.2f}x the nodes per second")
    print("\nchains of ReLU nodes:")
    for name, row in chains.items():
        for chain in row["chains"]:
            print(
                f"{name:<10} depth {chain['depth']:>8,}  build {chain['build_ms']:9.1f} ms  "
                f"back {chain['backward_ms']:9.1f} ms  {chain['nodes_per_second']:11,.0f} nodes/s"
            )
        if row["failed_at"]:
            print(
                f"{name:<10} depth {row['failed_at']:>8,}  RecursionError "
                f"(the deepest chain that works: {row['deepest_that_works']:,})"
            )
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
