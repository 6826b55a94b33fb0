"""Exercises that check themselves: a reader's function against an independent answer.

Every chapter has at least one exercise that asks for a function (a gate's backward pass,
a layer's gradient). The chapter gives the function's skeleton, which returns None, and a
cell that calls :func:`check_answer`; the reader fills in the skeleton and runs that cell
again. The expected values come from something that does not give the answer away, usually
central differences (:mod:`backprop.gradcheck`). The book's own solution is a folded cell
that runs the same check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def check_answer(
    answer: Callable, expected: Callable, cases: Sequence[tuple], rtol: float = 1e-6
) -> bool:
    """Compare ``answer(*case)`` with ``expected(*case)`` for every case; print the verdict.

    Parameters
    ----------
    answer
        The reader's function. While it still returns None (the skeleton), nothing is
        compared and the verdict says so.
    expected
        A function of the same arguments giving the right values (numbers, arrays, or
        tuples of them).
    cases
        The argument tuples to try.
    rtol
        The relative tolerance of the comparison (central differences agree with an exact
        derivative to about 1e-9).

    Returns
    -------
    bool
        True if every case agrees; False if the answer is not written yet.

    Raises
    ------
    AssertionError
        For the first case where the answer differs, with both values.
    """
    name = getattr(answer, "__name__", "the answer")
    if _unanswered(answer(*cases[0])):
        print(f"{name}: not answered yet")
        return False
    for case in cases:
        got, want = answer(*case), expected(*case)
        if not _close(got, want, rtol):
            raise AssertionError(f"{name}{case} gave {got}, but the right value is {want}")
    print(f"{name}: right on all {len(cases)} cases")
    return True


def _unanswered(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, tuple | list) and any(v is None for v in value)


def _close(got: object, want: object, rtol: float) -> bool:
    if isinstance(want, tuple | list):
        if not isinstance(got, tuple | list) or len(got) != len(want):
            return False
        return all(_close(g, w, rtol) for g, w in zip(got, want, strict=True))
    got_array, want_array = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got_array.shape != want_array.shape:
        return False
    scale = max(float(np.max(np.abs(want_array), initial=0.0)), 1.0)
    return bool(np.allclose(got_array, want_array, rtol=rtol, atol=rtol * scale))
