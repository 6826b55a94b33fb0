"""Chapter 4's operation counts: naive recursion grows exponentially with depth, the
backward pass linearly. The expected counts are closed forms worked out by hand here, not
by the code under test.
"""

import numpy as np
import pytest

from backprop.book.recursion import evaluations, naive_deltas, stored_deltas

pytestmark = pytest.mark.ch04


def naive_count(width: int, depth: int) -> int:
    # A delta k layers below the top: T_0 = 1, T_k = width (T_(k-1) + 1) + 1,
    # so T_k = (2 width^(k+1) - width - 1) / (width - 1); every layer has `width` deltas.
    return width * sum((2 * width ** (k + 1) - width - 1) // (width - 1) for k in range(depth))


def stored_count(width: int, depth: int) -> int:
    # width at the top, then width^2 (W^T delta) + width (times f') per lower layer
    return depth * width + (depth - 1) * width**2


def network(rng, widths):
    weights = [
        rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)
    ]
    slopes = [rng.uniform(0.0, 0.25, size=n) for n in widths[1:]]
    return weights, slopes, rng.normal(size=widths[-1])


@pytest.mark.parametrize("width,depth", [(2, 1), (2, 5), (3, 4), (3, 8), (4, 3)])
def test_counts_match_the_closed_forms(rng, width, depth):
    weights, slopes, dc_da = network(rng, [width] * (depth + 1))
    naive, naive_mults = naive_deltas(weights, slopes, dc_da)
    stored, stored_mults = stored_deltas(weights, slopes, dc_da)
    assert naive_mults == naive_count(width, depth)
    assert stored_mults == stored_count(width, depth)
    for a, b in zip(naive, stored, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_naive_grows_exponentially_and_stored_linearly(rng):
    naive, stored = [], []
    for depth in range(1, 9):
        weights, slopes, dc_da = network(rng, [3] * (depth + 1))
        naive.append(naive_deltas(weights, slopes, dc_da)[1])
        stored.append(stored_deltas(weights, slopes, dc_da)[1])
    ratios = np.array(naive[1:]) / np.array(naive[:-1])
    assert np.all(ratios > 2.9)  # tends to the width, 3
    assert len(set(np.diff(stored))) == 1  # constant increments: linear


def test_deltas_match_a_direct_matrix_backward_pass(rng):
    widths = [2, 3, 4, 2]
    weights, slopes, dc_da = network(rng, widths)
    deltas, _ = stored_deltas(weights, slopes, dc_da)
    delta = slopes[-1] * dc_da
    np.testing.assert_allclose(deltas[-1], delta)
    for layer in (1, 0):
        delta = (weights[layer + 1].T @ delta) * slopes[layer]
        np.testing.assert_allclose(deltas[layer], delta, rtol=1e-12)


def test_mismatched_layers_are_rejected(rng):
    weights, slopes, dc_da = network(rng, [2, 3, 2])
    with pytest.raises(ValueError, match=r"dC/da must have shape \(2,\), got \(3,\)"):
        naive_deltas(weights, slopes, np.ones(3))
    with pytest.raises(ValueError, match=r"layer 2: W has 2 inputs, previous layer has 3 units"):
        stored_deltas([weights[0], np.ones((2, 2))], slopes, dc_da)


@pytest.mark.parametrize("width,depth", [(2, 3), (3, 5), (4, 4)])
def test_a_top_term_is_evaluated_once_per_path(rng, width, depth):
    # From a unit D layers below the top to one top unit, a path picks one of `width` units
    # in each of the D - 1 layers between: width^(D-1) paths.
    weights, slopes, dc_da = network(rng, [width] * (depth + 1))
    trace = []
    naive_deltas(weights, slopes, dc_da, trace)
    assert len(trace) == sum(evaluations(trace).values())
    for layer in range(1, depth):
        below = depth - layer
        assert evaluations(trace, root=(layer, 1))[(depth, 1)] == width ** (below - 1)
    everywhere = sum(width**d for d in range(depth))  # itself, then width^(D-1) per unit
    assert evaluations(trace)[(depth, width)] == everywhere


def test_the_trace_lists_calls_in_the_order_they_start(rng):
    weights, slopes, dc_da = network(rng, [2, 2, 2, 2])
    trace = []
    naive_deltas(weights, slopes, dc_da, trace)
    assert trace[:7] == [
        (0, 1, 1),
        (1, 2, 1),
        (2, 3, 1),
        (2, 3, 2),
        (1, 2, 2),
        (2, 3, 1),
        (2, 3, 2),
    ]
    assert len(trace) == 22  # 7 + 7 for layer 1, 3 + 3 for layer 2, 1 + 1 on top
    with pytest.raises(ValueError, match=r"no call of the error term \(4, 1\) at depth 0"):
        evaluations(trace, root=(4, 1))
