"""The module contract, the package's layout, and a clear error for every misuse.

A layer a reader writes (public ``forward`` and ``backward``, as in chapter 4's exercise)
must work beside the package's own; the library must never import the chapter helpers;
and each misuse below must raise an error that names the argument, what was expected and
what came, never return a silently wrong answer.
"""

import ast
from pathlib import Path

import numpy as np
import pytest

import backprop.optim
from backprop.gradcheck import GradCheck, check_gradient, check_module
from backprop.nn import Linear, Module, ReLU, Sequential, Tanh, mse, softmax, softmax_cross_entropy
from backprop.nn.activations import relu_derivative
from backprop.optim import SGD, accuracy, predict, train
from backprop.scalar import Value
from backprop.validation import as_batch

pytestmark = pytest.mark.ch04

PACKAGE = Path(__file__).resolve().parents[1] / "backprop"


class Square(Module):
    """y = x^2, element by element: a layer written as a reader writes one."""

    def forward(self, x):
        self.x = np.asarray(x, dtype=float)
        return self.x**2

    def backward(self, grad_out):
        return 2 * self.x * grad_out


class Scale(Module):
    """y = s x with a learnable scalar s: a reader's layer with a parameter."""

    def __init__(self):
        self.s, self.ds = np.array([1.5]), np.zeros(1)

    def forward(self, x):
        self.x = x
        return self.s * x

    def backward(self, grad_out):
        self.ds = np.array([np.sum(grad_out * self.x)])
        return self.s * grad_out

    def parameters(self):
        return [self.s]

    def gradients(self):
        return [self.ds]


# -- the contract --------------------------------------------------------------------------


def test_a_readers_layer_is_checked_like_the_packages(rng):
    reports = check_module(Square(), rng.normal(size=(4, 3)), rng)
    assert reports["input"].passed and reports["input"].error < 1e-8
    reports = check_module(Scale(), rng.normal(size=(4, 3)), rng)
    assert reports["input"].passed and reports["param 0"].passed


def test_a_readers_layers_train_inside_a_sequential(rng):
    model = Sequential(Linear(3, 4, rng), Square(), Scale(), Linear(4, 2, rng))
    assert len(model.parameters()) == len(model.gradients()) == 5
    for name, report in check_module(model, rng.normal(size=(5, 3)), rng).items():
        assert report.passed, (name, report)
    X, labels = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    history = train(model, X, labels, epochs=5, batch_size=5, lr=0.05, rng=rng)
    assert history.loss[-1] < history.loss[0]


def test_the_abstract_methods_are_forward_and_backward():
    assert Module.__abstractmethods__ == {"forward", "backward"}

    class OnlyForward(Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="abstract method.* 'backward'|abstract method backward"):
        OnlyForward()


def test_parameters_are_the_arrays_the_layer_uses(rng):
    layer = Linear(3, 2, rng)
    W, b = layer.parameters()
    assert W is layer.W and b is layer.b
    W[...] = 0.0  # an in-place change is what the next forward uses
    np.testing.assert_array_equal(layer.forward(np.ones((1, 3))), b[None, :])


def test_train_and_eval_reach_every_module(rng):
    inner = Sequential(Linear(2, 2, rng), Tanh())
    model = Sequential(inner, Linear(2, 2, rng))
    assert all(m.training for m in (model, inner, inner[0], inner[1], model[1]))
    model.eval()
    assert not any(m.training for m in (model, inner, inner[0], inner[1], model[1]))
    model.train()
    assert all(m.training for m in (model, inner, inner[0], inner[1], model[1]))


def test_relu_passes_no_gradient_at_its_kink():
    relu = ReLU()
    relu.forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(relu.backward(np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 5.0])
    assert relu_derivative(np.array([0.0]))[0] == 0.0  # as PyTorch: 0, not 1


# -- the layout: the library below the chapter helpers, no circles -------------------------


def imports_of(path: Path) -> set[str]:
    """The backprop modules that a file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backprop"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("backprop"))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_the_library_never_imports_the_chapter_helpers():
    library = {name: found for name, found in MODULES.items() if ".book" not in name}
    assert "backprop.nn.linear" in library and "backprop.optim" in library
    offending = {name: sorted(f for f in found if ".book" in f) for name, found in library.items()}
    assert {name: found for name, found in offending.items() if found} == {}


def test_no_two_modules_import_each_other():
    pairs = [
        (a, b)
        for a, found in MODULES.items()
        for b in found
        if b in MODULES and a in MODULES[b] and a < b
    ]
    assert pairs == []


def test_the_optimiser_calls_no_other_objects_private_methods():
    tree = ast.parse(Path(backprop.optim.__file__).read_text())
    private = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")  # type(x).__name__ and the like are public
        and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]
    assert private == []


# -- checks that could fail -----------------------------------------------------------------


class IgnoresUpstream(Module):
    """y = 2x, whose backward forgets grad_out: right only when grad_out is all ones."""

    def forward(self, x):
        return 2 * x

    def backward(self, grad_out):
        return 2 * np.ones_like(grad_out)


def test_check_module_uses_a_random_upstream_gradient(rng):
    reports = check_module(IgnoresUpstream(), rng.normal(size=(3, 4)), rng)
    assert not reports["input"].passed


def test_a_gradient_check_fails_just_above_its_tolerance():
    one = np.ones(1)
    assert GradCheck(one, one, error=1e-6, tolerance=1e-6).passed
    assert not GradCheck(one, one, error=1.5e-6, tolerance=1e-6).passed
    assert not GradCheck(one, one, error=5e-5, tolerance=1e-6).passed


def test_an_empty_batch_is_refused(rng):
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\), got \(0, 3\)"):
        as_batch(np.zeros((0, 3)), 3, "x")
    with pytest.raises(ValueError, match=r"input must have shape \(batch, 3\), got \(0, 3\)"):
        Linear(3, 2, rng).forward(np.zeros((0, 3)))


# -- misuse: a clear error, never a silent wrong answer ------------------------------------


def test_accuracy_refuses_labels_of_the_wrong_shape(rng):
    model = Sequential(Linear(2, 2, rng))
    X = rng.normal(size=(5, 2))
    labels = predict(model, X)
    assert accuracy(model, X, labels) == 1.0
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\), one per example, "
                       r"got \(5, 1\)"):  # fmt: skip
        accuracy(model, X, labels[:, None])


def test_a_layer_used_twice_is_refused_when_the_network_is_made(rng):
    shared = Linear(3, 3, rng)
    with pytest.raises(ValueError, match=r"holds Linear\(3, 3, bias=True\) twice \(places 0 and 2"):
        Sequential(shared, Tanh(), shared)
    with pytest.raises(ValueError, match="twice"):
        Sequential(Sequential(shared, Tanh()), Sequential(shared))


def test_nested_networks_with_mismatched_widths_are_refused_when_made(rng):
    with pytest.raises(ValueError, match=r"Linear\(5, 2, bias=True\) \(place 2\) takes 5 inputs, "
                       r"but Linear\(3, 4, bias=True\) \(place 0\) gives 4"):  # fmt: skip
        Sequential(Sequential(Linear(3, 4, rng), Tanh()), Sequential(Linear(5, 2, rng)))


def test_an_empty_sequential_is_the_identity_on_numbers_only():
    model = Sequential()
    np.testing.assert_array_equal(model.forward(np.ones((2, 3))), np.ones((2, 3)))
    np.testing.assert_array_equal(model.backward(np.ones((2, 3))), np.ones((2, 3)))
    with pytest.raises(TypeError, match="input must hold real numbers .* got dtype <U1"):
        model.forward(np.array(["a", "b"]))


def test_empty_arrays_are_refused_by_the_losses():
    with pytest.raises(ValueError, match=r"softmax needs at least one logit, got shape \(0,\)"):
        softmax(np.array([]))
    with pytest.raises(ValueError, match=r"mse needs at least one prediction, got shape \(0,\)"):
        mse(np.array([]), np.array([]))
    with pytest.raises(ValueError, match=r"logits must have shape \(batch, classes\)"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_predict_refuses_a_single_row_and_sgd_a_string(rng):
    model = Sequential(Linear(2, 3, rng))
    with pytest.raises(ValueError, match=r"predict X must have shape \(n, features\) with n >= 1, "
                       r"got \(2,\)"):  # fmt: skip
        predict(model, np.ones(2))
    with pytest.raises(TypeError, match="SGD lr must be a number, got str '0.1'"):
        SGD(model, lr="0.1")


def test_a_diverging_run_stops_before_the_step_that_breaks(rng, monkeypatch):
    X, labels = rng.normal(size=(40, 2)), rng.integers(0, 3, 40)
    model = Sequential(Linear(2, 16, rng), ReLU(), Linear(16, 3, rng))
    after_each_step = []
    step = SGD.step

    def recording_step(self):
        step(self)
        after_each_step.append([p.copy() for p in self.model.parameters()])

    monkeypatch.setattr(SGD, "step", recording_step)
    with pytest.raises(FloatingPointError, match=r"diverged in epoch \d+: (logits must be finite|"
                       r"an SGD update is not finite).* lr=1e\+100 may be too large"):  # fmt: skip
        with np.errstate(over="ignore", invalid="ignore"):
            train(model, X, labels, epochs=20, batch_size=10, lr=1e100, rng=rng)
    assert after_each_step, "at least one step succeeded"
    for now, last_good in zip(model.parameters(), after_each_step[-1], strict=True):
        assert np.isfinite(now).all()
        np.testing.assert_array_equal(now, last_good)
    assert model.needs_input_grad is True and model.training  # train restores both


def test_the_scalar_engine_names_a_derivative_that_fails():
    with pytest.raises(ValueError, match=r"Value \*\* 0.5 at x = 0: its derivative 0.5 x \*\* -0.5 "
                       "is infinite there"):  # fmt: skip
        Value(0.0) ** 0.5
    with pytest.raises(OverflowError, match=r"Value.exp of 1000 overflows a float: e\^x is finite "
                       r"only for x <= 709.78"):  # fmt: skip
        Value(1000.0).exp()
    assert (Value(0.0) ** 2).data == 0.0 and (Value(0.0) ** 0).data == 1.0


def test_a_gradient_check_of_an_array_valued_function_says_so():
    with pytest.raises(TypeError, match=r"must return a scalar \(the loss\), got an array of "
                       r"shape \(3,\)"):  # fmt: skip
        check_gradient(lambda x: x**2, np.ones(3), 2 * np.ones(3))


def test_a_gradient_check_in_float32_is_refused_with_the_reason():
    x = np.ones(3, np.float32)
    with pytest.raises(TypeError, match="float64, got float32: in float32 a step of h = 1e-06 is "
                       "lost in the rounding"):  # fmt: skip
        check_gradient(lambda v: float(np.sum(v**2)), x, 2 * x)


def test_an_update_too_large_to_represent_changes_nothing(rng):
    """Inputs of size 1000 and lr = 1: the updates grow until their squares overflow."""
    X, labels = 1000 * rng.normal(size=(64, 3)), rng.integers(0, 2, 64)
    model = Sequential(Linear(3, 16, rng), ReLU(), Linear(16, 2, rng))
    with pytest.raises(FloatingPointError, match="diverged in epoch"):
        with np.errstate(over="ignore", invalid="ignore"):
            train(model, X, labels, epochs=50, batch_size=16, lr=1.0, rng=rng)
    assert all(np.isfinite(p).all() for p in model.parameters())


def test_sgd_checks_every_update_before_it_changes_any_parameter(rng):
    model = Sequential(Linear(2, 2, rng), Linear(2, 2, rng))
    model.forward(np.ones((1, 2)))
    model.backward(np.ones((1, 2)))
    model[1].db[0] = np.inf  # the last parameter's gradient is broken
    before = [p.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="an SGD update is not finite .*; no parameter changed"):
        SGD(model, lr=0.1, momentum=0.9).step()
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, b)
