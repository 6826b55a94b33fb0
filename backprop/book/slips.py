"""A gallery of broken backward passes for chapter 8, each one line away from the correct one.

Every function takes what :func:`backprop.book.network.backward_pass` takes for a network without
biases (labels, weights, and the Z and A of :func:`backprop.book.network.forward_pass`) and returns
the weight gradients dC/dW^(l), l = 1..L. :func:`correct` is the reference; each other
function carries one slip that people really make. Three of them (the forgotten ``+=``, the
missing 1/m, the flipped sign) run and return arrays of the right shapes on any network; the
other two only pass NumPy's shape rules when neighbouring widths are equal (the missing
transpose returns dW^(l) transposed unless n_l = n_(l-1); the wrong layer's slope is refused
unless n_l = n_(l+1)). The gallery uses such networks, where only a gradient check finds
them. The near-copies are deliberate, so that each slip can be read as a one-line difference
from :func:`correct`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from backprop.book.network import by_layer, check_mlp
from backprop.nn.activations import activation_pair
from backprop.nn.losses import one_hot_rows

Layers = dict[int, np.ndarray]


def _setup(labels: ArrayLike, weights: Sequence[ArrayLike], A: Layers, activation: str):
    W, _ = by_layer(check_mlp(weights)[0], None)
    m, c = A[len(W)].shape
    return W, len(W), activation_pair(activation)[1], one_hot_rows(labels, m, c), m


def correct(labels, weights, Z: Layers, A: Layers, activation="sigmoid") -> list[np.ndarray]:
    """The reference: Delta^(L) = (A - Y)/m, Delta^(l) = (Delta W) * f'(Z), dW = Delta^T A."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (A[L] - Y) / m}
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    return [Delta[l].T @ A[l - 1] for l in W]


def forgotten_accumulation(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """Slip: a weight feeds every example (a fork), but dW keeps only the last one's share."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (A[L] - Y) / m}
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    dW = {l: np.zeros_like(W[l]) for l in W}
    for l in W:
        for n in range(m):
            dW[l] = np.outer(Delta[l][n], A[l - 1][n])  # `=`, not `+=`
    return [dW[l] for l in W]


def missing_transpose(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """Slip: dW = A^T Delta, the transpose of the gradient (shaped like W if n_l = n_(l-1))."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (A[L] - Y) / m}
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    return [A[l - 1].T @ Delta[l] for l in W]  # should be Delta^T A


def missing_mean(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """Slip: Delta^(L) = A - Y without the 1/m of the mean cost: every gradient m times too big."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: A[L] - Y}  # should be (A - Y) / m
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    return [Delta[l].T @ A[l - 1] for l in W]


def wrong_layer_slope(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """Slip: the slope f'(Z^(l+1)) of the layer above where f'(Z^(l)) belongs."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (A[L] - Y) / m}
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l + 1])
    return [Delta[l].T @ A[l - 1] for l in W]


def flipped_sign(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """Slip: (Y - A)/m, the minus sign of d(-y ln a)/da lost: every gradient points uphill."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (Y - A[L]) / m}  # should be (A - Y) / m
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    return [Delta[l].T @ A[l - 1] for l in W]


def exercise_1(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """A backward pass with one slip, for chapter 8's first exercise."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (A[L] - Y) / m}
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(A[l])
    return [Delta[l].T @ A[l - 1] for l in W]


def exercise_2(labels, weights, Z, A, activation="sigmoid") -> list[np.ndarray]:
    """A backward pass with one slip, for chapter 8's second exercise."""
    W, L, f_prime, Y, m = _setup(labels, weights, A, activation)
    Delta = {L: (A[L] - Y) / m}
    for l in range(L - 1, 0, -1):
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    return [Delta[l].T @ A[l] for l in W]


Backward = Callable[..., list[np.ndarray]]

#: Each slip of the gallery by its short name, with its broken backward pass.
SLIPS: dict[str, Backward] = {
    "forgotten += at a fork": forgotten_accumulation,
    "missing transpose": missing_transpose,
    "missing 1/m": missing_mean,
    "slope of the wrong layer": wrong_layer_slope,
    "sign error in softmax-CE": flipped_sign,
}
