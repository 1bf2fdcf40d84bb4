"""The in-place fence (``sourcegrad/inplace.py``) alone: source in, verdict out.

Each case is a function and what the fence makes of it, read off the normalized
tree (the fence runs first in normalize): ``"kept"`` (value semantics agree with
Python: nothing added), ``"copy"`` (the write goes into a copy first: an
``a = a.copy()`` appears), ``"line: <text>"`` (that normalized line appears: another
name known to share the array bound again after the update, as Python sees it, or a
write through a view written into its array), or a phrase of the refusal.  The
gradients and values of these programs are checked elsewhere
(tests/test_fuzz_regressions.py, tests/test_inplace_grads.py); here a change to the
fence shows as a changed verdict.
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
        """, "line: z_1 = y_1"),
    # a = b = v: one array, two names
    "chained-assignment": ("""
        def f(x):
            a = b = x * 2.0
            a += 1.0
            return np.sum(a * b)
        """, "line: b_1 = a_1"),
    # a view read afterwards
    "view-read-after": ("""
        def f(x):
            y = x * 2.0
            r = y[1:]
            y += 1.0
            return np.sum(r)
        """, "line: r_1 = y_1[1:]"),
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
    # a row is a view: the write into it is written back into the matrix
    "row-of-rebound-matrix": ("""
        def f(x):
            for i in range(2):
                x = 0.5 * x + np.sin(x[:, :1])
            v = x[1]
            v += 1.0
            return np.sum(x) * np.sum(v)
        """, "line: x[1] = v_1"),
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
    # another name bound in one branch only: it may or may not be the array
    "alias-in-a-branch": ("""
        def f(x):
            y = x * 2.0
            z = x * 3.0
            if np.sum(x) > 0.0:
                z = y
            y += 1.0
            return np.sum(y * z)
        """, "y may share its array with z"),
    # a row picked by an index array is a copy in NumPy, a basic slice a view: the
    # fence does not tell them apart there, so it refuses
    "fancy-index-read-after": ("""
        def f(x):
            y = x * 2.0
            r = y[np.argsort(x)]
            y += 1.0
            return np.sum(r * y)
        """, "y may share its array with r"),
    # the alias is bound to a new value before the update on every path: no alias
    "alias-rebound-before-update": ("""
        def f(x):
            y = x * 2.0
            z = y
            z = z * 3.0
            y += 1.0
            return np.sum(y * z)
        """, "kept"),
    # a view of a view: both taken again, in order
    "view-of-a-view": ("""
        def f(x):
            y = x * 2.0
            r = y[1:]
            s = r[1:]
            y[2] = 5.0
            return np.sum(s) + np.sum(r * r)
        """, "line: s_1 = r_1[1:]"),
    # y[1][0] = v into a matrix: y[1, 0] = v
    "chained-write-into-a-matrix": ("""
        def f(x):
            y = np.outer(x[0], x[0])
            y[1][0] = x[0, 0]
            return np.sum(y * y)
        """, "line: y[1, 0] = x_item_2"),
    # y.T[0] = v: y[:, 0] = v
    "transposed-write-into-a-matrix": ("""
        def f(x):
            y = np.outer(x[0], x[0])
            y.T[0] = x[1]
            return np.sum(y * y)
        """, "line: y[:, 0] = x_item_2"),
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
    lines = [line.strip() for line in text.splitlines()]
    return ("copy" if ".copy()" in text else "kept") + "\n" + "\n".join(lines)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fence_verdict(name, tmp_path):
    src, want = CASES[name]
    got = verdict(tmp_path, name, src)
    if want in ("kept", "copy"):
        assert got.split("\n")[0] == want, f"{name}: expected {want}, got:\n{got}"
    elif want.startswith("line: "):
        assert want[len("line: "):] in got.split("\n")[1:], \
            f"{name}: expected {want}, got:\n{got}"
    else:
        assert want in got, f"{name}: expected a refusal with {want!r}, got:\n{got}"
