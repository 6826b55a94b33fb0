"""Matrix products drawn to scale, one square per number (chapter 6).

A batched layer is a few matrix products, and a slip in one of them is nearly always a slip
in a shape. :func:`draw_equation` draws an equation such as Z = A W^T + 1 b^T with every
matrix as a grid of equal squares, an (r, c) matrix as r rows of c squares, so that the inner
sizes of each product visibly match (they are written in red) and the result visibly has the
outer ones. Shaded squares show how one entry is made: a row of the left factor meets a
column of the right one. :func:`draw_layer_shapes` draws the equations of one layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from backprop.book.plot_graph import INPUT_FILL, NODE_FILL, OUTLINE_COLOR

FILLS = {"data": INPUT_FILL, "weight": NODE_FILL, "error": "#fbe3e1", "ones": "#eeeeee"}
HIGHLIGHT = "#f4a261"  # the squares that make the shaded entry of the result
INNER_COLOR = "#c62828"  # the size a product sums over
OPERATORS = ("+", "⊙")  # how two terms may be joined: added, or multiplied entry by entry
_LABEL_ROOM = 1.7  # left of every matrix, for its number of rows
_OPERATOR_WIDTH = 1.4  # "=", "+" or "⊙"
_ABOVE = 1.3  # the number of columns, above a matrix
_TITLE = 2.6  # two lines of title above that
_BELOW = 2.4  # the symbol and the shape, under a matrix


@dataclass(frozen=True)
class Block:
    """One matrix of a drawn equation.

    Parameters
    ----------
    label : str
        Its symbol, as matplotlib math text (``r"$A$"``).
    shape : (int, int)
        Rows and columns; the block is drawn as that many squares.
    dims : (str, str)
        The names of the two sizes, as math without dollars (``("m", "n_{l-1}")``).
    kind : str
        "data", "weight", "error" or "ones": the fill colour.
    highlight : (int or None, int or None), optional
        The shaded squares, counted from 0: ``(row, None)`` a row, ``(None, col)`` a column,
        ``(row, col)`` one square, ``(None, None)`` all of them.
    """

    label: str
    shape: tuple[int, int]
    dims: tuple[str, str]
    kind: str = "data"
    highlight: tuple[int | None, int | None] | None = None

    def __post_init__(self) -> None:
        if len(self.shape) != 2 or not all(isinstance(s, int) and s >= 1 for s in self.shape):
            raise ValueError(f"{self.label}: shape must be two ints >= 1, got {self.shape}")
        if self.kind not in FILLS:
            raise ValueError(f"{self.label}: kind must be one of {list(FILLS)}, got {self.kind!r}")
        for index, size, what in zip(
            self.highlight or (None, None), self.shape, ("row", "column"), strict=True
        ):
            if index is not None and not 0 <= index < size:
                raise ValueError(
                    f"{self.label}: highlighted {what} {index} is outside 0..{size - 1}"
                )

    def shaded(self, row: int, col: int) -> bool:
        """True if the square (row, col) is highlighted."""
        if self.highlight is None:
            return False
        return all(
            want in (None, got) for want, got in zip(self.highlight, (row, col), strict=True)
        )


def check_equation(
    result: Block, terms: Sequence[Sequence[Block]], joins: Sequence[str] | None = None
) -> None:
    """Raise ValueError unless every term is a product of chaining shapes, shaped like the result.

    ``joins`` are the operators between consecutive terms, "+" (the default) or "⊙"; both
    need the two sides to have one shape.
    """
    if not terms or any(len(term) == 0 for term in terms):
        raise ValueError("an equation needs at least one term, and every term a factor")
    if joins is not None and (len(joins) != len(terms) - 1 or set(joins) - set(OPERATORS)):
        raise ValueError(
            f"joins must give one of {OPERATORS} between each two of the {len(terms)} terms, "
            f"got {list(joins)}"
        )
    for term in terms:
        for left, right in zip(term[:-1], term[1:], strict=True):
            if left.shape[1] != right.shape[0]:
                raise ValueError(
                    f"{left.label} {left.shape} times {right.label} {right.shape}: "
                    "the inner sizes differ"
                )
        if (term[0].shape[0], term[-1].shape[1]) != result.shape:
            raise ValueError(
                f"{' '.join(b.label for b in term)} has shape "
                f"{(term[0].shape[0], term[-1].shape[1])}, but {result.label} has shape "
                f"{result.shape}"
            )


def draw_equation(
    result: Block,
    terms: Sequence[Sequence[Block]],
    ax: Axes,
    origin: tuple[float, float] = (0.0, 0.0),
    title: tuple[str, str] | None = None,
    joins: Sequence[str] | None = None,
) -> tuple[float, float, float, float]:
    """Draw ``result = term + term ...``, each term a product of blocks, one unit per square.

    The blocks are centred on the line y = origin[1], from x = origin[0]; ``title`` (a
    heading and a line under it) goes above them. Returns the bounding box (x0, y0, x1, y1)
    of what is drawn, in the same units, not counting the length of the title.
    """
    check_equation(result, terms, joins)
    joins = ["+"] * (len(terms) - 1) if joins is None else list(joins)
    x, y = origin
    x = _draw_block(ax, result, x + _LABEL_ROOM, y)
    for number, term in enumerate(terms):
        _operator(ax, joins[number - 1] if number else "=", x + _OPERATOR_WIDTH / 2, y)
        x += _OPERATOR_WIDTH
        for k, block in enumerate(term):
            x = _draw_block(ax, block, x + _LABEL_ROOM, y, (k > 0, k < len(term) - 1))
    height = max(block.shape[0] for block in [result, *(b for t in terms for b in t)])
    top = y + height / 2 + _ABOVE
    if title is not None:
        ax.text(origin[0], top + 1.4, title[0], va="bottom", fontsize=11, fontweight="bold")
        ax.text(origin[0], top + 0.3, title[1], va="bottom", fontsize=10)
        top += _TITLE
    return origin[0], y - height / 2 - _BELOW, x, top


def _draw_block(
    ax: Axes, block: Block, x: float, y: float, inner: tuple[bool, bool] = (False, False)
) -> float:
    """Draw a block from x rightwards, centred on y, and return its right edge.

    ``inner`` says whether its rows, and its columns, are the size a product sums over.
    """
    rows, cols = block.shape
    top = y + rows / 2
    for r in range(rows):
        for c in range(cols):
            fill = HIGHLIGHT if block.shaded(r, c) else FILLS[block.kind]
            square = Rectangle((x + c, top - r - 1), 1, 1, facecolor=fill, edgecolor="#9e9e9e")
            ax.add_patch(square)
    outline = Rectangle((x, top - rows), cols, rows, fill=False, edgecolor=OUTLINE_COLOR, lw=1.4)
    outline.set_gid(block.label)
    ax.add_patch(outline)
    row_name, col_name = (f"${name}$" for name in block.dims)
    colors = [INNER_COLOR if is_inner else "black" for is_inner in inner]
    ax.text(x - 0.3, y, row_name, ha="right", va="center", fontsize=11, color=colors[0])
    ax.text(
        x + cols / 2, top + 0.3, col_name, ha="center", va="bottom", fontsize=11, color=colors[1]
    )
    ax.text(x + cols / 2, top - rows - 0.4, block.label, ha="center", va="top", fontsize=12)
    shape = f"({rows}, {cols})"
    ax.text(x + cols / 2, top - rows - 1.5, shape, ha="center", va="top", fontsize=9, color="#555")
    return x + cols


def _operator(ax: Axes, symbol: str, x: float, y: float) -> None:
    ax.text(x, y, symbol, ha="center", va="center", fontsize=18)


LAYER_EQUATIONS = ("forward", "weights", "bias", "back")


def layer_equation(
    kind: str, m: int, n_in: int, n_out: int, n: int = 1, i: int = 1, j: int = 1
) -> tuple[tuple[str, str], Block, list[list[Block]], list[str]]:
    """Title, result, terms and joins of one equation of a layer l with Z = A W^T + 1 b^T.

    ``kind`` is "forward" (Z^(l) = A^(l-1) W^(l)T + 1 b^(l)T), "weights"
    (dC/dW^(l) = Delta^(l)T A^(l-1)), "bias" (dC/db^(l) = Delta^(l)T 1) or "back"
    (Delta^(l-1) = (Delta^(l) W^(l)) * f'(Z^(l-1))), for m examples, n_in = n_(l-1) inputs
    and n_out = n_l units. Example n, unit i and input j, counted from 1 as in the book,
    choose the shaded entry.
    """
    for name, value, size in (("n", n, m), ("i", i, n_out), ("j", j, n_in)):
        if not 1 <= value <= size:
            raise ValueError(f"{name} must be in 1..{size}, got {value}")
    r, u, v = n - 1, i - 1, j - 1  # the same, counted from 0
    inputs, units = "n_{l-1}", "n_l"
    if kind == "forward":
        return (
            ("forward pass of layer $l$",
             rf"shaded: $Z_{{{n}{i}}}$ = row {n} of $A$ times column {i} of "
             rf"$W^{{\mathsf{{T}}}}$, plus $b_{{{i}}}$"),
            Block("$Z^{(l)}$", (m, n_out), ("m", units), "data", (r, u)),
            [[Block("$A^{(l-1)}$", (m, n_in), ("m", inputs), "data", (r, None)),
              Block(r"$W^{(l)\mathsf{T}}$", (n_in, n_out), (inputs, units), "weight", (None, u))],
             [Block(r"$\mathbf{1}$", (m, 1), ("m", "1"), "ones", (r, None)),
              Block(r"$b^{(l)\mathsf{T}}$", (1, n_out), ("1", units), "weight", (None, u))]],
            ["+"],
        )  # fmt: skip
    Delta_T = Block(r"$\Delta^{(l)\mathsf{T}}$", (n_out, m), (units, "m"), "error", (u, None))
    if kind == "weights":
        return (
            ("weight gradient",
             rf"shaded: $\partial C / \partial W_{{{i}{j}}}$, a sum over the $m$ examples"),
            Block(r"$\partial C/\partial W^{(l)}$", (n_out, n_in), (units, inputs), "error",
                  (u, v)),
            [[Delta_T, Block("$A^{(l-1)}$", (m, n_in), ("m", inputs), "data", (None, v))]],
            [],
        )  # fmt: skip
    if kind == "bias":
        return (
            ("bias gradient",
             rf"shaded: $\partial C / \partial b_{{{i}}}$ sums column {i} of $\Delta$"),
            Block(r"$\partial C/\partial b^{(l)}$", (n_out, 1), (units, "1"), "error", (u, 0)),
            [[Delta_T, Block(r"$\mathbf{1}$", (m, 1), ("m", "1"), "ones", (None, None))]],
            [],
        )  # fmt: skip
    if kind == "back":
        return (
            ("error term passed back to layer $l-1$",
             rf"shaded: row {n} of $\Delta$ times column {j} of $W$, "
             rf"times $f'(Z^{{(l-1)}}_{{{n}{j}}})$"),
            Block(r"$\Delta^{(l-1)}$", (m, n_in), ("m", inputs), "error", (r, v)),
            [[Block(r"$\Delta^{(l)}$", (m, n_out), ("m", units), "error", (r, None)),
              Block("$W^{(l)}$", (n_out, n_in), (units, inputs), "weight", (None, v))],
             [Block("$f'(Z^{(l-1)})$", (m, n_in), ("m", inputs), "data", (r, v))]],
            ["⊙"],
        )  # fmt: skip
    raise ValueError(f"kind must be one of {LAYER_EQUATIONS}, got {kind!r}")


def draw_layer_shapes(
    m: int,
    n_in: int,
    n_out: int,
    rows: Sequence[str | Sequence[str]] = ("forward",),
    n: int = 1,
    i: int = 1,
    j: int = 1,
    inches_per_square: float = 0.28,
) -> Figure:
    """Draw equations of one layer (see :func:`layer_equation`), all to one scale.

    ``rows`` lists the figure's rows, each one kind or a sequence of kinds drawn side by
    side. Every square is ``inches_per_square`` wide, so shapes compare across the figure.
    """
    fig, ax = plt.subplots()
    boxes, y = [], 0.0
    for row in rows:
        kinds = [row] if isinstance(row, str) else list(row)
        equations = [layer_equation(kind, m, n_in, n_out, n, i, j) for kind in kinds]
        height = max(b.shape[0] for _, res, terms, _ in equations for b in [res, *sum(terms, [])])
        y -= height / 2 + _ABOVE + _TITLE
        x = 0.0
        for title, result, terms, joins in equations:
            boxes.append(draw_equation(result, terms, ax, (x, y), title, joins))
            x = boxes[-1][2] + _OPERATOR_WIDTH
        y -= height / 2 + _BELOW
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes) + 1.0, max(b[3] for b in boxes)  # + 1: a wide label
    ax.set(xlim=(x0 - 0.2, x1 + 0.2), ylim=(y0 - 0.2, y1 + 0.2), aspect="equal")
    ax.axis("off")
    fig.set_size_inches((x1 - x0 + 0.4) * inches_per_square, (y1 - y0 + 0.4) * inches_per_square)
    fig.subplots_adjust(0, 0, 1, 1)
    return fig
