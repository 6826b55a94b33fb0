"""Chapters 5 and 6: one example's gradients (loops, matrices) and the batched MLP.

The oracle is HIPS autograd, differentiating a loss written here independently of the
package; central differences are a second oracle for one case, and the layer modules of
chapter 4 a third view of the same network.
"""

import re

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad, grad

from backprop import gradcheck as gc
from backprop.book.assembly import gradients_by_loops, gradients_by_matrices
from backprop.book.network import backward_pass, check_mlp, forward_pass, init_mlp
from backprop.nn import Linear, ReLU, Sequential, Sigmoid, Tanh
from backprop.nn.activations import ACTIVATIONS, activation_pair, sigmoid
from backprop.nn.losses import softmax_cross_entropy

HIDDEN = {
    "sigmoid": lambda z: 1 / (1 + anp.exp(-z)),
    "tanh": anp.tanh,
    "relu": lambda z: anp.maximum(z, 0.0),
}
MODULES = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
PER_EXAMPLE = (gradients_by_loops, gradients_by_matrices)

# (widths, batch size m, bias, activation): a batch of one, a hidden width of one, no hidden
# layer with two classes, and a deep network.
CASES = [
    ((3, 4, 2), 5, True, "sigmoid"),
    ((3, 4, 2), 1, True, "tanh"),
    ((3, 4, 2), 1, False, "relu"),
    ((5, 1, 3), 4, True, "sigmoid"),
    ((5, 1, 3), 3, False, "relu"),
    ((5, 1, 3), 1, True, "tanh"),
    ((2, 2), 6, True, "sigmoid"),
    ((2, 2), 1, False, "tanh"),
    ((4, 6, 6, 6, 6, 6, 3), 7, True, "tanh"),
    ((4, 6, 6, 6, 6, 6, 3), 2, False, "relu"),
    ((4, 6, 6, 6, 6, 6, 3), 1, True, "sigmoid"),
    ((6, 3, 5, 4), 8, True, "relu"),
]
IDS = [f"{'-'.join(map(str, w))}_m{m}_{'bias' if b else 'nobias'}_{f}" for w, m, b, f in CASES]

# The package and autograd do the same float64 arithmetic up to the order of summation, so
# they agree to within a few units of round-off; 1e-10 relative leaves a wide margin and
# still catches any wrong formula (errors then are of order 1).
RTOL, ATOL = 1e-10, 1e-12


def reference_loss(params, X, Y, activation, bias):
    """Mean softmax cross-entropy of the MLP, in autograd.numpy, sharing no code with backprop."""
    a = X
    for number, layer in enumerate(params):
        W, b = layer if bias else (layer[0], 0.0)
        z = anp.dot(a, W.T) + b
        a = HIDDEN[activation](z) if number < len(params) - 1 else z
    shifted = a - anp.max(a, axis=1, keepdims=True)
    log_p = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.sum(Y * log_p) / X.shape[0]


def make_case(widths, m, bias, rng):
    weights, biases = init_mlp(widths, rng, bias=bias)
    X = rng.normal(size=(m, widths[0]))
    labels = rng.integers(widths[-1], size=m)
    return weights, biases, X, labels


def as_params(weights, biases):
    """The parameters as reference_loss takes them: (W, b) per layer, or (W,) without bias."""
    if biases is None:
        return [(W,) for W in weights]
    return list(zip(weights, biases, strict=True))


def autograd_gradients(weights, biases, X, labels, activation):
    Y = np.eye(weights[-1].shape[0])[labels]
    g = grad(reference_loss)(as_params(weights, biases), X, Y, activation, biases is not None)
    return [layer[0] for layer in g], ([layer[1] for layer in g] if biases is not None else None)


def batched_gradients(X, labels, weights, biases, activation):
    loss, Z, A = forward_pass(X, labels, weights, biases, activation)
    return backward_pass(labels, weights, Z, A, activation, bias=biases is not None)


def assert_all_close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def assert_same_gradients(ours, theirs):
    """Both (dW, db) pairs agree; db is None on both sides for a network without biases."""
    assert_all_close(ours[0], theirs[0])
    if theirs[1] is None:
        assert ours[1] is None
    else:
        assert_all_close(ours[1], theirs[1])


@pytest.mark.ch06
@pytest.mark.parametrize(("widths", "m", "bias", "activation"), CASES, ids=IDS)
def test_batched_gradients_match_autograd(widths, m, bias, activation, rng):
    weights, biases, X, labels = make_case(widths, m, bias, rng)
    loss, Z, A = forward_pass(X, labels, weights, biases, activation)
    dW, db = backward_pass(labels, weights, Z, A, activation, bias=bias)
    reference = autograd_gradients(weights, biases, X, labels, activation)
    Y = np.eye(widths[-1])[labels]
    expected_loss = reference_loss(as_params(weights, biases), X, Y, activation, bias)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert_same_gradients((dW, db), reference)


@pytest.mark.ch05
@pytest.mark.parametrize(("widths", "m", "bias", "activation"), CASES, ids=IDS)
def test_per_example_loops_and_matrices_match_autograd(widths, m, bias, activation, rng):
    # each example of the batch on its own: autograd differentiates a batch of one (m = 1)
    weights, biases, X, labels = make_case(widths, m, bias, rng)
    for n in range(m):
        reference = autograd_gradients(weights, biases, X[n : n + 1], labels[n : n + 1], activation)
        for implementation in PER_EXAMPLE:
            ours = implementation(X[n], int(labels[n]), weights, biases, activation)
            assert_same_gradients(ours, reference)


@pytest.mark.ch06
@pytest.mark.parametrize(("widths", "m", "bias", "activation"), CASES, ids=IDS)
def test_batch_gradient_is_the_mean_of_per_example_gradients(widths, m, bias, activation, rng):
    weights, biases, X, labels = make_case(widths, m, bias, rng)
    dW, db = batched_gradients(X, labels, weights, biases, activation)
    for implementation in PER_EXAMPLE:
        per_example = [
            implementation(X[n], labels[n], weights, biases, activation) for n in range(m)
        ]
        # a batch of one row is the example itself: no 1/m left over
        for n in (0, m - 1):
            alone = batched_gradients(X[n : n + 1], labels[n : n + 1], weights, biases, activation)
            assert_same_gradients(alone, per_example[n])
        mean_dW = [sum(g[0][layer] for g in per_example) / m for layer in range(len(weights))]
        assert_all_close(dW, mean_dW)
        if bias:
            mean_db = [sum(g[1][layer] for g in per_example) / m for layer in range(len(weights))]
            assert_all_close(db, mean_db)
        else:
            assert db is None and all(g[1] is None for g in per_example)


@pytest.mark.ch05
@pytest.mark.parametrize(("widths", "activation"), [((3, 4, 2), "tanh"), ((2, 3, 3, 4), "relu")])
def test_loops_and_matrices_agree_with_each_other(widths, activation, rng):
    weights, biases, X, labels = make_case(widths, 4, True, rng)
    for n in range(4):
        loops = gradients_by_loops(X[n], labels[n], weights, biases, activation)
        matrices = gradients_by_matrices(X[n], labels[n], weights, biases, activation)
        assert_same_gradients(loops, matrices)


@pytest.mark.ch06
@pytest.mark.parametrize("bias", [True, False])
def test_batched_gradients_match_central_differences(bias, rng):
    weights, biases, X, labels = make_case((4, 5, 3, 3), 6, bias, rng)
    dW, db = batched_gradients(X, labels, weights, biases, "tanh")
    for layer in range(3):

        def loss_of_weight(W, layer=layer):
            return forward_pass(
                X, labels, weights[:layer] + [W] + weights[layer + 1 :], biases, "tanh"
            )[0]

        assert gc.check_gradient(loss_of_weight, weights[layer], dW[layer]).passed
        # the check can fail: a gradient m times too large (the 1/m forgotten) is flagged
        assert not gc.check_gradient(loss_of_weight, weights[layer], 6 * dW[layer]).passed
        if bias:

            def loss_of_bias(b, layer=layer):
                new = biases[:layer] + [b] + biases[layer + 1 :]
                return forward_pass(X, labels, weights, new, "tanh")[0]

            assert gc.check_gradient(loss_of_bias, biases[layer], db[layer]).passed


@pytest.mark.ch06
@pytest.mark.parametrize(("widths", "m", "bias", "activation"), CASES, ids=IDS)
def test_repeating_every_example_changes_neither_the_mean_cost_nor_its_gradients(
    widths, m, bias, activation, rng
):
    # chapter 6, exercise 6: each copy weighs 1/(2m) instead of 1/m, and there are two
    weights, biases, X, labels = make_case(widths, m, bias, rng)
    twice = np.vstack([X, X]), np.concatenate([labels, labels])
    loss = forward_pass(X, labels, weights, biases, activation)[0]
    loss_twice = forward_pass(*twice, weights, biases, activation)[0]
    assert loss_twice == pytest.approx(loss, rel=1e-12)
    assert_same_gradients(
        batched_gradients(*twice, weights, biases, activation),
        batched_gradients(X, labels, weights, biases, activation),
    )


@pytest.mark.ch06
@pytest.mark.parametrize("m", [2, 5, 8])
def test_a_summed_cost_has_m_times_the_gradient_of_the_mean(m, rng):
    # the source's slip: a summed cost with Delta^(L) divided by m. Its check fails with a
    # relative error of exactly 1 - 1/m, and passes once the gradient is multiplied by m.
    weights, biases, X, labels = make_case((4, 3, 3), m, True, rng)
    dW, _ = batched_gradients(X, labels, weights, biases, "sigmoid")

    def summed_cost(W1):
        return m * forward_pass(X, labels, [W1, weights[1]], biases)[0]

    report = gc.check_gradient(summed_cost, weights[0], dW[0])
    assert not report.passed
    assert report.error == pytest.approx(1 - 1 / m, rel=1e-6)
    assert gc.check_gradient(summed_cost, weights[0], m * dW[0]).passed


@pytest.mark.ch06
@pytest.mark.parametrize("m", [1, 4, 9])
def test_every_row_of_the_output_error_sums_to_zero(m, rng):
    # softmax rows and one-hot rows both sum to 1, so (A - Y) / m has rows summing to 0,
    # negative only in the label's column
    weights, biases, X, labels = make_case((3, 5, 4), m, True, rng)
    _, Z, A = forward_pass(X, labels, weights, biases)
    Delta = (A[2] - np.eye(4)[labels]) / m
    np.testing.assert_allclose(Delta.sum(axis=1), 0.0, atol=1e-15)
    assert np.array_equal(np.argmin(Delta, axis=1), labels)
    assert (np.sum(Delta < 0, axis=1) == 1).all()


@pytest.mark.ch06
@pytest.mark.parametrize(("widths", "m", "bias", "activation"), CASES, ids=IDS)
def test_batched_gradients_match_the_layer_modules(widths, m, bias, activation, rng):
    weights, biases, X, labels = make_case(widths, m, bias, rng)
    modules = []
    for layer, W in enumerate(weights):
        linear = Linear(W.shape[1], W.shape[0], rng, bias=bias)
        linear.W[...] = W
        if bias:
            linear.b[...] = biases[layer]
        modules += [linear] if layer == len(weights) - 1 else [linear, MODULES[activation]()]
    net = Sequential(*modules)
    module_loss, dlogits = softmax_cross_entropy(net.forward(X), labels)
    net.backward(dlogits)
    loss, Z, A = forward_pass(X, labels, weights, biases, activation)
    dW, db = backward_pass(labels, weights, Z, A, activation, bias=bias)
    assert loss == pytest.approx(module_loss, rel=1e-12)
    linears = [module for module in net if isinstance(module, Linear)]
    assert_all_close(dW, [linear.dW for linear in linears])
    if bias:
        assert_all_close(db, [linear.db for linear in linears])


@pytest.mark.ch06
@pytest.mark.parametrize("bias", [True, False])
def test_one_hot_labels_give_the_same_result_as_indices(bias, rng):
    weights, biases, X, labels = make_case((3, 4, 3), 5, bias, rng)
    Y = np.eye(3)[labels]
    by_index = forward_pass(X, labels, weights, biases)
    by_rows = forward_pass(X, Y, weights, biases)
    assert by_index[0] == by_rows[0]
    assert_same_gradients(
        backward_pass(labels, weights, *by_index[1:], bias=bias),
        backward_pass(Y, weights, *by_rows[1:], bias=bias),
    )
    for implementation in PER_EXAMPLE:
        assert_same_gradients(
            implementation(X[0], int(labels[0]), weights, biases),
            implementation(X[0], Y[0], weights, biases),
        )


@pytest.mark.ch06
def test_the_forward_pass_keeps_every_layer(rng):
    weights, biases, X, labels = make_case((3, 4, 5, 2), 6, True, rng)
    loss, Z, A = forward_pass(X, labels, weights, biases, "sigmoid")
    assert sorted(Z) == [1, 2, 3] and sorted(A) == [0, 1, 2, 3]
    assert np.array_equal(A[0], X)
    assert [Z[layer].shape for layer in (1, 2, 3)] == [(6, 4), (6, 5), (6, 2)]
    for layer in (1, 2, 3):
        expected = A[layer - 1] @ weights[layer - 1].T + biases[layer - 1]
        np.testing.assert_allclose(Z[layer], expected, rtol=1e-14)
    for layer in (1, 2):  # hidden layers: sigmoid of their own Z
        np.testing.assert_allclose(A[layer], 1 / (1 + np.exp(-Z[layer])), rtol=1e-14)
    exps = np.exp(Z[3])
    np.testing.assert_allclose(A[3], exps / exps.sum(axis=1, keepdims=True), rtol=1e-14)


@pytest.mark.ch06
@pytest.mark.parametrize("bias", [True, False])
def test_init_mlp_shapes_and_range(bias, rng):
    weights, biases = init_mlp((3, 4, 2), rng, bias=bias)
    assert [W.shape for W in weights] == [(4, 3), (2, 4)]
    assert np.abs(weights[0]).max() <= 1 / np.sqrt(3)
    assert np.abs(weights[1]).max() <= 1 / np.sqrt(4)
    if bias:
        assert [b.shape for b in biases] == [(4,), (2,)]
    else:
        assert biases is None


def message(*parts):
    return ".*".join(re.escape(str(part)) for part in parts)


@pytest.mark.ch06
@pytest.mark.parametrize(
    ("weights", "biases", "expected"),
    [
        (
            [np.ones((4, 3)), np.ones((2, 5))],
            None,
            message("W^(2)", "(n_2, 4)", "W^(1)", "(4, 3)", "got (2, 5)"),
        ),
        (
            [np.ones((4, 3)), np.ones((5, 4)), np.ones((2, 4))],
            None,
            message("W^(3)", "(n_3, 5)", "W^(2)", "(5, 4)", "got (2, 4)"),
        ),
        (
            [np.ones((4, 3)), np.ones((2, 4))],
            [np.ones(4), np.ones(3)],
            message("b^(2)", "(2,)", "(3,)"),
        ),
        (
            [np.ones((4, 3)), np.ones((2, 4))],
            [np.ones((4, 1)), np.ones(2)],
            message("b^(1)", "(4,)", "(4, 1)"),
        ),
        ([np.ones((4, 3)), np.ones((2, 4))], [np.ones(4)], message("2 weights", "1 biases")),
        ([np.ones((4, 3)), np.ones((1, 4))], None, message("at least 2 outputs", "(1, 4)")),
        ([np.ones(3)], None, message("2-D", "(3,)")),
        ([], None, "at least one weight matrix"),
    ],
    ids=[
        "weights-do-not-chain",
        "third-does-not-chain",
        "bias-shape",
        "bias-column",
        "bias-count",
        "one-output",
        "1-D",
        "empty",
    ],
)
def test_bad_parameters_are_refused_with_their_shapes(weights, biases, expected):
    with pytest.raises(ValueError, match=expected):
        check_mlp(weights, biases)
    with pytest.raises(ValueError, match=expected):
        forward_pass(np.ones((2, 3)), [0, 1], weights, biases)
    for implementation in PER_EXAMPLE:
        with pytest.raises(ValueError, match=expected):
            implementation(np.ones(3), 0, weights, biases)


@pytest.mark.ch06
def test_bad_inputs_are_refused(rng):
    weights, biases = init_mlp((3, 4, 2), rng)
    with pytest.raises(ValueError, match=message("X", "(batch, 3)", "(5, 4)")):
        forward_pass(np.ones((5, 4)), np.zeros(5, dtype=int), weights, biases)
    with pytest.raises(ValueError, match=message("X", "(batch, 3)", "(3,)")):
        forward_pass(np.ones(3), np.zeros(1, dtype=int), weights, biases)
    with pytest.raises(ValueError, match=message("X must be finite, got NaN", "(0, 1)")):
        forward_pass(np.array([[1.0, np.nan, 0.0]]), [0], weights, biases)
    with pytest.raises(ValueError, match=message("labels", "(2,)", "(3,)")):
        forward_pass(np.ones((2, 3)), np.zeros(3, dtype=int), weights, biases)
    with pytest.raises(ValueError, match=message("[0, 2)", "got 2")):
        forward_pass(np.ones((2, 3)), np.array([0, 2]), weights, biases)
    for implementation in PER_EXAMPLE:
        with pytest.raises(ValueError, match=message("x", "(3,)", "(4,)")):
            implementation(np.ones(4), 0, weights, biases)
        with pytest.raises(ValueError, match=message("x", "(3,)", "(1, 3)")):
            implementation(np.ones((1, 3)), 0, weights, biases)
        with pytest.raises(ValueError, match=message("x must be finite, got NaN", "(2,)")):
            implementation(np.array([1.0, 0.0, np.nan]), 0, weights, biases)
        with pytest.raises(ValueError, match=message("[0, 2)", "got 2")):
            implementation(np.ones(3), 2, weights, biases)
        with pytest.raises(ValueError, match=message("activation", "'softplus'")):
            implementation(np.ones(3), 0, weights, biases, activation="softplus")
    with pytest.raises(ValueError, match=message("activation", "'softplus'")):
        forward_pass(np.ones((2, 3)), [0, 1], weights, biases, activation="softplus")
    with pytest.raises(ValueError, match=message("widths[1] must be an int >= 1, got 0")):
        init_mlp((3, 0, 2), rng)
    with pytest.raises(ValueError, match=message("widths", "[3]")):
        init_mlp((3,), rng)
    with pytest.raises(TypeError, match=message("widths[1] must be an int, got float 2.0")):
        init_mlp((3, 2.0), rng)


@pytest.mark.ch05
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives_match_autograd(name, rng):
    f, f_prime = activation_pair(name)
    z = rng.normal(scale=3.0, size=50)
    z = z[np.abs(z) > 1e-3]  # away from ReLU's kink
    np.testing.assert_allclose(f(z), HIDDEN[name](z), rtol=1e-14)
    # atol: tanh' = 1 - tanh^2 loses relative accuracy in its tails (round-off of 1e-16)
    expected = elementwise_grad(HIDDEN[name])(z)
    np.testing.assert_allclose(f_prime(z), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.ch05
def test_relu_derivative_at_the_kink_is_zero():
    # the documented choice (as in PyTorch); autograd's maximum would give 1/2 here
    assert ACTIVATIONS["relu"][1](np.array([-1.0, 0.0, 1.0])).tolist() == [0.0, 0.0, 1.0]


@pytest.mark.ch05
def test_sigmoid_is_finite_far_out():
    # a naive 1 / (1 + e^-z) gives the same numbers, but only after an overflow of e^1000;
    # e^-1000 underflowing to 0 is harmless
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
        slope = ACTIVATIONS["sigmoid"][1](np.array([-1000.0, 0.0, 1000.0]))
    assert slope.tolist() == [0.0, 0.25, 0.0]
