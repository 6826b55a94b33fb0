"""backprop.book.plot_recursion: the call tree's layout and the drawing of both halves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from backprop.book.plot_recursion import delta_label, draw_recursion, tree_layout  # noqa: E402
from backprop.book.recursion import naive_deltas  # noqa: E402

pytestmark = pytest.mark.ch04

# delta^(1)_1 calls delta^(2)_1 and delta^(2)_2; then delta^(2)_1 on its own
TRACE = [(0, 1, 1), (1, 2, 1), (1, 2, 2), (0, 2, 1)]


def test_callers_sit_over_their_callees_and_layers_in_rows():
    positions, edges = tree_layout(TRACE)
    assert edges == [(0, 1), (0, 2)]
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = positions
    assert x0 == pytest.approx((x1 + x2) / 2)
    assert x1 < x2 < x3
    assert y0 > y1 == y2 == y3  # layer 2 is one row below layer 1, whoever called it


def test_a_trace_must_start_at_depth_zero_and_not_skip_a_caller():
    with pytest.raises(ValueError, match="starts with a call at depth 0"):
        tree_layout([(1, 2, 1)])
    with pytest.raises(ValueError, match="call 1 is at depth 2 but its caller is missing"):
        tree_layout([(0, 1, 1), (2, 3, 1)])


def test_one_circle_per_unit_and_per_call(rng):
    widths = [2, 2, 2]
    weights = [rng.normal(size=(2, 2)) for _ in widths]
    slopes = [rng.uniform(size=2) for _ in widths]
    trace = []
    naive_deltas(weights, slopes, rng.normal(size=2), trace)
    ax = draw_recursion(widths, trace, notes={(3, 1): "7×"}, titles=("left", "right"))
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 6 + len(trace) == 28
    shown = [t.get_text() for t in ax.texts]
    assert shown.count(delta_label((3, 1))) == 1 + 7
    assert {"7×", "left", "right"} <= set(shown)
    plt.close("all")


def test_units_outside_the_widths_are_refused():
    with pytest.raises(ValueError, match=r"units \[\(1, 3\)\] outside layers of widths \[2, 2\]"):
        draw_recursion([2, 2], [(0, 1, 3)])
    with pytest.raises(ValueError, match=r"units \[\(3, 1\)\] outside"):
        draw_recursion([2, 2], [(0, 3, 1)])
    with pytest.raises(ValueError, match="positive layer sizes"):
        draw_recursion([2, 0], TRACE)


def test_labels_use_the_books_notation():
    assert delta_label((3, 1)) == r"$\delta^{(3)}_{1}$"
