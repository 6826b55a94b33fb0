"""A scalar reverse-mode automatic-differentiation engine (chapters 1 and 2).

Every arithmetic operation on :class:`Value` objects records a node of a
computational graph. Each node keeps its parents and, computed during the
forward pass, the local derivative of its output with respect to each parent.
:meth:`Value.backward` then walks the graph once, from the output back to the
leaves, and applies the chain rule at every node:

    parent.grad += local_derivative * node.grad

The ``+=`` is the multivariable chain rule: a value used in several places
receives the sum of the gradients that flow back along every path.
"""

from __future__ import annotations

import itertools
import math
from numbers import Real


def _as_float(data: object, what: str) -> float:
    """Return ``data`` as a float, or raise if it is not a real, non-NaN number."""
    if type(data) is float and data == data:  # the common case, without the checks below
        return data
    if isinstance(data, bool) or not isinstance(data, Real):
        raise TypeError(f"{what} must be an int or float, got {type(data).__name__}")
    value = float(data)
    if math.isnan(value):
        raise ValueError(f"{what} must not be NaN, got {value}")
    return value


class Value:
    """A scalar node of a computational graph, holding its value and its gradient.

    Parameters
    ----------
    data
        The number this node holds.
    label
        An optional name, shown when the graph is drawn.

    Attributes
    ----------
    data : float
        The value computed by the forward pass.
    grad : float
        dC/d(this node) after ``C.backward()``; 0.0 before.
    op : str
        The operation that produced this node (``""`` for a leaf).

    Examples
    --------
    >>> x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)
    """

    # A node has at most two parents, kept in slots of their own rather than in tuples:
    # one object per node instead of three is a third of the work for Python's garbage
    # collector, which otherwise dominates the time to build a large graph.
    __slots__ = ("data", "grad", "label", "op", "_a", "_b", "_da", "_db", "_mark")

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _as_float(data, "Value data")
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._a: Value | None = None
        self._b: Value | None = None
        self._da = self._db = 0.0
        self._mark = 0

    @property
    def parents(self) -> tuple[Value, ...]:
        """The nodes this node was computed from, in operand order."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each parent, fixed by the forward pass."""
        if self._a is None:
            return ()
        return (self._da,) if self._b is None else (self._da, self._db)

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # -- binary operations ------------------------------------------------------

    def __add__(self, other: Value | float) -> Value:
        other = _lift(other, "+")
        return _binary(self.data + other.data, "+", self, other, 1.0, 1.0)

    def __sub__(self, other: Value | float) -> Value:
        other = _lift(other, "-")
        return _binary(self.data - other.data, "-", self, other, 1.0, -1.0)

    def __mul__(self, other: Value | float) -> Value:
        other = _lift(other, "*")
        return _binary(self.data * other.data, "*", self, other, other.data, self.data)

    def __truediv__(self, other: Value | float) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError("Value division by a Value whose data is 0.0")
        quotient = self.data / other.data
        return _binary(quotient, "/", self, other, 1.0 / other.data, -quotient / other.data)

    def __pow__(self, exponent: float) -> Value:
        n = _as_float(exponent, "the exponent of Value **")
        x = self.data
        if x < 0.0 and not n.is_integer():
            raise ValueError(
                f"Value ** {n:g} needs a non-negative base for a non-integer exponent, got {x:g}"
            )
        if x == 0.0 and n < 1.0 and n != 0.0:
            infinite = f"0 ** {n:g} itself" if n < 0 else f"its derivative {n:g} x ** {n - 1:g}"
            raise ValueError(f"Value ** {n:g} at x = 0: {infinite} is infinite there")
        try:
            power = x**n
        except OverflowError:
            raise OverflowError(
                f"Value ** {n:g} of {x:g} overflows a float (largest about 1.8e308)"
            ) from None
        return _unary(power, f"**{n:g}", self, 0.0 if n == 0.0 else n * x ** (n - 1))

    def __radd__(self, other: float) -> Value:
        return _lift(other, "+") + self

    def __rsub__(self, other: float) -> Value:
        return _lift(other, "-") - self

    def __rmul__(self, other: float) -> Value:
        return _lift(other, "*") * self

    def __rtruediv__(self, other: float) -> Value:
        return _lift(other, "/") / self

    def __neg__(self) -> Value:
        return _unary(-self.data, "neg", self, -1.0)

    def max(self, other: Value | float) -> Value:
        """max(self, other); the gradient is routed to the larger input (to self on a tie)."""
        other = _lift(other, "max")
        self_wins = self.data >= other.data
        if self_wins:
            return _binary(self.data, "max", self, other, 1.0, 0.0)
        return _binary(other.data, "max", self, other, 0.0, 1.0)

    # -- functions of one value -------------------------------------------------

    def exp(self) -> Value:
        """e^x; its derivative is e^x itself."""
        if self.data > _LARGEST_EXP:
            raise OverflowError(
                f"Value.exp of {self.data:g} overflows a float: e^x is finite only for "
                f"x <= {_LARGEST_EXP:.2f}"
            )
        out = math.exp(self.data)
        return _unary(out, "exp", self, out)

    def log(self) -> Value:
        """Natural logarithm; derivative 1/x. Defined for x > 0 only."""
        if self.data <= 0.0:
            raise ValueError(f"Value.log needs data > 0, got {self.data:g}")
        return _unary(math.log(self.data), "log", self, 1.0 / self.data)

    def tanh(self) -> Value:
        """tanh(x); derivative 1 - tanh(x)^2."""
        t = math.tanh(self.data)
        return _unary(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        """sigma(x) = 1 / (1 + e^-x); derivative sigma(x) (1 - sigma(x))."""
        s = _sigmoid(self.data)
        return _unary(s, "sigmoid", self, s * (1.0 - s))

    def relu(self) -> Value:
        """max(0, x); derivative 1 for x > 0 and 0 otherwise (0 at the kink x = 0)."""
        positive = self.data > 0.0
        if positive:
            return _unary(self.data, "relu", self, 1.0)
        return _unary(0.0, "relu", self, 0.0)

    # -- the backward pass ------------------------------------------------------

    def backward(self) -> None:
        """Back-propagate from this node: set every ancestor's ``grad`` to d(self)/d(node).

        Leaves (nodes made by ``Value(...)``) *accumulate*, like PyTorch: calling
        ``backward`` twice on the same graph doubles their ``grad``. Reset them
        with ``leaf.grad = 0.0`` (or :meth:`zero_grad`) between passes. Interior
        nodes are recomputed from zero on every call, so a second call sends
        exactly the same gradient into the leaves as the first.
        """
        order = topological_order(self)
        for node in order:
            if node._a is not None:
                node.grad = 0.0
        self.grad = 1.0 if self._a is not None else self.grad + 1.0
        for node in reversed(order):
            a = node._a
            if a is not None:
                grad = node.grad
                a.grad += node._da * grad
                b = node._b
                if b is not None:
                    b.grad += node._db * grad

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 on this node and every node it was computed from."""
        for node in topological_order(self):
            node.grad = 0.0


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all of its parents.

    The depth-first search keeps its own stack instead of recursing, so graphs
    of any depth work, and visits parents in operand order, so the order is the
    same on every run. A node stays on the stack until its parents are done: the
    first time it is on top its parents are pushed, the second time it is emitted.
    Each search stamps the nodes it reaches with marks of its own (two numbers no
    earlier search used), which is quicker than keeping sets of visited nodes.
    """
    stamp = next(_searches)
    expanded, done = 2 * stamp, 2 * stamp + 1
    order: list[Value] = []
    stack = [root]
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark == done:
            stack.pop()
        elif mark == expanded:
            stack.pop()
            node._mark = done
            order.append(node)
        else:
            node._mark = expanded
            a, b = node._a, node._b
            if b is not None and b._mark != done:
                stack.append(b)
            if a is not None and a._mark != done:
                stack.append(a)
    return order


_searches = itertools.count(1)
_LARGEST_EXP = math.log(2.0**1023 * (2.0 - 2.0**-52))  # ln of the largest float, 709.78


def _unary(data: float, op: str, a: Value, da: float) -> Value:
    """The node ``op(a) = data`` with d(data)/da = da, filled in without ``__init__``.

    ``data`` is already a float, so of ``__init__``'s checks only the one for NaN is left.
    """
    if data != data:
        raise ValueError(f"Value {op} gave NaN")
    node = _new_value(Value)
    node.data, node.grad, node.label, node.op = data, 0.0, "", op
    node._a, node._b, node._da, node._db, node._mark = a, None, da, 0.0, 0
    return node


def _binary(data: float, op: str, a: Value, b: Value, da: float, db: float) -> Value:
    """The node ``op(a, b) = data`` with local gradients da and db (see :func:`_unary`)."""
    if data != data:
        raise ValueError(f"Value {op} gave NaN")
    node = _new_value(Value)
    node.data, node.grad, node.label, node.op = data, 0.0, "", op
    node._a, node._b, node._da, node._db, node._mark = a, b, da, db, 0
    return node


_new_value = object.__new__


def _lift(other: object, op: str) -> Value:
    """Wrap a number as a leaf Value; reject anything that is not a number or a Value."""
    if isinstance(other, Value):
        return other
    if isinstance(other, bool) or not isinstance(other, Real):
        raise TypeError(
            f"Value {op} supports int, float or Value operands, got {type(other).__name__}"
        )
    return Value(other)


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), written so that neither branch overflows."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
