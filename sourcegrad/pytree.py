"""``ravel``: a container of arrays as one float64 vector, and back.

For optimizers that take a flat vector (``scipy.optimize.minimize``), as
autograd's ``flatten`` and JAX's ``ravel_pytree``::

    flat, unravel = sg.ravel(params)          # params: dicts, lists, tuples, arrays
    loss_and_grad = sg.value_and_grad(loss)

    def fun(v):
        value, g = loss_and_grad(unravel(v), data)
        return value, sg.ravel(g)[0]          # the gradient has params' structure

    res = scipy.optimize.minimize(fun, flat, jac=True)
    params = unravel(res.x)
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["ravel"]


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def _keys(d: dict) -> list:
    """A dict's keys in sorted order (so a gradient built in another order ravels
    the same way), or in insertion order where they cannot be sorted."""
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def _leaves(tree, out: list):
    if tree is None:
        return
    if isinstance(tree, dict):
        for k in _keys(tree):
            _leaves(tree[k], out)
    elif isinstance(tree, (list, tuple)):
        for item in tree:
            _leaves(item, out)
    else:
        out.append(tree)


def _spec(tree):
    """What ``unravel`` needs to rebuild ``tree``: its containers, and each leaf's
    kind, shape and dtype."""
    if tree is None:
        return ("none",)
    if isinstance(tree, dict):
        keys = _keys(tree)
        return ("dict", type(tree), keys, [_spec(tree[k]) for k in keys])
    if _is_namedtuple(tree):
        return ("namedtuple", type(tree), [_spec(v) for v in tree])
    if isinstance(tree, (list, tuple)):
        return ("seq", type(tree), [_spec(v) for v in tree])
    if isinstance(tree, np.ndarray):
        if tree.dtype.kind == "c":
            raise TypeError("sg.ravel: complex arrays have no float64 vector form; "
                            "split them into real and imaginary parts")
        return ("array", tree.shape, tree.dtype)
    if isinstance(tree, np.generic):
        return ("npscalar", type(tree))
    if isinstance(tree, bool):
        return ("py", bool)
    if isinstance(tree, numbers.Real):
        return ("py", int if isinstance(tree, numbers.Integral) else float)
    raise TypeError(f"sg.ravel: a leaf of type {type(tree).__name__} is not an array or a "
                    f"real number (containers: dict, list, tuple, namedtuple)")


def _size(spec) -> int:
    kind = spec[0]
    if kind == "array":
        return int(np.prod(spec[1], dtype=np.int64))
    if kind in ("npscalar", "py"):
        return 1
    if kind == "none":
        return 0
    return sum(_size(s) for s in spec[-1])


def _build(spec, flat, pos: int):
    """(the subtree of ``spec`` read from ``flat`` at ``pos``, the next position)."""
    kind = spec[0]
    if kind == "array":
        _, shape, dtype = spec
        n = int(np.prod(shape, dtype=np.int64))
        return flat[pos:pos + n].reshape(shape).astype(dtype), pos + n
    if kind == "npscalar":
        return spec[1](flat[pos]), pos + 1
    if kind == "py":
        return spec[1](flat[pos]), pos + 1
    if kind == "none":
        return None, pos
    children = []
    for sub in spec[-1]:
        value, pos = _build(sub, flat, pos)
        children.append(value)
    if kind == "dict":
        out = spec[1]() if spec[1] is not dict else {}
        for k, v in zip(spec[2], children):
            out[k] = v
        return out, pos
    if kind == "namedtuple":
        return spec[1](*children), pos
    return (children if spec[1] is list else spec[1](children)), pos


def ravel(tree):
    """``(vector, unravel)``: every number in ``tree`` -- nested dicts, lists,
    tuples and namedtuples of arrays and scalars -- as one float64 vector, and
    the function rebuilding a tree of the same structure, shapes and dtypes
    from a vector of that length (``unravel(vector)`` equals ``tree``).  Dict
    entries are taken in sorted key order; ``None`` holds no numbers."""
    spec = _spec(tree)
    leaves: list = []
    _leaves(tree, leaves)
    parts = [np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves]
    flat = np.concatenate(parts) if parts else np.zeros(0)
    size = flat.size

    def unravel(vector):
        vector = np.asarray(vector)
        if vector.shape != (size,):
            raise ValueError(f"unravel: expected a vector of shape ({size},), got "
                             f"{vector.shape}")
        return _build(spec, vector, 0)[0]

    return flat, unravel
