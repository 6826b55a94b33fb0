"""backprop.data: the spiral, the stratified split, standardisation and the digits."""

import numpy as np
import pytest

from backprop.data import Standardizer, load_digits_split, spiral, stratified_split

pytestmark = pytest.mark.ch07


def test_spiral_shape_labels_and_radius(rng):
    X, labels = spiral(classes=4, points_per_class=50, noise=0.0, rng=rng)
    assert X.shape == (200, 2) and labels.shape == (200,)
    assert np.bincount(labels).tolist() == [50] * 4
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[:50], np.linspace(0, 1, 50), atol=1e-12)
    # without noise, arm k is arm 0 turned by 2 pi k / K
    turn = np.pi / 2
    rotation = np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])
    np.testing.assert_allclose(X[labels == 1], X[labels == 0] @ rotation.T, atol=1e-12)


def test_spiral_is_reproducible():
    first = spiral(3, 20, 0.2, np.random.default_rng(5))
    second = spiral(3, 20, 0.2, np.random.default_rng(5))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ((1, 10, 0.1), "classes must be an int >= 2, got 1"),
        ((3, 0, 0.1), "points_per_class must be an int >= 1, got 0"),
        ((3, 10, -0.5), "noise must be a finite number >= 0, got -0.5"),
        ((3, 10, float("nan")), "noise must be a finite number >= 0, got nan"),
    ],
)
def test_bad_spiral_settings_are_refused(arguments, match, rng):
    with pytest.raises(ValueError, match=match):
        spiral(*arguments, rng=rng)


def test_stratified_split_keeps_class_shares(rng):
    labels = np.repeat(np.arange(3), [40, 20, 8])
    train, test = stratified_split(labels, 0.25, rng)
    assert np.bincount(labels[test]).tolist() == [10, 5, 2]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(68))
    assert np.intersect1d(train, test).size == 0


@pytest.mark.parametrize(
    ("labels", "fraction", "match"),
    [
        (np.array([], dtype=int), 0.25, "non-empty 1-D integer array"),
        (np.array([0.0, 1.0]), 0.25, "non-empty 1-D integer array"),
        (np.array([0, 1]), 1.0, "test_fraction must be between 0 and 1, got 1.0"),
    ],
)
def test_bad_split_arguments_are_refused(labels, fraction, match, rng):
    with pytest.raises(ValueError, match=match):
        stratified_split(labels, fraction, rng)


def test_standardizer_uses_the_training_statistics_only():
    train = np.array([[0.0, 5.0, 1.0], [2.0, 5.0, 3.0]])
    scaler = Standardizer.fit(train)
    np.testing.assert_allclose(scaler(train), [[-1.0, 0.0, -1.0], [1.0, 0.0, 1.0]])
    # a test point is scaled with the training mean (1, 5, 2) and scale (1, 1, 1)
    np.testing.assert_allclose(scaler(np.array([[3.0, 7.0, 2.0]])), [[2.0, 2.0, 0.0]])
    with pytest.raises(ValueError, match=r"expects shape \(n, 3\), got \(1, 2\)"):
        scaler(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"needs shape \(n, features\), got \(0,\)"):
        Standardizer.fit(np.ones(0))


def test_digits_split():
    digits = load_digits_split(0.25, np.random.default_rng(3))
    assert digits.X_train.shape == (1347, 64) and digits.X_test.shape == (450, 64)
    assert digits.images_test.shape == (450, 8, 8)
    assert np.bincount(digits.labels_test).min() >= 44
    np.testing.assert_allclose(digits.X_train.mean(axis=0), 0.0, atol=1e-12)
    # the test part is standardised with the training statistics: its mean is not exactly 0
    assert np.abs(digits.X_test.mean(axis=0)).max() > 1e-3
    raw = digits.images_test.reshape(450, 64)
    np.testing.assert_allclose(digits.standardizer(raw), digits.X_test)
