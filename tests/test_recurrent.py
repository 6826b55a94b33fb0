"""RNN and LSTM against autograd, central differences and PyTorch; their conventions; errors.

The references below are the recurrences written once more, step by step, in autograd.numpy
(the sigmoid as 1 / (1 + e^-z), the gates sliced in PyTorch's order), sharing no code with
the layers. Tolerances: in float64 both sides are exact up to rounding, which over 50 steps
stays below 1e-12 relative, so they are held to 1e-10; central differences are held to
check_gradient's 1e-6; float32 is held to float64 at 1e-4, float32's precision (1e-7) after
the few hundred additions of a sequence.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from backprop.gradcheck import check_gradient, check_module
from backprop.nn import LSTM, RNN

pytestmark = pytest.mark.ch11


def sigmoid(z):
    return 1 / (1 + anp.exp(-z))


def reference_rnn(x, W_ih, W_hh, b, h0):
    """h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b) for t = 1..T, stacked."""
    h, states = h0, []
    for x_t in x:
        h = anp.tanh(anp.dot(x_t, W_ih.T) + anp.dot(h, W_hh.T) + b)
        states.append(h)
    return anp.stack(states)


def reference_lstm(x, W_ih, W_hh, b, h0, c0):
    """The LSTM's gates i, f, g, o from one z per step, in PyTorch's order."""
    H = W_hh.shape[1]
    h, c, states = h0, c0, []
    for x_t in x:
        z = anp.dot(x_t, W_ih.T) + anp.dot(h, W_hh.T) + b
        i, f = sigmoid(z[:, :H]), sigmoid(z[:, H : 2 * H])
        g, o = anp.tanh(z[:, 2 * H : 3 * H]), sigmoid(z[:, 3 * H :])
        c = f * c + i * g
        h = o * anp.tanh(c)
        states.append(h)
    return anp.stack(states)


LAYERS = {"RNN": (RNN, reference_rnn, 1), "LSTM": (LSTM, reference_lstm, 2)}


def run(name, shape, rng, initial, dtype=np.float64):
    """A layer and its input, run forward and back: (layer, x, initial states, out, dx, up)."""
    layer_type, _, states = LAYERS[name]
    T, N, n_in, H = shape
    layer = layer_type(n_in, H, rng=rng, dtype=dtype)
    x = rng.normal(size=(T, N, n_in)).astype(dtype)
    if initial:
        init = [rng.normal(size=(N, H)).astype(dtype) for _ in range(states)]
    else:
        init = [None] * states
    out = layer.forward(x, *init)
    upstream = rng.normal(size=out.shape).astype(dtype)
    return layer, x, init, out, layer.backward(upstream), upstream


def expected(name, layer, x, init, upstream):
    """Output and every gradient, by autograd from the reference recurrence."""
    _, reference, _ = LAYERS[name]
    N, H = x.shape[1], layer.hidden_size
    init = [np.zeros((N, H)) if s is None else s for s in init]
    args = [x, layer.W_ih, layer.W_hh, layer.b, *init]

    def cost(*a):
        return anp.sum(reference(*a) * upstream)

    return reference(*args), [grad(cost, k)(*args) for k in range(len(args))]


# (T, N, n_in, H): awkward sizes on purpose
SHAPES = [(4, 3, 2, 5), (1, 2, 3, 4), (3, 1, 2, 3), (5, 2, 1, 3), (3, 2, 4, 1), (1, 1, 1, 1)]


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("initial", [False, True], ids=["zero state", "given state"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_layers_match_autograd(name, shape, initial, seed):
    rng = np.random.default_rng(seed)
    layer, x, init, out, dx, upstream = run(name, shape, rng, initial)
    out_expected, grads = expected(name, layer, x, init, upstream)
    np.testing.assert_allclose(out, out_expected, rtol=1e-10, atol=1e-12)
    got = [dx, layer.dW_ih, layer.dW_hh, layer.db, layer.dh0]
    got += [layer.dc0] if name == "LSTM" else []
    for g, e in zip(got, grads, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LAYERS)
def test_bptt_over_fifty_steps_matches_autograd(name, rng):
    layer, x, init, out, dx, upstream = run(name, (50, 3, 2, 4), rng, True)
    out_expected, grads = expected(name, layer, x, init, upstream)
    np.testing.assert_allclose(out, out_expected, rtol=1e-10, atol=1e-12)
    got = [dx, layer.dW_ih, layer.dW_hh, layer.db, layer.dh0]
    got += [layer.dc0] if name == "LSTM" else []
    for g, e in zip(got, grads, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("T", [1, 7])
def test_the_layers_match_central_differences(name, T, rng):
    layer = LAYERS[name][0](3, 4, rng=rng)
    reports = check_module(layer, rng.normal(size=(T, 2, 3)), rng)
    assert len(reports) == 4 and all(r.passed for r in reports.values()), reports


@pytest.mark.parametrize("name", LAYERS)
def test_the_initial_states_gradients_match_central_differences(name, rng):
    layer, x, init, out, _, upstream = run(name, (6, 2, 3, 4), rng, True)
    analytic_grads = [layer.dh0] + ([layer.dc0] if name == "LSTM" else [])
    for k, (state, analytic) in enumerate(zip(init, analytic_grads, strict=True)):

        def cost(value, k=k):
            states = list(init)
            states[k] = value
            return float(np.sum(layer.forward(x, *states) * upstream))

        assert check_gradient(cost, state.copy(), analytic).passed


def test_the_shared_weights_gradient_is_the_sum_over_steps(rng):
    """One copy of W_hh per step, as in the unrolled graph: dW_hh is the sum of their grads."""
    layer, x, init, _, _, upstream = run("RNN", (4, 2, 3, 3), rng, True)

    def cost(copies):
        h, total = init[0], 0.0
        for x_t, W_hh_t, up_t in zip(x, copies, upstream, strict=True):
            h = anp.tanh(anp.dot(x_t, layer.W_ih.T) + anp.dot(h, W_hh_t.T) + layer.b)
            total = total + anp.sum(h * up_t)
        return total

    per_step = grad(cost)([layer.W_hh] * 4)
    assert not np.allclose(per_step[0], per_step[1])  # each step contributes its own part
    np.testing.assert_allclose(layer.dW_hh, sum(per_step), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LAYERS)
def test_float32_layers_compute_in_float32_and_agree_with_float64(name):
    shape = (20, 3, 4, 6)
    layer64, x, init, out64, dx64, up = run(name, shape, np.random.default_rng(5), True)
    layer32 = LAYERS[name][0](4, 6, rng=np.random.default_rng(0), dtype=np.float32)
    for p32, p64 in zip(layer32.parameters(), layer64.parameters(), strict=True):
        p32[...] = p64
    out32 = layer32.forward(x.astype(np.float32), *[s.astype(np.float32) for s in init])
    dx32 = layer32.backward(up.astype(np.float32))
    initial32 = [layer32.dh0] + ([layer32.dc0] if name == "LSTM" else [])
    initial64 = [layer64.dh0] + ([layer64.dc0] if name == "LSTM" else [])
    pairs = [(out32, out64), (dx32, dx64)]
    pairs += zip(layer32.gradients() + initial32, layer64.gradients() + initial64, strict=True)
    for got, wanted in pairs:
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, wanted, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_the_layers_agree_with_pytorch(name, rng):
    """Run only where PyTorch is installed (it is not a requirement of the book)."""
    torch = pytest.importorskip("torch")
    layer, x, init, out, dx, upstream = run(name, (6, 3, 4, 5), rng, True)
    module = getattr(torch.nn, name)(4, 5).double()
    with torch.no_grad():  # torch has two biases, b_ih + b_hh: b and 0
        module.weight_ih_l0.copy_(torch.tensor(layer.W_ih))
        module.weight_hh_l0.copy_(torch.tensor(layer.W_hh))
        module.bias_ih_l0.copy_(torch.tensor(layer.b))
        module.bias_hh_l0.zero_()
    xt = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s[None], requires_grad=True) for s in init]
    out_t, _ = module(xt, states[0] if name == "RNN" else tuple(states))
    (out_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours = [dx, layer.dW_ih, layer.dW_hh, layer.db, layer.dh0]
    theirs = [xt.grad, module.weight_ih_l0.grad, module.weight_hh_l0.grad, module.bias_ih_l0.grad]
    theirs += [states[0].grad[0]]
    if name == "LSTM":
        ours.append(layer.dc0)
        theirs.append(states[1].grad[0])
    for g, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LAYERS)
def test_truncated_bptt_as_the_docstring_says(name, rng):
    """Chunks started from the last state give the states of one pass over the whole."""
    layer = LAYERS[name][0](2, 3, rng=rng)
    x = rng.normal(size=(9, 2, 2))
    whole = layer.forward(x).copy()
    state, chunks = [None] * LAYERS[name][2], []
    for start in (0, 3, 6):
        previous = state
        chunks.append(layer.forward(x[start : start + 3], *state))
        state = [chunks[-1][-1]] + ([layer.c_n] if name == "LSTM" else [])
    np.testing.assert_allclose(np.concatenate(chunks), whole, rtol=1e-12)  # chunks stay valid
    # the last chunk's backward starts from its initial states as constants (detached)
    upstream = rng.normal(size=(3, 2, 3))
    dx = layer.backward(upstream)
    _, grads = expected(name, layer, x[6:], [np.array(s) for s in previous], upstream)
    np.testing.assert_allclose(dx, grads[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.dW_hh, grads[2], rtol=1e-10, atol=1e-12)


def test_a_new_layer_trains_and_its_parameters_are_the_arrays_it_uses(rng):
    rnn, lstm = RNN(2, 3, rng=rng), LSTM(2, 3, rng=rng)
    for layer, rows in ((rnn, 3), (lstm, 12)):
        assert layer.training and not layer.eval().training and layer.train().training
        W_ih, W_hh, b = layer.parameters()
        assert W_ih is layer.W_ih and W_hh is layer.W_hh and b is layer.b
        assert (W_ih.shape, W_hh.shape, b.shape) == ((rows, 2), (rows, 3), (rows,))
        layer.forward(np.ones((2, 1, 2)))
        layer.backward(np.ones((2, 1, 3)))
        assert [g.shape for g in layer.gradients()] == [(rows, 2), (rows, 3), (rows,)]
    rnn.W_ih[...] = 0.0  # an in-place update changes the next forward
    rnn.W_hh[...] = 0.0
    np.testing.assert_allclose(rnn.forward(np.ones((2, 1, 2)))[1, 0], np.tanh(rnn.b), rtol=1e-15)
    lstm.W_ih[...] = 0.0
    lstm.W_hh[...] = 0.0
    lstm.b[...] = 0.0  # every gate 1/2, g = 0: the cell and the state stay zero
    np.testing.assert_array_equal(lstm.forward(np.ones((3, 1, 2))), np.zeros((3, 1, 3)))
    assert repr(rnn) == "RNN(2, 3)" and repr(lstm) == "LSTM(2, 3)"


def test_initial_weights_are_uniform_within_one_over_root_hidden_size():
    layer = LSTM(5, 64, rng=np.random.default_rng(0))
    for p in layer.parameters():
        # 1/sqrt(64); at least 256 draws each, so the largest is within 5% of the bound
        assert 0.95 / 8 < np.abs(p).max() <= 1 / 8
    again = LSTM(5, 64, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.W_hh, layer.W_hh)


@pytest.mark.parametrize("name", LAYERS)
def test_skipping_the_input_gradient_leaves_the_rest_alone(name, rng):
    layer, x, init, _, dx, upstream = run(name, (4, 2, 3, 2), rng, True)
    grads = [g.copy() for g in layer.gradients()]
    layer.needs_input_grad = False
    layer.forward(x, *init)
    assert layer.backward(upstream) is None
    for g, before in zip(layer.gradients(), grads, strict=True):
        np.testing.assert_array_equal(g, before)


def test_integer_inputs_take_the_layers_dtype(rng):
    layer = LSTM(2, 3, rng=rng).astype(np.float32)
    assert all(p.dtype == np.float32 for p in layer.parameters())
    assert layer.forward(np.ones((2, 1, 2), dtype=int)).dtype == np.float32


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda r: RNN(0, 3, rng=r), ValueError, "RNN input_size must be an int >= 1, got 0"),
        (lambda r: LSTM(3, -1, rng=r), ValueError,
         "LSTM hidden_size must be an int >= 1, got -1"),
        (lambda r: RNN(3, 2.5, rng=r), TypeError, "RNN hidden_size must be an int, got float"),
        (lambda r: LSTM(3, 2, rng=0), TypeError, "LSTM rng must be a numpy.random.Generator"),
        (lambda r: RNN(3, 4, rng=r).forward(np.ones((2, 3))), ValueError,
         r"RNN\(3, 4\) input must have shape \(T, batch, 3\) with T, batch >= 1, got \(2, 3\)"),
        (lambda r: LSTM(3, 4, rng=r).forward(np.ones((5, 2, 4))), ValueError,
         r"LSTM\(3, 4\) input must have shape \(T, batch, 3\) .*got \(5, 2, 4\)"),
        (lambda r: RNN(3, 4, rng=r).forward(np.ones((0, 2, 3))), ValueError,
         r"with T, batch >= 1, got \(0, 2, 3\)"),
        (lambda r: LSTM(3, 4, rng=r).forward(np.ones((5, 2, 3), np.float32)), TypeError,
         "input must have dtype float64, got float32"),
        (lambda r: RNN(3, 4, rng=r).forward(np.ones((5, 2, 3)), h0=np.ones(4)), ValueError,
         r"RNN\(3, 4\) h0 must have shape \(batch, hidden_size\) = \(2, 4\), got \(4,\)"),
        (lambda r: LSTM(3, 4, rng=r).forward(np.ones((5, 2, 3)), c0=np.ones((4, 2))),
         ValueError, r"c0 must have shape \(batch, hidden_size\) = \(2, 4\), got \(4, 2\)"),
        (lambda r: LSTM(3, 4, rng=r).backward(np.ones((5, 2, 4))), RuntimeError,
         r"LSTM\(3, 4\): call forward before backward"),
    ],
)  # fmt: skip
def test_bad_input_names_what_was_expected_and_what_came(rng, call, error, message):
    with pytest.raises(error, match=message):
        call(rng)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize(
    "shape,message",
    [
        ((4, 2, 3), r"grad_out has 4 time steps, but the last forward had T = 5"),
        ((5, 3, 3), r"grad_out has batch 3, but the last forward had batch 2"),
        ((5, 2, 4), r"grad_out must have shape \(5, 2, 3\), got \(5, 2, 4\)"),
        ((5, 2), r"grad_out must have shape \(5, 2, 3\), got \(5, 2\)"),
    ],
)
def test_a_sequence_that_changed_since_forward_is_refused(name, rng, shape, message):
    layer = LAYERS[name][0](2, 3, rng=rng)
    layer.forward(np.ones((5, 2, 2)))
    with pytest.raises(ValueError, match=f"{name}" + r"\(2, 3\) " + message):
        layer.backward(np.ones(shape))


@pytest.mark.parametrize("name", LAYERS)
def test_backward_answers_for_the_last_forward_and_keeps_nothing_stale(name, rng):
    """The layers reuse their scratch arrays: a second forward must not mix with the first."""
    layer = LAYERS[name][0](3, 4, rng=rng)
    first, second = rng.normal(size=(2, 5, 2, 3))
    kept = layer.forward(first)
    kept_copy = kept.copy()
    layer.forward(second)
    np.testing.assert_array_equal(kept, kept_copy)  # the first call's states are untouched
    upstream = rng.normal(size=(5, 2, 4))
    dx = layer.backward(upstream)
    _, grads = expected(name, layer, second, [None] * LAYERS[name][2], upstream)
    for g, e in zip([dx, layer.dW_ih, layer.dW_hh, layer.db], grads, strict=False):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    # twice: the same operations on the same arrays, so bitwise the same answer
    np.testing.assert_array_equal(layer.backward(upstream), dx)
