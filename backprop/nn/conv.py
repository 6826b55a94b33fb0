"""The 2-D convolution layer, PyTorch's ``nn.Conv2d`` (chapter 9)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.nn.module import Module, as_grad_out, float_dtype, saved_for_backward
from backprop.nn.unfold import Pair, col2im, im2col, keep_examples_last, output_size
from backprop.validation import as_count, as_float_array, check_generator


def as_pair(value: int | tuple[int, int], name: str, least: int = 1) -> Pair:
    """An int or a pair of ints, each >= ``least``, as a pair (rows, columns)."""
    values = value if isinstance(value, tuple | list) else (value, value)
    if len(values) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return as_count(values[0], name, least), as_count(values[1], name, least)


class Conv2d(Module):
    """2-D cross-correlation z = W ⋆ x + b over (N, C_in, H, W) inputs, as torch's conv2d.

    Output channel o at position (p, q) is b_o plus the sum over input channels c and kernel
    positions (i, j) of W[o, c, i, j] x_pad[c, p s_h + i, q s_w + j]; the output has shape
    (N, C_out, H', W') with H' = floor((H + 2 p_h - k_h) / s_h) + 1, and likewise W'.
    Computed as one matrix product over :func:`~backprop.nn.unfold.im2col`'s columns;
    backward stores dW (summed over every position and example), db (the sums of grad_out
    per channel) and returns dC/dx through :func:`~backprop.nn.unfold.col2im`. Weights and
    biases start uniform in ±1/sqrt(C_in k_h k_w), as PyTorch's do.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out.
    kernel_size, stride, padding : int or (int, int)
        The kernel's (k_h, k_w), the step between windows, and the zeros added on each side.
    rng : numpy.random.Generator
        The source of the initial weights (keyword only).
    bias : bool
        Whether the layer has a bias per output channel.
    dtype : float32 or float64
        The parameters' dtype, which inputs must share.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        *,
        rng: np.random.Generator,
        bias: bool = True,
        dtype: DTypeLike = np.float64,
    ):
        self.in_channels = as_count(in_channels, "Conv2d in_channels")
        self.out_channels = as_count(out_channels, "Conv2d out_channels")
        self.kernel_size = as_pair(kernel_size, "Conv2d kernel_size")
        self.stride = as_pair(stride, "Conv2d stride")
        self.padding = as_pair(padding, "Conv2d padding", least=0)
        check_generator(rng, "Conv2d rng")
        kh, kw = self.kernel_size
        bound = 1.0 / np.sqrt(self.in_channels * kh * kw)
        self.W = rng.uniform(-bound, bound, size=(self.out_channels, self.in_channels, kh, kw))
        self.b = rng.uniform(-bound, bound, size=self.out_channels) if bias else None
        self.astype(dtype)

    def __repr__(self) -> str:
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.b is not None})"
        )

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return the convolution of x (N, C_in, H, W): shape (N, C_out, H', W')."""
        x = self._checked_input(x)
        self._shape, self._examples_last = x.shape, keep_examples_last(x)
        self._cols = cols = im2col(
            x, self.kernel_size, self.stride, self.padding, self._examples_last
        )
        in_size = cols.shape[0] * cols.shape[1] * cols.shape[2]  # C_in kh kw
        z = self.W.reshape(self.out_channels, in_size) @ cols.reshape(in_size, -1)
        if self.b is not None:
            z += self.b[:, None]
        # z is stored in the order of the columns, which the next layer's im2col reuses
        z = z.reshape(self.out_channels, *cols.shape[3:])
        return z.transpose(3, 0, 1, 2) if self._examples_last else z.transpose(1, 0, 2, 3)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """Store dW and db; return dC/dx (None if ``needs_input_grad`` is False)."""
        cols = saved_for_backward(self, self._cols)
        h_out, w_out = cols.shape[3:5] if self._examples_last else cols.shape[4:6]
        shape = (self._shape[0], self.out_channels, h_out, w_out)
        grad_out = as_grad_out(self, grad_out, shape, self.W.dtype)
        # one row per output channel, its columns in the order of the columns of ``cols``
        order = (1, 2, 3, 0) if self._examples_last else (1, 0, 2, 3)
        rows = grad_out.transpose(order).reshape(self.out_channels, -1)
        flat_cols = cols.reshape(-1, rows.shape[1])
        self.dW = (rows @ flat_cols.T).reshape(self.W.shape)
        if self.b is not None:
            self.db = rows.sum(axis=1)
        if not self.needs_input_grad:
            return None
        grad_cols = (self.W.reshape(self.out_channels, -1).T @ rows).reshape(cols.shape)
        return col2im(grad_cols, self._shape, self.stride, self.padding, self._examples_last)

    def parameters(self) -> list[np.ndarray]:
        """[W, b], or [W] without bias."""
        return [self.W] if self.b is None else [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        """[dW, db], or [dW] without bias, from the last backward call."""
        return [self.dW] if self.b is None else [self.dW, self.db]

    def astype(self, dtype: DTypeLike) -> Conv2d:
        """Convert W and b to ``dtype`` (and reset the gradients and the kept columns)."""
        dtype = float_dtype(dtype)
        self.W = self.W.astype(dtype, copy=False)
        self.b = None if self.b is None else self.b.astype(dtype, copy=False)
        self.dW = np.zeros_like(self.W)
        self.db = None if self.b is None else np.zeros_like(self.b)
        self._cols: np.ndarray | None = None
        return self

    def _checked_input(self, x: ArrayLike) -> np.ndarray:
        """The input as (N, C_in, H, W) in the parameters' dtype, with room for one window."""
        if not (isinstance(x, np.ndarray) and x.dtype == self.W.dtype):
            x = as_float_array(x, "input", self.W.dtype, owner=self)
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[0] == 0:
            raise ValueError(
                f"{self!r} input must have shape (batch, {self.in_channels}, height, width), "
                f"got {x.shape}"
            )
        for axis, name in ((0, "height"), (1, "width")):
            size, kernel = x.shape[2 + axis], self.kernel_size[axis]
            if output_size(size, kernel, self.stride[axis], self.padding[axis]) < 1:
                raise ValueError(
                    f"{self!r} kernel {name} {kernel} is larger than the padded input "
                    f"{name} {size + 2 * self.padding[axis]}"
                )
        return x
