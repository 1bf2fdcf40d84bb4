"""Stage 2 -- refuse what is not supported, before any other work.

Every refusal is a :class:`~sourcegrad.errors.UnsupportedSyntaxError` naming
the construct and pointing at the user's file, line and column, with a hint.
Some expressions (comprehensions, lambdas, dict and set displays) are
allowed only where they carry no gradient; ``activity`` checks that.
"""
from __future__ import annotations

import gast

from sourcegrad import astutil
from sourcegrad.errors import UnsupportedSyntaxError

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
    gast.Import: ("import statement", "import at module level"),
    gast.ImportFrom: ("import statement", "import at module level"),
    gast.ClassDef: ("class definition", "define the class at module level"),
    gast.NamedExpr: ("assignment expression (:=)", "assign in a separate statement"),
}
if hasattr(gast, "Match"):
    _REFUSED[gast.Match] = ("match statement", "use if/elif/else")
if hasattr(gast, "TryStar"):
    _REFUSED[gast.TryStar] = ("try statement", "move error handling outside")


def fence(parsed) -> None:  # noqa: C901 (16; to split)
    """Raise UnsupportedSyntaxError at the first unsupported construct in ``parsed``."""
    top = parsed.tree
    # `if (c := test):` / `elif (c := test):`: normalized to `c = test; if c:` (generated
    # code writes an if/elif chain so)
    tests = set()  # (the walk reaches an if before its test)
    for node in astutil.walk(top):
        if node is top or id(node) in tests:
            continue
        kind = type(node)
        if kind is gast.If and isinstance(node.test, gast.NamedExpr) \
                and isinstance(node.test.target, gast.Name):
            tests.add(id(node.test))
        if kind in _REFUSED:
            what, hint = _REFUSED[kind]
            raise UnsupportedSyntaxError(what, hint=hint, **parsed.where(node))
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            for t in targets:
                for sub in astutil.walk(t):
                    if isinstance(sub, gast.Attribute) and isinstance(sub.ctx, gast.Store):
                        raise UnsupportedSyntaxError(
                            "assignment to an attribute",
                            detail="mutating an object's attributes inside the "
                                   "differentiated function is not supported",
                            hint="compute the value and return it; update the object outside",
                            **parsed.where(sub))
                    if isinstance(sub, gast.Starred):
                        raise UnsupportedSyntaxError(
                            "starred assignment target", hint="unpack by index instead",
                            **parsed.where(sub))
        if isinstance(node, gast.Call):
            for kw in node.keywords:
                if kw.arg is None:
                    raise UnsupportedSyntaxError(
                        "**kwargs in a call", hint="pass keyword arguments by name",
                        **parsed.where(node))
                if kw.arg == "out":
                    raise UnsupportedSyntaxError(
                        "out= argument", detail="writing a result into an existing array "
                        "is not supported", hint="use the returned value: y = f(...)",
                        **parsed.where(node))
        if isinstance(node, (gast.For, gast.While)) and node.orelse:
            raise UnsupportedSyntaxError(f"else clause of a {kind.__name__.lower()} loop",
                                         hint="use a flag variable", **parsed.where(node))
    if isinstance(top, gast.AsyncFunctionDef):
        what, hint = _REFUSED[gast.AsyncFunctionDef]
        raise UnsupportedSyntaxError(what, hint=hint, **parsed.where(top))
    args = top.args
    if args.kwarg is not None:
        raise UnsupportedSyntaxError("**kwargs parameter", hint="name the parameters",
                                     **parsed.where(top))
