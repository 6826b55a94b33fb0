"""SymPy derivations of chapters 5 and 6: softmax, the error term, and the matrix forms.

Like :mod:`backprop.book.symbolic`, each function returns both sides of an identity, the left
side found by differentiating the network's scalar loss entry by entry, the right side the
assembled formula of the book, so that a chapter can display them and a test can check
:func:`backprop.book.symbolic.is_identity`. Where the book says "any loss", the loss is an
undefined SymPy function C of the entries it depends on; where it says "any activation",
f is an undefined function too, so the identities hold for every choice of C and f.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

Pair = tuple[sp.MatrixBase, sp.MatrixBase]


def symbol_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A matrix of real symbols name_ij, numbered from 1 (W_11, W_12, ...)."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def symbol_vector(name: str, length: int) -> sp.Matrix:
    """A column of real symbols name_1 .. name_length."""
    return sp.Matrix(length, 1, lambda i, _: sp.Symbol(f"{name}_{i + 1}", real=True))


def softmax(z: sp.MatrixBase) -> sp.Matrix:
    """a_i = e^(z_i) / sum_k e^(z_k) for a column z."""
    exps = z.applyfunc(sp.exp)
    return exps / sum(exps)


def jacobian(outputs: sp.MatrixBase, inputs: sp.MatrixBase) -> sp.Matrix:
    """The Jacobian du/dx in the book's denominator layout: entry (i, j) is du_j/dx_i.

    ``outputs`` u and ``inputs`` x are columns; the result has one row per input and one
    column per output, shape (len(x), len(u)), so that dC/dx = (du/dx) (dC/du). (SymPy's own
    ``Matrix.jacobian`` is the numerator layout, the transpose.)
    """
    return sp.Matrix(len(inputs), len(outputs), lambda i, j: sp.diff(outputs[j], inputs[i]))


def softmax_jacobian(c: int) -> Pair:
    """Both sides of da_i/dz_j = a_i (1_ij - a_j) for a = softmax(z) with c classes.

    Entry (i, j) of both matrices is da_i/dz_j, one row per output (the numerator layout);
    :func:`softmax_jacobian_denominator` gives the book's layout, which is the transpose.
    """
    z = symbol_vector("z", c)
    a = softmax(z)
    direct = sp.Matrix(c, c, lambda i, j: sp.diff(a[i], z[j]))
    formula = sp.Matrix(c, c, lambda i, j: a[i] * (sp.KroneckerDelta(i, j) - a[j]))
    return direct, formula


def softmax_jacobian_denominator(c: int) -> Pair:
    """Both sides of [da/dz]_ij = da_j/dz_i = a_j (1_ij - a_i), the book's layout (chapter 5).

    The left side is :func:`jacobian` of a = softmax(z) for symbolic logits z_1..z_c; the
    right side is the formula, assembled as diag(a) - a a^T.
    """
    z = symbol_vector("z", c)
    a = softmax(z)
    return jacobian(a, z), sp.diag(*a) - a * a.T


def softmax_cross_entropy_gradient(c: int, label: int) -> Pair:
    """Both sides of dC/dz = a - y for C = -sum_i y_i ln a_i, a = softmax(z), y one-hot.

    ``label`` is the index (from 0) of the class whose entry of y is 1.
    """
    z = symbol_vector("z", c)
    y = sp.Matrix(c, 1, lambda i, _: int(i == label))
    a = softmax(z)
    loss = -sum(y[i] * sp.log(a[i]) for i in range(c))
    return sp.Matrix(c, 1, lambda i, _: sp.diff(loss, z[i])), a - y


def softmax_cross_entropy_gradient_any_c() -> dict[str, sp.Expr]:
    """dC/dz_k for softmax with cross-entropy and a symbolic number of classes c.

    The logits z_1..z_c and the label entries y_1..y_c are indexed symbols, with c = k + s
    for an integer s >= 0 so that SymPy knows class k exists. ln a_i is split by SymPy
    itself into z_i - ln sum_j e^(z_j) before differentiating.

    Returns
    -------
    dict
        ``derivative`` (dC/dz_k as SymPy finds it), ``claimed`` (a_k - y_k), ``difference``
        (their simplified difference) and ``label_sum`` (the sum y_1 + ... + y_c appearing in
        it). The difference is a_k (label_sum - 1): zero exactly when the labels sum to 1.
    """
    z, y = sp.IndexedBase("z", real=True), sp.IndexedBase("y")
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    s = sp.Symbol("s", integer=True, nonnegative=True)
    c = k + s
    total = sp.Sum(sp.exp(z[j]), (j, 1, c))
    log_a = sp.expand_log(sp.log(sp.exp(z[i]) / total))  # z_i - ln(total), found by SymPy
    loss = -sp.Sum(y[i] * log_a, (i, 1, c))
    derivative = sp.expand(sp.diff(loss, z[k]).expand().doit())
    claimed = sp.exp(z[k]) / total - y[k]
    difference = sp.factor(sp.simplify(derivative - claimed))
    return {
        "derivative": derivative,
        "claimed": claimed,
        "difference": difference,
        "label_sum": sp.Sum(y[i], (i, 1, c)),
    }


def _generic_loss(entries: Sequence[sp.Expr]) -> tuple[sp.Expr, list[sp.Expr]]:
    """C(entries) for an undefined C, and dC/d(entry) for each entry, evaluated there."""
    dummies = sp.symbols(f"u_1:{len(entries) + 1}", real=True)
    cost = sp.Function("C")(*dummies)
    at = dict(zip(dummies, entries, strict=True))
    return cost.subs(at, simultaneous=True), [
        sp.diff(cost, u).subs(at, simultaneous=True) for u in dummies
    ]


def _generic_slope(z: sp.Expr) -> sp.Expr:
    """f'(z) for the undefined activation f."""
    u = sp.Dummy("u")
    return sp.diff(sp.Function("f")(u), u).subs(u, z)


def layer_gradients(n_out: int = 3, n_in: int = 2) -> dict[str, Pair]:
    """Both sides of dC/dW = delta a^T, dC/db = delta and dC/da = W^T delta for one layer.

    The layer is z = W a + b with symbolic W (n_out, n_in), a and b; the loss is any
    function C(z_1, ..., z_n_out), and delta_i = dC/dz_i evaluated at the layer's z.
    """
    W, a, b = symbol_matrix("W", n_out, n_in), symbol_vector("a", n_in), symbol_vector("b", n_out)
    z = W * a + b
    loss, dz = _generic_loss(list(z))
    delta = sp.Matrix(dz)
    return {
        "W": (W.applyfunc(lambda w: sp.diff(loss, w)), delta * a.T),
        "b": (b.applyfunc(lambda v: sp.diff(loss, v)), delta),
        "a": (a.applyfunc(lambda v: sp.diff(loss, v)), W.T * delta),
    }


def two_layer_recursion(widths: Sequence[int] = (2, 3, 2)) -> dict[str, Pair]:
    """Both sides of delta^(1) = (W^(2)T delta^(2)) * f'(z^(1)) and dC/dW^(1) = delta^(1) x^T.

    The network is z^(1) = W^(1) x + b^(1), a^(1) = f(z^(1)), z^(2) = W^(2) a^(1) + b^(2),
    with widths (n_0, n_1, n_2), any activation f and any loss C(z^(2)). The left sides
    are derivatives of the whole composed loss; delta^(2) = dC/dz^(2).
    """
    n0, n1, n2 = widths
    x = symbol_vector("x", n0)
    W1, b1 = symbol_matrix("V", n1, n0), symbol_vector("c", n1)  # layer 1: V, c
    W2, b2 = symbol_matrix("W", n2, n1), symbol_vector("b", n2)  # layer 2: W, b
    z1 = W1 * x + b1
    z2 = W2 * z1.applyfunc(sp.Function("f")) + b2
    loss, dz2 = _generic_loss(list(z2))
    delta2 = sp.Matrix(dz2)
    delta1 = (W2.T * delta2).multiply_elementwise(z1.applyfunc(_generic_slope))
    # dC/dz^(1) directly: put free symbols in place of z^(1), differentiate, put z^(1) back
    free_z1 = symbol_vector("zeta", n1)
    loss_of_z1 = loss.subs(dict(zip(list(z1), list(free_z1), strict=True)), simultaneous=True)
    direct_delta1 = free_z1.applyfunc(lambda v: sp.diff(loss_of_z1, v)).subs(
        dict(zip(list(free_z1), list(z1), strict=True)), simultaneous=True
    )
    return {
        "delta1": (direct_delta1, delta1),
        "W1": (W1.applyfunc(lambda w: sp.diff(loss, w)), delta1 * x.T),
        "b1": (b1.applyfunc(lambda v: sp.diff(loss, v)), delta1),
    }


def batch_gradients(m: int = 2, n_in: int = 2, n_out: int = 3) -> dict[str, Pair]:
    """Both sides of dC/dW = Delta^T A, dC/db = column sums of Delta, dC/dA = Delta W.

    The layer is Z = A W^T + 1 b^T on a symbolic batch A of m rows (samples as rows); the
    loss is any function C of the m * n_out entries of Z, and Delta_ni = dC/dZ_ni.
    """
    A, W = symbol_matrix("A", m, n_in), symbol_matrix("W", n_out, n_in)
    b = symbol_vector("b", n_out)
    Z = A * W.T + sp.ones(m, 1) * b.T
    loss, dZ = _generic_loss(list(Z))  # row by row
    Delta = sp.Matrix(m, n_out, dZ)
    return {
        "W": (W.applyfunc(lambda w: sp.diff(loss, w)), Delta.T * A),
        "b": (b.applyfunc(lambda v: sp.diff(loss, v)), Delta.T * sp.ones(m, 1)),
        "A": (A.applyfunc(lambda v: sp.diff(loss, v)), Delta * W),
    }


def batch_output_error(labels: Sequence[int], c: int = 3) -> Pair:
    """Both sides of dC/dZ = (softmax(Z) - Y) / m for the mean cross-entropy of a batch.

    ``labels`` gives each sample's class (from 0); m = len(labels). Softmax acts on each row.
    """
    m = len(labels)
    Z = symbol_matrix("Z", m, c)
    Y = sp.Matrix(m, c, lambda n, i: int(i == labels[n]))
    A = sp.Matrix.vstack(*(softmax(Z[n, :].T).T for n in range(m)))
    loss = -sum(Y[n, i] * sp.log(A[n, i]) for n in range(m) for i in range(c)) / m
    return Z.applyfunc(lambda v: sp.diff(loss, v)), (A - Y) / m


def batch_recursion(m: int = 2, widths: Sequence[int] = (2, 2, 2)) -> Pair:
    """Both sides of Delta^(1) = (Delta^(2) W^(2)) * f'(Z^(1)) on a symbolic batch of m.

    Z^(1) is a free symbolic (m, n_1) matrix, A^(1) = f(Z^(1)), Z^(2) = A^(1) W^(2)T + 1 b^T,
    and the loss is any function C of Z^(2); Delta^(2) = dC/dZ^(2).
    """
    _, n1, n2 = widths
    Z1 = symbol_matrix("Z", m, n1)
    W2, b2 = symbol_matrix("W", n2, n1), symbol_vector("b", n2)
    Z2 = Z1.applyfunc(sp.Function("f")) * W2.T + sp.ones(m, 1) * b2.T
    loss, dZ2 = _generic_loss(list(Z2))
    Delta2 = sp.Matrix(m, n2, dZ2)
    formula = (Delta2 * W2).multiply_elementwise(Z1.applyfunc(_generic_slope))
    return Z1.applyfunc(lambda v: sp.diff(loss, v)), formula
