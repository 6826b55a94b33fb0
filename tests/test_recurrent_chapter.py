"""Chapter 11's claims, asserted again: BPTT sums over time, the Jacobian bound, the LSTM's
cell path, the adding problem, clipping, and the chapter's figures.

The oracles share no code with backprop.book.recurrent: HIPS autograd differentiates
recurrences written here with autograd.numpy, SymPy differentiates the composed
expression, and central differences (backprop.gradcheck, float64) check the training
model. Tolerances: the same sums in another order agree to about 1e-13 relative; central
differences to check_gradient's 1e-6.
"""

import autograd.numpy as anp
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy as sp  # noqa: E402
from autograd import grad, jacobian  # noqa: E402

from backprop import gradcheck as gc  # noqa: E402
from backprop.book.plot_recurrent import plot_by_lag, plot_learning_curves  # noqa: E402
from backprop.book.recurrent import (  # noqa: E402
    LastStepRegressor,
    RegressionHistory,
    adding_problem,
    clip_by_global_norm,
    gradient_norms_by_lag,
    jacobian_norms,
    train_regressor,
)
from backprop.nn import LSTM, RNN  # noqa: E402

pytestmark = [pytest.mark.ch11, pytest.mark.usefixtures("close_figures")]


def rnn_states(W_ih, W_hh, b, x, h0):
    """h_1, ..., h_T of a tanh RNN, written with autograd.numpy (one example per row)."""
    h, states = h0, []
    for x_t in x:
        h = anp.tanh(anp.dot(x_t, W_ih.T) + anp.dot(h, W_hh.T) + b)
        states.append(h)
    return states


# --- backpropagation through time -----------------------------------------------------------


def test_scalar_bptt_is_a_sum_over_time_sympy():
    """(ch11-bptt-scalar) for T = 3: dC/dw = sum_t delta_t h_(t-1), exactly."""
    w, u, h0 = sp.symbols("w u h0")
    xs, costs = sp.symbols("x1:4"), sp.symbols("a1:4")
    h = [h0]
    for x in xs:
        h.append(sp.tanh(w * h[-1] + u * x))
    C = sum(a * h_t for a, h_t in zip(costs, h[1:], strict=True))
    delta = {4: 0}
    for t in (3, 2, 1):
        delta[t] = (1 - h[t] ** 2) * (costs[t - 1] + w * delta[t + 1])
    by_time = sum(delta[t] * h[t - 1] for t in (1, 2, 3))
    assert sp.expand(sp.diff(C, w) - by_time) == 0
    assert sp.expand(sp.diff(C, h0) - w * delta[1]) == 0


def test_tied_weight_gradient_is_the_sum_of_the_untied_ones(rng):
    """The fork: give every step its own copy of W_hh; the shared W_hh's gradient is their sum."""
    T, N, n_in, H = 5, 3, 2, 4
    W_ih, b = rng.normal(size=(H, n_in)), rng.normal(size=H)
    x, h0 = rng.normal(size=(T, N, n_in)), rng.normal(size=(N, H))
    G = rng.normal(size=(T, N, H))

    def cost_untied(W_steps):
        h, total = h0, 0.0
        for t in range(T):
            h = anp.tanh(anp.dot(x[t], W_ih.T) + anp.dot(h, W_steps[t].T) + b)
            total = total + anp.sum(G[t] * h)
        return total

    W_hh = rng.normal(scale=0.5, size=(H, H))
    per_step = grad(cost_untied)(np.stack([W_hh] * T))
    tied = grad(lambda W: cost_untied(anp.stack([W] * T)))(W_hh)
    np.testing.assert_allclose(per_step.sum(axis=0), tied, rtol=1e-12)
    # and the package's RNN, whose backward pass is the loop of the chapter, agrees
    layer = RNN(n_in, H, rng=rng)
    layer.W_ih[...], layer.W_hh[...], layer.b[...] = W_ih, W_hh, b
    layer.forward(x, h0=h0)
    layer.backward(G)
    np.testing.assert_allclose(layer.dW_hh, tied, rtol=1e-10)


def test_truncated_bptt_with_one_chunk_is_the_full_gradient_and_loses_terms_otherwise(rng):
    T, N, H = 12, 2, 3
    x, G = rng.normal(size=(T, N, 2)), rng.normal(size=(T, N, H))
    layer = RNN(2, H, rng=rng)
    W_ih, W_hh, b = (p.copy() for p in layer.parameters())

    def cost(W):
        states = rnn_states(W_ih, W, b, x, np.zeros((N, H)))
        return sum(anp.sum(G[t] * states[t]) for t in range(T))

    full = grad(cost)(W_hh)

    def truncated(K):
        total, h = np.zeros_like(W_hh), None
        for start in range(0, T, K):
            states = layer.forward(x[start : start + K], h0=h)
            layer.backward(G[start : start + K])
            total += layer.dW_hh
            h = states[-1]
        return total

    np.testing.assert_allclose(truncated(T), full, rtol=1e-10)
    assert gc.relative_error(truncated(3), full) > 1e-3  # terms across boundaries are lost


# --- vanishing and exploding ------------------------------------------------------------------


def test_jacobian_norms_are_the_norms_of_autograds_jacobians(rng):
    T, H = 6, 4
    W_ih, W_hh, b = rng.normal(size=(H, 2)), rng.normal(size=(H, H)), rng.normal(size=H)
    x = rng.normal(size=(T, 1, 2))
    states = np.array(rnn_states(W_ih, W_hh, b, x, np.zeros((1, H))))[:, 0]
    norms = jacobian_norms(states, W_hh)
    for k in range(1, T + 1):
        h_start = states[T - k - 1] if k < T else np.zeros(H)

        def last_state_from(h, k=k):  # the last k steps, from the state k steps back
            return rnn_states(W_ih, W_hh, b, x[T - k :], h[None, :])[-1][0]

        expected = np.linalg.norm(jacobian(last_state_from)(h_start), 2)
        assert norms[k - 1] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0, 3.0])
def test_tanh_jacobian_products_obey_the_singular_value_bound(rng, sigma):
    """(ch11-bound): ||dh_T/dh_(T-k)||_2 <= sigma_max(W_hh)^k, since tanh' <= 1."""
    layer = RNN(3, 8, rng=rng)
    layer.W_hh *= sigma / np.linalg.norm(layer.W_hh, 2)
    states = layer.forward(rng.normal(scale=0.3, size=(30, 4, 3)))
    lags = np.arange(1, 31)
    for n in range(4):
        norms = jacobian_norms(states[:, n], layer.W_hh)
        assert np.all(norms <= sigma**lags * (1 + 1e-12))  # round-off in the products


def test_gradient_norms_by_lag_are_autograds_gradient_of_h0(rng):
    H, N = 5, 3
    layer = RNN(2, H, rng=rng)
    x = rng.normal(size=(7, N, 2))
    u = rng.normal(size=(N, H))
    lags = [1, 3, 7]
    got = gradient_norms_by_lag(layer, x, u, lags)
    W_ih, W_hh, b = (p.copy() for p in layer.parameters())
    for value, k in zip(got, lags, strict=True):
        dh0 = grad(lambda h0, k=k: anp.sum(u * rnn_states(W_ih, W_hh, b, x[:k], h0)[-1]))(
            np.zeros((N, H))
        )
        assert value == pytest.approx(np.mean(np.linalg.norm(dh0, axis=1)), rel=1e-10)


def test_an_lstm_cell_passes_its_gradient_back_through_the_forget_gate_alone(rng):
    """(ch11-cell-path) with h_(t-1) given: dC/dc_(t-1) = f_t * dC/dc_t, by autograd."""
    H = 3
    layer = LSTM(2, H, rng=rng)
    W_ih, W_hh, b = (p.copy() for p in layer.parameters())
    x, h0, c0 = rng.normal(size=(1, 2)), rng.normal(size=(1, H)), rng.normal(size=(1, H))
    u = rng.normal(size=(1, H))
    z = np.dot(x, W_ih.T) + np.dot(h0, W_hh.T) + b
    i, f = 1 / (1 + np.exp(-z[:, :H])), 1 / (1 + np.exp(-z[:, H : 2 * H]))
    g, o = np.tanh(z[:, 2 * H : 3 * H]), 1 / (1 + np.exp(-z[:, 3 * H :]))
    dC_dc0 = grad(lambda c: anp.sum(u * o * anp.tanh(f * c + i * g)))(c0)
    dC_dc1 = grad(lambda c: anp.sum(u * o * anp.tanh(c)))(f * c0 + i * g)
    np.testing.assert_allclose(dC_dc0, f * dC_dc1, rtol=1e-12)
    layer.forward(x[None], h0=h0, c0=c0)
    layer.backward(u[None])
    np.testing.assert_allclose(layer.dc0, dC_dc0, rtol=1e-10)


# --- clipping ---------------------------------------------------------------------------------


def test_clipping_by_global_norm_caps_the_length_and_keeps_the_direction(rng):
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    flat = np.concatenate([g.ravel() for g in grads])
    norm = np.linalg.norm(flat)
    assert clip_by_global_norm(grads, norm / 4) == pytest.approx(norm, rel=1e-14)
    clipped = np.concatenate([g.ravel() for g in grads])
    np.testing.assert_allclose(clipped, flat / 4, rtol=1e-14)  # same direction, length / 4
    small = [g.copy() for g in grads]
    clip_by_global_norm(small, 10 * norm)
    for before, after in zip(grads, small, strict=True):
        np.testing.assert_array_equal(before, after)  # below the threshold: untouched
    with pytest.raises(ValueError, match="max_norm must be positive, got 0"):
        clip_by_global_norm(grads, 0.0)


# --- the adding problem -----------------------------------------------------------------------


def test_adding_problem_has_two_markers_one_per_half_and_sums_them(rng):
    x, y = adding_problem(200, 11, rng)
    assert x.shape == (11, 200, 2) and y.shape == (200, 1)
    values, markers = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers[:5].sum(axis=0) == 1) and np.all(markers[5:].sum(axis=0) == 1)
    first = np.argmax(markers[:5], axis=0)
    second = 5 + np.argmax(markers[5:], axis=0)
    columns = np.arange(200)
    np.testing.assert_allclose(y[:, 0], values[first, columns] + values[second, columns])


def test_adding_problem_is_seeded_by_its_generator():
    a = adding_problem(4, 6, np.random.default_rng(7))
    b = adding_problem(4, 6, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="T >= 2 and n >= 1, got T=1"):
        adding_problem(3, 1, np.random.default_rng(7))


def test_predicting_the_mean_of_the_adding_problem_costs_one_sixth(rng):
    """MSE of predicting 1 is Var(v1 + v2) = 1/6. Its standard error on 20,000 sums is
    about 0.0014 (the variance of (S - 1)^2 is 1/15 - 1/36), so 0.007 is five of them."""
    _, y = adding_problem(20_000, 10, rng)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.007)
    v1, v2 = sp.symbols("v1 v2")
    assert sp.integrate((v1 + v2 - 1) ** 2, (v1, 0, 1), (v2, 0, 1)) == sp.Rational(1, 6)


# --- the trained model ------------------------------------------------------------------------


@pytest.mark.parametrize("layer_type", [RNN, LSTM])
def test_last_step_regressor_against_central_differences(rng, layer_type):
    model = LastStepRegressor(layer_type(2, 3, rng=rng), 3, rng)
    reports = gc.check_module(model, rng.normal(size=(4, 2, 2)), rng)
    assert all(report.passed for report in reports.values()), reports


def test_last_step_regressor_needs_forward_before_backward(rng):
    model = LastStepRegressor(RNN(2, 3, rng=rng), 3, rng)
    with pytest.raises(RuntimeError, match="call forward before backward"):
        model.backward(np.ones((2, 1)))


def test_train_regressor_lowers_the_error_and_records_every_step(rng):
    x = rng.normal(size=(5, 16, 2))
    y = 0.5 * x[-1, :, :1] + 1.0  # depends on the last step only: easy
    model = LastStepRegressor(RNN(2, 8, rng=rng), 8, rng)
    history = train_regressor(model, [(x, y)] * 200, lr=0.05, momentum=0.9, max_norm=1.0)
    assert len(history.loss) == len(history.grad_norm) == 200
    steps, means = history.window_means(50)
    assert list(steps) == [50, 100, 150, 200]
    assert means[-1] < 0.1 * means[0]


# --- figures ----------------------------------------------------------------------------------


def test_plot_by_lag_is_labelled_on_a_log_axis():
    lags = np.arange(1, 6)
    ax = plot_by_lag(
        lags,
        {"a": 0.5**lags, "b": np.r_[1.0, 2.0, 0.0, 4.0, 5.0]},
        {"a": 0.6**lags},
        ylabel="norm",
        title="t",
    )
    assert ax.get_title() == "t" and ax.get_ylabel() == "norm"
    assert ax.get_xlabel() == "time lag k (steps)" and ax.get_yscale() == "log"
    assert len(ax.get_lines()) == 3
    assert len(ax.get_lines()[2].get_xdata()) == 4  # the 0 is left out
    with pytest.raises(ValueError, match="bounds for curves that are not drawn"):
        plot_by_lag(lags, {"a": lags}, {"c": lags}, ylabel="n", title="t")
    with pytest.raises(ValueError, match="curve 'a' has shape"):
        plot_by_lag(lags, {"a": lags[:3]}, ylabel="n", title="t")


def test_plot_learning_curves_shows_window_means_and_baselines():
    history = RegressionHistory(loss=[4.0, 2.0, 1.0, 1.0, 9.0], grad_norm=[1.0] * 5)
    ax = plot_learning_curves({"m": history}, {"base": 0.5}, window=2, title="t")
    line, base = ax.get_lines()
    assert list(line.get_xdata()) == [2, 4] and list(line.get_ydata()) == [3.0, 1.0]
    assert list(base.get_ydata()) == [0.5, 0.5]
    assert ax.get_title() == "t" and ax.get_xlabel() == "training step"
    assert "mean of 2 batches" in ax.get_ylabel() and ax.get_yscale() == "log"
