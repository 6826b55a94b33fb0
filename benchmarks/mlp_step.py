"""Time one training step of an MLP: the package against NumPy, PyTorch and autograd.

Usage: python benchmarks/mlp_step.py [--quick] [--output FILE]

A step is what ``backprop.optim.train`` does per mini-batch: forward through
Linear-ReLU-...-Linear, softmax cross-entropy, backward, and a plain SGD update. The
contenders, each given the same weights and the same batch:

- ``backprop``: the package's ``Sequential`` model and ``SGD``, one ``train_step`` as
  ``backprop.optim.train`` takes it (the data were checked once, before the first epoch);
- ``checked``: the same step with every input checked again (``check_input=True``);
- ``numpy``: a minimal step written below with NumPy alone, the floor the package should
  reach (it checks nothing and allocates as little as it can);
- ``torch``: PyTorch's ``nn.Sequential``, ``cross_entropy`` and ``optim.SGD`` on the CPU,
  if PyTorch is installed (``pip install torch``; it is not a requirement of the book);
- ``autograd``: the same network differentiated by HIPS autograd, if installed;
- ``gemms``: only the step's matrix products, on arrays of the same shapes: the part of the
  step that no framework can avoid.

Everything runs single-threaded on one core: the thread variables are set and the process
pinned before NumPy is imported (``taskset -c 0`` from outside does the same). One large
matrix product runs first, because OpenBLAS runs small float32 products slowly until one
has. Before timing, every contender's gradients are compared with the float64 NumPy
reference. Then rounds interleave the contenders, each timing as many steps as fill about
0.2 s (0.05 s with ``--quick``), and the table reports medians over the rounds; a ratio
between two contenders is the median of their ratios within each round, which cancels the
slow spells of a shared machine. The peak is NumPy's own 1024 x 1024 x 1024 product, timed
in the same rounds.

The results (with the machine, the library versions and every round's timings) are written
as JSON to ``benchmarks/results/mlp_step.json``; the book's performance appendix reads it.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
if __name__ == "__main__":  # run as a script: one thread on one core, before NumPy loads
    for _name in THREAD_VARIABLES:
        os.environ[_name] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402  (after the thread variables, on purpose)
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backprop.gradcheck import relative_error  # noqa: E402
from backprop.layers import Linear, ReLU, Sequential  # noqa: E402
from backprop.losses import softmax_cross_entropy  # noqa: E402
from backprop.optim import SGD, train_step  # noqa: E402

SHAPES = (((64, 128, 10), 64), ((784, 256, 256, 10), 128), ((1024, 2048, 2048, 10), 512))
DTYPES = ("float32", "float64")
LEARNING_RATE = 1e-3
PEAK_SIZE = 1024
# The book's relative error ||got - expected|| / max(||got||, ||expected||) per parameter,
# against float64 NumPy. In
# float32 a few pre-activations within rounding of 0 land on the other side of the ReLU kink
# (about 1e-3 at the large shape for NumPy's own float32 step), hence the looser bound.
GRADIENT_TOLERANCE = {"float32": 5e-3, "float64": 1e-10}

Params = list[tuple[np.ndarray, np.ndarray]]


# -- the contenders ------------------------------------------------------------------------


class NumpyStep:
    """The minimal step: plain arrays, in-place updates, no checks; it computes the loss too."""

    name = "numpy"

    def __init__(self, params: Params, dtype: str):
        self.W = [W.astype(dtype) for W, _ in params]
        self.b = [b.astype(dtype) for _, b in params]

    def gradients(self, X: np.ndarray, y: np.ndarray) -> Params:
        activations = [X]
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            Z = activations[-1] @ W.T
            Z += b
            if l < last:
                np.maximum(Z, 0, out=Z)
            activations.append(Z)
        m, rows = len(X), np.arange(len(X))
        G = activations.pop()
        G -= G.max(axis=1, keepdims=True)
        label_logits = G[rows, y]
        np.exp(G, out=G)
        total = G.sum(axis=1, keepdims=True)
        self.loss = float(np.mean(np.log(total[:, 0]) - label_logits))
        G /= total
        G[rows, y] -= 1
        G /= m
        grads = []
        for l in range(last, -1, -1):
            A = activations[l]
            grads.append((G.T @ A, G.sum(axis=0)))
            if l > 0:
                G = G @ self.W[l]
                G *= A > 0
        return grads[::-1]

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        for (W, b), (dW, db) in zip(
            zip(self.W, self.b, strict=True), self.gradients(X, y), strict=True
        ):
            W -= LEARNING_RATE * dW
            b -= LEARNING_RATE * db


class BackpropStep:
    """The package's step as ``backprop.optim.train`` takes it: data checked once, not per step."""

    name = "backprop"
    check_input = False

    def __init__(self, params: Params, dtype: str):
        widths = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
        rng = np.random.default_rng(0)
        modules = []
        for n_in, n_out in zip(widths, widths[1:], strict=False):
            modules += [Linear(n_in, n_out, rng, dtype=dtype), ReLU()]
        self.model = Sequential(*modules[:-1])
        for layer, (W, b) in zip(self.model.modules[::2], params, strict=True):
            layer.W[...], layer.b[...] = W, b
        self.optimizer = SGD(self.model, lr=LEARNING_RATE)

    def gradients(self, X: np.ndarray, y: np.ndarray) -> Params:
        _, dlogits = softmax_cross_entropy(self.model.forward(X), y)
        self.model.backward(dlogits, input_grad=False)
        flat = self.model.gradients()
        return [(flat[i].copy(), flat[i + 1].copy()) for i in range(0, len(flat), 2)]

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        train_step(self.model, self.optimizer, X, y, check_input=self.check_input)


class CheckedBackpropStep(BackpropStep):
    """The package's step with every input checked (shape, dtype, NaN, labels) each time."""

    name = "checked"
    check_input = True


class TorchStep:
    """PyTorch on the CPU: nn.Sequential, F.cross_entropy, optim.SGD, with its defaults."""

    name = "torch"

    def __init__(self, params: Params, dtype: str):
        import torch

        self.torch = torch
        layers = []
        for W, b in params:
            linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=getattr(torch, dtype))
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)

    def _backward(self, X: np.ndarray, y: np.ndarray) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(self.torch.from_numpy(X))
        self.torch.nn.functional.cross_entropy(logits, self.torch.from_numpy(y)).backward()

    def gradients(self, X: np.ndarray, y: np.ndarray) -> Params:
        self._backward(X, y)
        linears = self.model[::2]
        return [(m.weight.grad.numpy().copy(), m.bias.grad.numpy().copy()) for m in linears]

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        self._backward(X, y)
        self.optimizer.step()


class AutogradStep:
    """HIPS autograd differentiating a NumPy-style loss function."""

    name = "autograd"

    def __init__(self, params: Params, dtype: str):
        import autograd
        import autograd.numpy as anp

        self.params = [(W.astype(dtype), b.astype(dtype)) for W, b in params]

        def loss(params, X, y):
            A = X
            for W, b in params[:-1]:
                A = anp.maximum(A @ W.T + b, 0.0)
            W, b = params[-1]
            Z = A @ W.T + b
            Z = Z - anp.max(Z, axis=1, keepdims=True)
            log_p = Z - anp.log(anp.sum(anp.exp(Z), axis=1, keepdims=True))
            return -anp.mean(log_p[anp.arange(len(y)), y])

        self.gradient = autograd.grad(loss)

    def gradients(self, X: np.ndarray, y: np.ndarray) -> Params:
        return [(dW, db) for dW, db in self.gradient(self.params, X, y)]

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        grads = self.gradient(self.params, X, y)
        self.params = [
            (W - LEARNING_RATE * dW, b - LEARNING_RATE * db)
            for (W, b), (dW, db) in zip(self.params, grads, strict=True)
        ]


class GemmsOnly:
    """Only the step's matrix products (forward, dW, and dX for all but the first layer)."""

    name = "gemms"

    def __init__(self, params: Params, dtype: str):
        self.W = [W.astype(dtype) for W, _ in params]

    def gradients(self, X: np.ndarray, y: np.ndarray) -> Params:
        raise NotImplementedError("the GEMMs alone compute no gradient")

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        activations = [X]
        for W in self.W:
            activations.append(activations[-1] @ W.T)
        G = activations.pop()
        for l in range(len(self.W) - 1, -1, -1):
            G.T @ activations[l]
            if l > 0:
                G = G @ self.W[l]


def available_contenders() -> tuple[list[type], list[str]]:
    """The contender classes whose libraries import, and a message for each one skipped."""
    contenders: list[type] = [BackpropStep, CheckedBackpropStep, NumpyStep]
    skipped = []
    for cls, module in ((TorchStep, "torch"), (AutogradStep, "autograd")):
        try:
            __import__(module)
        except ImportError:
            skipped.append(f"{module} is not installed: skipped (pip install {module})")
            continue
        contenders.append(cls)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)
    return contenders + [GemmsOnly], skipped


# -- measuring -----------------------------------------------------------------------------


def step_flops(widths: tuple[int, ...], batch: int) -> int:
    """Floating-point operations in the step's matrix products.

    Each layer costs 2 b n_in n_out in the forward product and the same in dW; dX = G W costs
    it once more in every layer but the first, whose input needs no gradient.
    """
    layer = [2 * batch * n_in * n_out for n_in, n_out in zip(widths, widths[1:], strict=False)]
    return 2 * sum(layer) + sum(layer[1:])


def make_problem(widths, batch, seed=0) -> tuple[Params, np.ndarray, np.ndarray]:
    """Weights initialised as nn.Linear does, a standard-normal batch and random labels."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(widths, widths[1:], strict=False):
        bound = 1 / np.sqrt(n_in)
        W = rng.uniform(-bound, bound, (n_out, n_in))
        params.append((W, rng.uniform(-bound, bound, n_out)))
    X = rng.standard_normal((batch, widths[0]))
    y = rng.integers(0, widths[-1], batch)
    return params, X, y


def worst_relative_error(got: Params, expected: Params) -> float:
    """The largest book relative error (``gradcheck.relative_error``) over the parameters."""
    return max(
        relative_error(np.asarray(g, np.float64), e)
        for pair_got, pair_expected in zip(got, expected, strict=True)
        for g, e in zip(pair_got, pair_expected, strict=True)
    )


def seconds_per_call(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def warm_up() -> None:
    """One large product in each dtype: OpenBLAS is slow on small float32 ones until then."""
    for dtype in DTYPES:
        a = np.ones((PEAK_SIZE, PEAK_SIZE), dtype)
        a @ a


def measure_block(widths, batch, dtype, contenders, rounds, seconds) -> dict:
    """Check the contenders' gradients, then time them in interleaved rounds."""
    params, X64, y = make_problem(widths, batch)
    X = X64.astype(dtype)
    reference = NumpyStep(params, "float64").gradients(X64, y)
    runners, agreement = {}, {}
    for cls in contenders:
        runner = cls(params, dtype)
        if cls is not GemmsOnly:
            error = worst_relative_error(runner.gradients(X, y), reference)
            if error > GRADIENT_TOLERANCE[dtype]:
                raise SystemExit(f"{cls.name} {dtype} {widths}: gradients off by {error:.2e}")
            agreement[cls.name] = error
        runners[cls.name] = runner
    peak_a = np.ones((PEAK_SIZE, PEAK_SIZE), dtype)
    calls = {"gemm_peak": lambda: peak_a @ peak_a}
    calls.update({name: (lambda r=runner: r.step(X, y)) for name, runner in runners.items()})
    repeats = {name: max(1, round(seconds / seconds_per_call(c, 1))) for name, c in calls.items()}
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            timings[name].append(seconds_per_call(call, repeats[name]))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    peak = 2 * PEAK_SIZE**3 / medians.pop("gemm_peak") / 1e9
    flops = step_flops(widths, batch)
    rows = {}
    for name, median in medians.items():
        quartiles = statistics.quantiles(timings[name], n=4)
        rows[name] = {
            "ms_per_step": median * 1e3,
            "ms_quartiles": [quartiles[0] * 1e3, quartiles[2] * 1e3],
            "gflops": flops / median / 1e9,
            "percent_of_peak": 100 * flops / median / 1e9 / peak,
            "speedup_vs_torch": paired_ratio(timings, "torch", name),
            "time_vs_numpy": paired_ratio(timings, name, "numpy"),
            "gradient_error": agreement.get(name),
        }
    return {
        "widths": list(widths),
        "batch": batch,
        "dtype": dtype,
        "step_gflop": flops / 1e9,
        "peak_gflops": peak,
        "repeats": repeats,
        "rounds": timings,
        "results": rows,
    }


def paired_ratio(timings: dict[str, list[float]], top: str, bottom: str) -> float | None:
    """The median over rounds of top's time / bottom's time within the same round.

    Both were timed moments apart, so a slow spell of a shared machine, which can stretch a
    whole round by a tenth or more, cancels out of each ratio.
    """
    if top not in timings or bottom not in timings:
        return None
    return statistics.median(t / b for t, b in zip(timings[top], timings[bottom], strict=True))


def loops_against_matrices(rounds: int) -> dict:
    """Chapter 5's comparison: one example of 784 -> 256 -> 10 by loops and by matrices."""
    from backprop.assembly import gradients_by_loops, gradients_by_matrices
    from backprop.network import init_mlp

    rng = np.random.default_rng(0)
    weights, biases = init_mlp((784, 256, 10), rng)
    x, label = rng.standard_normal(784), 3
    loops = [
        seconds_per_call(lambda: gradients_by_loops(x, label, weights, biases), 1)
        for _ in range(rounds)
    ]
    matrices = [
        seconds_per_call(lambda: gradients_by_matrices(x, label, weights, biases), 50)
        for _ in range(rounds)
    ]
    loops_s, matrices_s = statistics.median(loops), statistics.median(matrices)
    return {
        "widths": [784, 256, 10],
        "loops_ms": loops_s * 1e3,
        "matrices_ms": matrices_s * 1e3,
        "ratio": loops_s / matrices_s,
    }


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    versions = {}
    for package in ("numpy", "torch", "autograd"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001  (older NumPy: the BLAS is not reported)
        blas = "unknown"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "cpu": cpu,
        "machine": platform.machine(),
        "cores_visible": os.cpu_count(),
        "cores_used": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "blas": blas,
        "versions": versions,
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


# -- reporting -----------------------------------------------------------------------------


def table(blocks: list[dict]) -> str:
    head = (
        f"{'shape':<22} {'dtype':<8} {'contender':<9} {'ms/step':>9} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'vs torch':>9}"
    )
    lines = [head, "-" * len(head)]
    for block in blocks:
        shape = "-".join(map(str, block["widths"])) + f" b{block['batch']}"
        for name, row in block["results"].items():
            speed = row["speedup_vs_torch"]
            lines.append(
                f"{shape:<22} {block['dtype']:<8} {name:<9} {row['ms_per_step']:9.3f} "
                f"{row['gflops']:8.1f} {row['percent_of_peak']:6.0f}% "
                + (f"{speed:8.2f}x" if speed else f"{'-':>9}")
            )
        lines.append(f"{'':<22} {'':<8} {'peak':<9} {'':>9} {block['peak_gflops']:8.1f}")
    return "\n".join(lines)


def targets(blocks: list[dict]) -> list[dict]:
    """The issue's targets, each with the measured value and whether it is met."""
    found = {(tuple(b["widths"]), b["dtype"]): b["results"] for b in blocks}
    checks = []

    def check(text, value, met):
        checks.append({"target": text, "measured": value, "met": bool(met)})

    for (widths, dtype), rows in found.items():
        ratio = rows["backprop"]["time_vs_numpy"]
        shape = "-".join(map(str, widths))
        check(
            f"{shape} {dtype}: backprop within 15% of numpy",
            f"{ratio:.2f}x numpy's time",
            ratio <= 1.15,
        )
    small, middle, large = (tuple(s[0]) for s in SHAPES)

    def backprop_row(widths, dtype):
        return found.get((widths, dtype), {}).get("backprop")

    def torch_ratio(widths, dtype):
        row = backprop_row(widths, dtype)
        return None if row is None else row["speedup_vs_torch"]

    if (speed := torch_ratio(small, "float32")) is not None:
        check("64-128-10 float32: >= 2x faster than torch", f"{speed:.2f}x", speed >= 2)
    if (speed := torch_ratio(middle, "float32")) is not None:
        check("784-256-256-10 float32: >= 1.1x faster than torch", f"{speed:.2f}x", speed >= 1.1)
    for dtype in DTYPES:
        if (speed := torch_ratio(large, dtype)) is not None:
            check(
                f"1024-2048-2048-10 {dtype}: within 10% of torch", f"{speed:.2f}x", speed >= 1 / 1.1
            )
    if row := backprop_row(middle, "float32"):
        check(
            "784-256-256-10 float32: >= 65% of GEMM peak",
            f"{row['percent_of_peak']:.0f}%",
            row["percent_of_peak"] >= 65,
        )
    for dtype in DTYPES:
        if row := backprop_row(large, dtype):
            check(
                f"1024-2048-2048-10 {dtype}: >= 90% of GEMM peak",
                f"{row['percent_of_peak']:.0f}%",
                row["percent_of_peak"] >= 90,
            )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds instead of 9")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/mlp_step.json")
    parser.add_argument(
        "--shapes",
        type=int,
        nargs="*",
        default=range(len(SHAPES)),
        help="indices into SHAPES (default: all three)",
    )
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (9, 0.2)
    contenders, skipped = available_contenders()
    for message in skipped:
        print(message)
    warm_up()
    blocks = []
    for widths, batch in (SHAPES[i] for i in args.shapes):
        for dtype in DTYPES:
            blocks.append(measure_block(widths, batch, dtype, contenders, rounds, seconds))
            print(f"measured {'-'.join(map(str, widths))} batch {batch} {dtype}", flush=True)
    loops = loops_against_matrices(rounds)
    checks = targets(blocks)
    results = {
        "machine": machine(),
        "settings": {
            "rounds": rounds,
            "seconds_per_timing": seconds,
            "lr": LEARNING_RATE,
            "quick": args.quick,
            "skipped": skipped,
        },
        "blocks": blocks,
        "loops_against_matrices": loops,
        "targets": checks,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    print()
    print(table(blocks))
    print(
        f"\nloops against matrices, one example of 784-256-10: {loops['loops_ms']:.1f} ms "
        f"against {loops['matrices_ms']:.3f} ms, {loops['ratio']:.0f}x"
    )
    print("\ntargets:")
    for c in checks:
        print(f"  [{'met' if c['met'] else 'NOT met'}] {c['target']}: {c['measured']}")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nwritten to {shown}")


if __name__ == "__main__":
    main()
