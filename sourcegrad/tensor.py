"""``Tensor`` and ``Parameter``: NumPy arrays with MindSpore's names.

``Tensor(data, dtype)`` makes a plain ``np.ndarray``; ``isinstance(x,
Tensor)`` is true for every ndarray.  ``Parameter`` is an ``ndarray``
subclass that carries a ``name`` and ``requires_grad``; NumPy code uses it
directly, and what NumPy computes from it (sums, products, slices,
reshapes) is a plain ``ndarray`` again, so only the Parameter object itself
is ever a weight.  In-place updates (``p -= lr * g``, ``p[...] = v``)
change the Parameter itself, which is how optimizers train it.

Usage::

    >>> import numpy as np
    >>> from sourcegrad.tensor import Tensor, Parameter
    >>> w = Parameter(Tensor(np.zeros((2, 3)), np.float32), name="w")
    >>> type(w * 2).__name__, w.name
    ('ndarray', 'w')
"""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["Tensor", "Parameter", "ParameterTuple"]

# Unnamed Parameters are called "Parameter#N", as in MindSpore, until a Cell
# gives them their attribute path as name.
_DEFAULT_PREFIX = "Parameter#"
_counter = itertools.count()

# NumPy 1.x calls ``__array_wrap__(obj, context)`` without ``return_scalar``.
_NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert ``data`` to a fresh base-class array with MindSpore's dtype rules."""
    if dtype is not None:
        return np.array(data, dtype=dtype, subok=False)
    if isinstance(data, (np.ndarray, np.generic)):
        # NumPy input keeps its dtype (float64 stays float64, as in MindSpore).
        return np.array(data, subok=False)
    arr = np.array(data)
    if arr.dtype == np.float64:
        # Python floats (and lists of them) become float32 in MindSpore.
        arr = arr.astype(np.float32)
    return arr


class _TensorMeta(type):
    """Makes ``isinstance(x, Tensor)`` mean "x is a NumPy array"."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, np.ndarray)

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, np.ndarray)


class Tensor(metaclass=_TensorMeta):
    """Make a NumPy array, the way ``mindspore.Tensor`` makes a tensor.

    Python floats become float32 (as in MindSpore); NumPy input keeps its
    dtype unless ``dtype`` is given.  The data is copied.

    Example::

        >>> Tensor([1.0, 2.0]).dtype
        dtype('float32')
        >>> Tensor(np.arange(3), np.float32)
        array([0., 1., 2.], dtype=float32)
    """

    def __new__(cls, data=None, dtype=None) -> np.ndarray:
        if data is None:
            raise TypeError("Tensor() needs data: pass an array, a number or a "
                            "(nested) list, e.g. Tensor([1.0, 2.0])")
        return _to_array(data, dtype)


class Parameter(np.ndarray):
    """A NumPy array that is a trainable weight: it has ``name`` and ``requires_grad``.

    ``name=None`` gives a default name ``Parameter#N``; assigning the
    Parameter to a ``Cell`` attribute then names it after the attribute
    (``w``, ``sub.weight``).  Results of computing with a Parameter are plain
    arrays; in-place updates change the Parameter.

    Example::

        >>> b = Parameter(np.zeros(3, np.float32), name="b")
        >>> b -= 0.1 * np.ones(3, np.float32)      # still the same Parameter
        >>> b.name, type(b + 1).__name__
        ('b', 'ndarray')
    """

    # Keep ndarray's own (slot-less) layout small: two attributes only.
    name: str
    requires_grad: bool

    def __new__(cls, data, name=None, requires_grad=True):
        obj = _to_array(data).view(cls)
        if name is None:
            name = f"{_DEFAULT_PREFIX}{next(_counter)}"
        elif not isinstance(name, str):
            raise TypeError(f"Parameter name must be a str, got "
                            f"{type(name).__name__} {name!r}")
        obj.name = name
        obj.requires_grad = bool(requires_grad)
        return obj

    def __array_finalize__(self, obj):
        # Views and copies made by NumPy (copy.copy, pickling) keep the identity.
        self.name = getattr(obj, "name", None)
        self.requires_grad = getattr(obj, "requires_grad", True)

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # An `out=` Parameter (``p -= g``) is wrapped by its own __array_wrap__,
        # so it arrives as ``self``: return it as is.  Any other result is
        # fresh and must come back plain.  NumPy 2 hands fresh results over
        # as base ndarrays (and says whether it wants a scalar back);
        # NumPy 1.x allocates them as a Parameter view of a fresh buffer and
        # has no ``return_scalar`` argument.
        if obj is self:
            return obj
        if isinstance(obj, Parameter):
            obj = obj.view(np.ndarray)
        if return_scalar or (_NUMPY_1 and obj.ndim == 0):
            return obj[()]      # what NumPy gives for a plain array: a scalar
        return obj

    # --- NumPy methods that would otherwise return Parameter views ---------
    def __getitem__(self, key):
        return self.view(np.ndarray)[key]

    def reshape(self, *shape, **kwargs):
        return self.view(np.ndarray).reshape(*shape, **kwargs)

    def transpose(self, *axes):
        return self.view(np.ndarray).transpose(*axes)

    @property
    def T(self):
        return self.view(np.ndarray).T

    def swapaxes(self, axis1, axis2):
        return self.view(np.ndarray).swapaxes(axis1, axis2)

    def ravel(self, order="C"):
        return self.view(np.ndarray).ravel(order)

    def flatten(self, order="C"):
        return self.view(np.ndarray).flatten(order)

    def squeeze(self, axis=None):
        return self.view(np.ndarray).squeeze(axis)

    def astype(self, dtype, *args, **kwargs):
        return self.view(np.ndarray).astype(dtype, *args, **kwargs)

    def copy(self, order="C"):
        """A plain-array copy of the data (``copy.copy(p)`` keeps a Parameter)."""
        return self.view(np.ndarray).copy(order)

    # --- identity, display, pickling ---------------------------------------
    @property
    def data(self):
        """The Parameter itself (MindSpore's ``param.data``)."""
        return self

    def asnumpy(self) -> np.ndarray:
        """A plain NumPy copy of the values (MindSpore's ``Tensor.asnumpy``)."""
        return self.view(np.ndarray).copy()

    def set_data(self, data):
        """Overwrite the values in place (shape must match); returns ``self``."""
        self[...] = data
        return self

    def clone(self, name=None):
        """A new Parameter with the same values and ``requires_grad``."""
        return Parameter(self.view(np.ndarray), name or self.name, self.requires_grad)

    def __repr__(self):
        return (f"Parameter(name={self.name!r}, shape={self.shape}, "
                f"dtype={self.dtype}, requires_grad={self.requires_grad})")

    def __str__(self):
        return str(self.view(np.ndarray))

    def __reduce__(self):
        ctor, args, state = super().__reduce__()
        return ctor, args, (state, self.name, self.requires_grad)

    def __setstate__(self, state):
        base, self.name, self.requires_grad = state
        super().__setstate__(base)

    def __hash__(self):
        # Identity hash, so Parameters can key dicts and sets (MindSpore's can).
        return id(self)


def _has_default_name(param: Parameter) -> bool:
    """True if ``param`` was never named by the user (nor by a Cell)."""
    name = param.name
    return name is None or (name.startswith(_DEFAULT_PREFIX)
                            and name[len(_DEFAULT_PREFIX):].isdigit())


class ParameterTuple(tuple):
    """A tuple of Parameters (MindSpore's ``ParameterTuple``).

    Example::

        >>> ParameterTuple(model.trainable_params())        # doctest: +SKIP
    """

    def __new__(cls, iterable=()):
        items = tuple(iterable)
        for i, p in enumerate(items):
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"ParameterTuple item {i} is a {type(p).__name__}, not a "
                    f"Parameter; wrap it: Parameter(value, name=...)")
        return super().__new__(cls, items)
