"""The matrix identities of chapters 5 and 6, proved by SymPy, and shown able to fail."""

import numpy as np
import pytest
import sympy as sp

from backprop.book import symbolic_matrix as sm
from backprop.book.symbolic import is_identity

CLASSES = [2, 3, 4, 5]


@pytest.mark.ch05
@pytest.mark.parametrize("c", CLASSES)
def test_softmax_jacobian(c):
    direct, formula = sm.softmax_jacobian(c)
    assert direct.shape == (c, c)
    assert is_identity(direct, formula)


@pytest.mark.ch05
def test_softmax_jacobian_without_the_outer_product_is_caught():
    direct, _ = sm.softmax_jacobian(3)
    a = sm.softmax(sm.symbol_vector("z", 3))
    assert not is_identity(direct, sp.diag(*a))  # diag(a) alone: the -a a^T forgotten


@pytest.mark.ch05
def test_softmax_jacobian_numerically_at_a_point(rng):
    direct, _ = sm.softmax_jacobian(3)
    z = sm.symbol_vector("z", 3)
    point = rng.normal(size=3)
    jacobian = np.array(sp.lambdify(list(z), direct)(*point), dtype=float)
    a = np.exp(point) / np.exp(point).sum()
    np.testing.assert_allclose(jacobian, np.diag(a) - np.outer(a, a), rtol=1e-12)


@pytest.mark.ch05
@pytest.mark.parametrize(
    ("c", "label"), [(c, label) for c in CLASSES for label in range(c)], ids=str
)
def test_softmax_cross_entropy_gradient_is_a_minus_y(c, label):
    direct, formula = sm.softmax_cross_entropy_gradient(c, label)
    assert direct.shape == (c, 1)
    assert is_identity(direct, formula)


@pytest.mark.ch05
def test_softmax_cross_entropy_gradient_sign_and_scale_slips_are_caught():
    direct, formula = sm.softmax_cross_entropy_gradient(3, 1)
    assert not is_identity(direct, -formula)  # y - a: the lost minus sign
    assert not is_identity(direct, 2 * formula)


@pytest.mark.ch05
def test_softmax_cross_entropy_gradient_for_any_number_of_classes():
    result = sm.softmax_cross_entropy_gradient_any_c()
    assert not is_identity(result["difference"], sp.Integer(0))  # needs sum y = 1
    assert sp.simplify(result["difference"].subs(result["label_sum"], 1)) == 0
    # with labels summing to 2, the difference is a_k: the fact sum y = 1 really is used
    z, k = sp.IndexedBase("z", real=True), sp.Symbol("k", integer=True, positive=True)
    leftover = sp.simplify(result["difference"].subs(result["label_sum"], 2))
    assert sp.simplify(leftover - (result["claimed"] + sp.IndexedBase("y")[k])) == 0
    assert leftover.has(z[k])


@pytest.mark.ch05
@pytest.mark.parametrize(("n_out", "n_in"), [(3, 2), (2, 3), (1, 1)])
def test_layer_gradients(n_out, n_in):
    gradients = sm.layer_gradients(n_out, n_in)
    assert gradients["W"][0].shape == (n_out, n_in)
    for name, (direct, formula) in gradients.items():
        assert is_identity(direct, formula), name


@pytest.mark.ch05
def test_layer_gradient_with_a_transpose_slip_is_caught():
    gradients = sm.layer_gradients(2, 2)  # square, so that the slips have the right shape
    direct, formula = gradients["W"]
    assert not is_identity(direct, formula.T)  # a delta^T instead of delta a^T
    direct, _ = gradients["a"]
    delta = gradients["b"][1]
    W = sm.symbol_matrix("W", 2, 2)
    assert is_identity(direct, W.T * delta)
    assert not is_identity(direct, W * delta)  # W delta instead of W^T delta


@pytest.mark.ch05
@pytest.mark.parametrize("widths", [(2, 3, 2), (1, 2, 2), (3, 1, 2)])
def test_two_layer_recursion(widths):
    for name, (direct, formula) in sm.two_layer_recursion(widths).items():
        assert is_identity(direct, formula), name


@pytest.mark.ch05
def test_two_layer_recursion_without_the_slope_is_caught():
    direct, formula = sm.two_layer_recursion((2, 2, 2))["delta1"]
    f = sp.Function("f")

    def is_slope(node):  # f'(z) appears as Subs(Derivative(f(u), u), u, z)
        return (
            isinstance(node, sp.Subs)
            and node.expr.func is sp.Derivative
            and (node.expr.expr.func == f)
        )

    without_slope = formula.applyfunc(lambda e: e.replace(is_slope, lambda node: 1))
    assert without_slope != formula
    assert not is_identity(direct, without_slope)


@pytest.mark.ch06
@pytest.mark.parametrize(("m", "n_in", "n_out"), [(2, 2, 3), (1, 2, 2), (3, 1, 2)])
def test_batch_gradients(m, n_in, n_out):
    gradients = sm.batch_gradients(m, n_in, n_out)
    assert gradients["W"][0].shape == (n_out, n_in)
    assert gradients["A"][0].shape == (m, n_in)
    for name, (direct, formula) in gradients.items():
        assert is_identity(direct, formula), name


@pytest.mark.ch06
@pytest.mark.parametrize(("labels", "c"), [([0, 2], 3), ([1, 1], 2), ([1], 2), ([2, 0, 1], 3)])
def test_batch_output_error_is_a_minus_y_over_m(labels, c):
    direct, formula = sm.batch_output_error(labels, c)
    assert direct.shape == (len(labels), c)
    assert is_identity(direct, formula)


@pytest.mark.ch06
@pytest.mark.parametrize(("labels", "c"), [([0, 2], 3), ([1, 1], 2)])
def test_batch_output_error_without_the_mean_is_caught(labels, c):
    direct, formula = sm.batch_output_error(labels, c)
    assert not is_identity(direct, len(labels) * formula)  # (A - Y) without the 1/m


@pytest.mark.ch06
@pytest.mark.parametrize(("m", "widths"), [(2, (2, 2, 2)), (2, (2, 3, 1)), (1, (2, 2, 3))])
def test_batch_recursion(m, widths):
    direct, formula = sm.batch_recursion(m, widths)
    assert direct.shape == (m, widths[1])
    assert is_identity(direct, formula)


@pytest.mark.ch05
def test_jacobian_has_one_row_per_input():
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    u = sp.Matrix([x1 * x2, x1 + 3 * x2, sp.sin(x1)])
    J = sm.jacobian(u, sp.Matrix([x1, x2]))
    # by hand: row i is d/dx_i of (u_1, u_2, u_3)
    assert J == sp.Matrix([[x2, 1, sp.cos(x1)], [x1, 3, 0]])


@pytest.mark.ch05
@pytest.mark.parametrize("c", CLASSES)
def test_softmax_jacobian_in_the_denominator_layout(c):
    direct, formula = sm.softmax_jacobian_denominator(c)
    assert direct.shape == (c, c)
    assert is_identity(direct, formula)
    a = sm.softmax(sm.symbol_vector("z", c))
    entries = sp.Matrix(c, c, lambda i, j: a[j] * (sp.KroneckerDelta(i, j) - a[i]))
    assert is_identity(direct, entries)  # a_j (1_ij - a_i), written entry by entry
    assert is_identity(direct, sm.softmax_jacobian(c)[0].T)  # the transpose of the other


@pytest.mark.ch05
def test_a_layout_slip_is_caught_where_the_jacobian_is_not_symmetric():
    x = sm.symbol_vector("x", 2)
    u = sp.Matrix([x[0] * x[1], x[0] ** 2, x[1]])
    J = sm.jacobian(u, x)
    assert J.shape == (2, 3)
    assert J.T.shape != J.shape  # the numerator layout does not even fit
    square = sp.Matrix([x[0] * x[1], x[0] ** 2])
    assert not is_identity(sm.jacobian(square, x), sm.jacobian(square, x).T)
