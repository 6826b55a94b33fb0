"""Checks on the arrays that enter the package, with errors that say what was expected.

Every public function that takes an array passes it through :func:`as_batch` (or
:func:`as_finite_array`) first, so bad input fails at the door with a message naming the
expected shape or dtype and the one that came, instead of deep inside a matrix product.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def as_finite_array(values: ArrayLike, name: str) -> np.ndarray:
    """Return ``values`` as a float64 array, rejecting non-numbers, NaN and infinity.

    Integers are converted (a reader's ``np.array([[1, 2]])`` is a fine input); booleans,
    complex numbers, strings and objects are not.

    Raises
    ------
    TypeError
        If the values are not real numbers.
    ValueError
        If any value is NaN or infinite.
    """
    array = np.asarray(values)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(f"{name} must hold real numbers (float or int), got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        bad = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{name} must be finite, got {bad} at index {_first_bad(array)}")
    return array


def _first_bad(array: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])


def as_batch(values: ArrayLike, width: int, name: str) -> np.ndarray:
    """Return ``values`` as a finite float64 array of shape (batch, width).

    A single example of shape (width,) is accepted too and returned unchanged in shape; the
    caller decides how to treat it.

    Raises
    ------
    ValueError
        If the shape is neither (batch, width) nor (width,), or a value is NaN or infinite.
    """
    array = as_finite_array(values, name)
    if array.ndim not in (1, 2) or array.shape[-1] != width or array.shape[0] == 0:
        raise ValueError(f"{name} must have shape (batch, {width}), got {array.shape}")
    return array


def check_same_shape(got: np.ndarray, expected: tuple[int, ...], name: str) -> None:
    """Raise a ValueError naming both shapes unless ``got`` has shape ``expected``."""
    if got.shape != expected:
        raise ValueError(f"{name} must have shape {expected}, got {got.shape}")
