"""backprop.book.plot_shapes: matrices drawn to scale, the right squares shaded, shapes refused."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from backprop.book.plot_shapes import (  # noqa: E402
    HIGHLIGHT,
    INNER_COLOR,
    LAYER_EQUATIONS,
    Block,
    check_equation,
    draw_equation,
    draw_layer_shapes,
    layer_equation,
)

pytestmark = [pytest.mark.ch06, pytest.mark.usefixtures("close_figures")]

M, N_IN, N_OUT = 5, 3, 4  # the chapter's layer: every size different, so a swap shows


def outlines(ax):
    """The outline of every block, keyed by its label."""
    return {p.get_gid(): p for p in ax.patches if p.get_gid() is not None}


def squares(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() is None]


def shaded_squares(ax, outline):
    """(row, col) of the shaded squares inside one block's outline, counted from 0."""
    x0, y0 = outline.get_x(), outline.get_y()
    top = y0 + outline.get_height()
    found = set()
    for square in squares(ax):
        x, y = square.get_x(), square.get_y()
        inside = x0 <= x < x0 + outline.get_width() and y0 <= y < top
        if inside and to_hex(square.get_facecolor()) == HIGHLIGHT:
            found.add((round(top - y - 1), round(x - x0)))
    return found


def layer_axes(kind, n=2, i=3, j=1):
    fig = draw_layer_shapes(M, N_IN, N_OUT, [kind], n=n, i=i, j=j)
    return fig.axes[0]


@pytest.mark.parametrize("kind", LAYER_EQUATIONS)
def test_every_block_is_drawn_to_scale_one_square_per_number(kind):
    ax = layer_axes(kind)
    _, result, terms, _ = layer_equation(kind, M, N_IN, N_OUT)
    blocks = [result, *(b for term in terms for b in term)]
    drawn = outlines(ax)
    assert len(drawn) == len({b.label for b in blocks})
    for block in blocks:
        rows, cols = block.shape
        assert (drawn[block.label].get_height(), drawn[block.label].get_width()) == (rows, cols)
    assert len(squares(ax)) == sum(b.shape[0] * b.shape[1] for b in blocks)
    assert ax.get_aspect() == 1.0  # a square is square on the page


def test_forward_shading_is_a_row_of_the_input_times_a_column_of_the_weights():
    ax = layer_axes("forward", n=2, i=3)
    drawn = outlines(ax)
    assert shaded_squares(ax, drawn["$Z^{(l)}$"]) == {(1, 2)}
    assert shaded_squares(ax, drawn["$A^{(l-1)}$"]) == {(1, c) for c in range(N_IN)}
    assert shaded_squares(ax, drawn[r"$W^{(l)\mathsf{T}}$"]) == {(r, 2) for r in range(N_IN)}
    assert shaded_squares(ax, drawn[r"$\mathbf{1}$"]) == {(1, 0)}
    assert shaded_squares(ax, drawn[r"$b^{(l)\mathsf{T}}$"]) == {(0, 2)}


def test_weight_gradient_shading_runs_over_all_m_examples():
    ax = layer_axes("weights", i=3, j=1)
    drawn = outlines(ax)
    assert shaded_squares(ax, drawn[r"$\partial C/\partial W^{(l)}$"]) == {(2, 0)}
    assert shaded_squares(ax, drawn[r"$\Delta^{(l)\mathsf{T}}$"]) == {(2, c) for c in range(M)}
    assert shaded_squares(ax, drawn["$A^{(l-1)}$"]) == {(r, 0) for r in range(M)}


def test_the_sizes_a_product_sums_over_are_red_and_the_shapes_are_printed():
    ax = layer_axes("weights")
    red = [t.get_text() for t in ax.texts if to_hex(t.get_color()) == INNER_COLOR]
    assert red == ["$m$", "$m$"]  # above Delta^T and left of A: the m examples
    texts = [t.get_text() for t in ax.texts]
    assert {"(4, 3)", "(4, 5)", "(5, 3)"} <= set(texts)
    assert "shaded: $\\partial C / \\partial W_{31}$, a sum over the $m$ examples" in texts


@pytest.mark.parametrize(
    ("rows", "inches"), [(["forward"], 0.28), ([("weights", "bias")], 0.26), (["back"], 0.28)]
)
def test_the_chapter_figures_fit_the_page(rows, inches):
    fig = draw_layer_shapes(M, N_IN, N_OUT, rows, n=2, i=3, j=1, inches_per_square=inches)
    width, height = fig.get_size_inches()
    assert 6.5 <= width <= 9.0 and height < 5.0


def test_side_by_side_equations_share_one_scale():
    ax = draw_layer_shapes(M, N_IN, N_OUT, [("weights", "bias")]).axes[0]
    drawn = outlines(ax)
    assert drawn[r"$\partial C/\partial b^{(l)}$"].get_height() == N_OUT
    assert drawn[r"$\partial C/\partial W^{(l)}$"].get_height() == N_OUT


A = Block("$A$", (5, 3), ("m", "n"))
W_T = Block("$W^T$", (3, 4), ("n", "k"))
Z = Block("$Z$", (5, 4), ("m", "k"))


@pytest.mark.parametrize(
    ("result", "terms", "joins", "message"),
    [
        (Z, [[A, Block("$W$", (4, 3), ("k", "n"))]], None, r"\$A\$ \(5, 3\) times \$W\$ \(4, 3\)"),
        (
            Block("$Z$", (4, 5), ("k", "m")),
            [[A, W_T]],
            None,
            r"\(5, 4\), but \$Z\$ has shape \(4, 5\)",
        ),
        (Z, [], None, "at least one term"),
        (Z, [[A, W_T], [Z]], ["*"], "joins must give one of"),
        (Z, [[A, W_T], [Z]], [], "joins must give one of"),
    ],
    ids=["inner-sizes", "result-shape", "no-terms", "unknown-join", "missing-join"],
)
def test_shapes_that_do_not_chain_are_refused(result, terms, joins, message):
    with pytest.raises(ValueError, match=message):
        check_equation(result, terms, joins)
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=message):
        draw_equation(result, terms, ax, joins=joins)


def test_an_elementwise_product_needs_equal_shapes_and_is_drawn():
    _, ax = plt.subplots()
    draw_equation(Z, [[A, W_T], [Z]], ax, joins=["⊙"])
    assert "⊙" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match=r"\$A\$ has shape \(5, 3\)"):
        check_equation(Z, [[A, W_T], [A]], ["⊙"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shape": (0, 3)}, "shape must be two ints >= 1, got"),
        ({"shape": (2.0, 3)}, "shape must be two ints >= 1, got"),
        ({"kind": "bias"}, "kind must be one of"),
        ({"highlight": (5, None)}, "highlighted row 5 is outside 0..4"),
        ({"highlight": (None, -1)}, "highlighted column -1 is outside 0..2"),
    ],
)
def test_bad_blocks_are_refused(kwargs, message):
    arguments = {"label": "$A$", "shape": (5, 3), "dims": ("m", "n")} | kwargs
    with pytest.raises(ValueError, match=message):
        Block(**arguments)


def test_bad_layer_requests_are_refused():
    with pytest.raises(ValueError, match="n must be in 1..5, got 6"):
        layer_equation("forward", M, N_IN, N_OUT, n=6)
    with pytest.raises(ValueError, match="j must be in 1..3, got 0"):
        layer_equation("weights", M, N_IN, N_OUT, j=0)
    with pytest.raises(ValueError, match="kind must be one of"):
        layer_equation("loss", M, N_IN, N_OUT)
