"""The LSTM benchmark: what it times must be what the appendix says it is.

The full run is not repeated here (its numbers depend on the machine); its pieces are: every
contender computes the gradients of the same cost, checked by central differences on a cost
written below as a plain loop; the operation count is the product-by-product tally; a quick
run writes what the committed results hold; and the committed file's ratios and targets are
recomputed from its own rounds.
"""

import json
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
from benchmark_scripts import load_script

pytestmark = pytest.mark.appendix

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "lstm_step.json"


lstm_step = load_script("lstm_step")
harness = load_script("harness")
TINY = {"T": 4, "batch": 2, "input_size": 3, "hidden_size": 2}


def loop_cost(W_ih, W_hh, b, x, upstream):
    """sum(states * upstream) by a loop over steps and units, sharing no code with the script."""
    T, N, _ = x.shape
    H = W_hh.shape[1]
    h, c, total = np.zeros((N, H)), np.zeros((N, H)), 0.0
    for t in range(T):
        z = np.einsum("ni,gi->ng", x[t], W_ih) + np.einsum("nj,gj->ng", h, W_hh) + b
        i, f, g, o = (z[:, k * H : (k + 1) * H] for k in range(4))
        c = np.exp(-np.logaddexp(0, -f)) * c + np.exp(-np.logaddexp(0, -i)) * np.tanh(g)
        h = np.exp(-np.logaddexp(0, -o)) * np.tanh(c)
        total += float(np.sum(h * upstream[t]))
    return total


def central_differences(arrays, cost, step=1e-6):
    grads = []
    for array in arrays:
        g = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + step
            up = cost()
            array[index] = saved - step
            down = cost()
            array[index] = saved
            g[index] = (up - down) / (2 * step)
        grads.append(g)
    return grads


def test_every_lstm_contender_computes_the_cost_s_gradients():
    params, x, upstream = lstm_step.make_problem(TINY, "float64", seed=2)
    W_ih, W_hh, b = params
    expected = central_differences(
        [x, W_ih, W_hh, b], lambda: loop_cost(W_ih, W_hh, b, x, upstream)
    )  # dx, dW_ih, dW_hh, db: the order of every contender's gradients
    names = []
    for cls in lstm_step.available_contenders():
        got = cls(params, "float64").gradients(x, upstream)
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape, cls.name
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8, err_msg=cls.name)
        names.append(cls.name)
    assert {"backprop", "numpy"} <= set(names)


def test_float32_contenders_agree_with_float64():
    params, x, upstream = lstm_step.make_problem(TINY | {"T": 20}, "float64", seed=3)
    reference = lstm_step.NumpyLSTM(params, "float64").gradients(x, upstream)
    params32 = [p.astype(np.float32) for p in params]
    for cls in lstm_step.available_contenders():
        got = cls(params32, "float32").gradients(x.astype(np.float32), upstream.astype("f4"))
        assert all(g.dtype == np.float32 for g in got), cls.name
        assert lstm_step.worst_error(got, reference) < lstm_step.TOLERANCE["float32"], cls.name


def test_lstm_operation_count_is_the_tally_of_the_matrix_products():
    T, N, n_in, H = 50, 32, 32, 128
    per_step = 2 * N * H * 4 * H  # h_{t-1} W_hh^T forward; dz_t W_hh backward: the same size
    over_all_steps = 2 * T * N * 4 * H  # times n_in or H: one product over every step
    expected = over_all_steps * n_in + 2 * T * per_step + over_all_steps * (H + 2 * n_in)
    assert lstm_step.flops(lstm_step.SIZES) == expected
    assert lstm_step.SIZES == {"T": T, "batch": N, "input_size": n_in, "hidden_size": H}
    timed = lstm_step.GemmsLSTM(TINY, "float32").operands
    shapes = sorted((a.shape[0], a.shape[1], b.shape[1]) for a, b in timed)
    assert shapes == sorted(lstm_step.products(TINY)) and len(shapes) == 2 * TINY["T"] + 4


def test_lstm_targets_read_the_package_s_ratios():
    def measured(vs_numpy, vs_torch):
        return {"results": {"backprop": {"time_vs_numpy": vs_numpy, "speedup_vs_torch": vs_torch}}}

    assert [(c["measured"], c["met"]) for c in lstm_step.targets(measured(0.8, 0.9))] == [
        (0.8, True), (0.9, False)
    ]  # fmt: skip
    assert [c["met"] for c in lstm_step.targets(measured(1.05, 1.2))] == [False, True]
    assert len(lstm_step.targets(measured(0.8, None))) == 1  # no torch: no torch target


def test_a_quick_run_writes_what_the_appendix_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(lstm_step, "SIZES", TINY)
    monkeypatch.setattr(lstm_step, "PEAK_SIZE", 64)
    output = tmp_path / "lstm.json"
    monkeypatch.setattr(sys, "argv", ["lstm_step.py", "--quick", "--output", str(output)])
    lstm_step.main()
    written = json.loads(output.read_text())
    assert written["settings"]["quick"] and written["measured"]["sizes"] == TINY
    check_results(written)


def check_results(results):
    """The ratios and targets of a results file, recomputed from its own rounds."""
    measured = results["measured"]
    rounds = measured["rounds"]
    torch_names = {"torch", "torch_no_onednn"}
    names = {"backprop", "numpy", "gemms"} | (torch_names if "torch" in rounds else set())
    assert set(measured["results"]) == set(rounds) == names
    assert all(len(r) == results["settings"]["rounds"] for r in rounds.values())
    assert np.isclose(measured["gflop"] * 1e9, lstm_step.flops(measured["sizes"]))
    for name, row in measured["results"].items():
        assert row["ms_per_sequence"] == pytest.approx(1e3 * statistics.median(rounds[name]))
        assert row["time_vs_numpy"] == pytest.approx(harness.paired_ratio(rounds, name, "numpy"))
        if "torch" in rounds:
            speedup = harness.paired_ratio(rounds, "torch", name)
            assert row["speedup_vs_torch"] == pytest.approx(speedup)
        if name != "gemms":  # the products alone compute no gradient
            assert row["gradient_error"] <= lstm_step.TOLERANCE[measured["dtype"]]
    assert results["targets"] == lstm_step.targets(measured)
    if "torch" in rounds:
        assert set(results["torch_operators"]) == torch_names
        for ops in results["torch_operators"].values():
            assert ops and all({"name", "calls", "self_cpu_ms"} == set(op) for op in ops)


def test_committed_lstm_results_hold_what_the_appendix_reads():
    results = json.loads(RESULTS.read_text())
    assert not results["settings"]["quick"], "commit the results of a full run"
    assert results["measured"]["sizes"] == lstm_step.SIZES
    assert results["measured"]["dtype"] == "float32"
    assert results["machine"]["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "torch" in results["measured"]["results"], "the committed run compares with torch"
    check_results(results)
