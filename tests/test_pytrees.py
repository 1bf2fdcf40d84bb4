"""Containers (pytrees) everywhere: dicts iterated and written, namedtuples, nested
inputs, outputs and aux (docs/behaviour.md section 13).

Programs are judged like the wide fuzzer's (``tests/fuzzcheck.py``): the value
against a plain call, the gradients' structure against the inputs', the gradients
against central finite differences in float64, no input mutated.  The API checks
below compare against ``sourcegrad.testing.numeric_grad`` leaf by leaf.
"""
from __future__ import annotations

import collections
import os
import sys
import textwrap

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import numeric_grad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzzcheck import judge  # noqa: E402

HEAD = ("import collections\nimport functools\n\nimport numpy as np\nimport sourcegrad as sg\n\n"
        "P = collections.namedtuple('P', ['w', 'b'])\n\n")

P = collections.namedtuple("P", ["w", "b"])
X3 = np.array([0.5, 1.2, 1.0])
W3 = np.array([0.3, -0.5, 0.8])
D = {"w": W3, "b": 0.4}


def case(cid, src, args, positions=0, refused=None):
    return pytest.param(HEAD + textwrap.dedent(src), args, positions, refused, id=cid)


CASES = [
    # -- iterating over a dict ------------------------------------------------------------
    case("for-keys-writes-entries", """
        def f(p):
            out = 0.0
            for k in p:
                p2 = p[k] * 2.0
                out = out + np.sum(p2 ** 2)
            return out
        """, (D,), 0),
    case("for-items-builds-dict", """
        def f(p):
            q = {}
            for k, v in p.items():
                q[k] = v * v
            return np.sum(q["w"]) + q["b"]
        """, (D,), 0),
    case("enumerate-values", """
        def f(p):
            tot = 0.0
            for i, v in enumerate(p.values()):
                tot = tot + (i + 1) * np.sum(np.sin(v))
            return tot
        """, (D,), 0),
    case("zip-keys-values", """
        def f(p, x):
            tot = x
            for k, v in zip(p.keys(), p.values()):
                tot = tot * np.sum(v) if k == "b" else tot + v
            return np.sum(tot)
        """, (D, X3), (0, 1)),
    case("sum-of-values-list", """
        def f(p):
            vals = list(p.values())
            return np.sum(vals[0]) * vals[1]
        """, (D,), 0),
    case("nested-dict-values", """
        def f(t):
            s = 0.0
            for layer in t["layers"]:
                for name, v in layer.items():
                    s = s + np.sum(np.tanh(v))
            return s
        """, ({"layers": [{"a": W3, "c": 0.3}, {"a": X3}]},), 0),
    case("for-keys-of-local-dict-writes-entries", """
        def f(x):
            d = {"a": x, "b": x * 2.0}
            for k in d:
                d[k] = d[k] * d[k]
            return np.sum(d["a"] + d["b"])
        """, (X3,), 0),
    case("get-with-and-without-default", """
        def f(x, y):
            d = {}
            d["a"] = x
            d["b"] = d["a"] * 2.0
            return np.sum(d["b"] * d.get("a")) + d.get("c", y) * y
        """, (X3, 0.7), (0, 1)),
    case("list-and-tuple-of-values", """
        def f(x):
            d = dict(a=x, b=1.5)
            for v in list(d.values()):
                x = x * v
            t = tuple(x)
            return t[0] * t[2]
        """, (X3,), 0),
    # -- entry writes ---------------------------------------------------------------------
    case("entry-written-in-loop", """
        def f(x):
            d = {"a": x, "b": 2.0}
            for i in range(3):
                d["a"] = np.sin(d["a"]) * d["b"]
            return np.sum(d["a"])
        """, (X3,), 0),
    case("entry-of-input-dict-refused", """
        def f(p, x):
            p["w"] = p["w"] * x
            return np.sum(p["w"]) + p["b"]
        """, (D, X3), (0, 1), refused="a dict passed in"),
    case("entry-of-a-copy-of-input-dict", """
        def f(p, x):
            q = p.copy()
            q["w"] = q["w"] * x
            q["c"] = q["b"] * x
            return np.sum(q["w"]) + np.sum(q["c"]) + p["b"]
        """, (D, X3), (0, 1)),
    case("entry-written-in-both-branches", """
        def f(x, y):
            d = {"s": x}
            if y > 0.0:
                d["t"] = d["s"] * y
            else:
                d["t"] = d["s"] - y
            return np.sum(d["t"] * d["s"])
        """, (X3, 0.7), (0, 1)),
    case("entry-augassign-mult-add", """
        def f(x, y):
            d = {"b": x + 0.0}
            d["b"] -= y
            d["b"] *= y
            return np.sum(d["b"])
        """, (X3, 0.7), (0, 1)),
    # e = d on every path: e is bound again after the entry is written (behaviour.md 12.16)
    case("dict-aliased-by-another-name", """
        def f(x):
            d = {"a": x * 1.0}
            e = d
            d["a"] = np.sin(x)
            return np.sum(e["a"])
        """, (X3,), 0),
    case("dict-aliased-in-one-branch-refused", """
        def f(x):
            d = {"a": x * 1.0}
            e = {"a": x * 2.0}
            if np.sum(x) > 0.0:
                e = d
            d["a"] = np.sin(x)
            return np.sum(e["a"])
        """, (X3,), 0, refused="may share its array with"),
    # -- containers reached only on an untaken path -----------------------------------------
    case("dict-input-unused-on-this-path", """
        def f(x, p):
            if x > 5.0:
                return p["w"] * x
            return x * 2.0
        """, (0.3, D), (0, 1)),
    case("list-input-read-in-empty-loop", """
        def f(x, p):
            for i in range(0):
                x = x + p[0]
            return x
        """, (0.3, [W3, 0.5]), (0, 1)),
    # -- *rest forwarding -------------------------------------------------------------------
    case("wrapper-forwards-rest-with-items", """
        def shifted(c):
            def deco(fn):
                @functools.wraps(fn)
                def wrapper(x, *rest):
                    return fn(x + c, *rest)
                return wrapper
            return deco


        @shifted(0.25)
        def f(x, y):
            return np.sum(np.sin(x) * y)
        """, (X3, 0.7), (0, 1)),
    case("callee-wrapper-forwards-empty-rest", """
        def passthrough(fn):
            def wrapper(x, *rest):
                return fn(x, *rest)
            return wrapper


        @passthrough
        def g(x):
            return np.tanh(x)


        def f(x):
            return np.sum(g(x * 2.0))
        """, (X3,), 0),
    # -- namedtuples ------------------------------------------------------------------------
    case("namedtuple-fields", """
        def f(p, x):
            return np.sum(np.tanh(p.w * x + p.b))
        """, (P(W3, 0.4), X3), (0, 1)),
    case("namedtuple-field-and-index", """
        def f(p, x):
            return np.sum(p[0] * x) + p.b * p.b
        """, (P(W3, 0.4), X3), (0, 1)),
    case("namedtuple-in-dict-in-list", """
        def f(t, x):
            return np.sum(t[0]["p"].w * x) + t[1] * t[0]["p"].b
        """, ([{"p": P(W3, 0.4)}, 0.7], X3), (0, 1)),
    case("namedtuple-built-and-returned", """
        def f(x):
            q = P(x * 2.0, b=np.sum(x))
            return q
        """, (X3,), 0),
    case("namedtuple-output-of-callee", """
        def g(x):
            return P(np.sin(x), np.sum(x * x))


        def f(x):
            q = g(x)
            return np.sum(q.w) * q.b
        """, (X3,), 0),
    # -- integer inputs returned --------------------------------------------------------------
    case("int-input-returned", """
        def f(n, y):
            return n
        """, (3, 0.5), (0, 1)),
    case("int-input-times-float-returned", """
        def f(n, y):
            if y > 0.0:
                return n
            return n * y
        """, (3, 0.5), (0, 1)),
]


@pytest.mark.parametrize("src, args, positions, refused", CASES)
def test_pytree_program(src, args, positions, refused, tmp_path):
    o = judge(src, args, positions, str(tmp_path), margin=1e-3)
    if refused is not None:
        assert o.kind == "refused" and refused in o.detail, \
            f"{o.key}\n{o.detail}\n--- program ---\n{src}"
        return
    assert o.kind == "ok", f"{o.key}\n{o.detail}\n--- program ---\n{src}"


# -- the API with containers: gradients, outputs, aux, sens --------------------------------

def _leaves(t):
    if isinstance(t, dict):
        return [leaf for k in sorted(t) for leaf in _leaves(t[k])]
    if isinstance(t, (list, tuple)):
        return [leaf for v in t for leaf in _leaves(v)]
    return [t]


def _numeric_pytree(fn, x):
    """Central finite differences of ``sum(fn(x))`` for each leaf of container ``x``,
    in ``x``'s structure."""
    def rebuild(t, leaves):
        if isinstance(t, dict):
            return {k: rebuild(t[k], leaves) for k in sorted(t)}
        if isinstance(t, (list, tuple)):
            items = [rebuild(v, leaves) for v in t]
            return type(t)(*items) if hasattr(t, "_fields") else type(t)(items)
        return next(leaves)

    leaves = _leaves(x)
    out = []
    for i, leaf in enumerate(leaves):
        def at(v, i=i):
            return fn(rebuild(x, iter(leaves[:i] + [v] + leaves[i + 1:])))
        out.append(numeric_grad(at, (leaf,), 0))
    return rebuild(x, iter(out))


def _same_structure(a, b):
    if isinstance(b, dict):
        return isinstance(a, dict) and set(a) == set(b) and all(
            _same_structure(a[k], b[k]) for k in b)
    if isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _same_structure(u, v) for u, v in zip(a, b))
    return np.shape(a) == np.shape(b)


def _close(a, b):
    return all(np.allclose(u, v, rtol=1e-5, atol=1e-6) for u, v in zip(_leaves(a), _leaves(b)))


def _loss(t):
    return np.sum(np.tanh(t["a"][0].w * t["a"][1])) + t["c"].b ** 2 * np.sum(t["a"][0].w)


TREE = {"a": [P(W3, 0.4), X3], "c": P(0.3, 0.9)}


def test_nested_input_gradient_has_its_structure():
    g = sg.grad(_loss)(TREE)
    want = _numeric_pytree(_loss, TREE)
    assert _same_structure(g, TREE) and type(g["a"][0]) is P
    assert _close(g, want)


def _outputs(x, p):
    return {"y": x * p.w, "z": (np.sum(x), p.b * x[0])}


def test_container_output_is_the_sum_of_its_leaves():
    args = (X3, P(W3, 0.4))
    value, (gx, gp) = sg.value_and_grad(_outputs, (0, 1))(*args)
    assert _same_structure(value, _outputs(*args)) and type(gp) is P
    total = lambda x, p: sum(np.sum(v) for v in _leaves(_outputs(x, p)))  # noqa: E731
    assert np.allclose(gx, numeric_grad(total, args, 0))
    assert _close(gp, _numeric_pytree(lambda p: total(X3, p), args[1]))


def test_sens_param_takes_a_container_seed():
    sens = {"y": np.array([1.0, -2.0, 0.5]), "z": (2.0, 3.0)}
    gx, gp = sg.grad(_outputs, (0, 1), sens_param=True)(X3, P(W3, 0.4), sens)
    weighted = lambda x, p: sum(np.sum(s * v) for s, v in zip(  # noqa: E731
        _leaves(sens), _leaves(_outputs(x, p))))
    assert np.allclose(gx, numeric_grad(weighted, (X3, P(W3, 0.4)), 0))
    assert type(gp) is P and _close(gp, _numeric_pytree(lambda p: weighted(X3, p),
                                                        P(W3, 0.4)))


def _with_aux(p):
    return np.sum(p.w ** 2) * p.b, {"m": np.mean(p.w), "parts": [p.b, P(1, "s")]}


def test_container_aux_comes_back_as_it_was():
    g, aux = sg.grad(_with_aux, has_aux=True)(P(W3, 0.4))
    assert aux == ({"m": np.mean(W3), "parts": [0.4, P(1, "s")]},) or (
        np.isclose(aux[0]["m"], np.mean(W3)) and aux[0]["parts"][1] == P(1, "s"))
    assert type(g) is P
    assert _close(g, _numeric_pytree(lambda p: _with_aux(p)[0], P(W3, 0.4)))


def test_jvp_with_namedtuple_input():
    f = lambda x, p: np.sum(np.tanh(p.w * x + p.b))  # noqa: E731
    tangent = P(np.array([1.0, 0.0, -1.0]), 0.5)
    _, t = sg.jvp(f, (X3, P(W3, 0.4)), (np.zeros(3), tangent))
    eps = 1e-6
    plus = f(X3, P(W3 + eps * tangent.w, 0.4 + eps * tangent.b))
    minus = f(X3, P(W3 - eps * tangent.w, 0.4 - eps * tangent.b))
    assert np.isclose(t, (plus - minus) / (2 * eps), rtol=1e-5)


def test_attribute_of_another_object_is_refused_at_run_time():
    class Box:
        def __init__(self, w):
            self.w = w

    def f(b, x):
        return np.sum(b.w * x)

    with pytest.raises(sg.SourcegradError, match="attribute .w"):
        sg.grad(f, (0, 1))(Box(W3), X3)
