"""Batch normalisation by hand: forward, staged backward, compact backward (chapter 10).

For one feature of a batch x_1, ..., x_m (a column of X, examples as rows),

    mu = (1/m) sum_n x_n,   var = (1/m) sum_n (x_n - mu)^2,   s = sqrt(var + eps),
    x_hat_n = (x_n - mu) / s,   u_n = gamma x_hat_n + beta.

:func:`forward` runs these as named stages and keeps every intermediate value;
:func:`backward_staged` walks the stages back, one local gradient each, and
:func:`backward_compact` is the closed form they add up to,

    dC/dx_n = (gamma / s) (delta_n - mean(delta) - x_hat_n mean(delta x_hat)).

Both work column by column on arrays of shape (m, n) and also on arrays of SymPy symbols
(dtype object), which is how the chapter proves them equal. :func:`normalize` and
:func:`normalize_backward` are the same computation over any set of axes: batch, layer,
instance and group normalisation differ only in those axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp


def _sqrt(a: np.ndarray) -> np.ndarray:
    """Square root entry by entry, for float arrays and for arrays of SymPy expressions."""
    a = np.asarray(a)
    if a.dtype == object:
        return np.array([sp.sqrt(e) for e in a.flat], dtype=object).reshape(a.shape)
    return np.sqrt(a)


def forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Batch normalisation of x (m, n) over its rows, stage by stage; (u, stages).

    ``stages`` holds every intermediate value the backward pass needs: mu, d = x - mu,
    var, s = sqrt(var + eps), r = 1 / s, x_hat = d r, and gamma.
    """
    x = np.asarray(x)
    m = x.shape[0]
    mu = x.sum(axis=0) / m  # stage 1
    d = x - mu  # stage 2: x_n feeds d_n and mu
    var = (d * d).sum(axis=0) / m  # stage 3: d_n feeds var and x_hat_n
    s = _sqrt(var + eps)  # stage 4
    r = 1 / s  # stage 5
    x_hat = d * r  # stage 6
    u = gamma * x_hat + beta  # stage 7
    stages = dict(mu=mu, d=d, var=var, s=s, r=r, x_hat=x_hat)
    return u, stages | dict(gamma=np.asarray(gamma))


def backward_staged(
    delta: np.ndarray, stages: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dC/dx, dC/dgamma, dC/dbeta) given delta = dC/du, walking the stages backwards.

    Each line is one stage's local gradient times the gradient that arrived; at a fork
    (x feeds d and mu, d feeds var and x_hat) the two contributions are added.
    """
    delta = np.asarray(delta)
    d, s, r = stages["d"], stages["s"], stages["r"]
    x_hat, gamma = stages["x_hat"], stages["gamma"]
    m = d.shape[0]
    dbeta = delta.sum(axis=0)  # stage 7: u = gamma x_hat + beta
    dgamma = (delta * x_hat).sum(axis=0)
    dx_hat = gamma * delta
    dr = (dx_hat * d).sum(axis=0)  # stage 6: x_hat = d r, r shared by all n
    dd = dx_hat * r
    ds = -dr / (s * s)  # stage 5: r = 1 / s
    dvar = ds / (2 * s)  # stage 4: s = sqrt(var + eps)
    dd = dd + dvar * 2 * d / m  # stage 3: var = mean of d^2, d's 2nd path
    dmu = -dd.sum(axis=0)  # stage 2: d = x - mu
    dx = dd + dmu / m  # stage 1: mu = mean of x, x's second path
    return dx, dgamma, dbeta


def backward_compact(
    delta: np.ndarray, x_hat: np.ndarray, s: np.ndarray, gamma: np.ndarray
) -> np.ndarray:
    """dC/dx_n = (gamma / s) (delta_n - mean(delta) - x_hat_n mean(delta x_hat)), per column."""
    delta, x_hat = np.asarray(delta), np.asarray(x_hat)
    m = delta.shape[0]
    mean_delta = delta.sum(axis=0) / m
    mean_delta_x_hat = (delta * x_hat).sum(axis=0) / m
    return gamma / s * (delta - mean_delta - x_hat * mean_delta_x_hat)


def jacobian(x_hat: np.ndarray, s: float) -> np.ndarray:
    """[dx_hat/dx]_ij = dx_hat_j / dx_i = (1_ij - 1/m - x_hat_i x_hat_j / m) / s, one column.

    ``x_hat`` is one feature's normalised batch, shape (m,); the matrix is symmetric, so the
    denominator and numerator layouts agree.
    """
    x_hat = np.asarray(x_hat)
    m = len(x_hat)
    return (np.eye(m) - 1 / m - np.outer(x_hat, x_hat) / m) / s


def symbolic_batch(m: int) -> dict[str, object]:
    """SymPy symbols for one feature of a batch of m: x, delta, gamma, beta, eps.

    Returns them with the cost C = sum_n delta_n u_n (so that dC/du_n = delta_n exactly),
    its derivatives dC/dx_n by SymPy, and the staged and compact backward passes.
    """
    xs = sp.symbols(f"x1:{m + 1}", real=True)
    ds = sp.symbols(f"delta1:{m + 1}", real=True)
    gamma, beta = sp.symbols("gamma beta", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    x = np.array(xs, dtype=object).reshape(m, 1)
    delta = np.array(ds, dtype=object).reshape(m, 1)
    u, stages = forward(x, gamma, beta, eps)
    C = sum(delta[n, 0] * u[n, 0] for n in range(m))
    by_sympy = [sp.diff(C, x_n) for x_n in xs]
    staged, dgamma, dbeta = backward_staged(delta, stages)
    compact = backward_compact(delta, stages["x_hat"], stages["s"], gamma)
    return dict(
        x=xs,
        delta=ds,
        gamma=gamma,
        beta=beta,
        eps=eps,
        C=C,
        stages=stages,
        by_sympy=by_sympy,
        staged=list(staged[:, 0]),
        compact=list(compact[:, 0]),
        dgamma=dgamma[0],
        dbeta=dbeta[0],
    )


def equal(a: Sequence[sp.Expr], b: Sequence[sp.Expr]) -> bool:
    """Whether two lists of SymPy expressions are equal entry by entry.

    Each difference is brought to one fraction in lowest terms (``sympy.cancel``); it is
    zero exactly when that fraction is 0. (``simplify`` finds the same, two times slower.)
    """
    return len(a) == len(b) and all(sp.cancel(p - q) == 0 for p, q in zip(a, b, strict=True))


def normalize(
    x: np.ndarray, axes: tuple[int, ...], eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, s): x minus its mean over ``axes``, divided by s = sqrt(variance + eps).

    The mean and the (biased) variance are taken over ``axes`` for every index of the other
    axes; s keeps the reduced axes with length 1, so that it broadcasts against x.
    """
    mu = x.mean(axis=axes, keepdims=True)
    s = np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return (x - mu) / s, s


def normalize_backward(
    grad_x_hat: np.ndarray, x_hat: np.ndarray, s: np.ndarray, axes: tuple[int, ...]
) -> np.ndarray:
    """dC/dx from g = dC/dx_hat: (g - mean(g) - x_hat mean(g x_hat)) / s, means over ``axes``."""
    mean_g = grad_x_hat.mean(axis=axes, keepdims=True)
    mean_g_x_hat = (grad_x_hat * x_hat).mean(axis=axes, keepdims=True)
    return (grad_x_hat - mean_g - x_hat * mean_g_x_hat) / s


def group_norm(
    x: np.ndarray, groups: int, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group normalisation of x (N, C, ...) by :func:`normalize`; (u, x_hat, s).

    The C channels are split into ``groups`` groups of C / groups; each example's group is
    normalised over its channels and all positions. groups = 1 is layer normalisation over
    (C, ...), groups = C instance normalisation. gamma and beta have one entry per channel.
    """
    n, c = x.shape[:2]
    grouped = x.reshape(n, groups, c // groups, -1)
    x_hat, s = normalize(grouped, axes=(2, 3), eps=eps)
    x_hat = x_hat.reshape(x.shape)
    per_channel = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(per_channel) * x_hat + beta.reshape(per_channel), x_hat, s


def group_norm_backward(
    delta: np.ndarray, x_hat: np.ndarray, s: np.ndarray, groups: int, gamma: np.ndarray
) -> np.ndarray:
    """dC/dx of :func:`group_norm`, given delta = dC/du: :func:`normalize_backward` per group."""
    n, c = delta.shape[:2]
    per_channel = (1, c) + (1,) * (delta.ndim - 2)
    grad_x_hat = (gamma.reshape(per_channel) * delta).reshape(n, groups, c // groups, -1)
    grouped = x_hat.reshape(grad_x_hat.shape)
    return normalize_backward(grad_x_hat, grouped, s, axes=(2, 3)).reshape(delta.shape)


def running_update(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    x: np.ndarray,
    momentum: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """One training step's update of the running statistics, as PyTorch does it.

    running <- (1 - momentum) running + momentum batch, where the batch variance is the
    unbiased one, sum_n (x_n - mu)^2 / (m - 1), over the rows of x (m, n).
    """
    mean = x.mean(axis=0)
    unbiased = x.var(axis=0, ddof=1)
    return (
        (1 - momentum) * running_mean + momentum * mean,
        (1 - momentum) * running_var + momentum * unbiased,
    )
