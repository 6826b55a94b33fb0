"""Losses, each returning the loss and its gradient with respect to the network's output.

Both losses are means over the batch, so their gradients carry the factor 1/m (m = batch
size): a loss and its gradient must agree on that factor, or every step is m times off.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from backprop.validation import as_finite_array, check_same_shape


def softmax(logits: ArrayLike) -> np.ndarray:
    """Softmax along the last axis: a_i = e^(z_i) / sum_j e^(z_j).

    The largest logit is subtracted first, which changes nothing mathematically and keeps
    every exponent at most 0, so logits of any size give finite probabilities.
    """
    z = as_finite_array(logits, "logits")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def one_hot_rows(labels: ArrayLike, batch: int, classes: int) -> np.ndarray:
    """Return labels as an (batch, classes) array of probability rows.

    ``labels`` is either integer class indices of shape (batch,), each in [0, classes), or
    already rows of shape (batch, classes) that are non-negative and sum to 1 (one-hot rows).

    Raises
    ------
    ValueError
        If the shape, the range of an index or a row's sum is wrong.
    """
    y = np.asarray(labels)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and y.dtype != bool:
        if y.shape[0] != batch:
            expected = f"({batch},)"
            raise ValueError(f"labels must have shape {expected} to match logits, got {y.shape}")
        if y.min() < 0 or y.max() >= classes:
            bad = int(y[(y < 0) | (y >= classes)][0])
            raise ValueError(f"labels must be class indices in [0, {classes}), got {bad}")
        return np.eye(classes)[y]
    if y.ndim == 1:
        raise TypeError(f"1-D labels must be integer class indices, got dtype {y.dtype}")
    rows = as_finite_array(y, "labels")
    check_same_shape(rows, (batch, classes), "one-hot labels")
    if (rows < 0).any() or not np.allclose(rows.sum(axis=1), 1.0):
        raise ValueError("one-hot labels must be non-negative rows that sum to 1")
    return rows


def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against labels, and its gradient.

    L = -(1/m) sum_n sum_i y_ni ln a_ni with a = softmax(z); dL/dz = (a - y) / m.

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
        dL/dz.
    """
    z = as_finite_array(logits, "logits")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        expected = "(batch, classes) with classes >= 2"
        raise ValueError(f"logits must have shape {expected}, got {z.shape}")
    m, classes = z.shape
    y = one_hot_rows(labels, m, classes)
    log_a = _log_softmax(z)
    loss = -float(np.sum(y * log_a)) / m + 0.0  # + 0.0 turns -0.0 into 0.0
    return loss, (np.exp(log_a) - y) / m


def mse(predictions: ArrayLike, targets: ArrayLike) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry, and its gradient.

    L = (1/N) sum (p - t)^2 over all N entries; dL/dp = 2 (p - t) / N.
    """
    p = as_finite_array(predictions, "predictions")
    t = as_finite_array(targets, "targets")
    check_same_shape(t, p.shape, "targets")
    diff = p - t
    return float(np.mean(diff**2)), 2.0 * diff / diff.size
