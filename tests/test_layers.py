"""backprop.nn: the layers and the losses against finite differences and against autograd.

autograd shares no code with the package: each module's forward pass is written again in
autograd.numpy (a few lines per module, below), and autograd differentiates it. Tolerances:
the package and autograd both compute exact derivatives in float64, so they agree to about
1e-12 relative; finite differences are checked by check_gradient's 1e-6 relative error.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from backprop.gradcheck import check_gradient, check_module
from backprop.nn import (
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    mse,
    softmax,
    softmax_cross_entropy,
)

pytestmark = pytest.mark.ch04

REFERENCE_ACTIVATIONS = {
    Sigmoid: lambda z: 1 / (1 + anp.exp(-z)),
    Tanh: anp.tanh,
    ReLU: lambda z: anp.maximum(z, 0.0),
}


def reference_forward(net: Sequential, params: list, x):
    """The network's forward pass in autograd.numpy, with the parameters as arguments."""
    params = list(params)
    for module in net:
        if isinstance(module, Linear):
            W = params.pop(0)
            x = anp.dot(x, W.T)
            if module.b is not None:
                x = x + params.pop(0)
        else:
            x = REFERENCE_ACTIVATIONS[type(module)](x)
    return x


def random_net(rng, widths, activation=Tanh, bias=True):
    modules = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        modules += [Linear(n_in, n_out, rng, bias=bias), activation()]
    return Sequential(*modules)


CASES = [
    ((3, 4, 2), 5, Tanh, True),
    ((1, 1, 1), 1, Sigmoid, True),  # batch 1, width 1
    ((4, 1, 3), 2, Sigmoid, False),  # a hidden width of 1, no bias
    ((5, 6, 6, 6, 6, 6, 6, 6, 2), 3, Tanh, True),  # deep
    ((3, 5, 2), 4, ReLU, True),
]


@pytest.mark.parametrize("widths,batch,activation,bias", CASES)
def test_backward_matches_autograd(rng, widths, batch, activation, bias):
    net = random_net(rng, widths, activation, bias)
    x = rng.normal(size=(batch, widths[0]))
    upstream = rng.normal(size=(batch, widths[-1]))
    net.forward(x)
    grad_in = net.backward(upstream)

    def scalar(params, x_):
        return anp.sum(reference_forward(net, params, x_) * upstream)

    params = [p.copy() for p in net.parameters()]
    expected_params = grad(scalar, 0)(params, x)
    expected_input = grad(scalar, 1)(params, x)
    np.testing.assert_allclose(grad_in, expected_input, rtol=1e-10, atol=1e-12)
    for got, expected in zip(net.gradients(), expected_params, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("widths,batch,activation,bias", CASES[:4])
def test_backward_matches_finite_differences(rng, widths, batch, activation, bias):
    net = random_net(rng, widths, activation, bias)
    reports = check_module(net, rng.normal(size=(batch, widths[0])), rng)
    assert len(reports) == 1 + len(net.parameters())
    assert all(report.passed for report in reports.values()), reports


def test_a_single_example_works_like_a_batch_of_one(rng):
    layer = Linear(3, 2, rng)
    x = rng.normal(size=3)
    out = layer.forward(x)
    assert out.shape == (2,)
    grad_in = layer.backward(np.array([1.0, -2.0]))
    single = (layer.dW.copy(), layer.db.copy(), grad_in)
    layer.forward(x[None, :])
    batch_grad_in = layer.backward(np.array([[1.0, -2.0]]))
    np.testing.assert_allclose(single[0], layer.dW)
    np.testing.assert_allclose(single[1], layer.db)
    np.testing.assert_allclose(single[2], batch_grad_in[0])


def test_linear_weights_are_shaped_like_pytorch_and_reproducible():
    a = Linear(4, 3, np.random.default_rng(7))
    b = Linear(4, 3, np.random.default_rng(7))
    assert a.W.shape == (3, 4) and a.b.shape == (3,)
    np.testing.assert_array_equal(a.W, b.W)
    assert np.all(np.abs(a.W) <= 0.5)  # uniform in +-1/sqrt(n_in) = +-0.5


def reference_cross_entropy(logits, onehot):
    shifted = logits - anp.max(logits, axis=1, keepdims=True)
    log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.sum(onehot * log_probs) / logits.shape[0]


@pytest.mark.parametrize("batch,classes", [(1, 2), (4, 3), (7, 10)])
def test_softmax_cross_entropy_matches_autograd_and_finite_differences(rng, batch, classes):
    logits = rng.normal(scale=3.0, size=(batch, classes))
    labels = rng.integers(0, classes, size=batch)
    onehot = np.eye(classes)[labels]
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert loss == pytest.approx(float(reference_cross_entropy(logits, onehot)), rel=1e-12)
    np.testing.assert_allclose(dlogits, grad(reference_cross_entropy)(logits, onehot), atol=1e-14)
    report = check_gradient(lambda z: softmax_cross_entropy(z, labels)[0], logits, dlogits)
    assert report.passed


def test_one_hot_and_index_labels_agree(rng):
    logits = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    by_index = softmax_cross_entropy(logits, labels)
    by_rows = softmax_cross_entropy(logits, np.eye(4)[labels])
    assert by_index[0] == pytest.approx(by_rows[0], rel=1e-15)
    np.testing.assert_allclose(by_index[1], by_rows[1], rtol=0, atol=0)


def test_cross_entropy_is_finite_and_exact_for_logits_of_size_1e4():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([2, 0]))
    # example 1: ln(sum e^z) - z_2 = 1e4 - (-1e4); example 2: 1e4 + ln 2 - 0
    expected = (2e4 + 1e4 + np.log(2.0)) / 2
    assert np.isfinite(loss) and loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(dlogits, np.array([[1, 0, -1], [-1, 0.5, 0.5]]) / 2, atol=1e-15)
    probabilities = softmax(logits)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-15)


def test_cross_entropy_gradient_rows_sum_to_zero(rng):
    _, dlogits = softmax_cross_entropy(rng.normal(size=(6, 5)), rng.integers(0, 5, size=6))
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-16)


def test_mse_matches_autograd(rng):
    p, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss, dp = mse(p, t)
    reference = lambda p_: anp.mean((p_ - t) ** 2)  # noqa: E731
    assert loss == pytest.approx(float(reference(p)), rel=1e-14)
    np.testing.assert_allclose(dp, grad(reference)(p), rtol=1e-14)


@pytest.mark.parametrize(
    "call,error,message",
    [
        (
            lambda r: Linear(3, 2, r).forward(np.ones((4, 5))),
            ValueError,
            r"Linear\(3, 2, bias=True\) input must have shape \(batch, 3\), got \(4, 5\)",
        ),
        (
            lambda r: Sequential(Linear(3, 2, r)).forward(np.array([[1.0, np.nan, 0.0]])),
            ValueError,
            r"Sequential\(Linear\(3, 2, bias=True\)\) input must be finite, "
            r"got NaN at index \(0, 1\)",
        ),
        (
            lambda r: Linear(3, 2, r).forward(np.array([["a", "b", "c"]])),
            TypeError,
            r"must hold real numbers \(float32, float64 or int\), got dtype <U1",
        ),
        (
            lambda r: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])),
            ValueError,
            r"labels must be class indices in \[0, 3\), got 3",
        ),
        (
            lambda r: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])),
            ValueError,
            r"labels must have shape \(2,\), one per example, got \(3,\)",
        ),
        (
            lambda r: softmax_cross_entropy(np.zeros((2, 3)), np.eye(3)),
            ValueError,
            r"one-hot labels must have shape \(2, 3\), got \(3, 3\)",
        ),
        (
            lambda r: mse(np.zeros((2, 3)), np.zeros((3, 2))),
            ValueError,
            r"targets must have shape \(2, 3\), got \(3, 2\)",
        ),
        (lambda r: Linear(3, 0, r), ValueError, r"Linear n_out must be an int >= 1, got 0"),
        (lambda r: Linear(3, 2.0, r), TypeError, r"Linear n_out must be an int, got float 2.0"),
        (
            lambda r: Linear(3, 2, 42),
            TypeError,
            r"Linear rng must be a numpy\.random\.Generator .*, got int",
        ),
        (
            lambda r: Linear(3, 2, r).backward(np.ones((1, 2))),
            RuntimeError,
            r"call forward before backward",
        ),
        (
            lambda r: Sequential(Linear(3, 2, r), "relu"),
            TypeError,
            r"Sequential takes modules, got str",
        ),
    ],
)
def test_bad_input_names_what_was_expected_and_what_came(rng, call, error, message):
    with pytest.raises(error, match=message):
        call(rng)


def test_backward_rejects_a_gradient_of_the_wrong_shape(rng):
    layer = Linear(3, 2, rng)
    layer.forward(np.ones((4, 3)))
    expected = r"grad_out must have the shape of the last output, \(4, 2\), got \(4, 3\)"
    with pytest.raises(ValueError, match=expected):
        layer.backward(np.ones((4, 3)))
    relu = ReLU()
    relu.forward(np.ones((4, 3)))
    expected = r"ReLU\(\) grad_out must have the shape of the last output, \(4, 3\), got \(3,\)"
    with pytest.raises(ValueError, match=expected):
        relu.backward(np.ones(3))
