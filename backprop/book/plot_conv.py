"""Figures of chapter 9: a convolution and a pooling layer drawn with their numbers.

- :func:`draw_conv1d`: a 1-D convolution as a layer whose edges share three weights, forward
  and backward, every node with its value;
- :func:`draw_sliding_window`: a 2-D window over a padded input, the output it makes, and how
  many windows read each input (a stride can leave some in none);
- :func:`draw_im2col`: which input entry lands in which cell of the im2col matrix;
- :func:`draw_pool_backward`: the gradient through max pooling (routed to the winner) and
  average pooling (spread evenly);
- :func:`plot_maps` and :func:`plot_disagreements`: learned kernels, feature maps, and the
  test images that two classifiers label differently.

Grid cells are numbered from 1 on the axes, as rows and columns are in the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike

from backprop.book.assembly import three_figures
from backprop.book.convolution import correlate_full, correlate_valid
from backprop.book.plot_graph import INPUT_FILL, NODE_FILL, OUTLINE_COLOR
from backprop.nn.unfold import col2im, im2col, output_size

HIGHLIGHT = "#f4a261"  # the cells a figure is about
MARK = "#2a9d8f"  # a second set: one input entry wherever it appears
PADDING_FILL = "#e0e0e0"
UNREACHED = "#c62828"  # inputs that no window reads
KERNEL_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(index: int) -> str:
    """An index as Unicode subscript digits: 12 gives '₁₂'."""
    return str(index).translate(_SUBSCRIPT)


def draw_grid(
    values: ArrayLike,
    ax: Axes,
    title: str = "",
    fill: np.ndarray | None = None,
    texts: np.ndarray | None = None,
    first_row: int = 1,
    first_col: int = 1,
    row_labels: Sequence[str] = (),
) -> Axes:
    """A 2-D array as a grid of squares, each with its number (3 significant figures).

    ``fill`` gives each cell a colour (None: white); ``texts`` replaces the numbers (an
    empty string leaves a cell blank). Rows and columns are labelled from ``first_row``
    and ``first_col`` (a padded input starts at 0), or the rows by ``row_labels``.
    """
    values = np.asarray(values)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"draw_grid needs a non-empty 2-D array, got shape {values.shape}")
    rows, cols = values.shape
    for (i, j), value in np.ndenumerate(values):
        color = "white" if fill is None or fill[i, j] is None else fill[i, j]
        square = Rectangle((j, i), 1, 1, facecolor=color, edgecolor=OUTLINE_COLOR, lw=0.6)
        ax.add_patch(square).set_clip_on(False)  # the outer edges are not cut in half
        text = three_figures(float(value) + 0.0) if texts is None else texts[i, j]  # no -0
        ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8)
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(first_col + j) for j in range(cols)], fontsize=7)
    labels = list(row_labels) or [str(first_row + i) for i in range(rows)]
    ax.set_yticks(np.arange(rows) + 0.5, labels, fontsize=7)
    ax.tick_params(length=0)
    ax.set_xlabel("column", fontsize=8)
    ax.set_ylabel("row", fontsize=8)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _node(ax: Axes, x: float, y: float, name: str, value: float, fill: str) -> None:
    ax.text(
        x,
        y,
        f"{name}\n{three_figures(value)}",
        ha="center",
        va="center",
        fontsize=8,
        bbox=dict(boxstyle="round,pad=0.35", facecolor=fill, edgecolor=OUTLINE_COLOR),
    )


def draw_conv1d(x: ArrayLike, w: ArrayLike, delta: ArrayLike, b: float = 0.0) -> Figure:
    """z_p = b + sum_i w_i x_(p+i-1) drawn as a layer, forward (left) and backward (right).

    Every edge from input t to output p carries the weight w_(t-p+1), and has its colour:
    one colour per weight, because every output uses the same k weights. The backward panel
    sends delta_p = dC/dz_p down the same edges; each input collects dC/dx_t (the full
    correlation of delta with the flipped kernel), and each weight's gradient is the sum
    over the edges of its colour (the valid correlation of x with delta), in the legend.
    """
    x, w, delta = (np.asarray(v, dtype=float) for v in (x, w, delta))
    n, k = len(x), len(w)
    if x.ndim != 1 or w.ndim != 1 or not 1 <= k <= n or k > len(KERNEL_COLORS):
        raise ValueError(
            f"draw_conv1d needs 1-D x and w with 1 <= len(w) <= min(len(x), "
            f"{len(KERNEL_COLORS)}), got shapes {x.shape} and {w.shape}"
        )
    if delta.shape != (n - k + 1,):
        raise ValueError(f"delta must have shape ({n - k + 1},), one per output, got {delta.shape}")
    z = correlate_valid(x, w) + b
    dx, dw = correlate_full(delta, w), correlate_valid(x, delta)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    panels = [
        (axes[0], "forward: $z_p = b + \\sum_i w_i\\, x_{p+i-1}$", "x", x, "z", z, "w", w),
        (
            axes[1],
            "backward: $\\partial C / \\partial x_t = \\sum_p \\delta_p\\, w_{t-p+1}$",
            "∂C/∂x",
            dx,
            "δ",
            delta,
            "∂C/∂w",
            dw,
        ),
    ]
    for ax, title, low_name, low, high_name, high, edge_name, edge_values in panels:
        backward = high_name == "δ"
        for p in range(n - k + 1):
            for i in range(k):
                start, end = (p + (k - 1) / 2, 1.0), (p + i, 0.0)
                if not backward:
                    start, end = end, start
                ax.annotate(
                    "",
                    xy=end,
                    xytext=start,
                    arrowprops=dict(
                        arrowstyle="-|>", color=KERNEL_COLORS[i], lw=1.6, shrinkA=16, shrinkB=16
                    ),
                )
        for t in range(n):
            _node(ax, t, 0.0, f"{low_name}{sub(t + 1)}", low[t], INPUT_FILL)
        for p in range(n - k + 1):
            _node(ax, p + (k - 1) / 2, 1.0, f"{high_name}{sub(p + 1)}", high[p], NODE_FILL)
        for i in range(k):
            ax.plot(
                [],
                [],
                color=KERNEL_COLORS[i],
                lw=2,
                label=f"{edge_name}{sub(i + 1)} = {three_figures(edge_values[i])}",
            )
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncol=k,
            fontsize=8,
            frameon=False,
            handlelength=1.2,
        )
        ax.set_xlim(-0.6, n - 0.4)
        ax.set_ylim(-0.35, 1.35)
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _coverage(shape: tuple[int, int], kernel: int, stride: int, padding: int) -> np.ndarray:
    """How many windows read each input entry: col2im of a column of ones per window."""
    cols = im2col(np.zeros((1, 1, *shape)), (kernel, kernel), (stride, stride), (padding,) * 2)
    return col2im(np.ones_like(cols), (1, 1, *shape), (stride, stride), (padding,) * 2)[0, 0]


def draw_sliding_window(
    size: int, kernel: int, stride: int, padding: int, position: tuple[int, int]
) -> Figure:
    """A square input of side ``size``: one window, the output grid, and each input's count.

    Left: the padded input (padding grey) with the window of output ``position`` (counted
    from 1) shaded: that output's receptive field in this layer. Middle: the output grid,
    floor((size + 2 padding - kernel) / stride) + 1 on a side. Right: how many windows read
    each input entry; entries no window reaches are red, and their gradient is zero.
    """
    side = output_size(size, kernel, stride, padding)
    if side < 1:
        raise ValueError(f"a kernel of {kernel} does not fit an input of {size} + 2 x {padding}")
    p, q = position
    if not (1 <= p <= side and 1 <= q <= side):
        raise ValueError(f"position must lie in the {side} x {side} output, got {position}")
    full = size + 2 * padding
    fill = np.full((full, full), None, dtype=object)
    fill[:padding, :] = fill[full - padding :, :] = PADDING_FILL
    fill[:, :padding] = fill[:, full - padding :] = PADDING_FILL
    top, left = (p - 1) * stride, (q - 1) * stride
    fill[top : top + kernel, left : left + kernel] = HIGHLIGHT
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.4), width_ratios=[full, max(side, 3), size])
    draw_grid(
        np.zeros((full, full)),
        axes[0],
        texts=np.full((full, full), ""),
        fill=fill,
        first_row=1 - padding,
        first_col=1 - padding,
        title=f"input {size}×{size}, padding {padding}:\nwindow of output ({p}, {q})",
    )
    out_fill = np.full((side, side), None, dtype=object)
    out_fill[p - 1, q - 1] = HIGHLIGHT
    draw_grid(
        np.zeros((side, side)),
        axes[1],
        texts=np.full((side, side), ""),
        fill=out_fill,
        title=f"output {side}×{side}\n(kernel {kernel}, stride {stride})",
    )
    counts = _coverage((size, size), kernel, stride, padding)
    missed = np.where(counts == 0, UNREACHED, None)
    texts = np.vectorize(lambda c: str(int(c)))(counts)
    never = ", ".join(str(i + 1) for i in range(size) if not counts[i].any())  # rows = columns
    plural = "s" if "," in never else ""
    note = (
        f"row{plural} {never} and column{plural} {never} in none" if never else "all in one or more"
    )
    draw_grid(
        counts, axes[2], texts=texts, fill=missed, title=f"windows reading each input:\n{note}"
    )
    fig.tight_layout()
    return fig


def im2col_indices(size: tuple[int, int], kernel: int, stride: int = 1, padding: int = 0):
    """The im2col matrix of an input whose entries are their own numbers 1, 2, ...

    Entry (r, c) is the number (counted row by row from 1) of the input entry that kernel
    position r sees in window c, or 0 where the window lies on the padding.
    """
    h, w = size
    numbers = np.arange(1, h * w + 1, dtype=float).reshape(1, 1, h, w)
    cols = im2col(numbers, (kernel, kernel), (stride, stride), (padding, padding))
    return cols.reshape(kernel * kernel, -1).astype(int)


def draw_im2col(size: tuple[int, int], kernel: int, column: int, entry: int) -> Figure:
    """Which input entry lands where in the im2col matrix (one channel, stride 1).

    Left: the input, each entry with its number, the window of ``column`` (counted from 1)
    shaded, and entry number ``entry`` marked. Right: the im2col matrix, one row per kernel
    position and one column per window; the same shading, and the marked entry wherever it
    appears (each appearance adds one term to its gradient in col2im).
    """
    h, w = size
    matrix = im2col_indices(size, kernel)
    if not 1 <= column <= matrix.shape[1] or not 1 <= entry <= h * w:
        raise ValueError(
            f"column must be in 1..{matrix.shape[1]} and entry in 1..{h * w}, "
            f"got {column} and {entry}"
        )
    numbers = np.arange(1, h * w + 1).reshape(h, w)
    window = np.isin(numbers, matrix[:, column - 1])
    fill = np.where(window, HIGHLIGHT, None)
    fill[numbers == entry] = MARK
    m_fill = np.full(matrix.shape, None, dtype=object)
    m_fill[:, column - 1] = HIGHLIGHT
    m_fill[matrix == entry] = MARK
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2), width_ratios=[w, matrix.shape[1] + 1])
    draw_grid(
        numbers,
        axes[0],
        texts=numbers.astype(str),
        fill=fill,
        title=f"input {h}×{w}, entries numbered:\nwindow {column} shaded, entry {entry} marked",
    )
    positions = [f"({i + 1}, {j + 1})" for i in range(kernel) for j in range(kernel)]
    draw_grid(
        matrix,
        axes[1],
        texts=matrix.astype(str),
        fill=m_fill,
        row_labels=positions,
        title=f"im2col: {matrix.shape[0]} kernel positions × {matrix.shape[1]} windows;\n"
        f"entry {entry} is in {int(np.sum(matrix == entry))} columns",
    )
    axes[1].set_xlabel("window (column of the matrix)", fontsize=8)
    axes[1].set_ylabel("kernel position (i, j): row of the matrix", fontsize=8)
    fig.tight_layout()
    return fig


def draw_pool_backward(
    x: ArrayLike, grad_out: ArrayLike, grad_max: ArrayLike, grad_avg: ArrayLike, kernel: int
) -> Figure:
    """One channel through 2-D pooling with non-overlapping k x k windows, backwards.

    Panels: the input with each window's maximum shaded; the upstream gradient, one number
    per window; the gradient max pooling passes back (the window's number at its winner,
    0 elsewhere); the one average pooling passes back (the number / k^2 everywhere).
    """
    x, grad_out = np.asarray(x, dtype=float), np.asarray(grad_out, dtype=float)
    grad_max, grad_avg = np.asarray(grad_max, dtype=float), np.asarray(grad_avg, dtype=float)
    if x.ndim != 2 or grad_out.shape != (x.shape[0] // kernel, x.shape[1] // kernel):
        raise ValueError(
            f"need a 2-D input and one upstream number per {kernel}x{kernel} window, got "
            f"shapes {x.shape} and {grad_out.shape}"
        )
    if grad_max.shape != x.shape or grad_avg.shape != x.shape:
        raise ValueError("the two input gradients must have the input's shape")
    winners = np.full(x.shape, None, dtype=object)
    winners[grad_max != 0] = HIGHLIGHT
    width = x.shape[1]
    fig, axes = plt.subplots(
        1, 4, figsize=(9, 2.9), width_ratios=[width, grad_out.shape[1] + 0.6, width, width]
    )
    draw_grid(x, axes[0], fill=winners, title="input x\n(each window's max shaded)")
    draw_grid(grad_out, axes[1], title="upstream ∂C/∂y,\none per window")
    draw_grid(grad_max, axes[2], fill=winners, title="max pooling: ∂C/∂x\n(routed to the max)")
    draw_grid(grad_avg, axes[3], title=f"average pooling: ∂C/∂x\n(each gets 1/{kernel * kernel})")
    for ax in (axes[0], axes[2], axes[3]):
        for i in range(0, x.shape[0] + 1, kernel):
            ax.axhline(i, color="black", lw=1.8)
        for j in range(0, x.shape[1] + 1, kernel):
            ax.axvline(j, color="black", lw=1.8)
    fig.tight_layout()
    return fig


def plot_maps(
    maps: ArrayLike,
    columns: int = 8,
    titles: Sequence[str] = (),
    suptitle: str = "",
    label: str = "",
    image: ArrayLike | None = None,
    image_title: str = "",
) -> Figure:
    """Small images side by side on one colour scale, with one colour bar labelled ``label``.

    ``maps`` has shape (count, height, width): a layer's kernels for one input channel, or
    its feature maps for one image. Maps with negative entries are drawn red for positive
    and blue for negative, on a scale symmetric about 0; maps with none (after a ReLU) in
    shades of one colour from 0 up. ``image``, if given, is drawn first, in grey, on its
    own scale: the input the maps were computed from.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim != 3 or len(maps) == 0:
        raise ValueError(f"plot_maps needs an array (count, height, width), got {maps.shape}")
    columns = max(1, min(columns, len(maps)))
    rows = -(-len(maps) // columns)
    first = 0 if image is None else 1  # a column for the input image
    fig, axes = plt.subplots(rows, columns + first, figsize=(9, 1.25 * rows + 0.7), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    top = max(float(np.max(np.abs(maps))), 1e-12)
    scale = dict(cmap="RdBu_r", vmin=-top, vmax=top)
    if np.min(maps) >= 0:
        scale = dict(cmap="Reds", vmin=0.0, vmax=top)
    for index, image_map in enumerate(maps):
        ax = axes[index // columns, first + index % columns]
        shown = ax.imshow(image_map, **scale)
        ax.set_title(titles[index] if index < len(titles) else "", fontsize=8)
    if image is not None:
        axes[0, 0].imshow(np.asarray(image, dtype=float), cmap="gray_r")
        axes[0, 0].set_title(image_title, fontsize=8)
    bar = fig.colorbar(shown, ax=list(axes.flat), fraction=0.02, pad=0.02)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def plot_disagreements(
    images: ArrayLike,
    true: Sequence[int],
    first: Sequence[int],
    second: Sequence[int],
    names: tuple[str, str] = ("CNN", "MLP"),
    columns: int = 8,
    title: str = "",
) -> Figure:
    """Grey-scale images captioned with the true label and two classifiers' answers.

    A caption is green where that classifier is right and red where it is wrong.
    """
    images = np.asarray(images)
    if not (len(images) == len(true) == len(first) == len(second)) or len(images) == 0:
        raise ValueError(
            f"need as many labels as images (at least one), got {len(images)} images and "
            f"{len(true)}, {len(first)}, {len(second)} labels"
        )
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.12 * columns, 1.6 * rows + 0.4), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, t, a, b in zip(axes.flat, images, true, first, second, strict=False):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"true {t}", fontsize=8)
        for line, (name, guess) in enumerate(zip(names, (a, b), strict=True)):
            ax.text(
                0.5,
                -0.08 - 0.16 * line,
                f"{name} {guess}",
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize=8,
                color="#2e7d32" if guess == t else UNREACHED,
            )
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
