"""backprop.book.convolution: the 1-D correlations and the 2-D loops against independent oracles.

NumPy's own np.correlate and np.convolve, SciPy's correlate2d and central differences share
no code with the helpers. Tolerances: exact sums in another order agree to about 1e-13
relative; central differences (backprop.gradcheck) to check_gradient's 1e-6.
"""

import numpy as np
import pytest
from scipy.signal import correlate2d

from backprop.book.convolution import (
    conv2d_backward_by_loops,
    conv2d_by_loops,
    correlate_full,
    correlate_valid,
)
from backprop.gradcheck import check_gradient

pytestmark = pytest.mark.ch09


@pytest.mark.parametrize("n,k", [(5, 3), (9, 4), (3, 3), (6, 1)])
def test_correlate_valid_is_numpys_valid_correlation(rng, n, k):
    x, kernel = rng.normal(size=n), rng.normal(size=k)
    got = correlate_valid(x, kernel)
    assert got.shape == (n - k + 1,)
    np.testing.assert_allclose(got, np.correlate(x, kernel, mode="valid"), rtol=1e-13)


@pytest.mark.parametrize("n,k", [(3, 3), (7, 4), (2, 5), (4, 1)])
def test_correlate_full_with_the_flipped_kernel_is_a_convolution(rng, n, k):
    g, kernel = rng.normal(size=n), rng.normal(size=k)
    got = correlate_full(g, kernel)
    assert got.shape == (n + k - 1,)
    np.testing.assert_allclose(got, np.convolve(g, kernel, mode="full"), rtol=1e-13)


def test_correlate_full_is_the_transpose_of_correlate_valid(rng):
    """<correlate_valid(x, k), g> = <x, correlate_full(g, k)>: the input gradient."""
    x, kernel = rng.normal(size=11), rng.normal(size=4)
    g = rng.normal(size=8)
    left = np.dot(correlate_valid(x, kernel), g)
    assert left == pytest.approx(np.dot(x, correlate_full(g, kernel)), rel=1e-13)


def test_the_two_correlations_are_the_gradients_of_a_1d_convolution(rng):
    x, kernel, delta = rng.normal(size=9), rng.normal(size=3), rng.normal(size=7)

    def cost_of_x(x_):
        return np.dot(delta, correlate_valid(x_, kernel))

    def cost_of_kernel(k_):
        return np.dot(delta, correlate_valid(x, k_))

    assert check_gradient(cost_of_x, x.copy(), correlate_full(delta, kernel)).passed
    assert check_gradient(cost_of_kernel, kernel.copy(), correlate_valid(x, delta)).passed


def test_conv2d_by_loops_is_scipys_correlation_summed_over_channels(rng):
    x, W, b = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    z = conv2d_by_loops(x, W, b)
    expected = np.array(
        [
            [
                sum(correlate2d(x[n, c], W[o, c], mode="valid") for c in range(3)) + b[o]
                for o in range(4)
            ]
            for n in range(2)
        ]
    )
    np.testing.assert_allclose(z, expected, rtol=1e-12, atol=1e-13)


def test_conv2d_by_loops_strides_and_pads(rng):
    """A stride keeps every s-th output of the stride-1 correlation of the padded input."""
    x, W = rng.normal(size=(1, 2, 7, 7)), rng.normal(size=(3, 2, 3, 3))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dense = conv2d_by_loops(padded, W, None)
    strided = conv2d_by_loops(x, W, None, stride=(2, 2), padding=(1, 1))
    assert strided.shape == (1, 3, 4, 4)  # floor((7 + 2 - 3) / 2) + 1
    np.testing.assert_allclose(strided, dense[:, :, ::2, ::2], rtol=1e-13)


CASES = [  # x shape, W shape, stride, padding
    ((2, 2, 5, 5), (3, 2, 3, 3), (1, 1), (0, 0)),
    ((1, 2, 6, 7), (2, 2, 3, 2), (2, 1), (1, 2)),
    ((2, 1, 8, 8), (2, 1, 3, 3), (2, 2), (0, 0)),  # a stride that drops row 8 and column 8
]


@pytest.mark.parametrize("x_shape,W_shape,stride,padding", CASES)
def test_conv2d_backward_by_loops_matches_central_differences(
    rng, x_shape, W_shape, stride, padding
):
    x, W, b = rng.normal(size=x_shape), rng.normal(size=W_shape), rng.normal(size=W_shape[0])
    upstream = rng.normal(size=conv2d_by_loops(x, W, b, stride, padding).shape)
    dx, dW, db = conv2d_backward_by_loops(x, W, upstream, stride, padding)

    def cost(x_, W_, b_):
        return np.sum(upstream * conv2d_by_loops(x_, W_, b_, stride, padding))

    assert check_gradient(lambda x_: cost(x_, W, b), x.copy(), dx).passed
    assert check_gradient(lambda W_: cost(x, W_, b), W.copy(), dW).passed
    assert check_gradient(lambda b_: cost(x, W, b_), b.copy(), db).passed


def test_inputs_that_no_window_reads_get_a_zero_gradient(rng):
    x, W = rng.normal(size=(1, 1, 8, 8)), rng.normal(size=(1, 1, 3, 3))
    upstream = rng.normal(size=(1, 1, 3, 3))  # windows at rows 1-3, 3-5, 5-7
    dx, _, _ = conv2d_backward_by_loops(x, W, upstream, stride=(2, 2))
    assert np.all(dx[0, 0, 7, :] == 0) and np.all(dx[0, 0, :, 7] == 0)
    assert np.all(dx[0, 0, :7, :7] != 0)
