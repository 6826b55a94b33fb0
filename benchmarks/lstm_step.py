"""Time an LSTM's forward and backward over a sequence: the package against NumPy and PyTorch.

Usage: python benchmarks/lstm_step.py [--quick] [--output FILE]

One LSTM layer, sequence length T = 50, batch 32, hidden size 128, float32, one thread (as
issue 17 asks), and input size 32 (which the issue leaves open): forward over the whole
sequence, then backward (backpropagation through time) of the cost C = sum(states *
upstream), with a fixed random ``upstream``; every contender computes dC/dx and the three
parameter gradients. The contenders: ``backprop`` (the package's ``LSTM``), ``numpy`` (the
straightforward loop written below in plain NumPy: per step, two products for the gates and
the sigmoids as 1 / (1 + e^-z); back in time, four products per step, for dx_t, dW_ih, dW_hh
and the gradient passed to h_{t-1}), ``torch`` (``nn.LSTM`` on the CPU, if installed, with
b_hh = 0 and b_ih = b; also as ``torch_no_onednn``, with oneDNN's fused LSTM turned off) and
``gemms`` (the matrix products of the package's schedule alone, on arrays of their shapes);
each row also gives the rate of those products as a percentage of a large matrix product's
(the machine's GEMM peak on one core). Gradients are compared with a float64 NumPy reference
before anything is timed; the timing is ``harness.py``'s (one pinned thread, interleaved
rounds, medians and paired ratios). The operators that PyTorch runs, from its profiler, are
saved too. Results go to ``benchmarks/results/lstm_step.json``, which the performance
appendix reads.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import harness  # noqa: E402

if __name__ == "__main__":  # a script: one thread on one core, before NumPy loads
    harness.pin_to_one_core()

import numpy as np  # noqa: E402

from backprop.gradcheck import relative_error  # noqa: E402
from backprop.nn import LSTM  # noqa: E402

SIZES = {"T": 50, "batch": 32, "input_size": 32, "hidden_size": 128}
PEAK_SIZE = 1024
# The book's relative error of each gradient against float64: float32 rounding carried
# through 50 steps stays near 1e-6; 1e-4 leaves room and still catches any wrong formula.
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


def make_problem(sizes: dict, dtype: str, seed: int = 0) -> tuple[list, np.ndarray, np.ndarray]:
    """[W_ih, W_hh, b] as PyTorch initialises them, an input sequence, and ``upstream``."""
    T, N, n_in, H = sizes["T"], sizes["batch"], sizes["input_size"], sizes["hidden_size"]
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    shapes = [(4 * H, n_in), (4 * H, H), (4 * H,)]
    params = [rng.uniform(-bound, bound, shape).astype(dtype) for shape in shapes]
    x = rng.standard_normal((T, N, n_in)).astype(dtype)
    upstream = rng.standard_normal((T, N, H)).astype(dtype)
    return params, x, upstream


def products(sizes: dict) -> list[tuple[int, int, int]]:
    """The matrix products of forward and backward, as (rows, inner, columns).

    As the package computes them, with the gates stored transposed, (4H, N) per step:
    forward, the input projection of all steps at once, W_ih x^T, (4H, n_in, T N), then one
    product per step, W_hh h_{t-1}^T, (4H, H, N); backward, one product per step,
    W_hh^T dz_t, (H, 4H, N), then dW_ih, dW_hh and dx, each one product over all steps.
    """
    T, N, n_in, H = sizes["T"], sizes["batch"], sizes["input_size"], sizes["hidden_size"]
    forward = [(4 * H, n_in, T * N)] + [(4 * H, H, N)] * T
    backward = [(H, 4 * H, N)] * T + [(4 * H, T * N, n_in), (4 * H, T * N, H), (T * N, 4 * H, n_in)]
    return forward + backward


def flops(sizes: dict) -> int:
    """Floating-point operations in those products: 2 per multiply-add."""
    return sum(2 * a * b * c for a, b, c in products(sizes))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class NumpyLSTM:
    """The straightforward loop: one step at a time, forward and back, no checks."""

    name = "numpy"

    def __init__(self, params: list, dtype: str):
        self.W_ih, self.W_hh, self.b = (p.astype(dtype) for p in params)

    def gradients(self, x, upstream):
        W_ih, W_hh, b = self.W_ih, self.W_hh, self.b
        T, N, _ = x.shape
        H = W_hh.shape[1]
        h, c = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
        tape = []
        for t in range(T):
            z = x[t] @ W_ih.T + h @ W_hh.T + b
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H : 2 * H])
            g, o = np.tanh(z[:, 2 * H : 3 * H]), sigmoid(z[:, 3 * H :])
            c_next = f * c + i * g
            tanh_c = np.tanh(c_next)
            tape.append((h, c, i, f, g, o, tanh_c))
            h, c = o * tanh_c, c_next
        dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b)
        dx = np.empty_like(x)
        dh, dc = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
        for t in reversed(range(T)):
            h_prev, c_prev, i, f, g, o, tanh_c = tape[t]
            dh = dh + upstream[t]
            dc = dc + dh * o * (1 - tanh_c**2)
            dz = np.concatenate(
                [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                 dh * tanh_c * o * (1 - o)], axis=1,
            )  # fmt: skip
            dW_ih += dz.T @ x[t]
            dW_hh += dz.T @ h_prev
            db += dz.sum(axis=0)
            dx[t] = dz @ W_ih
            dh, dc = dz @ W_hh, dc * f
        return [dx, dW_ih, dW_hh, db]

    def step(self, x, upstream):
        self.gradients(x, upstream)


class BackpropLSTM:
    """The package's LSTM, every check included."""

    name = "backprop"

    def __init__(self, params: list, dtype: str):
        n_in, H = params[0].shape[1], params[1].shape[1]
        self.layer = LSTM(n_in, H, rng=np.random.default_rng(0), dtype=dtype)
        for mine, given in zip(self.layer.parameters(), params, strict=True):
            mine[...] = given

    def gradients(self, x, upstream):
        self.layer.forward(x)
        dx = self.layer.backward(upstream)
        return [dx] + [g.copy() for g in self.layer.gradients()]

    def step(self, x, upstream):
        self.layer.forward(x)
        self.layer.backward(upstream)


class TorchLSTM:
    """``torch.nn.LSTM`` on the CPU, one thread: forward, then backward of sum(out * upstream)."""

    name = "torch"
    onednn = True  # torch's default: the whole LSTM in one oneDNN call forward, one back

    def __init__(self, params: list, dtype: str):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        n_in, H = params[0].shape[1], params[1].shape[1]
        self.lstm = torch.nn.LSTM(n_in, H).to(getattr(torch, dtype))
        with torch.no_grad():
            for name, value in zip(
                ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0"), params, strict=True
            ):
                getattr(self.lstm, name).copy_(torch.from_numpy(value))
            self.lstm.bias_hh_l0.zero_()

    def _backward(self, x, upstream):
        torch = self.torch
        for p in self.lstm.parameters():
            p.grad = None
        self.x = torch.from_numpy(x).requires_grad_()
        with warnings.catch_warnings():  # the flags also set TF32, which torch warns of
            warnings.simplefilter("ignore", UserWarning)
            with torch.backends.mkldnn.flags(enabled=self.onednn):
                out, _ = self.lstm(self.x)
                (out * torch.from_numpy(upstream)).sum().backward()

    def gradients(self, x, upstream):
        self._backward(x, upstream)
        lstm = self.lstm
        grads = [self.x.grad, lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad]
        return [g.numpy().copy() for g in grads]

    def step(self, x, upstream):
        self._backward(x, upstream)


class TorchStepByStepLSTM(TorchLSTM):
    """``torch.nn.LSTM`` with oneDNN turned off: ATen's loop, one step's operators at a time."""

    name = "torch_no_onednn"
    onednn = False


class GemmsLSTM:
    """Only the matrix products of the package's schedule, on arrays of their shapes.

    Products of the same shape share their operands, as the steps share W_hh: the weights
    stay in the cache from one step to the next, as they do in the layer.
    """

    name = "gemms"

    def __init__(self, sizes: dict, dtype: str):
        rng, arrays = np.random.default_rng(1), {}
        for a, b, c in products(sizes):
            if (a, b, c) not in arrays:
                arrays[a, b, c] = (rng.standard_normal((a, b)).astype(dtype),
                                   rng.standard_normal((b, c)).astype(dtype))  # fmt: skip
        self.operands = [arrays[shape] for shape in products(sizes)]

    def step(self, x, upstream):
        for left, right in self.operands:
            left @ right


def available_contenders() -> list[type]:
    """The contenders that compute gradients; torch's two paths only if it is installed."""
    found = [BackpropLSTM, NumpyLSTM]
    if importlib.util.find_spec("torch") is not None:
        found += [TorchLSTM, TorchStepByStepLSTM]
    return found


def worst_error(got: list, expected: list) -> float:
    """The largest of the book's relative errors over dx and the three parameter gradients."""
    return max(
        relative_error(np.asarray(g, np.float64), e) for g, e in zip(got, expected, strict=True)
    )


def torch_operators(runner: TorchLSTM, x: np.ndarray, upstream: np.ndarray, top: int = 8) -> list:
    """The operators PyTorch runs for one forward and backward, by self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    runner.step(x, upstream)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        runner.step(x, upstream)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    return [
        {"name": e.key, "calls": e.count, "self_cpu_ms": e.self_cpu_time_total / 1e3}
        for e in events[:top]
    ]


def measure(sizes: dict, dtype: str, rounds: int, seconds: float) -> dict:
    """Check every contender's gradients against float64 NumPy, then time them."""
    params, x, upstream = make_problem(sizes, dtype)
    params64, x64, upstream64 = make_problem(sizes, "float64")
    reference = NumpyLSTM(params64, "float64").gradients(x64, upstream64)
    runners, errors = {"gemms": GemmsLSTM(sizes, dtype)}, {"gemms": None}
    for cls in available_contenders():
        runner = cls(params, dtype)
        errors[cls.name] = worst_error(runner.gradients(x, upstream), reference)
        if errors[cls.name] > TOLERANCE[dtype]:
            raise SystemExit(f"{cls.name} {dtype}: gradients off by {errors[cls.name]:.1e}")
        runners[cls.name] = runner
    peak_a = np.ones((PEAK_SIZE, PEAK_SIZE), dtype)
    calls = {"gemm_peak": lambda: peak_a @ peak_a}
    calls.update({n: (lambda r=runner: r.step(x, upstream)) for n, runner in runners.items()})
    timings, blocks = harness.interleaved_rounds(calls, rounds, seconds)
    peak = 2 * PEAK_SIZE**3 / statistics.median(timings.pop("gemm_peak")) / 1e9
    rows = harness.result_rows(timings, flops(sizes), peak, errors, unit="sequence")
    return {"sizes": sizes, "dtype": dtype, "gflop": flops(sizes) / 1e9, "peak_gflops": peak,
            "blocks": blocks, "rounds": timings, "results": rows}  # fmt: skip


def targets(measured: dict) -> list[dict]:
    """Issue 17's targets, each with the measured ratio and whether it is met."""
    row = measured["results"]["backprop"]
    wanted = [("at least as fast as the NumPy loop (time vs numpy <= 1)",
               row["time_vs_numpy"], row["time_vs_numpy"] <= 1.0)]  # fmt: skip
    if row["speedup_vs_torch"] is not None:
        speed = row["speedup_vs_torch"]
        wanted.append(("torch's speed (speedup vs torch >= 1)", speed, speed >= 1.0))
    return [{"target": t, "measured": round(v, 3), "met": bool(m)} for t, v, m in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds instead of 9")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/lstm_step.json")
    args = parser.parse_args()
    rounds, seconds = (3, 0.1) if args.quick else (9, 0.5)
    a = np.ones((PEAK_SIZE, PEAK_SIZE), np.float32)
    a @ a  # OpenBLAS runs small float32 products slowly until one large one has run
    measured = measure(SIZES, "float32", rounds, seconds)
    print(f"LSTM, {SIZES}, float32, one thread: forward and backward over the sequence")
    print(f"\n{'contender':<16} {'ms/seq':>8} {'% peak':>7} {'x numpy':>8} {'x torch':>8}")
    for contender, row in measured["results"].items():
        ratios = [row["time_vs_numpy"], row["speedup_vs_torch"]]
        print(
            f"{contender:<16} {row['ms_per_sequence']:8.2f} {row['percent_of_peak']:6.1f}% "
            + " ".join(f"{r:7.2f}x" if r else f"{'-':>8}" for r in ratios)
        )
    checks = targets(measured)
    print("\ntargets:")
    for c in checks:
        print(f"  [{'met' if c['met'] else 'NOT met'}] {c['target']}: {c['measured']}")
    operators = None
    if importlib.util.find_spec("torch") is not None:
        params, x, upstream = make_problem(SIZES, "float32")
        operators = {
            cls.name: torch_operators(cls(params, "float32"), x, upstream)
            for cls in (TorchLSTM, TorchStepByStepLSTM)
        }
        for name, ops in operators.items():
            print(f"\nwhat {name} runs (self CPU time of one forward and backward, profiled):")
            for op in ops:
                print(f"  {op['name'][:48]:<48} {op['calls']:5d} calls {op['self_cpu_ms']:8.3f} ms")
    settings = {"rounds": rounds, "seconds_per_timing": seconds, "quick": args.quick}
    results = {"machine": harness.machine(("numpy", "torch")), "settings": settings,
               "measured": measured, "targets": checks, "torch_operators": operators}  # fmt: skip
    harness.write_results(args.output, results, ROOT)


if __name__ == "__main__":
    main()
