"""im2col and col2im: a convolution as one matrix product, and its gradient (chapter 10).

A 2-D convolution slides a kernel of kh x kw over every channel of a padded input; each
output position sees one window of C x kh x kw numbers. :func:`im2col` copies every window
into a column of a matrix, so that the convolution with C_out kernels becomes one matrix
product (chapter 5's reason to assemble: one call that keeps the vector units busy).
:func:`col2im` is its adjoint: it adds each column back into the window it came from. Where
windows overlap, an input number sits in several columns, so its gradient is the sum of
theirs: the ``+=`` at a fork of chapters 1 and 2.

Both work offset by offset: for each of the kh x kw positions (i, j) inside the kernel, one
strided slice of the input holds what that kernel position sees at every output position.
That is kh x kw vectorised copies, however large the input, instead of a Python loop over
the output positions.

The columns are laid out (C, kh, kw, N, H', W'), so that ``cols.reshape(C * kh * kw, -1)``
is the matrix of the product, each column one output position of one example.
"""

from __future__ import annotations

import numpy as np

Pair = tuple[int, int]


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length along one axis: floor((size + 2 padding - kernel) / stride) + 1.

    Positions that a stride would need past the padded input are dropped (the floor).
    """
    return (size + 2 * padding - kernel) // stride + 1


def pad(x: np.ndarray, padding: Pair) -> np.ndarray:
    """A 4-D array with ``padding`` zeros added on each side of its last two axes."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """Every kernel window of ``x`` (N, C, H, W) as a column: an array (C, kh, kw, N, H', W').

    Entry [c, i, j, n, p, q] is the padded input at channel c, row p * sh + i, column
    q * sw + j of example n: what kernel position (i, j) sees at output position (p, q).
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    h_out = output_size(h, kh, sh, padding[0])
    w_out = output_size(w, kw, sw, padding[1])
    # Channels first, (C, N, H, W): each copy below then moves whole rows. A convolution's
    # output is already stored that way (see Conv2d.forward), so this costs nothing there.
    padded = pad(x.transpose(1, 0, 2, 3), padding)
    cols = np.empty((c, kh, kw, n, h_out, w_out), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = padded[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw]
    return cols


def col2im(
    cols: np.ndarray, shape: tuple[int, int, int, int], stride: Pair, padding: Pair
) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every column back into its window; shape (N, C, H, W).

    ``cols`` has the layout (C, kh, kw, N, H', W') of im2col's result. Where windows overlap,
    the contributions add up.
    """
    n, c, h, w = shape
    _, kh, kw, _, h_out, w_out = cols.shape
    (sh, sw), (ph, pw) = stride, padding
    padded = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)  # channels first
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw] += cols[:, i, j]
    return padded[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3)
