"""``Cell``: MindSpore's module base class, over NumPy arrays.

Subclass it, call ``super().__init__()``, assign Parameters and sub-cells
as attributes in ``__init__`` and write ``construct``; calling the cell
calls ``construct``.  sourcegrad differentiates ``construct`` from its
source, so keep it plain Python over ``ops``.

Usage::

    >>> import numpy as np
    >>> from sourcegrad import nn, ops
    >>> from sourcegrad.tensor import Parameter
    >>> class Net(nn.Cell):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones((3, 2), np.float32))   # named 'w'
    ...         self.sub = nn.Dense(2, 1)                          # 'sub.weight', 'sub.bias'
    ...     def construct(self, x):
    ...         return self.sub(ops.matmul(x, self.w))
    >>> [p.name for p in Net().trainable_params()]
    ['w', 'sub.weight', 'sub.bias']
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

from sourcegrad.tensor import Parameter, _has_default_name

__all__ = ["Cell"]


class Cell:
    """Base class of layers, losses and models (MindSpore's ``nn.Cell``).

    Parameters and sub-cells assigned as attributes are registered, in
    assignment order.  An unnamed Parameter is named after its attribute;
    a sub-cell's Parameters are prefixed with the sub-cell's attribute name
    (``sub.weight``).  ``training`` is False until ``set_train()``, as in
    MindSpore.
    """

    def __init__(self, auto_prefix: bool = True):
        # object.__setattr__: our own __setattr__ needs these to exist first.
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_cells", OrderedDict())
        object.__setattr__(self, "_auto_prefix", auto_prefix)
        object.__setattr__(self, "training", False)

    # --- registration ---------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_params")
        if params is None:
            if isinstance(value, (Parameter, Cell)):
                raise AttributeError(
                    f"For 'insert_param_to_cell', please call Cell.__init__() firstly: "
                    f"{type(self).__name__} assigns {name!r} before Cell.__init__() ran; "
                    f"call super().__init__() at the top of "
                    f"{type(self).__name__}.__init__")
            object.__setattr__(self, name, value)
            return
        params.pop(name, None)
        self._cells.pop(name, None)
        if isinstance(value, Parameter):
            if _has_default_name(value):
                value.name = name
            params[name] = value
        elif isinstance(value, Cell):
            if self._auto_prefix:
                # Parameters this cell already holds keep the name they have here.
                own = {id(p) for p in self.get_parameters()}
                value._prefix_parameter_names(name + ".", own)
            self._cells[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.get("_params", {}).pop(name, None)
        self.__dict__.get("_cells", {}).pop(name, None)
        object.__delattr__(self, name)

    def _prefix_parameter_names(self, prefix: str, skip=frozenset()) -> None:
        for param in self.get_parameters():
            if id(param) not in skip:
                param.name = prefix + param.name

    def insert_child_to_cell(self, child_name: str, child_cell: "Cell") -> None:
        """Register ``child_cell`` under ``child_name`` (as attribute assignment does)."""
        if not isinstance(child_cell, Cell):
            raise TypeError(f"insert_child_to_cell: child {child_name!r} must be a Cell, "
                            f"got {type(child_cell).__name__}")
        setattr(self, child_name, child_cell)

    def insert_param_to_cell(self, param_name: str, param: Parameter) -> None:
        """Register ``param`` under ``param_name`` (as attribute assignment does)."""
        if not isinstance(param, Parameter):
            raise TypeError(f"insert_param_to_cell: {param_name!r} must be a Parameter, "
                            f"got {type(param).__name__}")
        setattr(self, param_name, param)

    # --- calling --------------------------------------------------------
    def construct(self, *inputs, **kwargs):
        """The forward computation; subclasses override it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no construct(); define "
            f"`def construct(self, x): ...` in the subclass")

    def __call__(self, *args, **kwargs):
        return self.construct(*args, **kwargs)

    # --- traversal ------------------------------------------------------
    def parameters_and_names(self, name_prefix: str = "", expand: bool = True
                             ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` for every Parameter, each once, definition order."""
        seen = set()
        cells = self.cells_and_names() if expand else [("", self)]
        for _, cell in cells:
            for param in cell._params.values():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (name_prefix + param.name if name_prefix else param.name), param

    def get_parameters(self, expand: bool = True) -> Iterator[Parameter]:
        """Yield every Parameter (trainable or not), recursively, each once."""
        for _, param in self.parameters_and_names(expand=expand):
            yield param

    def trainable_params(self, recurse: bool = True) -> list[Parameter]:
        """The Parameters with ``requires_grad``, recursively, definition order, each once.

        Example: ``sg.value_and_grad(loss_fn, None, weights=model.trainable_params())``.
        """
        return [p for p in self.get_parameters(expand=recurse) if p.requires_grad]

    def untrainable_params(self, recurse: bool = True) -> list[Parameter]:
        """The Parameters with ``requires_grad=False``."""
        return [p for p in self.get_parameters(expand=recurse) if not p.requires_grad]

    def parameters_dict(self, recurse: bool = True) -> "OrderedDict[str, Parameter]":
        """An ordered ``{name: Parameter}`` of all Parameters."""
        return OrderedDict(self.parameters_and_names(expand=recurse))

    def cells_and_names(self, cells=None, name_prefix: str = ""
                        ) -> Iterator[tuple[str, "Cell"]]:
        """Yield ``(path, cell)`` for this cell and all sub-cells, each once."""
        seen = set() if cells is None else cells
        if id(self) in seen:
            return
        seen.add(id(self))
        yield name_prefix, self
        for name, cell in self._cells.items():
            path = f"{name_prefix}.{name}" if name_prefix else name
            yield from cell.cells_and_names(seen, path)

    def cells(self):
        """The direct sub-cells, in assignment order."""
        return self._cells.values()

    def name_cells(self) -> "OrderedDict[str, Cell]":
        """``{attribute name: sub-cell}`` of the direct sub-cells."""
        return OrderedDict(self._cells)

    # --- mode -----------------------------------------------------------
    def set_train(self, mode: bool = True) -> "Cell":
        """Switch this cell and its sub-cells to training (or eval) mode; returns ``self``."""
        for _, cell in self.cells_and_names():
            object.__setattr__(cell, "training", bool(mode))
        return self

    def set_grad(self, requires_grad: bool = True) -> "Cell":
        """Kept for MindSpore code that calls ``net.set_grad()`` before taking
        gradients; sourcegrad needs no such mark. Returns ``self``."""
        object.__setattr__(self, "requires_grad", bool(requires_grad))
        return self

    def train(self, mode: bool = True) -> "Cell":
        """Same as :meth:`set_train` (PyTorch's spelling)."""
        return self.set_train(mode)

    def extend_repr(self) -> str:
        """Extra text shown inside the cell's ``repr`` (subclasses override)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extend_repr()
        if not self._cells:
            return f"{type(self).__name__}<{extra}>"
        lines = [f"{type(self).__name__}<{extra}"]
        for name, cell in self._cells.items():
            body = repr(cell).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append("  >")
        return "\n".join(lines)
