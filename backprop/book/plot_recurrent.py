"""Figures of chapter 11: gradients against the time lag, and training curves.

- :func:`plot_by_lag`: quantities that shrink or grow with the lag k, on a logarithmic axis,
  each curve with an optional bound drawn dashed in its colour;
- :func:`plot_learning_curves`: the training error of sequence models, step by step, with
  the error of predictors that ignore (some of) the input as horizontal lines.

(The unrolled graph of the chapter is drawn by :func:`backprop.book.plot_graph.draw_graph`.)
Each function draws on a matplotlib ``Axes`` (a new figure if none is given) and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from backprop.book.recurrent import RegressionHistory

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def plot_by_lag(
    lags: ArrayLike,
    curves: Mapping[str, ArrayLike],
    bounds: Mapping[str, ArrayLike] | None = None,
    *,
    ylabel: str,
    title: str,
    ax: Axes | None = None,
) -> Axes:
    """One line per entry of ``curves`` against the lag, on a logarithmic vertical axis.

    ``bounds`` maps some of the same labels to a bound on that curve, drawn dashed in the
    curve's colour. Values of 0 (an underflow) are left out, since a log axis cannot show
    them.
    """
    ax = _axes(ax, (6.5, 4.2))
    lags = np.asarray(lags)
    bounds = bounds or {}
    unknown = set(bounds) - set(curves)
    if unknown:
        raise ValueError(f"bounds for curves that are not drawn: {sorted(unknown)}")
    for color, (label, values) in zip(COLORS, curves.items(), strict=False):
        values = np.asarray(values, dtype=float)
        if values.shape != lags.shape:
            raise ValueError(f"curve {label!r} has shape {values.shape}, lags {lags.shape}")
        shown = values > 0
        ax.plot(lags[shown], values[shown], color=color, lw=2, label=label)
        if label in bounds:
            ax.plot(lags, np.asarray(bounds[label]), "--", color=color, lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("time lag k (steps)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_learning_curves(
    histories: Mapping[str, RegressionHistory],
    baselines: Mapping[str, float],
    *,
    window: int,
    title: str,
    ax: Axes | None = None,
) -> Axes:
    """Training error against the step (log scale), one line per model.

    Each point is the mean of the batches' mean squared errors over ``window`` consecutive
    steps. Each entry of ``baselines`` (a label and an error) is a dotted horizontal line.
    """
    ax = _axes(ax, (6.5, 4.2))
    for color, (label, history) in zip(COLORS, histories.items(), strict=False):
        ax.plot(*history.window_means(window), color=color, lw=2, label=label)
    for shade, (label, error) in zip(("#444444", "#999999"), baselines.items(), strict=False):
        ax.axhline(error, ls=":", color=shade, lw=1.5, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"mean squared error (mean of {window} batches)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax
