"""The affine layer z = x W^T + b, PyTorch's ``nn.Linear`` (chapters 4 and 6)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.nn.module import Module, as_grad_out, float_dtype, saved_for_backward
from backprop.validation import as_count, as_layer_input, check_generator


class Linear(Module):
    """Affine layer z = x W^T + b, with W of shape (n_out, n_in) as in PyTorch's nn.Linear.

    Inputs are batches with one example per row, shape (batch, n_in); a single example of
    shape (n_in,) works too. Backward stores dW = grad_out^T x (summed over the batch) and
    db = the column sums of grad_out, and returns grad_out W. Weights and biases start
    uniform in ±1/sqrt(n_in), as PyTorch's do.

    ``backward`` overwrites ``dW`` and ``db``: to use the same weights twice in one
    computation, use two layers and add their gradients (a
    :class:`~backprop.nn.sequential.Sequential` refuses to hold one layer twice).

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    rng : numpy.random.Generator
        The source of the initial weights (explicit, so that runs reproduce).
    bias : bool
        Whether the layer has a bias b.
    dtype : float32 or float64
        The parameters' dtype, which inputs must share (integer inputs are converted).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        rng: np.random.Generator,
        bias: bool = True,
        dtype: DTypeLike = np.float64,
    ):
        self.n_in, self.n_out = as_count(n_in, "Linear n_in"), as_count(n_out, "Linear n_out")
        check_generator(rng, "Linear rng")
        bound = 1.0 / np.sqrt(self.n_in)
        self.W = rng.uniform(-bound, bound, size=(self.n_out, self.n_in))
        self.b = rng.uniform(-bound, bound, size=self.n_out) if bias else None
        self.astype(dtype)

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, bias={self.b is not None})"

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return z = x W^T + b (the bias added in place, into the product)."""
        self._x = x = as_layer_input(x, self.n_in, self.W.dtype, owner=self)
        z = x @ self.W.T
        if self.b is not None:
            z += self.b
        return z

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """Store dW = grad_out^T x and db = column sums of grad_out; return grad_out W."""
        x = saved_for_backward(self, self._x)
        shape = (*x.shape[:-1], self.n_out)  # the shape of the last output
        grad_out = as_grad_out(self, grad_out, shape, x.dtype)
        rows_out = grad_out.reshape(-1, self.n_out)  # one example: a batch of one
        self.dW = rows_out.T @ x.reshape(-1, self.n_in)
        if self.b is not None:
            self.db = rows_out.sum(axis=0)
        return grad_out @ self.W if self.needs_input_grad else None

    def parameters(self) -> list[np.ndarray]:
        """[W, b], or [W] without bias."""
        return [self.W] if self.b is None else [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        """[dW, db], or [dW] without bias, from the last backward call."""
        return [self.dW] if self.b is None else [self.dW, self.db]

    def astype(self, dtype: DTypeLike) -> Linear:
        """Convert W and b to ``dtype`` (and reset the gradients and the kept input)."""
        dtype = float_dtype(dtype)
        self.W = self.W.astype(dtype, copy=False)
        self.b = None if self.b is None else self.b.astype(dtype, copy=False)
        self.dW = np.zeros_like(self.W)
        self.db = None if self.b is None else np.zeros_like(self.b)
        self._x: np.ndarray | None = None
        return self
