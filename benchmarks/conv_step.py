"""Time training steps of convolutional networks: the package against NumPy and PyTorch.

Usage: python benchmarks/conv_step.py [--quick] [--output FILE]

Three workloads, each a full training step (forward, backward, plain SGD update) on a fixed
batch: chapter 9's digits CNN (two 3x3 convolutions with 16 and 32 channels, max pooling,
a Linear layer; 1x8x8 images, batch 64), a LeNet-like network (two 5x5 convolutions, three
Linear layers; 1x28x28, batch 64), both with softmax cross-entropy, and one wide convolution
layer alone (batch 32, 32 -> 64 channels, 32x32, 3x3, padding 1) whose cost is the sum of its
output times a fixed random array. The contenders: ``backprop`` (the package's layers,
``Sequential`` and ``SGD``, every check included), ``numpy`` (a minimal step written below in
plain NumPy: im2col by one strided copy per kernel offset and one matrix product per
convolution, pooling by one slice per window offset), ``torch`` (PyTorch on the CPU, if
installed) and ``gemms`` (the step's matrix products alone, on arrays of their shapes, which
no step can avoid); each row also gives the step's rate as a percentage of a large matrix product's
(the machine's GEMM peak on one core). Gradients are compared before anything is timed;
the timing is ``harness.py``'s (one pinned thread, interleaved rounds, medians and paired
ratios). Results go to ``benchmarks/results/conv_step.json``, which the convolution chapter
and the performance appendix read.
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
from backprop.nn import (  # noqa: E402
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    softmax_cross_entropy,
)
from backprop.optim import SGD  # noqa: E402

LEARNING_RATE = 1e-3
PEAK_SIZE = 1024
# Each network as a list of layers: ("conv", c_in, c_out, k, padding), ("pool", 2),
# ("flatten",), ("linear", n_in, n_out); ReLU after every conv and every linear but the last.
NETWORKS = {
    "digits CNN": ((1, 8, 8), 64, [("conv", 1, 16, 3, 1), ("pool", 2), ("conv", 16, 32, 3, 1),
                                   ("pool", 2), ("flatten",), ("linear", 128, 10)]),
    "LeNet-like": ((1, 28, 28), 64, [("conv", 1, 6, 5, 0), ("pool", 2), ("conv", 6, 16, 5, 0),
                                     ("pool", 2), ("flatten",), ("linear", 256, 120),
                                     ("linear", 120, 84), ("linear", 84, 10)]),
    "wide conv layer": ((32, 32, 32), 32, [("conv", 32, 64, 3, 1)]),
}  # fmt: skip
TOLERANCE = {"float32": 5e-3, "float64": 1e-10}


def make_problem(name: str, dtype: str, seed: int = 0) -> tuple[list, np.ndarray, np.ndarray]:
    """The network's parameters (as PyTorch initialises them), a batch, and its targets."""
    shape, batch, layers = NETWORKS[name]
    rng = np.random.default_rng(seed)
    params = []
    for spec in layers:
        if spec[0] in ("conv", "linear"):
            fan_in = spec[1] * (spec[3] ** 2 if spec[0] == "conv" else 1)
            size = (spec[2], spec[1], spec[3], spec[3]) if spec[0] == "conv" else spec[2:0:-1]
            bound = 1 / np.sqrt(fan_in)
            W = rng.uniform(-bound, bound, size)
            params.append((W.astype(dtype), rng.uniform(-bound, bound, spec[2]).astype(dtype)))
    X = rng.standard_normal((batch, *shape)).astype(dtype)
    if layers[-1][0] == "linear":
        target = rng.integers(0, layers[-1][2], batch)
    else:  # a lone layer: the cost is sum(output * target), a fixed random array
        c_out, k, padding = layers[0][2], layers[0][3], layers[0][4]
        side = shape[1] + 2 * padding - k + 1
        target = rng.standard_normal((batch, c_out, side, side)).astype(dtype)
    return params, X, target


def step_products(name: str) -> list[tuple[int, int, int]]:
    """The step's matrix products as (rows, inner, columns), convolutions as im2col GEMMs.

    Each layer makes a forward product and a weight-gradient product of the same size (for a
    convolution, C_out x C_in k^2 x N H' W'; for a Linear layer, N x n_in x n_out), and, in
    every layer but the first, whose input needs no gradient, the product that passes the
    gradient down.
    """
    shape, batch, layers = NETWORKS[name]
    side, forward = shape[1], []
    for spec in layers:
        if spec[0] == "conv":
            side = side + 2 * spec[4] - spec[3] + 1
            forward.append((spec[2], spec[1] * spec[3] ** 2, batch * side**2))
        elif spec[0] == "pool":
            side //= spec[1]
        elif spec[0] == "linear":
            forward.append((batch, spec[1], spec[2]))
    weight_gradients = [(a, c, b) for a, b, c in forward]
    passed_down = [(b, a, c) for a, b, c in forward[1:]]
    return forward + weight_gradients + passed_down


def step_flops(name: str) -> int:
    """Floating-point operations in the step's matrix products: 2 per multiply-add."""
    return sum(2 * a * b * c for a, b, c in step_products(name))


def numpy_im2col(x, k, padding):
    """Columns (C k k, N H' W') of a stride-1 convolution, one strided copy per offset."""
    n, c, h, w = x.shape
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out, w_out = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    cols = np.empty((c, k, k, n, h_out, w_out), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, i, j] = x[:, :, i : i + h_out, j : j + w_out].transpose(1, 0, 2, 3)
    return cols.reshape(c * k * k, -1), (n, h_out, w_out)


def numpy_col2im(dcols, shape, k, padding, out_hw):
    n, c, h, w = shape
    h_out, w_out = out_hw
    dcols = dcols.reshape(c, k, k, n, h_out, w_out)
    dx = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + h_out, j : j + w_out] += dcols[:, i, j].transpose(1, 0, 2, 3)
    return dx[:, :, padding : padding + h, padding : padding + w]


class NumpyStep:
    """The minimal step: plain arrays, no checks, in place where it can be."""

    name = "numpy"

    def __init__(self, name: str, params: list, dtype: str):
        self.layers = NETWORKS[name][2]
        self.params = [(W.copy(), b.copy()) for W, b in params]

    def gradients(self, X, target):
        tape, a, p = [], X, 0
        for index, spec in enumerate(self.layers):
            last = index == len(self.layers) - 1
            if spec[0] == "conv":
                W, b = self.params[p]
                cols, (n, h_out, w_out) = numpy_im2col(a, spec[3], spec[4])
                z = W.reshape(len(W), -1) @ cols
                z += b[:, None]
                tape.append((spec, p, a.shape, cols, (h_out, w_out)))
                a = z.reshape(len(W), n, h_out, w_out).transpose(1, 0, 2, 3)
                p += 1
            elif spec[0] == "pool":  # 2 x 2, stride 2: one slice per window offset
                corners = [a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
                out = np.maximum(np.maximum(corners[0], corners[1]),
                                 np.maximum(corners[2], corners[3]))  # fmt: skip
                tape.append((spec, [corner == out for corner in corners], a.shape))
                a = out
            elif spec[0] == "flatten":
                tape.append((spec, a.shape))
                a = a.reshape(len(a), -1)
            else:
                W, b = self.params[p]
                tape.append((spec, p, a))
                a = a @ W.T
                a += b
                p += 1
            if spec[0] in ("conv", "linear") and not last:
                np.maximum(a, 0, out=a)
                tape.append((("relu",), a))
        if self.layers[-1][0] == "linear":
            g = a - a.max(axis=1, keepdims=True)
            np.exp(g, out=g)
            g /= g.sum(axis=1, keepdims=True)
            g[np.arange(len(g)), target] -= 1
            g /= len(g)
        else:
            g = target
        grads = [None] * len(self.params)
        for entry in reversed(tape):
            kind = entry[0][0]
            if kind == "relu":
                g = g * (entry[1] > 0)
            elif kind == "pool":
                _, masks, shape = entry
                g_in = np.zeros(shape, g.dtype)
                for (i, j), mask in zip([(0, 0), (0, 1), (1, 0), (1, 1)], masks, strict=True):
                    g_in[:, :, i::2, j::2] = g * mask
                g = g_in
            elif kind == "flatten":
                g = g.reshape(entry[1])
            elif kind == "linear":
                _, p, a_in = entry
                grads[p] = (g.T @ a_in, g.sum(axis=0))
                if p > 0:
                    g = g @ self.params[p][0]
            else:
                spec, p, shape, cols, out_hw = entry
                W = self.params[p][0]
                rows = g.transpose(1, 0, 2, 3).reshape(len(W), -1)
                grads[p] = ((rows @ cols.T).reshape(W.shape), rows.sum(axis=1))
                if p > 0:
                    g = numpy_col2im(W.reshape(len(W), -1).T @ rows, shape, spec[3], spec[4],
                                     out_hw)  # fmt: skip
        return grads

    def step(self, X, target):
        for (W, b), (dW, db) in zip(self.params, self.gradients(X, target), strict=True):
            W -= LEARNING_RATE * dW
            b -= LEARNING_RATE * db


class BackpropStep:
    """The package's layers in a Sequential, its losses and SGD, every check included."""

    name = "backprop"

    def __init__(self, name: str, params: list, dtype: str):
        rng, modules, values = np.random.default_rng(0), [], iter(params)
        layers = NETWORKS[name][2]
        for index, spec in enumerate(layers):
            if spec[0] == "conv":
                modules.append(Conv2d(spec[1], spec[2], spec[3], padding=spec[4], rng=rng,
                                      dtype=dtype))  # fmt: skip
            elif spec[0] == "linear":
                modules.append(Linear(spec[1], spec[2], rng, dtype=dtype))
            elif spec[0] == "pool":
                modules.append(MaxPool2d(spec[1]))
            else:
                modules.append(Flatten())
            if spec[0] in ("conv", "linear"):
                modules[-1].W[...], modules[-1].b[...] = next(values)
                if index < len(layers) - 1:
                    modules.append(ReLU())
        self.model = Sequential(*modules)
        self.model.needs_input_grad = False  # as train() sets it
        self.optimizer = SGD(self.model, lr=LEARNING_RATE)
        self.classify = layers[-1][0] == "linear"

    def _backward(self, X, target):
        out = self.model.forward(X)
        grad = softmax_cross_entropy(out, target)[1] if self.classify else target
        self.model.backward(grad)

    def gradients(self, X, target):
        self._backward(X, target)
        flat = self.model.gradients()
        return [(flat[i].copy(), flat[i + 1].copy()) for i in range(0, len(flat), 2)]

    def step(self, X, target):
        self._backward(X, target)
        self.optimizer.step()


class GemmsStep:
    """Only the step's matrix products, on arrays of their shapes: what no step can avoid."""

    name = "gemms"

    def __init__(self, name: str, params: list, dtype: str):
        rng = np.random.default_rng(1)
        self.operands = [
            (rng.standard_normal((a, b)).astype(dtype), rng.standard_normal((b, c)).astype(dtype))
            for a, b, c in step_products(name)
        ]

    def step(self, X, target):
        for left, right in self.operands:
            left @ right


class TorchStep:
    """PyTorch on the CPU: nn.Sequential, F.cross_entropy, optim.SGD, with its defaults."""

    name = "torch"

    def __init__(self, name: str, params: list, dtype: str):
        import torch

        torch.set_num_threads(1)
        self.torch, nn, modules, values = torch, torch.nn, [], iter(params)
        layers = NETWORKS[name][2]
        for index, spec in enumerate(layers):
            if spec[0] in ("conv", "linear"):
                if spec[0] == "conv":
                    module = nn.Conv2d(spec[1], spec[2], spec[3], padding=spec[4])
                else:
                    module = nn.Linear(spec[1], spec[2])
                module = module.to(getattr(torch, dtype))
                W, b = next(values)
                with torch.no_grad():
                    module.weight.copy_(torch.from_numpy(W))
                    module.bias.copy_(torch.from_numpy(b))
                modules.append(module)
                if index < len(layers) - 1:
                    modules.append(nn.ReLU())
            else:
                modules.append(nn.MaxPool2d(spec[1]) if spec[0] == "pool" else nn.Flatten())
        self.model = nn.Sequential(*modules)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        self.classify = layers[-1][0] == "linear"

    def _backward(self, X, target):
        self.optimizer.zero_grad(set_to_none=True)
        out = self.model(self.torch.from_numpy(X))
        if self.classify:
            cost = self.torch.nn.functional.cross_entropy(out, self.torch.from_numpy(target))
        else:
            cost = (out * self.torch.from_numpy(target)).sum()
        cost.backward()

    def gradients(self, X, target):
        self._backward(X, target)
        layers = [m for m in self.model if hasattr(m, "weight")]
        return [(m.weight.grad.numpy().copy(), m.bias.grad.numpy().copy()) for m in layers]

    def step(self, X, target):
        self._backward(X, target)
        self.optimizer.step()


def measure(name: str, dtype: str, rounds: int, seconds: float) -> dict:
    """Check every contender's gradients against float64 NumPy, then time them."""
    params, X, target = make_problem(name, dtype)
    params64, X64, target64 = make_problem(name, "float64")
    reference = NumpyStep(name, params64, "float64").gradients(X64, target64)
    contenders = [BackpropStep, NumpyStep]
    if importlib.util.find_spec("torch") is not None:
        contenders.append(TorchStep)
    runners, errors = {"gemms": GemmsStep(name, params, dtype)}, {"gemms": None}
    for cls in contenders:
        runner = cls(name, params, dtype)
        got = runner.gradients(X, target)
        errors[cls.name] = max(
            relative_error(np.asarray(g, np.float64), e)
            for pair, pair_ref in zip(got, reference, strict=True)
            for g, e in zip(pair, pair_ref, strict=True)
        )
        if errors[cls.name] > TOLERANCE[dtype]:
            raise SystemExit(f"{cls.name} {name} {dtype}: gradients off by {errors[cls.name]:.1e}")
        runners[cls.name] = runner
    peak_a = np.ones((PEAK_SIZE, PEAK_SIZE), dtype)
    calls = {"gemm_peak": lambda: peak_a @ peak_a}
    calls.update({n: (lambda r=runner: r.step(X, target)) for n, runner in runners.items()})
    timings, blocks = harness.interleaved_rounds(calls, rounds, seconds)
    peak = 2 * PEAK_SIZE**3 / statistics.median(timings.pop("gemm_peak")) / 1e9
    flops = step_flops(name)
    rows = harness.result_rows(timings, flops, peak, errors)
    return {"network": name, "dtype": dtype, "step_gflop": flops / 1e9, "peak_gflops": peak,
            "blocks": blocks, "rounds": timings, "results": rows}  # fmt: skip


def targets(measured: list[dict]) -> list[dict]:
    """Issue 16's targets, each with the measured ratio and whether it is met."""
    found = {(m["network"], m["dtype"]): m["results"]["backprop"] for m in measured}
    wanted = []
    for network, dtype, least_torch, most_numpy in [
        ("digits CNN", "float32", 1.0, 1.6),
        ("LeNet-like", "float32", None, 1.2),
        ("wide conv layer", "float32", None, 1.1),
        ("wide conv layer", "float64", 1.0, 1.1),
    ]:
        row = found.get((network, dtype))
        if row is None:
            continue
        ratio = row["time_vs_numpy"]
        wanted.append(
            (f"{network} {dtype}: within {most_numpy}x of numpy", ratio, ratio <= most_numpy)
        )
        if least_torch and row["speedup_vs_torch"] is not None:
            speed = row["speedup_vs_torch"]
            wanted.append(
                (f"{network} {dtype}: at least torch's speed", speed, speed >= least_torch)
            )
    return [{"target": t, "measured": round(v, 3), "met": bool(m)} for t, v, m in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds instead of 9")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/conv_step.json")
    args = parser.parse_args()
    rounds, seconds = (3, 0.1) if args.quick else (9, 0.4)
    for dtype in ("float32", "float64"):
        a = np.ones((PEAK_SIZE, PEAK_SIZE), dtype)
        a @ a  # OpenBLAS runs small float32 products slowly until one large one has run
    measured = []
    for name in NETWORKS:
        for dtype in ("float32", "float64"):
            measured.append(measure(name, dtype, rounds, seconds))
            print(f"measured {name} {dtype}", flush=True)
    print(f"\n{'network':<16} {'dtype':<8} {'contender':<9} {'ms/step':>9} {'% peak':>7} "
          f"{'x numpy':>8} {'x torch':>8}")  # fmt: skip
    for m in measured:
        for contender, row in m["results"].items():
            ratios = [row["time_vs_numpy"], row["speedup_vs_torch"]]
            print(
                f"{m['network']:<16} {m['dtype']:<8} {contender:<9} {row['ms_per_step']:9.2f} "
                f"{row['percent_of_peak']:6.1f}% "
                + " ".join(f"{r:7.2f}x" if r else f"{'-':>8}" for r in ratios)
            )
    checks = targets(measured)
    print("\ntargets:")
    for c in checks:
        print(f"  [{'met' if c['met'] else 'NOT met'}] {c['target']}: {c['measured']}")
    machine = harness.machine(("numpy", "torch"))
    settings = {"rounds": rounds, "seconds_per_timing": seconds, "lr": LEARNING_RATE,
                "quick": args.quick}  # fmt: skip
    results = {"machine": machine, "settings": settings, "measured": measured, "targets": checks}
    harness.write_results(args.output, results, ROOT)


if __name__ == "__main__":
    main()
