"""Fast equivalents of the two tree utilities every stage leans on.

``walk`` yields exactly what ``gast.walk`` (``ast.walk``) yields, in the same
order, and like it collects a node's children before yielding the node; it
avoids the generator-per-node of ``ast.iter_child_nodes``/``iter_fields``.
``copy_tree`` is ``copy.deepcopy`` for gast trees without ``__reduce_ex__``.
"""
from __future__ import annotations

import ast
import copy
import types
import weakref

_AST = ast.AST


def walk(node):
    """``gast.walk(node)``: ``node`` and all its descendants, breadth first."""
    todo = [node]
    for n in todo:
        for f in n._fields:
            try:
                v = getattr(n, f)
            except AttributeError:
                continue
            if isinstance(v, _AST):
                todo.append(v)
            elif isinstance(v, list):
                for item in v:
                    if isinstance(item, _AST):
                        todo.append(item)
        yield n


# the types copy.deepcopy returns as they are
_ATOMIC = frozenset({type(None), type(Ellipsis), type(NotImplemented), int, float, bool,
                     complex, str, bytes, type, range, property, types.FunctionType,
                     types.BuiltinFunctionType, types.CodeType, weakref.ref})


def copy_tree(node, memo=None):
    """``copy.deepcopy(node)`` for gast trees, several times faster.

    The same result: every node (and every attribute a stage attached to it,
    such as ``origin``) is copied, a node reached twice is copied once, and
    values that are not nodes or lists go through ``copy.deepcopy`` itself.
    """
    return _copy_value(node, {} if memo is None else memo)


def _copy_value(x, memo):
    cls = type(x)
    if cls in _ATOMIC:
        return x
    y = memo.get(id(x), memo)
    if y is not memo:
        return y
    if isinstance(x, _AST):
        y = cls()
        memo[id(x)] = y
        state = y.__dict__
        for k, v in x.__dict__.items():
            state[k] = v if type(v) in _ATOMIC else _copy_value(v, memo)
        return y
    if cls is list:
        y = []
        memo[id(x)] = y
        y.extend([v if type(v) in _ATOMIC else _copy_value(v, memo) for v in x])
        return y
    return copy.deepcopy(x, memo)


class NodeTransformer(ast.NodeTransformer):
    """``gast.NodeTransformer`` (``ast.NodeTransformer``), same behaviour, less overhead.

    ``visit`` is inherited; ``generic_visit`` is
    ``ast.NodeTransformer.generic_visit`` with ``ast.iter_fields`` inlined (no
    generator per node).
    """

    def generic_visit(self, node):
        for field in node._fields:
            try:
                old_value = getattr(node, field)
            except AttributeError:
                continue
            if isinstance(old_value, list):
                new_values = []
                for value in old_value:
                    if isinstance(value, _AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        elif not isinstance(value, _AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old_value[:] = new_values
            elif isinstance(old_value, _AST):
                new_node = self.visit(old_value)
                if new_node is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new_node)
        return node
