"""Max and average pooling over 2-D windows, as PyTorch's ``MaxPool2d``/``AvgPool2d`` (chapter 9).

A pooling layer has no parameters. It slides a k_h x k_w window with a stride (the kernel
size unless given) over each channel and keeps one number per window: the largest, or the
mean. Backward follows chapter 2's gates: max routes the upstream gradient to the input that
won (the max gate), the mean spreads it evenly over the window (the add gate, scaled by
1 / (k_h k_w)). Where windows overlap, an input's gradient is the sum over its windows.

Both work offset by offset, as :mod:`backprop.nn.unfold` does: one strided slice per
position inside the window.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from backprop.nn.conv import as_pair
from backprop.nn.module import Module, as_grad_out, saved_for_backward
from backprop.nn.unfold import output_size
from backprop.validation import as_float_array


class _Pool2d(Module):
    """What max and average pooling share: the window, its offsets, the shapes."""

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ):
        name = type(self).__name__
        self.kernel_size = as_pair(kernel_size, f"{name} kernel_size")
        self.stride = self.kernel_size if stride is None else as_pair(stride, f"{name} stride")
        self._shape: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"

    def _windows(self, x: ArrayLike) -> tuple[np.ndarray, list[np.ndarray]]:
        """The input checked as (N, C, H, W), and for each kernel offset the slice it sees."""
        x = as_float_array(x, "input", owner=self)
        if x.ndim != 4 or x.shape[0] == 0:
            raise ValueError(f"{self!r} input must have shape (batch, channels, height, width), "
                             f"got {x.shape}")  # fmt: skip
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        h_out = output_size(x.shape[2], kh, sh, 0)
        w_out = output_size(x.shape[3], kw, sw, 0)
        if h_out < 1 or w_out < 1:
            raise ValueError(f"{self!r} window {self.kernel_size} is larger than the input "
                             f"{x.shape[2:]}")  # fmt: skip
        self._shape, self._out = x.shape, (x.shape[0], x.shape[1], h_out, w_out)
        return x, [self._slice(x, i, j) for i in range(kh) for j in range(kw)]

    def _slice(self, x: np.ndarray, i: int, j: int) -> np.ndarray:
        """What kernel position (i, j) sees at every output position: (N, C, H', W')."""
        (sh, sw), (h_out, w_out) = self.stride, self._out[2:]
        return x[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw]

    def _spread(self, pieces: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
        """Add each offset's gradient piece into the slice it came from: dC/dx (N, C, H, W)."""
        grad_in = np.zeros(self._shape, dtype=dtype)
        kw = self.kernel_size[1]
        for k, piece in enumerate(pieces):
            self._slice(grad_in, k // kw, k % kw)[...] += piece
        return grad_in


class MaxPool2d(_Pool2d):
    """Max pooling: each output is the largest input in its window.

    Backward sends each window's upstream gradient to the input that won. When several
    inputs tie, the first in row-major order wins, as in PyTorch's CPU kernel.
    """

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return the maximum of every window: shape (N, C, H', W')."""
        x, slices = self._windows(x)
        best = slices[0].copy(order="K")  # keep the input's memory order (see unfold)
        for piece in slices[1:]:
            np.maximum(best, piece, out=best)
        self._x, self._best = x, best
        return best

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """dC/dx: each window's upstream gradient at its winning input, zero elsewhere."""
        saved_for_backward(self, self._shape)
        grad_out = as_grad_out(self, grad_out, self._out)
        if not self.needs_input_grad:
            return None
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        overlapping = sh < kh or sw < kw
        # Windows that tile the input exactly write every entry of dC/dx below; otherwise
        # the rows and columns that no window reads (or a gap between windows) stay zero.
        tiled = (sh, sw) == (kh, kw) and self._shape[2:] == (sh * self._out[2], sw * self._out[3])
        start = np.empty_like if tiled else np.zeros_like
        grad_in = start(self._x, dtype=grad_out.dtype)  # the input's memory order
        last = kh * kw - 1
        for k in range(kh * kw):
            wins = self._slice(self._x, k // kw, k % kw) == self._best
            # In row-major order the first maximum of a window wins a tie: ``free`` marks
            # the windows whose winner is not found yet.
            if k == 0:
                free = ~wins
            else:
                wins &= free
                if k < last:
                    free ^= wins  # the new winners are no longer free
            target = self._slice(grad_in, k // kw, k % kw)
            if overlapping:  # an input in several windows adds what they send
                target += grad_out * wins
            else:
                np.multiply(grad_out, wins, out=target)
        return grad_in


class AvgPool2d(_Pool2d):
    """Average pooling: each output is the mean of its window; backward spreads it evenly."""

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return the mean of every window: shape (N, C, H', W')."""
        x, slices = self._windows(x)
        total = slices[0].copy()
        for piece in slices[1:]:
            total += piece
        total /= len(slices)
        self._dtype = x.dtype
        return total

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """dC/dx: every input gets dC/d(mean) / (k_h k_w) from each window it is in."""
        saved_for_backward(self, self._shape)
        grad_out = as_grad_out(self, grad_out, self._out)
        if not self.needs_input_grad:
            return None
        offsets = self.kernel_size[0] * self.kernel_size[1]
        share = (grad_out / offsets).astype(self._dtype, copy=False)
        return self._spread([share] * offsets, self._dtype)
