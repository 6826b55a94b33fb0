"""Every gradient of a small network, found three ways, with the products counted (chapter 4).

The network is the notation page's: a^(0) = x, z^(l) = W^(l) a^(l-1) + b^(l),
a^(l) = tanh(z^(l)) for l = 1..L, and the cost of one example is
``C = 1/2 |a^(L) - y|^2``.
Its parameters are W^(1), b^(1), ..., W^(L), b^(L), in that order. The three ways:

- :func:`finite_difference_gradient`: central differences, two evaluations of C for every
  parameter (:func:`backprop.gradcheck.gradient` does the nudging);
- :func:`forward_mode_gradient`: one pass through the network for every parameter theta,
  carrying dz/dtheta and da/dtheta along with z and a (forward-mode differentiation);
- :func:`reverse_mode_gradient`: one forward pass, then one backward pass that gives every
  parameter's derivative at once (backpropagation).

Each returns the gradient and a :class:`Multiplications` tally: a matrix-vector or outer
product of an (n_out, n_in) matrix costs n_out n_in, an element-wise or dot product of
length n costs n. Additions and tanh are not counted; the products dominate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from backprop import gradcheck


class Multiplications:
    """The products the network's arithmetic needs, counted by phase ("forward", ...)."""

    def __init__(self) -> None:
        self.by_phase: Counter = Counter()
        self.phase = "forward"

    @property
    def total(self) -> int:
        """All multiplications counted, in every phase."""
        return sum(self.by_phase.values())

    def matvec(self, W: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return W v, counting W.size products."""
        self.by_phase[self.phase] += W.size
        return W @ v

    def outer(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return u v^T, counting u.size * v.size products."""
        self.by_phase[self.phase] += u.size * v.size
        return np.outer(u, v)

    def times(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return u * v, element by element, counting one product per entry."""
        self.by_phase[self.phase] += u.size
        return u * v

    def dot(self, u: np.ndarray, v: np.ndarray) -> float:
        """Return the dot product u . v, counting one product per entry."""
        self.by_phase[self.phase] += u.size
        return float(u @ v)


def random_network(
    widths: Sequence[int], rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """A network of the given widths (n_0, ..., n_L), one example x and a target y.

    W^(l) has shape (n_l, n_(l-1)) and entries of size about 1/sqrt(n_(l-1)), so that no
    tanh saturates; the biases and x are standard normal, y uniform in (-1, 1).
    """
    weights = [
        rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)
    ]
    biases = [rng.normal(size=n_out) for n_out in widths[1:]]
    return weights, biases, rng.normal(size=widths[0]), rng.uniform(-1, 1, size=widths[-1])


def parameters(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> list[np.ndarray]:
    """[W^(1), b^(1), W^(2), b^(2), ...], the order of every gradient returned here."""
    return [p for pair in zip(weights, biases, strict=True) for p in pair]


def cost(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    ops: Multiplications | None = None,
) -> float:
    """``C = 1/2 |a^(L) - y|^2``, one forward pass, its products counted in ``ops``."""
    ops = ops or Multiplications()
    error = _activations(weights, biases, x, ops)[-1] - y
    return 0.5 * ops.dot(error, error)


def finite_difference_gradient(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], Multiplications]:
    """dC/dtheta for every parameter by central differences: 2 evaluations of C each."""
    ops = Multiplications()
    grads = [
        gradcheck.gradient(lambda _: cost(weights, biases, x, y, ops), param)
        for param in parameters(weights, biases)  # nudged in place, then restored
    ]
    return grads, ops


def forward_mode_gradient(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], Multiplications]:
    """dC/dtheta for every parameter theta by one forward-mode pass each."""
    ops = Multiplications()
    grads = []
    for index, param in enumerate(parameters(weights, biases)):
        grad = np.zeros_like(param)
        for entry in np.ndindex(param.shape):
            grad[entry] = _tangent_pass(weights, biases, x, y, index, entry, ops)
        grads.append(grad)
    return grads, ops


def reverse_mode_gradient(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], Multiplications]:
    """Every dC/dtheta from one forward pass and one backward pass.

    The tally has two phases: "forward" (the forward pass, C included) and "backward"
    (delta^(L) = f'(z^(L)) (a^(L) - y), delta^(l) = f'(z^(l)) W^(l+1)T delta^(l+1),
    dC/dW^(l) = delta^(l) a^(l-1)T, dC/db^(l) = delta^(l)).
    """
    ops = Multiplications()
    a = _activations(weights, biases, x, ops)
    error = a[-1] - y
    ops.dot(error, error)  # the forward pass computes C itself, as training does
    ops.phase = "backward"
    grads: list[np.ndarray] = []
    grad_a = error  # dC/da^(L)
    for layer in reversed(range(len(weights))):
        slope = 1.0 - ops.times(a[layer + 1], a[layer + 1])  # tanh' = 1 - a^2
        delta = ops.times(slope, grad_a)
        grads[:0] = [ops.outer(delta, a[layer]), delta]
        if layer > 0:  # nothing to pass back to the input x
            grad_a = ops.matvec(weights[layer].T, delta)
    return grads, ops


def _activations(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, ops
) -> list[np.ndarray]:
    a = [np.asarray(x, dtype=float)]
    for W, b in zip(weights, biases, strict=True):
        a.append(np.tanh(ops.matvec(W, a[-1]) + b))
    return a


def _tangent_pass(weights, biases, x, y, index: int, entry: tuple, ops) -> float:
    """dC/dtheta for theta = parameters[index][entry], carried forward with the values.

    Below theta's layer every tangent is zero and is skipped, not multiplied.
    """
    seeded_layer, is_bias = divmod(index, 2)
    a, da = np.asarray(x, dtype=float), None  # da = d a / d theta; None while it is 0
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = ops.matvec(W, a) + b
        dz = None if da is None else ops.matvec(W, da)
        if layer == seeded_layer:  # dz_i/dW_ij = a_j, dz_i/db_i = 1: no product needed
            seed = np.zeros_like(z)
            seed[entry[0]] = 1.0 if is_bias else a[entry[1]]
            dz = seed if dz is None else dz + seed
        a = np.tanh(z)
        if dz is not None:
            da = ops.times(1.0 - ops.times(a, a), dz)
    return ops.dot(a - y, da)
