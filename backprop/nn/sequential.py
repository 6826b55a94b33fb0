"""A network as a chain of modules: ``Sequential`` (chapters 4 and 7)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.nn.activations import Activation
from backprop.nn.linear import Linear
from backprop.nn.module import Module, as_grad_out, saved_for_backward
from backprop.validation import as_float_array, check_finite


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse, each feeding the one before.

    A Sequential is the door of a network. ``forward`` checks its input once (real numbers,
    all finite, in the model's dtype) and ``backward`` checks dC/d(output) once (finite,
    shaped like the last output); the layers inside check only what costs nothing, shapes
    and dtypes. When it is made, it checks that consecutive
    :class:`~backprop.nn.linear.Linear` layers agree on their widths (inside nested
    Sequentials too) and that no module appears twice: a module keeps one forward call's
    input for its backward pass, so a second use would overwrite the first and leave wrong
    gradients.
    """

    def __init__(self, *modules: Module):
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes modules, got {type(module).__name__}")
        leaves = list(_leaves(modules))
        _check_each_used_once(leaves)
        _check_widths(leaves)
        self.modules = list(modules)
        self._out_shape: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(m) for m in self.modules) + ")"

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def forward(self, x: ArrayLike) -> np.ndarray:
        """Check x once, then feed it through every module in order."""
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            x = as_float_array(x, "input", self._dtype(), owner=self)  # e.g. ints
        check_finite(x, "input", owner=self)
        for module in self.modules:
            x = module.forward(x)
        self._out_shape = x.shape
        return x

    def backward(self, grad_out: ArrayLike) -> np.ndarray | None:
        """Check dC/d(output) once, then feed it back through the modules in reverse.

        Returns dC/d(input), or None when ``needs_input_grad`` is False (then the first
        module skips that product).
        """
        grad = as_grad_out(self, grad_out, saved_for_backward(self, self._out_shape))
        check_finite(grad, "grad_out", owner=self)
        for module in reversed(self.modules):
            grad = module.backward(grad)
        return grad

    @property
    def needs_input_grad(self) -> bool:
        """Whether dC/d(input) is wanted (the first module's flag, which this sets)."""
        return self.modules[0].needs_input_grad if self.modules else True

    @needs_input_grad.setter
    def needs_input_grad(self, value: bool) -> None:
        if self.modules:
            self.modules[0].needs_input_grad = bool(value)

    def parameters(self) -> list[np.ndarray]:
        """Every module's parameters, in order."""
        return [p for module in self.modules for p in module.parameters()]

    def gradients(self) -> list[np.ndarray]:
        """Every module's parameter gradients, in the order of :meth:`parameters`."""
        return [g for module in self.modules for g in module.gradients()]

    def train(self, mode: bool = True) -> Sequential:
        """Set training (or evaluation) mode here and in every module; return self."""
        super().train(mode)
        for module in self.modules:
            module.train(mode)
        return self

    def astype(self, dtype: DTypeLike) -> Sequential:
        """Convert every module's parameters to ``dtype``; return self."""
        for module in self.modules:
            module.astype(dtype)
        return self

    def _dtype(self) -> np.dtype | None:
        """The dtype of the first parameter, which integer inputs are converted to."""
        return next((p.dtype for p in self.parameters()), None)


def _leaves(modules: Iterable[Module]) -> Iterator[Module]:
    """The modules in order, with every nested Sequential opened up."""
    for module in modules:
        if isinstance(module, Sequential):
            yield from _leaves(module.modules)
        else:
            yield module


def _check_each_used_once(leaves: list[Module]) -> None:
    first_place: dict[int, int] = {}
    for index, module in enumerate(leaves):
        if id(module) in first_place:
            raise ValueError(
                f"Sequential holds {module!r} twice (places {first_place[id(module)]} and "
                f"{index}, counting inside nested Sequentials): its backward pass would see "
                "only the last input. Use two modules; to share weights, give them the same "
                "arrays and add their gradients"
            )
        first_place[id(module)] = index


def _check_widths(leaves: list[Module]) -> None:
    """Raise a ValueError if a Linear layer's n_in differs from the width that reaches it.

    Activations keep the width; a module of another kind makes it unknown.
    """
    width, source = None, None
    for index, module in enumerate(leaves):
        if isinstance(module, Linear):
            if width is not None and module.n_in != width:
                raise ValueError(
                    f"Sequential: {module!r} (place {index}) takes {module.n_in} inputs, but "
                    f"{leaves[source]!r} (place {source}) gives {width}"
                )
            width, source = module.n_out, index
        elif not isinstance(module, Activation):
            width = None
