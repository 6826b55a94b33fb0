"""Conv2d, MaxPool2d, AvgPool2d and Flatten against autograd, central differences and loops.

autograd shares no code with the layers: the reference convolution below is a sum over the
kernel offsets written with autograd.numpy's einsum, and the reference pooling a max or mean
over stacked windows. Tolerances: both sides compute exact derivatives in float64, so they
agree to about 1e-12 relative; central differences are held to check_gradient's 1e-6; float32
is held to float64 at 1e-4, float32's precision after a few hundred additions.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from backprop.book.convolution import conv2d_by_loops
from backprop.gradcheck import check_module
from backprop.nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, unfold
from backprop.nn import conv as conv_module
from backprop.nn.unfold import col2im, im2col, keep_examples_last, output_size

pytestmark = pytest.mark.ch09

# (N, C_in, H, W), C_out, kernel, stride, padding: awkward sizes on purpose
CONV_CASES = [
    ((2, 3, 7, 6), 4, (3, 3), (1, 1), (1, 1)),
    ((1, 1, 5, 5), 1, (2, 2), (1, 1), (0, 0)),  # batch 1, one channel
    ((2, 2, 7, 8), 3, (3, 3), (2, 2), (0, 0)),  # stride 2 that does not divide the input
    ((3, 2, 6, 7), 2, (2, 3), (2, 1), (1, 2)),  # a (2, 3) kernel, uneven stride and padding
    ((2, 4, 4, 4), 5, (1, 1), (1, 1), (0, 0)),  # a 1 x 1 convolution
]


# The three ways im2col and col2im fill and empty the columns: the gather product (small
# images), and one strided copy per kernel position with the examples stored last or after
# the channels (a large input stored examples first). The test images are small, so the
# fixture turns the gather off, and examples last, to reach the other two.
UNFOLD_PATHS = ["gather product", "copies, examples last", "copies, examples first"]


@pytest.fixture(params=UNFOLD_PATHS)
def unfold_path(request, monkeypatch):
    if request.param != "gather product":
        monkeypatch.setattr(unfold, "_is_small", lambda *sizes: False)
    if request.param == "copies, examples first":
        monkeypatch.setattr(conv_module, "keep_examples_last", lambda x: False)
    return request.param


def reference_conv(x, W, b, stride, padding):
    """The convolution as a sum over kernel offsets, in autograd.numpy."""
    (kh, kw), (sh, sw), (ph, pw) = W.shape[2:], stride, padding
    h_out = output_size(x.shape[2], kh, sh, ph)
    w_out = output_size(x.shape[3], kw, sw, pw)
    padded = anp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant")
    z = 0.0
    for i in range(kh):
        for j in range(kw):
            window = padded[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw]
            z = z + anp.einsum("ncpq,oc->nopq", window, W[:, :, i, j])
    return z + b[None, :, None, None]


@pytest.mark.parametrize("shape,c_out,kernel,stride,padding", CONV_CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_conv2d_matches_autograd(shape, c_out, kernel, stride, padding, seed, unfold_path):
    rng = np.random.default_rng(seed)
    layer = Conv2d(shape[1], c_out, kernel, stride, padding, rng=rng)
    x = rng.normal(size=shape)
    z = layer.forward(x)
    upstream = rng.normal(size=z.shape)
    grad_x = layer.backward(upstream)

    def cost(x_, W_, b_):
        return anp.sum(reference_conv(x_, W_, b_, stride, padding) * upstream)

    np.testing.assert_allclose(z, reference_conv(x, layer.W, layer.b, stride, padding), rtol=1e-12)
    for argnum, got in [(0, grad_x), (1, layer.dW), (2, layer.db)]:
        expected = grad(cost, argnum)(x, layer.W, layer.b)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape,c_out,kernel,stride,padding", CONV_CASES[:4])
def test_conv2d_matches_central_differences(rng, shape, c_out, kernel, stride, padding):
    layer = Conv2d(shape[1], c_out, kernel, stride, padding, rng=rng)
    reports = check_module(layer, rng.normal(size=shape), rng)
    assert len(reports) == 3 and all(r.passed for r in reports.values()), reports


@pytest.mark.parametrize("shape,c_out,kernel,stride,padding", CONV_CASES)
def test_the_loops_and_im2col_agree(rng, shape, c_out, kernel, stride, padding, unfold_path):
    layer = Conv2d(shape[1], c_out, kernel, stride, padding, rng=rng)
    x = rng.normal(size=shape)
    by_loops = conv2d_by_loops(x, layer.W, layer.b, stride, padding)
    np.testing.assert_allclose(layer.forward(x), by_loops, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("size", [(7, 6), (30, 29)])  # the gather product, then copies
@pytest.mark.parametrize("examples_last", [True, False])
def test_col2im_is_the_adjoint_of_im2col(rng, size, examples_last):
    """<im2col(x), y> = <x, col2im(y)>: the property that makes col2im the gradient."""
    x = rng.normal(size=(2, 3, *size))
    cols = im2col(x, (3, 2), (2, 1), (1, 1), examples_last)
    y = rng.normal(size=cols.shape)
    back = col2im(y, x.shape, (2, 1), (1, 1), examples_last)
    assert back.shape == x.shape
    assert np.sum(cols * y) == pytest.approx(np.sum(x * back), rel=1e-12)


def test_the_columns_keep_or_move_the_examples_as_documented(rng):
    x = rng.normal(size=(2, 3, 5, 4))
    last, first = im2col(x, (3, 3), (1, 1), (1, 1)), im2col(x, (3, 3), (1, 1), (1, 1), False)
    assert last.shape == (3, 3, 3, 5, 4, 2) and first.shape == (3, 3, 3, 2, 5, 4)
    np.testing.assert_array_equal(last, first.transpose(0, 1, 2, 4, 5, 3))
    assert last[1, 0, 2, 2, 1, 1] == x[1, 1, 2 - 1 + 0, 1 - 1 + 2]  # [c, i, j, p, q, n]


def test_a_convolution_stores_its_output_examples_last_and_the_next_one_keeps_it(rng):
    """The layout the speed rests on: the second convolution copies no transposed input."""
    first, second = Conv2d(1, 4, 3, padding=1, rng=rng), Conv2d(4, 2, 3, padding=1, rng=rng)
    z = first.forward(rng.normal(size=(5, 1, 6, 6)))
    assert z.transpose(1, 2, 3, 0).flags.c_contiguous and keep_examples_last(z)
    assert second.forward(z).transpose(1, 2, 3, 0).flags.c_contiguous
    large_nchw = np.zeros((4, 1, 256, 257))  # 2**18 + 1,024 numbers, stored examples first
    assert not keep_examples_last(large_nchw)
    assert keep_examples_last(large_nchw[:, :, :, :256])  # 2**18 numbers: small enough
    assert keep_examples_last(np.zeros((1, 256, 257, 4)).transpose(3, 0, 1, 2))


def test_overlapping_windows_add_their_gradients():
    """A 3 x 3 kernel of ones with stride 1: the centre of a 5 x 5 input is in 9 windows."""
    cols = im2col(np.zeros((1, 1, 5, 5)), (3, 3), (1, 1), (0, 0))
    counts = col2im(np.ones_like(cols), (1, 1, 5, 5), (1, 1), (0, 0))[0, 0]
    assert counts[2, 2] == 9 and counts[0, 0] == 1 and counts[0, 2] == 3


def reference_pool(x, kernel, stride, reduce):
    (kh, kw), (sh, sw) = kernel, stride
    h_out = output_size(x.shape[2], kh, sh, 0)
    w_out = output_size(x.shape[3], kw, sw, 0)
    windows = [
        x[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return reduce(anp.stack(windows), axis=0)


POOL_CASES = [
    ((2, 3, 6, 6), (2, 2), None),
    ((1, 1, 7, 5), (2, 2), None),  # sizes a window does not divide: the last row is dropped
    ((2, 2, 7, 7), (3, 3), (2, 2)),  # overlapping windows
    ((1, 2, 5, 6), (2, 3), (1, 2)),
    ((1, 2, 8, 7), (2, 2), (3, 3)),  # gaps between windows: inputs that no window reads
]


@pytest.mark.parametrize("shape,kernel,stride", POOL_CASES)
@pytest.mark.parametrize("layer_type,reduce", [(MaxPool2d, anp.max), (AvgPool2d, anp.mean)])
def test_pooling_matches_autograd(rng, shape, kernel, stride, layer_type, reduce):
    layer = layer_type(kernel, stride)
    x = rng.normal(size=shape)  # continuous values: no ties, where autograd splits the gradient
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    steps = layer.stride

    def cost(x_):
        return anp.sum(reference_pool(x_, kernel, steps, reduce) * upstream)

    np.testing.assert_allclose(out, reference_pool(x, kernel, steps, reduce), rtol=1e-14)
    np.testing.assert_allclose(layer.backward(upstream), grad(cost)(x), rtol=1e-12, atol=1e-14)


def test_max_pooling_routes_to_the_first_of_tied_inputs():
    """As PyTorch's CPU kernel: in row-major order, the first maximum wins the gradient."""
    layer = MaxPool2d(2)
    x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1))), [[[[0, 1], [0, 0]]]])


@pytest.mark.parametrize("channels_first", [False, True])
def test_in_a_window_of_equal_inputs_the_first_takes_all(channels_first):
    """Windows of nine zeros (a ReLU's output): one winner each, the window's top left."""
    layer = MaxPool2d(3)
    x = np.zeros((2, 3, 7, 6))  # the seventh row is read by no window
    if channels_first:  # a convolution's output is stored this way
        x = np.zeros((3, 2, 7, 6)).transpose(1, 0, 2, 3)
    layer.forward(x)
    grad_in = layer.backward(np.arange(1.0, 25.0).reshape(2, 3, 2, 2))
    expected = np.zeros((2, 3, 7, 6))
    expected[:, :, 0:6:3, 0:6:3] = np.arange(1.0, 25.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(grad_in, expected)


def test_average_pooling_spreads_the_gradient_evenly():
    layer = AvgPool2d(2)
    layer.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    grad_in = layer.backward(np.array([[[[4.0, 8.0], [0.0, -4.0]]]]))
    np.testing.assert_array_equal(grad_in[0, 0, :2, :2], np.full((2, 2), 1.0))
    np.testing.assert_array_equal(grad_in[0, 0, 2:, 2:], np.full((2, 2), -1.0))


def test_flatten_keeps_the_batch_and_passes_the_gradient_back_unchanged(rng):
    layer = Flatten()
    x = rng.normal(size=(3, 2, 4, 5))
    out = layer.forward(x)
    assert out.shape == (3, 40)
    np.testing.assert_array_equal(layer.backward(out), x)
    two_d = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(layer.forward(two_d), two_d)


def small_cnn(rng, dtype=np.float64):
    return Sequential(
        Conv2d(1, 4, 3, padding=1, rng=rng, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 6, 3, padding=1, rng=rng, dtype=dtype),
        ReLU(),
        AvgPool2d(2),
        Flatten(),
        Linear(6 * 2 * 2, 3, rng, dtype=dtype),
    )


def test_a_cnn_in_a_sequential_passes_the_gradient_check(rng):
    reports = check_module(small_cnn(rng), rng.normal(size=(2, 1, 8, 8)), rng)
    assert all(report.passed for report in reports.values()), reports


def test_float32_cnn_computes_in_float32_and_agrees_with_float64(rng):
    model64 = small_cnn(rng)
    model32 = small_cnn(np.random.default_rng(0), np.float32)
    for p32, p64 in zip(model32.parameters(), model64.parameters(), strict=True):
        p32[...] = p64
    x = rng.normal(size=(2, 1, 8, 8))
    out64, out32 = model64.forward(x), model32.forward(x.astype(np.float32))
    upstream = rng.normal(size=out64.shape)
    grad64, grad32 = model64.backward(upstream), model32.backward(upstream.astype(np.float32))
    assert out32.dtype == grad32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in model32.gradients())
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-5)
    for g32, g64 in zip(model32.gradients(), model64.gradients(), strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_conventions_as_pytorch(rng):
    conv = Conv2d(2, 3, 3, rng=rng)
    model = Sequential(conv, ReLU(), MaxPool2d(2), Flatten())
    assert conv.training and model.training
    model.eval()
    assert not any(m.training for m in model)
    W, b = conv.parameters()
    assert W is conv.W and b is conv.b and W.shape == (3, 2, 3, 3) and b.shape == (3,)
    W[...] = 0.0  # an in-place update changes the next forward
    np.testing.assert_array_equal(conv.forward(np.ones((1, 2, 3, 3)))[0, :, 0, 0], b)
    no_bias = Conv2d(2, 3, 3, rng=rng, bias=False)
    assert len(no_bias.parameters()) == 1 and no_bias.parameters()[0] is no_bias.W


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda r: Conv2d(2, 3, 3, rng=r).forward(np.ones((2, 3, 5, 5))), ValueError,
         r"input must have shape \(batch, 2, height, width\), got \(2, 3, 5, 5\)"),
        (lambda r: Conv2d(2, 3, 3, rng=r).forward(np.ones((2, 5, 5))), ValueError,
         r"input must have shape \(batch, 2, height, width\), got \(2, 5, 5\)"),
        (lambda r: Conv2d(1, 1, 5, padding=1, rng=r).forward(np.ones((1, 1, 2, 9))), ValueError,
         "kernel height 5 is larger than the padded input height 4"),
        (lambda r: Conv2d(1, 0, 3, rng=r), ValueError, "out_channels must be an int >= 1, got 0"),
        (lambda r: Conv2d(1, 1, (3, 0), rng=r), ValueError, "kernel_size must be an int >= 1"),
        (lambda r: Conv2d(1, 1, 3, stride=0, rng=r), ValueError, "stride must be an int >= 1"),
        (lambda r: Conv2d(1, 1, 3, padding=-1, rng=r), ValueError, "padding must be an int >= 0"),
        (lambda r: Conv2d(1, 1, 3, rng=r).backward(np.ones((1, 1, 1, 1))), RuntimeError,
         "call forward before backward"),
        (lambda r: MaxPool2d(3).forward(np.ones((1, 1, 2, 5))), ValueError,
         r"window \(3, 3\) is larger than the input \(2, 5\)"),
        (lambda r: MaxPool2d(2).forward(np.ones((4, 4))), ValueError,
         r"input must have shape \(batch, channels, height, width\), got \(4, 4\)"),
        (lambda r: MaxPool2d(2).backward(np.ones((1, 1, 1, 1))), RuntimeError,
         "call forward before backward"),
    ],
)  # fmt: skip
def test_bad_input_names_what_was_expected_and_what_came(rng, call, error, message):
    with pytest.raises(error, match=message):
        call(rng)


def test_a_gradient_of_the_wrong_shape_is_refused(rng):
    conv = Conv2d(1, 2, 3, rng=rng)
    conv.forward(np.ones((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"shape of the last output, \(2, 2, 3, 3\), got"):
        conv.backward(np.ones((2, 2, 5, 5)))
    pool = AvgPool2d(2)
    pool.forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"shape of the last output, \(1, 1, 2, 2\)"):
        pool.backward(np.ones((1, 1, 4, 4)))


def test_the_layers_agree_with_pytorch_ties_included(rng):
    """Run only where PyTorch is installed (it is not a requirement of the book)."""
    torch = pytest.importorskip("torch")
    conv = Conv2d(2, 3, (2, 3), stride=(2, 1), padding=1, rng=rng)
    x = rng.normal(size=(2, 2, 6, 7))
    upstream = rng.normal(size=conv.forward(x).shape)
    grad_x = conv.backward(upstream)
    xt = torch.tensor(x, requires_grad=True)
    Wt, bt = torch.tensor(conv.W, requires_grad=True), torch.tensor(conv.b, requires_grad=True)
    zt = torch.nn.functional.conv2d(xt, Wt, bt, stride=(2, 1), padding=1)
    (zt * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(conv.forward(x), zt.detach().numpy(), rtol=1e-12)
    for ours, theirs in [(grad_x, xt.grad), (conv.dW, Wt.grad), (conv.db, bt.grad)]:
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)
    tied = np.maximum(rng.integers(-1, 2, size=(2, 3, 6, 6)), 0).astype(float)  # many ties
    pool = MaxPool2d(3, stride=2)
    upstream = rng.normal(size=pool.forward(tied).shape)
    xt = torch.tensor(tied, requires_grad=True)
    (torch.nn.functional.max_pool2d(xt, 3, stride=2) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(pool.backward(upstream), xt.grad.numpy())
