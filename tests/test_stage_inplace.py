"""The in-place fence (``sourcegrad/inplace.py``) alone: source in, verdict out.

Each case is a function and what the fence makes of it, read off the normalized
tree (the fence runs first in normalize): ``"kept"`` (value semantics agree with
Python: nothing added), ``"copy"`` (the write goes into a copy first: an
``a = a.copy()`` appears), or a phrase of the refusal.  The gradients of these
programs are checked elsewhere (tests/test_fuzz_regressions.py); here a change
to the fence shows as a changed verdict.
"""
import textwrap

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import load_source

HEAD = "import numpy as np\n\n\n"

CASES = {
    # a fresh array updated in place: nobody else sees it
    "fresh-update": ("""
        def f(x):
            y = x * 2.0
            y += 1.0
            return np.sum(y)
        """, "kept"),
    # another name for it, read afterwards: refused
    "alias-read-after": ("""
        def f(x):
            y = x * 2.0
            z = y
            y += 1.0
            return np.sum(y * z)
        """, "y may share its array with z"),
    # a = b = v: one array, two names
    "chained-assignment": ("""
        def f(x):
            a = b = x * 2.0
            a += 1.0
            return np.sum(a * b)
        """, "a may share its array with b"),
    # a view read afterwards
    "view-read-after": ("""
        def f(x):
            y = x * 2.0
            r = y[1:]
            y += 1.0
            return np.sum(r)
        """, "y may share its array with r"),
    # a write into an array another name shares, nobody reads that name again:
    # into a copy (the backward sweep may still read the old array)
    "write-with-unread-alias": ("""
        def f(x):
            y = x * 2.0
            z = y
            y[0] = 0.0
            return np.sum(y)
        """, "copy"),
    # an element of a matrix is a new scalar, even after the matrix is rebound
    "element-of-rebound-matrix": ("""
        def f(x):
            for i in range(2):
                x = 0.5 * x + np.sin(x[:, :1])
            v = x[1, 1]
            v += 1.0
            return np.sum(x) * v
        """, "kept"),
    # a row is a view
    "row-of-rebound-matrix": ("""
        def f(x):
            for i in range(2):
                x = 0.5 * x + np.sin(x[:, :1])
            v = x[1]
            v += 1.0
            return np.sum(x) * np.sum(v)
        """, "v may share its array with x"),
    # a list holding one array twice, updated through one item
    "list-holding-an-array-twice": ("""
        def f(x):
            a = x * 1.0
            lst = [a, a]
            lst[0] += 1.0
            return np.sum(lst[1])
        """, "may hold the array a more than once"),
    # your function updating its argument's array, the caller reading it again
    "callee-updates-argument": ("""
        def h(y):
            y -= 0.5
            return np.sum(y)

        def f(x):
            y = x * 2.0
            s = h(y)
            return np.sum(y) + s
        """, "call to h, which updates its argument y in place"),
    # ... and the caller binding the result to that name: Python's caller never
    # sees the old array again
    "callee-updates-argument-rebound": ("""
        def h(y):
            y -= 0.5
            return y

        def f(x):
            y = x * 2.0
            y = h(y)
            return np.sum(y * x)
        """, "kept"),
    # the callee binds its parameter afresh before updating it
    "callee-updates-its-own-value": ("""
        def h(y):
            y = np.tanh(y)
            y -= 0.5
            return np.sum(y)

        def f(x):
            y = x * 2.0
            s = h(y)
            return np.sum(y) + s
        """, "kept"),
    # d["k"] = v replaces an entry: the arrays the dict holds are untouched
    "dict-entry-replaced": ("""
        def f(x):
            v = x * 2.0
            d = {"w": v}
            d["s"] = 1.0
            return np.sum(v * d["w"]) + d["s"]
        """, "kept"),
    # d["k"] += v changes the array held at "k" in place
    "dict-entry-updated": ("""
        def f(x):
            v = x * 2.0
            d = {"w": v}
            d["w"] += 1.0
            return np.sum(v)
        """, "d may share its array with v"),
}


def verdict(tmp_path, name, src):
    mod = load_source(str(tmp_path / f"fence_{name.replace('-', '_')}.py"),
                      HEAD + textwrap.dedent(src))
    g = sg.grad(mod.f)
    try:
        g(np.array([[0.5, 1.2, 1.0], [0.3, -0.2, 0.7]]) if "matrix" in name
          else np.array([0.5, 1.2, 1.0]))
    except sg.SourcegradError as e:
        assert e.lineno is not None, "a refusal names the user's line"
        return str(e)
    text = sg.source(g, stage="normalize")
    return "copy" if ".copy()" in text else "kept"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fence_verdict(name, tmp_path):
    src, want = CASES[name]
    got = verdict(tmp_path, name, src)
    if want in ("kept", "copy"):
        assert got == want, f"{name}: expected {want}, got:\n{got}"
    else:
        assert want in got, f"{name}: expected a refusal with {want!r}, got:\n{got}"
