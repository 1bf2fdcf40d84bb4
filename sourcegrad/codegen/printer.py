"""A printer of gast function definitions, byte for byte what astor prints.

``codegen.to_source`` printed every generated function by converting its gast
tree to an ``ast`` tree and handing that to ``astor``: for a function of a few
thousand statements that was a fifth of the first call.  This module prints the
gast tree directly, for the node classes generated code is made of, with
astor's own rules: the same precedence table (``astor.op_util``), the same
parenthesisation (a child is wrapped when its operator binds less tightly than
the precedence its parent gave it; a child no parent gave a precedence to,
such as an attribute's or a subscript's value, a call's function or a ``for``
loop's iterable, is wrapped unless it is a name, a call, a subscript or an
attribute), the same numbers (``1e1000`` for infinity) and strings (``repr``).

Anything else -- a class not listed here, a string holding a line break or
starting a line (astor may write those triple-quoted), a return annotation --
raises :class:`Unsupported`, and ``to_source`` prints that function with astor
as before.  ``tests/test_printer.py`` prints many generated functions both ways
and compares the texts.
"""
from __future__ import annotations

import math

import gast
from astor.op_util import op_data, Precedence

from sourcegrad.annotations import getanno


class Unsupported(Exception):
    """A node this printer does not print as astor would: print with astor."""


_PREC = {name: prec for name, _symbol, prec in op_data}
_SYM = {getattr(gast, name): symbol for name, symbol, _prec in op_data
        if symbol and hasattr(gast, name)}
_OPPREC = {getattr(gast, name): prec for name, _symbol, prec in op_data
           if hasattr(gast, name)}
HIGHEST = Precedence.highest  # what astor reads when no parent set a precedence
_COMMA = Precedence.Comma
_CALL_ONE = Precedence.call_one_arg
_CONST = _PREC["Constant"]
_TUPLE = _PREC["Tuple"]
_POW_LEFT = Precedence.Pow + 1
_POW_RIGHT = Precedence.PowRHS
_SUBSCRIPT = _PREC["Subscript"]
_SLICE = _PREC["Slice"]
_NAMED = _PREC["NamedExpr"]
_IFEXP = _PREC["IfExp"]
_LAMBDA = _PREC["Lambda"]
_ASSIGN = _PREC["Assign"]
_AUGASSIGN = _PREC["AugAssign"]
_EXPR = _PREC["Expr"]
_RETURN = _PREC["Return"]
_IF = _PREC["If"]
_FOR = _PREC["For"]
_WHILE = _PREC["While"]
_ASSERT = _PREC["Assert"]
_USUB_PREC = _OPPREC[gast.USub]
_BINSYM = {op: f" {s} " for op, s in _SYM.items()}
_UNARYSYM = {op: s + (" " if s.isalpha() else "") for op, s in _SYM.items()}

_Name, _Constant, _BinOp, _Call, _Attribute = (gast.Name, gast.Constant, gast.BinOp,
                                               gast.Call, gast.Attribute)
_Pow, _Starred = gast.Pow, gast.Starred


def _numeric(x) -> str:
    """astor's ``_handle_numeric_constant``."""
    def part(p, imaginary):
        s = "j" if imaginary else ""
        try:
            if math.isinf(p):
                return ("-1e1000" if p < 0 else "1e1000") + s
            if math.isnan(p):
                return f"(1e1000{s}-1e1000{s})"
        except OverflowError:
            pass
        return repr(p) + s

    if isinstance(x, complex):
        real, imag = part(x.real, False), part(x.imag, True)
        if x.real == 0:
            return imag
        if x.imag == 0:
            return f"({real}+0j)"
        return f"({real}{['+', ''][imag.startswith('-')]}{imag})"
    return part(x, False)


def _negative(v) -> bool:
    return type(v) in (int, float) and v < 0 or type(v) is complex and (
        v.real < 0 or v.real == 0 and v.imag < 0)


def _minus_constant(v, pp) -> str:
    """``-c`` written as a unary minus of ``c`` (a negative constant where astor
    would read ``-c ** 2`` or ``-c.real``: ``to_source`` writes ``(-c) ** 2``)."""
    s = "-" + _numeric(-v)
    return f"({s})" if _USUB_PREC < pp else s


def expr(n, pp=HIGHEST) -> str:
    """The text of expression ``n`` under a parent that gave it precedence ``pp``."""
    cls = n.__class__
    if cls is _Name:
        return n.id
    try:
        f = _EXPRESSIONS[cls]
    except KeyError:
        raise Unsupported(cls.__name__) from None
    return f(n, pp)


def _constant(n, pp):
    v = n.value
    if isinstance(v, (int, float, complex)):
        s = _numeric(v)
        return f"({s})" if _CONST < pp else s
    if isinstance(v, str):
        if "\n" in v or pp < _ASSIGN:
            raise Unsupported("string")  # astor may write it triple-quoted
        kind = getattr(n, "kind", None)
        return kind + repr(v) if kind else repr(v)
    if v is Ellipsis:
        return "..."
    return repr(v)


def _value(v):
    """An attribute's or a subscript's value (no precedence given)."""
    if v.__class__ is _Constant and _negative(v.value):
        return _minus_constant(v.value, HIGHEST)
    return expr(v)


def _attribute(n, pp):
    return _value(n.value) + "." + n.attr


def _subscript(n, pp):
    return _value(n.value) + "[" + expr(n.slice, _SUBSCRIPT) + "]"


def _slice(n, pp):
    lower, upper, step = n.lower, n.upper, n.step
    s = ("" if lower is None else expr(lower, _SLICE)) + ":" + (
        "" if upper is None else expr(upper, _SLICE))
    if step is not None:
        s += ":"
        if not (step.__class__ is _Name and step.id == "None"):
            s += expr(step, _SLICE)
    return s


def _binop(n, pp):
    op = n.op.__class__
    p = _OPPREC[op]
    left = n.left
    if op is _Pow:
        if left.__class__ is _Constant and _negative(left.value):
            ls = _minus_constant(left.value, _POW_LEFT)
        else:
            ls = expr(left, _POW_LEFT)
        s = ls + " ** " + expr(n.right, _POW_RIGHT)
    else:
        s = expr(left, p) + _BINSYM[op] + expr(n.right, p + 1)
    return f"({s})" if p < pp else s


def _unaryop(n, pp):
    op = n.op.__class__
    p = _OPPREC[op]
    s = _UNARYSYM[op] + expr(n.operand, p)
    return f"({s})" if p < pp else s


def _boolop(n, pp):
    op = n.op.__class__
    p = _OPPREC[op]
    s = _BINSYM[op].join([expr(v, p + 1) for v in n.values])
    return f"({s})" if p < pp else s


def _compare(n, pp):
    p = _OPPREC[n.ops[0].__class__]
    parts = [expr(n.left, p + 1)]
    for op, right in zip(n.ops, n.comparators):
        parts.append(_BINSYM[op.__class__])
        parts.append(expr(right, p + 1))
    s = "".join(parts)
    return f"({s})" if p < pp else s


def _named(n, pp):
    return f"({expr(n.target, _NAMED)} := {expr(n.value, _NAMED + 1)})"


def _ifexp(n, pp):
    s = (expr(n.body, _IFEXP + 1) + " if " + expr(n.test, _IFEXP + 1) + " else "
         + expr(n.orelse, _IFEXP))
    return f"({s})" if _IFEXP < pp else s


def _call(n, pp):
    args, keywords = n.args, n.keywords
    p = _COMMA if len(args) + len(keywords) > 1 else _CALL_ONE
    parts = [expr(a, p) for a in args]
    for k in keywords:
        parts.append((k.arg + "=" if k.arg else "**") + expr(k.value, _COMMA))
    return expr(n.func) + "(" + ", ".join(parts) + ")"


def _lambda(n, pp):
    s = "lambda " + _arguments(n.args) + ": " + expr(n.body, _LAMBDA)
    return f"({s})" if _LAMBDA < pp else s


def _starred(n, pp):
    return "*" + expr(n.value)


def _tuple(n, pp):
    elts = n.elts
    s = ", ".join([expr(e, _COMMA) for e in elts])
    if len(elts) == 1:
        s += ","
    return s if _TUPLE >= pp and elts else f"({s})"


def _list(n, pp):
    return "[" + ", ".join([expr(e, _COMMA) for e in n.elts]) + "]"


def _set(n, pp):
    if not n.elts:
        return "{1}.__class__()"
    return "{" + ", ".join([expr(e, _COMMA) for e in n.elts]) + "}"


def _dict(n, pp):
    return "{" + ", ".join([(expr(k) + ": " if k is not None else "**") + expr(v, _COMMA)
                            for k, v in zip(n.keys, n.values)]) + "}"


_EXPRESSIONS = {
    gast.Constant: _constant, gast.Attribute: _attribute, gast.Subscript: _subscript,
    gast.Slice: _slice, gast.BinOp: _binop, gast.UnaryOp: _unaryop, gast.BoolOp: _boolop,
    gast.Compare: _compare, gast.NamedExpr: _named, gast.IfExp: _ifexp, gast.Call: _call,
    gast.Starred: _starred, gast.Tuple: _tuple, gast.List: _list, gast.Set: _set,
    gast.Dict: _dict, gast.Lambda: _lambda,
}


# -- statements -------------------------------------------------------------------------

def function_source(node) -> str:
    """astor's text of the gast function definition or statement ``node`` (what
    ``to_source`` returns), or :class:`Unsupported`."""
    if node.__class__ is not gast.Assign and node.__class__ not in _STATEMENTS:
        raise Unsupported(node.__class__.__name__)
    out = []
    _body([node], "", out)
    return "\n".join(out) + "\n"


def _body(body, indent, out):
    for s in body:
        cls = s.__class__
        if cls is gast.Assign:
            out.append(indent + " = ".join([expr(t, _ASSIGN) for t in s.targets]) + " = "
                       + expr(s.value, _ASSIGN))
            continue
        try:
            f = _STATEMENTS[cls]
        except KeyError:
            raise Unsupported(cls.__name__) from None
        f(s, indent, out)


def _function(n, indent, out):
    if n.returns is not None or getattr(n, "type_params", None):
        raise Unsupported("annotated function")
    if indent:
        out.append("")  # astor's blank line before a nested definition
    for d in n.decorator_list:
        out.append(indent + "@" + expr(d))
    out.append(f"{indent}def {n.name}({_arguments(n.args)}):")
    _body(n.body, indent + "    ", out)


def _param(n):
    if n.__class__ is not _Name:
        raise Unsupported("parameter")
    if n.annotation is not None:
        return n.id + ": " + expr(n.annotation)
    return n.id


def _arguments(a) -> str:
    parts = []

    def loop(args, defaults):
        padding = [None] * (len(args) - len(defaults))
        for arg, default in zip(args, padding + list(defaults)):
            parts.append(_param(arg) if default is None
                         else _param(arg) + "=" + expr(default, _COMMA))

    offset = 0
    if a.posonlyargs:
        offset += len(a.defaults) - len(a.args)
        loop(a.posonlyargs, a.defaults[:offset])
        parts.append("/")
    loop(a.args, a.defaults[offset:])
    if a.vararg is not None:
        parts.append("*" + _param(a.vararg))
    if a.kwonlyargs:
        if a.vararg is None:
            parts.append("*")
        loop(a.kwonlyargs, a.kw_defaults)
    if a.kwarg is not None:
        parts.append("**" + _param(a.kwarg))
    return ", ".join(parts)


def _augassign(s, indent, out):
    out.append(indent + expr(s.target, _AUGASSIGN) + " " + _SYM[s.op.__class__] + "= "
               + expr(s.value, _AUGASSIGN))


def _expr_statement(s, indent, out):
    if getanno(s, "note", False):
        out.append(f"{indent}# {s.value.value}")
        return
    if any(n.__class__ is _Constant and isinstance(n.value, str) for n in gast.walk(s.value)):
        raise Unsupported("string statement")  # astor may write it triple-quoted
    out.append(indent + expr(s.value, _EXPR))


def _return(s, indent, out):
    out.append(indent + ("return" if s.value is None else "return " + expr(s.value, _RETURN)))


def _if(s, indent, out):
    out.append(f"{indent}if {expr(s.test, _IF)}:")
    inner = indent + "    "
    _body(s.body, inner, out)
    while True:
        orelse = s.orelse
        if len(orelse) == 1 and orelse[0].__class__ is gast.If:
            s = orelse[0]
            out.append(f"{indent}elif {expr(s.test, _IF)}:")
            _body(s.body, inner, out)
        else:
            if orelse:
                out.append(indent + "else:")
                _body(orelse, inner, out)
            return


def _for(s, indent, out):
    out.append(f"{indent}for {expr(s.target, _FOR)} in {expr(s.iter)}:")
    _body(s.body, indent + "    ", out)
    if s.orelse:
        out.append(indent + "else:")
        _body(s.orelse, indent + "    ", out)


def _while(s, indent, out):
    out.append(f"{indent}while {expr(s.test, _WHILE)}:")
    _body(s.body, indent + "    ", out)
    if s.orelse:
        out.append(indent + "else:")
        _body(s.orelse, indent + "    ", out)


def _simple(word):
    def statement(s, indent, out):
        out.append(indent + word)
    return statement


def _delete(s, indent, out):
    out.append(indent + "del " + ", ".join([expr(t, _COMMA) for t in s.targets]))


def _assert(s, indent, out):
    text = indent + "assert " + expr(s.test, _ASSERT)
    if s.msg is not None:
        text += ", " + expr(s.msg, _ASSERT)
    out.append(text)


def _raise(s, indent, out):
    text = indent + "raise"
    if s.exc is not None:
        text += " " + expr(s.exc)
        if s.cause is not None:
            text += " from " + expr(s.cause)
    out.append(text)


_STATEMENTS = {
    gast.AugAssign: _augassign, gast.Expr: _expr_statement, gast.Return: _return,
    gast.If: _if, gast.For: _for, gast.While: _while, gast.Pass: _simple("pass"),
    gast.Break: _simple("break"), gast.Continue: _simple("continue"),
    gast.Delete: _delete, gast.Assert: _assert, gast.Raise: _raise,
    gast.FunctionDef: _function,
}
