"""The benchmark scripts: what they time must be what the appendix says it is.

The scripts are not run here (they take minutes and their numbers depend on the machine);
their pieces are: every contender computes the same gradients as the package's independent
functional network, the operation count is the product-by-product tally, the paired ratio
is what its docstring says, and the committed results file holds what the appendix reads.
"""

import gc
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from backprop.book.network import backward_pass, forward_pass

pytestmark = pytest.mark.appendix

ROOT = Path(__file__).resolve().parents[1]


def load_script(name):
    """Import a benchmark script as a module (without running it, so without pinning)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mlp_step = load_script("mlp_step")
harness = load_script("harness")
scalar_engine = load_script("scalar_engine")


def reference_gradients(params, X, y):
    """The same step by backprop.book.network, which shares no code with the contenders."""
    weights, biases = [W for W, _ in params], [b for _, b in params]
    _, Z, A = forward_pass(X, y, weights, biases, "relu")
    dW, db = backward_pass(y, weights, Z, A, "relu")
    return list(zip(dW, db, strict=True))


@pytest.mark.parametrize("widths,batch", [((6, 5, 4, 3), 7), ((3, 8, 2), 1), ((4, 3), 5)])
def test_every_contender_computes_the_same_gradients(widths, batch):
    params, X, y = mlp_step.make_problem(widths, batch, seed=3)
    expected = reference_gradients(params, X, y)
    contenders, _ = mlp_step.available_contenders()
    checked = []
    for cls in contenders:
        if cls is mlp_step.GemmsOnly:
            continue
        got = cls(params, "float64").gradients(X, y)
        assert mlp_step.worst_relative_error(got, expected) < 1e-10, cls.name
        checked.append(cls.name)
    assert {"backprop", "numpy", "autograd"} <= set(checked)


def test_float32_contenders_agree_to_float32_precision():
    params, X, y = mlp_step.make_problem((20, 16, 5), 8, seed=4)
    expected = reference_gradients(params, X, y)
    for cls in (mlp_step.BackpropStep, mlp_step.NumpyStep):
        got = cls(params, "float32").gradients(X.astype(np.float32), y)
        assert all(g.dtype == np.float32 for pair in got for g in pair)
        assert mlp_step.worst_relative_error(got, expected) < 1e-5


def test_a_step_moves_every_contender_the_same_way():
    params, X, y = mlp_step.make_problem((6, 5, 3), 4, seed=5)
    package, minimal = (
        mlp_step.BackpropStep(params, "float64"),
        mlp_step.NumpyStep(params, "float64"),
    )
    package.step(X, y)
    minimal.step(X, y)
    for layer, W, b in zip(package.model.modules[::2], minimal.W, minimal.b, strict=True):
        np.testing.assert_allclose(layer.W, W, rtol=1e-13)
        np.testing.assert_allclose(layer.b, b, rtol=1e-13)


def test_operation_count_is_the_tally_of_the_products():
    widths, m = (7, 5, 4, 3), 6
    products = []
    for layer in range(1, len(widths)):
        n_in, n_out = widths[layer - 1], widths[layer]
        products += [(m, n_in, n_out)] * 2  # forward, and dW
        if layer > 1:
            products.append((m, n_out, n_in))  # dA, not for the first layer
    assert mlp_step.step_flops(widths, m) == sum(2 * a * b * c for a, b, c in products)


def test_paired_ratio_is_the_median_of_ratios_within_rounds():
    timings = {"a": [2.0, 4.0, 30.0], "b": [1.0, 1.0, 10.0]}
    assert harness.paired_ratio(timings, "a", "b") == 3.0  # ratios 2, 4, 3
    assert harness.paired_ratio(timings, "a", "missing") is None


def test_interleaved_rounds_time_every_contender_once_per_round():
    order = []
    calls = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    timings, blocks = harness.interleaved_rounds(calls, rounds=3, seconds=0.0)
    assert blocks == {"a": 1, "b": 1}  # a block of one call: 0 s is filled by the first
    # one probe call each to size the blocks, then a, b in every round
    assert order == ["a", "b"] + ["a", "b"] * 3
    assert [len(t) for t in timings.values()] == [3, 3]


def test_scalar_demo_graph_and_loss():
    X, y = scalar_engine.two_moons()
    mlp = scalar_engine.make_mlp(scalar_engine.Value)
    loss = scalar_engine.demo_loss(scalar_engine.Value, mlp, X, y)
    assert 60_000 < scalar_engine.count_nodes(loss) < 70_000  # "about 66,000"
    # the same loss in NumPy, from the same weights
    A = np.array(X)
    for index, layer in enumerate(mlp):
        W = np.array([[w.data for w in weights] for weights, _ in layer])
        b = np.array([bias.data for _, bias in layer])
        A = A @ W.T + b
        if index < len(mlp) - 1:
            A = np.maximum(A, 0)
    margins = np.maximum(1 - np.array(y) * A[:, 0], 0)
    squares = sum(p.data**2 for p in scalar_engine.parameters(mlp))
    assert loss.data == pytest.approx(margins.mean() + 1e-4 * squares, rel=1e-12)


def test_a_chain_step_back_propagates_through_every_node():
    build, back, nodes = scalar_engine.chain_step(scalar_engine.Value, 5000)
    assert nodes == 5001 and build > 0 and back > 0


def test_the_control_run_turns_the_collector_off_only_while_timing():
    seen = []

    def build():
        seen.append(gc.isenabled())
        return scalar_engine.Value(2.0) * 3.0

    assert gc.isenabled()
    scalar_engine.timed_step(build, collector=False)
    assert seen == [False] and gc.isenabled()  # off while timed, on again after
    scalar_engine.timed_step(build)
    assert seen == [False, True]


def test_the_demo_is_timed_with_the_collector_on_and_off_in_every_round():
    on, off = scalar_engine.measure_demo({"backprop": scalar_engine.Value}, rounds=2)
    for rows in (on, off):
        row = rows["backprop"]
        assert len(row["build"]) == len(row["backward"]) == 2
        assert row["nodes"] == on["backprop"]["nodes"]
        steps = sorted(b + f for b, f in zip(row["build"], row["backward"], strict=True))
        assert row["step_ms"] == pytest.approx(1e3 * sum(steps) / 2)  # median of two


RESULTS = ROOT / "benchmarks" / "results"


def test_committed_results_hold_what_the_appendix_reads():
    steps = json.loads((RESULTS / "mlp_step.json").read_text())
    shapes = {(tuple(b["widths"]), b["batch"], b["dtype"]) for b in steps["blocks"]}
    assert shapes == {(w, m, d) for w, m in mlp_step.SHAPES for d in mlp_step.DTYPES}
    for block in steps["blocks"]:
        assert {"backprop", "numpy", "torch", "autograd", "gemms"} <= set(block["results"])
        assert np.isclose(
            block["step_gflop"] * 1e9, mlp_step.step_flops(block["widths"], block["batch"])
        )
        assert all(len(r) == steps["settings"]["rounds"] for r in block["rounds"].values())
    assert not steps["settings"]["quick"], "commit the results of a full run"
    scalar = json.loads((RESULTS / "scalar_engine.json").read_text())
    assert set(scalar["demo"]) == {"backprop", "micrograd"}
    # the appendix pairs the engines round by round, and reads the control run if present
    runs = [scalar["demo"]] + ([scalar["demo_gc_off"]] if "demo_gc_off" in scalar else [])
    for rows in runs:
        assert set(rows) == set(scalar["demo"])
        for name, row in rows.items():
            assert len(row["build"]) == len(row["backward"]) == scalar["rounds"]
            assert row["nodes"] == scalar["demo"][name]["nodes"]
    depths = [c["depth"] for c in scalar["chains"]["backprop"]["chains"]]
    assert depths == list(scalar_engine.DEPTHS)
