"""backprop.gradcheck: central differences, relative error, and the check's verdicts."""

import configparser
import math
import re
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad

from backprop.gradcheck import (
    check_gradient,
    check_module,
    derivative,
    format_error,
    gradient,
    relative_error,
)

pytestmark = pytest.mark.ch01


@pytest.mark.parametrize(
    "f,df,x0",
    [
        (math.sin, math.cos, 1.0),
        (math.exp, math.exp, -0.5),
        (lambda t: math.log(1 + t * t), lambda t: 2 * t / (1 + t * t), 0.7),
        (lambda t: t**3, lambda t: 3 * t * t, 2.0),
    ],
)
def test_derivative_is_accurate_to_the_central_difference_error(f, df, x0):
    # truncation ~ h^2 |f'''| / 6 ~ 1e-12, rounding ~ eps |f| / h ~ 1e-10
    assert derivative(f, x0) == pytest.approx(df(x0), abs=1e-9)


def test_central_difference_error_shrinks_like_h_squared():
    exact = math.cos(1.0)
    err_big = abs(derivative(math.sin, 1.0, h=1e-2) - exact)
    err_small = abs(derivative(math.sin, 1.0, h=1e-3) - exact)
    assert err_big / err_small == pytest.approx(100.0, rel=0.01)


def test_gradient_of_an_array_function_matches_autograd(rng):
    A = rng.normal(size=(4, 3))

    def f(X):
        return anp.sum(anp.tanh(A * X) ** 2) + anp.sum(X**3)

    x = rng.normal(size=(4, 3))
    expected = autograd_grad(f)(x)
    numeric = gradient(f, x.copy())
    assert relative_error(numeric, expected) < 1e-8


def test_gradient_restores_its_input(rng):
    x = rng.normal(size=(3, 2))
    before = x.copy()
    gradient(lambda a: float(np.sum(np.sin(a))), x)
    assert np.array_equal(x, before)


def test_relative_error_values():
    assert relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.sqrt(2))
    assert relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error([2.0], [1.0]) == pytest.approx(0.5)
    assert relative_error([1e-6, 0.0], [2e-6, 0.0]) == pytest.approx(0.5)  # scale-free


def test_check_gradient_passes_a_correct_gradient_and_flags_wrong_ones(rng):
    W = rng.normal(size=(3, 4))
    X = rng.normal(size=(4, 2))
    G = rng.normal(size=(3, 2))

    def loss(W_):
        return float(np.sum(G * (W_ @ X)))

    right = check_gradient(loss, W, G @ X.T)
    assert right.passed and right.error < 1e-8
    for wrong in (2 * G @ X.T, -(G @ X.T), (G @ X.T) + 1e-3 * np.ones((3, 4))):
        result = check_gradient(loss, W, wrong)
        assert not result.passed
        assert "FAILED" in str(result)
    scalar = check_gradient(math.sin, 0.3, math.cos(0.3))
    assert scalar.passed


def test_report_line_is_free_of_round_off_digits():
    assert format_error(3.2e-11) == "3.2e-11"
    assert format_error(0.0) == "0"
    assert format_error(0.5) == "0.5"
    assert format_error(2.0) == "2"
    assert format_error(1.234e-4) == "0.00012"


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: gradient(np.sum, np.array([1, 2, 3])),
            TypeError,
            "expects x of dtype float64, got int64",
        ),
        (lambda: gradient(np.sum, [1.0, 2.0]), TypeError, "expects a numpy.ndarray, got list"),
        (
            lambda: gradient(np.sum, np.array([1.0, np.nan])),
            ValueError,
            r"gradient's x must be finite, got NaN at index \(1,\)",
        ),
        (lambda: derivative(math.sin, 1.0, h=0.0), ValueError, "step h must be positive, got 0.0"),
        (
            lambda: relative_error([1.0, 2.0], [1.0]),
            ValueError,
            "one shape, got \\(2,\\) and \\(1,\\)",
        ),
        (lambda: relative_error([np.nan], [1.0]), ValueError, "finite values"),
        (
            lambda: check_gradient(np.sum, np.ones(3), np.ones(2)),
            ValueError,
            "analytic gradient of shape \\(3,\\) .* got \\(2,\\)",
        ),
    ],
)
def test_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_report_prints_the_measured_error_and_the_tolerance(rng):
    x = rng.normal(size=4)
    right = check_gradient(lambda v: float(np.sum(v**2)), x, 2 * x)
    wrong = check_gradient(lambda v: float(np.sum(v**2)), x, x)
    assert re.fullmatch(
        r"gradient check passed: relative error \d\.\de-(0[5-9]|1\d) \(tolerance 1e-06\)",
        str(right),
    ), str(right)
    assert str(wrong) == "gradient check FAILED: relative error 0.5 (tolerance 1e-06)"


def test_the_notebook_sanitiser_hides_round_off_and_nothing_else():
    """nbval compares outputs after these replacements: round-off varies, verdicts do not."""
    config = configparser.ConfigParser()
    config.read(Path(__file__).with_name("nbval_sanitize.cfg"))
    rules = [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]

    def sanitised(text):
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        return text

    machine_a = "gradient check passed: relative error 3.2e-11 (tolerance 1e-06)"
    machine_b = "gradient check passed: relative error 7.9e-10 (tolerance 1e-06)"
    assert sanitised(machine_a) == sanitised(machine_b)
    exact_cancellation = machine_a.replace("3.2e-11", "0.0e+00")
    assert sanitised(exact_cancellation) == sanitised(machine_a)
    kept_as_they_are = ["relative error 0.5", "0.00012", "tolerance 1e-06", "1.5e-03", "1.0e+00"]
    for kept in kept_as_they_are:
        assert sanitised(kept) == kept


class _ForgetsTheTranspose:
    """y = x W^T whose backward wrongly returns grad_out W^T (a square W hides the shape)."""

    def __init__(self, rng):
        self.W = rng.normal(size=(3, 3))
        self.dW = np.zeros_like(self.W)

    def forward(self, x):
        self.x = x
        return x @ self.W.T

    def backward(self, grad_out):
        self.dW = grad_out.T @ self.x
        return grad_out @ self.W.T  # should be grad_out @ self.W

    def parameters(self):
        return [self.W]

    def gradients(self):
        return [self.dW]


def test_check_module_flags_a_wrong_backward_and_passes_the_right_parameter_gradient(rng):
    reports = check_module(_ForgetsTheTranspose(rng), rng.normal(size=(4, 3)), rng)
    assert not reports["input"].passed
    assert reports["param 0"].passed
