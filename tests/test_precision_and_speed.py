"""The layers in float32 and float64, the fast paths of a training step, and the import cost.

A float32 model must compute in float32 (outputs, gradients, updates) and agree with the
same model in float64 to float32's precision; a float32 input must not be copied on the way
in; skipping dL/dX in the first layer must leave the parameter gradients unchanged; and
`import backprop` must not pull in SymPy, matplotlib or scikit-learn.
"""

import subprocess
import sys

import numpy as np
import pytest

from backprop.nn import Linear, ReLU, Sequential, Sigmoid, Tanh, mse, softmax_cross_entropy
from backprop.optim import SGD, train
from backprop.scalar import Value, topological_order

pytestmark = pytest.mark.appendix


def mlp(rng, widths=(5, 7, 6, 3), activation=Tanh, dtype=np.float64):
    modules = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        modules += [Linear(n_in, n_out, rng, dtype=dtype), activation()]
    return Sequential(*modules[:-1])


def one_step_gradients(model, X, labels, needs_input_grad=True):
    model.needs_input_grad = needs_input_grad
    loss, dlogits = softmax_cross_entropy(model.forward(X), labels)
    dX = model.backward(dlogits)
    return loss, dX, [g.copy() for g in model.gradients()]


@pytest.mark.parametrize("activation", [Tanh, Sigmoid, ReLU])
def test_float32_model_computes_in_float32_and_agrees_with_float64(rng, activation):
    model64 = mlp(rng, activation=activation)
    model32 = mlp(np.random.default_rng(0), activation=activation)
    for p32, p64 in zip(model32.parameters(), model64.parameters(), strict=True):
        p32[...] = p64
    model32.astype(np.float32)
    X = rng.normal(size=(8, 5))
    labels = rng.integers(0, 3, 8)
    loss64, dX64, grads64 = one_step_gradients(model64, X, labels)
    loss32, dX32, grads32 = one_step_gradients(model32, X.astype(np.float32), labels)
    assert model32.forward(X.astype(np.float32)).dtype == np.float32
    assert dX32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32)
    assert all(p.dtype == np.float32 for p in model32.parameters())
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(dX32, dX64, rtol=1e-4, atol=1e-6)
    for g32, g64 in zip(grads32, grads64, strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


def test_losses_keep_the_dtype_of_their_input(rng):
    z = rng.normal(size=(4, 3)).astype(np.float32)
    _, dz = softmax_cross_entropy(z, np.array([0, 2, 1, 1]))
    assert dz.dtype == np.float32
    _, dz = softmax_cross_entropy(z, np.eye(3)[[0, 2, 1, 1]])
    assert dz.dtype == np.float32
    _, dp = mse(z, np.zeros((4, 3), np.float32))
    assert dp.dtype == np.float32


def test_sgd_keeps_float32_parameters_float32(rng):
    model = mlp(rng, dtype=np.float32)
    X = rng.normal(size=(6, 5)).astype(np.float32)
    one_step_gradients(model, X, np.array([0, 1, 2, 0, 1, 2]))
    before = [p.copy() for p in model.parameters()]
    SGD(model, lr=0.1, momentum=0.9).step()
    for p, b, g in zip(model.parameters(), before, model.gradients(), strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, b - np.float32(0.1) * g, rtol=1e-6)


def test_training_in_float32_learns_like_float64():
    from backprop.data import spiral

    X, labels = spiral(classes=3, points_per_class=60, noise=0.2, rng=np.random.default_rng(1))
    accuracies = {}
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(7)
        model = Sequential(Linear(2, 32, rng, dtype=dtype), ReLU(), Linear(32, 3, rng, dtype=dtype))
        history = train(
            model, X.astype(dtype), labels, epochs=60, batch_size=30, lr=0.5, rng=rng, momentum=0.9
        )
        accuracies[dtype] = history.accuracy[-1]
        assert model[0].W.dtype == dtype
    assert accuracies[np.float64] > 0.9
    assert accuracies[np.float32] == pytest.approx(accuracies[np.float64], abs=0.02)


def test_integer_inputs_take_the_models_dtype(rng):
    model = mlp(rng, dtype=np.float32)
    assert model.forward(np.arange(10).reshape(2, 5)).dtype == np.float32
    assert mlp(rng).forward(np.arange(10).reshape(2, 5)).dtype == np.float64


@pytest.mark.parametrize(
    "model_dtype,input_dtype", [(np.float64, np.float32), (np.float32, np.float64)]
)
def test_an_input_of_the_other_precision_is_refused_by_name(rng, model_dtype, input_dtype):
    model = mlp(rng, dtype=model_dtype)
    expected, got = np.dtype(model_dtype).name, np.dtype(input_dtype).name
    with pytest.raises(TypeError, match=f"input must have dtype {expected}, got {got}"):
        model.forward(np.ones((2, 5), input_dtype))
    model.forward(np.ones((2, 5), model_dtype))
    with pytest.raises(TypeError, match=f"grad_out must have dtype {expected}, got {got}"):
        model.backward(np.ones((2, 3), input_dtype))


def test_half_precision_and_other_dtypes_are_refused(rng):
    with pytest.raises(TypeError, match="got dtype float16"):
        Linear(2, 2, rng).forward(np.ones((1, 2), np.float16))
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        Linear(2, 2, rng, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got float16"):
        mlp(rng).astype(np.float16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_input_is_not_copied(rng, dtype):
    layer = Linear(5, 3, rng, dtype=dtype)
    X = rng.normal(size=(4, 5)).astype(dtype)
    layer.forward(X)
    assert np.shares_memory(layer._x, X)
    model = mlp(rng, dtype=dtype)
    model.forward(X)
    assert np.shares_memory(model[0]._x, X)


@pytest.mark.parametrize("activation", [Tanh, Sigmoid, ReLU])
def test_skipping_the_input_gradient_leaves_the_parameter_gradients_alone(rng, activation):
    model = mlp(rng, activation=activation)
    X, labels = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    _, dX, with_input = one_step_gradients(model, X, labels, needs_input_grad=True)
    _, none, without_input = one_step_gradients(model, X, labels, needs_input_grad=False)
    assert dX.shape == X.shape and none is None
    for a, b in zip(with_input, without_input, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_first_layer_skips_its_input_product_when_asked(rng):
    class CountingLinear(Linear):
        products = 0

        def backward(self, grad_out):
            CountingLinear.products += 1 + self.needs_input_grad  # dW, and dX if asked for
            return super().backward(grad_out)

    model = Sequential(CountingLinear(4, 3, rng), Tanh(), CountingLinear(3, 2, rng))
    model.needs_input_grad = False
    assert model[0].needs_input_grad is False and model[2].needs_input_grad is True
    model.forward(np.ones((2, 4)))
    assert model.backward(np.ones((2, 2))) is None
    assert CountingLinear.products == 3  # dW twice, dX only for the second layer


def test_consecutive_widths_are_checked_when_the_network_is_made(rng):
    with pytest.raises(
        ValueError,
        match=r"Sequential: Linear\(5, 2, bias=True\) \(place 2\) takes 5 inputs, "
        r"but Linear\(3, 4, bias=True\) \(place 0\) gives 4",
    ):
        Sequential(Linear(3, 4, rng), ReLU(), Linear(5, 2, rng))


def test_import_backprop_stays_numpy_only():
    modules = "backprop, backprop.nn, backprop.optim, backprop.gradcheck, backprop.data"
    code = (
        f"import sys; import {modules}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sympy', 'matplotlib', 'sklearn', 'scipy', 'torch', 'autograd'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- the scalar engine's graph: parents in slots, searches marked by stamps --------------


def recursive_order(root):
    """The textbook recursive post-order, as a reference for small graphs."""
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order


def random_graph(rng, size=60):
    nodes = [Value(float(v)) for v in rng.uniform(0.5, 1.5, 4)]
    for _ in range(size):
        a, b = (nodes[i] for i in rng.integers(0, len(nodes), 2))
        op = rng.integers(0, 4)
        nodes.append([a + b, a * b, a.tanh(), b.relu()][op])
    return nodes


def test_topological_order_equals_the_recursive_one_on_random_graphs(rng):
    for _ in range(20):
        nodes = random_graph(rng)
        root = nodes[-1]
        assert topological_order(root) == recursive_order(root)
        middle = nodes[len(nodes) // 2]  # a search from inside the graph, in between
        assert topological_order(middle) == recursive_order(middle)
        assert topological_order(root) == recursive_order(root)


def test_parents_and_local_gradients_of_unary_and_binary_nodes():
    x, y = Value(3.0), Value(-2.0)
    product, square, leaf = x * y, x * x, Value(1.0)
    assert product.parents == (x, y) and product.local_grads == (-2.0, 3.0)
    assert (-x).parents == (x,) and (-x).local_grads == (-1.0,)
    assert leaf.parents == () and leaf.local_grads == ()
    square.backward()
    assert x.grad == 6.0  # both slots hold x: the two contributions add


def test_an_operation_giving_nan_is_refused():
    with pytest.raises(ValueError, match="Value \\* gave NaN"):
        Value(float("inf")) * 0.0


def test_a_million_node_chain_back_propagates():
    x = Value(0.5)
    y = x
    for _ in range(10**6):
        y = y.relu()
    y.backward()
    assert x.grad == 1.0


def test_a_network_checks_its_input_once_not_per_module(rng, monkeypatch):
    import backprop.nn.sequential

    checked = []

    def counting_check(array, name, owner=None):
        checked.append(name)

    monkeypatch.setattr(backprop.nn.sequential, "check_finite", counting_check)
    model = Sequential(Linear(3, 4, rng), Tanh(), Linear(4, 2, rng), Tanh())
    model.forward(np.ones((2, 3)))
    model.backward(np.ones((2, 2)))
    assert checked == ["input", "grad_out"]  # at the door, not once per module


def test_train_refuses_data_of_the_wrong_dtype_before_any_step(rng):
    model = mlp(rng)  # float64
    before = [p.copy() for p in model.parameters()]
    X = np.ones((6, 5), np.float32)
    with pytest.raises(TypeError, match="train X must have dtype float64, got float32"):
        train(model, X, np.zeros(6, dtype=int), epochs=1, batch_size=2, lr=0.1, rng=rng)
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, b)
