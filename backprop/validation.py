"""Checks on what enters the package, with errors that say what was expected and what came.

The library checks its input at its doors: a :class:`~backprop.nn.sequential.Sequential` checks the
batch it is given, the losses check logits and labels, :func:`~backprop.optim.train` checks
its data and settings once. A layer checks only what costs nothing (a shape, a dtype), so
that a network pays for one full check of its input, not one per layer. Each helper names
the value it checks; ``owner``, when given, is the object whose input it is, and is put in
front of the message only when a check fails (formatting it costs more than the check).

No chapter calls these helpers: chapter 4 shows the errors they raise, and the appendix on
how the package works explains the doors.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


class NotFiniteError(ValueError):
    """A value that must be a finite number is NaN or infinite."""


def _fail(error: type[Exception], message: str, owner: object = None) -> Exception:
    """The exception to raise, with ``owner``'s repr in front of the message if given."""
    return error(message if owner is None else f"{owner!r} {message}")


def as_float_array(
    values: ArrayLike, name: str, dtype: DTypeLike = None, owner: object = None
) -> np.ndarray:
    """Return ``values`` as a float32 or float64 array, without looking at every entry.

    A float32 or float64 array keeps its dtype and is not copied; integers become
    ``dtype`` (float64 unless given): a reader's ``np.array([[1, 2]])`` is a fine input.
    Booleans, complex numbers, strings and objects are refused.

    Raises
    ------
    TypeError
        If the values are not real numbers, or are floats of a dtype other than ``dtype``
        (which is refused rather than silently converted).
    """
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind == "f" and array.dtype.itemsize in (4, 8):
        if dtype is not None and array.dtype != dtype:
            raise _fail(
                TypeError,
                f"{name} must have dtype {np.dtype(dtype)}, got {array.dtype} "
                "(convert the input, or the model with .astype)",
                owner,
            )
        return array
    if kind in "iu":
        return array.astype(np.float64 if dtype is None else dtype)
    raise _fail(
        TypeError,
        f"{name} must hold real numbers (float32, float64 or int), got dtype {array.dtype}",
        owner,
    )


def check_finite(array: np.ndarray, name: str, owner: object = None) -> None:
    """Raise a :class:`NotFiniteError` naming the first NaN or infinity in ``array``, if any.

    The quick test is the dot product of the array with itself: NaN and infinity carry
    into it, and it costs half of ``np.isfinite(array).all()``. Huge finite entries can
    make it overflow, so a result that is not finite is confirmed entry by entry.
    """
    if array.dtype.kind in "iub" or math.isfinite(np.vdot(array, array)):
        return
    if not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "infinity"
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise _fail(NotFiniteError, f"{name} must be finite, got {bad} at index {where}", owner)


def as_finite_array(
    values: ArrayLike, name: str, dtype: DTypeLike = None, owner: object = None
) -> np.ndarray:
    """:func:`as_float_array`, then :func:`check_finite`: every entry a finite real number."""
    array = as_float_array(values, name, dtype, owner)
    check_finite(array, name, owner)
    return array


def check_width(array: np.ndarray, width: int, name: str, owner: object = None) -> None:
    """Raise a ValueError unless ``array`` is a batch (batch, width), batch >= 1, or (width,).

    A single example of shape (width,) is accepted; the caller decides how to treat it.
    """
    shape = array.shape
    if len(shape) == 2:
        if shape[1] == width and shape[0] > 0:
            return
    elif len(shape) == 1 and shape[0] == width:
        return
    raise _fail(ValueError, f"{name} must have shape (batch, {width}), got {shape}", owner)


def as_layer_input(x: ArrayLike, width: int, dtype: np.dtype, owner: object) -> np.ndarray:
    """A layer's input: an array of ``dtype`` (integers converted) with ``width`` columns.

    Only what costs nothing is checked here, the dtype and the shape; the door of the
    network (a Sequential) has checked the values.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == dtype):
        x = as_float_array(x, "input", dtype, owner)
    check_width(x, width, "input", owner)
    return x


def as_batch(values: ArrayLike, width: int, name: str, dtype: DTypeLike = None) -> np.ndarray:
    """Return ``values`` as a finite float array of shape (batch, width) or (width,).

    Raises
    ------
    TypeError
        As :func:`as_float_array`.
    ValueError
        If the shape is neither (batch, width) with batch >= 1 nor (width,), or a value is
        NaN or infinite.
    """
    array = as_finite_array(values, name, dtype)
    check_width(array, width, name)
    return array


def check_same_shape(got: np.ndarray, expected: tuple[int, ...], name: str) -> None:
    """Raise a ValueError naming both shapes unless ``got`` has shape ``expected``."""
    if got.shape != expected:
        raise ValueError(f"{name} must have shape {expected}, got {got.shape}")


def as_labels(labels: ArrayLike, count: int, classes: int, name: str = "labels") -> np.ndarray:
    """Return integer class indices of shape (count,), each checked to lie in [0, classes).

    Raises
    ------
    TypeError
        If the labels are not integers.
    ValueError
        If the shape is not (count,) or an index is outside [0, classes).
    """
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":  # signed or unsigned integers; not bool ("b")
        raise TypeError(f"{name} must be integer class indices, got dtype {y.dtype}")
    if y.shape != (count,):
        raise ValueError(f"{name} must have shape ({count},), one per example, got {y.shape}")
    # One pass finds both ends: seen as unsigned, a negative index is larger than any class.
    if count and int(y.view(f"u{y.itemsize}").max()) >= classes:
        bad = int(y[(y < 0) | (y >= classes)][0])
        raise ValueError(f"{name} must be class indices in [0, {classes}), got {bad}")
    return y


def as_count(value: object, name: str, least: int = 1) -> int:
    """Return ``value`` as an int after checking that it is an integer >= ``least``.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``True`` is not taken for 1).
    ValueError
        If it is smaller than ``least``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < least:
        raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
    return int(value)


def as_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a float after checking that it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_generator(rng: object, name: str = "rng") -> None:
    """Raise a TypeError unless ``rng`` is a ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
