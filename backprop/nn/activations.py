"""Activations: the table of f and f', and the layers that apply them (chapters 3, 4, 7).

The table :data:`ACTIVATIONS` holds, for each activation, f(z) and its derivative f'(z) as
NumPy functions of the pre-activation z. Every implementation in the book takes its
activation from this one table, so that all apply the same f and the same f': the layer
modules :class:`Sigmoid`, :class:`Tanh` and :class:`ReLU` below, and the functional
networks of chapters 5 and 6 (:mod:`backprop.book.assembly`, :mod:`backprop.book.network`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from backprop.nn.module import Module, as_grad_out, saved_for_backward

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Function",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "activation_pair",
    "relu",
    "relu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "tanh_derivative",
]


def _floats(z: ArrayLike) -> np.ndarray:
    """Return z as floats: float32 and float64 stay as they are, the rest become float64."""
    z = np.asarray(z)
    return z if z.dtype in (np.float32, np.float64) else z.astype(np.float64)


def sigmoid(z: ArrayLike) -> np.ndarray:
    """Sigmoid 1 / (1 + e^-z), element by element, without overflow for any finite z.

    Like every function here, it computes in the input's precision (float32 or float64).
    """
    z = _floats(z)
    e = np.exp(-np.abs(z))  # exp of a negative number only
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z: ArrayLike) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)), at most 1/4 (at z = 0)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_derivative(z: ArrayLike) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2."""
    return 1.0 - np.tanh(_floats(z)) ** 2


def relu(z: ArrayLike) -> np.ndarray:
    """ReLU max(z, 0)."""
    return np.maximum(_floats(z), 0.0)


def relu_derivative(z: ArrayLike) -> np.ndarray:
    """1 where z > 0, else 0 (at the kink z = 0 the value 0 is chosen, as in PyTorch)."""
    z = _floats(z)
    return (z > 0).astype(z.dtype)


#: An activation f or its derivative f', from an array of pre-activations z to an array.
Function = Callable[[ArrayLike], np.ndarray]

#: name -> (f, f'), both taking the pre-activation z.
ACTIVATIONS: dict[str, tuple[Function, Function]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (np.tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}


def activation_pair(name: str) -> tuple[Function, Function]:
    """Return (f, f') for an activation named in :data:`ACTIVATIONS`.

    Raises
    ------
    ValueError
        If the name is not one of the table's.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


class Activation(Module):
    """An element-by-element layer a = f(z); backward multiplies dC/da by f'(z).

    f and f' come from :data:`ACTIVATIONS`, under the subclass's ``name``. The layer keeps
    z from the forward call; it computes in z's precision (float32 or float64).
    """

    name: str

    def __init__(self) -> None:
        self.f, self.f_prime = activation_pair(self.name)
        self._z: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, z: ArrayLike) -> np.ndarray:
        """Return a = f(z), element by element."""
        self._z = z = np.asarray(z)
        return self.f(z)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """Return dC/dz = dC/da * f'(z) (None if ``needs_input_grad`` is False)."""
        z = saved_for_backward(self, self._z)
        grad_out = as_grad_out(self, grad_out, z.shape)
        if not self.needs_input_grad:
            return None
        slope = self.f_prime(z)  # a fresh array: the product can go into it
        return np.multiply(grad_out, slope, out=slope)


class Sigmoid(Activation):
    """Sigmoid: a = 1 / (1 + e^-z); backward multiplies by σ(z) (1 - σ(z))."""

    name = "sigmoid"


class Tanh(Activation):
    """Tanh: a = tanh z; backward multiplies by 1 - tanh(z)^2."""

    name = "tanh"


class ReLU(Activation):
    """ReLU: a = max(z, 0); backward passes dC/da where z > 0 and blocks it elsewhere.

    At z = 0 exactly the derivative does not exist; 0 is used, as in PyTorch.
    """

    name = "relu"
