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
from benchmark_scripts import load_script

from backprop.book.convolution import conv2d_by_loops
from backprop.book.network import backward_pass, forward_pass

pytestmark = pytest.mark.appendix

ROOT = Path(__file__).resolve().parents[1]


mlp_step = load_script("mlp_step")
harness = load_script("harness")
scalar_engine = load_script("scalar_engine")
conv_step = load_script("conv_step")


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


# A network small enough for central differences, with every kind of layer the
# convolution benchmark has: two convolutions (one padded), pooling, two Linear layers.
TINY_CNN = ((2, 6, 6), 3, [("conv", 2, 3, 3, 1), ("pool", 2), ("conv", 3, 4, 2, 0),
                           ("flatten",), ("linear", 16, 5), ("linear", 5, 4)])  # fmt: skip
TINY_LAYER = ((2, 5, 5), 2, [("conv", 2, 3, 3, 1)])


def cnn_cost(layers, params, X, target):
    """The network's cost by loops and reshapes, sharing no code with the contenders."""
    a, values = X, iter(params)
    for index, spec in enumerate(layers):
        if spec[0] == "conv":
            W, b = next(values)
            a = conv2d_by_loops(a, W, b, padding=(spec[4], spec[4]))
        elif spec[0] == "pool":
            n, c, h, w = a.shape
            a = a.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        elif spec[0] == "flatten":
            a = a.reshape(len(a), -1)
        else:
            W, b = next(values)
            a = a @ W.T + b
        if spec[0] in ("conv", "linear") and index < len(layers) - 1:
            a = np.maximum(a, 0)
    if layers[-1][0] == "conv":
        return float(np.sum(a * target))
    shifted = a - a.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(a)), target].mean())


def central_differences(layers, params, X, target, h=1e-6):
    grads = []
    for W, b in params:
        pair = []
        for array in (W, b):
            g = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + h
                up = cnn_cost(layers, params, X, target)
                array[index] = saved - h
                down = cnn_cost(layers, params, X, target)
                array[index] = saved
                g[index] = (up - down) / (2 * h)
            pair.append(g)
        grads.append(tuple(pair))
    return grads


@pytest.mark.parametrize("network", [TINY_CNN, TINY_LAYER])
def test_every_conv_contender_computes_the_cost_s_gradients(monkeypatch, network):
    monkeypatch.setitem(conv_step.NETWORKS, "tiny", network)
    params, X, target = conv_step.make_problem("tiny", "float64", seed=2)
    expected = central_differences(network[2], params, X, target)
    names = []
    for cls in (conv_step.BackpropStep, conv_step.NumpyStep, conv_step.TorchStep):
        if cls is conv_step.TorchStep and importlib.util.find_spec("torch") is None:
            continue
        got = cls("tiny", params, "float64").gradients(X, target)
        for pair, pair_expected in zip(got, expected, strict=True):
            for g, e in zip(pair, pair_expected, strict=True):
                assert g.shape == e.shape, cls.name
                np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-8, err_msg=cls.name)
        names.append(cls.name)
    assert {"backprop", "numpy"} <= set(names)


def test_a_conv_step_moves_the_package_and_numpy_the_same_way(monkeypatch):
    monkeypatch.setitem(conv_step.NETWORKS, "tiny", TINY_CNN)
    params, X, target = conv_step.make_problem("tiny", "float64", seed=3)
    package = conv_step.BackpropStep("tiny", params, "float64")
    minimal = conv_step.NumpyStep("tiny", params, "float64")
    package.step(X, target)
    minimal.step(X, target)
    layers = [m for m in package.model.modules if hasattr(m, "W")]
    assert len(layers) == len(minimal.params) == 4
    for layer, (W, b), (W0, _) in zip(layers, minimal.params, params, strict=True):
        assert not np.allclose(W, W0)  # the step moved it
        np.testing.assert_allclose(layer.W, W, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.b, b, rtol=1e-12, atol=1e-15)


def test_conv_operation_count_is_the_tally_of_the_matrix_products():
    # The digits CNN by hand, each product as (rows, inner, columns) of its im2col GEMM:
    # conv 1: 16 filters over 1*3*3 numbers at 64 examples * 8*8 positions;
    # conv 2: 32 filters over 16*3*3 numbers at 64 * 4*4 positions (after 2x2 pooling);
    # linear: 64 examples, 32*2*2 inputs, 10 outputs.
    forward = [(16, 9, 64 * 64), (32, 144, 64 * 16), (64, 128, 10)]
    products = forward * 2 + forward[1:]  # forward, weight gradients, gradients passed down
    assert conv_step.step_flops("digits CNN") == sum(2 * a * b * c for a, b, c in products)
    timed = conv_step.GemmsStep("digits CNN", [], "float32").operands
    assert sorted((a.shape[0], a.shape[1], b.shape[1]) for a, b in timed) == sorted(
        [(16, 9, 4096), (32, 144, 1024), (64, 128, 10)]  # forward
        + [(16, 4096, 9), (32, 1024, 144), (64, 10, 128)]  # weight gradients
        + [(144, 32, 1024), (128, 64, 10)]  # passed down: W^T Delta, Delta W
    )
    # one layer alone passes no gradient down: a forward product and a weight gradient
    assert conv_step.step_flops("wide conv layer") == 2 * (2 * 64 * 32 * 9 * 32 * 32 * 32)


def test_conv_targets_read_the_package_s_ratios():
    def block(network, dtype, vs_numpy, vs_torch):
        row = {"time_vs_numpy": vs_numpy, "speedup_vs_torch": vs_torch}
        return {"network": network, "dtype": dtype, "results": {"backprop": row}}

    checks = conv_step.targets(
        [block("digits CNN", "float32", 1.5, 0.9), block("wide conv layer", "float64", 1.2, 2)]
    )
    assert [(c["measured"], c["met"]) for c in checks] == [
        (1.5, True), (0.9, False), (1.2, False), (2.0, True)
    ]  # fmt: skip


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


def test_committed_conv_results_hold_what_the_book_reads():
    steps = json.loads((RESULTS / "conv_step.json").read_text())
    assert not steps["settings"]["quick"], "commit the results of a full run"
    found = {(m["network"], m["dtype"]) for m in steps["measured"]}
    assert found == {(n, d) for n in conv_step.NETWORKS for d in ("float32", "float64")}
    for m in steps["measured"]:
        assert {"backprop", "numpy", "torch", "gemms"} == set(m["results"])
        assert np.isclose(m["step_gflop"] * 1e9, conv_step.step_flops(m["network"]))
        assert all(len(r) == steps["settings"]["rounds"] for r in m["rounds"].values())
        for name, row in m["results"].items():
            if name != "gemms":  # the products alone compute no gradient
                assert row["gradient_error"] <= conv_step.TOLERANCE[m["dtype"]]
    assert steps["targets"] == conv_step.targets(steps["measured"])
