"""Data sets for chapter 7: a generated spiral, and scikit-learn's handwritten digits.

Nothing is downloaded: the spiral is generated from a seeded generator, and the digits
(1,797 images of 8 x 8 pixels) ship inside scikit-learn. scikit-learn is imported only when
the digits are asked for, so ``import backprop`` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from backprop.validation import as_count, check_generator


def spiral(
    classes: int, points_per_class: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """K interleaved spiral arms in the plane, one class per arm.

    Arm k has N points at radii r evenly spaced in [0, 1] and angles
    t = 4 r + 2 pi k / K plus Gaussian noise of standard deviation ``noise``; point
    (r sin t, r cos t). No straight line separates two arms.

    Returns
    -------
    X, labels
        X of shape (K N, 2) and integer labels of shape (K N,), arm by arm.
    """
    classes = as_count(classes, "spiral classes", least=2)
    points_per_class = as_count(points_per_class, "spiral points_per_class")
    check_generator(rng, "spiral rng")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"spiral noise must be a finite number >= 0, got {noise!r}")
    radius = np.tile(np.linspace(0.0, 1.0, points_per_class), classes)
    labels = np.repeat(np.arange(classes), points_per_class)
    angle = 4.0 * radius + 2.0 * np.pi * labels / classes
    angle = angle + noise * rng.standard_normal(angle.shape)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return X, labels


def stratified_split(
    labels: ArrayLike, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random train/test split that keeps each class's share in both parts.

    Each class's indices are shuffled with ``rng`` and round(test_fraction * count) of
    them go to the test part. Returns (train_indices, test_indices), each sorted.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be a non-empty 1-D integer array, got {y.dtype} {y.shape}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    test = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test.append(members[: int(round(test_fraction * len(members)))])
    test_indices = np.sort(np.concatenate(test))
    train_indices = np.setdiff1d(np.arange(y.size), test_indices)
    return train_indices, test_indices


@dataclass(frozen=True)
class Standardizer:
    """x -> (x - mean) / scale, with mean and scale fitted on training data only.

    A feature that is constant on the training data (a pixel that is always blank) gets
    scale 1, so it maps to 0 instead of dividing by zero.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X_train: ArrayLike) -> Standardizer:
        """Mean and standard deviation of each column of the training data."""
        X = np.asarray(X_train, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"Standardizer.fit needs shape (n, features), got {X.shape}")
        scale = X.std(axis=0)
        return cls(mean=X.mean(axis=0), scale=np.where(scale > 0, scale, 1.0))

    def __call__(self, X: ArrayLike) -> np.ndarray:
        """Standardise X of shape (n, features) with the fitted mean and scale."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.mean.size:
            raise ValueError(f"Standardizer expects shape (n, {self.mean.size}), got {X.shape}")
        return (X - self.mean) / self.scale


@dataclass(frozen=True)
class DigitsSplit:
    """The digits, split and standardised: training and test inputs, labels and images."""

    X_train: np.ndarray
    labels_train: np.ndarray
    X_test: np.ndarray
    labels_test: np.ndarray
    images_test: np.ndarray
    standardizer: Standardizer


def load_digits_split(test_fraction: float, rng: np.random.Generator) -> DigitsSplit:
    """scikit-learn's 1,797 handwritten digits, split with :func:`stratified_split`.

    Inputs are the 64 pixel intensities (0 to 16), standardised with a
    :class:`Standardizer` fitted on the training part only, so that nothing about the test
    images leaks into training. ``images_test`` keeps the raw 8 x 8 test images for display.
    """
    from sklearn.datasets import load_digits  # imported here: heavy, and only needed here

    digits = load_digits()
    train, test = stratified_split(digits.target, test_fraction, rng)
    standardizer = Standardizer.fit(digits.data[train])
    return DigitsSplit(
        X_train=standardizer(digits.data[train]),
        labels_train=digits.target[train],
        X_test=standardizer(digits.data[test]),
        labels_test=digits.target[test],
        images_test=digits.images[test],
        standardizer=standardizer,
    )
