"""Chapter 8: the gradient check passes the correct backward pass and catches every slip."""

import numpy as np
import pytest

from backprop import gradcheck as gc
from backprop.book import slips
from backprop.book.network import backward_pass, forward_pass, init_mlp

pytestmark = pytest.mark.ch08


@pytest.fixture
def square_network(rng):
    weights, _ = init_mlp((5, 5, 5, 5), rng, bias=False)
    X, labels = rng.normal(size=(8, 5)), rng.integers(5, size=8)
    loss, Z, A = forward_pass(X, labels, weights, None, "tanh")
    return weights, X, labels, Z, A


def layer_reports(backward, network):
    weights, X, labels, Z, A = network
    reports = []
    for layer, g in enumerate(backward(labels, weights, Z, A, "tanh")):

        def loss_of_weight(W, layer=layer):
            new = weights[:layer] + [W] + weights[layer + 1 :]
            return forward_pass(X, labels, new, None, "tanh")[0]

        reports.append(gc.check_gradient(loss_of_weight, weights[layer], g))
    return reports


def test_the_reference_passes_and_equals_backward_pass(square_network):
    weights, X, labels, Z, A = square_network
    assert all(r.passed for r in layer_reports(slips.correct, square_network))
    reference, _ = backward_pass(labels, weights, Z, A, "tanh", bias=False)
    for ours, theirs in zip(slips.correct(labels, weights, Z, A, "tanh"), reference, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


@pytest.mark.parametrize(
    "backward",
    [*slips.SLIPS.values(), slips.exercise_1, slips.exercise_2],
    ids=[*slips.SLIPS, "exercise_1", "exercise_2"],
)
def test_every_slip_is_caught(backward, square_network):
    reports = layer_reports(backward, square_network)
    assert not all(r.passed for r in reports)
    assert max(r.error for r in reports) > 1e-2  # caught by far, not by round-off


def test_the_signatures_the_chapter_describes(square_network):
    missing_mean = [r.error for r in layer_reports(slips.missing_mean, square_network)]
    np.testing.assert_allclose(missing_mean, 1 - 1 / 8, atol=0.01)  # the same 1 - 1/m
    flipped = [r.error for r in layer_reports(slips.flipped_sign, square_network)]
    np.testing.assert_allclose(flipped, 2.0, atol=1e-6)
    slope = layer_reports(slips.wrong_layer_slope, square_network)
    assert slope[-1].passed and not slope[0].passed  # the last layer uses no slope


def test_directional_check_passes_a_correct_gradient_and_catches_a_wrong_one(rng):
    weights, biases = init_mlp((20, 15, 4), rng)
    X, labels = rng.normal(size=(6, 20)), rng.integers(4, size=6)
    loss, Z, A = forward_pass(X, labels, weights, biases)
    dW, _ = backward_pass(labels, weights, Z, A)

    def loss_of_first(W):
        return forward_pass(X, labels, [W, weights[1]], biases)[0]

    assert gc.check_directional(loss_of_first, weights[0], dW[0], rng).passed
    wrong = dW[0].copy()
    wrong[3, 7] += 0.01  # one entry off
    assert not gc.check_directional(loss_of_first, weights[0], wrong, rng).passed
    with pytest.raises(ValueError, match=r"gradient of shape \(15, 20\), got \(20, 15\)"):
        gc.check_directional(loss_of_first, weights[0], dW[0].T, rng)


def test_which_slips_the_shapes_catch_on_uneven_widths(rng):
    """Chapter 8: on 5-4-6-3 three slips still run with every dW shaped like its W."""
    weights, _ = init_mlp((5, 4, 6, 3), rng, bias=False)
    X, labels = rng.normal(size=(8, 5)), rng.integers(3, size=8)
    _, Z, A = forward_pass(X, labels, weights, None, "tanh")
    shaped_right = []
    for name, backward in slips.SLIPS.items():
        try:
            grads = backward(labels, weights, Z, A, "tanh")
        except ValueError:
            assert name == "slope of the wrong layer"  # widths 6 and 3 do not broadcast
            continue
        if all(g.shape == W.shape for g, W in zip(grads, weights, strict=True)):
            shaped_right.append(name)
        else:
            assert name == "missing transpose"
            assert [g.shape for g in grads] == [W.T.shape for W in weights]
    assert shaped_right == ["forgotten += at a fork", "missing 1/m", "sign error in softmax-CE"]
    # exercise 2 pairs Delta^(l) with A^(l): square (n_l, n_l) gradients
    grads = slips.exercise_2(labels, weights, Z, A, "tanh")
    assert [g.shape for g in grads] == [(4, 4), (6, 6), (3, 3)]


def test_exercise_1_is_right_for_relu_only(square_network):
    """f'(a) = f'(z) for ReLU, so the slip of exercise 1 only shows with other activations."""
    weights, X, labels, _, _ = square_network
    for activation, same in [("relu", True), ("tanh", False), ("sigmoid", False)]:
        _, Z, A = forward_pass(X, labels, weights, None, activation)
        pairs = zip(
            slips.exercise_1(labels, weights, Z, A, activation),
            slips.correct(labels, weights, Z, A, activation),
            strict=True,
        )
        assert all(np.array_equal(a, b) for a, b in pairs) == same, activation
