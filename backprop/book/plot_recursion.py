"""The backward pass's error terms beside the naive recursion's calls, drawn (chapter 4).

:func:`draw_recursion` draws, on the left, the error terms of a layered network as the
backward pass computes them, each once, with an edge from delta^(l)_j to every
delta^(l+1)_k it reads; on the right, every call that
:func:`backprop.book.recursion.naive_deltas` records in its ``trace``, hung under the call
that asked for it, so a term evaluated seven times appears seven times. Both halves put
layer l in row l (the first layer on top) and give each unit its own colour, so the right
half reads as the left one unrolled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle

from backprop.book.plot_graph import EDGE_COLOR, OUTLINE_COLOR

Call = tuple[int, int, int]  # (depth in the call tree, layer from 1, unit from 1)
Unit = tuple[int, int]  # (layer from 1, unit from 1)

# one hue per layer, one shade per unit of the layer
_FILLS = (
    ("#bbdefb", "#64b5f6", "#e3f2fd"),
    ("#ffe0b2", "#ffb74d", "#fff3e0"),
    ("#c8e6c9", "#81c784", "#e8f5e9"),
    ("#f8bbd0", "#f06292", "#fce4ec"),
)
_RADIUS = 0.36
_ROW_STEP = 1.5  # between the rows of two layers
_LEAF_STEP = 0.95  # between two neighbouring leaves of the call tree
_ROOT_GAP = 0.6  # extra room between the trees of two calls made for their own sake
_UNIT_STEP = 2.4  # between two units of a layer in the left half
_SPLIT = 2.0  # from the left half to the call tree


def unit_color(unit: Unit) -> str:
    """The fill of an error term's node: one hue per layer, one shade per unit."""
    layer, j = unit
    shades = _FILLS[(layer - 1) % len(_FILLS)]
    return shades[(j - 1) % len(shades)]


def delta_label(unit: Unit) -> str:
    """The error term's symbol in the book's notation, as matplotlib mathtext."""
    layer, j = unit
    return rf"$\delta^{{({layer})}}_{{{j}}}$"


def tree_layout(trace: Sequence[Call]) -> tuple[list[tuple[float, float]], list[tuple[int, int]]]:
    """Positions of the calls of a trace and the (caller, callee) pairs between them.

    Leaves sit ``_LEAF_STEP`` apart from left to right in the order of the calls, each caller
    centred over its callees; a call of layer l sits in row l, at height -1.5 (l - 1). The
    trees of two calls made for their own sake (depth 0) are set a little further apart.

    Returns
    -------
    positions : list of (x, y)
        One per entry of ``trace``.
    edges : list of (int, int)
        Indices into ``trace`` of each caller and its callee.
    """
    if not trace or trace[0][0] != 0:
        raise ValueError("a trace starts with a call at depth 0")
    children: list[list[int]] = [[] for _ in trace]
    stack: list[int] = []
    for i, (depth, _, _) in enumerate(trace):
        if depth > len(stack):
            raise ValueError(f"call {i} is at depth {depth} but its caller is missing")
        del stack[depth:]
        if stack:
            children[stack[-1]].append(i)
        stack.append(i)
    x = [0.0] * len(trace)
    next_leaf = 0.0
    for i, (depth, _, _) in enumerate(trace):  # leaves, left to right
        if depth == 0 and i > 0:
            next_leaf += _ROOT_GAP
        if not children[i]:
            x[i] = next_leaf
            next_leaf += _LEAF_STEP
    for i in reversed(range(len(trace))):  # callees come after their callers
        if children[i]:
            x[i] = sum(x[c] for c in children[i]) / len(children[i])
    positions = [(x[i], -_ROW_STEP * (layer - 1)) for i, (_, layer, _) in enumerate(trace)]
    edges = [(i, c) for i in range(len(trace)) for c in children[i]]
    return positions, edges


def draw_recursion(
    widths: Sequence[int],
    trace: Sequence[Call],
    ax: Axes | None = None,
    notes: Mapping[Unit, str] | None = None,
    titles: tuple[str, str] = ("backward pass", "naive recursion"),
    fontsize: float = 9,
) -> Axes:
    """Draw the error terms once each (left) and the naive recursion's calls (right).

    Parameters
    ----------
    widths
        The number of units in layers 1, 2, ...; the trace's layers and units must fit.
    trace
        The calls, as :func:`backprop.book.recursion.naive_deltas` records them.
    ax
        Where to draw; a new figure if None.
    notes
        A short text beside a unit of the left half (e.g. how often the naive
        recursion evaluates it).
    titles
        The headings of the two halves.
    fontsize
        The size of the labels in the nodes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not widths or any(n < 1 for n in widths):
        raise ValueError(f"widths must list positive layer sizes, got {list(widths)}")
    outside = [
        (layer, j)
        for _, layer, j in trace
        if not (1 <= layer <= len(widths) and 1 <= j <= widths[layer - 1])
    ]
    if outside:
        raise ValueError(f"the trace names units {outside} outside layers of widths {list(widths)}")
    notes = notes or {}
    widest = max(widths)
    stored = {
        (layer, j): (_UNIT_STEP * ((widest - n) / 2 + j - 1), -_ROW_STEP * (layer - 1))
        for layer, n in enumerate(widths, start=1)
        for j in range(1, n + 1)
    }
    left_width = _UNIT_STEP * (widest - 1) + (0.8 if notes else 0.0)
    calls, call_edges = tree_layout(trace)
    calls = [(x + left_width + _SPLIT, y) for x, y in calls]
    right = max(x for x, _ in calls)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(0.42 * (right + 1.0), 9.0), 0.75 * len(widths) + 0.9))
    for (layer, j), (x0, y0) in stored.items():
        for k in range(1, widths[layer] + 1) if layer < len(widths) else ():
            _line(ax, (x0, y0), stored[(layer + 1, k)])
        _node(ax, x0, y0, (layer, j), fontsize)
        if (layer, j) in notes:
            ax.text(
                x0 + _RADIUS + 0.05,
                y0 - _RADIUS,
                notes[(layer, j)],
                ha="left",
                va="center",
                fontsize=fontsize - 1,
                color=OUTLINE_COLOR,
                zorder=3,
            )
    for caller, callee in call_edges:
        _line(ax, calls[caller], calls[callee])
    for (x, y), (_, layer, j) in zip(calls, trace, strict=True):
        _node(ax, x, y, (layer, j), fontsize)
    split = left_width + _SPLIT / 2
    bottom = -_ROW_STEP * (len(widths) - 1) - _RADIUS - 0.2
    ax.plot([split, split], [bottom, _RADIUS + 0.2], color="#b0bec5", linewidth=0.8, ls=":")
    top = _RADIUS + 0.35
    for x, text in ((left_width / 2, titles[0]), ((split + _SPLIT / 2 + right) / 2, titles[1])):
        ax.text(x, top, text, ha="center", va="bottom", fontsize=fontsize + 1)
    for layer in range(1, len(widths) + 1):
        ax.text(
            -_RADIUS - 0.25,
            -_ROW_STEP * (layer - 1),
            f"layer {layer}",
            ha="right",
            va="center",
            fontsize=fontsize - 1,
            color=OUTLINE_COLOR,
        )
    ax.set_xlim(-_RADIUS - 1.6, right + _RADIUS + 0.15)
    ax.set_ylim(bottom - 0.05, top + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _line(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.plot([start[0], end[0]], [start[1], end[1]], color=EDGE_COLOR, linewidth=1.0, zorder=1)


def _node(ax: Axes, x: float, y: float, unit: Unit, fontsize: float) -> None:
    ax.add_patch(
        Circle((x, y), _RADIUS, facecolor=unit_color(unit), edgecolor=OUTLINE_COLOR, zorder=2)
    )
    ax.text(x, y, delta_label(unit), ha="center", va="center", fontsize=fontsize, zorder=3)
