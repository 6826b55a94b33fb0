"""backprop.optim: SGD steps against hand computation, and training runs that must succeed."""

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from backprop.book.plot_training import confusion_matrix
from backprop.data import load_digits_split, spiral
from backprop.nn import BatchNorm1d, Linear, ReLU, Sequential, softmax_cross_entropy
from backprop.optim import SGD, History, accuracy, predict, train

pytestmark = pytest.mark.ch07


class Fixed(Sequential):
    """One parameter array whose gradient is set by hand, so the update can be predicted."""

    def __init__(self, theta):
        super().__init__()
        self.theta, self.grad = theta, np.zeros_like(theta)

    def parameters(self):
        return [self.theta]

    def gradients(self):
        return [self.grad]


def test_one_sgd_step_is_theta_minus_lr_times_gradient():
    model = Fixed(np.array([1.0, -2.0, 0.5]))
    model.grad = np.array([0.5, 0.25, -1.0])
    SGD(model, lr=0.1).step()
    # 1 - 0.1 * 0.5, -2 - 0.1 * 0.25, 0.5 + 0.1 * 1
    np.testing.assert_allclose(model.theta, [0.95, -2.025, 0.6], rtol=1e-15)


def test_momentum_steps_accumulate_velocity():
    model = Fixed(np.array([0.0]))
    optimizer = SGD(model, lr=0.5, momentum=0.9)
    for g in [1.0, 1.0, -2.0]:
        model.grad = np.array([g])
        optimizer.step()
    # v: 1, 1.9, -0.29; theta: -0.5, -1.45, -1.305
    np.testing.assert_allclose(model.theta, [-1.305], rtol=1e-14)


def test_sgd_updates_a_sequential_in_place(rng):
    net = Sequential(Linear(3, 2, rng))
    W = net[0].W
    before = W.copy()
    net.forward(rng.normal(size=(4, 3)))
    net.backward(np.ones((4, 2)))
    SGD(net, lr=0.1).step()
    assert net[0].W is W
    np.testing.assert_allclose(W, before - 0.1 * net[0].dW, rtol=1e-15)


def spiral_run(seed):
    rng = np.random.default_rng(seed)
    X, labels = spiral(3, 100, 0.2, rng)
    net = Sequential(Linear(2, 100, rng), ReLU(), Linear(100, 3, rng))
    history = train(net, X, labels, epochs=200, batch_size=32, lr=0.1, momentum=0.9, rng=rng)
    return history, net, X, labels


def test_training_on_the_spiral_lowers_the_loss_and_learns_it():
    history, net, X, labels = spiral_run(2026)
    loss = np.array(history.loss)
    assert loss[0] > 0.5 and loss[-1] < 0.1
    # not every epoch improves (SGD is noisy), but each block of 20 epochs does, on average
    block_means = loss.reshape(10, 20).mean(axis=1)
    assert np.all(np.diff(block_means) < 0)
    assert history.accuracy[-1] >= 0.97  # seed 2026 here; chapter 7 reports 99.0% with its draws
    assert accuracy(net, X, labels) == history.accuracy[-1]


def test_the_same_seed_gives_the_same_run():
    first, second = spiral_run(11)[0], spiral_run(11)[0]
    assert first.loss == second.loss and first.accuracy == second.accuracy


def test_a_linear_classifier_cannot_learn_the_spiral(rng):
    X, labels = spiral(3, 100, 0.2, rng)
    linear = Sequential(Linear(2, 3, rng))
    history = train(linear, X, labels, epochs=200, batch_size=32, lr=0.5, momentum=0.9, rng=rng)
    assert history.accuracy[-1] < 0.65


def test_the_digits_network_reaches_the_chapters_accuracy():
    rng = np.random.default_rng(2026)
    digits = load_digits_split(0.25, rng)
    net = Sequential(Linear(64, 64, rng), ReLU(), Linear(64, 10, rng))
    history = train(
        net,
        digits.X_train,
        digits.labels_train,
        epochs=30,
        batch_size=32,
        lr=0.05,
        momentum=0.9,
        rng=rng,
        test=(digits.X_test, digits.labels_test),
    )
    assert len(history.test_accuracy) == 30
    # chapter 7 reports 439 of 450 (97.6%) with these settings (its generator has drawn other
    # numbers before); seeds tried while writing this test gave 97.3% to 98.4%
    assert history.test_accuracy[-1] >= 0.975
    assert history.accuracy[-1] == 1.0


def test_predict_and_confusion_matrix():
    net = Sequential(Linear(2, 3, np.random.default_rng(0), bias=False))
    net[0].W[...] = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [0.0, 3.0]])
    assert predict(net, X).tolist() == [0, 1, 2, 1]
    counts = confusion_matrix([0, 1, 2, 2], predict(net, X), classes=3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert accuracy(net, X, [0, 1, 2, 2]) == 0.75


def test_printed_summary_every_k_epochs(rng, capsys):
    X, labels = spiral(2, 10, 0.1, rng)
    train(
        Sequential(Linear(2, 2, rng)),
        X,
        labels,
        epochs=4,
        batch_size=5,
        lr=0.1,
        rng=rng,
        print_every=2,
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["2", "4"]


@pytest.mark.parametrize(
    ("X", "labels", "error", "match"),
    [
        (np.zeros((0, 2)), np.zeros(0, dtype=int), ValueError, r"\(n, features\) with n >= 1"),
        (np.zeros((4, 2)), np.zeros(3, dtype=int), ValueError, r"shape \(4,\), one per example"),
        (np.zeros((2, 2)), np.array([0, -1]), ValueError, r"indices in \[0, 2\), got -1"),
        (np.zeros((2, 2)), np.array([0, 2]), ValueError, r"class indices in \[0, 2\), got 2"),
        (np.zeros((2, 2)), np.array([0.0, 1.0]), TypeError, "integer class indices, got dtype"),
        (np.array([[0.0, np.nan]]), np.array([0]), ValueError, "X must be finite, got NaN"),
    ],
    ids=["empty", "lengths", "negative", "too-large", "float-labels", "nan"],
)
def test_bad_training_data_is_refused(X, labels, error, match, rng):
    with pytest.raises(error, match=match):
        train(Sequential(Linear(2, 2, rng)), X, labels, epochs=1, batch_size=2, lr=0.1, rng=rng)


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        (dict(epochs=0), ValueError, "train epochs must be an int >= 1, got 0"),
        (dict(batch_size=0), ValueError, "batch_size must be an int >= 1, got 0"),
        (dict(lr=-0.1), ValueError, "SGD lr must be a finite number > 0, got -0.1"),
        (dict(lr="0.1"), TypeError, "SGD lr must be a number, got str '0.1'"),
        (dict(momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1.0"),
        (dict(rng=0), TypeError, r"train rng must be a numpy\.random\.Generator .*, got int"),
        (dict(print_every=-1), ValueError, "print_every must be an int >= 0, got -1"),
    ],
)
def test_bad_settings_are_refused(settings, error, match, rng):
    X, labels = spiral(2, 5, 0.1, rng)
    arguments = dict(epochs=1, batch_size=2, lr=0.1, rng=rng) | settings
    with pytest.raises(error, match=match):
        train(Sequential(Linear(2, 2, rng)), X, labels, **arguments)


def test_history_starts_empty():
    assert History() == History([], [], [])


def test_image_grid_copes_with_no_images_and_with_few():
    import matplotlib

    matplotlib.use("Agg")
    from backprop.book.plot_training import plot_images

    assert len(plot_images([], [], [], columns=8).axes) == 1
    fig = plot_images([np.zeros((8, 8))] * 3, [1, 2, 3], [1, 2, 4], columns=8)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes][2] == "true 3\npred. 4"


def test_the_api_pages_quick_start_runs_and_learns(capsys):
    page = (Path(__file__).resolve().parents[1] / "reference" / "api.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)
    exec(code, {})  # noqa: S102  (the page's own example, as a reader would run it)
    printed = capsys.readouterr().out
    assert int(re.fullmatch(r"training accuracy (\d+)%\n", printed).group(1)) >= 90


def test_batch_gradients_are_unbiased_and_their_spread_follows_the_formula(rng):
    """Chapter 7: over every batch of m of N examples, at fixed parameters, the mean batch
    gradient is the full gradient, and the mean squared distance is (N-m)/(N-1) s^2/m."""
    X, labels = spiral(3, 3, 0.2, rng)  # N = 9
    net = Sequential(Linear(2, 5, rng), ReLU(), Linear(5, 3, rng))

    def gradient(rows):
        net.backward(softmax_cross_entropy(net.forward(X[rows]), labels[rows])[1])
        return np.concatenate([g.ravel() for g in net.gradients()])

    full = gradient(list(range(9)))
    per_example = np.array([gradient([n]) for n in range(9)])
    s2 = np.mean(np.sum((per_example - full) ** 2, axis=1))
    for m in (1, 2, 4):
        batches = [gradient(list(b)) for b in itertools.combinations(range(9), m)]
        np.testing.assert_allclose(np.mean(batches, axis=0), full, rtol=1e-12, atol=1e-15)
        spread = np.mean(np.sum((np.array(batches) - full) ** 2, axis=1))
        np.testing.assert_allclose(spread, (9 - m) / (9 - 1) * s2 / m, rtol=1e-10)


def test_history_plot_labels_the_cost_and_goes_logarithmic():
    import matplotlib

    matplotlib.use("Agg")
    from backprop.book.plot_training import plot_history

    falling = History(loss=[2.0, 0.5, 0.1], accuracy=[0.3, 0.8, 1.0])
    ax = plot_history(falling)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "mean cross-entropy C"
    assert ax.get_lines()[0].get_label() == "training cost C"
    flat = History(loss=[1.0, 0.9, 0.8], accuracy=[0.3, 0.4, 0.5])
    assert plot_history(flat).get_yscale() == "linear"


def test_train_probes_the_output_width_in_eval_mode(rng):
    """The probe that learns the number of classes is not a training batch for batch norm.

    One epoch of one batch: the running mean must be momentum times that batch's mean of
    the first layer's output (from zero), as if the one-row probe had never run. A probe in
    training mode would be refused by BatchNorm1d (a batch of one) before any step.
    """
    X, labels = spiral(3, 20, 0.2, rng)
    first, norm = Linear(2, 8, rng), BatchNorm1d(8)
    model = Sequential(first, norm, ReLU(), Linear(8, 3, rng))
    z = X @ first.W.T + first.b  # the batch norm's input at the only step, before the update
    train(model, X, labels, rng=rng, epochs=1, batch_size=len(X), lr=0.1)
    np.testing.assert_allclose(norm.running_mean, 0.1 * z.mean(axis=0), rtol=1e-12, atol=1e-15)
    assert model.training and norm.training  # back in the mode the caller left it in
