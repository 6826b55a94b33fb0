"""backprop: the small package behind the executable textbook on backpropagation.

The library, which a reader can reuse:

- :mod:`backprop.scalar`: ``Value``, a scalar reverse-mode autodiff engine (chapters 1-2);
- :mod:`backprop.gradcheck`: central differences and the book's relative error (chapters
  1 and 8);
- :mod:`backprop.nn`: layers as modules, ``Sequential`` and the losses (chapters 4-7);
- :mod:`backprop.optim`: SGD with momentum and a training loop (chapter 7);
- :mod:`backprop.data`: the spiral and scikit-learn's handwritten digits (chapter 7);
- :mod:`backprop.validation`: the checks at the library's doors.

What the chapters use to teach, built on the library, is in :mod:`backprop.book`.
"""

from backprop.scalar import Value

__all__ = ["Value"]
__version__ = "0.1.0"
