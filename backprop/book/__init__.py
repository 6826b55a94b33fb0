"""backprop.book: what the chapters use to teach, built on the library.

None of this is needed to train a network; it is how the chapters show and check the ideas.
Each module imports the library (:mod:`backprop.scalar`, :mod:`backprop.nn`, ...), never
the other way round.

- :mod:`backprop.book.symbolic`, :mod:`backprop.book.symbolic_matrix`: the SymPy
  derivations (chapters 1-2; 5-6);
- :mod:`backprop.book.recursion`, :mod:`backprop.book.plot_recursion`: error terms
  computed naively and stored, with counted cost, and drawn (chapter 4);
- :mod:`backprop.book.modes`: every gradient by finite differences, by forward mode and by
  one backward pass, with counted multiplications (chapter 4);
- :mod:`backprop.book.assembly`: one example's gradients by loops and by matrix products
  (chapter 5);
- :mod:`backprop.book.network`: a whole MLP as ``forward_pass`` and ``backward_pass`` on
  batches (chapter 6), and :mod:`backprop.book.plot_shapes`, its products' shapes drawn;
- :mod:`backprop.book.convolution`: convolution written as loops, and the 1-D correlations
  inside its backward pass (chapter 9), and :mod:`backprop.book.plot_conv`, its windows,
  im2col matrix and pooling drawn;
- :mod:`backprop.book.normalization`: batch normalisation's forward pass, its backward pass
  in stages and as the compact formula (on numbers and on SymPy symbols), and the same
  computation over any axes (chapter 10), and :mod:`backprop.book.plot_norm`, its stages,
  Jacobian, axes and training curves drawn;
- :mod:`backprop.book.recurrent`: the adding problem, Jacobian products and gradients
  measured lag by lag, clipping, and a small training loop for sequence models (chapter 11),
  and :mod:`backprop.book.plot_recurrent`, its figures;
- :mod:`backprop.book.exercises`: ``check_answer``, for exercises that check themselves;
- :mod:`backprop.book.slips`: broken backward passes, each caught by a gradient check
  (chapter 8);
- :mod:`backprop.book.source`: the package's own code, shown in the book;
- :mod:`backprop.book.plot_graph`, :mod:`backprop.book.plot_network`,
  :mod:`backprop.book.plot_training`: the figures (graphs of ``Value`` nodes, networks,
  training curves and decision regions).
"""
