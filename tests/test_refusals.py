"""Refusals: raised only through ``sourcegrad/refusals.py``, all in one shape.

Every stage that refuses user code calls one of ``refusals``' kinds
(``syntax``, ``use``, ``no_derivative``, ``at_function``); none builds the
error itself.  So every refusal reads the same way: the construct (and why),
the user's file and line with that line, and a hint.  ``test_errors.py`` holds
the messages of the individual constructs.
"""
from __future__ import annotations

import ast
import math
import pathlib
import re

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import refusals
from sourcegrad.errors import NoDerivativeError, SourcegradError, UnsupportedSyntaxError
from sourcegrad.parse import parse_function

PACKAGE = pathlib.Path(sg.__file__).resolve().parent
ERRORS = {"SourcegradError", "UnsupportedSyntaxError", "NoDerivativeError"}

# Modules that raise these errors themselves, and why: not refusals of the code
# being transformed.
OWN_RAISERS = {
    "errors.py": "defines them",
    "refusals.py": "the refusals",
    "parse.py": "the source cannot be read at all (before there is a tree to point into)",
    "runtime.py": "run time: a value the generated code meets (a seed, an aux output)",
    "dispatch.py": "run time: a callee known only when the generated code runs",
    "jit.py": "sg.jit's own refusals of a compiled derivative",
    "rules/scipy_stats.py": "run time: a distribution's parameter given a gradient",
    "rules/scipy_integrate.py": "run time: odeint's options",
}


def _raisers():
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Raise, ast.Return)) and isinstance(
                    getattr(node, "exc", None) or getattr(node, "value", None), ast.Call):
                call = node.exc if isinstance(node, ast.Raise) else node.value
                f = call.func
                called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                if called in ERRORS:
                    out.setdefault(rel, []).append(node.lineno)
    return out


def test_only_refusals_builds_a_refusal():
    stray = {m: lines for m, lines in _raisers().items() if m not in OWN_RAISERS}
    assert not stray, f"build the error through sourcegrad.refusals instead: {stray}"


SHAPE = re.compile(r"^(?P<head>.+)\n  File \"(?P<file>[^\"]+)\", line (?P<line>\d+)\n"
                   r"    (?P<text>.*)\n(    \s*\^\n)?  hint: (?P<hint>[\s\S]+)$")


def _refused(fn, *args):
    with pytest.raises(SourcegradError) as info:
        sg.grad(fn)(*args)
    return info.value


def syntax_kind(x):
    try:  # refused: try
        y = x * 2.0
    except ValueError:
        y = x
    return np.sum(y)


def use_kind(x):
    y = np.sum(x * 2.0)
    x.sort()  # refused: a side effect on a differentiated value
    return y


def no_derivative_kind(x):
    return math.lgamma(x)


@pytest.mark.parametrize("fn, kind, marker", [
    (syntax_kind, UnsupportedSyntaxError, "try:"),
    (use_kind, UnsupportedSyntaxError, "x.sort()"),
    (no_derivative_kind, NoDerivativeError, "math.lgamma(x)"),
])
def test_every_kind_reads_the_same(fn, kind, marker):
    err = _refused(fn, np.arange(3.0))
    assert type(err) is kind
    m = SHAPE.match(str(err))
    assert m, str(err)
    assert pathlib.Path(m["file"]).name == "test_refusals.py"
    assert marker in m["text"]
    assert err.lineno == int(m["line"]) and err.construct in m["head"]


def test_the_kinds_point_at_the_node_given():
    parsed = parse_function(syntax_kind)
    node = parsed.tree.body[0]
    for kind, cls in ((refusals.syntax, UnsupportedSyntaxError),
                      (refusals.use, UnsupportedSyntaxError),
                      (refusals.no_derivative, NoDerivativeError)):
        with pytest.raises(cls) as info:
            kind(parsed, node, "this construct", hint="do otherwise", detail="because")
        err = info.value
        assert err.lineno == syntax_kind.__code__.co_firstlineno + 1
        assert str(err).startswith("this construct: because\n")
        assert str(err).endswith("\n  hint: do otherwise")
    with pytest.raises(SourcegradError) as info:
        refusals.at_function(syntax_kind, "this function", hint="do otherwise")
    assert info.value.lineno == syntax_kind.__code__.co_firstlineno
