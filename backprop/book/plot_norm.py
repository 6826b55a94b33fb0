"""Figures of chapter 10: batch normalisation's stages, its Jacobian, its axes, its effect.

- :func:`draw_stages`: the staged computation of batch normalisation for one feature, each
  edge labelled with its local gradient, the two forks marked;
- :func:`plot_jacobians`: three Jacobians side by side on one colour scale (an element-wise
  layer, softmax, batch normalisation over the batch);
- :func:`draw_norm_axes`: an (N, C, H x W) block with the entries that share one mean and
  variance shaded, for batch, layer, instance and group normalisation;
- :func:`plot_loss_curves`: training cost per epoch of several runs, one panel per network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backprop.book.plot_graph import EDGE_COLOR, INPUT_FILL, NODE_FILL, OUTLINE_COLOR

FORK_COLOR = "#c62828"  # the edges out of a node with two successors
SHARED_FILL = "#ede7f6"  # the per-batch scalars mu, var, s, r
GROUP_COLORS = ("#f4a261", "#2a9d8f", "#e76f51", "#8ab17d")

# node: (column, row, label, fill); a row of 1 holds the per-batch scalars
_STAGE_NODES = {
    "x": (0, 0, "$x_n$", INPUT_FILL),
    "mu": (1, 1, "$\\mu$", SHARED_FILL),
    "d": (2, 0, "$d_n = x_n - \\mu$", NODE_FILL),
    "var": (3, 1, "$v = \\frac{1}{m}\\sum_k d_k^2$", SHARED_FILL),
    "s": (4, 1, "$s = \\sqrt{v + \\epsilon}$", SHARED_FILL),
    "r": (5, 1, "$r = 1/s$", SHARED_FILL),
    "x_hat": (5, 0, "$\\hat{x}_n = d_n r$", NODE_FILL),
    "u": (6.2, 0, "$u_n = \\gamma \\hat{x}_n + \\beta$", NODE_FILL),
}
# (from, to, local gradient d(to)/d(from), whether the edge leaves a fork)
_STAGE_EDGES = [
    ("x", "mu", "$\\dfrac{1}{m}$", True),
    ("x", "d", "$1$", True),
    ("mu", "d", "$-1$", False),
    ("d", "var", "$\\dfrac{2 d_n}{m}$", True),
    ("d", "x_hat", "$r$", True),
    ("var", "s", "$\\dfrac{1}{2s}$", False),
    ("s", "r", "$-\\dfrac{1}{s^2}$", False),
    ("r", "x_hat", "$d_n$", False),
    ("x_hat", "u", "$\\gamma$", False),
]


def draw_stages(ax: Axes | None = None) -> Figure:
    """Batch normalisation of one feature as a graph of stages, local gradients on the edges.

    The bottom row holds one value per example n; the top row the scalars of the whole
    batch (mu, v, s, r), which every example feeds and which feed every example. The edges
    out of x_n and d_n, the two forks, are drawn in red: their gradients add two terms.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(9.5, 3.0))
    else:
        fig = ax.figure
    place = {name: (col * 2.0, row * 1.6) for name, (col, row, _, _) in _STAGE_NODES.items()}
    for start, end, local, fork in _STAGE_EDGES:
        (x0, y0), (x1, y1) = place[start], place[end]
        color = FORK_COLOR if fork else EDGE_COLOR
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops=dict(arrowstyle="-|>", color=color, lw=1.5, shrinkA=17, shrinkB=17),
        )
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 + (0.45 if y0 == y1 else 0.0),
            local,
            ha="center",
            va="center",
            fontsize=12,
            color=color,
            bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none"),
        )
    for name, (_, _, label, fill) in _STAGE_NODES.items():
        x, y = place[name]
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=10,
            bbox=dict(boxstyle="round,pad=0.35", facecolor=fill, edgecolor=OUTLINE_COLOR),
        )
    ax.set_xlim(-0.7, 6.2 * 2.0 + 1.3)
    ax.set_ylim(-0.6, 2.5)
    ax.set_xticks([])
    ax.set_yticks([0.0, 1.6], ["one per\nexample", "one per\nbatch"], fontsize=8)
    ax.tick_params(length=0)
    ax.set_xlabel("forward: left to right; backward: right to left, along the same edges")
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title("Batch normalisation of one feature, in stages (red: the two forks)")
    return fig


def plot_jacobians(
    jacobians: Sequence[np.ndarray], titles: Sequence[str], suptitle: str = ""
) -> Figure:
    """Square Jacobians side by side, each on its own symmetric colour scale, entries printed.

    Rows are the inputs, columns the outputs (the denominator layout: entry (i, j) is
    d output_j / d input_i), both numbered from 1. Red is positive, blue negative, white 0;
    an entry is written "0" only if it is exactly 0, and "≈0" if it rounds to 0.00.
    """
    if len(jacobians) != len(titles) or not jacobians:
        raise ValueError(
            f"plot_jacobians needs one title per matrix, got {len(jacobians)} matrices and "
            f"{len(titles)} titles"
        )
    fig, axes = plt.subplots(1, len(jacobians), figsize=(3.2 * len(jacobians), 3.5))
    axes = np.atleast_1d(axes)
    for ax, matrix, title in zip(axes, jacobians, titles, strict=True):
        matrix = np.asarray(matrix, dtype=float)
        top = max(float(np.max(np.abs(matrix))), 1e-12)
        ax.imshow(matrix, cmap="RdBu_r", vmin=-top, vmax=top)
        size = len(matrix)
        for (i, j), value in np.ndenumerate(matrix):
            text = f"{value:.2f}" if abs(value) >= 5e-3 else "≈0" if value else "0"
            color = "white" if abs(value) > 0.6 * top else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color=color)
        ticks = np.arange(size)
        ax.set_xticks(ticks, [str(t + 1) for t in ticks], fontsize=8)
        ax.set_yticks(ticks, [str(t + 1) for t in ticks], fontsize=8)
        ax.set_xlabel("output j", fontsize=9)
        ax.set_ylabel("input i", fontsize=9)
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def norm_groups(kind: str, shape: tuple[int, int, int], groups: int = 2) -> np.ndarray:
    """For an (N, C, H x W) block, the index of the set each entry is normalised in.

    ``kind`` is "batch" (one set per channel), "layer" (per example), "instance" (per
    example and channel) or "group" (per example and group of C / groups channels).
    """
    n, c, hw = shape
    example, channel = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    by_kind = {
        "batch": channel,
        "layer": example,
        "instance": example * c + channel,
        "group": example * groups + channel // (c // groups),
    }
    if kind not in by_kind:
        raise ValueError(f"kind must be one of {sorted(by_kind)}, got {kind!r}")
    if kind == "group" and c % groups:
        raise ValueError(f"C = {c} must be divisible by groups = {groups}")
    return np.repeat(by_kind[kind][:, :, None], hw, axis=2)


def draw_norm_axes(shape: tuple[int, int, int] = (4, 6, 5), groups: int = 2) -> Figure:
    """Four (N, C, H x W) blocks; in each, the entries that share one mean and variance.

    The shaded cells are one set of the normalisation (the first example's, or the first
    channel's for batch normalisation); every other set is the same shape, elsewhere.
    """
    kinds = [
        ("batch", "batch norm\none set per channel"),
        ("layer", "layer norm\none set per example"),
        ("instance", "instance norm\none set per example and channel"),
        ("group", f"group norm ({groups} groups)\none set per example and group"),
    ]
    fig = plt.figure(figsize=(10, 3.3))
    n, c, hw = shape
    for index, (kind, title) in enumerate(kinds, start=1):
        ax = fig.add_subplot(1, 4, index, projection="3d")
        sets = norm_groups(kind, shape, groups)
        shaded = sets == sets[0, 0, 0]
        colors = np.where(shaded, GROUP_COLORS[0], "#f5f5f5")
        # voxel axes: x = C (channels), y = N (examples), z = H x W (positions)
        filled = np.ones((c, n, hw), dtype=bool)
        ax.voxels(
            filled,
            facecolors=colors.transpose(1, 0, 2),
            edgecolor="#757575",
            linewidth=0.3,
            shade=False,
        )
        ax.set_xlabel("C", fontsize=8, labelpad=-10)
        ax.set_ylabel("N", fontsize=8, labelpad=-10)
        ax.set_zlabel("H × W", fontsize=8, labelpad=-10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zticks([])
        ax.set_box_aspect((c, n, hw))
        ax.view_init(elev=22, azim=-58)
        ax.set_title(title, fontsize=9)
    fig.subplots_adjust(left=0.0, right=0.96, wspace=0.08)
    return fig


def plot_loss_curves(
    runs: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str = "training cost C"
) -> Figure:
    """One panel per network (the outer keys), one curve per run (the inner keys).

    Each curve is the cost per epoch, on a logarithmic axis cut at 20 (a run that diverges
    leaves the panel at the top). A run whose label says "batch norm" is drawn solid, the
    others dashed; consecutive pairs of runs share a colour.
    """
    if not runs:
        raise ValueError("plot_loss_curves needs at least one network")
    fig, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs), 3.6), squeeze=False)
    for ax, (network, curves) in zip(axes[0], runs.items(), strict=True):
        for index, (label, losses) in enumerate(curves.items()):
            epochs = np.arange(1, len(losses) + 1)
            style = "-" if "batch norm" in label else "--"
            color = plt.cm.tab10(index // 2)
            ax.plot(epochs, losses, style, color=color, label=label, lw=1.5)
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        if high > 20.0:  # a diverging run would squash the others: let it leave the panel
            ax.set_ylim(low, 20.0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(network, fontsize=10)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
