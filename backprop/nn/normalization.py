"""Batch, layer and group normalisation: one computation over different axes (chapter 10).

Each layer standardises its input over some axes, then scales and shifts it per channel:

    x_hat = (x - mu) / sigma,  sigma = sqrt(var + eps),  y = gamma x_hat + beta,

with mu the mean and var the biased variance (divided by the count) over the reduced axes.
The layers differ only in those axes: batch norm reduces over the examples and positions
of each channel, layer norm over the features of each example, group norm over each
example's groups of channels and their positions. Backward is the compact formula

    dx = (1 / sigma) (g - mean(g) - x_hat mean(g x_hat)),  g = gamma dy,

the means over the same axes; dgamma = sum(dy x_hat) and dbeta = sum(dy) over the axes
where gamma is shared. :func:`standardize` and :func:`standardize_backward` are that
computation; :class:`LayerNorm` and :class:`GroupNorm` here, and
:class:`~backprop.nn.batchnorm.BatchNorm1d` and :class:`~backprop.nn.batchnorm.BatchNorm2d`
in :mod:`backprop.nn.batchnorm`, only choose the axes.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.nn.module import Module, as_grad_out, float_dtype, saved_for_backward
from backprop.validation import as_count, as_float_array, as_positive_number

Axes = tuple[int, ...]
Shape = tuple[int, ...]


def along_channels(ndim: int, size: int) -> Shape:
    """The shape that broadcasts a vector of ``size`` along axis 1 of ``ndim`` axes."""
    return (1, size, 1)[:ndim]


def channels_first(shape: Shape) -> Shape:
    """(N, C) stays; (N, C, ...) becomes (N, C, L), the positions L flattened."""
    return shape if len(shape) == 2 else (shape[0], shape[1], math.prod(shape[2:]))


def total(axes: Axes, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """The sum of a (or of a b, entry by entry) over ``axes``, which are kept with size 1.

    einsum does it in one pass, without the product's temporary array, and several times
    faster than ``sum`` over axes that are not contiguous in memory.
    """
    index = list(range(a.ndim))
    kept = [i for i in index if i not in axes]
    result = np.einsum(a, index, kept) if b is None else np.einsum(a, index, b, index, kept)
    return result.reshape([1 if i in axes else n for i, n in enumerate(a.shape)])


def standardize(x: np.ndarray, axes: Axes, eps: float) -> tuple[np.ndarray, ...]:
    """x_hat = (x - mu) / sqrt(var + eps) over ``axes``; return x_hat, 1/sigma, mu, var.

    mu, var (biased) and 1/sigma keep the reduced axes with size 1, so they broadcast.
    """
    count = math.prod(x.shape[i] for i in axes)
    mu = total(axes, x) / count
    x_hat = x - mu
    var = total(axes, x_hat, x_hat) / count
    inv_sigma = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_sigma
    return x_hat, inv_sigma, mu, var


def standardize_backward(
    g: np.ndarray, x_hat: np.ndarray, inv_sigma: np.ndarray, axes: Axes
) -> np.ndarray:
    """dC/dx = (1/sigma) (g - mean(g) - x_hat mean(g x_hat)), g = dC/dx_hat, means over axes.

    Every input of a group gets a share of the whole group's gradient: the mean and the
    variance couple them, so these gradients sum to zero over the axes.
    """
    count = math.prod(x_hat.shape[i] for i in axes)
    dx = g - total(axes, g) / count
    dx -= x_hat * (total(axes, g, x_hat) / count)
    dx *= inv_sigma
    return dx


class Normalization(Module):
    """What the four layers share: gamma and beta of size C, and :func:`standardize`.

    Every face works on its input reshaped to (M, C) or (N, C, L), the C channels or
    features on axis 1, where gamma and beta run; they are shared across the other axes.
    ``_layout`` gives that shape, and the view and axes of the statistics.
    """

    _size_name = "num_features"
    #: Whether gamma is constant over the reduced axes (batch norm), which shortens backward.
    _gamma_constant_over_axes = False

    def __init__(self, num_features: int, eps: float, dtype: DTypeLike):
        name = type(self).__name__
        self.num_features = as_count(num_features, f"{name} {self._size_name}")
        self.eps = as_positive_number(eps, f"{name} eps")
        self.gamma, self.beta = np.ones(self.num_features), np.zeros(self.num_features)
        self.astype(dtype)

    @abstractmethod
    def _layout(self, shape: tuple[int, ...]) -> tuple[Shape, Shape, Axes]:
        """Check the input's shape; return the working shape, the statistics' view, its axes."""

    def _statistics(self, x: np.ndarray, axes: Axes) -> tuple[np.ndarray, np.ndarray, bool]:
        """x_hat, 1/sigma, and whether they come from constants (only batch norm in eval)."""
        x_hat, inv_sigma, _, _ = standardize(x, axes, self.eps)
        return x_hat, inv_sigma, False

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return y = gamma x_hat + beta; keep x_hat and 1/sigma for backward."""
        if not (isinstance(x, np.ndarray) and x.dtype == self.gamma.dtype):
            x = as_float_array(x, "input", self.gamma.dtype, owner=self)
        work, view, axes = self._layout(x.shape)
        x_hat, self._inv_sigma, self._constant = self._statistics(x.reshape(view), axes)
        self._x_hat, self._view, self._axes, self._shape = x_hat.reshape(work), view, axes, x.shape
        shape = along_channels(len(work), self.num_features)
        y = self._x_hat * self.gamma.reshape(shape)
        y += self.beta.reshape(shape)
        return y.reshape(x.shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """Store dgamma = sum(dy x_hat), dbeta = sum(dy); return dC/dx (None if not needed)."""
        x_hat = saved_for_backward(self, self._x_hat)
        dy = as_grad_out(self, grad_out, self._shape, x_hat.dtype).reshape(x_hat.shape)
        shared = (0, 2)[: dy.ndim - 1]  # every axis but the channels'
        self.dbeta = total(shared, dy).reshape(-1)
        self.dgamma = total(shared, dy, x_hat).reshape(-1)
        if not self.needs_input_grad:
            return None
        shape = along_channels(dy.ndim, self.num_features)
        gamma = self.gamma.reshape(shape)
        if self._constant:  # eval-mode batch norm: x_hat is affine in x
            dx = dy * (gamma * self._inv_sigma.reshape(shape))
        elif self._gamma_constant_over_axes:
            # batch norm: gamma is constant over the reduced axes, so mean(g) and
            # mean(g x_hat) are gamma dbeta / count and gamma dgamma / count, known already
            count = dy.size // self.num_features
            dx = dy - x_hat * (self.dgamma / count).reshape(shape)
            dx -= (self.dbeta / count).reshape(shape)
            dx *= gamma * self._inv_sigma.reshape(shape)
        else:
            g = (dy * gamma).reshape(self._view)
            dx = standardize_backward(g, x_hat.reshape(self._view), self._inv_sigma, self._axes)
        return dx.reshape(self._shape)

    def parameters(self) -> list[np.ndarray]:
        """[gamma, beta] (the running statistics of batch norm are buffers, not parameters)."""
        return [self.gamma, self.beta]

    def gradients(self) -> list[np.ndarray]:
        """[dgamma, dbeta], from the last backward call."""
        return [self.dgamma, self.dbeta]

    def astype(self, dtype: DTypeLike) -> Normalization:
        """Convert gamma, beta (and any buffers) to ``dtype``; reset gradients and x_hat."""
        dtype = float_dtype(dtype)
        self.gamma = self.gamma.astype(dtype, copy=False)
        self.beta = self.beta.astype(dtype, copy=False)
        self.dgamma, self.dbeta = np.zeros_like(self.gamma), np.zeros_like(self.beta)
        self._x_hat: np.ndarray | None = None
        return self

    def _refuse(self, shape: Shape, expected: str) -> None:
        raise ValueError(f"{self!r} input must have shape {expected}, got {shape}")


class LayerNorm(Normalization):
    """Layer norm over the last axis, of size num_features, as PyTorch's LayerNorm(num_features).

    Each example (each position of a sequence too) uses its own statistics, in training and
    in eval mode alike; gamma and beta have one entry per feature.

    Parameters
    ----------
    num_features : int
        The size of the last axis; gamma and beta have shape (num_features,).
    eps : float
        Added to the variance (> 0).
    dtype : float32 or float64
        The parameters' dtype, which inputs must share (keyword only).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, *, dtype: DTypeLike = np.float64):
        super().__init__(num_features, eps, dtype)

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features}, eps={self.eps})"

    def _layout(self, shape: Shape) -> tuple[Shape, Shape, Axes]:
        if not shape or shape[-1] != self.num_features or 0 in shape:
            self._refuse(shape, f"(..., {self.num_features})")
        work = (math.prod(shape[:-1]), self.num_features)  # one row per example
        return work, work, (1,)


class GroupNorm(Normalization):
    """Group norm: the C channels split into num_groups groups of C / num_groups channels.

    Each example's group is standardised over its channels and their positions, in training
    and eval mode alike; gamma and beta are per channel. Input (N, C, ...): (N, C), (N, C, L)
    or (N, C, H, W). Instance norm is GroupNorm(C, C), one channel per group; layer norm over
    (C, H, W) is GroupNorm(1, C), with gamma per channel rather than per entry.

    Parameters
    ----------
    num_groups : int
        G, which must divide num_channels.
    num_channels : int
        C; gamma and beta have shape (C,).
    eps : float
        Added to the variance (> 0).
    dtype : float32 or float64
        The parameters' dtype, which inputs must share (keyword only).
    """

    _size_name = "num_channels"

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        *,
        dtype: DTypeLike = np.float64,
    ):
        self.num_groups = as_count(num_groups, "GroupNorm num_groups")
        channels = as_count(num_channels, "GroupNorm num_channels")
        if channels % self.num_groups:
            raise ValueError(
                f"GroupNorm num_channels {channels} must be divisible by num_groups "
                f"{self.num_groups}"
            )
        super().__init__(channels, eps, dtype)

    @property
    def num_channels(self) -> int:
        """C, the number of channels (PyTorch's name)."""
        return self.num_features

    def __repr__(self) -> str:
        return f"GroupNorm({self.num_groups}, {self.num_features}, eps={self.eps})"

    def _layout(self, shape: Shape) -> tuple[Shape, Shape, Axes]:
        if len(shape) < 2 or shape[1] != self.num_features or 0 in shape:
            self._refuse(shape, f"(batch, {self.num_features}, ...)")
        work = channels_first(shape)
        return work, (shape[0], self.num_groups, math.prod(work[1:]) // self.num_groups), (2,)
