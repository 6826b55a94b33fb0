"""The module contract: a layer answers three questions (chapter 4).

A module is a piece of a network that can run forwards and backwards:

- ``forward(x)`` returns its output and keeps what the backward pass will need;
- ``backward(grad_out)`` takes dC/d(output) for that same forward call, stores dC/dθ for
  each of its parameters θ, and returns dC/d(input);
- ``parameters()`` and ``gradients()`` list the parameter arrays and their gradients, in
  the same order, so that an optimiser can pair them up.

These are the methods a new layer writes, as in PyTorch or micrograd. ``needs_input_grad``
(after PyTorch's name for the same thing) says whether the caller wants dC/d(input): a
training step does not need it for the first layer, and a module may skip that product and
return None when it is False. ``train()`` and ``eval()`` switch ``training``, for layers
that behave differently while training.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.validation import as_float_array


class Module(ABC):
    """A differentiable piece of a network: :meth:`forward`, then :meth:`backward`.

    A subclass implements ``forward`` and ``backward``; if it has parameters, it also lists
    them in ``parameters`` and their gradients, in the same order, in ``gradients``.
    ``module(x)`` is ``module.forward(x)``.
    """

    #: Whether the module is in training mode (see :meth:`train`).
    training: bool = True
    #: Whether :meth:`backward` must return dC/d(input); if False it may return None.
    needs_input_grad: bool = True

    @abstractmethod
    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return the module's output for input ``x``; keep what ``backward`` needs."""

    @abstractmethod
    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """Return dC/d(input), given ``grad_out`` = dC/d(output) of the last forward call.

        Store dC/dθ for every parameter θ, for :meth:`gradients` to return.
        """

    def parameters(self) -> list[np.ndarray]:
        """The parameter arrays, which an optimiser updates in place (none by default)."""
        return []

    def gradients(self) -> list[np.ndarray]:
        """dC/dθ for each array of :meth:`parameters`, in the same order."""
        return []

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode; return self."""
        self.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def astype(self, dtype: DTypeLike) -> Module:
        """Convert the parameters to ``dtype`` (float32 or float64) in place; return self.

        A float32 model takes float32 inputs and computes its outputs and gradients in
        float32: half the memory traffic, and matrix products about twice as fast. The
        book's gradient checks use float64, the default.
        """
        return self

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Same as :meth:`forward`."""
        return self.forward(x)


def saved_for_backward(module: Module, value: np.ndarray | None) -> np.ndarray:
    """Return what ``module``'s forward call kept, or say that forward has not run yet."""
    if value is None:
        raise RuntimeError(f"{module!r}: call forward before backward")
    return value


def as_grad_out(
    module: Module, grad_out: ArrayLike, shape: tuple[int, ...], dtype: np.dtype | None = None
) -> np.ndarray:
    """dC/d(output) as an array shaped like the last output (and of ``dtype``, if given)."""
    if dtype is not None and not (isinstance(grad_out, np.ndarray) and grad_out.dtype == dtype):
        grad_out = as_float_array(grad_out, "grad_out", dtype, owner=module)
    grad_out = np.asarray(grad_out)
    if grad_out.shape != shape:
        raise ValueError(
            f"{module!r} grad_out must have the shape of the last output, {shape}, "
            f"got {grad_out.shape}"
        )
    return grad_out


def float_dtype(dtype: DTypeLike) -> np.dtype:
    """``dtype`` as a NumPy dtype, if it is float32 or float64; else a TypeError."""
    resolved = np.dtype(dtype)
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved
