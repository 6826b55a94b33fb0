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
from contextlib import contextmanager

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

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
    """A differentiable piece of a network: ``forward`` then ``backward``.

    The public ``forward`` and ``backward`` check their argument and then call ``_forward``
    and ``_backward``, which do the arithmetic on arrays already checked. A
    :class:`Sequential` checks once at its own door and then chains the unchecked methods,
    so a deep network pays for one check per call, not one per layer.
    """

    _input: np.ndarray | None = None

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Return the module's output for input ``x`` and remember what backward needs."""
        return self._forward(self._check_input(x))

    def backward(self, grad_out: ArrayLike, input_grad: bool = True) -> np.ndarray | None:
        """Return dL/d(input) given ``grad_out`` = dL/d(output) of the last forward call.

        Parameter gradients are stored on the module. With ``input_grad=False`` the
        gradient with respect to the input is not computed and None is returned: a
        training step has no use for dL/dX, and skipping it saves one matrix product.
        """
        x = self._require_forward()
        with self._naming_errors():
            grad = as_finite_array(grad_out, "grad_out", x.dtype)
            check_same_shape(grad, self._output_shape(), "grad_out")
        return self._backward(grad, input_grad)

    @abstractmethod
    def _forward(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _backward(self, grad: np.ndarray, input_grad: bool) -> np.ndarray | None: ...

    def _check_input(self, x: ArrayLike) -> np.ndarray:
        with self._naming_errors():
            return as_finite_array(x, "input")

    @contextmanager
    def _naming_errors(self) -> Iterator[None]:
        """Put the module's name in front of a failed check's message.

        The name is formatted only when a check fails: a check that passes costs the
        check alone, which matters for small layers called thousands of times.
        """
        try:
            yield
        except (TypeError, ValueError) as error:
            raise type(error)(f"{self!r} {error}") from None

    def _output_shape(self) -> tuple[int, ...]:
        return self._require_forward().shape

    def parameters(self) -> list[np.ndarray]:
        """The parameter arrays, updated in place by an optimiser (none by default)."""
        return []

    def gradients(self) -> list[np.ndarray]:
        """dL/d(parameter) for each of :meth:`parameters`, in the same order."""
        return []

    def astype(self, dtype: DTypeLike) -> Module:
        """Convert the parameters to ``dtype`` (float32 or float64) in place; return self.

        A model in float32 takes float32 inputs and computes its outputs and gradients in
        float32, which halves memory traffic and roughly doubles the speed of the matrix
        products. The book's gradient checks use float64, the default.
        """
        return self

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Same as :meth:`forward`."""
        return self.forward(x)

    def _require_forward(self) -> np.ndarray:
        if self._input is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        return self._input


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    """``dtype`` as a NumPy dtype, if it is float32 or float64."""
    resolved = np.dtype(dtype)
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


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
    dtype : float32 or float64
        The parameters' dtype, which inputs must share (integer inputs are converted).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        rng: np.random.Generator,
        bias: bool = True,
        dtype: DTypeLike = np.float64,
    ):
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
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.astype(dtype)

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, bias={self.b is not None})"

    def astype(self, dtype: DTypeLike) -> Linear:
        """Convert W and b (and any stored gradients) to ``dtype``; return self."""
        dtype = _float_dtype(dtype)
        self.W = self.W.astype(dtype, copy=False)
        self.b = None if self.b is None else self.b.astype(dtype, copy=False)
        self.dW = np.zeros_like(self.W)
        self.db = None if self.b is None else np.zeros_like(self.b)
        self._input = None
        return self

    def _check_input(self, x: ArrayLike) -> np.ndarray:
        with self._naming_errors():
            return as_batch(x, self.n_in, "input", self.W.dtype)

    def _output_shape(self) -> tuple[int, ...]:
        return (*self._require_forward().shape[:-1], self.n_out)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Return z = x W^T + b (the bias added in place, into the product)."""
        self._input = x
        z = x @ self.W.T
        if self.b is not None:
            z += self.b
        return z

    def _backward(
        self,
        grad: np.ndarray,
        input_grad: bool,
    ) -> np.ndarray | None:
        """Store dW = grad^T x and db = column sums of grad; return grad W."""
        rows_out = grad.reshape(-1, self.n_out)
        rows_in = self._input.reshape(-1, self.n_in)
        self.dW = rows_out.T @ rows_in
        if self.b is not None:
            self.db = rows_out.sum(axis=0)
        return grad @ self.W if input_grad else None

    def parameters(self) -> list[np.ndarray]:
        """[W, b], or [W] without bias."""
        return [self.W] if self.b is None else [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        """[dW, db], or [dW] without bias, from the last backward call."""
        return [self.dW] if self.db is None else [self.dW, self.db]


class _Activation(Module):
    """An element-by-element function a = f(z); backward multiplies by f'(z).

    It computes in the input's dtype (float32 or float64).
    """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _backward(self, grad: np.ndarray, input_grad: bool) -> np.ndarray | None:
        return self._times_derivative(grad) if input_grad else None

    @abstractmethod
    def _times_derivative(self, grad: np.ndarray) -> np.ndarray: ...


class Sigmoid(_Activation):
    """Sigmoid: a = 1 / (1 + e^-z); backward multiplies by a (1 - a)."""

    def _forward(self, z: np.ndarray) -> np.ndarray:
        self._input = z
        self._output = sigmoid(z)
        return self._output

    def _times_derivative(self, grad: np.ndarray) -> np.ndarray:
        a = self._output
        return grad * a * (1.0 - a)


class Tanh(_Activation):
    """Tanh: a = tanh z; backward multiplies by 1 - a^2."""

    def _forward(self, z: np.ndarray) -> np.ndarray:
        self._input = z
        self._output = np.tanh(z)
        return self._output

    def _times_derivative(self, grad: np.ndarray) -> np.ndarray:
        a = self._output
        return grad * (1.0 - a * a)


class ReLU(_Activation):
    """ReLU: a = max(z, 0); backward passes the gradient where z > 0 and blocks it elsewhere.

    At z = 0 exactly the derivative does not exist; 0 is used, as in PyTorch.
    """

    def _forward(self, z: np.ndarray) -> np.ndarray:
        self._input = z
        return np.maximum(z, 0.0)

    def _times_derivative(self, grad: np.ndarray) -> np.ndarray:
        return grad * (self._input > 0.0)


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse, each feeding the one before.

    The input is checked once, by the first module; the widths of consecutive
    :class:`Linear` layers are checked when the network is made.
    """

    def __init__(self, *modules: Module):
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes modules, got {type(module).__name__}")
        _check_widths(modules)
        self.modules = list(modules)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(m) for m in self.modules) + ")"

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def _check_input(self, x: ArrayLike) -> np.ndarray:
        return self.modules[0]._check_input(x) if self.modules else np.asarray(x)

    def _output_shape(self) -> tuple[int, ...]:
        return self.modules[-1]._output_shape() if self.modules else self._input.shape

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Feed x through every module in order."""
        self._input = x
        for module in self.modules:
            x = module._forward(x)
        return x

    def _backward(self, grad: np.ndarray, input_grad: bool) -> np.ndarray | None:
        """Feed the gradient back through every module in reverse order.

        The first module is asked for dL/d(input) only if the caller wants it.
        """
        for index in range(len(self.modules) - 1, -1, -1):
            grad = self.modules[index]._backward(grad, input_grad or index > 0)
        return grad

    def parameters(self) -> list[np.ndarray]:
        """Every module's parameters, in order."""
        return [p for module in self.modules for p in module.parameters()]

    def gradients(self) -> list[np.ndarray]:
        """Every module's parameter gradients, in the order of :meth:`parameters`."""
        return [g for module in self.modules for g in module.gradients()]

    def astype(self, dtype: DTypeLike) -> Sequential:
        """Convert every module's parameters to ``dtype``; return self."""
        for module in self.modules:
            module.astype(dtype)
        return self


def _check_widths(modules: tuple[Module, ...]) -> None:
    """Raise a ValueError if a Linear layer's n_in differs from the width that reaches it."""
    width, source = None, None
    for index, module in enumerate(modules):
        if isinstance(module, Linear):
            if width is not None and module.n_in != width:
                raise ValueError(
                    f"Sequential module {index}, {module!r}, takes {module.n_in} inputs, "
                    f"but module {source}, {modules[source]!r}, gives {width}"
                )
            width, source = module.n_out, index
