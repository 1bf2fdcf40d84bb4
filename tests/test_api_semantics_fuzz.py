"""API-semantics differential fuzzing: the many ways a MindSpore/JAX user calls
``grad``/``value_and_grad``/``ops.GradOperation`` on functions and Cells.

``tests/apisemfuzz.py`` writes a random module (a function or a Cell with
Parameters, sub-Cells, ``nn.Dense``, ``ops.*``, ``stop_gradient``; 1-4 array
or float inputs; 1-3 outputs as a value, tuple or list) and a random call
(``grad_position`` int/tuple/None, ``weights`` in every form, ``has_aux``,
``return_ids``, ``sens_param``, keyword arguments, grad of grad,
``GradOperation(get_all, get_by_list, sens_param)``).  Each case is checked
three ways:

1. the **structure** of the result (tuple nesting, bare vs tuple, order,
   types, dtypes, shapes), against an expectation built from docs/api.md's rules
   and docs/behaviour.md's decisions (``expected`` below), never from sourcegrad;
2. every **value** against central finite differences in float64 (a float64
   twin of the module, Parameters perturbed in place), the values and aux
   outputs against a direct call;
3. **invalid** combinations raise the error type docs/api.md and docs/behaviour.md name,
   with a message naming what is wrong.

    SOURCEGRAD_APISEM_FUZZ_N=3000 pytest tests/test_api_semantics_fuzz.py
    SOURCEGRAD_APISEM_FUZZ_SEED=7 ...
    python tests/test_api_semantics_fuzz.py 3000 [START]      # summary of a long run
    python tests/apisemfuzz.py 12                              # show case 12
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import traceback

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import Parameter, ParameterTuple, ops
from sourcegrad.testing import load_source as load, numeric_grad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apisemfuzz import generate  # noqa: E402

N = int(os.environ.get("SOURCEGRAD_APISEM_FUZZ_N", "500"))
SEED0 = int(os.environ.get("SOURCEGRAD_APISEM_FUZZ_SEED", "0"))




def as64(text):
    return re.sub(r"^DTYPES = \[.*\]$", lambda m: "DTYPES = [" + ", ".join(
        ["np.float64"] * m.group(0).count("np.float")) + "]", text, flags=re.M)


class Freezer:
    """``stop_gradient`` for finite differences: it records the values it sees at
    the unperturbed point, then returns those (in call order: the programs are
    straight-line code) however the inputs move."""

    def __init__(self):
        self.values, self.i, self.recording = [], 0, True

    def __call__(self, v):
        if self.recording:
            self.values.append(v.copy() if isinstance(v, np.ndarray) else v)
            return v
        self.i += 1
        return self.values[self.i - 1]

    def frozen(self, fn):
        def call(*a):
            self.i = 0
            return fn(*a)
        return call


def make_args(case, mod, f64=False):
    args = []
    for kind, v in zip(case.inputs, case.input_values):
        if kind[0] == "param":   # a Parameter of the module passed as an input
            args.append(getattr(mod, kind[2]))
        elif kind[0] == "float":
            args.append(float(v))
        else:
            dt = np.float64 if f64 else np.dtype(kind[2])
            args.append(np.array(v, dtype=dt).reshape(kind[1]))
    return args


def target_of(mod, case):
    if case.kind in ("fn", "forward"):
        return mod.f
    if case.kind == "cell":
        return mod.net
    return mod.net.construct


def weights_of(mod, expr):
    if expr is None:
        return None
    env = dict(vars(mod))
    env.update(np=np, Parameter=Parameter, ParameterTuple=ParameterTuple)
    return eval(expr, env)


def weight_list(w):
    if w is None:
        return []
    return [w] if isinstance(w, Parameter) else list(w)


# -- what comes back, from the rules -------------------------------------------------

def expected(case, call, nin, weights):
    """The result's structure as a tree of tuples whose leaves are ("in", pos),
    ("w", index), ("out",), ("aux",): docs/api.md's rules (and docs/behaviour.md's
    where it is silent), written out."""
    wl = weight_list(weights)
    if call["api"] == "GradOperation":
        # MindSpore GradOperation: first input bare; get_all: a tuple of all inputs;
        # get_by_list: a tuple of the weights; both: (inputs, weights)
        inp = tuple(("in", i) for i in range(nin)) if call["get_all"] else ("in", 0)
        if call["get_by_list"]:
            ws = tuple(("w", i) for i in range(len(wl)))
            return (inp, ws) if call["get_all"] else ws
        return inp
    pos = call["grad_position"]
    ids = call["return_ids"]

    def leaf_in(p):
        return ("id", p, ("in", p)) if ids else ("in", p)

    def leaf_w(i):
        return ("id", "name", ("w", i)) if ids else ("w", i)

    if pos is None:
        inp = None
    elif isinstance(pos, int):
        inp = leaf_in(pos)       # an int: one gradient, bare
    else:
        inp = tuple(leaf_in(p) for p in pos)  # a tuple (even a 1-tuple): a tuple
    if weights is None:
        grads = inp
    else:
        ws = leaf_w(0) if isinstance(weights, Parameter) else \
            tuple(leaf_w(i) for i in range(len(wl)))
        grads = ws if inp is None else (inp, ws)
    if call["api"] == "value_and_grad":
        return (("out",), grads)
    if call["has_aux"]:
        return (grads, ("aux",))
    return grads


# -- finite differences --------------------------------------------------------------

def _f64(o):
    """An output as float64; one that carries no gradient (None, an int) as 0."""
    if o is None or isinstance(o, (int, np.integer)) or \
            isinstance(o, np.ndarray) and not np.issubdtype(o.dtype, np.floating):
        return np.zeros(())
    return np.asarray(o, np.float64)


def objective(call, sens):
    def total(out):
        if call.get("has_aux"):
            out = out[0]
        if sens is not None:
            if isinstance(out, (tuple, list)):
                return float(sum(np.sum(_f64(o) * s) for o, s in zip(out, sens)))
            return float(np.sum(_f64(out) * sens))
        if isinstance(out, (tuple, list)):
            return float(sum(np.sum(_f64(o)) for o in out))
        return float(np.sum(_f64(out)))
    return total


def fd_input(fn, total, args, p, kwargs_names=()):
    return numeric_grad(lambda *a: total(fn(*a)), args, p)


def fd_weight(fn, total, args, w):
    if not w.requires_grad:
        return np.zeros(w.shape)   # docs/behaviour.md 2.5: requires_grad=False gets zeros
    base = np.array(w, dtype=np.float64)
    g = np.zeros_like(base)
    eps = 1e-6
    flat = g.reshape(-1)
    for i in range(base.size):
        for sgn in (1, -1):
            pert = base.copy().reshape(-1)
            pert[i] += sgn * eps
            w[...] = pert.reshape(base.shape)
            flat[i] += sgn * total(fn(*args))
        flat[i] /= 2 * eps
    w[...] = base
    return g


# -- comparing ------------------------------------------------------------------------

class Mismatch(AssertionError):
    pass


def check_leaf(got, want, like, where, tol):
    """``got`` must be a gradient for ``like`` (an input or a Parameter): same type,
    shape and dtype; value ``want`` (float64)."""
    if isinstance(like, np.ndarray):
        if type(got) is not np.ndarray:  # a new array, even for a Parameter (ref. 12.3)
            raise Mismatch(f"{where}: expected an ndarray, got {type(got).__name__}")
        if got.shape != like.shape or got.dtype != like.dtype:
            raise Mismatch(f"{where}: expected shape {like.shape} dtype {like.dtype}, got "
                           f"{got.shape} {got.dtype}")
    elif isinstance(like, float):
        if type(got) is not float:
            raise Mismatch(f"{where}: a Python float input's gradient must be a float, got "
                           f"{type(got).__name__}")
    rtol, atol = tol
    if not np.allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol):
        raise Mismatch(f"{where}: value {got!r} but finite differences give {want!r}")


def same_output(got, want, where):
    if isinstance(want, (tuple, list)):
        if type(got) is not type(want) or len(got) != len(want):
            raise Mismatch(f"{where}: expected {type(want).__name__}({len(want)}), got "
                           f"{type(got).__name__}"
                           f"({len(got) if isinstance(got, (tuple, list)) else '-'})")
        for i, (g, w) in enumerate(zip(got, want)):
            same_output(g, w, f"{where}[{i}]")
        return
    if want is None or got is None:
        if got is not want:
            raise Mismatch(f"{where}: {got!r}, a direct call gives {want!r}")
        return
    if np.shape(got) != np.shape(want) or np.asarray(got).dtype != np.asarray(want).dtype:
        raise Mismatch(f"{where}: expected {np.shape(want)} {np.asarray(want).dtype}, got "
                       f"{np.shape(got)} {np.asarray(got).dtype}")
    if not np.allclose(got, want, rtol=1e-6, atol=1e-7):
        raise Mismatch(f"{where}: value {got!r}, a direct call gives {want!r}")


def compare(got, tree, ctx, where="result"):
    if isinstance(tree, tuple) and tree and isinstance(tree[0], str):
        kind = tree[0]
        if kind == "id":
            if not (isinstance(got, tuple) and len(got) == 2):
                raise Mismatch(f"{where}: expected an (id, gradient) pair, got {got!r}")
            inner = tree[2]
            ident = inner[1] if inner[0] == "in" else ctx["wl"][inner[1]].name
            if got[0] != ident or type(got[0]) is not type(ident):
                raise Mismatch(f"{where}: id {got[0]!r}, expected {ident!r}")
            return compare(got[1], inner, ctx, f"{where}[1]")
        if kind == "in":
            p = tree[1]
            return check_leaf(got, ctx["fd_in"](p), ctx["args"][p], f"{where} (input {p})",
                              ctx["tol"])
        if kind == "w":
            i = tree[1]
            w = ctx["wl"][i]
            if not isinstance(w, Parameter):
                raise Mismatch("bad weight")
            return check_leaf(got, ctx["fd_w"](i), np.asarray(w).view(np.ndarray),
                              f"{where} (weight {i}, {w.name})", ctx["tol"])
        if kind == "out":
            return same_output(got, ctx["direct"], where)
        if kind == "aux":
            return same_output(got, tuple(ctx["direct"][1:]), where)
    if not isinstance(got, tuple) or len(got) != len(tree):
        raise Mismatch(f"{where}: expected a tuple of {len(tree)}, got "
                       f"{type(got).__name__}"
                       f"({len(got) if isinstance(got, (tuple, list)) else '-'})")
    for i, (g, t) in enumerate(zip(got, tree)):
        compare(g, t, ctx, f"{where}[{i}]")


# -- running one case ------------------------------------------------------------------

ERRORS = {
    "neg": ValueError, "dup": ValueError, "range": ValueError, "list": TypeError,
    "float": TypeError, "none": ValueError, "aux_type": TypeError, "ids_type": TypeError,
    "weights_array": TypeError, "weights_dict": TypeError, "weights_list_array": TypeError,
    "empty": (ValueError, RuntimeError), "aux_single": ValueError,
}


def build(mod, case, call, weights):
    target = target_of(mod, case)
    if call["api"] == "GradOperation":
        op = ops.GradOperation(get_all=call["get_all"], get_by_list=call["get_by_list"],
                               sens_param=call["sens_param"])
        return op(target, weights) if call["get_by_list"] else op(target)
    api = sg.grad if call["api"] == "grad" else sg.value_and_grad
    return api(target, call["grad_position"], weights, call["has_aux"], call["return_ids"],
               call["sens_param"])


def invoke(g, args, call):
    k = call.get("kwargs", 0)
    if k:
        n = len(args)
        kw = {f"x{i}": args[i] for i in range(n - k, n)}
        return g(*args[:n - k], **kw)
    return g(*args)


def run_invalid(case, mod, call):
    want = ERRORS[call["invalid"]]
    args = make_args(case, mod)
    weights = weights_of(mod, call["weights"])
    try:
        g = build(mod, case, call, weights)
        invoke(g, args, call)
    except want as exc:
        msg = str(exc)
        pos = call["grad_position"]
        if call["invalid"] in ("neg", "dup", "range"):
            bad = {"neg": lambda p: p < 0, "range": lambda p: p >= len(args),
                   "dup": lambda p: pos.count(p) > 1}[call["invalid"]]
            items = pos if isinstance(pos, tuple) else (pos,)
            p = next(p for p in items if bad(p))
            if str(p) not in msg:
                raise Mismatch(f"the message does not name position {p}: {msg!r}")
            if call["invalid"] != "dup" and str(len(args)) not in msg:
                raise Mismatch(f"the message does not name the arity {len(args)}: {msg!r}")
        if len(msg) < 20:
            raise Mismatch(f"an unclear message: {msg!r}")
        return "refused"
    except Exception as exc:
        raise Mismatch(f"{call['invalid']}: expected {want}, got {type(exc).__name__}: "
                       f"{exc}") from exc
    raise Mismatch(f"{call['invalid']}: expected {want}, nothing was raised")


def run_case(seed, tmp_dir):
    case = generate(seed)
    call = case.call
    mod = load(os.path.join(tmp_dir, f"as{seed}.py"), case.text)
    if call.get("invalid"):
        return run_invalid(case, mod, call)
    mod64 = load(os.path.join(tmp_dir, f"as{seed}_64.py"), as64(case.text))
    # the float64 twin for finite differences, stop_gradient freezing values
    modfd = load(os.path.join(tmp_dir, f"as{seed}_fd.py"),
                 as64(case.text).replace("ops.stop_gradient(", "stop_gradient("))
    freezer = modfd.stop_gradient = Freezer()
    nin = len(case.inputs)
    args, args64 = make_args(case, mod), make_args(case, modfd, f64=True)
    weights, weights64 = weights_of(mod, call["weights"]), weights_of(modfd, call["weights"])
    fn, fn64, fnfd = target_of(mod, case), target_of(mod64, case), target_of(modfd, case)
    direct = fn(*args)
    fnfd(*args64)
    freezer.recording = False
    fnfd = freezer.frozen(fnfd)
    sens = sens64 = None
    if call.get("sens_param"):
        rng = np.random.RandomState(seed)
        several = isinstance(direct, (tuple, list)) and not call.get("has_aux")
        outs = direct if several else (direct[0],) if call.get("has_aux") else (direct,)
        seeds = tuple(np.asarray(rng.uniform(-1, 1, np.shape(o)), np.asarray(o).dtype)
                      for o in outs)
        sens = seeds if several else seeds[0]
        sens64 = tuple(np.asarray(s, np.float64) for s in seeds) if several else \
            np.asarray(seeds[0], np.float64)
    total = objective(call, sens64)
    low = any(k[0] == "array" and k[2] == "float32" for k in case.inputs) or \
        "np.float32" in case.text.split("DTYPES = ")[1].split("\n")[0] or "nn.Dense" in case.text
    tol = (3e-3, 3e-4) if low else (1e-5, 1e-6)
    wl, wl64 = weight_list(weights), weight_list(weights64)

    if call.get("order2"):
        pos, outer_pos = call["grad_position"], call["outer_position"]
        inner64 = sg.grad(fn64, pos)
        # the inner gradient itself, against finite differences
        check_leaf(inner64(*args64), fd_input(fnfd, total, args64, pos), args64[pos],
                   "inner gradient", (1e-5, 1e-6))
        if call["order2"] == "direct":     # grad(grad(f, pos), outer_pos)
            got = sg.grad(sg.grad(fn, pos), outer_pos)(*args)
            want = numeric_grad(lambda *a: float(np.sum(inner64(*a))), args64, outer_pos)
        else:                               # grad(outer, outer_pos), outer calls grad(f)
            got = sg.grad(mod.outer, outer_pos)(*args)
            want = numeric_grad(mod64.outer, args64, outer_pos)
        check_leaf(got, want, args[outer_pos], f"grad of grad ({call['order2']})", tol)
        return "order2"

    g = build(mod, case, call, weights)
    extra = (sens,) if call.get("sens_param") else ()
    got = invoke(g, list(args) + list(extra), call)
    tree = expected(case, call, nin, weights)
    cache = {}

    def fd_in(p):
        if ("in", p) not in cache:
            cache["in", p] = fd_input(fnfd, total, args64, p)
        return cache["in", p]

    def fd_w(i):
        if ("w", i) not in cache:
            cache["w", i] = fd_weight(fnfd, total, args64, wl64[i])
        return cache["w", i]

    ctx = {"fd_in": fd_in, "fd_w": fd_w, "args": args, "wl": wl, "tol": tol,
           "direct": direct}
    compare(got, tree, ctx)
    # a second call (the cached and fast paths) gives the same
    again = invoke(g, list(args) + list(extra), call)
    compare(again, tree, ctx, "second call")
    return "ok"


def describe_failure(seed, exc):
    case = generate(seed)
    return (f"{type(exc).__name__}: {exc}\n--- case {seed}: {case.call}\n{case.text}")


@pytest.mark.parametrize("seed", range(SEED0, SEED0 + N))
def test_api_semantics(seed, tmp_path):
    try:
        run_case(seed, str(tmp_path))
    except Exception as exc:
        pytest.fail(describe_failure(seed, exc) + "\n" + traceback.format_exc(limit=-3))


def test_generator_covers_the_api():
    calls = [generate(s).call for s in range(1500)]
    assert {c["api"] for c in calls} == {"grad", "value_and_grad", "GradOperation"}
    assert any(c.get("has_aux") is True and not c.get("invalid") for c in calls)
    assert any(c.get("sens_param") for c in calls)
    assert any(c.get("order2") for c in calls)
    assert any(c.get("return_ids") is True for c in calls)
    assert {c.get("invalid") for c in calls} >= set(ERRORS)
    kinds = {generate(s).kind for s in range(100)}
    assert kinds == {"fn", "cell", "method", "forward"}
    assert {c.get("order2") for c in calls} >= {"direct", "source"}


def main(argv):
    n = int(argv[1]) if len(argv) > 1 else 1000
    start = int(argv[2]) if len(argv) > 2 else 0
    counts, failures = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(start, start + n):
            try:
                kind = run_case(seed, tmp)
            except Exception as exc:
                kind = "FAIL"
                failures.append((seed, f"{type(exc).__name__}: {str(exc)[:300]}"))
            counts[kind] = counts.get(kind, 0) + 1
    print(f"{n} cases from {start}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    groups = {}
    for seed, msg in failures:
        key = re.sub(r"\d+(\.\d+)?", "#", msg.split("\n")[0])[:120]
        groups.setdefault(key, []).append(seed)
    for key, seeds in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"{len(seeds):5d}  {key}   e.g. {seeds[:6]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
