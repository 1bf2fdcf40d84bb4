"""Derivative rules, one module per family (as autograd's numpy_vjps, linalg, fft):

* ``operators``  -- Python's operators (``+``, ``*``, ``@``, ``**``, ...)
* ``numpy_core`` -- the NumPy namespace: ufuncs, reductions, products, shapes, indexing
* ``linalg``     -- ``numpy.linalg``
* ``fft``        -- ``numpy.fft``
* ``builtins_``  -- Python's builtins (``sum``, ``abs``, ``max``, ...)
* ``math_``      -- Python's ``math`` module
* ``ops``        -- ``sourcegrad.ops`` (MindSpore-named functional ops)
* ``runtime_``   -- the helpers generated code calls

``registry`` holds the rules (keyed by the primal object) and ``nondiff`` the
table of callables whose results carry no gradient.
"""
