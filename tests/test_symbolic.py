"""The identities of chapters 1 and 2, asserted with SymPy (and cross-checked with autograd)."""

import autograd.numpy as anp
import pytest
import sympy as sp
from autograd import grad as autograd_grad

from backprop.book import symbolic

x, y, s, z, w, b = sp.symbols("x y s z w b", real=True)


def test_is_identity_can_say_no():
    assert symbolic.is_identity(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1))
    assert not symbolic.is_identity(sp.sin(x), sp.cos(x))
    assert not symbolic.is_identity(sp.Matrix([x, 1]), sp.Matrix([x, 2]))


@pytest.mark.ch01
@pytest.mark.parametrize(
    "outer,inner",
    [
        (sp.log(y), 1 + x**2),  # chapter 1's example
        (sp.exp(y), sp.sin(x)),  # chapter 1, exercise 1
        (y**3 + y, sp.tanh(x)),
        (1 / (1 + sp.exp(-y)), 2 * x - 1),
    ],
)
def test_chain_rule_single_path(outer, inner):
    direct, chained = symbolic.chain_rule_single(outer, y, inner, x)
    assert symbolic.is_identity(direct, chained)


@pytest.mark.ch01
def test_chain_rule_single_path_gives_the_known_answer():
    direct, _ = symbolic.chain_rule_single(sp.log(y), y, 1 + x**2, x)
    assert sp.simplify(direct - 2 * x / (1 + x**2)) == 0


@pytest.mark.ch01
@pytest.mark.parametrize(
    "k,g,h",
    [
        (x * y**2, sp.tanh(s), sp.exp(s)),  # chapter 1's example
        (x / y, s**2, s + 1),  # chapter 1, exercise 2
        (sp.sin(x * y), s**3, sp.cos(s)),
    ],
)
def test_chain_rule_two_paths(k, g, h):
    direct, chained = symbolic.chain_rule_two_paths(k, x, y, g, h, s)
    assert symbolic.is_identity(direct, chained)


@pytest.mark.ch01
def test_dropping_a_path_breaks_the_identity():
    direct, _ = symbolic.chain_rule_two_paths(x * y**2, x, y, sp.tanh(s), sp.exp(s), s)
    one_path = (y**2).subs({x: sp.tanh(s), y: sp.exp(s)}) * sp.diff(sp.tanh(s), s)
    assert not symbolic.is_identity(direct, one_path)


@pytest.mark.ch01
def test_gradient_of_a_sum_of_costs_is_the_sum_of_gradients():
    x_n, t_n = sp.symbols("x_n t_n")
    cost = (w * x_n + b - t_n) ** 2
    data = [{x_n: 1, t_n: 3}, {x_n: 2, t_n: 5}, {x_n: -1, t_n: 0}]
    lhs, rhs = symbolic.sum_rule_over_examples(cost, w, data)
    assert symbolic.is_identity(lhs, rhs)
    # by hand: sum_n 2 (w x_n + b - t_n) x_n = 12 w + 4 b - 26
    assert sp.expand(lhs) == 12 * w + 4 * b - 26


@pytest.mark.ch02
def test_sigmoid_derivative_and_its_maximum():
    lhs, rhs = symbolic.sigmoid_derivative(z)
    assert symbolic.is_identity(lhs, rhs)
    assert sp.solve(sp.diff(lhs, z), z) == [0]
    assert lhs.subs(z, 0) == sp.Rational(1, 4)


@pytest.mark.ch02
def test_gate_gradients():
    gates = symbolic.gate_gradients(x, y)
    assert gates["add"] == (1, 1)
    assert gates["multiply"] == (y, x)
    d_dx, d_dy = gates["max"]
    assert (d_dx.subs({x: 3, y: 1}), d_dy.subs({x: 3, y: 1})) == (1, 0)
    assert (d_dx.subs({x: -2, y: 1}), d_dy.subs({x: -2, y: 1})) == (0, 1)


@pytest.mark.ch02
def test_circuit_gradient():
    assert symbolic.gradient_at((x + y) * z, [x, y, z], [-2, 5, -4]) == [-4.0, -4.0, 3.0]


@pytest.mark.ch02
def test_sigmoid_neuron_gradient_matches_autograd():
    x0, x1, w0, w1, w2 = sp.symbols("x0 x1 w0 w1 w2")
    f = symbolic.sigmoid(w0 * x0 + w1 * x1 + w2)
    point = [2.0, -1.0, -3.0, -2.0, -3.0]
    exact = symbolic.gradient_at(f, [w0, x0, w1, x1, w2], point)

    def f_np(v):
        return 1 / (1 + anp.exp(-(v[0] * v[1] + v[2] * v[3] + v[4])))

    assert exact == pytest.approx(list(autograd_grad(f_np)(anp.array(point))), rel=1e-12)
    assert exact[0] == pytest.approx(-0.19661193, abs=1e-8)  # sigma'(1) * x0


@pytest.mark.ch02
def test_staged_example_gradient_matches_autograd():
    f = (x + symbolic.sigmoid(y)) / (symbolic.sigmoid(x) + (x + y) ** 2)
    exact = symbolic.gradient_at(f, [x, y], [3, -4])

    def f_np(v):
        sig = lambda t: 1 / (1 + anp.exp(-t))  # noqa: E731
        return (v[0] + sig(v[1])) / (sig(v[0]) + (v[0] + v[1]) ** 2)

    assert exact == pytest.approx(list(autograd_grad(f_np)(anp.array([3.0, -4.0]))), rel=1e-12)


@pytest.mark.ch02
@pytest.mark.parametrize("n_out,n_in,batch", [(1, 1, 1), (2, 3, 2), (3, 2, 4)])
def test_matmul_gradients(n_out, n_in, batch):
    for elementwise, formula in symbolic.matmul_gradients(n_out, n_in, batch).values():
        assert elementwise.shape == formula.shape
        assert symbolic.is_identity(elementwise, formula)


@pytest.mark.ch02
def test_matmul_gradient_without_the_transpose_is_wrong():
    elementwise, _ = symbolic.matmul_gradients(2, 2, 2)["dW"]
    dD = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"dD_{i + 1}{j + 1}"))
    X = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"X_{i + 1}{j + 1}"))
    assert not symbolic.is_identity(elementwise, dD * X)


@pytest.mark.ch03
def test_weight_gradient_is_input_times_error_term():
    direct, factored = symbolic.neuron_weight_gradient()
    assert symbolic.is_identity(direct, factored)
    x1 = next(s for s in factored.free_symbols if s.name == "x_1")
    x2 = next(s for s in direct.free_symbols if s.name == "x_2")
    assert not symbolic.is_identity(direct, factored.subs(x1, x2))  # the wrong input


@pytest.mark.ch03
def test_hidden_error_term_sums_over_both_successors():
    direct, formula = symbolic.hidden_error_term()
    assert symbolic.is_identity(direct, formula)
    w4 = next(s for s in formula.free_symbols if s.name == "w_4")
    assert not symbolic.is_identity(direct, formula.subs(w4, 0) * 1)  # one path dropped
