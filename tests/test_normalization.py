"""BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm against autograd, central differences
and closed forms.

The autograd reference below shares no code with the layers: it views the input in the shape
the test gives, takes the mean and the biased variance over the axes the test names, then
scales and shifts; the axes of each face are written out in the table FACES. Tolerances: the
layer and autograd both compute exact derivatives in float64 and agree to round-off, about
1e-15 relative, so 1e-10 leaves room without hiding a wrong term (a wrong term is of the
size of the gradient itself); central differences are held to check_gradient's 1e-6;
float32 is held to float64 at 1e-4 of the largest entry, float32's 1.2e-7 times the few
hundred additions in a mean.
"""

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from backprop.gradcheck import check_gradient, check_module
from backprop.nn import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    GroupNorm,
    LayerNorm,
    Linear,
    Sequential,
    Tanh,
    softmax_cross_entropy,
)

pytestmark = pytest.mark.ch10

EPS = 1e-5  # the layers' default


def reference(x, gamma, beta, view, axes, param_shape, mean=None, var=None):
    """y = gamma (x - mu) / sqrt(var + eps) + beta, in autograd.numpy.

    x is viewed as ``view``; mu and the biased var are taken over ``axes`` of that view
    unless given (the running statistics); gamma and beta are reshaped to ``param_shape``.
    """
    xs = anp.reshape(x, view)
    if mean is None:
        mean = anp.mean(xs, axis=axes, keepdims=True)
        var = anp.mean((xs - mean) ** 2, axis=axes, keepdims=True)
    x_hat = anp.reshape((xs - mean) / anp.sqrt(var + EPS), x.shape)
    return x_hat * anp.reshape(gamma, param_shape) + anp.reshape(beta, param_shape)


def face(kind, shape, groups=1):
    """The layer for an input of ``shape``, the view and axes of its statistics, gamma's shape.

    Batch norm: per channel, over the examples and every position. Layer norm: over the last
    axis. Group norm: each example's group of C / G channels and their positions.
    """
    if kind == "LayerNorm":
        return LayerNorm(shape[-1]), shape, (len(shape) - 1,), (shape[-1],)
    n, c, positions = shape[0], shape[1], shape[2:]
    param_shape = (1, c) + (1,) * len(positions)
    if kind == "GroupNorm":
        view = (n, groups, c // groups, *positions)
        return GroupNorm(groups, c), view, tuple(range(2, len(view))), param_shape
    layer = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[kind](c)
    return layer, shape, (0, *range(2, len(shape))), param_shape


def random_case(kind, rng):
    """A face with sizes drawn from rng: 2 to 6 examples, 1 to 5 channels, 1 to 4 positions."""
    n, c = int(rng.integers(2, 7)), int(rng.integers(1, 6))
    positions = [int(p) for p in rng.integers(1, 5, size=2)]
    groups = 1
    if kind == "BatchNorm1d":
        shape = (n, c) if rng.integers(2) else (n, c, positions[0])
    elif kind == "LayerNorm":
        shape = tuple([n, c, *positions][: int(rng.integers(1, 4))])
    else:
        if kind == "GroupNorm":
            groups = int(rng.integers(1, 4))
            c *= groups
        shape = (n, c, *positions)
    return (kind, shape, groups)


KINDS = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"]
RANDOM_CASES = [
    random_case(kind, np.random.default_rng(seed)) for kind in KINDS for seed in range(4)
]
AWKWARD_CASES = [
    ("BatchNorm1d", (2, 1), 1),  # one channel, two examples: the least batch norm can train on
    ("BatchNorm1d", (3, 2, 1), 1),  # sequences of length 1
    ("BatchNorm2d", (1, 3, 1, 2), 1),  # one example, two positions per channel
    ("BatchNorm2d", (2, 1, 3, 3), 1),  # one channel
    ("LayerNorm", (5,), 1),  # one example, no batch axis
    ("LayerNorm", (3, 1), 1),  # one feature: x_hat = 0, y = beta, dx = 0
    ("GroupNorm", (2, 4, 3, 2), 4),  # groups of one channel: instance norm
    ("GroupNorm", (2, 6, 2, 3), 1),  # one group: layer norm over (C, H, W)
    ("GroupNorm", (3, 6), 3),  # (N, C)
    ("GroupNorm", (2, 4, 5), 2),  # (N, C, L)
    ("GroupNorm", (2, 3), 3),  # groups of one value: y = beta
]
CASES = RANDOM_CASES + AWKWARD_CASES


def values_per_group(kind, shape, groups):
    _, view, axes, _ = face(kind, shape, groups)
    return math.prod(view[a] for a in axes)


# With two values in a group, x_hat = (+-d) / sqrt(d^2 + eps) is +-1 up to eps whatever x is,
# so dx is of the order of eps: an exact result, but one that central differences and
# float32 can only resolve as noise. Those checks use groups of three values or more.
SPREAD_CASES = [case for case in CASES if values_per_group(*case) >= 3]


def term_size(layer, x, view, axes, upstream, var=None):
    """|gamma dy| / sigma at its largest: the size of the terms whose difference is dx."""
    sigma = np.sqrt((np.var(x.reshape(view), axis=axes) if var is None else var) + EPS)
    return np.max(np.abs(upstream)) * np.max(np.abs(layer.gamma)) / np.min(sigma)


def randomized(layer, rng):
    """The layer with gamma and beta drawn from rng (assigned in place), not 1 and 0."""
    layer.gamma[...] = rng.normal(size=layer.gamma.shape)
    layer.beta[...] = rng.normal(size=layer.beta.shape)
    return layer


def check_against_autograd(layer, x, view, axes, param_shape, rng, mean=None, var=None):
    y = layer.forward(x)
    upstream = rng.normal(size=y.shape)
    grad_x = layer.backward(upstream)

    def cost(x_, gamma, beta):
        return anp.sum(reference(x_, gamma, beta, view, axes, param_shape, mean, var) * upstream)

    expected = reference(x, layer.gamma, layer.beta, view, axes, param_shape, mean, var)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    # dx is a difference of terms that can nearly cancel (in groups of two values it is of
    # the order of eps): its round-off is relative to the terms
    terms = term_size(layer, x, view, axes, upstream, var)
    for argnum, got in [(0, grad_x), (1, layer.dgamma), (2, layer.dbeta)]:
        wanted = grad(cost, argnum)(x, layer.gamma, layer.beta)
        scale = max(np.max(np.abs(wanted)), terms if argnum == 0 else 0.0)
        np.testing.assert_allclose(got, wanted, rtol=1e-10, atol=1e-10 * scale)


@pytest.mark.parametrize("kind,shape,groups", CASES)
def test_training_mode_matches_autograd(rng, kind, shape, groups):
    layer, view, axes, param_shape = face(kind, shape, groups)
    x = 2.0 + 3.0 * rng.normal(size=shape)  # off centre and spread: mu and sigma matter
    check_against_autograd(randomized(layer, rng), x, view, axes, param_shape, rng)


EVAL_CASES = [c for c in CASES if c[0].startswith("BatchNorm")] + [
    ("BatchNorm2d", (1, 2, 1, 1), 1),  # a batch of one, which only eval mode accepts
    ("BatchNorm1d", (1, 3), 1),
]


@pytest.mark.parametrize("kind,shape,groups", EVAL_CASES)
def test_eval_mode_uses_the_running_statistics_as_constants(rng, kind, shape, groups):
    layer, view, axes, param_shape = face(kind, shape, groups)
    layer.running_mean[...] = rng.normal(size=shape[1])
    layer.running_var[...] = rng.uniform(0.5, 2.0, size=shape[1])
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()
    x = 2.0 + 3.0 * rng.normal(size=shape)
    check_against_autograd(
        randomized(layer, rng), x, view, axes, param_shape, rng,
        mean=mean.reshape(param_shape), var=var.reshape(param_shape),
    )  # fmt: skip
    np.testing.assert_array_equal(layer.running_mean, mean)  # eval mode updates nothing
    np.testing.assert_array_equal(layer.running_var, var)


@pytest.mark.parametrize("kind,shape,groups", SPREAD_CASES)
@pytest.mark.parametrize("training", [True, False])
def test_central_differences_agree(rng, kind, shape, groups, training):
    layer = randomized(face(kind, shape, groups)[0], rng)
    if not training and kind.startswith("BatchNorm"):
        layer.running_mean[...] = rng.normal(size=shape[1])
        layer.running_var[...] = rng.uniform(0.5, 2.0, size=shape[1])
    layer.train(training)
    reports = check_module(layer, 1.0 + 2.0 * rng.normal(size=shape), rng)
    assert len(reports) == 3 and all(r.passed for r in reports.values()), reports


@pytest.mark.parametrize("kind,shape,groups", SPREAD_CASES[::2])
@pytest.mark.parametrize("training", [True, False])
def test_float32_stays_float32_and_agrees_with_float64(rng, kind, shape, groups, training):
    layer64 = randomized(face(kind, shape, groups)[0], rng)
    layer32 = face(kind, shape, groups)[0].astype(np.float32)
    layer32.gamma[...], layer32.beta[...] = layer64.gamma, layer64.beta
    x = 2.0 + 3.0 * rng.normal(size=shape)
    upstream = rng.normal(size=shape)
    results = {}
    for layer, dtype in [(layer64, np.float64), (layer32, np.float32)]:
        layer.forward(x.astype(dtype))  # running statistics that are not 0 and 1
        layer.train(training)
        y = layer.forward(x.astype(dtype))
        results[dtype] = [y, layer.backward(upstream.astype(dtype)), *layer.gradients()]
        buffers = [layer.running_mean, layer.running_var] if kind.startswith("Batch") else []
        for array in results[dtype] + layer.parameters() + buffers:
            assert array.dtype == dtype
    for got, wanted in zip(results[np.float32], results[np.float64], strict=True):
        np.testing.assert_allclose(got, wanted, rtol=1e-4, atol=1e-4 * np.max(np.abs(wanted)))


@pytest.mark.parametrize("kind,shape,groups", CASES)
def test_the_input_gradient_sums_to_zero_over_the_reduced_axes(rng, kind, shape, groups):
    """In training mode: shifting a whole group by a constant leaves x_hat unchanged.

    Each entry of dx is a difference of terms of at most ``term_size``; float64 round-off
    leaves a few 1e-16 of that per entry, so a sum of n entries within 1e-14 n term_size
    is zero, and a wrong formula (an error of the size of the terms) would not be.
    """
    layer, view, axes, _ = face(kind, shape, groups)
    x, upstream = 2.0 + 3.0 * rng.normal(size=shape), rng.normal(size=shape)
    randomized(layer, rng).forward(x)
    dx = layer.backward(upstream).reshape(view)
    bound = (
        1e-14 * values_per_group(kind, shape, groups) * term_size(layer, x, view, axes, upstream)
    )
    assert np.max(np.abs(np.sum(dx, axis=axes))) <= bound


def test_in_batch_norm_every_example_gets_a_share_of_every_other_examples_gradient(rng):
    """Coupling: an upstream gradient on example 0 alone moves dx of every example."""
    layer = BatchNorm1d(3)
    layer.forward(rng.normal(size=(4, 3)))
    upstream = np.zeros((4, 3))
    upstream[0] = rng.normal(size=3)
    dx = layer.backward(upstream)
    assert np.all(np.abs(dx[1:]) > 1e-6)
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-13)  # terms of order 1


def test_running_statistics_follow_the_closed_form(rng):
    """After K steps from (0, 1): running = (1 - m)^K start + sum_k m (1 - m)^(K-1-k) batch_k.

    The batch statistics are computed here with NumPy: the mean, and the variance with
    ddof=1 (the unbiased one, as PyTorch keeps). Both sides add the same few numbers in a
    different order, so they agree to 1e-12.
    """
    m, steps = 0.3, 4
    layer = BatchNorm2d(3, momentum=m)
    batches = [5.0 + 2.0 * rng.normal(size=(4, 3, 2, 3)) for _ in range(steps)]
    for x in batches:
        layer.forward(x)
    per_channel = [x.transpose(1, 0, 2, 3).reshape(3, -1) for x in batches]
    weights = [m * (1 - m) ** (steps - 1 - k) for k in range(steps)]
    mean = sum(w * v.mean(axis=1) for w, v in zip(weights, per_channel, strict=True))
    var = (1 - m) ** steps + sum(
        w * v.var(axis=1, ddof=1) for w, v in zip(weights, per_channel, strict=True)
    )
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    layer.eval()  # now the running statistics normalise
    x = rng.normal(size=(2, 3, 2, 2))
    expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + EPS)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-14)


def test_group_norm_with_one_group_is_layer_norm_over_the_flattened_features(rng):
    n, c, h, w = 3, 4, 2, 3
    group = randomized(GroupNorm(1, c), rng)
    layer = LayerNorm(c * h * w)
    layer.gamma[...] = np.repeat(group.gamma, h * w)  # gamma per channel, spread per entry
    layer.beta[...] = np.repeat(group.beta, h * w)
    x, upstream = rng.normal(size=(n, c, h, w)), rng.normal(size=(n, c, h, w))
    y = group.forward(x)
    np.testing.assert_allclose(y.reshape(n, -1), layer.forward(x.reshape(n, -1)), rtol=1e-12)
    dx = group.backward(upstream)
    dx_flat = layer.backward(upstream.reshape(n, -1))
    np.testing.assert_allclose(dx.reshape(n, -1), dx_flat, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(group.dgamma, layer.dgamma.reshape(c, -1).sum(axis=1), rtol=1e-12)


def test_group_norm_with_one_channel_per_group_is_instance_norm(rng):
    """Instance norm: each channel of each example over its own positions (axes 2 and 3)."""
    layer = randomized(GroupNorm(3, 3), rng)
    x = 1.0 + rng.normal(size=(2, 3, 4, 5))
    check_against_autograd(layer, x, x.shape, (2, 3), (1, 3, 1, 1), rng)


def test_backward_uses_the_mode_of_its_forward_call(rng):
    """A forward in training mode, then eval(): backward is still training mode's."""
    x, upstream = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=(4, 2, 3, 3))
    switched, reference_layer = BatchNorm2d(2), BatchNorm2d(2)
    switched.forward(x)
    reference_layer.forward(x)
    switched.eval()
    np.testing.assert_array_equal(switched.backward(upstream), reference_layer.backward(upstream))


@pytest.mark.parametrize("kind,shape,groups", AWKWARD_CASES[2:8])
def test_without_the_input_gradient_the_parameter_gradients_are_the_same(rng, kind, shape, groups):
    layer = randomized(face(kind, shape, groups)[0], rng)
    x, upstream = rng.normal(size=shape), rng.normal(size=shape)
    layer.forward(x)
    assert layer.backward(upstream) is not None
    wanted = [g.copy() for g in layer.gradients()]
    layer.needs_input_grad = False
    layer.forward(x)
    assert layer.backward(upstream) is None
    for got, expected in zip(layer.gradients(), wanted, strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "layer,size",
    [(BatchNorm1d(3), 3), (BatchNorm2d(2), 2), (LayerNorm(4), 4), (GroupNorm(2, 6), 6)],
)
def test_conventions_as_pytorch(layer, size):
    assert layer.training
    model = Sequential(Sequential(layer), Flatten())
    model.eval()
    assert not layer.training
    model.train()
    assert layer.training
    gamma, beta = layer.parameters()
    assert gamma is layer.gamma and beta is layer.beta and len(layer.gradients()) == 2
    np.testing.assert_array_equal(gamma, np.ones(size))
    np.testing.assert_array_equal(beta, np.zeros(size))
    if isinstance(layer, BatchNorm1d | BatchNorm2d):
        np.testing.assert_array_equal(layer.running_mean, np.zeros(size))
        np.testing.assert_array_equal(layer.running_var, np.ones(size))
        assert layer.momentum == 0.1
    assert layer.eps == 1e-5


@pytest.mark.parametrize("kind,shape,groups", AWKWARD_CASES[2:4] + AWKWARD_CASES[6:8])
def test_the_parameters_are_the_arrays_the_layer_uses(rng, kind, shape, groups):
    layer = face(kind, shape, groups)[0]
    x = rng.normal(size=shape)
    layer.forward(x)
    layer.backward(rng.normal(size=shape))
    assert layer.gradients()[0] is layer.dgamma and layer.gradients()[1] is layer.dbeta
    gamma, beta = layer.parameters()
    gamma[...], beta[...] = 0.0, 2.5  # an in-place update changes the next forward
    np.testing.assert_array_equal(layer.forward(x), np.full(shape, 2.5))
    gamma[...] = 2.0
    layer.beta = np.zeros_like(beta)  # so does assigning a new array
    ones = layer.forward(x)
    layer.gamma[...] = 1.0
    np.testing.assert_allclose(ones, 2.0 * layer.forward(x), rtol=1e-14)


def test_astype_converts_parameters_and_buffers(rng):
    layer = BatchNorm2d(3).astype(np.float32)
    for array in [*layer.parameters(), *layer.gradients(), layer.running_mean, layer.running_var]:
        assert array.dtype == np.float32
    assert layer.forward(np.ones((2, 3, 2, 2), np.float32)).dtype == np.float32
    assert LayerNorm(2).astype(np.float32).gamma.dtype == np.float32


def small_network(rng):
    """Every face, each after the layer it normalises (no bias before batch norm: see below)."""
    return Sequential(
        Conv2d(1, 4, 3, padding=1, rng=rng, bias=False),
        BatchNorm2d(4),
        Tanh(),
        Conv2d(4, 4, 3, padding=1, rng=rng),
        GroupNorm(2, 4),
        Tanh(),
        Flatten(),
        Linear(4 * 4 * 4, 6, rng, bias=False),
        BatchNorm1d(6),
        Tanh(),
        Linear(6, 5, rng),
        LayerNorm(5),
        Linear(5, 3, rng),
    )


@pytest.mark.parametrize("training", [True, False])
def test_a_network_with_every_face_passes_the_gradient_check(rng, training):
    model = small_network(rng)
    X, labels = rng.normal(size=(6, 1, 4, 4)), rng.integers(0, 3, 6)
    for layer in model:  # gamma and beta away from 1 and 0
        if isinstance(layer, BatchNorm1d | BatchNorm2d | GroupNorm | LayerNorm):
            randomized(layer, rng)
    for _ in range(3):  # running statistics that are not 0 and 1
        model.forward(rng.normal(size=X.shape))
    model.train(training)

    def loss() -> float:
        return softmax_cross_entropy(model.forward(X), labels)[0]

    def loss_at(target, value):
        saved = target.copy()
        target[...] = value
        try:
            return loss()
        finally:
            target[...] = saved

    _, dlogits = softmax_cross_entropy(model.forward(X), labels)
    grad_x = model.backward(dlogits)
    analytic = [g.copy() for g in model.gradients()]
    report = check_gradient(lambda v: loss_at(X, v), X.copy(), grad_x)
    assert report.passed, report
    assert len(analytic) == 16  # W of 5 layers, b of 3, gamma and beta of 4
    for param, g in zip(model.parameters(), analytic, strict=True):
        report = check_gradient(lambda v, p=param: loss_at(p, v), param.copy(), g)
        assert report.passed, report


def test_a_bias_just_before_batch_norm_gets_no_gradient_in_training_mode(rng):
    """Batch norm subtracts the batch mean, so a bias added per channel cancels: db = 0."""
    model = Sequential(Linear(3, 4, rng), BatchNorm1d(4))
    model.forward(rng.normal(size=(5, 3)))
    model.backward(rng.normal(size=(5, 4)))
    db = model[0].db
    assert np.max(np.abs(db)) <= 1e-14 * np.max(np.abs(model[0].dW))  # round-off of sums
    model.eval()  # the running mean is a constant: the bias counts again
    model.forward(rng.normal(size=(5, 3)))
    model.backward(rng.normal(size=(5, 4)))
    assert np.min(np.abs(model[0].db)) > 1e-3


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: BatchNorm1d(3).forward(np.ones((2, 4))), ValueError,
         r"BatchNorm1d\(3, eps=1e-05, momentum=0.1\) input must have shape \(batch, 3\) or "
         r"\(batch, 3, length\), got \(2, 4\)"),
        (lambda: BatchNorm1d(3).forward(np.ones((2, 3, 4, 5))), ValueError,
         r"got \(2, 3, 4, 5\)"),
        (lambda: BatchNorm2d(3).forward(np.ones((2, 3, 4))), ValueError,
         r"input must have shape \(batch, 3, height, width\), got \(2, 3, 4\)"),
        (lambda: BatchNorm2d(3).forward(np.ones((2, 2, 4, 4))), ValueError,
         r"input must have shape \(batch, 3, height, width\), got \(2, 2, 4, 4\)"),
        (lambda: BatchNorm2d(3).forward(np.ones((0, 3, 4, 4))), ValueError,
         r"got \(0, 3, 4, 4\)"),
        (lambda: LayerNorm(4).forward(np.ones((2, 3))), ValueError,
         r"LayerNorm\(4, eps=1e-05\) input must have shape \(\.\.\., 4\), got \(2, 3\)"),
        (lambda: LayerNorm(4).forward(np.float64(1.0)), ValueError,
         r"input must have shape \(\.\.\., 4\), got \(\)"),
        (lambda: GroupNorm(2, 4).forward(np.ones(4)), ValueError,
         r"GroupNorm\(2, 4, eps=1e-05\) input must have shape \(batch, 4, \.\.\.\), got \(4,\)"),
        (lambda: GroupNorm(2, 4).forward(np.ones((2, 6, 3))), ValueError,
         r"input must have shape \(batch, 4, \.\.\.\), got \(2, 6, 3\)"),
        (lambda: GroupNorm(4, 6), ValueError,
         "GroupNorm num_channels 6 must be divisible by num_groups 4"),
        (lambda: BatchNorm2d(3).forward(np.ones((1, 3, 1, 1))), ValueError,
         r"BatchNorm2d\(3, eps=1e-05, momentum=0.1\) in training mode needs more than one "
         r"value per channel, got input of shape \(1, 3, 1, 1\): the variance of one value is "
         r"zero. Use eval\(\) \(the running statistics\) or a larger batch"),
        (lambda: BatchNorm1d(2).forward(np.ones((1, 2))), ValueError,
         "the variance of one value is zero"),
        (lambda: BatchNorm1d(3).backward(np.ones((2, 3))), RuntimeError,
         "call forward before backward"),
        (lambda: LayerNorm(3).backward(np.ones((2, 3))), RuntimeError,
         "call forward before backward"),
        (lambda: GroupNorm(1, 3).backward(np.ones((2, 3))), RuntimeError,
         "call forward before backward"),
        (lambda: BatchNorm1d(0), ValueError, "BatchNorm1d num_features must be an int >= 1, got 0"),
        (lambda: BatchNorm2d(2.0), TypeError, "BatchNorm2d num_features must be an int, got float"),
        (lambda: LayerNorm(-1), ValueError, "LayerNorm num_features must be an int >= 1, got -1"),
        (lambda: GroupNorm(0, 4), ValueError, "GroupNorm num_groups must be an int >= 1, got 0"),
        (lambda: GroupNorm(2, 0), ValueError, "GroupNorm num_channels must be an int >= 1, got 0"),
        (lambda: BatchNorm2d(3, eps=0.0), ValueError,
         "BatchNorm2d eps must be a finite number > 0, got 0.0"),
        (lambda: LayerNorm(3, eps=-1e-5), ValueError,
         "LayerNorm eps must be a finite number > 0, got -1e-05"),
        (lambda: GroupNorm(1, 3, eps=float("nan")), ValueError,
         "GroupNorm eps must be a finite number > 0, got nan"),
        (lambda: BatchNorm1d(3, momentum=1.5), ValueError,
         r"BatchNorm1d momentum must be in \[0, 1\], got 1.5"),
        (lambda: BatchNorm2d(3, momentum=-0.1), ValueError,
         r"BatchNorm2d momentum must be in \[0, 1\], got -0.1"),
        (lambda: BatchNorm1d(3, momentum=None), TypeError,
         "BatchNorm1d momentum must be a number, got None"),
        (lambda: BatchNorm2d(3).astype(np.float32).forward(np.ones((2, 3, 2, 2))), TypeError,
         "input must have dtype float32, got float64"),
        (lambda: LayerNorm(3).astype(np.int64), TypeError,
         "dtype must be float32 or float64, got int64"),
    ],
)  # fmt: skip
def test_bad_input_names_what_was_expected_and_what_came(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("kind,shape,groups", AWKWARD_CASES[2:4] + AWKWARD_CASES[4:7])
def test_a_gradient_of_the_wrong_shape_is_refused(rng, kind, shape, groups):
    layer = face(kind, shape, groups)[0]
    layer.forward(rng.normal(size=shape))
    wrong = (*shape[:-1], shape[-1] + 1)
    expected = rf"grad_out must have the shape of the last output, {shape}, got {wrong}"
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        layer.backward(np.ones(wrong))


TORCH_CASES = [
    ("BatchNorm1d", (5, 3), 1),
    ("BatchNorm1d", (4, 3, 6), 1),
    ("BatchNorm2d", (4, 3, 5, 2), 1),
    ("LayerNorm", (4, 3, 6), 1),
    ("GroupNorm", (3, 6, 4, 2), 2),
    ("GroupNorm", (3, 6), 3),
    ("GroupNorm", (2, 4, 5), 4),
]


def torch_twin(torch, layer):
    """PyTorch's layer of the same kind, in float64, with our gamma and beta as weight, bias."""
    nn = torch.nn
    twin = {
        BatchNorm1d: lambda: nn.BatchNorm1d(layer.num_features),
        BatchNorm2d: lambda: nn.BatchNorm2d(layer.num_features),
        LayerNorm: lambda: nn.LayerNorm(layer.num_features),
        GroupNorm: lambda: nn.GroupNorm(getattr(layer, "num_groups", 1), layer.num_features),
    }[type(layer)]().double()
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(layer.gamma))
        twin.bias.copy_(torch.tensor(layer.beta))
    return twin


@pytest.mark.parametrize("kind,shape,groups", TORCH_CASES)
def test_the_layers_agree_with_pytorch(rng, kind, shape, groups):
    """Forward, backward and three steps of running statistics, then eval mode."""
    torch = pytest.importorskip("torch")
    layer = randomized(face(kind, shape, groups)[0], rng)
    twin = torch_twin(torch, layer)
    for training in [True, True, True, False]:
        layer.train(training)
        twin.train(training)
        x, upstream = 1.0 + 2.0 * rng.normal(size=shape), rng.normal(size=shape)
        y, dx = layer.forward(x), layer.backward(upstream)
        xt = torch.tensor(x, requires_grad=True)
        twin.zero_grad()
        yt = twin(xt)
        (yt * torch.tensor(upstream)).sum().backward()
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        theirs = [xt.grad, twin.weight.grad, twin.bias.grad]
        for ours, their in zip([dx, layer.dgamma, layer.dbeta], theirs, strict=True):
            np.testing.assert_allclose(ours, their.numpy(), rtol=1e-10, atol=1e-12)
        if kind.startswith("BatchNorm"):
            np.testing.assert_allclose(layer.running_mean, twin.running_mean.numpy(), rtol=1e-12)
            np.testing.assert_allclose(layer.running_var, twin.running_var.numpy(), rtol=1e-12)


def test_group_norm_of_one_channel_per_group_agrees_with_pytorchs_instance_norm(rng):
    torch = pytest.importorskip("torch")
    layer = randomized(GroupNorm(3, 3), rng)
    twin = torch.nn.InstanceNorm2d(3, affine=True).double()
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(layer.gamma))
        twin.bias.copy_(torch.tensor(layer.beta))
    x, upstream = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(2, 3, 4, 4))
    dx = (layer.forward(x), layer.backward(upstream))[1]
    xt = torch.tensor(x, requires_grad=True)
    (twin(xt) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(layer.forward(x), twin(xt).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.dgamma, twin.weight.grad.numpy(), rtol=1e-10)
