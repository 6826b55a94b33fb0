"""backprop.book.assembly's figures: a matrix as a grid of its numbers, and delta a^T assembled.

The gradients themselves (loops and matrices) are tested in tests/test_network.py.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop.book.assembly import draw_matrix, plot_outer_product, three_figures  # noqa: E402

pytestmark = pytest.mark.ch05


def texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.15, "0.150"), (-0.15, "-0.150"), (0.08694, "0.0869"), (123.4, "123"), (2.0, "2.00")],
)
def test_three_significant_figures_keep_their_zeros(value, shown):
    assert three_figures(value) == shown


def test_draw_matrix_writes_every_entry_row_by_row():
    ax = draw_matrix(np.array([[1.0, -0.5], [0.25, 0.0]]), row_labels=["r1", "r2"])
    assert texts(ax) == ["1.00", "-0.500", "0.250", "0.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["r1", "r2"]
    plt.close("all")


def test_draw_matrix_draws_a_vector_as_a_column():
    ax = draw_matrix(np.array([0.5, 0.25, 0.125]))
    assert texts(ax) == ["0.500", "0.250", "0.125"]
    assert ax.images[0].get_array().shape == (3, 1)
    plt.close("all")


def test_draw_matrix_rejects_what_is_not_a_matrix():
    with pytest.raises(ValueError, match=r"a vector or a matrix, got shape \(2, 2, 2\)"):
        draw_matrix(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"got shape \(0, 1\)"):
        draw_matrix(np.zeros(0))


def test_outer_product_cells_are_delta_i_times_a_j():
    # by hand: (0.5, -2) times (0.1, 0.3, 1) row by row
    fig = plot_outer_product(np.array([0.5, -2.0]), np.array([0.1, 0.3, 1.0]), layer="L")
    corner, row, column, product = fig.axes
    assert texts(product) == ["0.0500", "0.150", "0.500", "-0.200", "-0.600", "-2.00"]
    assert texts(row) == ["0.100", "0.300", "1.00"]
    assert texts(column) == ["0.500", "-2.00"]
    assert [t.get_text() for t in column.get_yticklabels()] == [
        "$\\delta^{(L)}_{1}$",
        "$\\delta^{(L)}_{2}$",
    ]
    assert row.get_xticklabels()[0].get_text() == "$a^{(L-1)}_{1}$"
    assert "W^{(L)}_{ij}" in product.get_xlabel()
    plt.close(fig)


def test_outer_product_names_a_numbered_layer_and_the_one_before():
    fig = plot_outer_product(np.ones(2), np.ones(2), layer="3")
    assert fig.axes[1].get_xticklabels()[1].get_text() == "$a^{(2)}_{2}$"
    plt.close(fig)


def test_outer_product_needs_two_vectors():
    with pytest.raises(ValueError, match=r"two vectors, got shapes \(2, 1\) and \(3,\)"):
        plot_outer_product(np.ones((2, 1)), np.ones(3))
