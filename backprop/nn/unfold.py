"""im2col and col2im: a convolution as one matrix product, and its gradient (chapter 9).

A 2-D convolution slides a kernel of kh x kw over every channel of a padded input; each
output position sees one window of C x kh x kw numbers. :func:`im2col` copies every window
into a column of a matrix, so that the convolution with C_out kernels becomes one matrix
product (chapter 5's reason to assemble: one call that keeps the vector units busy).
:func:`col2im` is its adjoint: it adds each column back into the window it came from. Where
windows overlap, an input number sits in several columns, so its gradient is the sum of
theirs: the ``+=`` at a fork of chapters 1 and 2.

The columns are laid out (C, kh, kw, H', W', N), so that ``cols.reshape(C * kh * kw, -1)``
is the matrix of the product, each column one output position of one example. The examples
come last: every copy below then moves runs of N numbers or more at a time, and a
convolution that computes with these columns stores its output the same way, examples last
(:class:`~backprop.nn.conv.Conv2d` returns it as an (N, C, H', W') view), so that the next
layer's copies are long runs too. One exception, decided by :func:`keep_examples_last`: a
large input stored examples first keeps them after the channels, (C, kh, kw, N, H', W').

Two ways to fill the columns. For small images (the digits' 8 x 8) one matrix product per
channel with a fixed 0/1 matrix gathers every window at once. For larger ones, one strided
copy per kernel position (i, j), which holds what that position sees at every output
position: kh x kw vectorised copies, however large the input, instead of a Python loop over
the output positions.
"""

from __future__ import annotations

import functools

import numpy as np

Pair = tuple[int, int]


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length along one axis: floor((size + 2 padding - kernel) / stride) + 1.

    Positions that a stride would need past the padded input are dropped (the floor).
    """
    return (size + 2 * padding - kernel) // stride + 1


def pad(x: np.ndarray, padding: Pair, axes: Pair = (2, 3)) -> np.ndarray:
    """A 4-D array with ``padding`` zeros added on each side of ``axes`` (height, width)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axes[0]], widths[axes[1]] = (ph, ph), (pw, pw)
    return np.pad(x, widths)


def im2col(
    x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, examples_last: bool = True
) -> np.ndarray:
    """Every kernel window of ``x`` (N, C, H, W) as a column: an array (C, kh, kw, H', W', N).

    Entry [c, i, j, p, q, n] is the padded input at channel c, row p * sh + i, column
    q * sw + j of example n: what kernel position (i, j) sees at output position (p, q).
    With ``examples_last=False`` the examples come after the kernel positions instead,
    (C, kh, kw, N, H', W'): see :func:`keep_examples_last` for when that is faster.
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    h_out = output_size(h, kh, sh, padding[0])
    w_out = output_size(w, kw, sw, padding[1])
    if examples_last and _is_small(h, w, kh, kw, h_out, w_out):
        gather = _gather_matrix(h, w, kernel, stride, padding, x.dtype)
        pixels = x.transpose(1, 2, 3, 0).reshape(c, h * w, n)  # free for a conv's output
        return np.matmul(gather.T, pixels).reshape(c, kh, kw, h_out, w_out, n)
    if examples_last:  # (C, H, W, N): every copy below moves runs of W' N numbers
        padded = pad(np.ascontiguousarray(x.transpose(1, 2, 3, 0)), padding, axes=(1, 2))
        cols = np.empty((c, kh, kw, h_out, w_out, n), dtype=x.dtype)
    else:  # (C, N, H, W): runs of W' numbers, but no transposing copy of a large input
        padded = pad(x.transpose(1, 0, 2, 3), padding)
        cols = np.empty((c, kh, kw, n, h_out, w_out), dtype=x.dtype)
    lead = (slice(None),) if examples_last else (slice(None), slice(None))  # before H, W
    for i in range(kh):
        for j in range(kw):
            window = (slice(i, i + sh * h_out, sh), slice(j, j + sw * w_out, sw))
            cols[:, i, j] = padded[lead + window]
    return cols


def col2im(
    cols: np.ndarray,
    shape: tuple[int, int, int, int],
    stride: Pair,
    padding: Pair,
    examples_last: bool = True,
) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every column back into its window; shape (N, C, H, W).

    ``cols`` has the layout of im2col's result with the same ``examples_last``. Where windows
    overlap, the contributions add up. The result is stored in the order of the columns
    (examples last, or after the channels), as a view of shape (N, C, H, W).
    """
    n, c, h, w = shape
    kh, kw = cols.shape[1:3]
    (sh, sw), (ph, pw) = stride, padding
    h_out, w_out = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    if examples_last and _is_small(h, w, kh, kw, h_out, w_out):
        gather = _gather_matrix(h, w, (kh, kw), stride, padding, cols.dtype)
        flat = np.matmul(gather, cols.reshape(c, kh * kw * h_out * w_out, n))  # (C, H W, N)
        return flat.reshape(c, h, w, n).transpose(3, 0, 1, 2)
    padded_hw = (h + 2 * ph, w + 2 * pw)
    if examples_last:
        padded = np.zeros((c, *padded_hw, n), dtype=cols.dtype)
    else:
        padded = np.zeros((c, n, *padded_hw), dtype=cols.dtype)
    lead = (slice(None),) if examples_last else (slice(None), slice(None))  # before H, W
    for i in range(kh):
        for j in range(kw):
            window = (slice(i, i + sh * h_out, sh), slice(j, j + sw * w_out, sw))
            padded[lead + window] += cols[:, i, j]
    inside = lead + (slice(ph, ph + h), slice(pw, pw + w))
    return padded[inside].transpose((3, 0, 1, 2) if examples_last else (1, 0, 2, 3))


def keep_examples_last(x: np.ndarray) -> bool:
    """Whether :func:`im2col` should store the columns of ``x`` (N, C, H, W) examples last.

    Examples last makes every copy of im2col, col2im and the layers after a convolution move
    long runs of numbers, and a convolution's output is stored that way already. But moving
    the examples last in an input stored (N, C, H, W), a network's own input say, is a
    transposing copy that reads one number per cache line: cheap for a small input, slower
    than what it saves for a large one (above 2**18 numbers, 1 MB in float32) that a single
    layer convolves. Such an input keeps its examples after the channels.
    """
    stored_examples_last = x.transpose(1, 2, 3, 0).flags.c_contiguous
    return stored_examples_last or x.size <= 1 << 18


def _is_small(h: int, w: int, kh: int, kw: int, h_out: int, w_out: int) -> bool:
    """Whether the 0/1 matrix of :func:`_gather_matrix` is small (at most 256 kB in float32).

    For small images (the digits' 8 x 8, and smaller) one matrix product with it is faster
    than kh x kw strided copies or additions; for larger ones the product's work grows with
    the image's area twice over, and the copies win.
    """
    return h * w * kh * kw * h_out * w_out <= 1 << 16


@functools.lru_cache(maxsize=32)
def _gather_matrix(
    h: int, w: int, kernel: Pair, stride: Pair, padding: Pair, dtype: np.dtype
) -> np.ndarray:
    """G with G[r, (i, j, p, q)] = 1 where kernel offset (i, j) at output (p, q) reads pixel r.

    Padding reads no pixel: its columns are zero. For one channel, with the pixels as rows
    and the examples as columns, im2col is G^T x and col2im, its adjoint, is G cols.
    Computed once per geometry and shared (read-only) by every call.
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    h_out, w_out = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    i, j, p, q = np.meshgrid(
        np.arange(kh), np.arange(kw), np.arange(h_out), np.arange(w_out), indexing="ij"
    )
    row, col = (p * sh + i - ph).ravel(), (q * sw + j - pw).ravel()
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    gather = np.zeros((h * w, row.size), dtype=dtype)
    gather[(row * w + col)[inside], np.flatnonzero(inside)] = 1.0
    gather.flags.writeable = False
    return gather
