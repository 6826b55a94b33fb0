"""Flatten: (N, d_1, d_2, ...) -> (N, d_1 d_2 ...), before a Linear layer (chapter 9)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from backprop.nn.module import Module, as_grad_out, saved_for_backward


class Flatten(Module):
    """Keep the batch axis and join all the others, as PyTorch's ``nn.Flatten()``.

    Backward reshapes dC/d(output) back to the input's shape: nothing is computed, so the
    gradient passes unchanged. A 2-D input is returned as it is.
    """

    def __init__(self) -> None:
        self._shape: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        return "Flatten()"

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return x reshaped to (N, product of the other axes)."""
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"Flatten() input must have a batch axis and more, got {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """Return dC/d(output) reshaped to the input's shape."""
        shape = saved_for_backward(self, self._shape)
        grad_out = as_grad_out(self, grad_out, (shape[0], int(np.prod(shape[1:]))))
        return grad_out.reshape(shape) if self.needs_input_grad else None
