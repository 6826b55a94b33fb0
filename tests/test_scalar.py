"""backprop.scalar.Value: every operation against SymPy and finite differences."""

import math

import autograd.numpy as anp
import pytest
import sympy as sp
from autograd import grad as autograd_grad

from backprop.gradcheck import derivative
from backprop.scalar import Value, topological_order

pytestmark = pytest.mark.ch02

X, Y = sp.symbols("x y", real=True)

# name, the operation on Values (or a Value and a number), the same operation in SymPy,
# and points (x, y) away from kinks and outside no domain boundary.
BINARY = [
    ("add", lambda a, b: a + b, lambda x, y: x + y),
    ("sub", lambda a, b: a - b, lambda x, y: x - y),
    ("mul", lambda a, b: a * b, lambda x, y: x * y),
    ("truediv", lambda a, b: a / b, lambda x, y: x / y),
    ("max", lambda a, b: a.max(b), lambda x, y: sp.Max(x, y)),
    ("mixed", lambda a, b: (a * b + a / b - b) * a, lambda x, y: (x * y + x / y - y) * x),
]
UNARY = [
    ("radd", lambda a: 2.5 + a, lambda x: 2.5 + x),
    ("rsub", lambda a: 2.5 - a, lambda x: 2.5 - x),
    ("rmul", lambda a: 2.5 * a, lambda x: 2.5 * x),
    ("rtruediv", lambda a: 2.5 / a, lambda x: 2.5 / x),
    ("neg", lambda a: -a, lambda x: -x),
    ("pow2", lambda a: a**2, lambda x: x**2),
    ("pow3", lambda a: a**3, lambda x: x**3),
    ("pow-1", lambda a: a**-1, lambda x: x**-1),
    ("pow0.5", lambda a: a**0.5, lambda x: sp.sqrt(x)),
    ("exp", lambda a: a.exp(), sp.exp),
    ("log", lambda a: a.log(), sp.log),
    ("tanh", lambda a: a.tanh(), sp.tanh),
    ("sigmoid", lambda a: a.sigmoid(), lambda x: 1 / (1 + sp.exp(-x))),
    ("relu", lambda a: a.relu(), lambda x: sp.Max(0, x)),
]
BINARY_POINTS = [(1.3, -0.7), (-2.0, 0.6), (0.4, 2.2)]
UNARY_POINTS = [0.3, 1.7, 2.9]  # positive, so log and sqrt are defined
NEGATIVE_POINTS = [-0.4, -1.9]  # for the operations defined on negatives too


def exact_partial(expr, var, at):
    return float(sp.diff(expr, var).subs(at).evalf(30))


@pytest.mark.parametrize("name,op,sym", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("x0,y0", BINARY_POINTS)
def test_binary_gradients_match_sympy_and_finite_differences(name, op, sym, x0, y0):
    a, b = Value(x0), Value(y0)
    out = op(a, b)
    out.backward()
    expr = sym(X, Y)
    at = {X: x0, Y: y0}
    assert out.data == pytest.approx(float(expr.subs(at)), rel=1e-12)
    assert a.grad == pytest.approx(exact_partial(expr, X, at), rel=1e-12, abs=1e-15)
    assert b.grad == pytest.approx(exact_partial(expr, Y, at), rel=1e-12, abs=1e-15)
    # central differences agree to ~1e-9 at these scales; 1e-6 leaves room for rounding
    assert a.grad == pytest.approx(derivative(lambda t: op(Value(t), Value(y0)).data, x0), abs=1e-6)
    assert b.grad == pytest.approx(derivative(lambda t: op(Value(x0), Value(t)).data, y0), abs=1e-6)


UNARY_CASES = [
    pytest.param(op, sym, x0, id=f"{name}-{x0}")
    for name, op, sym in UNARY
    for x0 in UNARY_POINTS + ([] if name in {"log", "pow0.5"} else NEGATIVE_POINTS)
]


@pytest.mark.parametrize("op,sym,x0", UNARY_CASES)
def test_unary_gradients_match_sympy_and_finite_differences(op, sym, x0):
    a = Value(x0)
    out = op(a)
    out.backward()
    expr = sym(X)
    assert out.data == pytest.approx(float(expr.subs(X, x0)), rel=1e-12, abs=1e-15)
    assert a.grad == pytest.approx(exact_partial(expr, X, {X: x0}), rel=1e-12, abs=1e-15)
    assert a.grad == pytest.approx(derivative(lambda t: op(Value(t)).data, x0), abs=1e-6)


def test_composite_expression_matches_autograd():
    def f_numpy(v):
        x, y = v[0], v[1]
        s = 1 / (1 + anp.exp(-y))
        return (x + s) / (1 / (1 + anp.exp(-x)) + (x + y) ** 2) + anp.tanh(x * y) * anp.log(x)

    x, y = Value(3.0), Value(-4.0)
    out = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2) + (x * y).tanh() * x.log()
    out.backward()
    expected = autograd_grad(f_numpy)(anp.array([3.0, -4.0]))
    assert [x.grad, y.grad] == pytest.approx(list(expected), rel=1e-12)


def test_reused_operand_accumulates():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # d(x^2)/dx = 2x; an assigning backward would give 3

    a = Value(-1.5)
    (a + a).backward()
    assert a.grad == 2.0


def test_node_feeding_two_expressions_gets_the_sum():
    x, y = Value(0.5), Value(-2.0)
    u = x * y  # u feeds both terms below
    f = u.tanh() + u * 3.0
    f.backward()
    du = (1 - math.tanh(-1.0) ** 2) + 3.0
    assert u.grad == pytest.approx(du, rel=1e-15)
    assert x.grad == pytest.approx(du * -2.0, rel=1e-15)
    assert y.grad == pytest.approx(du * 0.5, rel=1e-15)


def test_deep_chain_does_not_recurse():
    depth = 200_000
    c = 1.000001
    x = Value(1.0)
    node = x
    for _ in range(depth):
        node = node * c
    node.backward()
    assert x.grad == pytest.approx(c**depth, rel=1e-9)
    assert x.grad == pytest.approx(math.exp(depth * math.log(c)), rel=1e-9)


def test_backward_twice_accumulates_in_leaves_only():
    x, y = Value(2.0), Value(-3.0)
    q = x * y
    f = q.tanh()
    f.backward()
    first = (x.grad, y.grad, q.grad)
    f.backward()
    assert (x.grad, y.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-15)
    assert q.grad == first[2]  # interior: recomputed, not doubled
    assert f.grad == 1.0
    f.zero_grad()
    assert (x.grad, y.grad, q.grad, f.grad) == (0.0, 0.0, 0.0, 0.0)
    f.backward()
    assert (x.grad, y.grad) == pytest.approx(first[:2], rel=1e-15)


def test_backward_on_a_leaf_sets_its_gradient():
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0


def test_relu_and_max_at_their_kinks():
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0  # the book's convention at the kink
    a, b = Value(2.0), Value(2.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)  # a tie routes to the first input


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    v = Value(-800.0)
    v.sigmoid().backward()
    assert v.grad == 0.0


def test_topological_order_puts_parents_first_and_is_deterministic():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    q = x + y
    f = q * x + y.exp()
    order = list(topological_order(f))
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert len(order) == len({id(n) for n in order}) == 6
    assert [n.label or n.op for n in order] == [n.label or n.op for n in topological_order(f)]


def test_repr_shows_numbers_not_addresses():
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0)"


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: Value(1.0) + "a", "Value \\+ supports int, float or Value operands, got str"),
        (lambda: Value(1.0) * [1.0], "got list"),
        (lambda: "a" - Value(1.0), "got str"),
        (lambda: Value(1.0) / None, "got NoneType"),
        (
            lambda: Value(1.0) ** Value(2.0),
            "exponent of Value \\*\\* must be an int or float, got Value",
        ),
        (lambda: Value("1.0"), "Value data must be an int or float, got str"),
        (lambda: Value(True), "got bool"),
        (lambda: Value(1.0).max("b"), "Value max supports .* got str"),
    ],
)
def test_unsupported_operands_raise_type_error_naming_the_type(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: Value(float("nan")), "Value data must not be NaN, got nan"),
        (lambda: Value(-1.0).log(), "Value.log needs data > 0, got -1"),
        (lambda: Value(-8.0) ** 0.5, "needs a non-negative base .* got -8"),
    ],
)
def test_invalid_values_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_division_by_zero_is_reported():
    with pytest.raises(ZeroDivisionError, match="data is 0.0"):
        Value(1.0) / Value(0.0)
