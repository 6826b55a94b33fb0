"""Small fully connected networks drawn: units as circles, weights as arrows (chapter 3).

Used for one neuron, for a small network after its forward pass (values on the units) and
after its backward pass (dC/dz on the units, dC/dw on the edges), and for the "reversed
network" in which the backward pass runs from the output towards the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch

from backprop.book.plot_graph import EDGE_COLOR, INPUT_FILL, NODE_FILL, OUTLINE_COLOR

Unit = tuple[int, int]  # (layer, index in the layer); layer 0 holds the inputs
Edge = tuple[int, int, int]  # (layer, unit it feeds, unit of layer - 1 it comes from)

_RADIUS = 0.45
_LAYER_STEP = 2.8
_UNIT_STEP = 1.5


def unit_positions(layer_sizes: Sequence[int]) -> dict[Unit, tuple[float, float]]:
    """Centre of every unit: layers left to right, units top to bottom, each layer centred."""
    positions = {}
    for layer, size in enumerate(layer_sizes):
        for unit in range(size):
            positions[(layer, unit)] = (layer * _LAYER_STEP, _UNIT_STEP * ((size - 1) / 2 - unit))
    return positions


def draw_network(
    layer_sizes: Sequence[int],
    unit_text: Mapping[Unit, str] | None = None,
    edge_text: Mapping[Edge, str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    reverse: bool = False,
    unit_colors: Mapping[Unit, str] | None = None,
    fontsize: float = 10.0,
) -> Axes:
    """Draw a fully connected network with text on its units and on its edges.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, inputs first, e.g. ``[2, 2, 2]``.
    unit_text : mapping from (layer, unit) to str
        Text inside each unit (e.g. its value, or its dC/dz). Units not listed stay empty.
    edge_text : mapping from (layer, k, j) to str
        Text on the edge from unit j of layer - 1 to unit k of layer (e.g. a weight).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        The axes title.
    reverse : bool
        Point the arrows from the output back to the input, as the backward pass runs.
    unit_colors : mapping from (layer, unit) to a colour, optional
        Fill colours; inputs default to light blue, other units to light yellow.
    fontsize : float
        Size of the text; edge text is one point smaller.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if any(size < 1 for size in layer_sizes) or len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes must list at least two positive sizes, got {layer_sizes}")
    positions = unit_positions(layer_sizes)
    if ax is None:
        height = max(layer_sizes) * 1.4 + 0.6
        _, ax = plt.subplots(figsize=(2.6 * len(layer_sizes) + 0.6, height))
    unit_text, edge_text, unit_colors = unit_text or {}, edge_text or {}, unit_colors or {}
    for layer in range(1, len(layer_sizes)):
        for k in range(layer_sizes[layer]):
            for j in range(layer_sizes[layer - 1]):
                edge = (layer, k, j)
                start, end = positions[(layer - 1, j)], positions[(layer, k)]
                # spread the labels of edges leaving one unit along the edges' length
                where = 0.3 + 0.4 * k / max(layer_sizes[layer] - 1, 1)
                _draw_arrow(ax, start, end, edge_text.get(edge), where, reverse, fontsize - 1)
    for unit, (x, y) in positions.items():
        fill = unit_colors.get(unit, INPUT_FILL if unit[0] == 0 else NODE_FILL)
        ax.add_patch(Circle((x, y), _RADIUS, facecolor=fill, edgecolor=OUTLINE_COLOR, zorder=2))
        if unit in unit_text:
            ax.text(x, y, unit_text[unit], ha="center", va="center", fontsize=fontsize, zorder=3)
    width = (len(layer_sizes) - 1) * _LAYER_STEP
    top = _UNIT_STEP * (max(layer_sizes) - 1) / 2
    ax.set_xlim(-0.9, width + 0.9)
    ax.set_ylim(-top - 0.8, top + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax


def _draw_arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    text: str | None,
    where: float,
    reverse: bool,
    fontsize: float,
) -> None:
    """An arrow between two unit circles (backwards if ``reverse``), text at fraction where."""
    (x0, y0), (x1, y1) = start, end
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    tail = (x0 + ux * _RADIUS, y0 + uy * _RADIUS)
    head = (x1 - ux * _RADIUS, y1 - uy * _RADIUS)
    if reverse:
        tail, head = head, tail
    ax.add_patch(
        FancyArrowPatch(tail, head, arrowstyle="-|>", mutation_scale=11, color=EDGE_COLOR, lw=1.1)
    )
    if text:
        tx, ty = x0 + (x1 - x0) * where, y0 + (y1 - y0) * where
        ax.text(
            tx,
            ty,
            text,
            ha="center",
            va="center",
            fontsize=fontsize,
            color="#4a148c",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            zorder=3,
        )
