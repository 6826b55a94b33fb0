"""Layers as modules answering three questions: output, parameter gradients, gradient back.

Every module has ``forward(x)``, which computes the output and keeps what the backward pass
will need, and ``backward(grad_out) -> grad_in``, which turns dL/d(output) into
dL/d(input) and, for a layer with parameters, stores dL/dW in ``dW`` and dL/db in ``db``.
Inputs are batches with one example per row, shape (batch, n_in); a single example of
shape (n_in,) works too. The losses live in :mod:`backprop.losses` and are re-exported here.

``backward`` overwrites ``dW`` and ``db``: a module object is meant to be used once per
forward pass. To use the same weights twice in one computation, add the two gradients.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from backprop.activations import sigmoid
from backprop.losses import mse, softmax, softmax_cross_entropy
from backprop.validation import as_batch, as_finite_array, check_same_shape

__all__ = [
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "mse",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
]


class Module(ABC):
    """A differentiable piece of a network: ``forward`` then ``backward``."""

    _input: np.ndarray | None = None

    @abstractmethod
    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return the module's output for input ``x`` and remember what backward needs."""

    @abstractmethod
    def backward(self, grad_out: ArrayLike) -> np.ndarray:
        """Return dL/d(input) given ``grad_out`` = dL/d(output) of the last forward call."""

    def parameters(self) -> list[np.ndarray]:
        """The parameter arrays, updated in place by an optimiser (none by default)."""
        return []

    def gradients(self) -> list[np.ndarray]:
        """dL/d(parameter) for each of :meth:`parameters`, in the same order."""
        return []

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Same as :meth:`forward`."""
        return self.forward(x)

    def _require_forward(self) -> np.ndarray:
        if self._input is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        return self._input

    def _grad_out(self, grad_out: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
        grad = as_finite_array(grad_out, f"{self!r} grad_out")
        check_same_shape(grad, shape, f"{self!r} grad_out")
        return grad


class Linear(Module):
    """Affine layer z = x W^T + b, with W of shape (n_out, n_in) as in PyTorch's nn.Linear.

    Backward: dW = grad_out^T x (summed over the batch), db = column sums of grad_out,
    grad_in = grad_out W. Weights and biases start uniform in ±1/sqrt(n_in), as PyTorch does.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    rng : numpy.random.Generator
        The source of the initial weights (explicit, so that runs reproduce).
    bias : bool
        Whether the layer has a bias b.
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, bias: bool = True):
        for name, width in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
                raise ValueError(f"Linear {name} must be a positive int, got {width!r}")
        if not isinstance(rng, np.random.Generator):
            kind = type(rng).__name__
            raise TypeError(f"Linear rng must be a numpy.random.Generator, got {kind}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        bound = 1.0 / np.sqrt(n_in)
        self.W = rng.uniform(-bound, bound, size=(self.n_out, self.n_in))
        self.b = rng.uniform(-bound, bound, size=self.n_out) if bias else None
        self.dW = np.zeros_like(self.W)
        self.db = None if self.b is None else np.zeros_like(self.b)

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, bias={self.b is not None})"

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return z = x W^T + b for x of shape (batch, n_in) or (n_in,)."""
        self._input = as_batch(x, self.n_in, f"{self!r} input")
        z = self._input @ self.W.T
        return z if self.b is None else z + self.b

    def backward(self, grad_out: ArrayLike) -> np.ndarray:
        """Store dW = grad_out^T x and db = column sums of grad_out; return grad_out W."""
        x = self._require_forward()
        grad = self._grad_out(grad_out, (*x.shape[:-1], self.n_out))
        rows_out, rows_in = grad.reshape(-1, self.n_out), x.reshape(-1, self.n_in)
        self.dW = rows_out.T @ rows_in
        if self.b is not None:
            self.db = rows_out.sum(axis=0)
        return grad @ self.W

    def parameters(self) -> list[np.ndarray]:
        """[W, b], or [W] without bias."""
        return [self.W] if self.b is None else [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        """[dW, db], or [dW] without bias, from the last backward call."""
        return [self.dW] if self.db is None else [self.dW, self.db]


class _Activation(Module):
    """An element-by-element function a = f(z); backward multiplies by f'(z)."""

    _output: np.ndarray

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, x: ArrayLike) -> np.ndarray:
        self._input = as_finite_array(x, f"{self!r} input")
        self._output = self._apply(self._input)
        return self._output

    def backward(self, grad_out: ArrayLike) -> np.ndarray:
        z = self._require_forward()
        return self._grad_out(grad_out, z.shape) * self._derivative()

    @abstractmethod
    def _apply(self, z: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _derivative(self) -> np.ndarray: ...


class Sigmoid(_Activation):
    """Sigmoid: a = 1 / (1 + e^-z); backward multiplies by a (1 - a)."""

    def _apply(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(z)

    def _derivative(self) -> np.ndarray:
        return self._output * (1.0 - self._output)


class Tanh(_Activation):
    """Tanh: a = tanh z; backward multiplies by 1 - a^2."""

    def _apply(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z)

    def _derivative(self) -> np.ndarray:
        return 1.0 - self._output**2


class ReLU(_Activation):
    """ReLU: a = max(z, 0); backward passes the gradient where z > 0 and blocks it elsewhere.

    At z = 0 exactly the derivative does not exist; 0 is used, as in PyTorch.
    """

    def _apply(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0)

    def _derivative(self) -> np.ndarray:
        return (self._input > 0).astype(np.float64)


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse, each feeding the one before."""

    def __init__(self, *modules: Module):
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes modules, got {type(module).__name__}")
        self.modules = list(modules)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(m) for m in self.modules) + ")"

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Feed x through every module in order."""
        self._input = np.asarray(x)
        for module in self.modules:
            x = module.forward(x)
        return np.asarray(x)

    def backward(self, grad_out: ArrayLike) -> np.ndarray:
        """Feed grad_out back through every module in reverse order."""
        self._require_forward()
        for module in reversed(self.modules):
            grad_out = module.backward(grad_out)
        return np.asarray(grad_out)

    def parameters(self) -> list[np.ndarray]:
        """Every module's parameters, in order."""
        return [p for module in self.modules for p in module.parameters()]

    def gradients(self) -> list[np.ndarray]:
        """Every module's parameter gradients, in the order of :meth:`parameters`."""
        return [g for module in self.modules for g in module.gradients()]
