"""``codegen.printer`` writes exactly what astor writes.

Generated code is printed by ``sourcegrad.codegen.printer`` (faster), and by
astor only when the printer does not know a node (``codegen.astor_source``).
Here both print the same trees and the texts must be equal, byte for byte:
hand-written expressions chosen for astor's parenthesisation corners, and
every function definition printed while many fuzzer programs (plain and
"wide", nested definitions included) are differentiated and their stages
dumped.
"""
from __future__ import annotations

import math
import os
import sys

import gast
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import astutil, pipeline
from sourcegrad.codegen import astor_source, printer, to_source
from sourcegrad.testing import load_source

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzzgen import generate, generate_wide  # noqa: E402

_CORNERS = '''
def f(x, y=1.5, *args, k=None, m=2, **kw):
    a = (x + y) * (x - y) / (x * y) - (x - (y - 1))
    b = x ** -y + (-x) ** 2 + -x ** 2 + 2 ** x ** y + (x ** y) ** 2
    c = x @ y.T @ (y @ x) // 3 % 2
    d = not (x and y or not y) and (x or y)
    e = x if y else (y if x else 0)
    g = (x < y < 3) == (x is not None) != (y not in args)
    h = x[1:2, ::2, :, None, ...] + x[::-1] + x[(1, 2)] + x[()] + x[1,] + x[i:j:None]
    k = (1).real + (1.5).imag + (x + y).sum(axis=0) + 1j + (1 + 2j) + 2.5e-300
    m = f(*args, **kw) + f((x, y)) + f(x, (x, y), *[x], k=(1, 2), **{'a': 1, **kw})
    n = {'a': x, (x + y): 2}, [x, (y, x)], {x, y}, {}, [], ()
    p = ~x + +x - -x, 'text', b'bytes', u'uni', True, None, ...
    l = (lambda: x), (lambda y, *a, z=1, **k: y + z)(x), f(lambda y: y), lambda y: (y, x)
    q, (r, s) = x, (y, x)
    x[0], x.attr = y, (y if x else x)
    x += y * 2
    x **= 2
    x @= y
    if (z := x + 1) > 2:
        pass
    elif y:
        x = 1
    elif (w := y):
        x = 2
    else:
        x = 3
    for i, j in zip(x, y):
        if i:
            continue
        break
    else:
        x = 0
    for i in x, y:
        pass
    while x < 3:
        x = x + 1
    else:
        y = 2
    del x[0], y
    assert x, 'message'
    raise ValueError(x) from y
    return x, y
'''


def _both(node):
    return printer.function_source(node), astor_source(node)


def test_corners_print_as_astor_prints_them():
    fdef = astutil.parse(_CORNERS).body[0]
    fast, slow = _both(fdef)
    assert fast == slow


def _constant_expression(value, where):
    c = gast.Constant(value=value, kind=None)
    x = gast.Name(id="x", ctx=gast.Load(), annotation=None, type_comment=None)
    if where == "pow":
        e = gast.BinOp(left=c, op=gast.Pow(), right=x)
    elif where == "attr":
        e = gast.Attribute(value=c, attr="real", ctx=gast.Load())
    elif where == "subscript":
        e = gast.Subscript(value=c, slice=x, ctx=gast.Load())
    elif where == "mul":
        e = gast.BinOp(left=x, op=gast.Mult(), right=c)
    else:
        e = gast.UnaryOp(op=gast.USub(), operand=c)
    tree = astutil.parse("def f(x):\n    return 0\n").body[0]
    tree.body[0].value = e
    return tree


@pytest.mark.parametrize("value", [-2.0, -3, 2.5, 0, -0.0, math.inf, -math.inf, math.nan,
                                   -1j, 1 - 2j, -1 + 0j, complex(0, -0.0), True,
                                   np.float64(-1.5), 10 ** 400])
@pytest.mark.parametrize("where", ["pow", "attr", "subscript", "mul", "neg"])
def test_constants_print_as_astor_prints_them(value, where):
    """Negative numbers where Python would read them otherwise, infinities, NaN,
    complex numbers, NumPy scalars."""
    fast, slow = _both(_constant_expression(value, where))
    assert fast == slow


def test_what_it_does_not_know_goes_to_astor():
    for text in (                 "def f(x):\n    return [y for y in x]\n",
                 "def f(x):\n    return f'{x}'\n",
                 "def f(x) -> int:\n    return x\n",
                 "def f(x):\n    'a docstring'\n    return x\n",
                 "def f(x):\n    return 'two\\nlines and more than twenty characters'\n",
                 "def f(x):\n    with x:\n        pass\n"):
        fdef = astutil.parse(text).body[0]
        with pytest.raises(printer.Unsupported):
            printer.function_source(fdef)
        assert to_source(fdef) == astor_source(fdef)


class _Recorder:
    """Stands in for ``printer.function_source``: prints with both, keeps the pairs."""

    def __init__(self):
        self.original = printer.function_source
        self.pairs = []
        self.fallbacks = 0

    def __call__(self, node):
        try:
            fast = self.original(node)
        except printer.Unsupported:
            self.fallbacks += 1
            raise
        self.pairs.append((fast, astor_source(node)))
        return fast


def _differentiate(f, positions, args):
    try:
        sg.grad(f, positions)(*args)
    except Exception:  # (a wide program sourcegrad refuses: what was printed counts)
        pass


@pytest.fixture
def recorder(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(printer, "function_source", rec)
    return rec


def _check(rec, least):
    assert len(rec.pairs) >= least, (len(rec.pairs), rec.fallbacks)
    for fast, slow in rec.pairs:
        assert fast == slow
    # the printer knows what generated code is made of: astor is the exception
    assert rec.fallbacks <= len(rec.pairs) // 10


def test_generated_code_prints_as_astor_prints_it(recorder, tmp_path):
    rng = np.random.RandomState(0)
    for seed in range(100):
        prog = generate(seed)
        mod = load_source(str(tmp_path / f"pr{seed}.py"), prog.clean)
        _differentiate(mod.f, prog.positions, prog.args(rng))
    for seed in range(100):
        prog = generate_wide(seed, nested=seed % 2 == 1)
        mod = load_source(str(tmp_path / f"pw{seed}.py"), prog.clean)
        _differentiate(mod.f, prog.positions, prog.args(rng))
    _check(recorder, 200)


def test_stage_dumps_print_as_astor_prints_them(recorder, tmp_path):
    """Every stage's tree, the user's own statements among them."""
    for seed in range(12):
        prog = generate_wide(seed, nested=True)
        mod = load_source(str(tmp_path / f"ps{seed}.py"), prog.clean)
        pos = prog.positions if isinstance(prog.positions, tuple) else (prog.positions,)
        for stage in pipeline.STAGES:
            try:
                sg.source(sg.grad(mod.f, pos), stage=stage)
            except Exception:
                pass
    _check(recorder, 50)
