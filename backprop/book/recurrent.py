"""Recurrent networks, measured and trained (chapter 11).

- :func:`adding_problem`: the adding problem of Hochreiter and Schmidhuber (1997), a task
  whose answer depends on two inputs far apart in time;
- :func:`jacobian_norms`: the norms ||dh_T/dh_(T-k)||_2 of a tanh RNN's Jacobian products,
  which are at most sigma_max(W_hh)^k;
- :func:`gradient_norms_by_lag`: the size of dC/dh_0 when the cost reads h_k, for a
  recurrent layer of :mod:`backprop.nn` (RNN or LSTM), lag by lag;
- :func:`clip_by_global_norm`: gradient clipping, g <- g min(1, tau / ||g||);
- :class:`LastStepRegressor` and :func:`train_regressor`: a recurrent layer with a linear
  read-out of its last hidden state, trained on mean squared error by SGD with momentum
  and clipping (:func:`backprop.optim.train` fits classifiers, not this).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from backprop.nn import Linear, Module, mse
from backprop.optim import SGD


def adding_problem(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw n sequences of the adding problem, of length T, stored sequence first.

    Each step t carries two inputs: a value drawn uniformly from [0, 1), and a marker, 1 at
    two steps and 0 elsewhere. One marked step is drawn uniformly from the first half
    (t < T // 2), the other from the second half. The target is the sum of the two marked
    values, so a predictor that ignores the inputs does best with their mean, 1, and has the
    mean squared error Var(u_1 + u_2) = 2/12 = 1/6.

    Returns
    -------
    x : array of shape (T, n, 2)
        x[t, i] = (value, marker) of sequence i at step t.
    y : array of shape (n, 1)
        The targets.
    """
    if T < 2 or n < 1:
        raise ValueError(f"adding_problem needs T >= 2 and n >= 1, got T={T}, n={n}")
    values = rng.uniform(size=(T, n))
    markers = np.zeros((T, n))
    columns = np.arange(n)
    markers[rng.integers(0, T // 2, size=n), columns] = 1.0
    markers[rng.integers(T // 2, T, size=n), columns] = 1.0
    y = np.sum(values * markers, axis=0)[:, None]
    return np.stack([values, markers], axis=-1), y


def jacobian_norms(hidden: np.ndarray, W_hh: np.ndarray) -> np.ndarray:
    """||dh_T/dh_(T-k)||_2 for k = 1, ..., T, for one sequence of a tanh RNN.

    With h_t = tanh(z_t), z_t = W_ih x_t + W_hh h_(t-1) + b, one step's Jacobian with rows
    for the outputs (numerator layout) is J_t = diag(1 - h_t^2) W_hh, and dh_T/dh_(T-k) =
    J_T J_(T-1) ... J_(T-k+1). The book's denominator layout has the transposes,
    W_hh^T diag(1 - h_t^2), multiplied in the other order; the 2-norm (largest singular
    value) of a matrix and of its transpose is the same.

    Parameters
    ----------
    hidden : array of shape (T, H)
        h_1, ..., h_T of one sequence.
    W_hh : array of shape (H, H)

    Returns
    -------
    array of shape (T,)
        Entry k - 1 is ||dh_T/dh_(T-k)||_2.
    """
    product = np.eye(W_hh.shape[0])
    norms = []
    for h in hidden[::-1]:
        product = product @ ((1.0 - h**2)[:, None] * W_hh)
        norms.append(np.linalg.norm(product, 2))
    return np.array(norms)


def gradient_norms_by_lag(
    layer: Module, x: np.ndarray, u: np.ndarray, lags: Sequence[int]
) -> np.ndarray:
    """Mean over the batch of ||dC/dh_0|| for C = sum over examples of u . h_k, lag by lag.

    For each lag k the layer runs on the first k steps of ``x`` from a zero state, and the
    cost reads only the last hidden state, h_k; the layer's ``dh0`` after the backward pass
    is then dC/dh_0, the gradient that has travelled back k steps.

    Parameters
    ----------
    layer
        A recurrent layer of :mod:`backprop.nn` (``RNN`` or ``LSTM``): ``forward(x)`` maps
        (T, N, inputs) to (T, N, H), and ``backward`` leaves dC/dh_0 in ``layer.dh0``.
    x : array of shape (T, N, inputs), T >= max(lags)
    u : array of shape (N, H)
        The gradient sent into h_k (unit vectors make the result a ratio of norms).
    lags
        The lags k >= 1 to measure.
    """
    norms = []
    for k in lags:
        hidden = layer.forward(x[:k])
        grad = np.zeros_like(hidden)
        grad[-1] = u
        layer.backward(grad)
        norms.append(np.mean(np.linalg.norm(layer.dh0, axis=1)))
    return np.array(norms)


def clip_by_global_norm(grads: Sequence[np.ndarray], max_norm: float) -> float:
    """Scale every gradient in place by min(1, max_norm / ||g||); return ||g|| before.

    ||g|| is the norm of all the gradients together, as one vector, so clipping shortens
    the step and keeps its direction.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads)))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm


class LastStepRegressor(Module):
    """A recurrent layer read out at its last step: prediction = Linear(h_T), of shape (N, 1).

    The backward pass sends the read-out's gradient into h_T only (dC/dh_t = 0 for t < T),
    and the recurrent layer carries it back through time.
    """

    def __init__(self, recurrent: Module, hidden_size: int, rng: np.random.Generator):
        self.recurrent = recurrent
        self.head = Linear(hidden_size, 1, rng)
        self._hidden_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Predictions of shape (N, 1) for x of shape (T, N, inputs)."""
        hidden = self.recurrent.forward(x)
        self._hidden_shape = hidden.shape
        return self.head.forward(hidden[-1])

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """dC/dx, shape (T, N, inputs), given dC/d(prediction) of shape (N, 1)."""
        if self._hidden_shape is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        grad = np.zeros(self._hidden_shape)
        grad[-1] = self.head.backward(grad_out)
        return self.recurrent.backward(grad)

    def parameters(self) -> list[np.ndarray]:
        """The recurrent layer's parameters, then the read-out's W and b."""
        return self.recurrent.parameters() + self.head.parameters()

    def gradients(self) -> list[np.ndarray]:
        """The gradients of :meth:`parameters`, in the same order."""
        return self.recurrent.gradients() + self.head.gradients()

    def __repr__(self) -> str:
        return f"LastStepRegressor({type(self.recurrent).__name__})"


@dataclass
class RegressionHistory:
    """What :func:`train_regressor` records at every step.

    ``loss`` holds each batch's mean squared error before the update, ``grad_norm`` the
    gradient's norm before clipping.
    """

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)

    def window_means(self, window: int) -> tuple[np.ndarray, np.ndarray]:
        """The mean loss over each run of ``window`` consecutive steps, and its last step.

        A shorter last run is dropped. Returns (steps, means).
        """
        count = len(self.loss) // window
        means = np.mean(np.reshape(self.loss[: count * window], (count, window)), axis=1)
        return window * np.arange(1, count + 1), means


def train_regressor(
    model: Module,
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    lr: float,
    momentum: float,
    max_norm: float,
) -> RegressionHistory:
    """SGD with momentum on the mean squared error, gradients clipped to ``max_norm``.

    One step per batch (x, y): forward, C = mean (prediction - y)^2, backward, clip by the
    global norm (:func:`clip_by_global_norm`), update (:class:`~backprop.optim.SGD`).
    """
    optimizer = SGD(model, lr, momentum)
    history = RegressionHistory()
    for x, y in batches:
        loss, grad = mse(model.forward(x), y)
        model.backward(grad)
        history.loss.append(loss)
        history.grad_norm.append(clip_by_global_norm(model.gradients(), max_norm))
        optimizer.step()
    return history
