"""Time one training step of an MLP: the package against NumPy, PyTorch and autograd.

Usage: python benchmarks/mlp_step.py [--quick] [--shapes I ...] [--output FILE]

A step is what ``backprop.optim.train`` does per mini-batch: forward through
Linear-ReLU-...-Linear, softmax cross-entropy, backward (no dC/dX), a plain SGD update. The
contenders get the same weights and batch: ``backprop`` (the package's ``train_step``, every
check included), ``numpy`` (a minimal step in NumPy alone, checking nothing: the floor),
``torch`` and ``autograd`` (if installed; neither is a requirement of the book), and
``gemms`` (the step's matrix products alone, which no framework can avoid). Their gradients
are compared with a float64 reference first. Timing is ``harness.py``'s; one large product
runs first (OpenBLAS runs small float32 products slowly until one has), and the peak is
NumPy's 1024^3 product in the same rounds. The results, every round included, go to
``benchmarks/results/mlp_step.json``, which the book's performance appendix reads.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import harness  # noqa: E402

if __name__ == "__main__":  # a script: one thread on one core, before NumPy loads
    harness.pin_to_one_core()

import numpy as np  # noqa: E402

from backprop.gradcheck import relative_error  # noqa: E402
from backprop.nn import Linear, ReLU, Sequential, softmax_cross_entropy  # noqa: E402
from backprop.optim import SGD, train_step  # noqa: E402

SHAPES = (((64, 128, 10), 64), ((784, 256, 256, 10), 128), ((1024, 2048, 2048, 10), 512))
DTYPES = ("float32", "float64")
LEARNING_RATE = 1e-3
PEAK_SIZE = 1024
# The book's relative error per parameter, against float64 NumPy. In float32 a few
# pre-activations within rounding of 0 land on the other side of the ReLU kink (about 1e-3
# at the large shape for NumPy's own float32 step), hence the looser bound.
GRADIENT_TOLERANCE = {"float32": 5e-3, "float64": 1e-10}

Params = list[tuple[np.ndarray, np.ndarray]]


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
    """The package's step as ``backprop.optim.train`` takes it, checks included."""

    name = "backprop"

    def __init__(self, params: Params, dtype: str):
        rng = np.random.default_rng(0)
        modules = []
        for W, b in params:
            layer = Linear(W.shape[1], W.shape[0], rng, dtype=dtype)
            layer.W[...], layer.b[...] = W, b
            modules += [layer, ReLU()]
        self.model = Sequential(*modules[:-1])
        self.model.needs_input_grad = False  # as train() sets it
        self.optimizer = SGD(self.model, lr=LEARNING_RATE)

    def gradients(self, X: np.ndarray, y: np.ndarray) -> Params:
        _, dlogits = softmax_cross_entropy(self.model.forward(X), y)
        self.model.backward(dlogits)
        flat = self.model.gradients()
        return [(flat[i].copy(), flat[i + 1].copy()) for i in range(0, len(flat), 2)]

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        train_step(self.model, self.optimizer, X, y)


class TorchStep:
    """PyTorch on the CPU: nn.Sequential, F.cross_entropy, optim.SGD, with its defaults."""

    name = "torch"

    def __init__(self, params: Params, dtype: str):
        import torch

        torch.set_num_threads(1)
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
    contenders, skipped = [BackpropStep, NumpyStep], []
    for cls in (TorchStep, AutogradStep):
        if importlib.util.find_spec(cls.name) is None:
            skipped.append(f"{cls.name} is not installed: skipped")
        else:
            contenders.append(cls)
    return contenders + [GemmsOnly], skipped


def step_flops(widths: tuple[int, ...], batch: int) -> int:
    """Floating-point operations in the step's matrix products.

    Each layer costs 2 m n_in n_out (m the batch size) in the forward product and the same in
    dW; dX = G W costs it once more in every layer but the first, whose input needs no
    gradient.
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
    timings, repeats = harness.interleaved_rounds(calls, rounds, seconds)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    peak = 2 * PEAK_SIZE**3 / medians.pop("gemm_peak") / 1e9
    flops = step_flops(widths, batch)
    rows = {}
    for name, median in medians.items():
        rows[name] = {
            "ms_per_step": median * 1e3,
            "ms_quartiles": [q * 1e3 for q in harness.quartiles(timings[name])],
            "gflops": flops / median / 1e9,
            "percent_of_peak": 100 * flops / median / 1e9 / peak,
            "speedup_vs_torch": harness.paired_ratio(timings, "torch", name),
            "time_vs_numpy": harness.paired_ratio(timings, name, "numpy"),
            "time_vs_numpy_quartiles": _paired_quartiles(timings, name, "numpy"),
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


def _paired_quartiles(timings: harness.Timings, top: str, bottom: str) -> list[float]:
    """The quartiles of top's time / bottom's time over the rounds (the spread of the ratio)."""
    return harness.quartiles([t / b for t, b in zip(timings[top], timings[bottom], strict=True)])


def loops_against_matrices(rounds: int) -> dict:
    """Chapter 5's comparison: one example of 784 -> 256 -> 10 by loops and by matrices."""
    from backprop.book.assembly import gradients_by_loops, gradients_by_matrices
    from backprop.book.network import init_mlp

    rng = np.random.default_rng(0)
    weights, biases = init_mlp((784, 256, 10), rng)
    example = (rng.standard_normal(784), 3, weights, biases)
    calls = {
        "loops": lambda: gradients_by_loops(*example),
        "matrices": lambda: gradients_by_matrices(*example),
    }
    timings, _ = harness.interleaved_rounds(calls, rounds, seconds=0.05)
    loops, matrices = (statistics.median(timings[name]) for name in calls)
    return {
        "widths": [784, 256, 10],
        "loops_ms": loops * 1e3,
        "matrices_ms": matrices * 1e3,
        "ratio": harness.paired_ratio(timings, "loops", "matrices"),
    }


def blas() -> str:
    """NumPy's BLAS library and its version, where NumPy reports them."""
    try:
        found = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001  (older NumPy does not report it)
        return "unknown"
    return f"{found.get('name')} {found.get('version')}"


def table(blocks: list[dict]) -> str:
    head = (
        f"{'shape':<22} {'dtype':<8} {'contender':<9} {'ms/step':>9} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'vs numpy':>9} {'vs torch':>9}"
    )
    lines = [head, "-" * len(head)]
    for block in blocks:
        shape = "-".join(map(str, block["widths"])) + f" b{block['batch']}"
        for name, row in block["results"].items():
            ratios = (row["time_vs_numpy"], row["speedup_vs_torch"])
            lines.append(
                f"{shape:<22} {block['dtype']:<8} {name:<9} {row['ms_per_step']:9.3f} "
                f"{row['gflops']:8.1f} {row['percent_of_peak']:6.0f}% "
                + " ".join(f"{r:8.2f}x" if r else f"{'-':>9}" for r in ratios)
            )
        lines.append(f"{'':<22} {'':<8} {'peak':<9} {'':>9} {block['peak_gflops']:8.1f}")
    return "\n".join(lines)


def targets(blocks: list[dict]) -> list[dict]:
    """The issues' targets, each with the measured value and whether it is met."""
    rows = {("-".join(map(str, b["widths"])), b["dtype"]): b["results"] for b in blocks}
    small, middle, large = ("-".join(map(str, widths)) for widths, _ in SHAPES)
    wanted = []  # (what, value, text of the value, met)
    for (shape, dtype), found in rows.items():
        ratio = found["backprop"]["time_vs_numpy"]
        wanted.append((f"{shape} {dtype}: within 15% of numpy", f"{ratio:.2f}x", ratio <= 1.15))
    for shape, dtype, least in [(small, "float32", 2), (middle, "float32", 1.1)]:
        if speed := rows.get((shape, dtype), {}).get("backprop", {}).get("speedup_vs_torch"):
            what = f"{shape} {dtype}: >= {least}x torch's speed"
            wanted.append((what, f"{speed:.2f}x", speed >= least))
    for shape, dtype, least in [(middle, "float32", 65), (large, "float32", 90),
                                (large, "float64", 90)]:  # fmt: skip
        if row := rows.get((shape, dtype), {}).get("backprop"):
            peak = row["percent_of_peak"]
            wanted.append(
                (f"{shape} {dtype}: >= {least}% of GEMM peak", f"{peak:.0f}%", peak >= least)
            )
    return [{"target": t, "measured": v, "met": bool(m)} for t, v, m in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds instead of 9")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/mlp_step.json")
    parser.add_argument("--shapes", type=int, nargs="*", default=range(len(SHAPES)))
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (9, 0.2)
    contenders, skipped = available_contenders()
    print("\n".join(skipped))
    warm_up()
    blocks = []
    for widths, batch in (SHAPES[i] for i in args.shapes):
        for dtype in DTYPES:
            blocks.append(measure_block(widths, batch, dtype, contenders, rounds, seconds))
            print(f"measured {'-'.join(map(str, widths))} batch {batch} {dtype}", flush=True)
    loops = loops_against_matrices(rounds)
    checks = targets(blocks)
    settings = {"rounds": rounds, "seconds_per_timing": seconds, "lr": LEARNING_RATE}
    settings.update({"quick": args.quick, "skipped": skipped})
    machine = harness.machine(("numpy", "torch", "autograd")) | {"blas": blas()}
    results = {"machine": machine, "settings": settings, "blocks": blocks}
    results.update({"loops_against_matrices": loops, "targets": checks})
    print(f"\n{table(blocks)}")
    print(
        f"\nloops against matrices, one example of 784-256-10: {loops['loops_ms']:.1f} ms "
        f"against {loops['matrices_ms']:.3f} ms, {loops['ratio']:.0f}x"
    )
    print("\ntargets:")
    for c in checks:
        print(f"  [{'met' if c['met'] else 'NOT met'}] {c['target']}: {c['measured']}")
    harness.write_results(args.output, results, ROOT)


if __name__ == "__main__":
    main()
