"""Activation functions a = f(z) and their derivatives f'(z), as NumPy functions.

The layer modules (:mod:`backprop.layers`) and the functional networks of chapters 5 and 6
(:mod:`backprop.assembly`, :mod:`backprop.network`) take their activations from this one
table, so that every implementation in the book applies the same f and the same f'.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ACTIVATIONS",
    "Function",
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


#: An activation f or its derivative f': an array of pre-activations z in, an array out.
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
