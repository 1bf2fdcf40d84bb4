"""Every NumPy derivative rule against central finite differences (float64).

The rules are checked *without* the engine: :func:`vjp` evaluates a rule's
template directly (``d[name]`` rewritten to plain variables), binding the
call's arguments exactly as the engine does (``rule.signature.bind``).  One
table drives everything: each row is a primal, its arguments, keyword
arguments and which arguments to check; the cotangent ``dz`` is random, and
``sum(dz * f(args))`` is differentiated numerically.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types

import numpy as np
import pytest

import sourcegrad.rules.fft as rules_fft
import sourcegrad.rules.linalg as rules_linalg
import sourcegrad.rules.numpy_core as rules_numpy
from sourcegrad.rules.registry import _RULES, is_nondifferentiable, lookup
from sourcegrad import xp
from sourcegrad.testing import numeric_grad

_TRAPEZOIDS = rules_numpy.TRAPEZOIDS  # np.trapezoid, and np.trapz where it still exists


# ------------------------------------------------------------ the harness --

class _Rename(ast.NodeTransformer):
    """``d[name]`` -> ``_d_name``."""

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if (isinstance(node.value, ast.Name) and node.value.id == "d"
                and isinstance(node.slice, ast.Name)):
            return ast.copy_location(ast.Name("_d_" + node.slice.id, node.ctx), node)
        return node


def _template_body(rule):
    src = textwrap.dedent(inspect.getsource(rule.template))
    return ast.parse(src).body[0].body


_CODE = {}


def _compiled(rule):
    if rule.template not in _CODE:
        mod = ast.Module(body=[_Rename().visit(s) for s in _template_body(rule)], type_ignores=[])
        _CODE[rule.template] = compile(ast.fix_missing_locations(mod), rule.where, "exec")
    return _CODE[rule.template]


def call(primal, args, kwargs):
    if isinstance(primal, types.GetSetDescriptorType):   # ndarray.T
        return primal.__get__(args[0])
    return primal(*args, **kwargs)


def vjp(primal, args, kwargs, dz):
    """Run ``primal``'s rule on a call and cotangent: ``{param: adjoint}``."""
    rule = lookup(primal)
    assert rule is not None, f"no rule for {primal!r}"
    z = call(primal, args, kwargs)
    bound = rule.signature.bind(*args, **kwargs)
    bound.apply_defaults()
    ns = dict(rule.namespace)
    ns.update(bound.arguments)
    ns[rule.result] = z
    ns["_d_" + rule.result] = dz
    exec(_compiled(rule), ns)
    return {p: ns["_d_" + p] for p in rule.signature.parameters if "_d_" + p in ns}


class _Marker:
    pass


def _where(rule, nargs, kwargs, i):
    """Which template parameter receives positional argument ``i``, and the
    index inside a ``*args`` parameter (or None)."""
    marks = [_Marker() for _ in range(nargs)]
    bound = rule.signature.bind(*marks, **kwargs).arguments
    for name, value in bound.items():
        if value is marks[i]:
            return name, None
        if isinstance(value, tuple):
            for k, v in enumerate(value):
                if v is marks[i]:
                    return name, k
    raise AssertionError(f"argument {i} not bound")


def _float_like(v):
    return isinstance(v, float) or (isinstance(v, np.ndarray) and v.dtype.kind in "fc")


def _cotangent(z, rng, none=()):
    if isinstance(z, (tuple, list)):
        return [None if k in none else _cotangent(v, rng) for k, v in enumerate(z)]
    if np.iscomplexobj(z):   # d[z] = dL/du - 1j dL/dv: the loss below is linear in u, v
        return rng.standard_normal(np.shape(z)) + 1j * rng.standard_normal(np.shape(z))
    return rng.standard_normal(np.shape(z))


def _total(out, dz):
    if isinstance(out, (tuple, list)):
        return float(builtins.sum(_total(o, g) for o, g in zip(out, dz) if g is not None))
    return float(np.real(np.sum(dz * out)))


def _default_wrt(args):
    wrt = []
    for i, a in enumerate(args):
        if _float_like(a):
            wrt.append(i)
        elif isinstance(a, (list, tuple)):
            wrt += [(i, j) for j, v in enumerate(a) if _float_like(v)]
    return wrt


_NUMPY = np.lib.NumpyVersion(np.__version__)


def numpy_since(version, what):
    """Skip reason for a call NumPy accepts only from ``version`` on (else None)."""
    if _NUMPY < version:
        return f"{what} is NumPy >= {version} (this is NumPy {np.__version__})"
    return None


def numpy_before(version, what):
    """Skip reason for a call NumPy accepts only before ``version`` (else None)."""
    if _NUMPY >= version:
        return f"{what} is NumPy < {version} (this is NumPy {np.__version__})"
    return None


def _cross_2d_gone():
    """Skip reason where NumPy no longer takes 2-vectors in np.cross (else None)."""
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.cross(np.ones(2), np.ones(2))
    except ValueError:
        return f"np.cross of 2-vectors was removed (this is NumPy {np.__version__})"
    return None


_NO_2D_CROSS = _cross_2d_gone()


class Case:
    def __init__(self, primal, args, kwargs=None, wrt=None, id=None, none=(), rtol=1e-5,
                 eps=1e-6, skip=None):
        self.primal, self.make, self.kwargs = primal, args, kwargs or {}
        self.wrt, self.none, self.rtol, self.eps = wrt, none, rtol, eps
        self.skip = skip    # a reason: this NumPy does not accept the call
        name = getattr(primal, "__qualname__", None) or getattr(primal, "__name__", str(primal))
        mod = getattr(primal, "__module__", "") or ""
        name = ("linalg." + name) if "linalg" in mod else name
        self.id = name + (f"-{id}" if id else "")


def check(case, seed=0):
    rng = np.random.default_rng(seed)
    args = list(case.make(rng))
    kwargs = case.kwargs
    z = call(case.primal, args, kwargs)
    dz = _cotangent(z, rng, case.none)
    got = vjp(case.primal, args, kwargs, dz)
    rule = lookup(case.primal)
    wrt = case.wrt if case.wrt is not None else _default_wrt(args)
    assert wrt, "a case must check at least one argument"
    for w in wrt:
        i, j = (w, None) if isinstance(w, int) else w
        name, k = _where(rule, len(args), kwargs, i)
        assert name in got, f"rule assigns no adjoint to {name!r}"
        g = got[name]
        if k is not None:
            g = g[k]
        if j is not None:
            g = g[j]
        leaf = args[i] if j is None else args[i][j]

        def f(value, i=i, j=j):
            a = list(args)
            if j is None:
                a[i] = value
            else:
                seq = list(a[i])
                seq[j] = value
                a[i] = tuple(seq) if isinstance(a[i], tuple) else seq
            return _total(call(case.primal, a, kwargs), dz)

        if np.iscomplexobj(leaf):   # the adjoint is dL/d(re) - 1j dL/d(im)
            re, im = np.ascontiguousarray(np.real(leaf)), np.ascontiguousarray(np.imag(leaf))
            want = (numeric_grad(lambda v: f(v + 1j * im), [re], 0, eps=case.eps)
                    - 1j * numeric_grad(lambda v: f(re + 1j * v), [im], 0, eps=case.eps))
        else:
            want = numeric_grad(f, [leaf], 0, eps=case.eps)
        assert np.shape(g) == np.shape(leaf), (
            f"{name}: adjoint shape {np.shape(g)} != argument shape {np.shape(leaf)}")
        np.testing.assert_allclose(g, want, rtol=case.rtol, atol=1e-6,
                                   err_msg=f"adjoint of {name} (argument {w})")


# ----------------------------------------------------------- input makers --

def R(*shape):
    return lambda rng: rng.standard_normal(shape)


def P(*shape, lo=0.5, hi=2.0):
    return lambda rng: rng.uniform(lo, hi, shape)


def A(*makers):
    """Arguments from makers (callables of rng) and constants."""
    return lambda rng: [m(rng) if callable(m) else m for m in makers]


def SPD(n, batch=()):
    def make(rng):
        x = rng.standard_normal(batch + (n, n))
        return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    return make


def WELL(n, batch=()):
    return lambda rng: rng.standard_normal(batch + (n, n)) + 3 * np.eye(n)


nd = np.ndarray
L = np.linalg


def U(*s):
    return P(*s, lo=-0.9, hi=0.9)


def BIG(*s):
    return P(*s, lo=1.2, hi=3.0)


UNARY = [
    (np.exp, R(3, 2)), (np.exp2, R(4)), (np.expm1, R(4)), (np.log, P(3, 2)),
    (np.log2, P(4)), (np.log10, P(4)), (np.log1p, P(4)), (np.sqrt, P(3, 2)),
    (np.cbrt, P(4)), (np.square, R(4)), (np.reciprocal, P(4)), (np.negative, R(4)),
    (np.positive, R(4)), (np.abs, R(5)), (np.fabs, R(5)), (np.sign, R(5)),
    (np.floor, R(5)), (np.ceil, R(5)), (np.rint, R(5)), (np.trunc, R(5)), (np.fix, R(5)),
    (np.round, R(5)), (np.sin, R(4)), (np.cos, R(4)), (np.tan, U(4)), (np.arcsin, U(4)),
    (np.arccos, U(4)), (np.arctan, R(4)), (np.sinh, R(4)), (np.cosh, R(4)), (np.tanh, R(3, 2)),
    (np.arcsinh, R(4)), (np.arccosh, BIG(4)), (np.arctanh, U(4)), (np.sinc, R(5)),
    (np.deg2rad, R(4)), (np.radians, R(4)), (np.rad2deg, R(4)), (np.degrees, R(4)),
]

BINARY = [np.add, np.subtract, np.multiply, np.divide, np.maximum, np.minimum, np.fmax,
          np.fmin, np.arctan2, np.hypot, np.logaddexp, np.logaddexp2, np.power,
          np.float_power, np.remainder, np.fmod]

_POS = {np.divide, np.power, np.float_power, np.remainder, np.fmod}


def _binary_cases():
    out = []
    for f in BINARY:
        m, c = (P, 1.2) if f in _POS else (R, 0.3)
        out += [
            Case(f, A(m(3, 4), m(3, 4)), id="same"),
            Case(f, A(m(3, 4), m(4)), id="bcast-row"),
            Case(f, A(m(3, 1), m(1, 4)), id="bcast-outer"),
            Case(f, A(m(2, 3), c), id="scalar"),
            Case(f, A(c, m(2, 3)), id="scalar-left"),
        ]
    return out


REDUCE_AXES = [dict(), dict(axis=0), dict(axis=-1), dict(axis=(0, 2)), dict(axis=1, keepdims=True),
               dict(axis=None, keepdims=True), dict(axis=(-1, 0), keepdims=True)]


def _reduction_cases():
    out = []
    for f in [np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.var, np.std,
              np.nansum, np.nanmean, nd.sum, nd.mean, nd.prod, nd.max, nd.min, nd.var, nd.std]:
        for kw in REDUCE_AXES:
            out.append(Case(f, A(P(2, 3, 4) if f in (np.prod, nd.prod) else R(2, 3, 4)), kw,
                            id=",".join(f"{k}={v}" for k, v in kw.items()) or "all"))
    for f in [np.var, np.std, nd.var, nd.std]:
        out.append(Case(f, A(R(3, 4)), dict(axis=1, ddof=1), id="ddof"))
    out += [
        Case(np.sum, A(R(3, 4)), dict(dtype=np.float64), id="dtype"),
        Case(np.prod, A(lambda r: np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]])), dict(axis=1),
             id="zeros"),
        Case(np.prod, A(lambda r: np.array([1.5, 0.0, 3.0, -2.0])), id="one-zero"),
        Case(np.max, A(lambda r: np.array([1.0, 3.0, 3.0, 2.0])), id="tie"),
        Case(np.min, A(lambda r: np.array([[1.0, 1.0], [0.5, 2.0]])), dict(axis=1), id="tie-axis"),
        Case(np.maximum, A(lambda r: np.array([1.0, 2.0, 3.0]),
                           lambda r: np.array([1.0, 3.0, 2.0])), id="tie"),
        Case(np.nansum, A(lambda r: np.array([[1.0, np.nan], [2.0, 3.0]])), dict(axis=0),
             id="nan"),
        Case(np.nanmean, A(lambda r: np.array([[1.0, np.nan], [2.0, 3.0]])), dict(axis=1),
             id="nan"),
        Case(np.sum, A(2.5), id="py-float"),
        Case(np.max, A(lambda r: np.array([[0.5, 3.0], [1.0, 0.2]])), dict(axis=1, initial=2.0),
             id="initial"),
    ]
    for f in [np.cumsum, np.cumprod, nd.cumsum, nd.cumprod]:
        m = P if f in (np.cumprod, nd.cumprod) else R
        out += [Case(f, A(m(3, 4)), id="flat"), Case(f, A(m(3, 4)), dict(axis=0), id="axis0"),
                Case(f, A(m(2, 3, 4)), dict(axis=-1), id="axis-1")]

    def zeros(r):
        return np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, 2.0]])

    out += [Case(np.cumprod, A(zeros), dict(axis=1), id="zeros"),
            Case(np.cumprod, A(zeros), id="zeros-flat"),
            Case(np.sort, A(R(5)), id="1d"), Case(np.sort, A(R(3, 4)), dict(axis=0), id="axis0"),
            Case(np.sort, A(R(3, 4)), dict(axis=None), id="flat")]
    return out


def _linalg_cases():
    return [
        Case(np.matmul, A(R(3, 4), R(4, 2)), id="2d"),
        Case(np.matmul, A(R(4), R(4, 2)), id="vec-mat"),
        Case(np.matmul, A(R(3, 4), R(4)), id="mat-vec"),
        Case(np.matmul, A(R(4), R(4)), id="vec-vec"),
        Case(np.matmul, A(R(2, 3, 4), R(4, 2)), id="batch"),
        Case(np.matmul, A(R(2, 1, 3, 4), R(5, 4, 2)), id="batch-bcast"),
        Case(np.dot, A(R(3, 4), R(4, 2)), id="2d"),
        Case(np.dot, A(R(4), R(4)), id="1d"),
        Case(np.dot, A(R(3, 4), R(4)), id="mat-vec"),
        Case(np.dot, A(R(3, 4), 2.0), id="scalar"),
        Case(np.dot, A(R(2, 3, 4), R(5, 4, 2)), id="nd"),
        Case(np.dot, A(R(2, 3, 4), R(4)), id="nd-vec"),
        Case(nd.dot, A(R(3, 4), R(4, 2)), id="method"),
        Case(np.outer, A(R(3), R(4)), id="1d"),
        Case(np.outer, A(R(2, 2), R(3)), id="ravel"),
        Case(np.inner, A(R(3), R(3)), id="1d"),
        Case(np.inner, A(R(2, 3), R(4, 3)), id="2d"),
        Case(np.inner, A(R(2, 5, 3), R(3)), id="nd"),
        Case(np.tensordot, A(R(2, 3, 4), R(3, 4, 5)), id="axes2"),
        Case(np.tensordot, A(R(2, 3, 4), R(4, 3, 5)), dict(axes=([1, 2], [1, 0])), id="pairs"),
        Case(np.tensordot, A(R(3, 4), R(2, 3)), dict(axes=(0, 1)), id="ints"),
        Case(np.tensordot, A(R(3), R(4)), dict(axes=0), id="outer"),
        Case(np.einsum, A("ij,jk->ik", R(2, 3), R(3, 4)), wrt=[1, 2], id="matmul"),
        Case(np.einsum, A("ij,ij->", R(2, 3), R(2, 3)), wrt=[1, 2], id="full"),
        Case(np.einsum, A("ii->", R(3, 3)), wrt=[1], id="trace"),
        Case(np.einsum, A("ii->i", R(3, 3)), wrt=[1], id="diag"),
        Case(np.einsum, A("ij->j", R(3, 4)), wrt=[1], id="sum"),
        Case(np.einsum, A("ij,k->ijk", R(2, 3), R(4)), wrt=[1, 2], id="outer"),
        Case(np.einsum, A("ij,jk", R(2, 3), R(3, 4)), wrt=[1, 2], id="implicit"),
        Case(np.einsum, A("...ij,...jk->...ik", R(5, 2, 3), R(5, 3, 4)), wrt=[1, 2], id="ellipsis"),
        Case(np.einsum, A("bij,j->bi", R(2, 3, 4), R(4)), wrt=[1, 2], id="batch"),
        Case(np.einsum, A("i,i,i->", R(3), R(3), R(3)), wrt=[1, 2, 3], id="three"),
        # API fuzz seed 306: a Python float operand crashed (a 0-d einsum is no view)
        Case(np.einsum, A("...,...->...", R(2, 3), 1.7), wrt=[1, 2], id="scalar-operand"),
        Case(np.einsum, A("i,->i", R(3), 0.6), wrt=[1, 2], id="scalar-operand-explicit"),
        Case(np.trace, A(R(3, 3)), id="2d"),
        Case(np.trace, A(R(3, 4)), dict(offset=1), id="offset"),
        Case(np.trace, A(R(2, 3, 3)), dict(axis1=1, axis2=2), id="axes"),
        Case(np.trace, A(R(3, 2, 3)), dict(axis1=-1, axis2=0, offset=-1), id="neg"),
        Case(nd.trace, A(R(3, 3)), id="method"),
        Case(L.inv, A(WELL(3)), id="2d"),
        Case(L.inv, A(WELL(3, (2,))), id="batch"),
        Case(L.det, A(WELL(3)), id="2d"),
        Case(L.det, A(WELL(2, (3,))), id="batch"),
        Case(L.slogdet, A(WELL(3)), id="2d"),
        Case(L.slogdet, A(WELL(3, (2,))), none=(0,), id="batch-none"),
        Case(L.solve, A(WELL(3), R(3)), id="vec"),
        Case(L.solve, A(WELL(3), R(3, 2)), id="mat"),
        Case(L.solve, A(WELL(3, (2,)), R(2, 3, 4)), id="batch"),
        Case(L.solve, A(WELL(3, (2,)), R(3)), id="batch-vec",
             skip=numpy_since("2.0.0", "solve(a, b) with a 1-D b against a stack of a")),
        Case(L.solve, A(WELL(3, (2,)), R(2, 3)), id="batch-vec-np1",
             skip=numpy_before("2.0.0", "solve(a, b) taking b of a.ndim - 1 dims as vectors")),
        Case(L.norm, A(R(5)), id="vec"),
        Case(L.norm, A(R(3, 4)), id="fro"),
        Case(L.norm, A(R(2, 3, 4)), id="flat"),
        Case(L.norm, A(R(3, 4)), dict(axis=1), id="axis"),
        Case(L.norm, A(R(3, 4)), dict(axis=0, keepdims=True), id="keepdims"),
        Case(L.norm, A(R(5)), dict(ord=1), id="ord1"),
        Case(L.norm, A(R(5)), dict(ord=3), id="ord3"),
        Case(L.norm, A(R(5)), dict(ord=np.inf), id="inf"),
        Case(L.norm, A(R(5)), dict(ord=-np.inf), id="-inf"),
        Case(L.norm, A(R(3, 4)), dict(ord="fro"), id="fro-explicit"),
        Case(L.norm, A(R(3, 4)), dict(ord="nuc"), id="nuc"),
        Case(L.norm, A(R(3, 4)), dict(ord=2), id="spectral"),
        Case(L.norm, A(R(3, 4)), dict(ord=-2), id="smallest"),
        Case(L.norm, A(R(3, 4)), dict(ord=1), id="mat1"),
        Case(L.norm, A(R(3, 4)), dict(ord=np.inf), id="matinf"),
        Case(L.norm, A(R(2, 3, 4)), dict(ord=2, axis=(2, 0)), id="mat-axes"),
        Case(L.norm, A(R(2, 3, 4)), dict(ord="nuc", axis=(1, 2), keepdims=True), id="mat-keep"),
        Case(L.cholesky, A(SPD(3)), id="2d"),
        Case(L.cholesky, A(SPD(3, (2,))), id="batch"),
        Case(L.cholesky, A(SPD(3)), dict(upper=True), id="upper",
             skip=numpy_since("2.0.0", "cholesky(upper=)")),
        Case(L.eigh, A(SPD(3)), id="2d"),
        Case(L.eigh, A(SPD(3)), dict(UPLO="U"), id="upper"),
        Case(L.eigh, A(SPD(3, (2,))), id="batch"),
        Case(L.eigh, A(SPD(4)), none=(1,), id="values-only"),
        Case(L.qr, A(R(4, 3)), id="tall"),
        Case(L.qr, A(R(3, 3)), id="square"),
        Case(L.qr, A(R(2, 4, 3)), id="batch"),
        Case(L.qr, A(R(4, 3)), none=(0,), id="r-only"),
    ]


def _shape_cases():
    return [
        Case(np.reshape, A(R(2, 3), (3, 2)), id="2d"),
        Case(np.reshape, A(R(2, 3), -1), id="flat"),
        Case(np.reshape, A(R(2, 3), (3, 2)), dict(order="F"), id="F-positional"),
        Case(np.reshape, A(R(2, 3)), dict(shape=(3, 2), order="F"), id="F",
             skip=numpy_since("2.1.0", "reshape(shape=)")),
        Case(np.reshape, A(R(2, 3)), dict(newshape=(3, 2), order="F"), id="F-newshape",
             skip=numpy_before("2.1.0", "reshape(newshape=) (deprecated in 2.1)")),
        Case(nd.reshape, A(R(2, 3), 3, 2), id="star"),
        Case(nd.reshape, A(R(2, 3), (6,)), id="tuple"),
        Case(nd.reshape, A(R(2, 3), -1), dict(order="F"), id="F"),
        Case(np.transpose, A(R(2, 3)), id="2d"),
        Case(np.transpose, A(R(2, 3, 4), (1, 2, 0)), id="perm"),
        Case(np.transpose, A(R(2, 3, 4)), dict(axes=(-1, 0, 1)), id="neg"),
        Case(nd.transpose, A(R(2, 3, 4)), id="none"),
        Case(nd.transpose, A(R(2, 3, 4), 2, 0, 1), id="star"),
        Case(nd.transpose, A(R(2, 3, 4), (1, 2, 0)), id="tuple"),
        Case(nd.T, A(R(2, 3)), id="2d"),
        Case(nd.T, A(R(2, 3, 4)), id="3d"),
        Case(np.ravel, A(R(2, 3))), Case(np.ravel, A(R(2, 3)), dict(order="F"), id="F"),
        Case(nd.ravel, A(R(2, 3))), Case(nd.flatten, A(R(2, 3))),
        Case(np.swapaxes, A(R(2, 3, 4), 0, -1)), Case(nd.swapaxes, A(R(2, 3, 4), 1, 2)),
        Case(np.moveaxis, A(R(2, 3, 4), 0, -1), id="int"),
        Case(np.moveaxis, A(R(2, 3, 4), (0, 1), (2, 0)), id="tuple"),
        Case(np.expand_dims, A(R(2, 3), 1), id="int"),
        Case(np.expand_dims, A(R(2, 3), (0, -1)), id="tuple"),
        Case(np.squeeze, A(R(2, 1, 3, 1)), id="all"),
        Case(np.squeeze, A(R(2, 1, 3, 1)), dict(axis=1), id="axis"),
        Case(nd.squeeze, A(R(1, 3))),
        Case(np.broadcast_to, A(R(3), (2, 3)), id="row"),
        Case(np.broadcast_to, A(R(3, 1), (2, 3, 4)), id="inner"),
        Case(np.broadcast_to, A(2.0, (2, 2)), id="scalar"),
        Case(np.concatenate, A(lambda r: [r.standard_normal((2, 3)), r.standard_normal((1, 3))]),
             id="axis0"),
        Case(np.concatenate, A(lambda r: [r.standard_normal((2, 3)), r.standard_normal((2, 1)),
                                          r.standard_normal((2, 2))], -1), id="axis-1"),
        Case(np.concatenate, A(lambda r: [r.standard_normal((2, 2)), r.standard_normal(3)]),
             dict(axis=None), id="none"),
        Case(np.append, A(R(2, 3), R(4)), id="flat"),
        Case(np.append, A(R(2, 3), R(1, 3)), dict(axis=0), id="axis0"),
        Case(np.append, A(R(3), 2.0), id="scalar"),
        Case(np.stack, A(lambda r: [r.standard_normal((2, 3)), r.standard_normal((2, 3))]), id="0"),
        Case(np.stack, A(lambda r: [r.standard_normal((2, 3)) for _ in range(3)]), dict(axis=-1),
             id="-1"),
        Case(np.hstack, A(lambda r: [r.standard_normal(2), r.standard_normal(3)]), id="1d"),
        Case(np.hstack, A(lambda r: [r.standard_normal((2, 1)), r.standard_normal((2, 3))]),
             id="2d"),
        Case(np.vstack, A(lambda r: [r.standard_normal(3), r.standard_normal((2, 3))]), id="mixed"),
        Case(np.vstack, A(lambda r: [r.standard_normal((2, 2, 2)), r.standard_normal((1, 2, 2))]),
             id="3d"),
        Case(np.split, A(R(6, 2), 3), id="sections"),
        Case(np.split, A(R(2, 5), [1, 3]), dict(axis=1), id="indices"),
        Case(np.split, A(R(6), 3), none=(1,), id="none"),
        Case(np.array_split, A(R(7, 2), 3), id="uneven"),
        Case(np.tile, A(R(2, 3), 2), id="int"),
        Case(np.tile, A(R(2, 3), (2, 1, 3)), id="more-reps"),
        Case(np.tile, A(R(2, 3, 2), (2, 1)), id="fewer-reps"),
        Case(np.repeat, A(R(2, 3), 2), id="flat"),
        Case(np.repeat, A(R(2, 3), [1, 0, 2]), dict(axis=1), id="list"),
        Case(np.repeat, A(R(2, 3), 3), dict(axis=-2), id="neg"),
        Case(nd.repeat, A(R(3), 2)),
        Case(np.flip, A(R(2, 3))), Case(np.flip, A(R(2, 3, 4)), dict(axis=(0, 2)), id="axes"),
        Case(np.fliplr, A(R(2, 3))), Case(np.flipud, A(R(2, 3))),
        Case(np.roll, A(R(5), 2), id="flat"),
        Case(np.roll, A(R(2, 3), 1), dict(axis=1), id="axis"),
        Case(np.roll, A(R(2, 3), (1, -1)), dict(axis=(0, 1)), id="tuple"),
        Case(np.roll, A(R(2, 3), 4), id="flat-2d"),
        Case(np.pad, A(R(2, 3), 1), id="int"),
        Case(np.pad, A(R(2, 3), ((1, 0), (0, 2))), dict(constant_values=3.0), id="pairs"),
        Case(np.pad, A(R(4), 2), dict(mode="reflect"), id="reflect"),
        Case(np.pad, A(R(2, 3), ((1, 2), (2, 1))), dict(mode="edge"), id="edge"),
        Case(np.pad, A(R(2, 3), 2), dict(mode="wrap"), id="wrap"),
        Case(np.pad, A(R(3, 2), ((2, 1), (1, 1))), dict(mode="symmetric"), id="symmetric"),
        Case(np.diag, A(R(3)), id="make"), Case(np.diag, A(R(3)), dict(k=-1), id="make-k"),
        Case(np.diag, A(R(3, 4)), id="read"), Case(np.diag, A(R(3, 4)), dict(k=2), id="read-k"),
        Case(np.diagonal, A(R(3, 3))),
        Case(np.diagonal, A(R(2, 3, 4)), dict(offset=-1, axis1=2, axis2=1), id="axes"),
        Case(nd.diagonal, A(R(3, 4))),
        Case(np.triu, A(R(3, 4))), Case(np.tril, A(R(3, 4)), dict(k=-1), id="k"),
        Case(np.triu, A(R(2, 3, 3)), dict(k=1), id="batch"),
        Case(np.take, A(R(2, 3), [0, 4, 4, -1]), id="flat"),
        Case(np.take, A(R(2, 3), np.array([[0, 2], [2, 2]])), dict(axis=1), id="axis"),
        Case(np.take, A(R(3, 2), 1), dict(axis=0), id="scalar-index"),
        Case(np.take, A(R(4), [5, -7]), dict(mode="wrap"), id="wrap"),
        Case(np.take, A(R(4), [9, -2]), dict(mode="clip"), id="clip"),
        Case(nd.take, A(R(2, 3), [1, 1]), dict(axis=0)),
        Case(np.atleast_1d, A(2.0), id="scalar"), Case(np.atleast_1d, A(R(2), R(2, 3)), id="many"),
        Case(np.atleast_2d, A(R(3)), id="1d"), Case(np.atleast_3d, A(R(3, 2)), id="2d"),
    ]


def _misc_cases():
    return [
        # filled and spaced arrays: the fill value and the end points carry gradient
        Case(np.full, A((3, 2), 0.7), id="scalar"),
        Case(np.full, A((4, 3), R(3)), id="row"),
        Case(np.full_like, A(R(2, 3), 0.4), wrt=[1], id="scalar"),
        Case(np.full_like, A(R(2, 3), R(3)), wrt=[1], id="row"),
        Case(np.linspace, A(0.3, 1.7, 5), id="scalars"),
        Case(np.linspace, A(0.3, 1.7, 1), id="one"),
        Case(np.linspace, A(R(2), R(3, 2), 4), dict(endpoint=False, axis=1), id="arrays-axis"),
        Case(np.linspace, A(0.3, 1.7, 5), dict(retstep=True), id="retstep"),
        # arange's items start + i * step: the length is constant near these values
        # (stop only sets the length: no adjoint)
        Case(np.arange, A(0.3, 2.0, 0.4), wrt=[0, 2], id="start-stop-step"),
        Case(np.arange, A(0.25, 3.1), wrt=[0], id="start-stop"),
        Case(np.logspace, A(0.3, 0.9, 4), id="scalars"),
        Case(np.logspace, A(R(2), 0.5, 3, True, 2.5), id="base"),
        Case(np.where, A(lambda r: r.standard_normal((3, 4)) > 0, R(3, 4), R(3, 4)), id="same"),
        Case(np.where, A(lambda r: r.standard_normal((3, 4)) > 0, R(4), R(3, 1)), id="bcast"),
        Case(np.where, A(lambda r: r.standard_normal((3, 4)) > 0, R(3, 4), 0.0), id="scalar"),
        Case(np.clip, A(R(3, 4), -0.5, 0.5), id="scalars"),
        Case(np.clip, A(R(3, 4), R(4), P(3, 1, lo=0.1, hi=0.6)), id="arrays"),
        Case(np.clip, A(R(3, 4), None, 0.2), id="upper-only"),
        Case(np.clip, A(R(3, 4)), dict(min=-0.3, max=0.3), id="keywords",
             skip=numpy_since("2.1.0", "clip(min=, max=)")),
        Case(np.clip, A(R(3, 4)), dict(a_min=-0.3, a_max=R(4)(np.random.default_rng(2))),
             id="a_min-a_max-keywords"),
        Case(np.clip, A(R(4), 1.0, -1.0), id="crossed"),
        Case(nd.clip, A(R(3, 4), -0.5, 0.5), id="method"),
        Case(nd.clip, A(R(3, 4)), dict(max=R(4)(np.random.default_rng(1))), id="method-kw"),
        Case(np.float64, A(R(3)), id="array"), Case(np.float64, A(1.5), id="py-float"),
        Case(np.float32, A(R(3)), rtol=1e-3, eps=1e-2, id="array"),
        Case(np.float16, A(R(3)), rtol=2e-2, eps=1e-1, id="array"),
        Case(np.longdouble, A(R(3)), id="array"),
        Case(np.asarray, A(R(3))), Case(np.asarray, A(1.5), id="float"),
        Case(np.asarray, A(R(2, 2)), dict(dtype=np.float64), id="dtype"),
        Case(np.asanyarray, A(R(3))), Case(np.ascontiguousarray, A(R(3, 2))),
        # np.asarray that leaves a Dask or Array API array in its library (its helpers')
        Case(xp.asarray, A(R(3))), Case(xp.asarray, A(R(2, 2)), dict(dtype=np.float64),
                                        id="xp-dtype"),
        Case(np.asfortranarray, A(R(3, 2))), Case(np.around, A(R(4))),
        Case(np.array, A(R(3))), Case(np.array, A(R(3)), dict(ndmin=3), id="ndmin"),
        Case(np.array, A(lambda r: [r.standard_normal(3), r.standard_normal(3)]), id="list"),
        Case(np.array, A(lambda r: [1.5, r.standard_normal()]), wrt=[(0, 0)], id="list-floats"),
        Case(np.copy, A(R(3))), Case(nd.copy, A(R(3))),
        Case(nd.astype, A(R(3), lambda r: np.float64)),
        Case(nd.astype, A(R(3), lambda r: np.float32), rtol=1e-3, eps=1e-2, id="f32"),
    ]


def C(*shape):
    return lambda rng: rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def EIG(n):
    """A non-symmetric matrix with distinct real eigenvalues 1..n."""
    def make(rng):
        p = rng.standard_normal((n, n)) + 2 * np.eye(n)
        return p @ np.diag(np.arange(1.0, n + 1)) @ np.linalg.inv(p)
    return make


def HALF(n, batch=()):
    """A half spectrum (``rfft`` of a length-``n`` signal) with noise everywhere."""
    return lambda rng: (np.fft.rfft(rng.standard_normal(batch + (n,)))
                        + 0.3j * rng.standard_normal(batch + (n // 2 + 1,)))


def _complex_cases():
    return [
        Case(np.real, A(C(3, 2)), id="complex"), Case(np.real, A(R(3)), id="real"),
        Case(np.imag, A(C(3, 2)), id="complex"),
        Case(np.conjugate, A(C(4)), id="complex"), Case(np.conj, A(R(4)), id="real"),
        Case(np.angle, A(C(4)), id="complex"),
        Case(np.abs, A(C(2, 3)), id="complex"),
        Case(np.angle, A(C(2, 3)), dict(deg=True), id="deg"),
        Case(np.real_if_close, A(R(3)), id="real"),
        Case(np.real_if_close, A(lambda r: r.standard_normal(3) + 1e-16j), id="close"),
        Case(np.real_if_close, A(C(3)), id="complex"),
    ]


def _more_cases():
    def part(r):
        return r.permutation(12).reshape(3, 4) + 0.1 * r.uniform(size=(3, 4))

    return [
        Case(np.cross, A(R(3), R(3)), id="3"),
        Case(np.cross, A(R(4, 3), R(3)), id="bcast"),
        Case(np.cross, A(R(3, 2), R(2, 1, 3)), dict(axisa=0), id="axisa"),
        Case(np.cross, A(R(3, 4), R(3, 4)), dict(axis=0), id="axis"),
        Case(np.cross, A(R(2, 3), R(3, 2)), dict(axisb=0, axisc=0), id="axisb-axisc"),
        Case(np.cross, A(R(4, 2), R(4, 2)), id="2x2", skip=_NO_2D_CROSS),
        Case(np.cross, A(R(2), R(3)), id="2x3", skip=_NO_2D_CROSS),
        Case(np.diff, A(R(6)), id="1d"),
        Case(np.diff, A(R(4, 5)), dict(n=2, axis=0), id="n2-axis0"),
        Case(np.diff, A(R(3, 5)), dict(n=3), id="n3"),
        Case(np.diff, A(R(3, 4), 1, -1, R(3, 2), R(3, 1)), id="prepend-append"),
        Case(np.diff, A(R(3, 4)), dict(prepend=0.5, append=R(3, 2)(np.random.default_rng(3))),
             id="scalar-prepend"),
        Case(np.diff, A(R(3, 4), 1, 0, 1.5, 2.0), wrt=[0, 3, 4], id="scalars"),
        Case(np.hsplit, A(R(3, 4), 2), id="2d"), Case(np.hsplit, A(R(6), [1, 4]), id="1d"),
        Case(np.vsplit, A(R(4, 3), [1]), none=(0,), id="none"),
        Case(np.dsplit, A(R(2, 2, 6), 3), id="3d"),
        Case(np.kron, A(R(2, 3), R(3, 2)), id="2d"),
        Case(np.kron, A(R(3), R(2)), id="1d"),
        Case(np.kron, A(R(2, 2), R(3)), id="mixed"),
        Case(np.kron, A(R(2, 1, 2), R(2, 3)), id="3d-2d"),
        Case(np.kron, A(2.0, R(2, 2)), id="scalar"),
        Case(np.nan_to_num, A(lambda r: np.array([1.0, np.nan, -np.inf, 2.0, np.inf])),
             dict(posinf=5.0, neginf=-5.0), id="nonfinite"),
        Case(np.nan_to_num, A(R(2, 3)), dict(nan=1.0), id="finite"),
        Case(np.partition, A(lambda r: r.permutation(7) + 0.1 * r.uniform(size=7), 3), id="1d"),
        Case(np.partition, A(part, 1), dict(axis=0), id="axis0"),
        Case(np.partition, A(part, (0, 2)), id="kth-tuple"),
        Case(np.partition, A(part, 5), dict(axis=None), id="flat"),
        Case(np.rollaxis, A(R(2, 3, 4), 2), id="back"),
        Case(np.rollaxis, A(R(2, 3, 4), 0, 3), id="forward"),
        Case(np.rollaxis, A(R(2, 3, 4), -1, 1), id="neg-axis"),
        Case(np.rollaxis, A(R(2, 3, 4, 5), 1, -1), id="neg-start"),
        Case(np.rot90, A(R(2, 3)), id="1"),
        Case(np.rot90, A(R(2, 3, 4), 3, (2, 0)), id="k3-axes"),
        Case(np.rot90, A(R(2, 3)), dict(k=-2), id="k-2"),
        Case(np.gradient, A(R(6)), id="1d"),
        Case(np.gradient, A(R(4, 5)), id="2d"),
        Case(np.gradient, A(R(4, 5)), dict(axis=1), id="axis"),
        Case(np.gradient, A(R(4, 5)), dict(axis=(1, 0)), none=(0,), id="axes-none"),
        Case(np.gradient, A(R(5), 0.5), wrt=[0], id="spacing"),
        Case(np.gradient, A(R(4, 5), 2.0, lambda r: np.cumsum(r.uniform(0.5, 1.5, 5))),
             wrt=[0], id="coords"),
        Case(np.gradient, A(R(6, 3)), dict(edge_order=2), id="edge2"),
        Case(L.pinv, A(R(4, 3)), id="tall"),
        Case(L.pinv, A(R(3, 5)), id="wide"),
        Case(L.pinv, A(WELL(3, (2,))), id="batch"),
        Case(L.pinv, A(SPD(3)), dict(hermitian=True), id="hermitian"),
        Case(L.pinv, A(R(3, 3)), dict(hermitian=True), id="hermitian-lower"),
        Case(L.svd, A(R(4, 3)), dict(full_matrices=False), id="tall"),
        Case(L.svd, A(R(3, 5)), dict(full_matrices=False), id="wide"),
        Case(L.svd, A(R(3, 3)), id="square-full"),
        Case(L.svd, A(R(2, 4, 3)), dict(full_matrices=False), id="batch"),
        Case(L.svd, A(R(4, 3)), dict(full_matrices=False), none=(0, 2), id="s-only"),
        Case(L.svd, A(R(3, 4)), dict(compute_uv=False), id="values"),
        Case(L.svd, A(SPD(3)), dict(hermitian=True), id="hermitian"),
        Case(L.svd, A(R(3, 3)), dict(compute_uv=False, hermitian=True), id="hermitian-values"),
        Case(L.svd, A(R(2, 4, 3)), dict(compute_uv=False), id="values-batch"),
        Case(L.eig, A(EIG(3)), id="2d"),
        Case(L.eig, A(EIG(4)), none=(1,), id="values-only"),
        Case(L.eig, A(EIG(3)), none=(0,), id="vectors-only"),
    ]


F = np.fft


def _fft_cases():
    out = []
    for f, g in [(F.fft, F.ifft)]:
        for h in (f, g):
            out += [Case(h, A(R(6)), id="real"), Case(h, A(C(5)), id="complex"),
                    Case(h, A(C(3, 4)), dict(axis=0), id="axis0"),
                    Case(h, A(C(6)), dict(n=4), id="n-cut"),
                    Case(h, A(C(2, 4)), dict(n=7, norm="ortho"), id="n-pad-ortho"),
                    Case(h, A(C(4)), dict(norm="forward"), id="forward")]
    for h in (F.fft2, F.ifft2, F.fftn, F.ifftn):
        out += [Case(h, A(C(2, 3, 4)), id="complex"), Case(h, A(R(3, 4)), id="real"),
                Case(h, A(C(3, 4, 2)), dict(s=(2, 5), axes=(0, 1)), id="s-axes"),
                Case(h, A(C(3, 4)), dict(norm="ortho"), id="ortho")]
    out += [Case(F.fftn, A(C(2, 3, 4)), dict(s=(5, 2), axes=(2, -2)), id="s-axes-order"),
            Case(F.ifftn, A(C(2, 3, 4)), dict(axes=(2, 0), norm="forward"), id="axes")]
    for h in (F.rfft,):
        out += [Case(h, A(R(6)), id="even"), Case(h, A(R(5)), id="odd"),
                Case(h, A(R(4, 3)), dict(axis=0), id="axis0"),
                Case(h, A(R(6)), dict(n=4), id="n-cut"),
                Case(h, A(R(5)), dict(n=8, norm="ortho"), id="n-pad-ortho"),
                Case(h, A(R(6)), dict(norm="forward"), id="forward")]
    for h in (F.rfft2, F.rfftn):
        out += [Case(h, A(R(3, 4)), id="2d"), Case(h, A(R(2, 3, 5)), id="3d-odd"),
                Case(h, A(R(3, 4, 2)), dict(s=(2, 6), axes=(0, 1)), id="s-axes"),
                Case(h, A(R(4, 4)), dict(norm="ortho"), id="ortho")]
    out += [Case(F.irfft, A(HALF(6)), id="even"), Case(F.irfft, A(HALF(5)), dict(n=5), id="odd"),
            Case(F.irfft, A(HALF(6)), dict(n=4), id="n-cut"),
            Case(F.irfft, A(HALF(4)), dict(n=9, norm="ortho"), id="n-pad-ortho"),
            Case(F.irfft, A(HALF(6)), dict(norm="forward"), id="forward"),
            Case(F.irfft, A(lambda r: np.moveaxis(HALF(6, (3,))(r), -1, 0).copy()), dict(axis=0),
                 id="axis0"),
            Case(F.irfft, A(R(4)), id="real-input"),
            Case(F.irfft2, A(C(3, 4)), id="2d"),
            Case(F.irfft2, A(C(2, 3, 4)), dict(s=(3, 5)), id="s-odd"),
            Case(F.irfftn, A(C(2, 3, 4)), id="3d"),
            Case(F.irfftn, A(C(3, 4, 2)), dict(s=(4, 4), axes=(0, 1), norm="ortho"), id="s-axes"),
            Case(F.irfftn, A(C(3, 4)), dict(norm="forward"), id="forward"),
            Case(F.fftshift, A(C(5))), Case(F.fftshift, A(R(4, 5)), dict(axes=1), id="axes"),
            Case(F.ifftshift, A(C(5))), Case(F.ifftshift, A(R(4, 5)), dict(axes=(0,)), id="axes")]
    return out


def _api_fuzz_cases():
    """Rules added for what the API fuzzer (tests/test_api_fuzz.py) found missing."""
    def distinct(*shape):   # no ties (median, ptp, nanmax)
        return lambda r: r.permutation(int(np.prod(shape))).reshape(shape) + 0.1 * r.uniform(
            size=shape)

    def nonzero(*shape):
        return lambda r: r.choice([-1.0, 1.0], shape) * r.uniform(0.3, 1.5, shape)

    out = [
        Case(np.heaviside, A(nonzero(2, 3), R(3)), id="bcast"),
        Case(np.heaviside, A(lambda r: np.array([0.0, 1.0, -2.0]), R(3)), wrt=[1], id="at-0"),
        Case(np.copysign, A(nonzero(2, 3), nonzero(3)), id="bcast"),
        Case(np.vdot, A(R(2, 3), R(6)), id="flat"),
        Case(np.vdot, A(C(3), C(3)), id="complex"),
        Case(np.nanmax, A(distinct(3, 4)), dict(axis=1), id="axis"),
        Case(np.nanmin, A(lambda r: np.array([[1.0, np.nan, -2.0], [0.5, 3.0, np.nan]])),
             dict(axis=0, keepdims=True), id="nan"),
        Case(np.ptp, A(distinct(3, 4)), dict(axis=0), id="axis"),
        Case(np.ptp, A(distinct(3, 4)), id="all"),
        Case(np.median, A(distinct(5)), id="odd"),
        Case(np.median, A(distinct(3, 4)), dict(axis=1), id="even"),
        Case(np.median, A(distinct(2, 3, 4)), dict(axis=(0, 2), keepdims=True), id="axes"),
        Case(np.average, A(R(3, 4)), dict(axis=1), id="plain"),
        Case(np.average, A(R(3, 4), 0, P(3)), id="weights-1d"),
        Case(np.average, A(R(3, 4)), dict(weights=P(3, 4)(np.random.default_rng(1)),
                                          axis=-1, keepdims=True), id="weights-full"),
        Case(np.average, A(R(3, 4), None, P(3, 4)), id="weights-all"),
        Case(np.column_stack, A(lambda r: [r.standard_normal(3), r.standard_normal((3, 2))]),
             wrt=[(0, 0), (0, 1)], id="1d-2d"),
        Case(np.dstack, A(lambda r: [r.standard_normal((2, 3)), r.standard_normal((2, 3, 2))]),
             wrt=[(0, 0), (0, 1)], id="2d-3d"),
        Case(np.dstack, A(lambda r: [r.standard_normal(3), r.standard_normal(3)]),
             wrt=[(0, 0), (0, 1)], id="1d"),
        Case(np.diagflat, A(R(2, 2), -1), id="offset"),
        Case(np.take_along_axis, A(R(3, 4), np.array([[0, 0], [3, 1], [2, -1]]), 1), wrt=[0],
             id="repeats"),
        Case(np.take_along_axis, A(R(5), np.array([4, 0, 4]), None), wrt=[0], id="flat"),
        Case(np.compress, A([True, False, True], R(3, 2)), dict(axis=0), wrt=[1], id="axis"),
        Case(np.compress, A([0, 1, 1], R(2, 3)), wrt=[1], id="flat"),
        Case(np.polyval, A(R(3), R(2, 2)), id="array"),
        Case(np.polyval, A(R(1), R(3)), id="constant"),
        Case(L.cond, A(lambda r: np.eye(3) + 0.3 * r.standard_normal((3, 3))), id="2"),
        Case(L.cond, A(lambda r: np.eye(3) + 0.3 * r.standard_normal((2, 3, 3)), -2),
             id="-2-batch"),
        Case(L.cond, A(R(4, 3)), id="rectangular"),
        Case(L.lstsq, A(R(6, 3), R(6)), dict(rcond=None), id="vector"),
        Case(L.lstsq, A(R(5, 2), R(5, 3)), dict(rcond=None), id="matrix"),
        Case(L.lstsq, A(R(3, 3), R(3)), dict(rcond=None), id="square"),
        Case(np.cov, A(R(3, 5)), id="rows"),
        Case(np.cov, A(R(5, 2)), dict(rowvar=False, ddof=0), id="columns"),
        Case(np.cov, A(R(5)), id="1d"),
        Case(np.cov, A(R(5), R(5)), dict(bias=True), id="y"),
        Case(np.cov, A(R(5, 2), R(5)), dict(rowvar=False), id="columns-y"),
        Case(np.block, A(lambda r: [r.standard_normal(2), r.standard_normal(3)]),
             wrt=[(0, 0), (0, 1)], id="1d"),   # nested blocks: test_real_programs.py
        Case(np.quantile, A(R(7), 0.3), id="scalar"),
        Case(np.quantile, A(R(4, 5), [0.2, 0.9]), dict(axis=1, keepdims=True), id="axis-keep"),
        Case(np.percentile, A(R(3, 4), 75.0), dict(axis=0), id="axis"),
        Case(np.percentile, A(R(2, 3, 4), [10.0, 60.0]), dict(axis=(0, 2)), id="axes"),
        Case(np.resize, A(R(3), (2, 4)), id="repeat"),
        Case(np.resize, A(R(2, 3), (4,)), id="truncate"),
        Case(np.lib.stride_tricks.sliding_window_view, A(R(5), 3), id="1d"),
        Case(np.lib.stride_tricks.sliding_window_view, A(R(4, 5), (2, 3)), id="2d"),
        Case(np.lib.stride_tricks.sliding_window_view, A(R(3, 4), 2), dict(axis=1),
             id="axis"),
        Case(np.delete, A(R(5), [0, 3]), id="flat"),
        Case(np.delete, A(R(3, 4), 1), dict(axis=1), id="axis"),
        Case(np.insert, A(R(4), 1, R()), id="scalar"),
        Case(np.insert, A(R(4), [1, 3], R(2)), id="several"),
        Case(np.insert, A(R(3, 4), 2, R(3)), dict(axis=1), id="column"),
        Case(np.insert, A(R(3, 4), [0, 2], R(2, 1)), dict(axis=0), id="rows-broadcast"),
        Case(np.meshgrid, A(R(3), R(2)), id="xy"),
        Case(np.meshgrid, A(R(3), R(2), R(4)), dict(indexing="ij"), id="ij-3"),
        Case(np.meshgrid, A(R(2, 2), R(3)), dict(sparse=True), id="sparse-2d-input"),
        Case(np.unique, A(R(2, 3)), id="distinct"),  # (a repeat: no derivative; the first gets it)
        Case(np.vander, A(R(4)), id="square"),
        Case(np.vander, A(np.array([0.0, 0.5, -1.5]), 4, True), id="increasing-zero"),
        Case(np.convolve, A(R(5), R(3)), id="full"),
        Case(np.convolve, A(R(3), R(5), "same"), id="same-short-first"),
        Case(np.convolve, A(R(6), R(4), "valid"), id="valid"),
        Case(np.correlate, A(R(5), R(3)), id="valid"),
        Case(np.correlate, A(R(4), R(4), "full"), id="full"),
        Case(np.correlate, A(R(3), R(5), "same"), id="same-short-first"),
        *[Case(trap, A(R(5)), id="y") for trap in _TRAPEZOIDS],
        *[Case(trap, A(R(2, 4), lambda r: np.cumsum(r.uniform(0.2, 1.0, 4)), 1.0, 1),
               id="x-axis") for trap in _TRAPEZOIDS],
        *[Case(trap, A(R(4, 2), None, 0.3, 0), id="dx") for trap in _TRAPEZOIDS],
        # knots 1 apart, queries inside, below and above them (none on a knot)
        Case(np.interp, A(np.array([-0.6, 0.3, 1.45, 2.8, 3.7]), np.array([0.0, 1.0, 2.0, 3.0]),
                          R(4)), id="all"),
        Case(np.interp, A(lambda r: r.uniform(0.1, 2.9, (2, 3)), np.array([0.0, 1.0, 2.0, 3.0]),
                          R(4)), wrt=[0, 2], id="2d-x"),
        Case(np.interp, A(np.array([-0.6, 0.3, 3.7]), np.array([0.0, 1.0, 3.0]), R(3), 0.4,
                          -0.3), id="left-right"),
        Case(L.matrix_power, A(lambda r: np.eye(3) + 0.2 * r.standard_normal((3, 3)), 3), wrt=[0],
             id="3"),
        Case(L.matrix_power, A(lambda r: np.eye(3) + 0.2 * r.standard_normal((2, 3, 3)), -2),
             wrt=[0], id="inverse-batch"),
        Case(L.multi_dot, A([R(3)(np.random.default_rng(2)), R(3, 4)(np.random.default_rng(3)),
                             R(4, 2)(np.random.default_rng(4)), R(2)(np.random.default_rng(5))]),
             wrt=[(0, 0), (0, 1), (0, 2), (0, 3)], id="vector-ends"),
        Case(L.multi_dot, A([R(2, 3)(np.random.default_rng(2)), R(3, 4)(np.random.default_rng(3))]),
             wrt=[(0, 0), (0, 1)], id="two"),
        Case(L.eigvalsh, A(SPD(3)), id="spd"),
        Case(L.eigvals, A(lambda r: np.diag([1.0, 2.0, 3.0]) + 0.1 * r.standard_normal((3, 3))),
             id="real"),
        Case(nd.round, A(R(3)), dict(decimals=1), id="method"),
        Case(nd.tolist, A(R(2, 3)), id="nested"),
        Case(nd.conj, A(C(3)), id="complex"), Case(nd.conjugate, A(R(3)), id="real"),
        Case(nd.real, A(C(3)), id="complex"), Case(nd.imag, A(C(2, 2)), id="complex"),
        Case(nd.__abs__, A(nonzero(3)), id="method"),
        Case(nd.item, A(R(2, 3), 4), wrt=[0], id="flat-index"),
        Case(nd.item, A(R(2, 3), 1, 2), wrt=[0], id="multi-index"),
        Case(nd.item, A(R(1, 1)), id="size-1"),
        # (np.multiply.outer is a new bound method at each access: the registered one)
        Case(lookup(np.multiply.outer).primal, A(R(3), R(2, 2)), id="multiply"),
        Case(lookup(np.multiply.outer).primal, A(1.5, R(2)), id="scalar"),
    ]
    if hasattr(nd, "mT"):
        out += [
            Case(nd.mT, A(R(2, 3, 4)), id="batch"),
            Case(np.matrix_transpose, A(R(3, 4)), id="2d"),
            Case(L.matrix_transpose, A(R(2, 3, 4)), id="batch"),
            Case(L.vector_norm, A(R(2, 3, 4)), id="all"),
            Case(L.vector_norm, A(R(2, 3, 4)), dict(axis=(0, 2), ord=3, keepdims=True), id="axes"),
            Case(L.vector_norm, A(nonzero(3, 4)), dict(axis=1, ord=1), id="ord1"),
            Case(L.vector_norm, A(distinct(3, 4)), dict(axis=0, ord=np.inf), id="inf"),
            Case(L.matrix_norm, A(R(2, 3, 4)), id="fro"),
            Case(L.matrix_norm, A(R(3, 4)), dict(ord="nuc"), id="nuc"),
            Case(L.matrix_norm, A(distinct(3, 4)), dict(ord=np.inf, keepdims=True), id="inf"),
        ]
    return out


_BOUNDED = (np.arcsin, np.arccos, np.arctanh, np.tan)   # domain (-1, 1), or near it
CASES = ([Case(f, A(m)) for f, m in UNARY]
         + [Case(f, A(0.7 if f in _BOUNDED else 2.3), id="py-float")
            for f, _ in UNARY if f is not np.arccosh]
         + _binary_cases() + _reduction_cases() + _linalg_cases() + _shape_cases() + _misc_cases()
         + _complex_cases() + _more_cases() + _fft_cases() + _api_fuzz_cases())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_matches_finite_differences(case):
    if case.skip:
        pytest.skip(case.skip)
    check(case)


# ------------------------------------------------------------ other checks --

# the NumPy families: the namespace, numpy.linalg, numpy.fft
FAMILIES = (rules_numpy, rules_linalg, rules_fft)
OURS = [r for r in _RULES.values()
        if r.template.__module__ in {m.__name__ for m in FAMILIES}]


def test_every_rule_is_exercised():
    tested = {id(c.primal) for c in CASES}
    missing = sorted({str(getattr(r.primal, "__name__", r.primal)) for r in OURS
                      if id(r.primal) not in tested})
    assert not missing, f"rules without a test case: {missing}"


@pytest.mark.parametrize("rule", OURS, ids=lambda r: r.template.__name__ + ":" + str(
    getattr(r.primal, "__name__", "")))
def test_template_is_straight_line(rule):
    """Bodies are data: ``d[param] = expr`` or ``temp = expr`` lines, nothing else."""
    params = set(rule.signature.parameters)
    for stmt in _template_body(rule):
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, ast.dump(stmt)
        target = stmt.targets[0]
        if isinstance(target, ast.Subscript):
            assert isinstance(target.value, ast.Name) and target.value.id == "d"
            assert isinstance(target.slice, ast.Name) and target.slice.id in params
        else:
            assert isinstance(target, ast.Name) and target.id not in params | {rule.result}
        for node in ast.walk(stmt.value):
            assert not isinstance(node, (ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.IfExp,
                                         ast.NamedExpr)), ast.dump(stmt)


def test_no_module_name_shadows_a_builtin():
    """Template bodies resolve free names in their module's globals."""
    clash = [(m.__name__, n) for m in FAMILIES for n in vars(m)
             if not n.startswith("__") and hasattr(builtins, n)]
    assert not clash


@pytest.mark.parametrize("primal,maker", [
    (np.exp, P(3)), (np.tanh, P(3)), (np.sum, P(2, 3)), (np.mean, P(2, 3)), (np.max, P(2, 3)),
    (np.prod, P(3)), (np.var, P(3)), (np.cumsum, P(3)), (np.sqrt, P(3)), (np.linalg.norm, P(3)),
    (nd.astype, None), (np.float64, P(3)), (np.asarray, P(3)),
])
def test_float32_stays_float32(primal, maker):
    x = np.random.default_rng(0).uniform(0.5, 2.0, 3).astype(np.float32)
    args = [x, np.float64] if primal is nd.astype else [x]
    if primal in (np.sum, np.mean, np.max):
        args = [np.ones((2, 3), np.float32)]
    z = call(primal, args, {})
    dz = np.ones_like(z)
    g = vjp(primal, args, {}, dz)
    name = next(iter(lookup(primal).signature.parameters))
    assert g[name].dtype == np.float32


def test_sum_dtype_float64_of_float32_comes_back_float32():
    x = np.ones((2, 2), np.float32)
    g = vjp(np.sum, [x], dict(dtype=np.float64), np.float64(1.0))
    assert g["a"].dtype == np.float32 and g["a"].shape == (2, 2)


def test_adjoints_are_writeable_arrays():
    """The engine may accumulate in place: no read-only broadcast views."""
    g = vjp(np.sum, [np.ones((2, 3))], dict(axis=0), np.ones(3))
    assert g["a"].flags.writeable


@pytest.mark.parametrize("primal", [np.shape, np.size, np.ndim, np.argmax, np.argmin, np.argsort,
                                    np.nonzero, np.isnan, np.isfinite, np.equal, np.less,
                                    np.greater, np.zeros, np.ones, np.empty,
                                    np.eye, np.zeros_like, np.ones_like,
                                    np.random.normal, np.random.randn, np.random.Generator.normal,
                                    nd.argmax])
def test_nondifferentiable(primal):
    assert is_nondifferentiable(primal)
    assert lookup(primal) is None


@pytest.mark.parametrize("primal,args,kwargs", [
    (np.pad, [np.ones(3), 1], dict(mode="linear_ramp")),
    (np.linalg.qr, [np.ones((2, 3))], {}),
    (np.einsum, [np.ones(3), [0], [0]], {}),
])
def test_unsupported_cases_say_so(primal, args, kwargs):
    with pytest.raises(NotImplementedError, match="derivative rule|differentiates"):
        vjp(primal, args, kwargs, call(primal, args, kwargs))


def _inspect_bind(rule, args, kwargs):
    try:
        bound = rule.signature.bind(*args, **kwargs)
    except TypeError:
        return TypeError
    bound.apply_defaults()
    return dict(bound.arguments)


def _own_bind(rule, args, kwargs):
    try:
        return rule.bind(args, kwargs)
    except TypeError:
        return TypeError


def test_rule_bind_is_inspect_bind():
    """``Rule.bind`` binds a call's arguments as ``inspect`` does (defaults
    applied), and refuses what ``inspect`` refuses, for every rule."""
    for rule in {id(r): r for r in _RULES.values()}.values():
        names = list(rule.signature.parameters)
        calls = [((), {}), (tuple(range(len(names) + 1)), {}), ((), {"no_such": 1})]
        for k in range(len(names) + 1):
            positional = tuple(f"a{i}" for i in range(k))
            calls.append((positional, {}))
            calls.append((positional, {n: f"k_{n}" for n in names[k:]}))
            calls.append((positional, {n: f"k_{n}" for n in names[k + 1:]}))
            if k:
                calls.append((positional, {names[0]: "twice"}))
        for args, kwargs in calls:
            assert _own_bind(rule, args, kwargs) == _inspect_bind(rule, args, kwargs), \
                (rule.template.__qualname__, args, kwargs)


# -- regressions found by the API fuzzer (tests/test_api_fuzz.py) ------------------------

@pytest.mark.parametrize("primal", [np.std, nd.std])
def test_std_of_one_value_per_group_has_zero_gradient(primal):
    # API fuzz seed 234: std over an axis of length 1 is identically 0; its
    # gradient is 0, not 0 * inf = nan
    x = np.array([[0.3], [-1.2]])
    dz = np.array([[0.7], [-0.4]])
    g = vjp(primal, [x], dict(axis=1, keepdims=True), dz)
    want = numeric_grad(lambda a: np.sum(dz * call(primal, [a], dict(axis=1, keepdims=True))),
                        [x], 0)
    np.testing.assert_allclose(g[next(iter(g))], want, atol=1e-8)


# -- the math module's rules (sourcegrad/rules/builtins_.py): Python floats --------------

import math  # noqa: E402

MATH = [Case(math.exp, A(0.3)), Case(math.expm1, A(-0.4)), Case(math.log, A(1.7)),
        Case(math.log, A(1.7, 3.0), id="base"), Case(math.log1p, A(0.4)),
        Case(math.log2, A(1.3)), Case(math.log10, A(2.2)), Case(math.sqrt, A(1.3)),
        Case(math.sin, A(0.3)), Case(math.cos, A(0.3)), Case(math.tan, A(0.4)),
        Case(math.sinh, A(0.6)), Case(math.cosh, A(-0.6)), Case(math.tanh, A(0.6)),
        Case(math.asin, A(0.4)), Case(math.acos, A(-0.4)), Case(math.atan, A(1.4)),
        Case(math.asinh, A(0.7)), Case(math.acosh, A(1.7)), Case(math.atanh, A(-0.3)),
        Case(math.atan2, A(0.5, -1.2)), Case(math.hypot, A(0.5, -1.2, 2.0)),
        Case(math.pow, A(1.3, 2.5)), Case(math.pow, A(0.0, 0.0), wrt=[0], id="zero"),
        Case(math.fabs, A(-0.8)), Case(math.erf, A(0.3)), Case(math.erfc, A(-0.3)),
        Case(math.degrees, A(0.3)), Case(math.radians, A(12.0)),
        Case(math.fsum, A([0.3, -1.2, 2.5]), wrt=[(0, 0), (0, 2)], id="list"),
        # max/min iterate over an array's items (forward mode gave them no tangent once)
        Case(builtins.max, A(np.array([0.3, -1.2, 2.5, 0.7])), id="array"),
        Case(builtins.min, A(np.array([0.3, -1.2, 2.5, 0.7])), id="array"),
        Case(builtins.max, A(0.3, -1.2, 2.5), id="three"),
        Case(builtins.min, A(0.3, -1.2), id="two")]


@pytest.mark.parametrize("case", MATH, ids=[c.id for c in MATH])
def test_math_rule_matches_finite_differences(case):
    check(case)
    z = call(case.primal, case.make(np.random.default_rng(0)), {})
    assert isinstance(z, float)


def test_norm_with_ord_below_one_at_a_zero_element():
    # API fuzz seed 5169: |x| ** (ord - 1) is infinite at a zero element; its gradient
    # there is 0 (as abs's is at 0), so that 0 * (that) is not nan
    x = np.array([0.0, 0.7, -1.2])
    for ord_ in (0.5, 1, 3):
        g = vjp(np.linalg.norm, [x, ord_], {}, 1.0)["x"]
        assert np.all(np.isfinite(g)) and g[0] == 0.0
        # a zero element adds nothing to the norm: the others' gradients are those of
        # the norm without it
        want = numeric_grad(lambda a: np.linalg.norm(a, ord_), [x[1:]], 0)
        np.testing.assert_allclose(g[1:], want, rtol=1e-5)
