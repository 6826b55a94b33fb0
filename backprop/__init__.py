"""backprop: the small package behind the executable textbook on backpropagation.

Modules, one concept each:

- :mod:`backprop.scalar`: ``Value``, a scalar reverse-mode autodiff engine.
- :mod:`backprop.gradcheck`: central differences and the book's relative error.
- :mod:`backprop.symbolic`: the SymPy derivations the chapters display.
- :mod:`backprop.plot`: drawings of computational graphs.
"""

from backprop.scalar import Value

__all__ = ["Value"]
__version__ = "0.1.0"
