"""Chapter 4's three ways to every gradient: they agree with an independent autodiff, and
their multiplication counts match closed forms worked out by hand here (not by the code
under test): finite differences and forward mode grow like P x (one pass), the backward
pass like one pass.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from backprop.book import modes

pytestmark = pytest.mark.ch04

WIDTHS = [[2, 3], [3, 4, 2], [2, 2, 2, 2], [4, 3, 5, 2]]


def products(widths):
    """sum over layers of n_l n_(l-1): the matrix-vector products of one forward pass."""
    return sum(n_in * n_out for n_in, n_out in zip(widths[:-1], widths[1:], strict=True))


def autograd_gradient(weights, biases, x, y):
    def cost(params):
        a = x
        for W, b in zip(params[0::2], params[1::2], strict=True):
            a = anp.tanh(anp.dot(W, a) + b)
        return 0.5 * anp.sum((a - y) ** 2)

    return grad(cost)(modes.parameters(weights, biases))


@pytest.mark.parametrize("widths", WIDTHS)
def test_the_three_gradients_agree_with_autograd(rng, widths):
    weights, biases, x, y = modes.random_network(widths, rng)
    expected = autograd_gradient(weights, biases, x, y)
    for method, rtol in [
        (modes.reverse_mode_gradient, 1e-12),
        (modes.forward_mode_gradient, 1e-12),
        (modes.finite_difference_gradient, 1e-6),  # central differences, h = 1e-6
    ]:
        got, _ = method(weights, biases, x, y)
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * np.max(np.abs(e)))


@pytest.mark.parametrize("widths", WIDTHS)
def test_counts_match_the_closed_forms(rng, widths):
    weights, biases, x, y = modes.random_network(widths, rng)
    n_out = widths[-1]
    n_params = sum(n_in * n + n for n_in, n in zip(widths[:-1], widths[1:], strict=True))
    one_cost = products(widths) + n_out  # the forward pass, then |a - y|^2

    ops = modes.Multiplications()
    modes.cost(weights, biases, x, y, ops)
    assert ops.total == one_cost

    _, ops = modes.finite_difference_gradient(weights, biases, x, y)
    assert ops.total == 2 * n_params * one_cost

    _, ops = modes.reverse_mode_gradient(weights, biases, x, y)
    # per layer: tanh' = 1 - a^2 and delta (2 n_l), dC/dW (n_l n_(l-1)); W^T delta for l > 1
    backward = sum(2 * n + n_in * n for n_in, n in zip(widths[:-1], widths[1:], strict=True))
    backward += products(widths[1:])
    assert ops.by_phase == {"forward": one_cost, "backward": backward}

    _, ops = modes.forward_mode_gradient(weights, biases, x, y)
    expected = 0
    for s in range(1, len(widths)):  # a parameter of layer s, and how many layer s has
        per_pass = products(widths) + products(widths[s - 1 :]) - widths[s - 1] * widths[s]
        per_pass += 2 * sum(widths[s:]) + n_out
        expected += (widths[s - 1] * widths[s] + widths[s]) * per_pass
    assert ops.total == expected


def test_backward_pass_costs_a_small_constant_times_the_forward_pass(rng):
    ratios = []
    for n in (2, 8, 32, 64):
        _, ops = modes.reverse_mode_gradient(*modes.random_network([n] * 4, rng))
        ratios.append(ops.by_phase["backward"] / ops.by_phase["forward"])
    assert all(1.5 < r < 2.5 for r in ratios)
    assert abs(ratios[-1] - 5 / 3) < 0.05  # (3 n^2 outer + 2 n^2 W^T delta) / 3 n^2


def test_finite_differences_leave_the_parameters_as_they_were(rng):
    weights, biases, x, y = modes.random_network([3, 4, 2], rng)
    before = [p.copy() for p in modes.parameters(weights, biases)]
    modes.finite_difference_gradient(weights, biases, x, y)
    for p, q in zip(modes.parameters(weights, biases), before, strict=True):
        np.testing.assert_array_equal(p, q)


def test_cost_is_half_the_squared_error(rng):
    weights, biases, x, y = modes.random_network([3, 2], rng)
    a = np.tanh(weights[0] @ x + biases[0])
    assert modes.cost(weights, biases, x, y) == pytest.approx(0.5 * np.sum((a - y) ** 2))
