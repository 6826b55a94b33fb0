"""backprop.book.plot_graph.draw_graph: a box per node, the numbers the book promises, edges."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from backprop.book.plot_graph import draw_graph, node_name  # noqa: E402
from backprop.scalar import Value, topological_order  # noqa: E402

pytestmark = pytest.mark.ch02


def texts(ax):
    return [t.get_text() for t in ax.texts]


def boxes(ax):
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def test_one_box_per_node_with_value_and_gradient():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.backward()
    ax = draw_graph(f)
    assert len(boxes(ax)) == 5
    shown = texts(ax)
    for expected in ["x", "y", "z", "+", "×", "-12", "∇ -4", "∇ 3", "∇ 1"]:
        assert expected in shown
    plt.close("all")


def test_forward_only_drawing_has_no_gradients_and_local_labels_on_request():
    x = Value(3.0, label="x")
    f = x * x
    f.backward()
    ax = draw_graph(f, show_grad=False, show_local=True)
    shown = texts(ax)
    assert not any(t.startswith("∇") for t in shown)
    assert shown.count("3") == 3  # the value of x, and the local gradient on both edges
    plt.close("all")


def test_edges_skipping_columns_do_not_cross_boxes():
    x = Value(0.3, label="x")
    f = (x.exp() ** 2).tanh() * x  # x feeds the last gate, three columns away
    f.backward()
    ax = draw_graph(f)
    box_extents = [
        (b.get_x(), b.get_y(), b.get_x() + b.get_width(), b.get_y() + b.get_height())
        for b in boxes(ax)
    ]
    for line in ax.lines:
        xs, ys = line.get_xdata(), line.get_ydata()
        for x0, y0, x1, y1 in box_extents:
            mid_x, mid_y = (xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2
            assert not (x0 < mid_x < x1 and y0 < mid_y < y1)
    assert len(ax.lines) > 0  # the long edge was routed through waypoints
    plt.close("all")


def test_node_names():
    x = Value(2.0, label="x")
    assert node_name(x) == "x"
    assert node_name(Value(1.5)) == "1.5"
    q = x.sigmoid()
    assert node_name(q) == "σ"
    q.label = "q"
    assert node_name(q) == "q = σ"


def test_drawing_leaves_the_graph_unchanged():
    x, y = Value(1.0), Value(2.0)
    f = (x * y).relu() + x
    f.backward()
    before = [(n.data, n.grad) for n in topological_order(f)]
    draw_graph(f, title="t")
    assert [(n.data, n.grad) for n in topological_order(f)] == before
    plt.close("all")
