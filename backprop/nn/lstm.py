"""The long short-term memory layer, PyTorch's ``nn.LSTM`` (chapter 11)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.nn.recurrent import Recurrent


class LSTM(Recurrent):
    """LSTM layer: gates from one product per step, and an additive cell-state path.

    With z_t = x_t W_ih^T + h_{t-1} W_hh^T + b, shape (N, 4H), split into the input, forget,
    cell and output parts (the order of W_ih's rows, as PyTorch's):
    i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o), c_t = f ⊙ c_{t-1} + i ⊙ g and
    h_t = o ⊙ tanh(c_t). Forward maps x (T, N, n_in), h_0 and c_0 ((N, H), zero unless
    given) to h_1..h_T, (T, N, H), and keeps the last cell state as ``c_n``.

    Backward takes dH = dC/dh_t for every t and runs back in time, carrying dh and dc, the
    gradients that reach h_t and c_t from step t + 1: with dh += dH_t,
    dc += dh ⊙ o ⊙ (1 - tanh^2 c_t); then do = dh ⊙ tanh c_t, di = dc ⊙ g, df = dc ⊙ c_{t-1},
    dg = dc ⊙ i, each times its gate's slope (σ' = a (1 - a), tanh' = 1 - a^2) to give
    dz_t; the carries become dz_t W_hh and dc ⊙ f (the cell path multiplies by f only, which
    keeps gradients alive). It stores dW_ih = sum_t dz_t^T x_t, dW_hh = sum_t dz_t^T h_{t-1},
    db = sum_t of the column sums of dz_t, dh0 and dc0, and returns dx_t = dz_t W_ih.

    For speed (measured in ``benchmarks/lstm_step.py``): the input products of all steps are
    one matrix product before the loop, and dW_ih, dW_hh and dx one product each after it;
    each forward call reorders the gates as (o, i, f, g) in copies of the weights, so that
    the three sigmoids are side by side, and halves their rows, so that one tanh call serves
    all four gates (σ(z) = (1 + tanh(z / 2)) / 2); the gates and the cell state are stored
    transposed, (4H, N) and (H, N) per step, so that each gate is a block of whole rows and
    the step's product W_hh h_{t-1}^T reads W_hh as stored (OpenBLAS takes 1.5 times as long
    for h_{t-1} W_hh^T through the transposed view); backward computes every factor that
    does not depend on the carries (the slopes times g, c_{t-1}, i and tanh c_t) for all
    steps at once, leaving six small operations and one product per step; and the large
    scratch arrays are kept from call to call (only the returned states are new).

    Parameters
    ----------
    input_size, hidden_size : int
        n_in and H.
    rng : numpy.random.Generator
        The source of the initial weights (keyword only).
    dtype : float32 or float64
        The parameters' dtype, which inputs must share.
    """

    gates = 4

    def astype(self, dtype: DTypeLike) -> LSTM:
        """Convert the parameters to ``dtype`` (and reset the gradients and kept values)."""
        super().astype(dtype)
        self.dc0 = self.c_n = None
        return self

    def forward(
        self, x: ArrayLike, h0: ArrayLike | None = None, c0: ArrayLike | None = None
    ) -> np.ndarray:
        """Return the hidden states h_1..h_T, (T, N, H), from x (T, N, n_in)."""
        x = self._checked_input(x)
        T, N, _ = x.shape
        H = self.hidden_size
        h = np.empty((T + 1, N, H), x.dtype)  # h_0, h_1, ..., h_T
        c = self._workspace("c", (T + 1, H, N), x.dtype)  # c_0..c_T, transposed as the gates
        self._initial(h0, "h0", h[0])
        self._initial(c0, "c0", c[0].T)
        order = np.r_[3 * H : 4 * H, 0 : 3 * H]  # o, i, f, g: sigmoids first, then i f g
        half = np.where(np.arange(4 * H) < 3 * H, 0.5, 1.0).astype(x.dtype)[:, None]
        W_ih, W_hh = self.W_ih[order], self.W_hh[order]
        inputs = self._workspace("inputs", (4 * H, T * N), x.dtype)
        np.matmul(W_ih * half, x.reshape(T * N, -1).T, out=inputs)  # every x_t W_ih^T
        gates = self._workspace("gates", (T, 4 * H, N), x.dtype)  # a step's (4H, N) together
        np.add(
            inputs.reshape(4 * H, T, N).transpose(1, 0, 2), self.b[order, None] * half, out=gates
        )
        W_hh_half = W_hh * half
        tanh_c = self._workspace("tanh_c", (T, H, N), x.dtype)
        product, ig = np.empty((4 * H, N), x.dtype), np.empty((H, N), x.dtype)
        for t in range(T):
            a = gates[t]  # z_t^T, then the gates' values, in place
            np.matmul(W_hh_half, h[t].T, out=product)
            a += product
            np.tanh(a, out=a)
            sigmoids = a[: 3 * H]
            sigmoids *= 0.5
            sigmoids += 0.5
            np.multiply(a[2 * H : 3 * H], c[t], out=c[t + 1])  # f c_{t-1}
            np.multiply(a[H : 2 * H], a[3 * H :], out=ig)  # i g
            c[t + 1] += ig
            np.tanh(c[t + 1], out=tanh_c[t])
            np.multiply(a[:H], tanh_c[t], out=h[t + 1].T)  # o tanh(c_t)
        self._x, self._saved = x, (order, W_ih, W_hh.T.copy(), gates, h, c, tanh_c)
        self.c_n = c[T].T.copy()
        return h[1:]

    def backward(self, grad_out: ArrayLike) -> np.ndarray | None:
        """Store dW_ih, dW_hh, db, dh0 and dc0; return dC/dx (None if not needed)."""
        dH = self._checked_grad(grad_out)
        x, (order, W_ih, W_hh_T, gates, h, c, tanh_c) = self._x, self._saved
        T, N, H = dH.shape
        # What does not depend on the carries, for every step at once: each gate's slope
        # times the factor its gradient meets, and o (1 - tanh^2 c_t), the path h_t -> c_t
        factors = self._workspace("factors", gates.shape, gates.dtype)
        np.multiply(gates, gates, out=factors)
        np.subtract(gates[:, : 3 * H], factors[:, : 3 * H], out=factors[:, : 3 * H])  # a (1 - a)
        np.subtract(1, factors[:, 3 * H :], out=factors[:, 3 * H :])  # 1 - g^2
        factors[:, :H] *= tanh_c  # dz_o = dh tanh(c_t) σ'
        factors[:, H : 2 * H] *= gates[:, 3 * H :]  # dz_i = dc g σ'
        factors[:, 2 * H : 3 * H] *= c[:-1]  # dz_f = dc c_{t-1} σ'
        factors[:, 3 * H :] *= gates[:, H : 2 * H]  # dz_g = dc i tanh'
        to_cell = self._workspace("to_cell", tanh_c.shape, tanh_c.dtype)
        np.multiply(tanh_c, tanh_c, out=to_cell)
        np.subtract(1, to_cell, out=to_cell)
        to_cell *= gates[:, :H]
        dz = self._workspace("dz", gates.shape, gates.dtype)
        dh, dc = np.zeros_like(c[0]), np.zeros_like(c[0])  # transposed, (H, N)
        carry = np.empty_like(c[0])
        for t in reversed(range(T)):
            dh += dH[t].T  # dC/dh_t
            np.multiply(dh, factors[t, :H], out=dz[t, :H])  # dz_o
            np.multiply(dh, to_cell[t], out=carry)
            dc += carry  # dC/dc_t
            np.multiply(dc, factors[t, H:].reshape(3, H, N), out=dz[t, H:].reshape(3, H, N))
            dc *= gates[t, 2 * H : 3 * H]  # dC/dc_{t-1}: times f alone
            np.matmul(W_hh_T, dz[t], out=dh)  # dC/dh_{t-1}
        self.dh0, self.dc0 = dh.T.copy(), dc.T.copy()
        rows = self._workspace("rows", (4 * H, T * N), dz.dtype)  # every dz_t, for one
        rows.reshape(4 * H, T, N)[...] = dz.transpose(1, 0, 2)  # product per gradient
        for name, value in (
            ("dW_ih", rows @ x.reshape(T * N, -1)),
            ("dW_hh", rows @ h[:-1].reshape(T * N, H)),
            ("db", rows.sum(axis=1)),
        ):
            grad = np.empty_like(value)
            grad[order] = value  # back to PyTorch's order i, f, g, o
            setattr(self, name, grad)
        if not self.needs_input_grad:
            return None
        return (rows.T @ W_ih).reshape(x.shape)
