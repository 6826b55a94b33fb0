"""Convolution written the slow way, one output number at a time (chapter 9).

:func:`conv2d_by_loops` is the definition of :class:`~backprop.nn.conv.Conv2d`'s forward
pass as plain Python loops over examples, output channels and output positions, with the
window sum done by NumPy. It is what the chapter times against im2col, and what the tests
hold the layer to. :func:`correlate_full` and :func:`correlate_valid` are the two 1-D
operations that the chapter finds inside the backward pass.
"""

from __future__ import annotations

import numpy as np

from backprop.nn.unfold import output_size, pad


def conv2d_by_loops(
    x: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """z[n, o, p, q] = b[o] + sum over c, i, j of W[o, c, i, j] x_pad[n, c, p s_h + i, q s_w + j].

    Parameters as :class:`~backprop.nn.conv.Conv2d`: x (N, C_in, H, W), W (C_out, C_in, k_h,
    k_w), b (C_out,) or None. Returns (N, C_out, H', W').
    """
    n, _, h, w = x.shape
    c_out, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    h_out, w_out = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    padded = pad(x, padding)
    z = np.zeros((n, c_out, h_out, w_out), dtype=np.result_type(x, W))
    for example in range(n):
        for o in range(c_out):
            for p in range(h_out):
                for q in range(w_out):
                    window = padded[example, :, p * sh : p * sh + kh, q * sw : q * sw + kw]
                    z[example, o, p, q] = np.sum(window * W[o]) + (0.0 if b is None else b[o])
    return z


def conv2d_backward_by_loops(
    x: np.ndarray,
    W: np.ndarray,
    grad_out: np.ndarray,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dC/dx, dC/dW, dC/db) of :func:`conv2d_by_loops`, given grad_out = dC/dz.

    One window at a time: the window's upstream number delta = grad_out[n, o, p, q] adds
    delta times the window to dW[o] (the weights are shared by every window) and delta
    times W[o] to the window's place in dx (windows overlap). Shapes as
    :func:`conv2d_by_loops`; grad_out has the shape of its result.
    """
    n, _, h, w = x.shape
    _, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    padded = pad(x, padding)
    d_padded = np.zeros_like(padded, dtype=np.result_type(x, W, grad_out))
    dW = np.zeros_like(W, dtype=d_padded.dtype)
    for example, o, p, q in np.ndindex(grad_out.shape):
        delta = grad_out[example, o, p, q]
        rows, cols = slice(p * sh, p * sh + kh), slice(q * sw, q * sw + kw)
        dW[o] += delta * padded[example, :, rows, cols]
        d_padded[example, :, rows, cols] += delta * W[o]
    db = grad_out.sum(axis=(0, 2, 3))
    return d_padded[:, :, ph : ph + h, pw : pw + w], dW, db


def correlate_valid(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """y[p] = sum_i k[i] x[p + i] for every p where the kernel fits: length len(x) - len(k) + 1."""
    return np.array([np.dot(k, x[p : p + len(k)]) for p in range(len(x) - len(k) + 1)])


def correlate_full(g: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The full correlation of g with the flipped kernel: length len(g) + len(k) - 1.

    Entry t is sum_p g[p] k[t - p] over the p where t - p is an index of k: every output
    position p that the input position t fed, weighted by the kernel entry that joined them.
    """
    padded = np.concatenate([np.zeros(len(k) - 1), g, np.zeros(len(k) - 1)])
    return correlate_valid(padded, k[::-1])
