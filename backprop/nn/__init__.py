"""backprop.nn: the layers, the network and the losses a reader reuses.

Every layer follows the module contract of :mod:`backprop.nn.module` (chapter 4): it
writes ``forward(x)`` and ``backward(grad_out)``, and lists ``parameters()`` and
``gradients()`` in the same order::

    from backprop.nn import Linear, ReLU, Sequential, softmax_cross_entropy

    model = Sequential(Linear(2, 16, rng), ReLU(), Linear(16, 3, rng))
    loss, dlogits = softmax_cross_entropy(model(X), labels)
    model.backward(dlogits)  # fills every layer's dW and db

- :mod:`backprop.nn.module`: ``Module``, the contract;
- :mod:`backprop.nn.linear`: ``Linear``;
- :mod:`backprop.nn.activations`: the table of f and f', and ``Sigmoid``, ``Tanh``, ``ReLU``;
- :mod:`backprop.nn.sequential`: ``Sequential``;
- :mod:`backprop.nn.losses`: ``softmax``, ``softmax_cross_entropy``, ``mse``.
"""

from backprop.nn.activations import ReLU, Sigmoid, Tanh
from backprop.nn.linear import Linear
from backprop.nn.losses import mse, softmax, softmax_cross_entropy
from backprop.nn.module import Module
from backprop.nn.sequential import Sequential

__all__ = [
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "mse",
    "softmax",
    "softmax_cross_entropy",
]
