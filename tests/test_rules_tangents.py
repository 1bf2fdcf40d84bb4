"""Every tangent (forward-mode) rule against central finite differences (float64),
on the same table of calls as the adjoint rules (tests/test_rules_numpy.py).

A tangent template is evaluated directly, without the engine: ``d[x]`` becomes a
batch of two random directions for the argument checked (the others carry none:
their statements are dropped, as the tangent stage drops them), and the result is
compared, direction by direction, with ``(f(x + e t) - f(x - e t)) / 2e``.
Elementwise functions declared with ``diagonal_tangent`` are checked through their
adjoint template read with ``d[z]`` and ``d[x]`` swapped, as the tangent stage uses
it (with several broadcast arguments: ``unbroadcast(E(d[z]), x)`` read as ``E`` of
``x``'s tangent broadcast to the result's shape).
"""
from __future__ import annotations

import ast
import inspect
import math
import textwrap

import numpy as np
import pytest

import sourcegrad  # noqa: F401  (registers the rules)
from sourcegrad.rules import registry
from tests import test_rules_numpy as table


class _Rename(ast.NodeTransformer):
    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "d" \
                and isinstance(node.slice, ast.Name):
            return ast.copy_location(ast.Name("_d_" + node.slice.id, node.ctx), node)
        return node


def _statements(rule):
    src = textwrap.dedent(inspect.getsource(rule.template))
    return [s for s in ast.parse(src).body[0].body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]


def _reads(node):
    return {n.slice.id for n in ast.walk(node) if isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name) and n.value.id == "d"
            and isinstance(n.slice, ast.Name)}


def tangent_of(primal, args, kwargs, tangents):
    """The batched tangent of ``primal(*args, **kwargs)`` given ``{param: tangent}``
    (parameters absent carry none), from its tangent rule as the stage uses it."""
    rule = registry.lookup_tangent(primal)
    swap = rule is None and registry.has_diagonal_tangent(primal)
    if swap:
        rule = registry.lookup(primal)
    assert rule is not None, f"no tangent rule for {primal!r}"
    z = table.call(primal, args, kwargs)
    bound = rule.signature.bind(*args, **kwargs)
    bound.apply_defaults()
    ns = dict(rule.namespace)
    ns.update(bound.arguments)
    ns[rule.result] = z
    if swap:
        return z, _swapped(rule, ns, z, tangents)
    total = None
    for st in _statements(rule):
        target = st.targets[0]
        if isinstance(target, ast.Name):  # a temporary
            exec(compile(ast.fix_missing_locations(ast.Module(body=[_Rename().visit(st)],
                                                              type_ignores=[])),
                         rule.where, "exec"), ns)
            continue
        params = sorted(_reads(st.value))  # several: jointly linear arguments
        for param in params:
            ns["_d_" + param] = tangents.get(param)

        def carries(t):
            return t is not None and not (isinstance(t, (list, tuple))
                                          and all(v is None for v in t))

        if not any(carries(tangents.get(p)) for p in params):
            continue
        expr = ast.Expression(body=_Rename().visit(st.value))
        part = eval(compile(ast.fix_missing_locations(expr), rule.where, "eval"), ns)
        total = part if total is None else total + part
    return z, total


def _run(st, ns, where):
    exec(compile(ast.fix_missing_locations(ast.Module(body=[_Rename().visit(st)],
                                                      type_ignores=[])), where, "exec"), ns)


def _swapped(rule, ns, z, tangents):
    """An elementwise function's adjoint template read as its tangent: each
    ``d[x] = E(d[z])`` of an argument with a tangent ``t`` gives ``E(t)``, each
    ``d[x] = unbroadcast(E(d[z]), x)`` gives ``E(t)`` with ``t`` broadcast to the
    result's shape; the temporaries reading ``d[z]`` are run again for each."""
    total, reading = None, []
    for st in _statements(rule):
        target = st.targets[0]
        if isinstance(target, ast.Name):
            names = {r.targets[0].id for r in reading}
            if _reads(st.value) or any(isinstance(n, ast.Name) and n.id in names
                                       for n in ast.walk(st.value)):
                reading.append(st)
            else:
                _run(st, ns, rule.where)
            continue
        t = tangents.get(target.slice.id)
        if t is None:
            continue
        value = st.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                and value.func.id == "unbroadcast":
            value = value.args[0]
            t = np.broadcast_to(np.reshape(t, t.shape[:1] + (1,) * (np.ndim(z) + 1 - t.ndim)
                                           + t.shape[1:]), t.shape[:1] + np.shape(z))
        ns["_d_" + rule.result] = t
        for r in reading:
            _run(r, ns, rule.where)
        part = eval(compile(ast.fix_missing_locations(ast.Expression(
            body=_Rename().visit(value))), rule.where, "eval"), ns)
        total = part if total is None else total + part
    return total


def swap_rule(primal):
    return registry.lookup_tangent(primal) is None and registry.has_diagonal_tangent(primal)


def _covered(rule):
    out = set()
    for st in _statements(rule):
        if isinstance(st.targets[0], ast.Subscript):
            out |= _reads(st.value) if not swap_rule(rule.primal) else {st.targets[0].slice.id}
    return out


def _directions(leaf, rng, n=2):
    return rng.standard_normal((n,) + np.shape(leaf))


def check(case, seed=0):
    rng = np.random.default_rng(seed)
    args = list(case.make(rng))
    kwargs = case.kwargs
    rule = registry.lookup_tangent(case.primal) or registry.lookup(case.primal)
    wrt = case.wrt if case.wrt is not None else table._default_wrt(args)
    for w in wrt:
        i, j = (w, None) if isinstance(w, int) else w
        name, k = table._where(rule, len(args), kwargs, i)
        leaf = args[i] if j is None else args[i][j]
        t = _directions(leaf, rng)
        if j is not None:  # one item of a sequence argument
            t = [t if jj == j else None for jj in range(len(args[i]))]
        if k is not None:  # one item of *args
            nvar = len(rule.signature.bind(*args, **kwargs).arguments[name])
            t = tuple(t if kk == k else None for kk in range(nvar))
        covered = _covered(rule) | getattr(rule, "constant", frozenset())
        assert swap_rule(case.primal) or name in covered, (
            f"the tangent rule of {case.id} has no statement for {name!r}: forward mode "
            f"would refuse it (mark it constant if its tangent is zero)")
        z, got = tangent_of(case.primal, args, kwargs, {name: t})
        dirs = t if j is None and k is None else (t[j] if j is not None else t[k])

        def f(value, i=i, j=j):
            a = list(args)
            if j is None:
                a[i] = value
            else:
                seq = list(a[i])
                seq[j] = value
                a[i] = tuple(seq) if isinstance(a[i], tuple) else seq
            out = table.call(case.primal, a, kwargs)
            if isinstance(out, (tuple, list)):
                return [np.asarray(o, dtype=float) for o in out]
            return [np.asarray(out, dtype=float)]

        parts = list(got) if isinstance(z, (tuple, list)) else [got]
        for r in range(len(dirs)):
            e = case.eps
            for k, (hi, lo) in enumerate(zip(f(leaf + e * dirs[r]), f(leaf - e * dirs[r]))):
                want = (hi - lo) / (2 * e)
                g = np.asarray(parts[k])[r] if parts[k] is not None else np.zeros_like(want)
                assert np.shape(g) == np.shape(want), (
                    f"{name}: tangent shape {np.shape(g)} != result shape {np.shape(want)}")
                np.testing.assert_allclose(g, want, rtol=max(case.rtol, 1e-5), atol=1e-5,
                                           err_msg=f"tangent {k} along {name} (argument {w})")


def _has_tangent(primal):
    return registry.lookup_tangent(primal) is not None or registry.has_diagonal_tangent(primal)


def _real(case):
    """Rows this harness checks: real arrays in, one real array out (complex rows
    and tuple-valued primals are left to the adjoint table)."""
    if case.skip is not None:
        return False
    args = case.make(np.random.default_rng(0))
    if any(np.iscomplexobj(a) for a in args if isinstance(a, np.ndarray)):
        return False
    z = table.call(case.primal, list(args), case.kwargs)
    if isinstance(z, (tuple, list)):
        return all(isinstance(v, (float, np.ndarray, np.floating)) and not np.iscomplexobj(v)
                   for v in z)
    return isinstance(z, (float, np.ndarray, np.floating)) and not np.iscomplexobj(z)

CASES = [c for c in table.CASES + table.MATH if _has_tangent(c.primal) and _real(c)]


# rows whose call the tangent rule refuses (NotImplementedError naming it), never
# answering wrong: the README lists them
REFUSED = {"linalg.norm-ord1", "linalg.norm-ord3", "linalg.norm-inf", "linalg.norm--inf",
           "linalg.norm-nuc", "linalg.norm-spectral", "linalg.norm-smallest",
           "linalg.norm-mat1", "linalg.norm-matinf", "linalg.norm-mat-axes",
           "linalg.norm-mat-keep", "linalg.vector_norm-axes", "linalg.vector_norm-ord1",
           "linalg.vector_norm-inf", "linalg.matrix_norm-nuc", "linalg.matrix_norm-inf"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tangent_rule_matches_finite_differences(case):
    if case.id in REFUSED:
        with pytest.raises(NotImplementedError, match="forward mode of"):
            check(case)
        return
    check(case)


def test_the_table_covers_the_core_rules():
    covered = {c.primal for c in CASES}
    for primal in (np.add, np.multiply, np.divide, np.power, np.matmul, np.dot, np.sum,
                   np.mean, np.tanh, np.exp, np.log, np.maximum, np.where, np.reshape,
                   np.transpose, np.ndarray.sum, math.exp):
        assert primal in covered, primal


def missing_tangents():
    """Primals with an adjoint rule and no tangent rule (forward mode refuses them,
    naming the function; the README lists them)."""
    out = []
    for rule in list(registry._RULES.values()):  # (a lookup may load a lazy family)
        if not _has_tangent(rule.primal):
            out.append(rule.primal)
    return out


def test_the_only_core_rule_without_a_tangent_is_a_cells_bprop():
    """Every adjoint rule of NumPy, ``math``, the builtins and sourcegrad's own has a
    tangent rule beside it but one: a Cell's own bprop, a reverse-mode rule with no
    tangent to take from it (forward mode refuses it by name:
    tests/test_forward.py::test_missing_tangent_rule_is_a_clear_error)."""
    from sourcegrad import runtime
    libraries = ("numpy", "math", "builtins", "operator", "sourcegrad")
    ours = [p for p in missing_tangents()  # (not rules other tests register)
            if (getattr(p, "__module__", None) or "").split(".")[0] in libraries]
    assert ours == [runtime.cell_with_bprop]


def test_every_scipy_rule_has_a_tangent():
    """SciPy's rule families (special, stats, linalg, signal, integrate), loaded when
    SciPy is imported, have a tangent rule for every adjoint rule; each is checked
    against finite differences in tests/test_tangents_scipy.py."""
    pytest.importorskip("scipy")
    import scipy.integrate  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.signal  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
    registry._load_families()
    families = {r.primal for r in registry._RULES.values()
                if r.template.__module__.startswith("sourcegrad.rules.scipy_")}
    assert len(families) > 60  # (the families loaded)
    assert [p for p in missing_tangents() if p in families] == []
