"""Computational graphs of :class:`~backprop.scalar.Value` nodes, drawn (chapters 1-4).

Graphs are drawn with matplotlib alone (no graphviz), in layers from the inputs to the
output, left to right (or top to bottom): every node one layer after its latest input, a
leaf just before its first use unless the caller places it. Within each layer the nodes
are ordered so that as few edges cross as the heuristic can find (none, for the book's
graphs), and every gap is measured from the text it has to hold, so a drawing is as
compact as its labels allow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.textpath import text_to_path

from backprop.scalar import Value, topological_order

VALUE_COLOR = "#1b5e20"
GRAD_COLOR = "#c62828"
LOCAL_COLOR = "#4a148c"
EDGE_COLOR = "#607d8b"
INPUT_FILL = "#e3f2fd"  # leaves and inputs
NODE_FILL = "#fff8e1"  # computed nodes and units
OUTLINE_COLOR = "#37474f"
OP_SYMBOLS = {"*": "×", "-": "−", "/": "÷", "neg": "−(·)", "sigmoid": "σ", "relu": "ReLU"}
_SUPERSCRIPT = str.maketrans("-0123456789.", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹·")

# Lengths in ems of the font size: they scale with the type.
_LINE = 1.3  # line height inside a box
_PAD = 0.9  # horizontal padding of a box (both sides together)
_GAP = 2.0  # the least room between two layers, for the arrowheads
_SPACING = 1.2  # room between neighbours in a layer
_MARGIN = 0.4  # room around an edge label
Key = object  # a node (its id) or an edge's waypoint in a layer ("edge", index, layer)


def draw_graph(
    root: Value,
    ax: Axes | None = None,
    show_grad: bool = True,
    show_local: bool = False,
    show_flow: bool = False,
    title: str | None = None,
    fontsize: float = 10.0,
    layers: Mapping[Value, int] | None = None,
    direction: str = "right",
    max_width: float = 9.0,
) -> Axes:
    """Draw the computational graph that produced ``root``.

    Each node is a box with its name (a leaf's label, or the operation's symbol), its
    value (green) and, if ``show_grad``, its gradient (red). An edge that skips layers
    runs through the layers it crosses, in a place of its own, so it never passes behind
    a box. Numbers are shown to three significant figures.

    Parameters
    ----------
    root
        The output node; every node it depends on is drawn.
    ax
        The axes to draw on; if None, a new figure sized to the graph, at most
        ``max_width`` inches wide (the type shrinks if the graph needs more). Text keeps
        its size in points on a given axes, so it should be about as large as the graph.
    show_grad
        Print each node's ``grad`` under its value.
    show_local
        Label each edge with the local derivative d(child)/d(parent).
    show_flow
        Label each edge with what the backward pass sends along it, ``local × upstream
        = sent`` (in red), and write the gradient of a node that feeds several others as
        the sum of what comes back, in the order the backward pass adds it.
    title
        The axes title.
    fontsize
        The size of the text in the boxes (edge labels are one point smaller).
    layers
        The layer of chosen nodes, counted from 0 at the inputs: e.g. ``{y: 1}`` moves a
        leaf one layer in, between the edges of another, so that no edges cross. The
        other nodes are placed as usual.
    direction
        ``"right"`` (inputs on the left) or ``"down"`` (inputs at the top), which suits a
        graph of many layers whose edges carry long labels.
    max_width
        The widest a new figure may be, in inches.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If ``layers`` puts a node before one of its inputs or names a node that is not in
        the graph, or ``direction`` is neither "right" nor "down".
    """
    if direction not in ("right", "down"):
        raise ValueError(f'draw_graph: direction must be "right" or "down", got {direction!r}')
    nodes = list(topological_order(root))
    layer = _layers(nodes, layers or {})
    edges = [
        (parent, node, local, k)
        for node in nodes
        for k, (parent, local) in enumerate(zip(node.parents, node.local_grads, strict=True))
    ]
    groups = _order(nodes, edges, layer)

    sent: dict[int, list[float]] = defaultdict(list)  # what each node receives, edge by edge
    for parent, child, local, _ in reversed(edges):  # the backward pass's order
        sent[id(parent)].append(local * child.grad)
    lines = {id(n): _box_lines(n, show_grad, sent[id(n)] if show_flow else []) for n in nodes}
    labels = [_edge_label(local, child.grad, show_local, show_flow) for _, child, local, _ in edges]

    layout = _Layout(fontsize, direction == "down", groups, layer, edges, lines, labels)
    scale = 1.0
    if ax is None:
        scale = min(1.0, max_width * 72.0 / layout.width)
        title_room = 2.2 * fontsize if title else 0.0
        size = (layout.width * scale / 72.0, (layout.height + title_room) * scale / 72.0)
        fig = plt.figure(figsize=(round(size[0], 1), round(size[1], 1)))  # the same everywhere
        ax = fig.add_axes((0.0, 0.0, 1.0, layout.height / (layout.height + title_room)))
    color = GRAD_COLOR if show_flow else LOCAL_COLOR
    for i, (parent, child, _, k) in enumerate(edges):
        bend = (0.25 if k == 0 else -0.25) if _repeats(child, parent) else 0.0
        layout.draw_edge(ax, i, id(parent), id(child), bend, fontsize * scale, color)
    for node in nodes:
        fill = NODE_FILL if node.parents else INPUT_FILL
        layout.draw_box(ax, id(node), lines[id(node)], fill, fontsize * scale)
    ax.set_xlim(0.0, layout.width)
    ax.set_ylim(-layout.height, 0.0)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=(fontsize + 2) * scale)
    return ax


def node_name(node: Value) -> str:
    """A leaf's label (or its value), or the operation's symbol with the label if any."""
    if not node.parents:
        return node.label or f"{node.data:g}"
    symbol = OP_SYMBOLS.get(node.op, node.op)
    if node.op.startswith("**"):  # a power: x**2 is shown as (·)²
        symbol = "(·)" + node.op[2:].translate(_SUPERSCRIPT)
    return f"{node.label} = {symbol}" if node.label else symbol


def _number(value: float) -> str:
    """Three significant figures (a whole number exactly) and a true minus sign."""
    text = f"{value:g}" if float(value).is_integer() and abs(value) < 1e3 else f"{value:#.3g}"
    return text.rstrip(".").replace("-", "−")


def _box_lines(node: Value, show_grad: bool, parts: list[float]) -> list[tuple[str, str, str]]:
    """(text, colour, weight) of each line in a node's box."""
    lines = [(node_name(node), "black", "bold"), (_number(node.data), VALUE_COLOR, "normal")]
    if show_grad:
        lines.append((f"∇ {_number(node.grad)}", GRAD_COLOR, "normal"))
    if len(parts) > 1:  # a fork: its gradient is the sum of what comes back along its edges
        terms = _number(parts[0]) + "".join(
            f" − {_number(-p)}" if p < 0 else f" + {_number(p)}" for p in parts[1:]
        )
        lines.append((f"= {terms}", GRAD_COLOR, "normal"))
    return lines


def _edge_label(local: float, upstream: float, show_local: bool, show_flow: bool) -> str | None:
    if show_flow:
        return f"{_number(local)} × {_number(upstream)}\n= {_number(local * upstream)}"
    return _number(local) if show_local else None


def _layers(nodes: list[Value], fixed: Mapping[Value, int]) -> dict[int, int]:
    """Layer of each node: one after its latest parent; a leaf just before its first use."""
    known = {id(node) for node in nodes}
    for node in fixed:
        if id(node) not in known:
            raise ValueError(f"draw_graph: layers names {node_name(node)!r}, not in the graph")
    chosen = {id(node): c for node, c in fixed.items()}
    layer: dict[int, int] = {}
    children: dict[int, list[Value]] = defaultdict(list)
    for node in nodes:
        least = 1 + max((layer[id(p)] for p in node.parents), default=-1)
        if chosen.get(id(node), least) < least:
            raise ValueError(
                f"draw_graph: {node_name(node)!r} cannot be in layer {chosen[id(node)]}, "
                f"before its input in layer {least - 1}"
            )
        layer[id(node)] = chosen.get(id(node), least)
        for parent in node.parents:
            children[id(parent)].append(node)
    for node in nodes:
        if not node.parents and children[id(node)] and id(node) not in chosen:
            layer[id(node)] = min(layer[id(c)] for c in children[id(node)]) - 1
    first = min(layer.values())
    return {key: c - first for key, c in layer.items()}


def _order(nodes: list[Value], edges: list[tuple], layer: dict[int, int]) -> list[list[Key]]:
    """The items of every layer in order across it, with as few edge crossings as found.

    An edge that skips layers gets a waypoint in each layer it passes. The order starts
    from the nodes' topological order, then alternates barycentre sweeps (each item moved
    to the mean position of its neighbours in the layer just visited) with swaps of
    neighbouring items that remove crossings, and keeps the best order seen.
    """
    groups: list[list[Key]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in nodes:
        groups[layer[id(node)]].append(id(node))
    links: list[tuple[Key, Key]] = []  # segments from one layer to the next
    for i, (parent, child, _, _) in enumerate(edges):
        chain: list[Key] = [id(parent)]
        for c in range(layer[id(parent)] + 1, layer[id(child)]):
            chain.append(("edge", i, c))
            groups[c].append(chain[-1])
        chain.append(id(child))
        links += zip(chain[:-1], chain[1:], strict=True)
    before: dict[Key, list[Key]] = defaultdict(list)
    after: dict[Key, list[Key]] = defaultdict(list)
    between: dict[int, list[tuple[Key, Key]]] = defaultdict(list)
    layer_of = {key: c for c, group in enumerate(groups) for key in group}
    for a, b in links:
        after[a].append(b)
        before[b].append(a)
        between[layer_of[a]].append((a, b))

    def place() -> dict[Key, float]:
        return {key: i - (len(g) - 1) / 2 for g in groups for i, key in enumerate(g)}

    def crossings() -> int:
        """Pairs of segments between the same two layers whose ends swap order."""
        at = place()
        return sum(
            (at[a] - at[c]) * (at[b] - at[d]) < 0
            for segments in between.values()
            for i, (a, b) in enumerate(segments)
            for c, d in segments[i + 1 :]
        )

    def barycentre(key: Key, neighbours: list[Key], at: dict[Key, float]) -> float:
        return sum(at[m] for m in neighbours) / len(neighbours) if neighbours else at[key]

    best = (crossings(), [list(g) for g in groups])
    for sweep in range(8):
        forwards = sweep % 2 == 0
        for c in range(len(groups)) if forwards else reversed(range(len(groups))):
            at = place()
            side = before if forwards else after
            groups[c].sort(key=lambda key, at=at, side=side: barycentre(key, side[key], at))
        _swap_neighbours(groups, crossings)
        count = crossings()
        if count < best[0]:
            best = (count, [list(g) for g in groups])
    return best[1]


def _swap_neighbours(groups: list[list[Key]], crossings: Callable[[], int]) -> None:
    """Swap neighbouring items of a layer while that removes crossings."""
    count = crossings()
    improved = True
    while improved and count:
        improved = False
        for group in groups:
            for i in range(len(group) - 1):
                group[i], group[i + 1] = group[i + 1], group[i]
                new = crossings()
                if new < count:
                    count, improved = new, True
                else:
                    group[i], group[i + 1] = group[i + 1], group[i]


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of the widest line of ``text`` set at ``size``."""
    font = FontProperties(size=size, weight="bold" if bold else "normal")
    return max(
        text_to_path.get_text_width_height_descent(line, font, ismath=False)[0]
        for line in text.split("\n")
    )


class _Layout:
    """Where everything goes, in points of the unscaled type (the axes' data units).

    Coordinates are worked out as (along, across): along the layers, from the inputs to
    the output, and across them. Every item of a layer (a box, or an edge passing through)
    has the layer's full thickness along, so an edge runs straight from one layer's far
    side to the next layer's near side, and edges that keep their order do not cross.
    """

    def __init__(self, fontsize, down, groups, layer, edges, lines, labels) -> None:
        em, small = fontsize, fontsize - 1.0
        self.em, self.down, self.labels = em, down, labels
        self.label_at: dict[int, Key] = {}  # an edge's label sits on its first waypoint
        extent: dict[Key, tuple[float, float]] = {}  # (width, height) of every item
        for key, text in lines.items():
            extent[key] = (
                max(_text_width(t, em, w == "bold") for t, _, w in text) + _PAD * em,
                len(text) * _LINE * em + 0.5 * em,
            )
        self.label_extent: dict[int, tuple[float, float]] = {}
        gaps = [_GAP * em] * len(groups)
        crowd: list[list[float]] = [[] for _ in groups]  # labels between a layer and the next
        for i, (parent, child, _, _) in enumerate(edges):
            first, last = layer[id(parent)], layer[id(child)]
            for c in range(first + 1, last):
                extent[("edge", i, c)] = (em, em)
            if labels[i] is None:
                continue
            size = (
                _text_width(labels[i], small) + 2 * _MARGIN * em,
                (labels[i].count("\n") + 1) * _LINE * small + 2 * _MARGIN * em,
            )
            self.label_extent[i] = size
            if last - first > 1:
                self.label_at[i] = ("edge", i, first + 1)
                extent[self.label_at[i]] = size
            else:
                crowd[first].append(size[1] if down else size[0])
        # Room for the labels and the arrowheads. Going down, labels that may meet are
        # staggered along their edges, so a gap with several holds two in a row.
        self.crowded = [down and len(sizes) > 1 for sizes in crowd]
        for c, sizes in enumerate(crowd):
            if sizes:
                room = max(sizes) * (2.3 if self.crowded[c] else 1.0) + 2.0 * em
                gaps[c] = max(gaps[c], room)
        along = {key: (h, w) if down else (w, h) for key, (w, h) in extent.items()}
        thickness = [max(along[key][0] for key in group) for group in groups]
        spacing = _SPACING * em
        if not down and self.label_extent:  # labels of edges that fan out must not meet
            lowest = min(extent[key][1] for key in lines)
            spacing = max(spacing, 2 * max(h for _, h in self.label_extent.values()) - lowest)
        self.centre: dict[Key, tuple[float, float]] = {}
        self.thickness = {}
        self.across = {key: along[key][1] for key in along}
        position = 0.5 * em
        breadth = 0.0
        for c, group in enumerate(groups):
            middle = position + thickness[c] / 2
            total = sum(self.across[key] for key in group) + spacing * (len(group) - 1)
            breadth = max(breadth, total)
            edge = -total / 2
            for key in group:
                self.centre[key] = (middle, edge + self.across[key] / 2)
                self.thickness[key] = thickness[c]
                edge += self.across[key] + spacing
            position += thickness[c] + (gaps[c] if c < len(groups) - 1 else 0.5 * em)
        breadth += 1.0 * em
        for key, (a, b) in self.centre.items():
            self.centre[key] = (a, b + breadth / 2)
        self.width, self.height = (breadth, position) if down else (position, breadth)
        self.layer = {key: c for c, group in enumerate(groups) for key in group}
        self.placed: list[tuple[float, float, float, float]] = []  # labels drawn so far

    def xy(self, along: float, across: float) -> tuple[float, float]:
        """Data coordinates of a point given along and across the layers."""
        return (across, -along) if self.down else (along, -across)

    def draw_box(self, ax: Axes, key: Key, lines: list, fill: str, fontsize: float) -> None:
        """A node's box: name, value, gradient (and, at a fork, the sum that makes it)."""
        along, across = self.centre[key]
        size = (self.thickness[key], self.across[key])
        width, height = (size[1], size[0]) if self.down else size
        x, y = self.xy(along, across)
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle=f"round,pad=0,rounding_size={0.5 * self.em}",
                facecolor=fill,
                edgecolor=OUTLINE_COLOR,
                linewidth=1.0,
                zorder=2,
            )
        )
        top = y + _LINE * self.em * (len(lines) - 1) / 2
        for i, (text, color, weight) in enumerate(lines):
            ax.text(
                x,
                top - i * _LINE * self.em,
                text,
                ha="center",
                va="center",
                color=color,
                fontsize=fontsize,
                fontweight=weight,
                zorder=3,
            )

    def draw_edge(
        self, ax: Axes, i: int, start: Key, end: Key, bend: float, fontsize: float, color: str
    ) -> None:
        """An arrow from the far side of one box, through its waypoints, to another box."""
        points = [self._side(start, +1)]
        for c in range(self.layer[start] + 1, self.layer[end]):
            points += [self._side(("edge", i, c), -1), self._side(("edge", i, c), +1)]
        points.append(self._side(end, -1))
        for a, b in zip(points[:-2], points[1:-1], strict=True):
            ax.plot([a[0], b[0]], [a[1], b[1]], color=EDGE_COLOR, linewidth=1.2, zorder=1)
        ax.add_patch(
            FancyArrowPatch(
                points[-2],
                points[-1],
                connectionstyle=f"arc3,rad={bend}",
                arrowstyle="-|>",
                mutation_scale=1.2 * fontsize,
                color=EDGE_COLOR,
                linewidth=1.2,
                zorder=1,
            )
        )
        if self.labels[i] is None:
            return
        if i in self.label_at:
            x, y = self.xy(*self.centre[self.label_at[i]])
        else:
            x, y = self._free_spot(i, start, points[-2], points[-1], bend)
        ax.text(
            x,
            y,
            self.labels[i],
            ha="center",
            va="center",
            fontsize=fontsize - 1,
            color=color,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )

    def _free_spot(self, i, start, a, b, bend) -> tuple[float, float]:
        """A point on the segment a-b (or its arc) whose label overlaps no earlier label."""
        w, h = self.label_extent[i]
        (x0, y0), (x1, y1) = a, b
        spots = []
        crowded = self.crowded[self.layer[start]]
        for t in (0.28, 0.7, 0.5) if crowded else (0.5,):
            x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            if bend:  # the middle of the arc, then clear of it
                x, y = x + bend * (y1 - y0) / 2, y - bend * (x1 - x0) / 2
                if self.down:
                    x -= (w / 2 + 0.3 * self.em) * (1 if bend > 0 else -1)
                else:
                    y -= (h / 2 + 0.3 * self.em) * (1 if bend > 0 else -1)
            spots.append((x, y))
            if bend:
                break
        for x, y in spots:
            rect = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if not any(_overlap(rect, other) for other in self.placed):
                self.placed.append(rect)
                return x, y
        x, y = spots[0]
        self.placed.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        return x, y

    def _side(self, key: Key, sign: int) -> tuple[float, float]:
        """The middle of an item's near (sign -1) or far (+1) side, seen from the inputs."""
        along, across = self.centre[key]
        return self.xy(along + sign * self.thickness[key] / 2, across)


def _overlap(r: tuple[float, ...], s: tuple[float, ...]) -> bool:
    return r[0] < s[2] and s[0] < r[2] and r[1] < s[3] and s[1] < r[3]


def _repeats(child: Value, parent: Value) -> bool:
    """True when ``parent`` is more than one operand of ``child`` (as in x * x)."""
    return sum(p is parent for p in child.parents) > 1
