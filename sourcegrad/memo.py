"""Caches that live exactly as long as the object they are about.

A derivative refers to its function's globals and closure, and those usually
refer back to the function (a module's functions are its globals; a recursive
inner function is in its own closure).  Kept in a ``WeakKeyDictionary`` keyed
by the function, such a value keeps its own key alive, and the function, its
module and everything they hold stay in memory for good.  Kept on the object
itself instead (in its ``__dict__``), object and cache form a cycle that the
garbage collector frees together once nothing else refers to the object.

Objects without a ``__dict__`` of their own (NumPy ufuncs, builtins, tuples)
live as long as the process anyway; their entries go to a small table that is
emptied when it fills up.
"""
from __future__ import annotations

import types

ATTR = "__sourcegrad_cache__"
LIMIT = 512  # entries of the table for objects without a __dict__


class _Store(dict):
    """The caches about one object, by purpose.  ``owner`` is the ``id`` of the
    object it was made for: ``functools.wraps`` copies a function's ``__dict__``
    to its wrapper, which must not inherit the wrapped function's derivatives.
    Pickled or copied (cloudpickle copies a function's ``__dict__``), a store
    starts empty."""

    __slots__ = ("owner",)

    def __reduce__(self):
        return _Store, ()


_table: dict = {}


def cache(obj, purpose: str) -> dict:
    """The dict of ``purpose``'s cached values about ``obj`` (made on first use).

    Its entries may refer back to ``obj``: they are kept as long as ``obj`` is
    alive, and freed with it."""
    if isinstance(obj, types.MethodType):  # its __dict__ is its function's
        return cache(obj.__self__, purpose).setdefault(("method", obj.__func__), {})
    try:
        attrs = obj.__dict__
    except AttributeError:
        attrs = None
    if attrs is not None:
        store = attrs.get(ATTR)
        if type(store) is not _Store or getattr(store, "owner", None) != id(obj):
            store = _Store()
            store.owner = id(obj)
            try:
                if isinstance(obj, type):
                    type.__setattr__(obj, ATTR, store)  # a class's __dict__ is read-only
                else:
                    attrs[ATTR] = store
            except (TypeError, AttributeError):  # a builtin type, a read-only mapping
                store = None
        if store is not None:
            sub = store.get(purpose)
            if sub is None:
                sub = store[purpose] = {}
            return sub
    key = (purpose, obj)
    try:
        sub = _table.get(key)
    except TypeError:  # unhashable: nothing kept between calls
        return {}
    if sub is None:
        if len(_table) >= LIMIT:
            _table.clear()
        sub = _table[key] = {}
    return sub
