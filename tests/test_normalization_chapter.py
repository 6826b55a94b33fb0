"""Chapter 10's derivations, asserted again: backprop.book.normalization and plot_norm.

Oracles: SymPy's own derivative of the forward pass (exact), HIPS autograd (an independent
autodiff), central differences in float64 (backprop.gradcheck, tolerance 1e-6), and loops
written out here. Tolerances: two exact formulas evaluated in a different order agree to
about 1e-15 relative, so 1e-12 leaves room for the cancellation in x - mu without hiding a
wrong term (a missing term changes the result at order 1).
"""

import autograd
import autograd.numpy as anp
import matplotlib
import numpy as np
import pytest
import sympy as sp

matplotlib.use("Agg")

from matplotlib.colors import to_hex  # noqa: E402

from backprop.book import normalization as bn  # noqa: E402
from backprop.book.plot_norm import (  # noqa: E402
    GROUP_COLORS,
    draw_norm_axes,
    draw_stages,
    norm_groups,
    plot_jacobians,
    plot_loss_curves,
)
from backprop.gradcheck import check_gradient  # noqa: E402

pytestmark = [pytest.mark.ch10, pytest.mark.usefixtures("close_figures")]


def batchnorm_by_autograd(x, gamma, beta, eps):
    """The forward pass written again with autograd.numpy, for autograd to differentiate."""
    mu = anp.mean(x, axis=0)
    var = anp.mean((x - mu) ** 2, axis=0)
    return gamma * (x - mu) / anp.sqrt(var + eps) + beta


@pytest.mark.parametrize("m", [2, 4])
def test_sympy_proves_staged_and_compact_equal_to_the_derivative(m):
    batch = bn.symbolic_batch(m)
    assert bn.equal(batch["by_sympy"], batch["staged"])
    assert bn.equal(batch["staged"], batch["compact"])
    assert bn.equal([sp.diff(batch["C"], batch["gamma"])], [batch["dgamma"]])
    assert sp.simplify(batch["dbeta"] - sum(batch["delta"])) == 0


def test_equal_notices_a_missing_term():
    batch = bn.symbolic_batch(3)
    wrong = [e - batch["delta"][0] for e in batch["compact"]]  # one term too many
    assert not bn.equal(batch["by_sympy"], wrong)
    assert not bn.equal(batch["by_sympy"], batch["compact"][:2])


def test_jacobian_formula_against_sympy():
    m = 3
    batch = bn.symbolic_batch(m)
    x_hat, s = batch["stages"]["x_hat"][:, 0], batch["stages"]["s"][0]
    by_sympy = [sp.diff(x_hat[j], batch["x"][i]) for i in range(m) for j in range(m)]
    formula = [
        (int(i == j) - sp.Rational(1, m) - x_hat[i] * x_hat[j] / m) / s
        for i in range(m)
        for j in range(m)
    ]
    assert bn.equal(by_sympy, formula)


@pytest.mark.parametrize("shape", [(2, 1), (5, 3), (16, 7)])
@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_staged_and_compact_backward_against_autograd(rng, shape, eps):
    x, delta = rng.normal(size=shape), rng.normal(size=shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    u, stages = bn.forward(x, gamma, beta, eps)
    np.testing.assert_allclose(u, batchnorm_by_autograd(x, gamma, beta, eps), rtol=1e-12)
    dx, dgamma, dbeta = bn.backward_staged(delta, stages)

    def cost(x_, gamma_, beta_):
        return anp.sum(delta * batchnorm_by_autograd(x_, gamma_, beta_, eps))

    expected = [autograd.grad(cost, k)(x, gamma, beta) for k in range(3)]
    for got, want in zip([dx, dgamma, dbeta], expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    compact = bn.backward_compact(delta, stages["x_hat"], stages["s"], gamma)
    np.testing.assert_allclose(compact, dx, rtol=1e-12, atol=1e-13)


def test_input_gradient_sums_to_zero_over_the_batch(rng):
    x, delta = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    _, stages = bn.forward(x, np.ones(4), np.zeros(4))
    dx, _, _ = bn.backward_staged(delta, stages)
    # each column sum is a difference of O(1) terms: round-off is about 1e-15
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-13)
    assert np.max(np.abs(dx)) > 0.1  # and the gradient itself is not zero


def test_jacobian_against_central_differences(rng):
    x = rng.normal(size=6)
    x_hat, s = bn.normalize(x[:, None], axes=(0,))
    J = bn.jacobian(x_hat[:, 0], s[0, 0])
    for j in range(6):
        column = check_gradient(
            lambda x_, j=j: bn.normalize(x_[:, None], axes=(0,))[0][j, 0], x.copy(), J[:, j]
        )
        assert column.passed, column
    np.testing.assert_allclose(J, J.T, rtol=1e-14)


@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2, 3), (2, 3), (1, 2, 3)])
def test_normalize_backward_against_autograd(rng, axes):
    ndim = max(axes) + 1 if max(axes) > 1 else 4
    shape = (3, 4, 2, 5)[:ndim]
    x, g = rng.normal(size=shape), rng.normal(size=shape)

    def cost(x_):
        mu = anp.mean(x_, axis=axes, keepdims=True)
        var = anp.mean((x_ - mu) ** 2, axis=axes, keepdims=True)
        return anp.sum(g * (x_ - mu) / anp.sqrt(var + 1e-5))

    x_hat, s = bn.normalize(x, axes)
    np.testing.assert_allclose(
        bn.normalize_backward(g, x_hat, s, axes), autograd.grad(cost)(x), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_group_norm_against_a_loop_and_central_differences(rng, groups):
    x = rng.normal(size=(2, 6, 3, 4))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    u, x_hat, s = bn.group_norm(x, groups, gamma, beta)
    size = 6 // groups
    for n in range(2):
        for k in range(groups):
            block = x[n, k * size : (k + 1) * size]
            standard = (block - block.mean()) / np.sqrt(block.var() + 1e-5)
            np.testing.assert_allclose(x_hat[n, k * size : (k + 1) * size], standard, rtol=1e-12)
    np.testing.assert_allclose(u, gamma[:, None, None] * x_hat + beta[:, None, None])
    delta = rng.normal(size=x.shape)
    dx = bn.group_norm_backward(delta, x_hat, s, groups, gamma)
    report = check_gradient(
        lambda x_: float(np.sum(delta * bn.group_norm(x_, groups, gamma, beta)[0])), x.copy(), dx
    )
    assert report.passed, report


def test_running_update_is_pytorchs_with_the_unbiased_variance(rng):
    x = rng.normal(size=(5, 3))
    mean, var = bn.running_update(np.zeros(3), np.ones(3), x, momentum=0.25)
    unbiased = np.array([np.sum((x[:, j] - x[:, j].mean()) ** 2) / 4 for j in range(3)])
    np.testing.assert_allclose(mean, 0.25 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(var, 0.75 + 0.25 * unbiased, rtol=1e-14)


def test_staged_functions_run_on_sympy_arrays_and_numbers_alike(rng):
    x = rng.normal(size=(3, 1))
    batch = bn.symbolic_batch(3)
    values = {sym: float(x[n, 0]) for n, sym in enumerate(batch["x"])}
    values.update({sym: 0.5 * n - 0.3 for n, sym in enumerate(batch["delta"])})
    values.update({batch["gamma"]: 1.7, batch["beta"]: -0.2, batch["eps"]: 1e-5})
    delta = np.array([[0.5 * n - 0.3] for n in range(3)])
    _, stages = bn.forward(x, 1.7, -0.2, 1e-5)
    numeric, _, _ = bn.backward_staged(delta, stages)
    symbolic = [float(e.subs(values)) for e in batch["staged"]]
    np.testing.assert_allclose(numeric[:, 0], symbolic, rtol=1e-10)


def test_draw_stages_has_a_title_labels_and_every_stage():
    fig = draw_stages()
    (ax,) = fig.axes
    assert "stages" in ax.get_title() and "backward" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.texts]
    assert "$x_n$" in labels and any("sqrt" in t for t in labels)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["one per\nexample", "one per\nbatch"]


def test_plot_jacobians_titles_and_axes(rng):
    fig = plot_jacobians([np.eye(3), rng.normal(size=(3, 3))], ["a", "b"], suptitle="s")
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert all(ax.get_xlabel() == "output j" and ax.get_ylabel() == "input i" for ax in fig.axes)
    assert [t.get_text() for t in fig.axes[0].texts].count("0") == 6
    with pytest.raises(ValueError, match="one title per matrix"):
        plot_jacobians([np.eye(2)], ["a", "b"])


@pytest.mark.parametrize(
    "kind,count", [("batch", 4 * 5), ("layer", 6 * 5), ("instance", 5), ("group", 3 * 5)]
)
def test_norm_groups_sets_have_the_sizes_of_their_axes(kind, count):
    sets = norm_groups(kind, (4, 6, 5), groups=2)
    sizes = np.bincount(sets.ravel())
    assert np.all(sizes == count)


def test_norm_groups_refuses_unknown_kinds_and_uneven_groups():
    with pytest.raises(ValueError, match="kind must be one of"):
        norm_groups("weight", (2, 2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        norm_groups("group", (2, 5, 2), groups=2)


def test_draw_norm_axes_titles_and_labels():
    fig = draw_norm_axes((4, 6, 5), groups=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split()[0] for t in titles] == ["batch", "layer", "instance", "group"]
    assert all(ax.get_xlabel() == "C" and ax.get_ylabel() == "N" for ax in fig.axes)
    assert GROUP_COLORS[0] == to_hex(GROUP_COLORS[0])


def test_plot_loss_curves_cuts_a_diverging_run():
    runs = {
        "net": {"lr 1, no norm": [1.0, 1e3, 1e9], "lr 1, batch norm": [1.0, 0.5, 0.1]},
        "other": {"lr 1, no norm": [2.0, 1.0]},
    }
    fig = plot_loss_curves(runs)
    first, second = fig.axes
    assert first.get_title() == "net" and second.get_title() == "other"
    assert first.get_xlabel() == "epoch" and first.get_ylabel() == "training cost C"
    assert first.get_ylim()[1] == pytest.approx(20.0)
    styles = [line.get_linestyle() for line in first.get_lines()]
    assert styles == ["--", "-"]
    with pytest.raises(ValueError, match="at least one network"):
        plot_loss_curves({})
