"""Gradient descent for the layer modules: an SGD optimiser and a training loop (chapter 7).

One step of gradient descent with learning rate eta (``lr``) and momentum mu is, for every
parameter theta with gradient g = dC/dtheta from the last backward pass,

    v <- mu v + g,    theta <- theta - eta v,

the convention PyTorch's ``torch.optim.SGD`` uses; mu = 0 is plain gradient descent. The
loop draws mini-batches from a seeded ``rng``, so a run can be repeated exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from backprop.nn import Module, softmax_cross_entropy
from backprop.validation import (
    NotFiniteError,
    as_count,
    as_finite_array,
    as_labels,
    as_positive_number,
    check_generator,
)


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
        self.lr = as_positive_number(lr, "SGD lr")
        if isinstance(momentum, bool) or not isinstance(momentum, int | float):
            raise TypeError(f"SGD momentum must be a number, got {momentum!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1), got {momentum!r}")
        params, grads = model.parameters(), model.gradients()
        if [p.shape for p in params] != [g.shape for g in grads]:
            raise ValueError(
                f"SGD needs one gradient per parameter, of its shape: {model!r} has "
                f"parameters {[p.shape for p in params]}, gradients {[g.shape for g in grads]}"
            )
        self.model, self.momentum = model, float(momentum)
        self.velocities = [np.zeros_like(p) for p in params]
        self._flat, self._updates = _buffers(params)

    def step(self) -> None:
        """One step: v <- mu v + g, then theta <- theta - eta v, for every parameter in place.

        Without momentum v is g itself, so the step is theta <- theta - eta g. Every update
        is computed, into one buffer, and checked before any parameter changes: if one is
        not finite, or so large that its square overflows,
        :class:`~backprop.validation.NotFiniteError` is
        raised and the parameters and velocities are left as they were.
        """
        params, grads = self.model.parameters(), self.model.gradients()
        for g, v, u in zip(grads, self.velocities, self._updates, strict=True):
            if self.momentum:  # u = mu v + g, the new velocity; the step is eta u
                np.multiply(v, self.momentum, out=u)
                u += g
            else:
                np.multiply(g, self.lr, out=u)
        for flat in self._flat:  # with momentum the buffers hold v; the step is eta v
            size = np.vdot(flat, flat)
            if not math.isfinite(size * self.lr * self.lr if self.momentum else size):
                raise NotFiniteError(
                    "an SGD update is not finite or too large to represent; no parameter changed"
                )
        for theta, v, u in zip(params, self.velocities, self._updates, strict=True):
            if self.momentum:
                v[...] = u
                theta -= self.lr * u
            else:
                theta -= u


def _buffers(params: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One flat buffer per dtype, and a view of it shaped like each parameter.

    The updates of all parameters land in these views, so that one dot product per buffer
    checks them all (a check per array costs several times as much for small layers).
    """
    flat = {}
    for dtype in dict.fromkeys(p.dtype for p in params):
        flat[dtype] = np.empty(sum(p.size for p in params if p.dtype == dtype), dtype=dtype)
    used = dict.fromkeys(flat, 0)
    views = []
    for p in params:
        start = used[p.dtype]
        views.append(flat[p.dtype][start : start + p.size].reshape(p.shape))
        used[p.dtype] += p.size
    return list(flat.values()), views


def train_step(model: Module, optimizer: SGD, X: ArrayLike, labels: ArrayLike) -> float:
    """One step on one batch: forward, softmax cross-entropy, backward, update; the loss.

    The model and the loss check what they are given, as they always do (the step's time,
    checks included, is in the performance appendix). A loss that is not finite raises
    before anything is updated, so the parameters stay as they were.

    Parameters
    ----------
    model : Module
        The network; its output is the logits. dC/dX is computed unless
        ``model.needs_input_grad`` is False (:func:`train` sets it so).
    optimizer : SGD
        Updates ``model``'s parameters with the gradients of this batch.
    X : array of shape (batch, features)
        The batch, in the model's dtype.
    labels : array of ints of shape (batch,)
        Class indices.

    Returns
    -------
    float
        The batch's mean loss before the update.

    Raises
    ------
    NotFiniteError
        If the logits or the loss are not finite (the parameters are left as they were).
    """
    loss, dlogits = softmax_cross_entropy(model.forward(X), labels)
    if not math.isfinite(loss):
        raise NotFiniteError(f"the loss must be finite, got {loss}")
    model.backward(dlogits)
    optimizer.step()
    return loss


@dataclass
class History:
    """Per-epoch training record: mean loss and accuracy on the training data (and test)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


def predict(model: Module, X: ArrayLike) -> np.ndarray:
    """The class with the largest logit, for each row of X of shape (n, features)."""
    X = _as_rows(X, "predict X", _dtype_of(model))
    return np.argmax(model.forward(X), axis=1)


def accuracy(model: Module, X: ArrayLike, labels: ArrayLike) -> float:
    """The fraction of rows of X whose predicted class equals the label.

    ``labels`` must be class indices of shape (n,), one per row of X.
    """
    X = _as_rows(X, "accuracy X", _dtype_of(model))
    logits = model.forward(X)
    y = as_labels(labels, len(X), logits.shape[1], "accuracy labels")
    return float(np.mean(np.argmax(logits, axis=1) == y))


def _output_width(model: Module, X: np.ndarray) -> int:
    """The number of classes: the width of the model's output for one row, in eval mode.

    Evaluation mode, so that this probe is not a training batch: a batch-norm layer would
    refuse a batch of one, or count it in its running statistics.
    """
    was_training = model.training
    model.eval()
    try:
        return model.forward(X[:1]).shape[-1]
    finally:
        model.train(was_training)


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
    are recorded in evaluation mode; with ``print_every = k`` a one-line summary is
    printed every k epochs. dC/dX is never computed: no parameter needs it.

    Raises
    ------
    TypeError, ValueError
        Before the first step, if the data are empty, X and labels differ in length, a
        label is not a class of the model's output, or a setting is out of range.
    FloatingPointError
        If the loss stops being finite (the learning rate is usually too large). Training
        stops at that step, before its update: the parameters are those after the last
        finite step.
    """
    check_generator(rng, "train rng")
    epochs, batch_size = as_count(epochs, "train epochs"), as_count(batch_size, "batch_size")
    print_every = as_count(print_every, "train print_every", least=0)
    dtype = _dtype_of(model)
    X = _as_rows(X, "train X", dtype)
    y = as_labels(labels, len(X), _output_width(model, X), "train labels")
    if test is not None:
        X_test = _as_rows(test[0], "train test X", dtype)
        y_test = as_labels(test[1], len(X_test), _output_width(model, X_test))
    optimizer = SGD(model, lr, momentum)
    history = History()
    was_training, needed_input_grad = model.training, model.needs_input_grad
    model.needs_input_grad = False
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                batch = order[start : start + batch_size]
                try:
                    train_step(model, optimizer, X[batch], y[batch])
                except NotFiniteError as error:
                    raise FloatingPointError(
                        f"training diverged in epoch {epoch}: {error}. Training stopped "
                        "before this step's update; the learning rate "
                        f"lr={optimizer.lr:g} may be too large"
                    ) from error
            model.eval()
            try:
                logits = model.forward(X)
                loss = softmax_cross_entropy(logits, y)[0]
            except NotFiniteError as error:
                raise FloatingPointError(
                    f"training diverged in epoch {epoch}: {error}, after its last step "
                    f"(the parameters are finite); the learning rate lr={optimizer.lr:g} may "
                    "be too large"
                ) from error
            history.loss.append(loss)
            history.accuracy.append(float(np.mean(np.argmax(logits, axis=1) == y)))
            if test is not None:
                history.test_accuracy.append(accuracy(model, X_test, y_test))
            if print_every and epoch % print_every == 0:
                print(_summary(epoch, history))
    finally:
        model.train(was_training)
        model.needs_input_grad = needed_input_grad
    return history


def _summary(epoch: int, history: History) -> str:
    line = f"epoch {epoch:4d}  loss {history.loss[-1]:.4f}  accuracy {history.accuracy[-1]:.3f}"
    if history.test_accuracy:
        line += f"  test accuracy {history.test_accuracy[-1]:.3f}"
    return line


def _dtype_of(model: Module) -> np.dtype | None:
    """The dtype of the model's first parameter, which integer inputs are converted to."""
    return next((p.dtype for p in model.parameters()), None)


def _as_rows(X: ArrayLike, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """X as a finite float array of shape (n, features), n >= 1 (integers become ``dtype``).

    The features may have several axes, as images do: (n, channels, height, width).
    """
    X = as_finite_array(X, name, dtype)
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, features) with n >= 1, got {X.shape}")
    return X
