"""backprop.book.plot_conv: the figures show the numbers and the cells the text says they do."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from backprop.book.plot_conv import (  # noqa: E402
    HIGHLIGHT,
    MARK,
    UNREACHED,
    draw_conv1d,
    draw_grid,
    draw_im2col,
    draw_pool_backward,
    draw_sliding_window,
    im2col_indices,
    plot_disagreements,
    plot_maps,
    sub,
)

pytestmark = [pytest.mark.ch09, pytest.mark.usefixtures("close_figures")]


def cells(ax, color):
    """(row, column) of the cells of a grid filled with ``color``, counted from 0."""
    return {
        (round(p.get_y()), round(p.get_x()))
        for p in ax.patches
        if isinstance(p, Rectangle) and to_hex(p.get_facecolor()) == color
    }


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_subscripts():
    assert sub(12) == "₁₂" and sub(3) == "₃"


def test_draw_grid_writes_three_figures_and_no_negative_zero():
    fig, ax = plt.subplots()
    draw_grid(np.array([[0.15, -0.0], [1234.5, -2.0]]), ax, title="t")
    assert texts(ax) == ["0.150", "0.00", "1.23e+03", "-2.00"]
    assert ax.get_title() == "t" and ax.get_xlabel() == "column" and ax.get_ylabel() == "row"
    with pytest.raises(ValueError, match="non-empty 2-D array"):
        draw_grid(np.zeros(3), ax)


def test_draw_conv1d_shows_the_forward_values_and_the_gradients():
    x, w, delta = np.array([1.0, 2.0, -1.0, 0.0, 3.0]), np.array([0.5, -1.0, 2.0]), np.ones(3)
    fig = draw_conv1d(x, w, delta, b=0.25)
    forward, backward = fig.axes
    z = [0.25 + sum(w[i] * x[p + i] for i in range(3)) for p in range(3)]
    dx = [sum(delta[p] * w[t - p] for p in range(3) if 0 <= t - p < 3) for t in range(5)]
    dw = [sum(delta[p] * x[p + i] for p in range(3)) for i in range(3)]
    assert [t for t in texts(forward) if t.startswith("z")] == [
        f"z{sub(p + 1)}\n{v:#.3g}" for p, v in enumerate(z)
    ]
    assert [t for t in texts(backward) if t.startswith("∂C/∂x")] == [
        f"∂C/∂x{sub(t + 1)}\n{v:#.3g}".replace(".\n", "\n") for t, v in enumerate(dx)
    ]
    legend = [t.get_text() for t in backward.get_legend().get_texts()]
    assert legend == [f"∂C/∂w{sub(i + 1)} = {v:#.3g}" for i, v in enumerate(dw)]
    for ax in fig.axes:  # one edge per (output, kernel position)
        assert sum(isinstance(c, Annotation) for c in ax.get_children()) == 9


def test_draw_conv1d_refuses_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match="delta must have shape \\(3,\\)"):
        draw_conv1d(np.ones(5), np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="1-D x and w"):
        draw_conv1d(np.ones(2), np.ones(3), np.ones(1))


def test_draw_sliding_window_shades_the_window_and_marks_unread_inputs():
    fig = draw_sliding_window(8, 3, 2, 0, (2, 3))
    window, output, counts = fig.axes
    assert cells(window, HIGHLIGHT) == {(r, c) for r in range(2, 5) for c in range(4, 7)}
    assert cells(output, HIGHLIGHT) == {(1, 2)}
    assert cells(counts, UNREACHED) == {(7, c) for c in range(8)} | {(r, 7) for r in range(8)}
    assert "row 8 and column 8 in none" in counts.get_title()
    brute = np.zeros((8, 8), int)
    for p in range(3):
        for q in range(3):
            brute[2 * p : 2 * p + 3, 2 * q : 2 * q + 3] += 1
    assert texts(counts) == [str(c) for c in brute.ravel()]


def test_draw_sliding_window_with_padding_reads_every_input():
    fig = draw_sliding_window(8, 3, 2, 1, (1, 1))
    window, output, counts = fig.axes
    assert len(output.get_xticks()) == 4  # floor((8 + 2 - 3) / 2) + 1
    assert cells(counts, UNREACHED) == set() and "all in one or more" in counts.get_title()
    assert window.get_yticklabels()[0].get_text() == "0"  # the padding row
    with pytest.raises(ValueError, match="position must lie in the 4 x 4 output"):
        draw_sliding_window(8, 3, 2, 1, (5, 1))


def test_im2col_indices_against_a_loop_over_windows():
    matrix = im2col_indices((4, 5), 3)
    numbers = np.arange(1, 21).reshape(4, 5)
    windows = [numbers[p : p + 3, q : q + 3].ravel() for p in range(2) for q in range(3)]
    np.testing.assert_array_equal(matrix, np.column_stack(windows))
    padded = im2col_indices((3, 3), 3, padding=1)
    assert padded.shape == (9, 9) and padded[0, 0] == 0 and padded[4, 4] == 5


def test_draw_im2col_marks_every_appearance_of_the_entry():
    fig = draw_im2col((4, 4), 3, column=2, entry=6)
    image, matrix = fig.axes
    assert cells(image, MARK) == {(1, 1)}
    assert cells(image, HIGHLIGHT) == {(r, c) for r in range(3) for c in range(1, 4)} - {(1, 1)}
    assert len(cells(matrix, MARK)) == 4 and "entry 6 is in 4 columns" in matrix.get_title()
    with pytest.raises(ValueError, match="column must be in 1..4"):
        draw_im2col((4, 4), 3, column=5, entry=1)


def test_draw_pool_backward_shades_the_winners():
    x = np.array([[1.0, 5.0, 0.0, 2.0], [3.0, 4.0, 7.0, 1.0]])
    grad_max = np.array([[0.0, 2.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0]])
    fig = draw_pool_backward(x, np.array([[2.0, -1.0]]), grad_max, np.full((2, 4), 0.25), 2)
    assert cells(fig.axes[0], HIGHLIGHT) == {(0, 1), (1, 2)}
    assert cells(fig.axes[2], HIGHLIGHT) == {(0, 1), (1, 2)}
    assert "1/4" in fig.axes[3].get_title()
    with pytest.raises(ValueError, match="one upstream number per 2x2 window"):
        draw_pool_backward(x, np.ones((2, 2)), grad_max, grad_max, 2)


def test_plot_maps_draws_every_map_on_one_symmetric_scale(rng):
    maps = rng.normal(size=(5, 3, 3))
    fig = plot_maps(maps, columns=4, titles=[f"k{i}" for i in range(5)], label="weight")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5 and shown[0].get_title() == "k0"
    limit = np.abs(maps).max()
    assert all(ax.images[0].get_clim() == (-limit, limit) for ax in shown)
    assert fig.axes[-1].get_ylabel() == "weight"  # the colour bar
    with pytest.raises(ValueError, match="count, height, width"):
        plot_maps(np.zeros((3, 3)))


def test_plot_maps_of_activations_start_at_zero_and_show_the_image_first(rng):
    maps = np.abs(rng.normal(size=(4, 8, 8)))
    image = rng.normal(size=(8, 8))
    fig = plot_maps(maps, columns=2, image=image, image_title="input")
    first, *rest = [ax for ax in fig.axes if ax.images]
    assert first.get_title() == "input" and first.images[0].get_cmap().name == "gray_r"
    assert len(rest) == 4
    assert all(ax.images[0].get_clim() == (0.0, maps.max()) for ax in rest)
    assert all(ax.images[0].get_cmap().name == "Reds" for ax in rest)


def test_plot_disagreements_colours_right_and_wrong(rng):
    fig = plot_disagreements(rng.uniform(size=(2, 8, 8)), [3, 5], [3, 6], [8, 5])
    first = fig.axes[0]
    colours = {t.get_text(): to_hex(t.get_color()) for t in first.texts}
    assert colours["CNN 3"] == "#2e7d32" and colours["MLP 8"] == UNREACHED.lower()
    with pytest.raises(ValueError, match="as many labels as images"):
        plot_disagreements(np.zeros((2, 8, 8)), [1], [1], [1])
