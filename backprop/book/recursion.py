"""The error terms dC/dz of a layered network, found two ways, with counted cost (chapter 4).

A network has layers 1..D of sigmoid-like units. Given the weights W^(l) (shape
(n_l, n_(l-1))), the slopes f'(z^(l)) fixed by the forward pass, and dC/da at the last layer,
every error term follows from the recursion

    delta^(D)_j = f'(z^(D)_j) dC/da_j,
    delta^(l)_j = f'(z^(l)_j) sum_k W^(l+1)_kj delta^(l+1)_k.

:func:`naive_deltas` evaluates it as written, top-down: each delta calls itself for every
unit of the next layer, so a delta is recomputed once for every path to the output.
:func:`stored_deltas` runs the same recursion from the output backwards and keeps each
delta once: that is the backward pass. Both count every multiplication they perform.
The naive recursion can also record its calls (``trace``), which :func:`evaluations`
counts and :func:`backprop.book.plot_recursion.draw_recursion` draws.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


class MultiplicationCounter:
    """Multiply two numbers and count how often it was done."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, a: float, b: float) -> float:
        """Return a * b, counting one multiplication."""
        self.count += 1
        return a * b


def _check(weights: Sequence[np.ndarray], slopes: Sequence[np.ndarray], dc_da: np.ndarray) -> None:
    if len(weights) != len(slopes):
        raise ValueError(f"need one slope vector per layer: {len(weights)} layers, {len(slopes)}")
    for layer, (W, slope) in enumerate(zip(weights, slopes, strict=True), start=1):
        if W.ndim != 2 or W.shape[0] != slope.shape[0]:
            raise ValueError(
                f"layer {layer}: W of shape {W.shape} does not fit {slope.shape[0]} units"
            )
        if layer > 1 and W.shape[1] != weights[layer - 2].shape[0]:
            raise ValueError(
                f"layer {layer}: W has {W.shape[1]} inputs, previous layer has "
                f"{weights[layer - 2].shape[0]} units"
            )
    if dc_da.shape != slopes[-1].shape:
        raise ValueError(f"dC/da must have shape {slopes[-1].shape}, got {dc_da.shape}")


Call = tuple[int, int, int]  # (depth in the call tree, layer from 1, unit from 1)


def naive_deltas(
    weights: Sequence[np.ndarray],
    slopes: Sequence[np.ndarray],
    dc_da: np.ndarray,
    trace: list[Call] | None = None,
) -> tuple[list[np.ndarray], int]:
    """All error terms by top-down recursion without storing any; and the multiplications.

    Parameters
    ----------
    weights : sequence of arrays
        W^(1), ..., W^(D); W^(l) has shape (n_l, n_(l-1)). W^(1) is not used by the
        recursion (nothing is passed back to the inputs) but fixes the layer sizes.
    slopes : sequence of arrays
        f'(z^(1)), ..., f'(z^(D)), shapes (n_l,).
    dc_da : array of shape (n_D,)
        dC/da at the last layer.
    trace : list, optional
        If given, every evaluation of an error term is appended to it, in the order the
        calls start, as (depth of the call, layer, unit), layers and units counted from 1:
        depth 0 is a call made for its own sake, depth d + 1 a call made by one at depth d.

    Returns
    -------
    deltas : list of arrays
        delta^(1), ..., delta^(D).
    multiplications : int
    """
    _check(weights, slopes, dc_da)
    mul = MultiplicationCounter()
    last = len(slopes) - 1

    def delta(layer: int, j: int, depth: int) -> float:
        if trace is not None:
            trace.append((depth, layer + 1, j + 1))
        if layer == last:
            return mul(slopes[layer][j], dc_da[j])
        total = 0.0
        for k in range(slopes[layer + 1].shape[0]):
            total += mul(weights[layer + 1][k, j], delta(layer + 1, k, depth + 1))
        return mul(slopes[layer][j], total)

    deltas = [
        np.array([delta(layer, j, 0) for j in range(len(s))]) for layer, s in enumerate(slopes)
    ]
    return deltas, mul.count


def stored_deltas(
    weights: Sequence[np.ndarray], slopes: Sequence[np.ndarray], dc_da: np.ndarray
) -> tuple[list[np.ndarray], int]:
    """All error terms by the backward pass, each computed once; and the multiplications.

    Same parameters and results as :func:`naive_deltas`.
    """
    _check(weights, slopes, dc_da)
    mul = MultiplicationCounter()
    deltas: list[np.ndarray] = [np.empty(0)] * len(slopes)
    deltas[-1] = np.array([mul(s, g) for s, g in zip(slopes[-1], dc_da, strict=True)])
    for layer in range(len(slopes) - 2, -1, -1):
        W, upstream = weights[layer + 1], deltas[layer + 1]
        sums = [
            sum(mul(W[k, j], upstream[k]) for k in range(len(upstream))) for j in range(W.shape[1])
        ]
        deltas[layer] = np.array([mul(s, t) for s, t in zip(slopes[layer], sums, strict=True)])
    return deltas, mul.count


def evaluations(trace: Sequence[Call], root: tuple[int, int] | None = None) -> Counter:
    """How often each error term was evaluated: {(layer, unit): count}.

    With ``root`` = (layer, unit), only the calls made while computing that one error term
    for its own sake (its subtree of the call tree, itself included) are counted.
    """
    if root is None:
        return Counter((layer, unit) for _, layer, unit in trace)
    starts = [i for i, (depth, *unit) in enumerate(trace) if depth == 0 and tuple(unit) == root]
    if not starts:
        raise ValueError(f"no call of the error term {root} at depth 0 in the trace")
    counts: Counter = Counter()
    for depth, layer, unit in trace[starts[0] :]:
        if depth == 0 and counts:
            break
        counts[(layer, unit)] += 1
    return counts
