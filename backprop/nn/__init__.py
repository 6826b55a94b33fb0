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
- :mod:`backprop.nn.losses`: ``softmax``, ``softmax_cross_entropy``, ``mse``;
- :mod:`backprop.nn.unfold`, :mod:`backprop.nn.conv`, :mod:`backprop.nn.pooling`,
  :mod:`backprop.nn.flatten`: ``Conv2d`` (im2col and col2im), ``MaxPool2d``, ``AvgPool2d``,
  ``Flatten``.
- :mod:`backprop.nn.normalization`, :mod:`backprop.nn.batchnorm`: ``LayerNorm``,
  ``GroupNorm``, ``BatchNorm1d``, ``BatchNorm2d``, one computation over different axes.
- :mod:`backprop.nn.recurrent`, :mod:`backprop.nn.lstm`: ``RNN`` and ``LSTM``, trained by
  backpropagation through time.
"""

from backprop.nn.activations import ReLU, Sigmoid, Tanh
from backprop.nn.batchnorm import BatchNorm1d, BatchNorm2d
from backprop.nn.conv import Conv2d
from backprop.nn.flatten import Flatten
from backprop.nn.linear import Linear
from backprop.nn.losses import mse, softmax, softmax_cross_entropy
from backprop.nn.lstm import LSTM
from backprop.nn.module import Module
from backprop.nn.normalization import GroupNorm, LayerNorm
from backprop.nn.pooling import AvgPool2d, MaxPool2d
from backprop.nn.recurrent import RNN
from backprop.nn.sequential import Sequential

__all__ = [
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Flatten",
    "GroupNorm",
    "LSTM",
    "LayerNorm",
    "Linear",
    "MaxPool2d",
    "Module",
    "RNN",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "mse",
    "softmax",
    "softmax_cross_entropy",
]
