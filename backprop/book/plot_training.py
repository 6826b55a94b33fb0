"""Figures of training: curves, decision regions, confusion matrices, images (chapter 7).

Each function draws on a matplotlib ``Axes`` (a new figure if none is given) and returns it,
so that a chapter can place several side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from numpy.typing import ArrayLike

from backprop.nn import Module
from backprop.optim import History, predict

CLASS_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def _axes(ax: Axes | None, size: tuple[float, float] = (5.0, 4.0)) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def plot_history(history: History, ax: Axes | None = None, title: str = "") -> Axes:
    """Training cost C per epoch (left axis) and accuracies (right axis).

    The cost axis is logarithmic when the cost falls by more than a factor of 10.
    """
    ax = _axes(ax, (6.5, 4.0))
    epochs = np.arange(1, len(history.loss) + 1)
    ax.plot(epochs, history.loss, color="black", label="training cost C")
    if max(history.loss) > 10 * min(history.loss):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean cross-entropy C")
    right = ax.twinx()
    right.plot(epochs, history.accuracy, color=CLASS_COLORS[0], label="training accuracy")
    if history.test_accuracy:
        right.plot(
            epochs, history.test_accuracy, "--", color=CLASS_COLORS[1], label="test accuracy"
        )
    right.set_ylabel("accuracy")
    right.set_ylim(0.0, 1.02)
    lines = ax.get_lines() + right.get_lines()
    ax.legend(
        lines,
        [line.get_label() for line in lines],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=len(lines),
        fontsize=8,
        frameon=False,
    )
    ax.set_title(title)
    return ax


def plot_decision_regions(
    model: Module,
    X: ArrayLike,
    labels: ArrayLike,
    ax: Axes | None = None,
    title: str = "",
    resolution: int = 200,
) -> Axes:
    """The class the model predicts at every point of the plane, with the data on top."""
    ax = _axes(ax, (4.5, 4.5))
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_regions needs 2-D points (n, 2), got {X.shape}")
    low, high = X.min(axis=0) - 0.2, X.max(axis=0) + 0.2
    u, v = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    regions = predict(model, np.column_stack([u.ravel(), v.ravel()])).reshape(u.shape)
    classes = int(max(labels.max(), regions.max())) + 1
    colors = ListedColormap(CLASS_COLORS[:classes])
    ax.contourf(u, v, regions, levels=np.arange(classes + 1) - 0.5, cmap=colors, alpha=0.25)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=labels,
        cmap=colors,
        s=12,
        edgecolors="white",
        linewidths=0.4,
        vmin=-0.5,
        vmax=classes - 0.5,
    )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.set_title(title)
    return ax


def confusion_matrix(true: ArrayLike, predicted: ArrayLike, classes: int) -> np.ndarray:
    """counts[i, j] = how many examples of class i were predicted as class j."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.shape != predicted.shape or true.ndim != 1:
        raise ValueError(
            f"need two 1-D label arrays of one shape, got {true.shape} and {predicted.shape}"
        )
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (true, predicted), 1)
    return counts


def plot_confusion_matrix(counts: np.ndarray, ax: Axes | None = None, title: str = "") -> Axes:
    """Draw a confusion matrix with its counts written in the cells."""
    ax = _axes(ax, (6.5, 6.0))
    classes = counts.shape[0]
    ax.imshow(counts, cmap="Blues")
    for i in range(classes):
        for j in range(classes):
            if counts[i, j]:
                dark = counts[i, j] > counts.max() / 2
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return ax


def plot_images(
    images: Sequence[np.ndarray],
    true: Sequence[int],
    predicted: Sequence[int],
    columns: int = 8,
    title: str = "",
) -> plt.Figure:
    """A grid of grey-scale images, each captioned "true t, predicted p"."""
    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.35 * rows + 0.4))
    for ax in np.ravel(axes):
        ax.set_axis_off()
    for ax, image, t, p in zip(np.ravel(axes), images, true, predicted, strict=False):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"true {t}\npred. {p}", fontsize=8, color="black" if t == p else "#c62828")
    fig.suptitle(title)
    return fig
