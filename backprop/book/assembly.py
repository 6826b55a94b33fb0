"""One example's gradients, twice: element by element in loops, and assembled (chapter 5).

Chapter 5 derives every entry of every gradient as a scalar,

    delta^(L)_i = a^(L)_i - y_i
    dC/dW^(l)_ij = delta^(l)_i a^(l-1)_j,    dC/db^(l)_i = delta^(l)_i
    delta^(l-1)_j = f'(z^(l-1)_j) sum_k W^(l)_kj delta^(l)_k,

and then assembles the scalars into vectors and matrices:

    delta^(L) = a^(L) - y,   dC/dW^(l) = delta^(l) a^(l-1)T,
    delta^(l-1) = (W^(l)T delta^(l)) * f'(z^(l-1)).

:func:`gradients_by_loops` computes the first form with plain Python loops over i, j, k, one
multiplication at a time; :func:`gradients_by_matrices` computes the second with NumPy. The
network is the MLP of :mod:`backprop.book.network` (hidden activation f, softmax and
cross-entropy at the output) on a single example x of shape (n_0,).

:func:`draw_matrix` and :func:`plot_outer_product` draw the assembly itself: a matrix as a
grid of its numbers, and dC/dW = delta a^T with the column delta beside it and the row a^T
above it, so that entry (i, j) sits where row i of delta meets column j of a^T.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from backprop.book.network import by_layer, check_mlp
from backprop.nn.activations import activation_pair
from backprop.nn.losses import one_hot_rows, softmax
from backprop.validation import as_finite_array, check_same_shape

__all__ = ["draw_matrix", "gradients_by_loops", "gradients_by_matrices", "plot_outer_product"]

Gradients = tuple[list[np.ndarray], list[np.ndarray] | None]


def gradients_by_loops(
    x: ArrayLike,
    label: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str = "sigmoid",
) -> Gradients:
    """dC/dW^(l) and dC/db^(l) for one example, one scalar at a time (Python loops).

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
    for l in range(1, L + 1):  # dC/dW_ij = delta_i a_j, dC/db_i = delta_i
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


def draw_matrix(
    values: ArrayLike,
    ax: Axes | None = None,
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
    title: str = "",
) -> Axes:
    """A matrix as a grid of cells, each showing its value to 3 significant figures.

    Positive entries are red, negative blue, zero white; the colour scale is symmetric about
    0 and set by the largest magnitude. A vector of shape (n,) is drawn as a column.
    """
    M = np.asarray(values, dtype=float)
    M = M.reshape(-1, 1) if M.ndim == 1 else M
    if M.ndim != 2 or M.size == 0:
        raise ValueError(f"draw_matrix needs a vector or a matrix, got shape {M.shape}")
    ax = ax if ax is not None else plt.subplots(figsize=(0.9 * M.shape[1] + 1, 0.6 * M.shape[0]))[1]
    limit = max(float(np.max(np.abs(M))), 1e-300)
    ax.imshow(M, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), v in np.ndenumerate(M):
        # dark cells get white digits
        color = "white" if abs(v) > 0.6 * limit else "black"
        ax.text(j, i, three_figures(v), ha="center", va="center", color=color, fontsize=9)
    ax.set_xticks(range(M.shape[1]), list(col_labels) or [""] * M.shape[1])
    ax.set_yticks(range(M.shape[0]), list(row_labels) or [""] * M.shape[0])
    ax.tick_params(length=0, labeltop=True, labelbottom=False)
    ax.set_xticks(np.arange(M.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(M.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_outer_product(
    delta: ArrayLike, a: ArrayLike, layer: str = "l", size: tuple[float, float] = (7.5, 3.8)
) -> Figure:
    """dC/dW = delta a^T drawn as it is assembled: entry (i, j) is delta_i a_j.

    The column delta (length n_l) stands to the left of the product, the row a^T (length
    n_(l-1)) above it, each cell of the product where its row and its column meet.
    ``layer`` names the layer in the labels ("l", "L", "2", ...).
    """
    delta, a = np.asarray(delta, dtype=float), np.asarray(a, dtype=float)
    if delta.ndim != 1 or a.ndim != 1:
        raise ValueError(
            f"plot_outer_product needs two vectors, got shapes {delta.shape} and {a.shape}"
        )
    rows, cols = len(delta), len(a)
    fig = plt.figure(figsize=size)
    grid = fig.add_gridspec(
        2, 2, width_ratios=[1, cols], height_ratios=[1, rows], wspace=0.08, hspace=0.08
    )
    corner = fig.add_subplot(grid[0, 0])
    corner.axis("off")
    corner.text(0.5, 0.5, r"$\delta\, a^{\mathsf{T}}$", ha="center", va="center", fontsize=13)
    row_names = [f"$\\delta^{{({layer})}}_{{{i + 1}}}$" for i in range(rows)]
    col_names = [f"$a^{{({_previous(layer)})}}_{{{j + 1}}}$" for j in range(cols)]
    draw_matrix(a.reshape(1, -1), fig.add_subplot(grid[0, 1]), col_labels=col_names)
    draw_matrix(delta, fig.add_subplot(grid[1, 0]), row_labels=row_names)
    product = fig.add_subplot(grid[1, 1])
    draw_matrix(np.outer(delta, a), product)
    product.set_xlabel(
        f"$\\partial C / \\partial W^{{({layer})}}_{{ij}} = "
        f"\\delta^{{({layer})}}_i \\, a^{{({_previous(layer)})}}_j$"
    )
    return fig


def three_figures(value: float) -> str:
    """A number to 3 significant figures, trailing zeros kept: 0.15 gives '0.150'."""
    text = f"{value:#.3g}"
    return text.rstrip(".") if "e" not in text else text


def _previous(layer: str) -> str:
    """The name of the layer before ``layer``: "l" gives "l-1", "3" gives "2"."""
    return str(int(layer) - 1) if layer.isdigit() else f"{layer}-1"
