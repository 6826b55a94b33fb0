"""Softmax, and the losses with their gradients: softmax cross-entropy and MSE (chapters 5-7).

Each loss returns the loss and its gradient with respect to the network's output. Both are
means over the batch, so their gradients carry the factor 1/m (m = batch size): a loss and
its gradient must agree on that factor, or every step is m times off. A loss is one of the
library's doors: it checks its arguments (finite numbers, shapes that match, labels that
are classes) before it computes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from backprop.validation import as_finite_array, as_labels, check_same_shape


def softmax(logits: ArrayLike) -> np.ndarray:
    """Softmax along the last axis: a_i = e^(z_i) / sum_j e^(z_j).

    The largest logit is subtracted first, which changes nothing mathematically and keeps
    every exponent at most 0, so logits of any size give finite probabilities.

    Raises
    ------
    ValueError
        If there are no logits, or one is NaN or infinite.
    """
    z = as_finite_array(logits, "logits")
    if z.size == 0:
        raise ValueError(f"softmax needs at least one logit, got shape {z.shape}")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_hot_rows(labels: ArrayLike, batch: int, classes: int) -> np.ndarray:
    """Return labels as a (batch, classes) array of probability rows.

    ``labels`` is either integer class indices of shape (batch,), each in [0, classes), or
    already rows of shape (batch, classes) that are non-negative and sum to 1 (one-hot rows).

    Raises
    ------
    TypeError
        If 1-D labels are not integers.
    ValueError
        If the shape, the range of an index or a row's sum is wrong.
    """
    y = np.asarray(labels)
    if y.ndim == 1:
        return np.eye(classes)[as_labels(y, batch, classes)]
    rows = as_finite_array(y, "labels")
    check_same_shape(rows, (batch, classes), "one-hot labels")
    if (rows < 0).any() or not np.allclose(rows.sum(axis=1), 1.0):
        raise ValueError("one-hot labels must be non-negative rows that sum to 1")
    return rows


def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against labels, and its gradient.

    C = -(1/m) sum_n sum_i y_ni ln a_ni with a = softmax(z); dC/dz = (a - y) / m.

    Parameters
    ----------
    logits : array of shape (batch, classes)
        The scores z of the output layer, before softmax.
    labels : array of shape (batch,) of ints, or (batch, classes)
        Class indices, or one-hot rows.

    Returns
    -------
    loss : float
        The mean over the batch.
    dlogits : numpy.ndarray of shape (batch, classes)
        dC/dz, in the logits' dtype.
    """
    z = as_finite_array(logits, "logits")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        expected = "(batch, classes) with batch >= 1 and classes >= 2"
        raise ValueError(f"logits must have shape {expected}, got {z.shape}")
    m, classes = z.shape
    y = np.asarray(labels)
    indices = y.ndim == 1
    y = as_labels(y, m, classes) if indices else one_hot_rows(y, m, classes)
    shifted, a, log_total = _softmax_parts(z)
    if indices:
        rows = np.arange(m)
        loss = float((log_total[:, 0] - shifted[rows, y]).sum()) / m
        a[rows, y] -= 1.0  # a - y, without building the one-hot rows
    else:
        loss = float((y * (log_total - shifted)).sum()) / m
        a -= y
    a /= m
    return loss + 0.0, a  # + 0.0 turns -0.0 into 0.0


def _softmax_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return shifted = z - max z, a = softmax(z) and ln(sum e^shifted), row by row.

    ln a = shifted - ln(sum e^shifted); subtracting the largest logit first keeps every
    exponent at most 0, so logits of any size give finite probabilities.
    """
    shifted = z - z.max(axis=1, keepdims=True)
    a = np.exp(shifted)
    total = a.sum(axis=1, keepdims=True)
    a /= total
    return shifted, a, np.log(total)


def mse(predictions: ArrayLike, targets: ArrayLike) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry, and its gradient.

    C = (1/N) sum (p - t)^2 over all N entries; dC/dp = 2 (p - t) / N.

    Raises
    ------
    ValueError
        If there are no predictions, the shapes differ, or a value is NaN or infinite.
    """
    p = as_finite_array(predictions, "predictions")
    t = as_finite_array(targets, "targets")
    check_same_shape(t, p.shape, "targets")
    if p.size == 0:
        raise ValueError(f"mse needs at least one prediction, got shape {p.shape}")
    diff = p - t
    return float(np.mean(diff**2)), 2.0 * diff / diff.size
