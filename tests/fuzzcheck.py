"""Run, judge and reduce programs of the wide fuzzer (``fuzzgen.generate_wide``).

Each program is judged against two oracles:

* central finite differences in float64 (``sourcegrad.testing.numeric_grad``,
  on every leaf of a container input) of the program's hooked twin
  (``fuzzgen.make_ref``), which keeps inputs away from branch switches and
  kinks and replays ``sg.stop_gradient`` values; they must agree at two step
  sizes or the program is not a fair test (skipped);
* autograd, where it is installed and can run the program (a second opinion,
  recorded with each wrong gradient: "autograd agrees with finite
  differences" makes the report certain).

``value_and_grad``'s value is compared with a plain call of the function, its
gradients with ``grad``'s, each gradient's structure, shape and dtype with its
input's, and inputs must not be mutated.

Outcomes (:class:`Outcome`): ``ok``; ``skip`` (not a fair test);
``refused`` (a ``SourcegradError``, or a documented ``TypeError``/``ValueError``
of the API's argument checks); ``wrong gradient``; ``wrong value``;
``wrong type`` (structure/shape/dtype); ``mutated input``; ``internal``
(any other exception); ``program error`` (the generated program itself
fails: a generator bug); ``timeout``.

:func:`reduce_source` shrinks a failing program (delete statements, replace a
compound statement by its body, drop ``else``/``elif`` branches and
decorators, replace an expression by one of its operands) while it fails the
same way.  The command line is ``python -m tests.fuzzgen --help``.
"""
from __future__ import annotations

import ast
import collections
import copy
import itertools
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

import warnings

import numpy as np

import sourcegrad as sg
from sourcegrad.testing import load_source, numeric_grad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzzgen import OFF_SWITCHES, generate_wide, make_ref  # noqa: E402

MARGIN = 0.01
RTOL, ATOL = 1e-4, 1e-6
RTOL32, ATOL32 = 3e-3, 3e-4
_uid = itertools.count()
_SG_DIR = os.path.dirname(os.path.abspath(sg.__file__))

try:  # the second opinion
    import autograd as _autograd
    import autograd.numpy as _anp
except ImportError:  # pragma: no cover
    _autograd = None


@dataclass
class Outcome:
    kind: str                 # ok, skip, refused, wrong gradient, ... (module docstring)
    msg: str = ""             # normalized message (refusals, exceptions), or why skipped
    detail: str = ""          # the full story (errors, numbers, autograd's opinion)
    args: tuple = None
    features: set = field(default_factory=set)

    @property
    def key(self):
        """What "fails the same way" means for the reducer."""
        if self.kind in ("wrong gradient", "wrong value", "mutated input", "timeout"):
            return self.kind
        return f"{self.kind}: {self.msg}"

    @property
    def failed(self):
        return self.kind not in ("ok", "skip", "refused", "program error")


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def normalize(msg: str) -> str:
    """A message's first line without the things that differ between programs."""
    line = msg.strip().splitlines()[0] if msg.strip() else ""
    line = re.sub(r"\S+\.py(:\d+)?", "<file>", line)
    line = re.sub(r"\d+", "#", line)
    return line[:160]


# -- pytrees ---------------------------------------------------------------------------

def leaves(x, path=()):
    if isinstance(x, dict):
        for k in x:
            yield from leaves(x[k], path + (k,))
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from leaves(v, path + (i,))
    else:
        yield path, x


def structure(x):
    if isinstance(x, dict):
        return ("dict", tuple((k, structure(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(structure(v) for v in x))
    return "leaf"


def tree_replace(x, path, v):
    if not path:
        return v
    if isinstance(x, tuple):  # a tuple or namedtuple: rebuilt as its own type
        items = list(x)
        items[path[0]] = tree_replace(items[path[0]], path[1:], v)
        return type(x)(*items) if hasattr(type(x), "_fields") else type(x)(items)
    x = copy.copy(x)
    x[path[0]] = tree_replace(x[path[0]], path[1:], v)
    return x


def copy_args(args):
    return copy.deepcopy(args)


def to64(args):
    def f(v):
        if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating):
            return v.astype(np.float64)
        if isinstance(v, dict):
            return {k: f(w) for k, w in v.items()}
        if isinstance(v, list):
            return [f(w) for w in v]
        return v
    return tuple(f(a) for a in args)


def tree_fd(fn, args, p, eps):
    """Central differences of sum(fn) w.r.t. every leaf of argument p."""
    a = args[p]
    if not isinstance(a, (dict, list, tuple)):
        return numeric_grad(fn, copy_args(args), p, eps)
    out = copy.deepcopy(a)
    for path, leaf in leaves(a):
        def g(v, path=path):
            b = list(copy_args(args))
            b[p] = tree_replace(copy.deepcopy(a), path, v)
            return fn(*b)
        out = tree_replace(out, path, numeric_grad(g, (leaf,), 0, eps))
    return out


def flat_values(out):
    if isinstance(out, dict):
        return [o for v in out.values() for o in flat_values(v)]
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in flat_values(x)]
    return [out]


def same_value(a, b, rtol=1e-10):
    fa, fb = flat_values(a), flat_values(b)
    if len(fa) != len(fb):
        return False
    for x, y in zip(fa, fb):
        if x is None or y is None or isinstance(x, str):
            if x is not y and x != y:
                return False
        elif np.shape(x) != np.shape(y) or not np.allclose(x, y, rtol=rtol, atol=1e-12,
                                                          equal_nan=True):
            return False
    return True


def trees_close(g, w, rtol, atol):
    if structure(g) != structure(w) and not (structure(w) == "leaf"):
        return False
    lg, lw = [v for _, v in leaves(g)], [v for _, v in leaves(w)]
    return len(lg) == len(lw) and all(
        np.shape(x) == np.shape(y) and np.allclose(x, y, rtol=rtol, atol=atol)
        for x, y in zip(lg, lw))


def tree_equal(a, b):
    if structure(a) != structure(b):
        return False
    for (_, x), (_, y) in zip(leaves(a), leaves(b)):
        if type(x) is not type(y) or not np.array_equal(x, y):
            return False
    return True


# -- the oracles ------------------------------------------------------------------------

def autograd_source(clean):
    return clean.replace(
        "import numpy as np\nimport sourcegrad as sg\n",
        "import autograd.numpy as np\nfrom autograd.tracer import getval as _getval\n\n\n"
        "class sg:\n    stop_gradient = staticmethod(_getval)\n", 1)


def _ag_total(out):
    tot = 0.0
    for o in flat_values(out):
        if o is None or isinstance(o, (bool, int, str, np.integer)):
            continue
        if isinstance(o, np.ndarray) and not np.issubdtype(o.dtype, np.floating):
            continue
        tot = tot + _anp.sum(o)
    return tot


def autograd_grads(clean, path, args, pos):
    """autograd's gradients, or None when autograd cannot run the program."""
    if _autograd is None:
        return None
    warnings.filterwarnings("ignore", message="Output seems independent of input")
    try:
        mod = load_source(path, autograd_source(clean))
        out = []
        fargs = to64(tuple(float(a) if isinstance(a, int) else
                           (a.astype(float) if isinstance(a, np.ndarray) and
                            not np.issubdtype(a.dtype, np.floating) else a) for a in args))
        for p in pos:
            with np.errstate(all="ignore"):
                g = _autograd.grad(lambda *a: _ag_total(mod.f(*a)), p)(*copy_args(fargs))
            out.append(g)
        return out
    except Exception:
        return None


def documented(exc):
    """A TypeError/ValueError of the API's own argument checks."""
    if not isinstance(exc, (TypeError, ValueError)):
        return False
    import linecache
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    fname = last.tb_frame.f_code.co_filename
    line = linecache.getline(fname, last.tb_lineno).strip()
    return (os.path.abspath(fname) == os.path.join(_SG_DIR, "api.py")
            and line.startswith("raise "))


def judge(clean, args, positions, tmp_dir, float32=False, has_stop=None, ref=None,
          search=None, margin=MARGIN, use_autograd=True, quick=False, forward=False,
          second=False):
    """The outcome of one program.  ``search``: a callable giving candidate argument
    tuples (the first fair one is used); else ``args`` is used as it is.  ``quick``:
    value_and_grad only (the reducer), not also grad.  ``forward``: also ``sg.jvp``
    along a random direction, against the gradient (once that matched); ``second``:
    also ``sg.jvp`` of the gradient (forward over reverse) against finite differences
    of the gradient."""
    k = next(_uid)
    has_stop = "sg.stop_gradient" in clean if has_stop is None else has_stop
    try:
        mod = load_source(os.path.join(tmp_dir, f"fw{k}.py"), clean)
        refm = load_source(os.path.join(tmp_dir, f"fw{k}_ref.py"), ref or make_ref(clean))
    except Exception as e:
        return Outcome("program error", normalize(f"{type(e).__name__}: {e}"),
                       traceback.format_exc())
    H = refm._H
    cands = list(search()) if search else [args]
    why = "no input away from boundaries"
    unfair = False
    for cand in cands:
        try:
            H.start("record")
            with np.errstate(all="ignore"):
                out = refm.f(*copy_args(cand))
            vals = [o for o in flat_values(out) if o is not None
                    and not isinstance(o, (int, str))]
            if H.margin < margin or not all(np.all(np.isfinite(v)) and
                                            np.all(np.abs(v) < 1e4) for v in vals):
                continue
            with np.errstate(all="ignore"):
                clean_out = mod.f(*copy_args(cand))
        except Exception as e:
            return Outcome("program error", normalize(f"{type(e).__name__}: {e}"),
                           traceback.format_exc())
        if not has_stop and not same_value(clean_out, out, rtol=1e-6):
            return Outcome("program error", "the program and its twin disagree")
        args = cand
        break
    else:
        # no fair input: still look for crashes and wrong values on the last one
        unfair = True
        if search is None or not cands:
            return Outcome("skip", why)
        args = cand
    pos = (positions,) if isinstance(positions, int) else tuple(positions)

    # sourcegrad
    before, mine = copy_args(args), copy_args(args)
    try:
        with np.errstate(all="ignore"):
            value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
            got = got2 if quick else sg.grad(mod.f, positions)(*mine)
    except sg.SourcegradError as e:
        if isinstance(e, (sg.UnsupportedSyntaxError, sg.NoDerivativeError)) \
                and getattr(e, "lineno", None) is None:
            # a transformation-time refusal names the user's line (docs/api.md)
            return Outcome("internal", normalize(f"refusal without a line: {e}"), str(e),
                           args=args)
        return Outcome("refused", normalize(str(e)), str(e), args=args)
    except _Timeout:
        raise
    except Exception as e:
        if documented(e):
            return Outcome("refused", normalize(f"{type(e).__name__}: {e}"), str(e), args=args)
        return Outcome("internal", normalize(f"{type(e).__name__}: {e}"),
                       traceback.format_exc(), args=args)
    # the derivative may change an input only as f itself does (x[1] = v into a list
    # the caller passed), never otherwise
    theirs = copy_args(args)
    with np.errstate(all="ignore"):
        direct = mod.f(*theirs)
    if not (tree_equal(mine, before) or tree_equal(mine, theirs)):
        return Outcome("mutated input", "", "sourcegrad wrote into an input", args=args)
    with np.errstate(all="ignore"):
        direct = mod.f(*copy_args(args))
    if not same_value(value, direct, rtol=1e-5 if float32 else 1e-10):
        return Outcome("wrong value", "", f"value_and_grad: {value!r}\nf(...): {direct!r}",
                       args=args)
    got_t = (got,) if isinstance(positions, int) else got
    got2_t = (got2,) if isinstance(positions, int) else got2
    if not isinstance(got_t, tuple) or len(got_t) != len(pos):
        return Outcome("wrong type", f"grad returned {type(got).__name__}", args=args)
    for p, g in zip(pos, got_t):
        a = args[p]
        if structure(g) != structure(a):
            return Outcome("wrong type", f"gradient of a {structure(a)!s:.40} input has "
                           f"structure {structure(g)!s:.40}", args=args)
        for (_, x), (_, gx) in zip(leaves(a), leaves(g)):
            if np.shape(gx) != np.shape(x):
                return Outcome("wrong type", "gradient shape differs from its input's",
                               f"{np.shape(gx)} vs {np.shape(x)}", args=args)
            if isinstance(x, float) and not isinstance(gx, float):
                return Outcome("wrong type", f"gradient of a float is {type(gx).__name__}",
                               args=args)
            xd = np.asarray(x).dtype
            gd = np.asarray(gx).dtype
            want_dt = xd if np.issubdtype(xd, np.floating) else np.dtype(np.float64)
            if gd != want_dt:
                return Outcome("wrong type", f"gradient dtype {gd} for a {xd} input",
                               args=args)
    for g, g2 in zip(got_t, got2_t):
        if not trees_close(g2, g, 1e-10, 1e-12):
            return Outcome("wrong gradient", "", "value_and_grad's gradient differs from "
                           "grad's", args=args)
    if unfair:
        return Outcome("skip", why, args=args)

    def ref_replay(*a):
        H.start("replay")
        return refm.f(*a)

    want = []
    args64 = to64(args)
    for p in pos:
        H.start("record")
        try:
            with np.errstate(all="ignore"):
                refm.f(*copy_args(args64))
                a = tree_fd(ref_replay, args64, p, 1e-5)
                b = tree_fd(ref_replay, args64, p, 1e-6)
        except Exception:
            return Outcome("skip", "finite differences fail", args=args)
        la, lb = [v for _, v in leaves(a)], [v for _, v in leaves(b)]
        if not all(np.all(np.isfinite(x)) and np.allclose(x, y, rtol=1e-3, atol=1e-5)
                   for x, y in zip(la, lb)):
            return Outcome("skip", "finite differences unstable", args=args)
        want.append(a)
    rtol, atol = (RTOL32, ATOL32) if float32 else (RTOL, ATOL)
    bad = [(p, g, w) for p, g, w in zip(pos, got_t, want) if not trees_close(g, w, rtol, atol)]
    if bad:
        story = []
        ag = autograd_grads(clean, os.path.join(tmp_dir, f"fw{k}_ag.py"), args, pos) \
            if use_autograd else None
        if ag is None:
            story.append("autograd: n/a")
        else:
            idx = {p: i for i, p in enumerate(pos)}
            for p, g, w in bad:
                agp = ag[idx[p]]
                if trees_close(agp, w, 1e-4, 1e-6):
                    story.append(f"autograd agrees with finite differences (position {p})")
                elif trees_close(agp, g, 1e-4, 1e-6):
                    story.append(f"autograd agrees with sourcegrad (position {p})")
                else:
                    story.append(f"autograd agrees with neither (position {p})")
        for p, g, w in bad:
            story.append(f"position {p}:\n  sourcegrad: {g!r}\n  numeric:    {w!r}")
        return Outcome("wrong gradient", "", "\n".join(story), args=args)
    if (forward or second) and not float32:
        return forward_outcome(mod, args, pos, got_t, direct, second)
    return Outcome("ok", args=args)


def forward_outcome(mod, args, pos, got_t, direct, second=False):
    """``sg.jvp`` of the program along a random direction of the differentiated
    inputs: its value must be the program's, and the sum of its output tangent's
    entries the gradient (checked already) dotted with the direction.  Programs with
    inputs other than float arrays and floats are left to the reverse check."""
    if not all(isinstance(a, float) or isinstance(a, np.ndarray) and a.dtype.kind == "f"
               for a in args):
        return Outcome("ok", args=args)
    rng = np.random.default_rng(len(args))
    vs = tuple((rng.standard_normal() if isinstance(a, float) else
                rng.standard_normal(np.shape(a)).astype(a.dtype)) * (i in pos)
               for i, a in enumerate(args))
    vs = tuple(float(v) if isinstance(a, float) else v for v, a in zip(vs, args))
    try:
        with np.errstate(all="ignore"):
            out, t = sg.jvp(mod.f, tuple(copy_args(args)), vs)
    except sg.SourcegradError as e:
        return Outcome("refused", normalize(f"forward: {e}"), str(e), args=args)
    except _Timeout:
        raise
    except Exception as e:
        return Outcome("internal", normalize(f"forward: {type(e).__name__}: {e}"),
                       traceback.format_exc(), args=args)
    if not same_value(out, direct, rtol=1e-10):
        return Outcome("wrong value", "forward", f"jvp: {out!r}\nf(...): {direct!r}",
                       args=args)
    want = sum(float(np.sum(np.asarray(g) * vs[p])) for p, g in zip(pos, got_t))
    have = sum(float(np.sum(v)) for v in flat_values(t) if v is not None
               and not isinstance(v, (int, str)))
    scale = 1.0 + sum(float(np.sum(np.abs(np.asarray(g) * vs[p]))) for p, g in zip(pos, got_t))
    if not abs(have - want) <= 1e-8 * scale:
        return Outcome("wrong gradient", "forward", f"jvp's tangent sums to {have!r}; the "
                       f"gradient along the same direction is {want!r}", args=args)
    return second_outcome(mod, args, pos, vs) if second else Outcome("ok", args=args)


def second_outcome(mod, args, pos, vs):
    """Forward over reverse: ``sg.jvp(sg.grad(f))`` along ``vs`` against central
    differences of the gradient along ``vs``."""
    gfun = sg.grad(mod.f, pos)
    try:
        with np.errstate(all="ignore"):
            _, hv = sg.jvp(gfun, tuple(copy_args(args)), vs)
    except sg.SourcegradError as e:
        return Outcome("refused", normalize(f"second: {e}"), str(e), args=args)
    except _Timeout:
        raise
    except Exception as e:
        return Outcome("internal", normalize(f"second: {type(e).__name__}: {e}"),
                       traceback.format_exc(), args=args)
    fd = []
    for eps in (1e-5, 1e-6):
        with np.errstate(all="ignore"):
            hi = gfun(*[a + eps * v for a, v in zip(copy_args(args), vs)])
            lo = gfun(*[a - eps * v for a, v in zip(copy_args(args), vs)])
        fd.append([(np.asarray(h) - np.asarray(b)) / (2 * eps) for h, b in zip(hi, lo)])
    if not all(np.all(np.isfinite(a)) and np.allclose(a, b, rtol=1e-3, atol=1e-5)
               for a, b in zip(*fd)):
        return Outcome("ok", args=args)  # the gradient is not smooth enough here
    if not all(np.allclose(np.asarray(h, float), w, rtol=1e-4, atol=1e-5)
               for h, w in zip(hv, fd[0])):
        return Outcome("wrong gradient", "second", f"jvp of grad: {hv!r}\nfinite "
                       f"differences of grad: {fd[0]!r}", args=args)
    return Outcome("ok", args=args)


def check_seed(seed, tmp_dir, nested=False, use_autograd=True, timeout=60, quick=False,
               off=(), forward=False, second=False):
    prog = generate_wide(seed, nested=nested, off=off)
    rng = np.random.RandomState(seed)

    def search():
        for _ in range(12):
            yield prog.args(rng)

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        o = judge(prog.clean, None, prog.positions, tmp_dir, prog.float32, prog.has_stop,
                  search=search, use_autograd=use_autograd, quick=quick, forward=forward,
                  second=second)
    except _Timeout:
        o = Outcome("timeout", "", f"over {timeout}s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    o.features = prog.features
    return o


# -- the reducer ------------------------------------------------------------------------

_COUNTER = re.compile(r"^i\d+$")


def _stmt_lists(tree):
    out = []
    for node in ast.walk(tree):
        for fld in ("body", "orelse"):
            v = getattr(node, fld, None)
            if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
                out.append((node, fld))
    return out


def _expr_slots(tree):
    """(parent, field, index) of every expression outside while-loop tests."""
    out = []
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            skip |= {id(n) for n in ast.walk(node.test)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        for fld, v in ast.iter_fields(node):
            if isinstance(v, ast.expr) and id(v) not in skip:
                out.append((node, fld, None))
            elif isinstance(v, list):
                for i, e in enumerate(v):
                    if isinstance(e, ast.expr) and id(e) not in skip:
                        out.append((node, fld, i))
    return out


def _is_counter_inc(st):
    return (isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name)
            and _COUNTER.match(st.target.id))


def _kids(node):
    """The operands an expression may be replaced by (not a dict key or a string)."""
    if isinstance(node, (ast.Attribute, ast.Lambda, ast.Subscript)):
        return []  # (a subscript's value, a call's function: another type, not smaller)
    skip = {id(node.func)} if isinstance(node, ast.Call) else set()
    return [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)
            and id(c) not in skip
            and not (isinstance(c, ast.Constant) and isinstance(c.value, str))]


def _edits(tree):
    ed = []
    lists = _stmt_lists(tree)
    for li, (owner, fld) in enumerate(lists):
        n = len(getattr(owner, fld))
        if n >= 4:  # halves first (ddmin)
            ed += [("delchunk", li, (0, n // 2)), ("delchunk", li, (n // 2, n - 1))]
    for li, (owner, fld) in enumerate(lists):
        body = getattr(owner, fld)
        for j, st in enumerate(body):
            if isinstance(st, (ast.Import, ast.ImportFrom)) or _is_counter_inc(st):
                continue
            if isinstance(owner, ast.FunctionDef) and isinstance(st, ast.Return) \
                    and j == len(body) - 1:
                continue  # a function keeps its final return (else it returns None)
            ed.append(("del", li, j))
            if isinstance(st, (ast.If, ast.For, ast.While, ast.With)):
                ed.append(("body", li, j))
            if isinstance(st, ast.If) and st.orelse:
                ed.append(("orelse", li, j))
                ed.append(("noelse", li, j))
            if isinstance(st, (ast.FunctionDef,)) and st.decorator_list:
                ed.append(("undeco", li, j))
    for si, (parent, fld, i) in enumerate(_expr_slots(tree)):
        node = getattr(parent, fld) if i is None else getattr(parent, fld)[i]
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            ed.append(("chain", si, 0))
        kids = _kids(node)
        for ci in range(len(kids)):
            ed.append(("hoist", si, ci))
    return ed


def _apply(tree, edit):
    t = copy.deepcopy(tree)
    kind, a, b = edit
    if kind == "delchunk":
        owner, fld = _stmt_lists(t)[a]
        lst = getattr(owner, fld)
        keep = [st for st in lst[b[0]:b[1]]
                if isinstance(st, (ast.Import, ast.ImportFrom)) or _is_counter_inc(st)]
        lst[b[0]:b[1]] = keep
        if not lst:
            lst.append(ast.Pass())
    elif kind in ("del", "body", "orelse", "noelse", "undeco"):
        owner, fld = _stmt_lists(t)[a]
        lst = getattr(owner, fld)
        st = lst[b]
        if kind == "del":
            new = []
        elif kind == "body":
            new = st.body
            if isinstance(st, ast.For) and isinstance(st.target, ast.Name):
                new = [ast.Assign([ast.Name(st.target.id, ast.Store())], ast.Constant(0))] + new
        elif kind == "orelse":
            new = st.orelse
        elif kind == "noelse":
            st.orelse = []
            new = [st]
        else:
            st.decorator_list = st.decorator_list[1:]
            new = [st]
        lst[b:b + 1] = new
        if not lst:
            lst.append(ast.Pass())
    else:
        parent, fld, i = _expr_slots(t)[a]
        node = getattr(parent, fld) if i is None else getattr(parent, fld)[i]
        if kind == "chain":
            rep = ast.Compare(node.left, node.ops[:1], node.comparators[:1])
        else:
            rep = _kids(node)[b]
        if i is None:
            setattr(parent, fld, rep)
        else:
            getattr(parent, fld)[i] = rep
    ast.fix_missing_locations(t)
    return t


def _self_assignments(tree):
    return sum(1 for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1
               and isinstance(n.value, ast.Name) and isinstance(n.targets[0], ast.Name)
               and n.targets[0].id == n.value.id)


def reduce_source(clean, args, positions, want_key, tmp_dir, float32=False,
                  budget=1500, timeout=20, forward=False, second=False):
    """Shrink ``clean`` while :func:`judge` on ``args`` keeps failing with ``want_key``."""
    tree = ast.parse(clean)
    tries = 0
    selfs = _self_assignments(tree)

    def same(t):
        nonlocal tries
        if _self_assignments(t) > selfs:
            return False  # hoisting x = f(x) to x = x drifts into another bug class
        tries += 1
        try:
            text = ast.unparse(t) + "\n"
            compile(text, "t", "exec")
        except Exception:
            return False
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
        try:
            o = judge(text, args, positions, tmp_dir, float32, margin=1e-3,
                      use_autograd=False, quick=True, forward=forward, second=second)
        except _Timeout:
            return False
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        return o.key == want_key

    changed = True
    while changed and tries < budget:
        changed = False
        i = 0
        while tries < budget:
            eds = _edits(tree)
            if i >= len(eds):
                break
            t = _apply(tree, eds[i])
            if ast.dump(t) != ast.dump(tree) and same(t):
                tree, changed = t, True
            else:
                i += 1
    return ast.unparse(tree) + "\n", tries


# -- the command line -------------------------------------------------------------------

_TMP = None


def _tmp():
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="sgfuzz")
    for f in os.listdir(_TMP):
        try:
            os.remove(os.path.join(_TMP, f))
        except OSError:  # pragma: no cover
            pass
    return _TMP


def _check(job):
    seed, nested, use_ag, quick, off, forward, second = job
    o = check_seed(seed, _tmp(), nested, use_ag, quick=quick, off=off, forward=forward,
                   second=second)
    return seed, o.kind, o.msg, o.key, o.detail, o.args


def _reduce(job):
    seed, nested, key, args, budget, off, forward, second = job
    prog = generate_wide(seed, nested=nested, off=off)
    tmp = _tmp()
    t0 = time.time()
    try:
        text, tries = reduce_source(prog.clean, args, prog.positions, key, tmp, prog.float32,
                                    budget=budget, forward=forward, second=second)
    except Exception as e:  # pragma: no cover
        return seed, f"# reduction failed: {type(e).__name__}: {e}\n", 0, "", 0.0
    o = judge(text, args, prog.positions, tmp, prog.float32, margin=1e-3, forward=forward,
              second=second)
    return seed, text, tries, o.detail, time.time() - t0


def run(seeds, nested=False, jobs=1, use_autograd=True, quick=False, off=(), forward=False,
        second=False):
    """[(seed, kind, msg, key, detail, args)] for the programs of ``seeds``."""
    work = [(s, nested, use_autograd, quick, off, forward, second) for s in seeds]
    if jobs > 1:
        import multiprocessing
        with multiprocessing.Pool(jobs) as pool:
            return sorted(pool.imap_unordered(_check, work, chunksize=4))
    return [_check(w) for w in work]


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="python -m tests.fuzzgen",
                                 description="sourcegrad's wide differential fuzzer")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--count", type=int, default=200, help="number of programs")
    ap.add_argument("--reduce", action="store_true", help="shrink the failures")
    ap.add_argument("--per-key", type=int, default=2,
                    help="failures reduced per exception message (all wrong numbers are)")
    ap.add_argument("--max-reduce", type=int, default=40)
    ap.add_argument("--budget", type=int, default=500, help="tries per reduction")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--nested", action="store_true",
                    help="also nested defs and lambdas (support is being added)")
    ap.add_argument("--no-autograd", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="value_and_grad only (not also grad): twice as fast")
    ap.add_argument("--forward", action="store_true",
                    help="also forward mode (sg.jvp) on programs of float inputs")
    ap.add_argument("--second", action="store_true",
                    help="also forward over reverse (sg.jvp of sg.grad) on those programs")
    ap.add_argument("--out", default="fuzz-failures",
                    help="directory for the (reduced) failing programs")
    ap.add_argument("--show", action="store_true", help="print each failure's story")
    ap.add_argument("--only", default="", help="comma-separated seeds (instead of a range)")
    ap.add_argument("--off", default="",
                    help="constructs to leave out, comma-separated, to look behind the "
                         "classes found already: " + ", ".join(OFF_SWITCHES))
    a = ap.parse_args(argv)
    off = tuple(x for x in a.off.split(",") if x)
    t0 = time.time()
    seeds = [int(x) for x in a.only.split(",")] if a.only else \
        range(a.seed, a.seed + a.count)
    a.count = len(seeds)
    res = run(seeds, a.nested, a.jobs, not a.no_autograd, a.quick, off, a.forward,
              a.second)
    kinds = collections.Counter(r[1] for r in res)
    msgs = collections.Counter((f"{r[1]}: {r[2]}" if r[2] else r[1]) for r in res
                               if r[1] != "ok")
    fails = [r for r in res if r[1] not in ("ok", "skip", "refused")]
    print(f"{a.count} programs (seeds {seeds[0]}..{seeds[-1]}, nested={a.nested}, "
          f"off={','.join(off)}) in {time.time() - t0:.0f}s", flush=True)
    for k, n in kinds.most_common():
        print(f"  {k:16s} {n}")
    print("by message:")
    for m, n in msgs.most_common():
        print(f"  {n:6d}  {m}")
    reduced = {}
    if a.reduce and fails:
        per = collections.Counter()
        todo = []
        for seed, kind, msg, key, detail, args in fails:
            if args is None or kind == "program error":
                continue
            if kind in ("wrong gradient", "wrong value", "mutated input") or \
                    per[key] < a.per_key:
                per[key] += 1
                todo.append((seed, a.nested, key, args, a.budget, off, a.forward, a.second))
        todo = todo[:a.max_reduce]
        t1 = time.time()
        os.makedirs(a.out, exist_ok=True)
        if a.jobs > 1:
            import multiprocessing
            pool = multiprocessing.Pool(a.jobs)
            it = pool.imap_unordered(_reduce, todo)
        else:
            pool, it = None, map(_reduce, todo)
        for r in it:
            reduced[r[0]] = r
            with open(os.path.join(a.out, f"reduced{r[0]}.py"), "w") as fh:
                fh.write(f"# seed {r[0]}: {dict((t[0], t[2]) for t in todo)[r[0]]}\n")
                fh.write(textwrap_indent(r[3] or "", "# ") + "\n" + r[1])
            print(f"  reduced seed {r[0]} in {r[4]:.0f}s: {len(r[1].splitlines())} lines",
                  flush=True)
        if pool:
            pool.close()
            pool.join()
        print(f"reduced {len(reduced)} failures in {time.time() - t1:.0f}s")
    if fails:
        os.makedirs(a.out, exist_ok=True)
    for seed, kind, msg, key, detail, args in fails:
        red = reduced.get(seed)
        lines = "" if red is None else f" -> {len(red[1].splitlines())} lines"
        print(f"seed {seed}: {key}{lines}")
        if a.show:
            print(textwrap_indent(detail))
        prog = generate_wide(seed, nested=a.nested, off=off)
        with open(os.path.join(a.out, f"seed{seed}.py"), "w") as fh:
            fh.write(f"# seed {seed} (nested={a.nested}, off={','.join(off)}): {key}\n")
            fh.write(f"# grad_position={prog.positions!r}  float32={prog.float32}\n")
            fh.write(f"# args={args!r}\n".replace("\n", " ").rstrip() + "\n")
            if red:
                fh.write(f"# reduced in {red[2]} tries ({red[4]:.0f}s); judged again:\n")
                fh.write(textwrap_indent(red[3] or "", "# ") + "\n")
                fh.write(red[1])
                fh.write("\n# ---- the original program ----\n")
            fh.write(textwrap_indent(prog.clean, "# ") + "\n")
            fh.write(textwrap_indent(detail or "", "# ") + "\n")
    return kinds, msgs


def textwrap_indent(s, prefix="    "):
    return "\n".join(prefix + line for line in str(s).splitlines())


if __name__ == "__main__":  # pragma: no cover
    main()
