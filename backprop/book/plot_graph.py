"""Computational graphs of :class:`~backprop.scalar.Value` nodes, drawn (chapters 1-4).

Graphs are drawn with matplotlib alone (no graphviz), left to right: the
inputs in the first column, every node one column right of its latest input.
"""

from __future__ import annotations

from collections import defaultdict

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from backprop.scalar import Value, topological_order

VALUE_COLOR = "#1b5e20"
GRAD_COLOR = "#c62828"
EDGE_COLOR = "#607d8b"
INPUT_FILL = "#e3f2fd"  # leaves and inputs
NODE_FILL = "#fff8e1"  # computed nodes and units
OUTLINE_COLOR = "#37474f"
OP_SYMBOLS = {"*": "×", "-": "−", "/": "÷", "neg": "−x", "sigmoid": "σ", "relu": "ReLU"}

_COLUMN_STEP = 2.2
_ROW_STEP = 1.25
_BOX_WIDTH = 1.5
_BOX_HEIGHT = 0.95


def draw_graph(
    root: Value,
    ax: Axes | None = None,
    show_grad: bool = True,
    show_local: bool = False,
    title: str | None = None,
    fontsize: float = 10.0,
) -> Axes:
    """Draw the computational graph that produced ``root``.

    Each node is a box with its name (a leaf's label, or the operation's
    symbol), its value (green) and, if ``show_grad``, its gradient (red).
    An edge that skips columns is routed through the columns it crosses, so it
    never passes behind a box.

    Parameters
    ----------
    root
        The output node; every node it depends on is drawn.
    ax
        The axes to draw on; a new figure sized to the graph if None.
    show_grad
        Print each node's ``grad`` under its value.
    show_local
        Label each edge with the local derivative d(child)/d(parent).
    title
        The axes title.
    fontsize
        The size of the text in the boxes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    nodes = list(topological_order(root))
    column = _columns(nodes)
    edges = [
        (parent, node, local, k)
        for node in nodes
        for k, (parent, local) in enumerate(zip(node.parents, node.local_grads, strict=True))
    ]
    row, n_rows = _rows(nodes, edges, column)
    position = {
        key: (column_of * _COLUMN_STEP, -r * _ROW_STEP) for key, (column_of, r) in row.items()
    }
    if ax is None:
        n_cols = max(column.values()) + 1
        width = min(1.45 * n_cols + 0.6, 12.0)
        _, ax = plt.subplots(figsize=(width, 0.95 * n_rows + 0.9))
    for i, (parent, child, local, k) in enumerate(edges):
        waypoints = [
            position[("edge", i, c)] for c in range(column[id(parent)] + 1, column[id(child)])
        ]
        repeated = _repeats(child, parent)
        _draw_edge(
            ax,
            position[id(parent)],
            waypoints,
            position[id(child)],
            local if show_local else None,
            (0.25 if k == 0 else -0.25) if repeated else 0.0,
            fontsize,
        )
    for node in nodes:
        _draw_box(ax, node, position[id(node)], show_grad, fontsize)
    xs = [position[id(n)][0] for n in nodes]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - _BOX_WIDTH / 2 - 0.1, max(xs) + _BOX_WIDTH / 2 + 0.1)
    ax.set_ylim(min(ys) - _BOX_HEIGHT / 2 - 0.25, max(ys) + _BOX_HEIGHT / 2 + 0.25)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return ax


def node_name(node: Value) -> str:
    """A leaf's label (or its value), or the operation's symbol with the label if any."""
    if not node.parents:
        return node.label or f"{node.data:g}"
    symbol = OP_SYMBOLS.get(node.op, node.op)
    return f"{node.label} = {symbol}" if node.label else symbol


def _columns(nodes: list[Value]) -> dict[int, int]:
    """Column of each node: one right of its latest parent; a leaf just left of its first use."""
    column: dict[int, int] = {}
    children: dict[int, list[Value]] = defaultdict(list)
    for node in nodes:
        column[id(node)] = 1 + max((column[id(p)] for p in node.parents), default=-1)
        for parent in node.parents:
            children[id(parent)].append(node)
    for node in nodes:
        if not node.parents and children[id(node)]:
            column[id(node)] = min(column[id(c)] for c in children[id(node)]) - 1
    return column


def _rows(
    nodes: list[Value], edges: list[tuple], column: dict[int, int], sweeps: int = 6
) -> tuple[dict[object, tuple[int, float]], int]:
    """Place every node, and a waypoint of every edge in each column it crosses, in a row.

    Within a column the items are ordered by the mean row of their neighbours
    (a few sweeps of the barycentre heuristic), then centred on row 0.
    Returns {key: (column, row)} with nodes keyed by ``id`` and waypoints by
    ``("edge", edge_index, column)``, and the largest number of rows in a column.
    """
    neighbours: dict[object, list[object]] = defaultdict(list)
    groups: dict[int, list[object]] = defaultdict(list)
    for node in nodes:
        groups[column[id(node)]].append(id(node))
    for i, (parent, child, _, _) in enumerate(edges):
        chain: list[object] = [id(parent)]
        for c in range(column[id(parent)] + 1, column[id(child)]):
            chain.append(("edge", i, c))
            groups[c].append(chain[-1])
        chain.append(id(child))
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            neighbours[a].append(b)
            neighbours[b].append(a)
    row = {key: float(i) for group in groups.values() for i, key in enumerate(group)}
    for _ in range(sweeps):
        for group in groups.values():
            group.sort(
                key=lambda key: sum(row[m] for m in neighbours[key]) / max(len(neighbours[key]), 1)
            )
            offset = (len(group) - 1) / 2
            for i, key in enumerate(group):
                row[key] = i - offset
    placed = {key: (c, row[key]) for c, group in groups.items() for key in group}
    return placed, max(len(group) for group in groups.values())


def _draw_box(
    ax: Axes, node: Value, xy: tuple[float, float], show_grad: bool, fontsize: float
) -> None:
    x, y = xy
    leaf = not node.parents
    ax.add_patch(
        FancyBboxPatch(
            (x - _BOX_WIDTH / 2, y - _BOX_HEIGHT / 2),
            _BOX_WIDTH,
            _BOX_HEIGHT,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=INPUT_FILL if leaf else NODE_FILL,
            edgecolor=OUTLINE_COLOR,
            linewidth=1.0,
            zorder=2,
        )
    )
    lines = [(node_name(node), "black", "bold"), (f"{node.data:.4g}", VALUE_COLOR, "normal")]
    if show_grad:
        lines.append((f"∇ {node.grad:.4g}", GRAD_COLOR, "normal"))
    step = _BOX_HEIGHT / (len(lines) + 0.4)
    top = y + step * (len(lines) - 1) / 2
    for i, (text, color, weight) in enumerate(lines):
        ax.text(
            x,
            top - i * step,
            text,
            ha="center",
            va="center",
            color=color,
            fontsize=fontsize,
            fontweight=weight,
            zorder=3,
        )


def _repeats(child: Value, parent: Value) -> bool:
    """True when ``parent`` is more than one operand of ``child`` (as in x * x)."""
    return sum(p is parent for p in child.parents) > 1


def _draw_edge(
    ax: Axes,
    start: tuple[float, float],
    waypoints: list[tuple[float, float]],
    end: tuple[float, float],
    local: float | None,
    bend: float,
    fontsize: float,
) -> None:
    """Draw an arrow from one box, through the waypoints, to the left side of another."""
    points = [(start[0] + _BOX_WIDTH / 2, start[1])]
    for x, y in waypoints:
        points += [(x - _BOX_WIDTH / 2, y), (x + _BOX_WIDTH / 2, y)]
    points.append((end[0] - _BOX_WIDTH / 2, end[1]))
    style = {
        "arrowstyle": "-|>",
        "mutation_scale": 12,
        "color": EDGE_COLOR,
        "linewidth": 1.2,
        "zorder": 1,
    }
    for a, b in zip(points[:-2], points[1:-1], strict=True):
        ax.plot([a[0], b[0]], [a[1], b[1]], color=EDGE_COLOR, linewidth=1.2, zorder=1)
    ax.add_patch(
        FancyArrowPatch(points[-2], points[-1], connectionstyle=f"arc3,rad={bend}", **style)
    )
    if local is not None:
        (x0, y0), (x1, y1) = points[0], points[1]
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 + bend * 0.6,
            f"{local:.3g}",
            ha="center",
            va="center",
            fontsize=fontsize - 1,
            color="#4a148c",
            zorder=3,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )
