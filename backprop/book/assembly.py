"""One example's gradients, twice: element by element in loops, and assembled (chapter 5).

Chapter 5 derives every entry of every gradient as a scalar,

    delta^(L)_i = a^(L)_i - y_i
    dL/dW^(l)_ij = delta^(l)_i a^(l-1)_j,    dL/db^(l)_i = delta^(l)_i
    delta^(l-1)_j = f'(z^(l-1)_j) sum_k W^(l)_kj delta^(l)_k,

and then assembles the scalars into vectors and matrices:

    delta^(L) = a^(L) - y,   dL/dW^(l) = delta^(l) a^(l-1)T,
    delta^(l-1) = (W^(l)T delta^(l)) * f'(z^(l-1)).

:func:`gradients_by_loops` computes the first form with plain Python loops over i, j, k, one
multiplication at a time; :func:`gradients_by_matrices` computes the second with NumPy. The
network is the MLP of :mod:`backprop.book.network` (hidden activation f, softmax and
cross-entropy at the output) on a single example x of shape (n_0,).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from backprop.book.network import by_layer, check_mlp
from backprop.nn.activations import activation_pair
from backprop.nn.losses import one_hot_rows, softmax
from backprop.validation import as_finite_array, check_same_shape

__all__ = ["gradients_by_loops", "gradients_by_matrices"]

Gradients = tuple[list[np.ndarray], list[np.ndarray] | None]


def gradients_by_loops(
    x: ArrayLike,
    label: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str = "sigmoid",
) -> Gradients:
    """dL/dW^(l) and dL/db^(l) for one example, one scalar at a time (Python loops).

    Parameters
    ----------
    x : array of shape (n_0,)
        The example.
    label : int, or one-hot array of shape (c,)
        Its class.
    weights, biases, activation
        As for :func:`backprop.book.network.forward_pass`.

    Returns
    -------
    dW, db
        Lists in layer order; ``db`` is None without biases.
    """
    Ws, bs, x, y = _one_example(x, label, weights, biases)
    f, f_prime = activation_pair(activation)
    L = len(Ws)
    # nested lists keyed by layer: each step below multiplies two floats
    W = {l: Ws[l - 1].tolist() for l in range(1, L + 1)}
    zeros = [np.zeros(len(M)) for M in Ws]
    b = {l: v.tolist() for l, v in enumerate(bs or zeros, start=1)}
    n = [len(x)] + [len(W[l]) for l in W]  # n[l] units in layer l
    a, z = {0: x.tolist()}, {}

    for l in range(1, L + 1):  # z_i = sum_j W_ij a_j + b_i
        z[l] = []
        for i in range(n[l]):
            total = b[l][i]
            for j in range(n[l - 1]):
                total += W[l][i][j] * a[l - 1][j]
            z[l].append(total)
        a[l] = [float(f(z_i)) for z_i in z[l]]
    top = max(z[L])  # subtracted so that no exponent is positive
    exps = [math.exp(z_i - top) for z_i in z[L]]
    a[L] = [e / sum(exps) for e in exps]  # softmax

    delta = {L: [a[L][i] - y[i] for i in range(n[L])]}  # a_i - y_i
    for l in range(L, 1, -1):  # delta^(l-1)_j = f'(z_j) sum_k W_kj delta_k
        delta[l - 1] = []
        for j in range(n[l - 1]):
            total = 0.0
            for k in range(n[l]):
                total += W[l][k][j] * delta[l][k]
            delta[l - 1].append(float(f_prime(z[l - 1][j])) * total)

    dW, db = [], []
    for l in range(1, L + 1):  # dL/dW_ij = delta_i a_j, dL/db_i = delta_i
        outer = []
        for i in range(n[l]):
            outer.append([delta[l][i] * a[l - 1][j] for j in range(n[l - 1])])
        dW.append(np.array(outer))
        db.append(np.array(delta[l]))
    return dW, (db if bs is not None else None)


def gradients_by_matrices(
    x: ArrayLike,
    label: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str = "sigmoid",
) -> Gradients:
    """The same gradients as :func:`gradients_by_loops`, assembled: delta a^T and W^T delta.

    Parameters and return value as for :func:`gradients_by_loops`.
    """
    Ws, bs, x, y = _one_example(x, label, weights, biases)
    f, f_prime = activation_pair(activation)
    W, b = by_layer(Ws, bs)
    L = len(W)
    a, z = {0: x}, {}
    for l in range(1, L + 1):
        z[l] = W[l] @ a[l - 1] + b[l]
        a[l] = f(z[l]) if l < L else softmax(z[l])

    delta = {L: a[L] - y}
    for l in range(L, 1, -1):
        delta[l - 1] = (W[l].T @ delta[l]) * f_prime(z[l - 1])
    dW = [np.outer(delta[l], a[l - 1]) for l in W]  # delta a^T
    db = [delta[l] for l in W] if bs is not None else None
    return dW, db


def _one_example(
    x: ArrayLike,
    label: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None,
) -> tuple[list[np.ndarray], list[np.ndarray] | None, np.ndarray, np.ndarray]:
    Ws, bs = check_mlp(weights, biases)
    x = as_finite_array(x, "x")
    check_same_shape(x, (Ws[0].shape[1],), "x")
    c = Ws[-1].shape[0]
    label = np.asarray(label)
    y = one_hot_rows(label.reshape(1, *label.shape), 1, c)[0]
    return Ws, bs, x, y
