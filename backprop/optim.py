"""Gradient descent for the layer modules: an SGD optimiser and a training loop.

One step of gradient descent with learning rate eta (``lr``) and momentum mu is, for every
parameter theta with gradient g = dL/dtheta from the last backward pass,

    v <- mu v + g,    theta <- theta - eta v,

the convention PyTorch's ``torch.optim.SGD`` uses; mu = 0 is plain gradient descent. The
loop draws mini-batches from a seeded ``rng``, so a run can be repeated exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from backprop.layers import Module
from backprop.losses import class_indices, cross_entropy_of_indices, softmax_cross_entropy
from backprop.validation import as_finite_array


class SGD:
    """Stochastic gradient descent with optional momentum, updating parameters in place.

    Parameters
    ----------
    model : Module
        Its ``parameters()`` are updated with its ``gradients()`` at each :meth:`step`.
    lr : float
        The learning rate eta > 0.
    momentum : float
        mu in [0, 1); 0 means no momentum.
    """

    def __init__(self, model: Module, lr: float, momentum: float = 0.0):
        if not isinstance(model, Module):
            raise TypeError(f"SGD needs a Module, got {type(model).__name__}")
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"SGD lr must be a positive number, got {lr!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1), got {momentum!r}")
        self.model, self.lr, self.momentum = model, float(lr), float(momentum)
        self.velocities = [np.zeros_like(p) for p in model.parameters()]

    def step(self) -> None:
        """One step: v <- mu v + g, then theta <- theta - eta v, for every parameter in place.

        Without momentum v is g itself, so the step is theta <- theta - eta g.
        """
        params, grads = self.model.parameters(), self.model.gradients()
        for theta, g, v in zip(params, grads, self.velocities, strict=True):
            if self.momentum:
                v *= self.momentum
                v += g
                g = v
            theta -= self.lr * g


def train_step(
    model: Module, optimizer: SGD, X: ArrayLike, labels: ArrayLike, *, check_input: bool = True
) -> float:
    """One step on one batch: forward, softmax cross-entropy, backward, update; the loss.

    dL/dX is not computed: no parameter needs it.

    Parameters
    ----------
    model : Module
        The network; its output is the logits.
    optimizer : SGD
        Updates ``model``'s parameters with the gradients of this batch.
    X : array of shape (batch, features)
        The batch, in the model's dtype.
    labels : array of ints of shape (batch,)
        Class indices.
    check_input : bool
        With False, X and labels are trusted, as scikit-learn's ``check_input=False`` does:
        no check for shape, dtype, NaN or label range. :func:`train` checks all its data
        once and then steps without checks, which matters for small networks, where the
        checks cost a fifth to a third of a step (chapter 9). Do not pass False with data
        that no one has checked.

    Returns
    -------
    float
        The batch's mean loss before the update.
    """
    if check_input:
        loss, dlogits = softmax_cross_entropy(model.forward(X), labels)
        model.backward(dlogits, input_grad=False)
    else:
        loss, dlogits = cross_entropy_of_indices(model._forward(X), labels)
        model._backward(dlogits, False)
    optimizer.step()
    return loss


@dataclass
class History:
    """Per-epoch training record: mean loss and accuracy on the training data (and test)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


def predict(model: Module, X: ArrayLike) -> np.ndarray:
    """The class with the largest logit, for each row of X."""
    return np.argmax(model.forward(X), axis=1)


def accuracy(model: Module, X: ArrayLike, labels: ArrayLike) -> float:
    """The fraction of rows of X whose predicted class equals the label."""
    return float(np.mean(predict(model, X) == np.asarray(labels)))


def train(
    model: Module,
    X: ArrayLike,
    labels: ArrayLike,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    rng: np.random.Generator,
    momentum: float = 0.0,
    test: tuple[ArrayLike, ArrayLike] | None = None,
    print_every: int = 0,
) -> History:
    """Train ``model`` with mini-batch SGD on softmax cross-entropy; return the history.

    Each epoch shuffles the rows with ``rng`` and takes one SGD step per batch of
    ``batch_size`` rows (the last batch may be smaller). After each epoch the loss and
    accuracy on all the training data (and the accuracy on ``test = (X_test, labels_test)``)
    are recorded; with ``print_every = k`` a one-line summary is printed every k epochs.

    Raises
    ------
    ValueError
        If the data are empty, X and labels differ in length, a label is not a class of the
        model's output, or a setting is out of range.
    """
    X = _training_inputs(X)
    y = _training_labels(labels, len(X))
    # Everything the batches will need is checked here, once, so that each step can skip
    # its checks: X's width and dtype against the model, and the labels against its outputs.
    X = model._check_input(X)
    class_indices(y, len(y), model.forward(X[:1]).shape[-1])
    for name, count in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise ValueError(f"train {name} must be a positive int, got {count!r}")
    optimizer = SGD(model, lr, momentum)
    history = History()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            train_step(model, optimizer, X[batch], y[batch], check_input=False)
        logits = model.forward(X)
        history.loss.append(softmax_cross_entropy(logits, y)[0])
        history.accuracy.append(float(np.mean(np.argmax(logits, axis=1) == y)))
        if test is not None:
            history.test_accuracy.append(accuracy(model, *test))
        if print_every and epoch % print_every == 0:
            print(_summary(epoch, history))
    return history


def _summary(epoch: int, history: History) -> str:
    line = f"epoch {epoch:4d}  loss {history.loss[-1]:.4f}  accuracy {history.accuracy[-1]:.3f}"
    if history.test_accuracy:
        line += f"  test accuracy {history.test_accuracy[-1]:.3f}"
    return line


def _training_inputs(X: ArrayLike) -> np.ndarray:
    X = as_finite_array(X, "X")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, features) with n >= 1, got {X.shape}")
    return X


def _training_labels(labels: ArrayLike, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be 1-D integer class indices, got {y.dtype} {y.shape}")
    if len(y) != n:
        raise ValueError(f"X has {n} rows but labels has {len(y)} entries")
    if y.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got {int(y.min())}")
    return y
