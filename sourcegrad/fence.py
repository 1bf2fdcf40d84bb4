"""Stage 2 -- refuse what is not supported, before any other work.

Every refusal is ``refusals.syntax``: an
:class:`~sourcegrad.errors.UnsupportedSyntaxError` naming the construct and
pointing at the user's file, line and column, with a hint.
Some expressions (comprehensions, lambdas, dict and set displays) are
allowed only where they carry no gradient; ``activity`` checks that.
"""
from __future__ import annotations

import gast

from sourcegrad import astutil, refusals

_IMPORT_HINT = ("import at module level, or at the top of the function's body (outside "
                "any block, binding names the function does not assign again)")

# node type -> (what to call it, what to do instead)
_REFUSED = {
    gast.Try: ("try statement", "move error handling outside the differentiated function"),
    gast.AsyncWith: ("async with statement", "differentiate synchronous code"),
    gast.AsyncFor: ("async for loop", "differentiate synchronous code"),
    gast.AsyncFunctionDef: ("async function", "differentiate synchronous code"),
    gast.Await: ("await expression", "differentiate synchronous code"),
    gast.Yield: ("yield (generator)", "return a list or array instead of yielding values"),
    gast.YieldFrom: ("yield from (generator)", "return a list or array instead"),
    gast.Global: ("global statement", "pass the value in and return the new value instead"),
    gast.Nonlocal: ("nonlocal statement", "pass the value in and return the new value instead"),
    gast.Delete: ("del statement", "let the variable go out of scope instead"),
    gast.Import: ("import statement", _IMPORT_HINT),
    gast.ImportFrom: ("import statement", _IMPORT_HINT),
    gast.ClassDef: ("class definition", "define the class at module level"),
    gast.NamedExpr: ("assignment expression (:=) in a comprehension or lambda",
                     "write the loop out, assigning in a separate statement"),
}
if hasattr(gast, "Match"):
    _REFUSED[gast.Match] = ("match statement", "use if/elif/else")
if hasattr(gast, "TryStar"):
    _REFUSED[gast.TryStar] = ("try statement", "move error handling outside")


_OWN_SCOPE = frozenset({gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp,
                        gast.Lambda})
_ASSIGNMENTS = frozenset({gast.Assign, gast.AugAssign, gast.AnnAssign})


def fence(parsed, every=None) -> None:
    """Refuse (``refusals.syntax``) the first unsupported construct in ``parsed``;
    ``every``: ``astutil.node_list(parsed.tree)``, if the caller has it."""
    top = parsed.tree
    if every is None:
        every = astutil.node_list(top)
    # `(n := e)` is normalized to `n = e` where it is evaluated; inside a comprehension
    # or a lambda (evaluated whole, in a scope of its own) it stays refused
    scoped = {id(n) for s in every if s.__class__ in _OWN_SCOPE
              for n in astutil.walk(s) if isinstance(n, gast.NamedExpr)}
    for node in every:
        if node is top:
            continue
        kind = node.__class__  # (gast's classes have no subclasses)
        if kind is gast.NamedExpr and id(node) not in scoped:
            continue
        if kind in _REFUSED:
            what, hint = _REFUSED[kind]
            refusals.syntax(parsed, node, what, hint=hint)
        if kind in _ASSIGNMENTS:
            _targets(parsed, node.targets if kind is gast.Assign else [node.target])
        elif kind is gast.Call and node.keywords:
            _keywords(parsed, node)
    if isinstance(top, gast.AsyncFunctionDef):
        what, hint = _REFUSED[gast.AsyncFunctionDef]
        refusals.syntax(parsed, top, what, hint=hint)
    if top.args.kwarg is not None:
        refusals.syntax(parsed, top, "**kwargs parameter", hint="name the parameters")


def _targets(parsed, targets):
    """Assignment targets: no attribute, no starred name."""
    for t in targets:
        if t.__class__ is gast.Name:
            continue  # (the common target: nothing to refuse)
        for sub in astutil.nodes(t):
            if isinstance(sub, gast.Attribute) and isinstance(sub.ctx, gast.Store):
                refusals.syntax(
                    parsed, sub, "assignment to an attribute",
                    detail="mutating an object's attributes inside the differentiated "
                           "function is not supported",
                    hint="compute the value and return it; update the object outside")
            if isinstance(sub, gast.Starred):
                refusals.syntax(parsed, sub, "starred assignment target",
                                hint="unpack by index instead")


def _keywords(parsed, node):
    """A call's keywords: no ``**kwargs``, no ``out=``."""
    for kw in node.keywords:
        if kw.arg is None:
            refusals.syntax(parsed, node, "**kwargs in a call",
                            hint="pass keyword arguments by name")
        if kw.arg == "out":
            refusals.syntax(parsed, node, "out= argument",
                            detail="writing a result into an existing array is not supported",
                            hint="use the returned value: y = f(...)")
