"""Batch normalisation, PyTorch's ``BatchNorm1d`` and ``BatchNorm2d`` (chapter 10).

The computation of :mod:`backprop.nn.normalization` over the examples (and positions) of
each channel, with one difference: in eval mode the layer uses running statistics, which it
updated in training mode, instead of the batch's.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from backprop.nn.normalization import (
    Axes,
    Normalization,
    Shape,
    along_channels,
    channels_first,
    standardize,
)
from backprop.validation import as_count


class _BatchNorm(Normalization):
    """Batch norm: the batch's statistics in training mode, the running ones in eval mode."""

    _gamma_constant_over_axes = True
    _ranks: tuple[int, ...] = ()
    _expected = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        dtype: DTypeLike = np.float64,
    ):
        name = type(self).__name__
        size = as_count(num_features, f"{name} num_features")
        if isinstance(momentum, bool) or not isinstance(momentum, int | float | np.floating):
            raise TypeError(f"{name} momentum must be a number, got {momentum!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name} momentum must be in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.running_mean, self.running_var = np.zeros(size), np.ones(size)
        super().__init__(num_features, eps, dtype)

    def __repr__(self) -> str:
        name, c = type(self).__name__, self.num_features
        return f"{name}({c}, eps={self.eps}, momentum={self.momentum})"

    def _layout(self, shape: Shape) -> tuple[Shape, Shape, Axes]:
        c = self.num_features
        if len(shape) not in self._ranks or shape[1] != c or 0 in shape:
            self._refuse(shape, self._expected.format(c=c))
        if self.training and math.prod(shape) == c:
            raise ValueError(
                f"{self!r} in training mode needs more than one value per channel, got input "
                f"of shape {shape}: the variance of one value is zero. Use eval() (the "
                "running statistics) or a larger batch"
            )
        work = channels_first(shape)
        return work, work, (0, 2)[: len(work) - 1]

    def _statistics(self, x: np.ndarray, axes: Axes) -> tuple[np.ndarray, np.ndarray, bool]:
        shape = along_channels(x.ndim, self.num_features)
        if not self.training:
            inv_sigma = 1.0 / np.sqrt(self.running_var.reshape(shape) + self.eps)
            return (x - self.running_mean.reshape(shape)) * inv_sigma, inv_sigma, True
        x_hat, inv_sigma, mu, var = standardize(x, axes, self.eps)
        count, m = x.size // self.num_features, self.momentum
        self.running_mean *= 1.0 - m
        self.running_mean += m * mu.reshape(-1)
        self.running_var *= 1.0 - m
        self.running_var += (m * count / (count - 1)) * var.reshape(-1)  # unbiased
        return x_hat, inv_sigma, False

    def astype(self, dtype: DTypeLike) -> _BatchNorm:
        """Convert gamma, beta, running_mean and running_var to ``dtype``."""
        super().astype(dtype)
        self.running_mean = self.running_mean.astype(self.gamma.dtype, copy=False)
        self.running_var = self.running_var.astype(self.gamma.dtype, copy=False)
        return self


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) features or (N, C, L) sequences, as PyTorch's BatchNorm1d.

    Channel c is standardised over axis 0 (and 2). Training mode uses the batch's mean and
    biased variance, and updates ``running_mean`` and ``running_var`` as PyTorch does:
    running = (1 - momentum) running + momentum batch, with the unbiased batch variance
    (n / (n - 1) times the biased one, n values per channel). Eval mode uses the running
    statistics, which backward treats as constants: dx = gamma dy / sqrt(running_var + eps).
    The running statistics are buffers, not parameters: no gradient, no optimiser step.
    ``forward`` and ``backward`` are those of :class:`~backprop.nn.normalization.Normalization`.

    Parameters
    ----------
    num_features : int
        C, the number of channels; gamma, beta and the running statistics have shape (C,).
    eps : float
        Added to the variance (> 0), so that a constant channel gives x_hat = 0.
    momentum : float
        The weight of each new batch in the running statistics, in [0, 1].
    dtype : float32 or float64
        The dtype of the parameters and buffers, which inputs must share (keyword only).
    """

    _ranks = (2, 3)
    _expected = "(batch, {c}) or (batch, {c}, length)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) images, as PyTorch's BatchNorm2d.

    As :class:`BatchNorm1d` (same parameters, modes and running statistics), with the
    statistics of channel c over axes 0, 2 and 3: every example and every position.
    """

    _ranks = (4,)
    _expected = "(batch, {c}, height, width)"
