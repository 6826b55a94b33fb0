"""backprop: the small package behind the executable textbook on backpropagation.

Modules, one concept each:

- :mod:`backprop.scalar`: ``Value``, a scalar reverse-mode autodiff engine.
- :mod:`backprop.gradcheck`: central differences and the book's relative error.
- :mod:`backprop.symbolic`, :mod:`backprop.symbolic_matrix`: the SymPy derivations the
  chapters display (scalar ones; matrix and batch ones).
- :mod:`backprop.activations`: f and f' for sigmoid, tanh and ReLU.
- :mod:`backprop.layers`, :mod:`backprop.losses`: layers as modules, and the losses.
- :mod:`backprop.assembly`: one example's gradients, by loops and by matrix products.
- :mod:`backprop.network`: a whole MLP as ``forward_pass`` and ``backward_pass`` on batches.
- :mod:`backprop.optim`: SGD with momentum and a training loop.
- :mod:`backprop.data`: the spiral and scikit-learn's handwritten digits, split and scaled.
- :mod:`backprop.recursion`: error terms computed naively and stored, with counted cost.
- :mod:`backprop.validation`: checks on input arrays.
- :mod:`backprop.plot`, :mod:`backprop.network_plot`, :mod:`backprop.plot_training`:
  drawings of graphs and networks; figures of training.
- :mod:`backprop.slips`: broken backward passes, each caught by the gradient check.
- :mod:`backprop.source`: the package's own code, shown in the book.
"""

from backprop.scalar import Value

__all__ = ["Value"]
__version__ = "0.1.0"
