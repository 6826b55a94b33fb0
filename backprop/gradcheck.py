"""Central-difference gradients and the book's relative error (chapters 1 and 8).

The central difference

    f'(x) ~ (f(x + h) - f(x - h)) / (2h)

has a truncation error of order h^2 (the forward difference only h), so with
h = 1e-6 in float64 it agrees with an exact derivative to about 1e-9 or better.
Two gradients g and n are compared by their relative error

    rel(g, n) = ||g - n|| / max(||g||, ||n||),

which is 0 when both are zero, is scale-free, and lies in [0, 2].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop.validation import check_finite

DEFAULT_STEP = 1e-6
DEFAULT_TOLERANCE = 1e-6


def derivative(f: Callable[[float], float], x: float, h: float = DEFAULT_STEP) -> float:
    """Central-difference estimate of f'(x) for a function of one float.

    Parameters
    ----------
    f
        A function of one real number returning a real number.
    x
        The point at which to differentiate.
    h
        The step; must be positive.

    Returns
    -------
    float
        (f(x + h) - f(x - h)) / (2h).
    """
    _check_step(h)
    x = float(x)
    return (_scalar(f(x + h)) - _scalar(f(x - h))) / (2.0 * h)


def gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = DEFAULT_STEP
) -> np.ndarray:
    """Central-difference estimate of the gradient of a scalar function of an array.

    Each element of ``x`` is nudged by +h and -h in turn (and restored), so the
    cost is two calls of ``f`` per element.

    Parameters
    ----------
    f
        A function of an array shaped like ``x`` that returns a scalar.
    x
        A floating-point array; it is modified during the call and restored.
    h
        The step; must be positive.

    Returns
    -------
    numpy.ndarray
        An array shaped like ``x`` whose element i is d f / d x_i.
    """
    _check_step(h)
    _check_float_array(x, "gradient")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = _scalar(f(x))
        x[index] = original - h
        f_minus = _scalar(f(x))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a: np.ndarray | float, b: np.ndarray | float) -> float:
    """||a - b|| / max(||a||, ||b||), the book's relative error; 0.0 when a = b = 0."""
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape:
        raise ValueError(
            f"relative_error needs two arrays of one shape, got {a_arr.shape} and {b_arr.shape}"
        )
    for arr in (a_arr, b_arr):
        if not np.all(np.isfinite(arr)):
            raise ValueError("relative_error needs finite values, got NaN or inf")
    scale = max(float(np.linalg.norm(a_arr)), float(np.linalg.norm(b_arr)))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a_arr - b_arr)) / scale


@dataclass(frozen=True)
class GradCheck:
    """The outcome of comparing an analytic gradient with a numerical one.

    Printing it gives the verdict and the measured relative error (see
    :func:`format_error`). A passing error is round-off, whose digits differ between
    machines; the book's notebook tests compare it through a sanitiser
    (``tests/nbval_sanitize.cfg``) that accepts any value below 1e-4.
    """

    analytic: np.ndarray
    numeric: np.ndarray
    error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        """True when the relative error is at most the tolerance."""
        return self.error <= self.tolerance

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"gradient check {verdict}: relative error {format_error(self.error)} "
            f"(tolerance {self.tolerance:.0e})"
        )


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray | float,
    analytic: np.ndarray | float,
    h: float = DEFAULT_STEP,
    tolerance: float = DEFAULT_TOLERANCE,
) -> GradCheck:
    """Compare an analytic gradient of ``f`` at ``x`` with central differences.

    Parameters
    ----------
    f
        A scalar function of a float or of an array shaped like ``x``.
    x
        The point of the check (a float, or a floating-point array).
    analytic
        The gradient to be checked, shaped like ``x``.
    h, tolerance
        The finite-difference step and the largest relative error that passes.

    Returns
    -------
    GradCheck
        Both gradients, their relative error and the verdict.
    """
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        numeric = np.asarray(derivative(f, float(x), h))
    else:
        numeric = gradient(f, x, h)
    analytic_arr = np.asarray(analytic, dtype=np.float64)
    if analytic_arr.shape != numeric.shape:
        raise ValueError(
            f"check_gradient expects an analytic gradient of shape {numeric.shape} "
            f"(the shape of x), got {analytic_arr.shape}"
        )
    return GradCheck(analytic_arr, numeric, relative_error(analytic_arr, numeric), tolerance)


def check_directional(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic: np.ndarray,
    rng: np.random.Generator,
    h: float = DEFAULT_STEP,
    tolerance: float = DEFAULT_TOLERANCE,
) -> GradCheck:
    """Check a gradient along one random direction: two evaluations of ``f``, not 2 x.size.

    For a unit vector u drawn with ``rng``, the central difference
    (f(x + h u) - f(x - h u)) / (2 h) estimates the directional derivative, which must equal
    analytic . u. An error in the gradient shows unless its component along u is within the
    tolerance: an error that is small, or nearly orthogonal to u, can pass, so repeat with new
    directions for more certainty. The report compares the two scalars.
    """
    _check_float_array(x, "check_directional")
    _check_step(h)
    analytic_arr = np.asarray(analytic, dtype=np.float64)
    if analytic_arr.shape != x.shape:
        raise ValueError(
            f"check_directional expects an analytic gradient of shape {x.shape}, "
            f"got {analytic_arr.shape}"
        )
    u = rng.standard_normal(x.shape)
    u /= np.linalg.norm(u)

    def f_at(point: np.ndarray) -> float:
        return _with_value(x, point, lambda: _scalar(f(x)))

    numeric = np.asarray((f_at(x + h * u) - f_at(x - h * u)) / (2.0 * h))
    along = np.asarray(np.sum(analytic_arr * u))
    return GradCheck(along, numeric, relative_error(along, numeric), tolerance)


def check_module(
    module: object,
    x: np.ndarray,
    rng: np.random.Generator,
    tolerance: float = DEFAULT_TOLERANCE,
) -> dict[str, GradCheck]:
    """Check a module's ``backward`` and parameter gradients against central differences.

    The module is anything with ``forward(x)``, ``backward(grad_out)``, ``parameters()`` and
    ``gradients()`` (the layers of :mod:`backprop.nn`). The loss is
    C = sum(upstream * forward(x)) with a random ``upstream``, so dC/d(output) = upstream.

    Returns
    -------
    dict
        ``"input"`` for dC/dx, then ``"param 0"``, ``"param 1"``, ... in the order of
        ``parameters()``; each a :class:`GradCheck`.
    """
    x = np.array(x, dtype=np.float64)
    upstream = rng.normal(size=np.shape(module.forward(x)))

    def loss() -> float:
        return float(np.sum(module.forward(x) * upstream))

    grad_in = module.backward(upstream)
    analytic = [g.copy() for g in module.gradients()]
    reports = {
        "input": check_gradient(
            lambda x_: _with_value(x, x_, loss), x.copy(), grad_in, tolerance=tolerance
        )
    }
    for i, (param, grad) in enumerate(zip(module.parameters(), analytic, strict=True)):
        reports[f"param {i}"] = check_gradient(
            lambda p_, param=param: _with_value(param, p_, loss),
            param.copy(),
            grad,
            tolerance=tolerance,
        )
    return reports


def _with_value(target: np.ndarray, value: np.ndarray, f: Callable[[], float]) -> float:
    """Evaluate f() with ``target`` temporarily holding ``value``, then restore it."""
    saved = target.copy()
    target[...] = value
    try:
        return f()
    finally:
        target[...] = saved


def format_error(error: float) -> str:
    """A relative error as printed: two significant digits, in scientific form when small.

    Errors of 1e-4 or more come from a wrong gradient, not from rounding, and their digits
    are the same on every machine ('0.5'); smaller ones are round-off ('3.2e-11'), whose
    digits are not.
    """
    if error == 0.0:
        return "0"
    return f"{error:.2g}" if error >= 1e-4 else f"{error:.1e}"


def _check_step(h: float) -> None:
    if not h > 0.0:
        raise ValueError(f"the finite-difference step h must be positive, got {h}")


def _check_float_array(x: object, caller: str) -> None:
    """Refuse anything but a finite float64 array as the point of a gradient check."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{caller} expects a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float64:
        why = (
            f": in float32 a step of h = {DEFAULT_STEP:g} is lost in the rounding of the "
            "function's values (about 1e-7 relative), so even a correct gradient fails"
            if x.dtype == np.float32
            else ""
        )
        raise TypeError(
            f"{caller} expects x of dtype float64, got {x.dtype}{why}; pass x.astype(np.float64)"
        )
    check_finite(x, f"{caller}'s x")


def _scalar(value: object) -> float:
    """The value of the function being differentiated, which must be one number."""
    if np.ndim(value) != 0:
        raise TypeError(
            "the function must return a scalar (the loss), got an array of shape "
            f"{np.shape(value)}; reduce it first, e.g. with np.sum"
        )
    return float(value)
