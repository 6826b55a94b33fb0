"""Recurrent layers and backpropagation through time; the tanh ``RNN`` (chapter 11).

A recurrent layer reads a sequence x_1, ..., x_T, stored sequence first as (T, N, n_in),
and returns every hidden state h_1, ..., h_T as (T, N, H). The same W_ih, W_hh and b are
used at every step, so backward, which runs the steps in reverse (backpropagation through
time), sums their gradients over the steps: the ``+=`` at a fork of chapters 1 and 2.

Truncated BPTT: cut a long sequence into chunks, and start each chunk from the state where
the last one ended, detached: the chunk's backward stops at its initial state, whose
gradient ``dh0`` is dropped instead of being carried back into the previous chunk::

    h = None  # the LSTM: h = c = None
    for chunk, targets in chunks:  # (T, N, n_in) each, in sequence order
        states = rnn.forward(chunk, h0=h)  # the LSTM: also c0=c
        loss, grad_states = cost(states, targets)  # dC/d(states), (T, N, H)
        rnn.backward(grad_states)  # this chunk's gradients; then a step
        h = states[-1]  # the LSTM: h, c = states[-1], lstm.c_n

Each forward call returns a new array of states, so ``states[-1]`` stays valid after the
next call (the layers reuse only their internal scratch arrays).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from backprop.nn.module import Module, float_dtype, saved_for_backward
from backprop.validation import as_count, as_float_array, check_generator


class Recurrent(Module):
    """What RNN and LSTM share: parameters, initial states, and the checks at their doors.

    W_ih is (gates H, n_in), W_hh (gates H, H) and b (gates H,), with gates = 1 for the
    RNN and 4 for the LSTM; all start uniform in ±1/sqrt(H), as PyTorch's do.
    """

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        rng: np.random.Generator,
        dtype: DTypeLike = np.float64,
    ):
        name = type(self).__name__
        self.input_size = as_count(input_size, f"{name} input_size")
        self.hidden_size = as_count(hidden_size, f"{name} hidden_size")
        check_generator(rng, f"{name} rng")
        rows, bound = self.gates * self.hidden_size, 1.0 / np.sqrt(self.hidden_size)
        self.W_ih = rng.uniform(-bound, bound, size=(rows, self.input_size))
        self.W_hh = rng.uniform(-bound, bound, size=(rows, self.hidden_size))
        self.b = rng.uniform(-bound, bound, size=rows)
        self.astype(dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def parameters(self) -> list[np.ndarray]:
        """[W_ih, W_hh, b]."""
        return [self.W_ih, self.W_hh, self.b]

    def gradients(self) -> list[np.ndarray]:
        """[dW_ih, dW_hh, db] from the last backward call, each summed over the steps."""
        return [self.dW_ih, self.dW_hh, self.db]

    def astype(self, dtype: DTypeLike) -> Recurrent:
        """Convert the parameters to ``dtype`` (and reset the gradients and kept values)."""
        dtype = float_dtype(dtype)
        for name in ("W_ih", "W_hh", "b"):
            setattr(self, name, getattr(self, name).astype(dtype, copy=False))
            setattr(self, "d" + name, np.zeros_like(getattr(self, name)))
        self.dh0 = None
        self._x: np.ndarray | None = None
        self._scratch: dict[str, np.ndarray] = {}
        return self

    def _workspace(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A scratch array kept from call to call, refilled by each forward or backward.

        New arrays of a few megabytes cost page faults on their first write, about 1 ms per
        4 MB here: as much as the LSTM's step products. Only what a call returns is new.
        """
        array = self._scratch.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._scratch[name] = np.empty(shape, dtype)
        return array

    def _checked_input(self, x: ArrayLike) -> np.ndarray:
        """The input as (T, N, n_in) with T, N >= 1, in the parameters' dtype."""
        if not (isinstance(x, np.ndarray) and x.dtype == self.W_ih.dtype):
            x = as_float_array(x, "input", self.W_ih.dtype, owner=self)
        if x.ndim != 3 or x.shape[2] != self.input_size or 0 in x.shape:
            raise ValueError(
                f"{self!r} input must have shape (T, batch, {self.input_size}) with "
                f"T, batch >= 1, got {x.shape}"
            )
        return x

    def _initial(self, state: ArrayLike | None, name: str, out: np.ndarray) -> None:
        """Write the initial state ``name`` (zero if None) into ``out``, shaped (N, H)."""
        if state is None:
            out.fill(0)
            return
        state = as_float_array(state, name, out.dtype, owner=self)
        if state.shape != out.shape:
            raise ValueError(
                f"{self!r} {name} must have shape (batch, hidden_size) = {out.shape}, "
                f"got {state.shape}"
            )
        out[...] = state

    def _checked_grad(self, grad_out: ArrayLike) -> np.ndarray:
        """dC/d(states) as (T, N, H), the T and N of the last forward call."""
        x = saved_for_backward(self, self._x)
        if not (isinstance(grad_out, np.ndarray) and grad_out.dtype == x.dtype):
            grad_out = as_float_array(grad_out, "grad_out", x.dtype, owner=self)
        (steps, batch), shape = x.shape[:2], (*x.shape[:2], self.hidden_size)
        if grad_out.ndim != 3 or grad_out.shape[2] != self.hidden_size:
            raise ValueError(f"{self!r} grad_out must have shape {shape}, got {grad_out.shape}")
        if grad_out.shape[0] != steps:
            raise ValueError(
                f"{self!r} grad_out has {grad_out.shape[0]} time steps, but the last "
                f"forward had T = {steps}"
            )
        if grad_out.shape[1] != batch:
            raise ValueError(
                f"{self!r} grad_out has batch {grad_out.shape[1]}, but the last forward "
                f"had batch {batch}"
            )
        return grad_out


class RNN(Recurrent):
    """Tanh recurrent layer, PyTorch's ``nn.RNN``: h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b).

    Forward maps x (T, N, n_in) and h_0 (N, H, zero unless given) to the states h_1..h_T,
    (T, N, H). Backward takes dH = dC/dh_t for every t, (T, N, H), and runs back in time:
    delta_t = (dH_t + delta_{t+1} W_hh) ⊙ (1 - h_t^2) is dC/dz_t; it stores
    dW_ih = sum_t delta_t^T x_t, dW_hh = sum_t delta_t^T h_{t-1}, db = sum_t of the column
    sums of delta_t, and dh0 = delta_1 W_hh, and returns dx_t = delta_t W_ih. PyTorch has
    two biases, b_ih and b_hh; only their sum b matters. The input products of all steps are
    one matrix product, and so is each weight gradient; only h_{t-1} W_hh^T runs per step.

    Parameters
    ----------
    input_size, hidden_size : int
        n_in and H.
    rng : numpy.random.Generator
        The source of the initial weights (keyword only).
    dtype : float32 or float64
        The parameters' dtype, which inputs must share.
    """

    def forward(self, x: ArrayLike, h0: ArrayLike | None = None) -> np.ndarray:
        """Return the hidden states h_1..h_T, (T, N, H), from x (T, N, n_in)."""
        x = self._checked_input(x)
        T, N, _ = x.shape
        states = np.empty((T + 1, N, self.hidden_size), x.dtype)  # h_0, h_1, ..., h_T
        self._initial(h0, "h0", states[0])
        z = self._workspace("z", (T, N, self.hidden_size), x.dtype)
        np.matmul(x.reshape(T * N, -1), self.W_ih.T, out=z.reshape(T * N, -1))
        z += self.b
        recurrent = np.empty_like(states[0])
        for t in range(T):
            np.matmul(states[t], self.W_hh.T, out=recurrent)
            z[t] += recurrent
            np.tanh(z[t], out=states[t + 1])
        self._x, self._states = x, states
        return states[1:]

    def backward(self, grad_out: ArrayLike) -> np.ndarray | None:
        """Store dW_ih, dW_hh, db and dh0; return dC/dx (None if not needed)."""
        dH = self._checked_grad(grad_out)
        x, states = self._x, self._states
        T, N, H = dH.shape
        delta = self._workspace("delta", dH.shape, dH.dtype)
        dh, slope = np.zeros_like(states[0]), np.empty_like(states[0])
        for t in reversed(range(T)):  # dh holds delta_{t+1} W_hh, the path through h_{t+1}
            np.add(dH[t], dh, out=delta[t])
            np.multiply(states[t + 1], states[t + 1], out=slope)
            np.subtract(1, slope, out=slope)  # tanh' = 1 - h_t^2
            delta[t] *= slope
            np.matmul(delta[t], self.W_hh, out=dh)
        self.dh0 = dh
        rows = delta.reshape(T * N, H)  # every step's delta_t, for one product per gradient
        self.dW_hh = rows.T @ states[:-1].reshape(T * N, H)
        self.dW_ih = rows.T @ x.reshape(T * N, -1)
        self.db = rows.sum(axis=0)
        if not self.needs_input_grad:
            return None
        return (rows @ self.W_ih).reshape(x.shape)
