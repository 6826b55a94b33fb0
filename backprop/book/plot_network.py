"""Small fully connected networks drawn: units as circles, weights as arrows (chapter 3).

Used for one neuron, for a small network after its forward pass (values on the units) and
after its backward pass (dC/dz on the units, dC/dw on the edges), and for the "reversed
network" in which the backward pass runs from the output towards the input. Numbers are
written with :func:`format_number`: three significant figures and a true minus sign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch

from backprop.book.plot_graph import EDGE_COLOR, INPUT_FILL, NODE_FILL, OUTLINE_COLOR

Unit = tuple[int, int]  # (layer, index in the layer); layer 0 holds the inputs
Edge = tuple[int, int, int]  # (layer, unit it feeds, unit of layer - 1 it comes from)

EDGE_TEXT_COLOR = "#4a148c"
_RADIUS = 0.45
_LAYER_STEP = 2.8
_UNIT_STEP = 1.5
_STUB = 1.6  # length of the arrows that leave (or enter) the last layer


def format_number(value: float, digits: int = 3) -> str:
    """A number as a figure shows it: ``digits`` significant figures, minus sign "−".

    Whole numbers are written exactly (a weight of -2 is "−2", not "−2.00"); every other
    number keeps its trailing zeros, so 0.1 is "0.100" and -0.00095343 is "−0.000953".
    """
    if digits < 1:
        raise ValueError(f"format_number needs at least one significant digit, got {digits}")
    value = float(value)
    if value.is_integer() and abs(value) < 10**digits:
        text = f"{int(value)}"
    else:
        text = f"{value:#.{digits}g}".rstrip(".")
    return text.replace("-", "−")


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
    output_text: Mapping[int, str] | None = None,
    radius: float = _RADIUS,
    layer_titles: Sequence[str] | None = None,
    input_layer: bool = True,
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
    output_text : mapping from unit index to str, optional
        Text on a short arrow to the right of that unit of the last layer. The arrow
        leaves the network (what the unit delivers, e.g. its activation), or, when
        ``reverse``, enters it (what the backward pass starts from, e.g. dC/da).
    radius : float
        Radius of the unit circles (layers are 2.8 apart, units 1.5).
    layer_titles : sequence of str, optional
        A heading above each layer, inputs first (e.g. "inputs", "hidden", "output").
    input_layer : bool
        Whether layer 0 holds the network's inputs (drawn in light blue). False draws a
        part of a network, whose first layer is made of units like the others.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if any(size < 1 for size in layer_sizes) or len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes must list at least two positive sizes, got {layer_sizes}")
    if not 0.0 < radius < _UNIT_STEP / 2:
        raise ValueError(f"radius must lie between 0 and {_UNIT_STEP / 2}, got {radius}")
    unit_text, edge_text, unit_colors = unit_text or {}, edge_text or {}, unit_colors or {}
    output_text = output_text or {}
    last = len(layer_sizes) - 1
    outside = [k for k in output_text if not 0 <= k < layer_sizes[last]]
    if outside:
        raise ValueError(
            f"output_text names units {outside}, but the last layer has units "
            f"0 to {layer_sizes[last] - 1}"
        )
    if layer_titles is not None and len(layer_titles) != len(layer_sizes):
        raise ValueError(
            f"layer_titles needs one title per layer ({len(layer_sizes)}), got {len(layer_titles)}"
        )
    positions = unit_positions(layer_sizes)
    stub = _STUB if output_text else 0.0
    if ax is None:
        height = max(layer_sizes) * 1.4 + 0.6
        width = 2.6 * len(layer_sizes) + 0.6 + (1.2 if output_text else 0.0)
        _, ax = plt.subplots(figsize=(width, height))
    for layer in range(1, len(layer_sizes)):
        for k in range(layer_sizes[layer]):
            for j in range(layer_sizes[layer - 1]):
                edge = (layer, k, j)
                start, end = positions[(layer - 1, j)], positions[(layer, k)]
                # spread the labels of edges leaving one unit along the edges' length
                where = 0.25 + 0.5 * k / max(layer_sizes[layer] - 1, 1)
                _draw_arrow(
                    ax, start, end, edge_text.get(edge), where, reverse, fontsize - 1, radius
                )
    for k, text in output_text.items():
        x, y = positions[(last, k)]
        start, end = (x, y), (x + radius + stub, y)
        _draw_arrow(ax, start, end, text, 0.5, reverse, fontsize - 1, radius, outer=True)
    for unit, (x, y) in positions.items():
        fill = unit_colors.get(unit, INPUT_FILL if unit[0] == 0 and input_layer else NODE_FILL)
        ax.add_patch(Circle((x, y), radius, facecolor=fill, edgecolor=OUTLINE_COLOR, zorder=2))
        if unit in unit_text:
            ax.text(x, y, unit_text[unit], ha="center", va="center", fontsize=fontsize, zorder=3)
    width = last * _LAYER_STEP
    top = _UNIT_STEP * (max(layer_sizes) - 1) / 2
    headroom = 0.0
    for layer, heading in enumerate(layer_titles or []):
        ax.text(
            layer * _LAYER_STEP,
            top + radius + 0.2,
            heading,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            color=OUTLINE_COLOR,
            style="italic",
        )
        headroom = 0.45
    margin = radius + 0.45
    ax.set_xlim(-margin, width + margin + stub)
    ax.set_ylim(-top - radius - 0.35, top + radius + 0.35 + headroom)
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
    radius: float,
    outer: bool = False,
) -> None:
    """An arrow between two unit circles (backwards if ``reverse``), text at fraction where.

    ``where`` is measured along the visible part of the arrow, from the circle of the
    earlier layer. With ``outer`` the arrow's far end is open space, not a unit: only its
    start is kept clear of a circle, and the text sits above the arrow.
    """
    (x0, y0), (x1, y1) = start, end
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    tail = (x0 + ux * radius, y0 + uy * radius)
    head = (x1, y1) if outer else (x1 - ux * radius, y1 - uy * radius)
    if reverse:
        tail, head = head, tail
    ax.add_patch(
        FancyArrowPatch(tail, head, arrowstyle="-|>", mutation_scale=11, color=EDGE_COLOR, lw=1.1)
    )
    if text:
        # measured along the visible part of the edge, from the unit of the earlier layer
        (sx, sy), (ex, ey) = (head, tail) if reverse else (tail, head)
        tx, ty = sx + (ex - sx) * where, sy + (ey - sy) * where
        if outer:
            ty += 0.08  # above the arrow, which stays visible
        ax.text(
            tx,
            ty,
            text,
            ha="center",
            va="bottom" if outer else "center",
            fontsize=fontsize,
            color=EDGE_TEXT_COLOR,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            zorder=3,
        )
