"""Checks on the arrays that enter the package, with errors that say what was expected.

Every public function that takes an array passes it through :func:`as_batch` (or
:func:`as_finite_array`) first, so bad input fails at the door with a message naming the
expected shape or dtype and the one that came, instead of deep inside a matrix product.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


def as_finite_array(values: ArrayLike, name: str, dtype: DTypeLike = None) -> np.ndarray:
    """Return ``values`` as a floating-point array, rejecting non-numbers, NaN and infinity.

    A float32 or float64 array keeps its dtype and is not copied; integers become
    ``dtype`` (float64 unless given): a reader's ``np.array([[1, 2]])`` is a fine input.
    Booleans, complex numbers, strings and objects are not.

    Parameters
    ----------
    values : array_like
        The numbers to check.
    name : str
        What the values are, for the error message.
    dtype : numpy dtype, optional
        The floating dtype the values must have. Integers are converted to it; floats of
        another precision are rejected rather than silently converted. None accepts float32
        and float64 as they come.

    Raises
    ------
    TypeError
        If the values are not real numbers, or are floats of a dtype other than ``dtype``.
    ValueError
        If any value is NaN or infinite.
    """
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind == "f" and array.dtype.itemsize in (4, 8):
        if dtype is not None and array.dtype != dtype:
            raise TypeError(
                f"{name} must have dtype {np.dtype(dtype)}, got {array.dtype} "
                "(convert the input, or the model with .astype)"
            )
    elif kind in "iu":
        array = array.astype(np.float64 if dtype is None else dtype)
    else:
        raise TypeError(
            f"{name} must hold real numbers (float32, float64 or int), got dtype {array.dtype}"
        )
    if not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{name} must be finite, got {bad} at index {_first_bad(array)}")
    return array


def _first_bad(array: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])


def as_batch(values: ArrayLike, width: int, name: str, dtype: DTypeLike = None) -> np.ndarray:
    """Return ``values`` as a finite floating-point array of shape (batch, width).

    The dtype is handled as by :func:`as_finite_array`.

    A single example of shape (width,) is accepted too and returned unchanged in shape; the
    caller decides how to treat it.

    Raises
    ------
    ValueError
        If the shape is neither (batch, width) nor (width,), or a value is NaN or infinite.
    """
    array = as_finite_array(values, name, dtype)
    if array.ndim not in (1, 2) or array.shape[-1] != width or array.shape[0] == 0:
        raise ValueError(f"{name} must have shape (batch, {width}), got {array.shape}")
    return array


def check_same_shape(got: np.ndarray, expected: tuple[int, ...], name: str) -> None:
    """Raise a ValueError naming both shapes unless ``got`` has shape ``expected``."""
    if got.shape != expected:
        raise ValueError(f"{name} must have shape {expected}, got {got.shape}")
