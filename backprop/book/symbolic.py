"""SymPy derivations that chapters 1 and 2 display and the tests assert.

Each function builds both sides of an identity from the book (for example the
chain rule, or sigma' = sigma (1 - sigma)) and returns them unsimplified, so a
chapter can show them and a test can check ``is_identity(lhs, rhs)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sympy as sp


def is_identity(lhs: sp.Expr | sp.MatrixBase, rhs: sp.Expr | sp.MatrixBase) -> bool:
    """True when ``lhs - rhs`` is zero (element-wise for matrices).

    The difference is first expanded, with pending derivatives carried out; that proves most
    of the book's identities quickly. Only if it leaves something is ``sp.simplify`` tried.
    """
    difference = lhs - rhs
    if _is_zero(difference, lambda e: sp.expand(e.doit())):
        return True
    return _is_zero(difference, sp.simplify)


def _is_zero(difference: sp.Expr | sp.MatrixBase, reduce: Callable[[sp.Expr], sp.Expr]) -> bool:
    if isinstance(difference, sp.MatrixBase):
        return difference.applyfunc(reduce).is_zero_matrix is True
    return reduce(difference) == 0


def chain_rule_single(
    outer: sp.Expr, y: sp.Symbol, inner: sp.Expr, x: sp.Symbol
) -> tuple[sp.Expr, sp.Expr]:
    """Both sides of dz/dx = (dz/dy)(dy/dx) for z = outer(y), y = inner(x).

    Returns
    -------
    direct, chained
        The derivative of the composed function outer(inner(x)), and the
        product of the two local derivatives with y replaced by inner(x).
    """
    direct = sp.diff(outer.subs(y, inner), x)
    chained = sp.diff(outer, y).subs(y, inner) * sp.diff(inner, x)
    return direct, chained


def chain_rule_two_paths(
    k: sp.Expr,
    x: sp.Symbol,
    y: sp.Symbol,
    g: sp.Expr,
    h: sp.Expr,
    s: sp.Symbol,
) -> tuple[sp.Expr, sp.Expr]:
    """Both sides of dz/ds = (dz/dx)(dx/ds) + (dz/dy)(dy/ds) for z = k(x, y), x = g(s), y = h(s)."""
    at_s = {x: g, y: h}
    direct = sp.diff(k.subs(at_s, simultaneous=True), s)
    chained = sp.diff(k, x).subs(at_s, simultaneous=True) * sp.diff(g, s) + sp.diff(k, y).subs(
        at_s, simultaneous=True
    ) * sp.diff(h, s)
    return direct, chained


def sum_rule_over_examples(
    per_example_loss: sp.Expr, w: sp.Symbol, data: Sequence[Mapping[sp.Symbol, float]]
) -> tuple[sp.Expr, sp.Expr]:
    """Both sides of dC/dw = sum_n dC_n/dw for C = sum_n C_n.

    ``per_example_loss`` is C written with placeholder symbols for one example;
    ``data`` gives, for each example n, the values of those placeholders.
    """
    losses = [per_example_loss.subs(example) for example in data]
    return sp.diff(sp.Add(*losses), w), sp.Add(*(sp.diff(c, w) for c in losses))


def sigmoid(z: sp.Expr) -> sp.Expr:
    """sigma(z) = 1 / (1 + e^-z)."""
    return 1 / (1 + sp.exp(-z))


def sigmoid_derivative(z: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """Both sides of sigma'(z) = sigma(z) (1 - sigma(z))."""
    return sp.diff(sigmoid(z), z), sigmoid(z) * (1 - sigmoid(z))


def gate_gradients(x: sp.Symbol, y: sp.Symbol) -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """The local gradients (d/dx, d/dy) of the add, multiply and max gates.

    SymPy writes the derivative of max through the Heaviside step: the gradient
    is 1 for the larger input and 0 for the other.
    """
    gates = {"add": x + y, "multiply": x * y, "max": sp.Max(x, y)}
    return {name: (sp.diff(f, x), sp.diff(f, y)) for name, f in gates.items()}


def gradient_at(f: sp.Expr, variables: Sequence[sp.Symbol], point: Sequence[float]) -> list[float]:
    """The exact gradient of ``f`` with respect to ``variables``, evaluated at ``point``."""
    at = dict(zip(variables, point, strict=True))
    return [float(sp.diff(f, v).subs(at).evalf(30)) for v in variables]


def matmul_gradients(n_out: int, n_in: int, batch: int) -> dict[str, tuple[sp.Matrix, sp.Matrix]]:
    """Both sides of dW = dD X^T and dX = W^T dD for D = W X, on symbolic matrices.

    The scalar at the end of the circuit is C = sum_ij dD_ij D_ij, so that the
    upstream gradient dC/dD is the symbolic matrix dD. The left side of each
    identity is differentiated element by element; the right side is the
    matrix formula.
    """
    W = sp.Matrix(n_out, n_in, lambda i, j: sp.Symbol(f"W_{i + 1}{j + 1}"))
    X = sp.Matrix(n_in, batch, lambda i, j: sp.Symbol(f"X_{i + 1}{j + 1}"))
    dD = sp.Matrix(n_out, batch, lambda i, j: sp.Symbol(f"dD_{i + 1}{j + 1}"))
    L = sum((dD.multiply_elementwise(W * X)), sp.Integer(0))
    dW = W.applyfunc(lambda w: sp.diff(L, w))
    dX = X.applyfunc(lambda x: sp.diff(L, x))
    return {"dW": (dW, dD * X.T), "dX": (dX, W.T * dD)}


def neuron_weight_gradient() -> tuple[sp.Expr, sp.Expr]:
    """Both sides of dC/dw1 = x1 dC/dz for z = x1 w1 + x2 w2 + b and any cost C(sigma(z)).

    Returns
    -------
    direct, factored
        The derivative of C(sigma(x1 w1 + x2 w2 + b)) with respect to w1, and x1 (which the
        forward pass provides) times dC/dz evaluated at that z (which the backward pass
        provides).
    """
    x1, x2, w1, w2, b, z = sp.symbols("x_1 x_2 w_1 w_2 b z", real=True)
    cost = sp.Function("C")
    pre_activation = x1 * w1 + x2 * w2 + b
    direct = sp.diff(cost(sigmoid(pre_activation)), w1)
    dc_dz = sp.diff(cost(sigmoid(z)), z).subs(z, pre_activation)
    return direct, x1 * dc_dz


def hidden_error_term() -> tuple[sp.Expr, sp.Expr]:
    """Both sides of dC/dz = sigma'(z) [w3 dC/dz' + w4 dC/dz''] for a hidden unit.

    The unit's activation sigma(z) feeds z' = w3 sigma(z) + r' and z'' = w4 sigma(z) + r''
    (r', r'' stand for everything else those units add up), and the cost C(z', z'') is any
    differentiable function of the two.
    """
    z, w3, w4, r1, r2, u, v = sp.symbols("z w_3 w_4 r' r'' u v", real=True)
    cost = sp.Function("C")
    z_next = {u: w3 * sigmoid(z) + r1, v: w4 * sigmoid(z) + r2}
    direct = sp.diff(cost(z_next[u], z_next[v]), z)
    dc_du = sp.diff(cost(u, v), u).subs(z_next, simultaneous=True)
    dc_dv = sp.diff(cost(u, v), v).subs(z_next, simultaneous=True)
    return direct, sp.diff(sigmoid(z), z) * (w3 * dc_du + w4 * dc_dv)
