"""A whole MLP as two functions, ``forward_pass`` and ``backward_pass`` (chapter 6).

Chapter 6's batched equations, for layers l = 1..L with samples as rows:

    Z^(l) = A^(l-1) W^(l)T + 1 b^(l)T,   A^(l) = f(Z^(l)),   A^(0) = X,   A^(L) = softmax(Z^(L))
    C = -(1/m) sum_n sum_i Y_ni ln A^(L)_ni
    Delta^(L) = (A^(L) - Y) / m,   Delta^(l) = (Delta^(l+1) W^(l+1)) * f'(Z^(l))
    dC/dW^(l) = Delta^(l)T A^(l-1),   dC/db^(l) = column sums of Delta^(l)

Inside the two functions the per-layer arrays live in dicts keyed by the layer number l, so
that ``Z[l] = A[l - 1] @ W[l].T + b[l]`` reads exactly as the equation does. The caller passes
and receives plain lists in layer order: ``weights[0]`` is W^(1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from backprop.nn.activations import activation_pair
from backprop.nn.losses import one_hot_rows, softmax, softmax_cross_entropy
from backprop.validation import (
    as_batch,
    as_count,
    as_finite_array,
    check_generator,
    check_same_shape,
)

__all__ = ["backward_pass", "by_layer", "check_mlp", "forward_pass", "init_mlp"]


def init_mlp(
    widths: Sequence[int], rng: np.random.Generator, bias: bool = True
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Random weights for layer widths n_0, n_1, ..., n_L, W^(l) of shape (n_l, n_(l-1)).

    Entries are uniform in ±1/sqrt(n_(l-1)), as :class:`backprop.nn.linear.Linear` draws them.
    Returns ``(weights, biases)``; ``biases`` is None when ``bias`` is False.
    """
    if len(widths) < 2:
        raise ValueError(f"widths must list at least two layers, got {list(widths)}")
    widths = [as_count(n, f"widths[{i}]") for i, n in enumerate(widths)]
    check_generator(rng)
    weights, biases = [], []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        bound = 1.0 / np.sqrt(n_in)
        weights.append(rng.uniform(-bound, bound, size=(n_out, n_in)))
        biases.append(rng.uniform(-bound, bound, size=n_out))
    return weights, (biases if bias else None)


def check_mlp(
    weights: Sequence[ArrayLike], biases: Sequence[ArrayLike] | None = None
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Return the parameters as finite float64 arrays after checking that their shapes chain.

    W^(l) must be 2-D with as many columns as W^(l-1) has rows, b^(l) must have shape
    (n_l,), and the last layer needs at least two outputs (one per class).

    Raises
    ------
    ValueError
        Naming the layer, the shape expected and the shape that came.
    """
    if len(weights) == 0:
        raise ValueError("an MLP needs at least one weight matrix, got none")
    Ws = [as_finite_array(W, f"W^({l})") for l, W in enumerate(weights, start=1)]
    for l, W in enumerate(Ws, start=1):
        if W.ndim != 2:
            raise ValueError(f"W^({l}) must be 2-D (n_out, n_in), got shape {W.shape}")
        if l > 1 and W.shape[1] != Ws[l - 2].shape[0]:
            expected = f"(n_{l}, {Ws[l - 2].shape[0]})"
            raise ValueError(
                f"W^({l}) must have shape {expected} to follow W^({l - 1}) "
                f"of shape {Ws[l - 2].shape}, got {W.shape}"
            )
    if Ws[-1].shape[0] < 2:
        raise ValueError(
            f"the last layer needs at least 2 outputs, got W^({len(Ws)}) of shape {Ws[-1].shape}"
        )
    if biases is None:
        return Ws, None
    if len(biases) != len(Ws):
        raise ValueError(
            f"need one bias per weight matrix: {len(Ws)} weights, got {len(biases)} biases"
        )
    bs = [as_finite_array(b, f"b^({l})") for l, b in enumerate(biases, start=1)]
    for l, (W, b) in enumerate(zip(Ws, bs, strict=True), start=1):
        check_same_shape(b, (W.shape[0],), f"b^({l})")
    return Ws, bs


def forward_pass(
    X: ArrayLike,
    labels: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str = "sigmoid",
) -> tuple[float, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Run a batch through the MLP; return the mean cost C and every Z^(l) and A^(l).

    Parameters
    ----------
    X : array of shape (m, n_0)
        One example per row.
    labels : array of shape (m,) of ints, or (m, c) one-hot rows
        The classes; c is the width of the last layer.
    weights, biases : lists of arrays
        W^(1)..W^(L) shaped (n_l, n_(l-1)) and b^(1)..b^(L) shaped (n_l,); no biases if None.
    activation : str
        The hidden layers' f: "sigmoid", "tanh" or "relu". The last layer is softmax.

    Returns
    -------
    loss, Z, A
        The mean cross-entropy, Z[l] for l = 1..L and A[l] for l = 0..L (A[0] is X).
    """
    W, b = by_layer(*check_mlp(weights, biases))
    L = len(W)  # the number of layers; the cost is called `loss`
    f, _ = activation_pair(activation)
    n_0 = W[1].shape[1]
    A = {0: as_batch(X, n_0, "X")}  # the first layer's input is X
    if A[0].ndim != 2:
        raise ValueError(f"X must have shape (batch, {n_0}), got {A[0].shape}")
    Z = {}
    for l in range(1, L + 1):
        Z[l] = A[l - 1] @ W[l].T + b[l]  # W^T: W is (n_out, n_in)
        A[l] = f(Z[l]) if l < L else softmax(Z[l])  # f(Z^(l)), not f(Z^(l-1))
    loss, _ = softmax_cross_entropy(Z[L], labels)  # the mean over the batch
    return loss, Z, A


def backward_pass(
    labels: ArrayLike,
    weights: Sequence[ArrayLike],
    Z: dict[int, np.ndarray],
    A: dict[int, np.ndarray],
    activation: str = "sigmoid",
    bias: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Gradients of the mean cost: dC/dW^(l) = Delta^(l)T A^(l-1), dC/db^(l) = sums of Delta^(l).

    ``Z`` and ``A`` are what :func:`forward_pass` returned for the same weights and
    activation. Returns ``(dW, db)`` as lists in layer order (``db`` is None without bias).
    """
    W, _ = by_layer(check_mlp(weights)[0], None)
    L = len(W)
    _, f_prime = activation_pair(activation)
    m, c = A[L].shape
    Y = one_hot_rows(labels, m, c)
    Delta = {L: (A[L] - Y) / m}  # divided by m because the cost is a mean
    for l in range(L - 1, 0, -1):  # down to layer 1, which has weights too
        Delta[l] = (Delta[l + 1] @ W[l + 1]) * f_prime(Z[l])
    dW = [Delta[l].T @ A[l - 1] for l in W]  # Delta^(l) with A^(l-1)
    db = [Delta[l].sum(axis=0) for l in W] if bias else None
    return dW, db


def by_layer(
    Ws: list[np.ndarray], bs: list[np.ndarray] | None
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray | float]]:
    """Key the lists W^(1)..W^(L) and b^(1)..b^(L) by layer number; no biases gives b = 0."""
    W = dict(enumerate(Ws, start=1))
    b = dict(enumerate(bs, start=1)) if bs is not None else dict.fromkeys(W, 0.0)
    return W, b
