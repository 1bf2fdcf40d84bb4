"""Fast equivalents of the tree utilities every stage leans on.

``walk`` yields exactly what ``gast.walk`` (``ast.walk``) yields, in the same
order, and like it collects a node's children before yielding the node; it
avoids the generator-per-node of ``ast.iter_child_nodes``/``iter_fields``.
``copy_tree`` is ``copy.deepcopy`` for gast trees without ``__reduce_ex__``.
``parse``, ``ast_to_gast`` and ``gast_to_ast`` build the trees gast's own
functions build, several times faster (gast converts with a NodeTransformer
that makes a dict and a generator per node).
"""
from __future__ import annotations

import ast
import copy
import operator
import sys
import types
import weakref

import gast

# the ``operator`` function each binary operator node applies (the key of its rule)
BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
          gast.Mod: operator.mod, gast.FloorDiv: operator.floordiv}

_AST = ast.AST
# every node class of gast and ast: ``v.__class__ in _NODES`` answers ``isinstance(v,
# ast.AST)`` without a call for them (the walks below ask it of every field)
_NODES = frozenset(c for module in (gast, ast) for c in vars(module).values()
                   if isinstance(c, type) and issubclass(c, _AST))
_NAME = gast.Name
_CONSTANT = gast.Constant
_STMT = gast.stmt


def walk(node):
    """``gast.walk(node)``: ``node`` and all its descendants, breadth first."""
    todo = [node]
    push, push_all = todo.append, todo.extend
    for n in todo:
        fields = n.__dict__  # absent fields: None, as getattr(n, f, None)
        for f in n._fields:
            try:
                v = fields[f]
            except KeyError:  # (a field the node was made without)
                continue
            if v.__class__ is list:
                if v and (v[0].__class__ in _NODES or isinstance(v[0], _AST)) and None not in v:
                    push_all(v)  # a list of nodes (Dict.keys may hold None)
                else:
                    for item in v:
                        if isinstance(item, _AST):
                            push(item)
            elif v.__class__ in _NODES or v is not None and isinstance(v, _AST):
                push(v)
        yield n


# fields that never hold a name: contexts, operators, strings, numbers (an
# ExceptHandler's `name` is a Name in gast: not listed)
_NO_NAMES = frozenset({"ctx", "op", "ops", "kind", "type_comment", "attr", "arg", "id",
                       "module", "level", "conversion", "is_async", "simple"})
_NAME_FIELDS = {}  # node class -> its fields that may hold a Name, in order


def _name_fields(cls):
    fields = _NAME_FIELDS[cls] = () if cls is gast.Constant else tuple(
        f for f in cls._fields if f not in _NO_NAMES)
    return fields


def name_nodes(node):
    """The ``Name`` nodes ``walk(node)`` yields, in the same order, for less: the
    contexts and operators (``Load``, ``Add``) and the fields holding strings are
    not visited.  (An iterator over ``name_list(node)``.)"""
    return iter(name_list(node))


def nodes(node):
    """The nodes ``walk(node)`` yields but contexts and operators (``Load``,
    ``Add``), in the same order, for less: what a search for expressions and
    statements of some class needs."""
    todo = [node]
    push, push_all = todo.append, todo.extend
    table = _NAME_FIELDS
    for n in todo:
        fields = n.__dict__
        cls = n.__class__
        if cls is _CONSTANT or cls is _NAME and (  # (a name: queued only for an annotation)
                "annotation" not in fields or fields["annotation"] is None):
            yield n  # (nothing to queue)
            continue
        try:
            names = table[cls]
        except KeyError:
            names = _name_fields(cls)
        for f in names:
            try:
                v = fields[f]
            except KeyError:  # (a field the node was made without)
                continue
            if v.__class__ is list:
                if v and (v[0].__class__ in _NODES or isinstance(v[0], _AST)) and None not in v:
                    push_all(v)
                else:
                    for item in v:
                        if isinstance(item, _AST):
                            push(item)
            elif v.__class__ in _NODES or v is not None and isinstance(v, _AST):
                push(v)
        yield n


def node_list(node):
    """``list(nodes(node))``, without a generator."""
    todo = [node]
    push, push_all = todo.append, todo.extend
    table = _NAME_FIELDS
    for n in todo:
        cls = n.__class__
        if cls is _CONSTANT:
            continue
        fields = n.__dict__
        if cls is _NAME and ("annotation" not in fields or fields["annotation"] is None):
            continue
        try:
            names = table[cls]
        except KeyError:
            names = _name_fields(cls)
        for f in names:
            try:
                v = fields[f]
            except KeyError:  # (a field the node was made without)
                continue
            if v.__class__ is list:
                if v and (v[0].__class__ in _NODES or isinstance(v[0], _AST)) and None not in v:
                    push_all(v)
                else:
                    for item in v:
                        if isinstance(item, _AST):
                            push(item)
            elif v.__class__ in _NODES or v is not None and isinstance(v, _AST):
                push(v)
    return todo


def name_list(node):
    """The ``Name`` nodes ``walk(node)`` yields, in the same order, as a list.

    The walk is breadth first, so the names come in the order they are put on
    its queue: each is listed when its parent is looked at, and names and
    constants never go on the queue.  (A name with an annotation, a parameter,
    does go on it, as ``walk`` would visit the annotation: a tree holding one is
    listed by ``_queued_names``.)"""
    out = []
    found = out.append
    if node.__class__ is _NAME:
        return _queued_names(node)
    todo = [node]
    push = todo.append
    table = _NAME_FIELDS
    for n in todo:
        fields = n.__dict__
        cls = n.__class__
        try:
            names = table[cls]
        except KeyError:
            names = _name_fields(cls)
        for f in names:
            try:
                v = fields[f]
            except KeyError:  # (a field the node was made without)
                continue
            c = v.__class__
            if c is _NAME:
                if v.__dict__.get("annotation") is not None:
                    return _queued_names(node)
                found(v)
            elif c is list:
                for item in v:
                    c = item.__class__
                    if c is _NAME:
                        if item.__dict__.get("annotation") is not None:
                            return _queued_names(node)
                        found(item)
                    elif c is not _CONSTANT and (c in _NODES or isinstance(item, _AST)):
                        push(item)
            elif c is not _CONSTANT and (c in _NODES or v is not None and isinstance(v, _AST)):
                push(v)
    return out


def _queued_names(node):
    """``name_list(node)`` for a tree with annotated names: every node queued."""
    todo = [node]
    push, push_all = todo.append, todo.extend
    table = _NAME_FIELDS
    out = []
    found = out.append
    for n in todo:
        fields = n.__dict__
        cls = n.__class__
        if cls is _NAME:
            found(n)
            annotation = fields.get("annotation")  # a parameter's may hold names
            if annotation is not None:
                push(annotation)
            continue
        try:
            names = table[cls]
        except KeyError:
            names = _name_fields(cls)
        for f in names:
            try:
                v = fields[f]
            except KeyError:  # (a field the node was made without)
                continue
            if v.__class__ is list:
                if v and (v[0].__class__ in _NODES or isinstance(v[0], _AST)) and None not in v:
                    push_all(v)
                else:
                    for item in v:
                        if isinstance(item, _AST):
                            push(item)
            elif v.__class__ in _NODES or v is not None and isinstance(v, _AST):
                push(v)
    return out


def statements(body):
    """Every statement of ``body`` and of the blocks nested in it (a function's,
    a loop's, a branch's, a handler's), in program order: much cheaper than
    ``walk`` when only statements matter."""
    for s in body:
        yield s
        cls = s.__class__
        blocks = _BLOCKS.get(cls)
        if blocks is None:
            blocks = _BLOCKS[cls] = tuple(f for f in cls._fields if f in _BLOCK_FIELDS)
        for f in blocks:
            block = getattr(s, f, None)
            if block:
                if isinstance(block[0], _STMT):
                    yield from statements(block)
                else:  # except handlers, match cases
                    for clause in block:
                        yield from statements(clause.body)


_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")
_BLOCKS = {}  # statement class -> its fields holding blocks, in program order


def statement_list(body):
    """``list(statements(body))``: for a body of simple statements (straight-line
    code, the most common), the list at once, without a generator."""
    for s in body:
        if s.__class__ not in _SIMPLE_STATEMENTS:
            return list(statements(body))
    return list(body)


# statements that hold no block
_SIMPLE_STATEMENTS = frozenset({gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr,
                                gast.Return, gast.Pass, gast.Break, gast.Continue,
                                gast.Assert, gast.Raise, gast.Delete, gast.Import,
                                gast.ImportFrom, gast.Global, gast.Nonlocal})


def make(cls, **fields):
    """``cls(**fields)`` for a gast node class: the same node, without gast's generic
    constructor (about half the cost; the stages make nodes by the thousand)."""
    node = _new(cls)
    node.__dict__.update(fields)
    return node


# the types copy.deepcopy returns as they are
_ATOMIC = frozenset({type(None), type(Ellipsis), type(NotImplemented), int, float, bool,
                     complex, str, bytes, type, range, property, types.FunctionType,
                     types.BuiltinFunctionType, types.CodeType, types.ModuleType,
                     weakref.ref})


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
        y = _new(cls)  # (gast's constructor would only be called without arguments)
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


# a visitor's entry for Name when it has no visit_Name (or one with nothing to do):
# a name is visited only for its annotation (a parameter's)
PLAIN_NAME = _PLAIN_NAME = object()
_LEAF_VALUES = (type(None), str, int, float, bool, complex, bytes)


class NodeTransformer(ast.NodeTransformer):
    """``gast.NodeTransformer`` (``ast.NodeTransformer``), same behaviour, less overhead.

    The ``visit_<Class>`` method of each class is looked up once per subclass
    (not a method name built and looked up per node), and leaves (``Load``,
    ``Add``: no fields) without a method of their own are not visited at all:
    ``generic_visit`` would return them unchanged, and neither are a
    ``Constant`` or a ``Name`` without an annotation (nothing in them is
    visited).  ``generic_visit`` is
    ``ast.NodeTransformer.generic_visit`` with ``ast.iter_fields`` inlined (no
    generator per node), over the fields that may hold a name (``name_nodes``):
    contexts and operators (``ctx``, ``op``, ``ops``) are never visited.
    Subclasses define ``visit_<Class>`` methods (none for a context or an
    operator); they do not override ``visit``.
    """

    _visitors: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._visitors = dict.fromkeys(_LEAF_VALUES)  # values that are not nodes: kept

    def _method(self, cls):
        name = "visit_" + cls.__name__
        method = getattr(type(self), name, None)
        if method is getattr(ast.NodeVisitor, name, None):  # (visit_Constant: a shim
            method = None                                   # for visit_Num and friends)
        if method is None and cls._fields:
            fields = _NAME_FIELDS.get(cls)
            if fields is None:
                fields = _name_fields(cls)
            if cls is _NAME:
                method = _PLAIN_NAME  # generic_visit only for a parameter's annotation
            elif fields:  # (a Constant: generic_visit would find nothing to visit)
                method = type(self).generic_visit
        self._visitors[cls] = method
        return method

    def visit(self, node):
        try:
            method = self._visitors[node.__class__]
        except KeyError:
            method = self._method(node.__class__)
        if method is _PLAIN_NAME:
            if node.__dict__.get("annotation") is None:
                return node
            method = type(self).generic_visit
        return node if method is None else method(self, node)

    def generic_visit(self, node):  # noqa: C901 (the hot loop of every pass, kept inline)
        visitors = self._visitors  # (values that are not nodes map to None: kept)
        cls = node.__class__
        try:  # (contexts and operators: leaves, no visitor)
            fields = _NAME_FIELDS[cls]
        except KeyError:
            fields = _name_fields(cls)
        state = node.__dict__
        for field in fields:
            try:
                old_value = state[field]
            except KeyError:
                old_value = getattr(node, field, _MISSING)  # a class default, or none
                if old_value is _MISSING:
                    continue
            vcls = old_value.__class__
            if vcls is list:
                new_values = None  # made at the first change
                for i, value in enumerate(old_value):
                    try:
                        method = visitors[value.__class__]
                    except KeyError:
                        method = _MISSING
                    if method is None:
                        if new_values is not None:
                            new_values.append(value)
                        continue
                    if method is _MISSING:
                        if not isinstance(value, _AST):
                            if new_values is not None:
                                new_values.append(value)
                            continue
                        method = self._method(value.__class__)
                        if method is None:
                            if new_values is not None:
                                new_values.append(value)
                            continue
                    if method is _PLAIN_NAME:
                        if value.__dict__.get("annotation") is None:
                            if new_values is not None:
                                new_values.append(value)
                            continue
                        method = type(self).generic_visit
                    new = method(self, value)
                    if new is value:
                        if new_values is not None:
                            new_values.append(value)
                        continue
                    if new_values is None:
                        new_values = old_value[:i]
                    if new is None:
                        continue
                    elif not isinstance(new, _AST):
                        new_values.extend(new)
                    else:
                        new_values.append(new)
                if new_values is not None:
                    old_value[:] = new_values
                continue
            try:
                method = visitors[vcls]
            except KeyError:
                method = _MISSING
            if method is None:
                continue
            if method is _MISSING:
                if not isinstance(old_value, _AST):
                    continue
                method = self._method(vcls)
                if method is None:
                    continue
            if method is _PLAIN_NAME:
                if old_value.__dict__.get("annotation") is None:
                    continue
                method = type(self).generic_visit
            new_node = method(self, old_value)
            if new_node is None:
                delattr(node, field)
            elif new_node is not old_value:
                setattr(node, field, new_node)
        return node


# -- ast <-> gast -------------------------------------------------------------
#
# A conversion copies each node into a new node of the other module's class of
# the same name, converting the values of its fields (nodes and lists of
# nodes) and copying its location attributes, exactly as gast's generic
# ``visit`` does.  The classes gast treats specially (``gast/ast3.py``) get a
# ``finish`` step that adds, renames or drops fields and copies the location
# the way gast does there (``ast.copy_location`` skips a ``None`` line or
# column; the generic copy does not).  A class gast would not convert
# generically the same way is handed to gast itself, subtree and all.

_new = _AST.__new__
_MISSING = object()
_PY = sys.version_info[:2]
_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_LEAVES = frozenset({str, type(None), int})  # field values that are neither nodes nor lists


def parse(source: str) -> gast.AST:
    """``gast.parse(source)``."""
    return ast_to_gast(ast.parse(source))


def ast_to_gast(tree):
    """``gast.ast_to_gast(tree)``: the same gast tree, fields and locations."""
    return _convert(tree, _TO_GAST)


def gast_to_ast(tree, locations=True):
    """``gast.gast_to_ast(tree)``: the same ast tree, fields and locations.

    ``locations=False``: no location attributes at all (a tree only to print:
    about a third faster)."""
    return _convert(tree, _TO_AST if locations else _TO_AST_TEXT)


def _convert(node, table):
    """The converted ``node``: a generic copy, then the class's ``finish`` step."""
    cls, fields, attributes, finish = table[node.__class__]
    if cls is None:
        return finish(node)
    new = _new(cls)
    state = new.__dict__
    src = node.__dict__
    missing = False
    for name in fields:
        try:
            value = src[name]
        except KeyError:
            value = getattr(node, name, _MISSING)  # a class default, or none
            if value is _MISSING:
                missing = True
                continue
        c = value.__class__
        if c in _LEAVES:
            pass
        elif c is list:
            value = [_convert(v, table) if v.__class__ in _NODES or isinstance(v, _AST)
                     else v for v in value]
        elif c in _NODES or isinstance(value, _AST):
            value = _convert(value, table)
        elif isinstance(value, list):
            value = [_convert(v, table) if isinstance(v, _AST) else v for v in value]
        state[name] = value
    if missing:  # the constructor fills some in (3.13)
        new = cls(**state)
        state = new.__dict__
    for name in attributes:  # (_copy_attributes, inline)
        try:
            value = src[name]
        except KeyError:
            value = getattr(node, name, _MISSING)  # a class default, or none
            if value is _MISSING:
                continue
        state[name] = value
    if finish is not None:
        finish(new, node, table)
    return new


def _value(value, table):
    """A field value converted: what gast's ``_visit`` returns."""
    if isinstance(value, _AST):
        return _convert(value, table)
    if isinstance(value, list):
        return [_convert(v, table) if isinstance(v, _AST) else v for v in value]
    return value


def _copy_attributes(state, node, names):
    """The generic location copy: every attribute ``node`` has, ``None`` or not."""
    src = node.__dict__
    for name in names:
        value = src.get(name, _MISSING)
        if value is _MISSING:
            value = getattr(node, name, _MISSING)  # a class default, or none
            if value is _MISSING:
                continue
        state[name] = value


def _copy_location(new, old, exact):
    """``exact(new, old)`` (``ast.copy_location`` or ``gast.copy_location``).

    Both nodes list all four location attributes (for the classes this is
    used on), so when ``old`` has a line and a column both functions copy
    those and each end attribute ``old`` has: the generic copy.
    """
    src = old.__dict__
    if src.get("lineno") is None or src.get("col_offset") is None:
        exact(new, old)
    else:
        _copy_attributes(new.__dict__, old, _LOCATION)


def _ast_location(new, old, table):
    """The ``finish`` of a class gast converts with ``ast.copy_location``."""
    if table.locations:
        _copy_location(new, old, ast.copy_location)


class _Table(dict):
    """Conversion specs by source class, ``(cls, fields, attributes, finish)``,
    made on first use so importing costs nothing.

    ``cls`` is the class to build; ``fields`` and ``attributes`` are copied
    generically, then ``finish(new, old, table)`` runs.  ``cls is None``
    means ``finish(old)`` converts the whole subtree (gast's own converter).
    """

    def __init__(self, module, specials, fallback, constructor_fills, locations=True):
        super().__init__()
        self.module = module
        self.specials = specials
        self.fallback = fallback
        self.constructor_fills = constructor_fills
        self.locations = locations  # False: none copied (``finish`` steps ask too)

    def __missing__(self, source):
        name = source.__name__
        spec = self.specials.get(name)
        if spec is None:
            target = getattr(self.module, name, None)
            if target is None or (self.constructor_fills
                                  and set(target._fields) != set(source._fields)):
                spec = (None, (), (), self.fallback)
            else:
                spec = (target, source._fields, source._attributes, None)
        else:
            target, fields, attributes, finish = spec
            spec = (getattr(self.module, target), fields, attributes, finish)
        if not self.locations:
            spec = spec[:2] + ((),) + spec[3:]
        self[source] = spec
        return spec


# ast -> gast (gast/ast3.py, Ast3ToGAst)

def _name_to_gast(new, old, table):
    state = new.__dict__
    state["annotation"] = state["type_comment"] = None
    _copy_location(new, old, ast.copy_location)


def _arg_to_gast(new, old, table):
    """``arg`` becomes ``Name(ctx=Param())``."""
    state = new.__dict__
    state["id"] = old.arg
    state["ctx"] = _new(gast.Param)
    _copy_location(new, old, ast.copy_location)


def _store_name(name):
    """The location-less ``Name`` gast makes of an except handler's name."""
    node = _new(gast.Name)
    node.__dict__.update(id=name, ctx=_new(gast.Store), annotation=None, type_comment=None)
    return node


def _handler_to_gast(new, old, table):
    if old.name:
        new.name = _store_name(old.name)
        _copy_location(new, old, ast.copy_location)
    else:
        new.name = old.name
        _copy_attributes(new.__dict__, old, old._attributes)


def _no_type_params(new, old, table):
    new.type_params = []


def _no_default_value(new, old, table):
    new.default_value = None


def _no_alias_location(new, old, table):
    new.lineno = new.col_offset = new.end_lineno = new.end_col_offset = None


_GAST_SPECIALS = {
    "Name": ("Name", ("id", "ctx"), (), _name_to_gast),
    "arg": ("Name", ("annotation", "type_comment"), (), _arg_to_gast),
    "ExceptHandler": ("ExceptHandler", ("type", "body"), (), _handler_to_gast),
}
if _PY < (3, 12):
    for _name in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
        _GAST_SPECIALS[_name] = (_name, getattr(ast, _name)._fields, _LOCATION,
                                 _no_type_params)
if _PY == (3, 12):
    for _name in ("TypeVar", "TypeVarTuple", "ParamSpec"):
        _GAST_SPECIALS[_name] = (_name, getattr(ast, _name)._fields, _LOCATION,
                                 _no_default_value)
if _PY < (3, 10):
    _GAST_SPECIALS["alias"] = ("alias", ("name", "asname"), (), _no_alias_location)


# gast -> ast (gast/ast3.py, GAstToAst3)

def _make_arg(node, table):
    """A parameter ``Name`` as an ``ast.arg``."""
    if node is None:
        return None
    new = _new(ast.arg)
    new.__dict__.update(arg=node.id, annotation=_value(node.annotation, table),
                        type_comment=_value(node.type_comment, table))
    if table.locations:
        _copy_location(new, node, ast.copy_location)
    return new


def _arguments_to_ast(new, old, table):
    new.__dict__.update(
        posonlyargs=[_make_arg(n, table) for n in old.posonlyargs],
        args=[_make_arg(n, table) for n in old.args],
        vararg=_make_arg(old.vararg, table),
        kwonlyargs=[_make_arg(n, table) for n in old.kwonlyargs],
        kw_defaults=_value(old.kw_defaults, table),
        kwarg=_make_arg(old.kwarg, table),
        defaults=_value(old.defaults, table))


def _handler_to_ast(new, old, table):
    new.name = old.name.id if old.name else old.name
    if not table.locations:
        pass
    elif old.name:
        _copy_location(new, old, ast.copy_location)
    else:
        _copy_attributes(new.__dict__, old, old._attributes)


def _fields_but(name, *dropped):
    return tuple(f for f in getattr(gast, name)._fields if f not in dropped)


_AST_SPECIALS = {
    "Name": ("Name", ("id", "ctx"), (), _ast_location),
    "Assign": ("Assign", ("targets", "value"), (), _ast_location),
    "arguments": ("arguments", (), (), _arguments_to_ast),
    "ExceptHandler": ("ExceptHandler", ("type", "body"), (), _handler_to_ast),
}
if _PY < (3, 12):
    for _name in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
        _AST_SPECIALS[_name] = (_name, _fields_but(_name, "type_params"), (), _ast_location)
if _PY == (3, 12):
    for _name in ("TypeVar", "TypeVarTuple", "ParamSpec"):
        _AST_SPECIALS[_name] = (_name, _fields_but(_name, "default_value"), (),
                                _ast_location)
if _PY < (3, 10):
    _AST_SPECIALS["alias"] = ("alias", ("name", "asname"), (), None)

_TO_GAST = _Table(gast, _GAST_SPECIALS, gast.ast_to_gast, constructor_fills=False)
_TO_AST = _Table(ast, _AST_SPECIALS, gast.gast_to_ast,
                 constructor_fills=_PY >= (3, 13))
_TO_AST_TEXT = _Table(ast, _AST_SPECIALS, gast.gast_to_ast,
                      constructor_fills=_PY >= (3, 13), locations=False)


def param_names(fdef):
    """The parameter names of a function definition, in order (``*args`` and
    keyword-only ones included, ``**kwargs`` not)."""
    a = fdef.args
    out = [x.id for x in a.posonlyargs + a.args]
    if a.vararg is not None:
        out.append(a.vararg.id)
    out += [x.id for x in a.kwonlyargs]
    return out


def readers(binds):
    """name -> the names bound to a value that reads it (``binds``: name -> the values
    bound to it, None for one not known): what a fixpoint over names re-checks when
    it changes its mind about one name."""
    out = {}
    for n, vals in binds.items():
        for v in vals:
            if v is not None:
                for x in name_nodes(v):
                    out.setdefault(x.id, []).append(n)
    return out
