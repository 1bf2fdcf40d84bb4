"""Random programs for the differential fuzzer (tests/test_fuzz.py).

``generate(seed)`` returns a :class:`Program`: a module of NumPy code within
sourcegrad's supported subset (arithmetic, NumPy calls, broadcasting, tuple
unpacking, augmented assignment, subscript reads and writes, data-dependent
``if``/conditional expressions, ``for``/``while`` loops with
``break``/``continue``, early ``return``, helper functions,
``sg.stop_gradient``, tuple and non-scalar outputs).

Each program is rendered twice from one expression tree:

* ``clean``: what sourcegrad differentiates, plain code as a person writes it;
* ``ref``: the same computation with hooks, used only for finite
  differences.  Every data-dependent comparison and every ``np.maximum``/
  ``np.minimum`` records its distance to the boundary (``_H.margin``) so the
  fuzzer can keep inputs away from kinks and branch switches, and every
  ``sg.stop_gradient(e)`` records ``e`` at the base point and replays it
  during the finite-difference sweeps (so FD sees a constant there too).

Values are kept bounded (tanh/sin/cos, exp of bounded arguments, log of
``1 + e*e``, divisions by ``1.5 + cos(e)`` or ``1 + e*e``, loop updates that
contract), so finite differences are meaningful.

``generate_wide(seed)`` (below, driven by tests/test_fuzz_wide.py and
tests/fuzzcheck.py) writes what users write beyond this grammar: see the
comment above it.  A campaign with reduction of each failure::

    python -m tests.fuzzgen --seed 0 --count 2000 --jobs 2 --reduce --out fuzz-failures
    python -m tests.fuzzgen --seed 0 --count 500 --nested          # nested defs, lambdas
    python -m tests.fuzzgen --seed 0 --count 500 --off self_assign,int   # look behind
    python tests/fuzzgen.py 17 wide                                # show wide program 17
"""
from __future__ import annotations

import ast as _ast
import random
from dataclasses import dataclass, field

S0, S3, S23, S21 = (), (3,), (2, 3), (2, 1)
SHAPES = (S0, S3, S23, S21)
ARG_SHAPES = (S0, S3, S23)


def bshape(a, b):
    import numpy as np
    return tuple(np.broadcast_shapes(a, b))


def subshapes(s):
    """Shapes that broadcast (with s) to exactly s."""
    return [t for t in SHAPES if bshape(t, s) == s]


# -- expression tree --------------------------------------------------------------------

class E:
    def render(self, ref):  # pragma: no cover
        raise NotImplementedError


@dataclass
class Name(E):
    id: str

    def render(self, ref):
        return self.id


@dataclass
class Lit(E):
    text: str

    def render(self, ref):
        return self.text


@dataclass
class Call(E):
    fn: str
    args: list
    kw: str = ""

    def render(self, ref):
        parts = [a.render(ref) for a in self.args] + ([self.kw] if self.kw else [])
        return f"{self.fn}({', '.join(parts)})"


@dataclass
class Bin(E):
    op: str
    left: E
    right: E

    def render(self, ref):
        return f"({self.left.render(ref)} {self.op} {self.right.render(ref)})"


@dataclass
class Neg(E):
    e: E

    def render(self, ref):
        return f"(-{self.e.render(ref)})"


@dataclass
class Sub(E):
    e: E
    idx: str

    def render(self, ref):
        return f"{self.e.render(ref)}[{self.idx}]"


@dataclass
class Cmp(E):
    """A data-dependent comparison ``e > c`` (elementwise or scalar)."""
    e: E
    op: str
    c: str

    def render(self, ref):
        if ref:
            return f"_H.cmp({self.e.render(ref)}, {self.c}, {self.op!r})"
        return f"({self.e.render(ref)} {self.op} {self.c})"


@dataclass
class Kink(E):
    """np.maximum / np.minimum: the ref records the distance between arguments."""
    fn: str
    a: E
    b: E

    def render(self, ref):
        if ref:
            return f"_H.kink({self.fn}, {self.a.render(ref)}, {self.b.render(ref)})"
        return f"{self.fn}({self.a.render(ref)}, {self.b.render(ref)})"


@dataclass
class Stop(E):
    e: E

    def render(self, ref):
        if ref:
            return f"_H.stop({self.e.render(ref)})"
        return f"sg.stop_gradient({self.e.render(ref)})"


@dataclass
class IfExp(E):
    cond: E
    a: E
    b: E

    def render(self, ref):
        return f"({self.a.render(ref)} if {self.cond.render(ref)} else {self.b.render(ref)})"


# -- statements: (indent-free) line producers ---------------------------------------------

@dataclass
class St:
    kind: str
    parts: list = field(default_factory=list)
    body: list = field(default_factory=list)
    orelse: list = field(default_factory=list)

    def render(self, ref, ind=1):
        pad = "    " * ind
        k, p = self.kind, self.parts
        if k == "assign":          # target text, expr
            return [f"{pad}{p[0]} = {p[1].render(ref)}"]
        if k == "aug":             # target, op, expr
            return [f"{pad}{p[0]} {p[1]}= {p[2].render(ref)}"]
        if k == "unpack":          # targets, exprs
            return [f"{pad}{', '.join(p[0])} = {', '.join(e.render(ref) for e in p[1])}"]
        if k == "unpack_call":     # targets, call expr
            return [f"{pad}{', '.join(p[0])} = {p[1].render(ref)}"]
        if k == "raw":
            return [f"{pad}{p[0]}"]
        if k == "if":
            out = [f"{pad}if {p[0].render(ref)}:"]
            out += _block(self.body, ref, ind + 1)
            if self.orelse:
                out += [f"{pad}else:"] + _block(self.orelse, ref, ind + 1)
            return out
        if k == "for":             # loop var, count
            return [f"{pad}for {p[0]} in range({p[1]}):"] + _block(self.body, ref, ind + 1)
        if k == "while":           # counter, bound
            return ([f"{pad}{p[0]} = 0", f"{pad}while {p[0]} < {p[1]}:"]
                    + _block(self.body, ref, ind + 1))
        if k == "return":
            return [f"{pad}return {p[0].render(ref) if isinstance(p[0], E) else p[0]}"]
        raise ValueError(k)


def _block(stmts, ref, ind):
    out = []
    for s in stmts:
        out += s.render(ref, ind)
    return out or ["    " * ind + "pass"]


# -- the generator ------------------------------------------------------------------------

CONSTS = {
    S3: "C3", S23: "C23", S21: "C21",
}
PRELUDE_CONSTS = (
    "C3 = np.array([0.3, -0.2, 0.5])\n"
    "C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])\n"
    "C21 = np.array([[0.2], [-0.35]])\n"
)

REF_HOOKS = '''
class _Hooks:
    """Margins of comparisons and kinks; record/replay of stop_gradient values."""

    def __init__(self):
        self.mode = "record"
        self.margin = float("inf")
        self.stops = []
        self.k = 0

    def start(self, mode):
        self.mode = mode
        self.k = 0
        if mode == "record":
            self.stops = []
            self.margin = float("inf")

    def cmp(self, e, c, op):
        if self.mode == "record":
            self.margin = min(self.margin, float(np.min(np.abs(np.asarray(e) - c))))
        return e > c if op == ">" else e < c

    def kink(self, fn, a, b):
        if self.mode == "record":
            self.margin = min(self.margin, float(np.min(np.abs(np.asarray(a) - b))))
        return fn(a, b)

    def stop(self, e):
        if self.mode == "record":
            self.stops.append(np.copy(e))
            return e
        v = self.stops[self.k]
        self.k += 1
        return v if np.ndim(v) else v[()]


_H = _Hooks()
'''


class Scope:
    def __init__(self, rng, vars_, owned, helpers, loopvars=()):
        self.rng = rng
        self.vars = dict(vars_)      # name -> shape
        self.owned = set(owned)      # fresh arrays we may write into
        self.helpers = helpers       # list of (name, param shapes, out shapes or shape)
        self.loopvars = list(loopvars)
        self.n = 0


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.counter = 0
        self.features = set()
        self.has_stop = False

    def fresh(self, base="v"):
        self.counter += 1
        return f"{base}{self.counter}"

    def c(self, lo=-1.0, hi=1.0):
        return f"{self.rng.uniform(lo, hi):.3f}"

    # expressions of an exact shape ------------------------------------------------
    def leaf(self, sc, shape):
        cands = [n for n, s in sc.vars.items() if s == shape]
        r = self.rng.random()
        if cands and r < 0.85:
            return Name(self.rng.choice(cands))
        if shape == S0:
            if sc.loopvars and r < 0.93:
                return Bin("*", Lit(self.c(0.05, 0.3)), Name(self.rng.choice(sc.loopvars)))
            return Lit(self.c())
        # a broadcast of a smaller variable, or a module constant
        smaller = [n for n, s in sc.vars.items() if s != shape and bshape(s, shape) == shape]
        if smaller and r < 0.95:
            return Bin(self.rng.choice("+*"), Name(self.rng.choice(smaller)),
                       Name(CONSTS[shape]))
        return Name(CONSTS[shape])

    def bounded(self, sc, shape, depth):
        """An expression whose magnitude stays moderate."""
        e = self.expr(sc, shape, depth)
        f = self.rng.choice(["np.tanh", "np.sin", "np.cos"])
        return Call(f, [e])

    def expr(self, sc, shape, depth):
        rng = self.rng
        if depth <= 0:
            return self.leaf(sc, shape)
        d = depth - 1
        choices = ["leaf", "unary", "unary", "bin", "bin", "bin", "pow", "div", "explog",
                   "reduce", "kink", "where", "sub", "stop", "ifexp", "helper", "neg"]
        k = rng.choice(choices)
        if k == "leaf":
            return self.leaf(sc, shape)
        if k == "neg":
            return Neg(self.expr(sc, shape, d))
        if k == "unary":
            return Call(rng.choice(["np.sin", "np.cos", "np.tanh"]), [self.expr(sc, shape, d)])
        if k == "bin":
            a = self.expr(sc, shape, d)
            b = self.expr(sc, rng.choice(subshapes(shape)), d)
            if rng.random() < 0.5:
                a, b = b, a
            op = rng.choice(["+", "-", "*"])
            if op == "*" and rng.random() < 0.5:
                b = Call("np.tanh", [b])
            return Bin(op, a, b)
        if k == "pow":
            self.features.add("pow")
            e = self.bounded(sc, shape, d)
            p = rng.choice(["2", "3", "2", "-1", "0.5", "-2"])
            if p in ("-1", "0.5", "-2"):
                e = Bin("+", Lit("1.0"), Bin("*", e, e))
            return Bin("**", e, Lit(p))
        if k == "div":
            self.features.add("div")
            num = self.expr(sc, shape, d)
            den_shape = rng.choice(subshapes(shape))
            den = self.expr(sc, den_shape, d)
            if rng.random() < 0.5:
                den = Bin("+", Lit("1.5"), Call("np.cos", [den]))
            else:
                den = Bin("+", Lit("1.0"), Bin("*", den, den))
            return Bin("/", num, den)
        if k == "explog":
            inner = self.expr(sc, shape, d)
            self.features.add("explog")
            return rng.choice([
                lambda: Call("np.exp", [Call("np.tanh", [inner])]),
                lambda: Call("np.exp", [Call("np.sin", [inner])]),
                lambda: Call("np.log", [Bin("+", Lit("1.0"), Bin("*", inner, inner))]),
                lambda: Call("np.log", [Bin("+", Lit("2.0"), Call("np.cos", [inner]))]),
            ])()
        if k == "reduce":
            self.features.add("reduce")
            fn = rng.choice(["np.sum", "np.mean"])
            if shape == S0:
                src = rng.choice([S3, S23, S21])
                return Call(fn, [self.expr(sc, src, d)])
            if shape == S3:
                return Call(fn, [self.expr(sc, S23, d)], "axis=0")
            if shape == S21:
                return Call(fn, [self.expr(sc, S23, d)], rng.choice(["axis=1, keepdims=True",
                                                                      "axis=-1, keepdims=True"]))
            return self.expr(sc, shape, d)
        if k == "kink":
            self.features.add("kink")
            a = self.expr(sc, shape, d)
            b = self.expr(sc, rng.choice(subshapes(shape)), d)
            if a.render(False) == b.render(False):  # a tie everywhere
                b = Lit(self.c())
            return Kink(rng.choice(["np.maximum", "np.minimum"]), a, b)
        if k == "where":
            self.features.add("where")
            mshape = rng.choice(subshapes(shape))
            cond = Cmp(self.expr(sc, mshape, d), rng.choice(["<", ">"]), self.c(-0.5, 0.5))
            return Call("np.where", [cond, self.expr(sc, shape, d),
                                     self.expr(sc, rng.choice(subshapes(shape)), d)])
        if k == "sub":
            self.features.add("subscript")
            if shape == S0:
                v = [n for n, s in sc.vars.items() if s == S3]
                if v:
                    return Sub(Name(rng.choice(v)), str(rng.randrange(-3, 3)))
                v = [n for n, s in sc.vars.items() if s == S23]
                if v:
                    return Sub(Name(rng.choice(v)), f"{rng.randrange(2)}, {rng.randrange(3)}")
            if shape == S3:
                v = [n for n, s in sc.vars.items() if s == S23]
                if v and rng.random() < 0.6:
                    return Sub(Name(rng.choice(v)), str(rng.randrange(2)))
                v = [n for n, s in sc.vars.items() if s == S3]
                if v:
                    return Sub(Name(rng.choice(v)),
                               rng.choice(["::-1", ":", "np.array([2, 0, 1])"]))
            if shape == S21:
                v = [n for n, s in sc.vars.items() if s == S23]
                if v:
                    j = rng.randrange(3)
                    return Sub(Name(rng.choice(v)), f":, {j}:{j + 1}")
            return self.expr(sc, shape, d)
        if k == "stop":
            self.features.add("stop_gradient")
            self.has_stop = True
            return Stop(self.expr(sc, shape, d))
        if k == "ifexp":
            self.features.add("ifexp")
            return IfExp(self.scalar_cond(sc, d), self.expr(sc, shape, d),
                         self.expr(sc, shape, d))
        if k == "helper":
            hs = [h for h in sc.helpers if h[2] == shape]
            if not hs:
                return self.expr(sc, shape, d)
            self.features.add("helper")
            name, pshapes, _ = rng.choice(hs)
            return Call(name, [self.expr(sc, s, d) for s in pshapes])
        raise AssertionError(k)

    def scalar_cond(self, sc, depth):
        src = self.rng.choice(SHAPES)
        e = self.expr(sc, src, max(depth, 0))
        if src != S0:
            e = Call(self.rng.choice(["np.sum", "np.mean"]), [e])
        return Cmp(e, self.rng.choice([">", "<"]), self.c(-1.0, 1.0))

    # statements -----------------------------------------------------------------------
    def new_var(self, sc, out, depth=2):
        shape = self.rng.choice(SHAPES)
        e = self.expr(sc, shape, self.rng.randint(1, depth))
        if isinstance(e, Name):
            e = Call("np.tanh", [e])
        n = self.fresh()
        out.append(St("assign", [n, e]))
        sc.vars[n] = shape
        if shape != S0 and not isinstance(e, (Sub, Stop, IfExp)) and \
                not (isinstance(e, Call) and e.fn.startswith("h")):
            sc.owned.add(n)
        return n

    def update(self, sc, out, depth):
        """Reassign an existing variable, keeping its shape and magnitude."""
        rng = self.rng
        if not sc.vars:
            return
        n = rng.choice(sorted(sc.vars))
        shape = sc.vars[n]
        k = rng.random()
        if k < 0.3 and (n in sc.owned or shape == S0):
            self.features.add("augassign")
            op = rng.choice(["+", "-", "*"])
            e = self.expr(sc, rng.choice(subshapes(shape)), depth)
            if op == "*":
                e = Call("np.cos", [e])
            else:
                e = Bin("*", Lit(self.c(0.1, 0.5)), Call("np.tanh", [e]))
            out.append(St("aug", [n, op, e]))
        elif k < 0.45 and n in sc.owned and shape != S0:
            self.features.add("setitem")
            row, col = rng.randrange(2), rng.randrange(3)
            idx = {S3: str(col), S23: rng.choice([str(row), f"{row}, {col}"]),
                   S21: f"{row}, 0"}[shape]
            sub_shape = S3 if (shape == S23 and "," not in idx) else S0
            out.append(St("assign", [f"{n}[{idx}]", Call("np.sin",
                                                         [self.expr(sc, sub_shape, depth)])]))
        elif k < 0.55:
            same = [m for m, s in sc.vars.items() if s == shape and m != n]
            # no swaps inside loops: a swap late in the body would make an earlier write
            # of the next iteration go into an input's memory (the program's own bug)
            if same and not sc.loopvars:
                self.features.add("swap")
                m = rng.choice(same)
                out.append(St("unpack", [[n, m], [Name(m), Name(n)]]))
                sc.owned.discard(n)
                sc.owned.discard(m)
                return
            out.append(St("assign", [n, Call("np.tanh", [self.expr(sc, shape, depth)])]))
        else:
            e = self.expr(sc, rng.choice(subshapes(shape)), depth)
            out.append(St("assign", [n, Bin("+", Bin("*", Lit(self.c(0.2, 0.7)), Name(n)),
                                             Call("np.sin", [e]))]))
            sc.owned.add(n) if shape != S0 else None

    def inner_block(self, sc, depth, loop):
        """Statements inside a branch or loop: only updates of existing variables."""
        out = []
        for _ in range(self.rng.randint(1, 3)):
            r = self.rng.random()
            if loop and r < 0.15:
                self.features.add("break")
                out.append(St("if", [self.scalar_cond(sc, 1)], [St("raw", ["break"])]))
            elif loop and r < 0.25:
                self.features.add("continue")
                out.append(St("if", [self.scalar_cond(sc, 1)], [St("raw", ["continue"])]))
            elif depth > 0 and r < 0.35:
                out.append(self.compound(sc, depth - 1))
            else:
                self.update(sc, out, 1)
        return out

    def compound(self, sc, depth):
        before = set(sc.owned)
        st = self._compound(sc, depth)
        # a variable made fresh in a branch or loop may still alias an input on
        # another path: only what was owned before stays owned
        sc.owned &= before
        return st

    def _compound(self, sc, depth):
        rng = self.rng
        k = rng.choice(["if", "if", "for", "while"])
        if k == "if":
            self.features.add("if")
            before = set(sc.owned)
            body = self.inner_block(sc, depth, False)
            sc.owned &= before  # the else branch does not see the body's fresh arrays
            orelse = self.inner_block(sc, depth, False) if rng.random() < 0.6 else []
            return St("if", [self.scalar_cond(sc, 1)], body, orelse)
        lv = f"i{len(sc.loopvars)}"
        sc.loopvars.append(lv)
        if k == "for":
            self.features.add("for")
            body = self.inner_block(sc, depth, True)
            st = St("for", [lv, rng.choice(["2", "3", "4"])], body)
        else:
            self.features.add("while")
            inc = St("raw", [f"{lv} += 1"])
            body = self.inner_block(sc, depth, True)
            # increment first, so `continue` cannot loop forever
            st = St("while", [lv, rng.choice(["2", "3"])], [inc] + body)
        sc.loopvars.pop()
        return st

    def function(self, name, pshapes, helpers, out_kind, n_stmts):
        rng = self.rng
        params = [f"{'xyzw'[i]}" for i in range(len(pshapes))]
        sc = Scope(rng, dict(zip(params, pshapes)), (), helpers)
        body = []
        for _ in range(n_stmts):
            r = rng.random()
            if r < 0.45 or len(sc.vars) < 2:
                self.new_var(sc, body)
            elif r < 0.55:
                self.features.add("unpack")
                a, b = self.fresh(), self.fresh()
                tup = [h for h in helpers if isinstance(h[2], list)]
                if tup and rng.random() < 0.5:
                    hname, hps, outs = rng.choice(tup)
                    body.append(St("unpack_call", [[a, b], Call(hname, [
                        self.expr(sc, s, 1) for s in hps])]))
                    sc.vars[a], sc.vars[b] = outs
                else:
                    sa, sb = rng.choice(SHAPES), rng.choice(SHAPES)
                    ea = Call("np.tanh", [self.expr(sc, sa, 2)])
                    eb = Call("np.sin", [self.expr(sc, sb, 2)])
                    body.append(St("unpack", [[a, b], [ea, eb]]))
                    sc.vars[a], sc.vars[b] = sa, sb
                    if sa != S0:
                        sc.owned.add(a)
                    if sb != S0:
                        sc.owned.add(b)
            elif r < 0.65:
                self.update(sc, body, 2)
            else:
                body.append(self.compound(sc, 1))
        # outputs
        locals_ = [n for n in sc.vars if n not in params] or list(sc.vars)
        if out_kind == "tuple":
            k = rng.randint(2, 3)
            picks = [rng.choice(locals_) for _ in range(k)]
            shapes = [sc.vars[p] for p in picks]
            ret = St("return", [", ".join(picks)])
            return body, ret, params, shapes
        if isinstance(out_kind, tuple):  # a fixed output shape (helpers)
            e = self.expr(sc, out_kind, 2)
            if isinstance(e, Name):
                e = Call("np.tanh", [e])
            return body, St("return", [e]), params, out_kind
        pick = rng.choice(locals_)
        if out_kind == "scalar":
            e = Name(pick) if sc.vars[pick] == S0 else Call("np.sum", [Name(pick)])
            shape = S0
        elif out_kind == "array":
            nonscalar = [n for n in locals_ if sc.vars[n] != S0]
            pick = rng.choice(nonscalar) if nonscalar else pick
            e, shape = Name(pick), sc.vars[pick]
        else:  # with a non-differentiable extra output
            self.features.add("int_output")
            return body, St("return", [f"{pick}, {rng.choice(['2', 'None', 'len(C3)'])}"]), \
                params, [sc.vars[pick], None]
        if rng.random() < 0.1 and out_kind == "scalar":
            # an early return in a top-level branch
            self.features.add("early_return")
            alt = rng.choice(locals_)
            alt_e = Name(alt) if sc.vars[alt] == S0 else Call("np.sum", [Name(alt)])
            body.append(St("if", [self.scalar_cond(sc, 1)], [St("return", [alt_e])]))
        return body, St("return", [e]), params, shape


def split_program(text):
    """(head, body lines): the module prelude and the defs after it."""
    i = text.index("\ndef ") + 1
    return text[:i], text[i:].splitlines()


@dataclass
class Program:
    seed: int
    clean: str
    ref: str
    arg_shapes: list          # shapes of the main function's arguments
    positions: object         # grad_position
    features: set
    has_stop: bool

    def args(self, rng):
        out = []
        for s in self.arg_shapes:
            if s == S0:
                out.append(float(rng.uniform(-1.2, 1.2)))
            else:
                out.append(rng.uniform(-1.2, 1.2, size=s))
        return tuple(out)


def generate(seed: int) -> Program:
    g = Gen(seed)
    rng = g.rng
    helpers = []
    defs_clean, defs_ref = [], []
    for h in range(rng.choice([0, 0, 1, 1, 2])):
        pshapes = [rng.choice(ARG_SHAPES) for _ in range(rng.randint(1, 2))]
        tuple_out = rng.random() < 0.3
        out_kind = "tuple" if tuple_out else rng.choice(SHAPES)
        name = f"h{h}"
        body, ret, params, shapes = g.function(name, pshapes, list(helpers), out_kind,
                                               rng.randint(1, 3))
        if tuple_out:
            # exactly two outputs, for `a, b = h(...)`
            shapes = shapes[:2]
            ret = St("return", [", ".join(ret.parts[0].split(", ")[:2])])
        header = f"def {name}({', '.join(params)}):"
        for ref, dst in ((False, defs_clean), (True, defs_ref)):
            dst.append("\n".join([header] + _block(body, ref, 1) + ret.render(ref, 1)))
        helpers.append((name, pshapes, shapes))
    nargs = rng.randint(1, 3)
    arg_shapes = [rng.choice(ARG_SHAPES) for _ in range(nargs)]
    out_kind = rng.choice(["scalar", "scalar", "scalar", "array", "tuple", "extra"])
    body, ret, params, _ = g.function("f", arg_shapes, helpers, out_kind, rng.randint(2, 6))
    header = f"def f({', '.join(params)}):"
    pos = rng.sample(range(nargs), rng.randint(1, nargs))
    positions = pos[0] if (len(pos) == 1 and rng.random() < 0.5) else tuple(pos)
    head = "import numpy as np\nimport sourcegrad as sg\n\n" + PRELUDE_CONSTS
    srcs = []
    for ref, defs in ((False, defs_clean), (True, defs_ref)):
        fn = "\n".join([header] + _block(body, ref, 1) + ret.render(ref, 1))
        text = head + (REF_HOOKS if ref else "") + "\n\n" + "\n\n\n".join(defs + [fn]) + "\n"
        srcs.append(text)
    return Program(seed, srcs[0], srcs[1], arg_shapes, positions, g.features, g.has_stop)


# == the wide generator: what users write ================================================
#
# ``generate_wide(seed)`` writes programs with the constructs people use and the
# classic generator never wrote: self-assignment and swaps (also simultaneous
# updates in loops), ``and``/``or``/``not`` and chained comparisons in every test
# position (if/elif/while/conditional expression), parameters rebound in branches
# and loops (also to another shape or type), lists and tuples (``+``, ``+=``,
# append/extend, aliasing then mutating, subscript writes, loops over them), dicts
# (read, write, loops over keys/items/values, dict parameters), integer,
# float32, 0-d and Python-number inputs, builtin ``max``/``min``/``sum``/``abs``,
# decorators (``functools.wraps`` wrappers that change the value), deep ``elif``
# chains, chains of helper calls, early returns inside branches and loops, and
# (``nested=True``) nested ``def``s and lambdas.
#
# Only the plain program is written; its finite-difference twin is derived from
# it by :func:`make_ref` (an AST rewrite), so a reduced program keeps its twin.


@dataclass
class Chain(E):
    """A chained comparison ``lo < e < hi`` (or any operands)."""
    items: list          # operands (E)
    ops: list            # comparison operators

    def render(self, ref):
        out = self.items[0].render(ref)
        for op, e in zip(self.ops, self.items[1:]):
            out += f" {op} {e.render(ref)}"
        return f"({out})"


@dataclass
class BoolOp(E):
    op: str
    values: list

    def render(self, ref):
        return "(" + f" {self.op} ".join(v.render(ref) for v in self.values) + ")"


@dataclass
class Not(E):
    e: E

    def render(self, ref):
        return f"(not {self.e.render(ref)})"


class WSt(St):
    """Statements of the wide generator (rendered plain only)."""

    def render(self, ref, ind=1):
        pad = "    " * ind
        k, p = self.kind, self.parts
        if k == "elif":            # conds, bodies (the else body is self.orelse)
            out = []
            for j, (c, b) in enumerate(zip(p[0], p[1])):
                out.append(f"{pad}{'if' if j == 0 else 'elif'} {c.render(ref)}:")
                out += _block(b, ref, ind + 1)
            if self.orelse:
                out += [f"{pad}else:"] + _block(self.orelse, ref, ind + 1)
            return out
        if k == "forin":           # target text, iterable text
            return [f"{pad}for {p[0]} in {p[1]}:"] + _block(self.body, ref, ind + 1)
        if k == "whilec":          # counter, bound, cond, counter first?
            lim = f"{p[0]} < {p[1]}"
            test = f"{lim} and {p[2].render(ref)}" if p[3] else f"{p[2].render(ref)} and {lim}"
            return ([f"{pad}{p[0]} = 0", f"{pad}while {test}:"]
                    + _block(self.body, ref, ind + 1))
        if k == "def":             # header line, body, return line
            return ([f"{pad}{p[0]}"] + _block(self.body, ref, ind + 1)
                    + [f"{pad}    return {p[1]}"])
        return St.render(self, ref, ind)


def R_(e):
    """An expression as plain text."""
    return e.render(False) if isinstance(e, E) else str(e)


DECORATORS = '''

def doubled(fn):
    """Doubles what fn returns."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def logged(fn):
    """Returns what fn returns (a pass-through wrapper)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        return out
    return wrapper


def shifted(c):
    """A decorator factory: calls fn with its first argument shifted by c."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(x, *rest):
            return fn(x + c, *rest)
        return wrapper
    return deco


def apply_twice(fn, v):
    return fn(fn(v))
'''

# argument kinds of the wide generator: (kind, shape in the program's scope)
WIDE_KINDS = ("f64", "f64", "f64", "float", "float", "0d", "int", "intarr", "dict", "list")


class WScope(Scope):
    def __init__(self, rng, vars_, owned, helpers, loopvars=()):
        super().__init__(rng, vars_, owned, helpers, loopvars)
        self.readonly = set()      # names never written (entries of input containers)
        self.shared0 = set()       # 0-d names that may be an input's 0-d array
        self.lists = {}            # name -> [element shape, min length, kind, alias group]
        self.dicts = {}            # name -> [keys], readonly?
        self.anyshape = set()      # rebound to another shape/type: read as np.sum(name)
        self.funcs = []            # nested defs/lambdas: (name, param shape, out shape, frees)
        self.in_loop = 0
        self.fib = False           # in a loop with simultaneous updates: no in-place ops
        self.out = None            # the function's output spec, for early returns
        self.consts = set()        # constant arrays made in the body (const_array)


class WideGen(Gen):
    def __init__(self, seed, nested=False, off=()):
        super().__init__(seed)
        self.nested = nested
        self.float32 = False
        self.off = frozenset(off)   # constructs left out (see OFF_SWITCHES)

    # -- expressions --------------------------------------------------------------
    def leaf(self, sc, shape):
        r = self.rng.random()
        if isinstance(sc, WScope):
            if shape == S0 and sc.anyshape and r < 0.15:
                self.features.add("rebound_other_shape_read")
                return Call("np.sum", [Name(self.rng.choice(sorted(sc.anyshape)))])
            ls = [n for n, v in sc.lists.items() if v[0] == shape and v[1] >= 1]
            if ls and r < 0.3:
                n = self.rng.choice(ls)
                self.features.add("list_read")
                k = self.rng.random()
                if k < 0.4:
                    return Sub(Name(n), self.rng.choice(["-1", "0"]))
                if k < 0.7:
                    return Sub(Name(n), str(self.rng.randrange(sc.lists[n][1])))
                self.features.add("builtin_sum")
                return Bin("*", Lit("0.5"), Call("sum", [Name(n)]))
        return super().leaf(sc, shape)

    def expr(self, sc, shape, depth):
        rng = self.rng
        if depth > 0 and isinstance(sc, WScope) and sc.funcs and rng.random() < 0.3:
            fs = [f for f in sc.funcs if f[2] == shape]
            if fs:
                name, ps, _, _ = rng.choice(fs)
                self.features.add("nested_call")
                if ps == shape and rng.random() < 0.3:
                    self.features.add("function_passed")
                    return Bin("*", Lit("0.5"), Call("apply_twice",
                                                     [Name(name), self.expr(sc, ps, depth - 1)]))
                return Call(name, [self.expr(sc, ps, depth - 1)])
        if depth > 0 and isinstance(sc, WScope) and rng.random() < 0.22:
            d = depth - 1
            k = rng.choice(["builtin", "builtin", "abs", "func", "mixed"])
            if k in ("builtin", "abs") and "builtin" in self.off:
                k = "mixed"
            if k == "builtin":
                if shape == S0:
                    r = rng.random()
                    if r < 0.35:
                        self.features.add("builtin_maxmin_array")
                        return Call(rng.choice(["max", "min"]), [self.expr(sc, S3, d)])
                    if r < 0.7:
                        self.features.add("builtin_maxmin_scalars")
                        n = rng.choice([2, 2, 3])
                        return Call(rng.choice(["max", "min"]),
                                    [self.expr(sc, S0, d) for _ in range(n)])
                    self.features.add("builtin_sum")
                    return Bin("*", Lit("0.3"), Call("sum", [self.expr(sc, S3, d)]))
                if shape == S3:
                    self.features.add("builtin_sum")
                    return Bin("*", Lit("0.5"), Call("sum", [self.expr(sc, S23, d)]))
            if k == "abs":
                self.features.add("builtin_abs")
                return Call(rng.choice(["abs", "abs", "np.abs"]), [self.expr(sc, shape, d)])
            if k == "func" and sc.funcs:
                fs = [f for f in sc.funcs if f[2] == shape]
                if fs:
                    name, ps, _, _ = rng.choice(fs)
                    self.features.add("nested_call")
                    if ps == shape and rng.random() < 0.3:
                        self.features.add("function_passed")
                        return Bin("*", Lit("0.5"), Call("apply_twice",
                                                         [Name(name), self.expr(sc, ps, d)]))
                    return Call(name, [self.expr(sc, ps, d)])
            if k == "mixed":
                # a Python float or int mixed in
                self.features.add("python_numbers")
                return Bin(rng.choice(["+", "*"]), self.expr(sc, shape, d),
                           Lit(rng.choice(["2", "1", "0.5", "float(2)"])))
        return super().expr(sc, shape, depth)

    def atom_cond(self, sc, depth):
        rng = self.rng
        r = rng.random()
        if r < 0.2:
            self.features.add("chained_cmp")
            src = rng.choice(SHAPES)
            e = self.expr(sc, src, max(depth, 0))
            if src != S0:
                e = Call(rng.choice(["np.sum", "np.mean"]), [e])
            lo = rng.uniform(-1.0, 0.6)
            hi = lo + rng.uniform(0.2, 1.2)
            if rng.random() < 0.5:
                return Chain([Lit(f"{lo:.3f}"), e, Lit(f"{hi:.3f}")], ["<", "<="])
            return Chain([Lit(f"{hi:.3f}"), e, Lit(f"{lo:.3f}")], [">", ">"])
        if r < 0.3:
            self.features.add("cmp_two_exprs")
            a = self.expr(sc, S0, max(depth, 0))
            b = self.expr(sc, S0, max(depth, 0))
            if a.render(False) == b.render(False):
                b = Lit(self.c())
            return Cmp(a, rng.choice(["<", ">", "<=", ">="]), b.render(False))
        return Gen.scalar_cond(self, sc, depth)

    def scalar_cond(self, sc, depth):
        rng = self.rng
        if not isinstance(sc, WScope):
            return Gen.scalar_cond(self, sc, depth)
        r = rng.random()
        if r < 0.35:
            return self.atom_cond(sc, depth)
        if r < 0.75:
            op = rng.choice(["and", "and", "or"])
            self.features.add(f"boolop_{op}")
            vals = [self.atom_cond(sc, depth) for _ in range(rng.choice([2, 2, 3]))]
            if rng.random() < 0.25:
                self.features.add("not")
                vals[0] = Not(vals[0])
            return BoolOp(op, vals)
        if r < 0.85:
            self.features.add("not")
            return Not(self.atom_cond(sc, depth))
        # nested and/or
        self.features.add("boolop_nested")
        inner = BoolOp(rng.choice(["and", "or"]), [self.atom_cond(sc, depth),
                                                    self.atom_cond(sc, depth)])
        return BoolOp(rng.choice(["and", "or"]), [self.atom_cond(sc, depth), inner])

    # -- statements ---------------------------------------------------------------
    def writable(self, sc):
        return sorted(n for n in sc.vars if n not in sc.readonly)

    def update(self, sc, out, depth):
        rng = self.rng
        names = self.writable(sc)
        if not names:
            return
        n = rng.choice(names)
        shape = sc.vars[n]
        k = rng.random()
        inplace_ok = not sc.fib and (n in sc.owned or (shape == S0 and n not in sc.shared0))
        if k < 0.3 and inplace_ok:
            self.features.add("augassign")
            op = rng.choice(["+", "-", "*"])
            e = self.expr(sc, rng.choice(subshapes(shape)), depth)
            e = Call("np.cos", [e]) if op == "*" else \
                Bin("*", Lit(self.c(0.1, 0.5)), Call("np.tanh", [e]))
            out.append(St("aug", [n, op, e]))
        elif k < 0.45 and n in sc.owned and shape != S0 and not sc.fib:
            self.features.add("setitem")
            row, col = rng.randrange(2), rng.randrange(3)
            idx = {S3: str(col), S23: rng.choice([str(row), f"{row}, {col}"]),
                   S21: f"{row}, 0"}[shape]
            sub_shape = S3 if (shape == S23 and "," not in idx) else S0
            out.append(St("assign", [f"{n}[{idx}]", Call("np.sin",
                                                         [self.expr(sc, sub_shape, depth)])]))
        elif k < 0.55:
            out.append(St("assign", [n, Call("np.tanh", [self.expr(sc, shape, depth)])]))
            self._fresh(sc, n, shape)
        else:
            e = self.expr(sc, rng.choice(subshapes(shape)), depth)
            out.append(St("assign", [n, Bin("+", Bin("*", Lit(self.c(0.2, 0.7)), Name(n)),
                                             Call("np.sin", [e]))]))
            self._fresh(sc, n, shape)

    def _fresh(self, sc, n, shape):
        """n was rebound to a fresh value."""
        if shape != S0 and "[" not in n:
            sc.owned.add(n)
        elif shape != S0:
            sc.owned.discard(n)  # a container entry: leave it alone
        sc.shared0.discard(n) if not sc.in_loop else None

    def self_assign(self, sc, out):
        if "self_assign" in self.off:
            return
        names = sorted(n for n in list(sc.vars) + list(sc.lists) + list(sc.anyshape)
                       if "[" not in n)
        if names:
            self.features.add("self_assign")
            n = self.rng.choice(names)
            if n in sc.owned and n in sc.vars and sc.vars[n] != S0 and not sc.fib \
                    and self.rng.random() < 0.3:
                # a write of an array into itself, reversed (NumPy copies the overlap)
                self.features.add("self_assign_subscript")
                out.append(St("raw", [f"{n}[::-1] = {n}"]))
                return
            out.append(St("raw", [self.rng.choice([f"{n} = {n}", f"{n} = ({n})"])]))

    def swap(self, sc, out):
        rng = self.rng
        if "swap" in self.off:
            return self.update(sc, out, 1)
        names = self.writable(sc)
        pairs = [(a, b) for a in names for b in names
                 if a < b and sc.vars[a] == sc.vars[b] and "[" not in a + b]
        if not pairs:
            return self.self_assign(sc, out)
        a, b = rng.choice(pairs)
        shape = sc.vars[a]
        if sc.in_loop and shape != S0 and not sc.fib:
            # an array swap in a loop: only in loops without in-place writes
            return self.self_assign(sc, out)
        r = rng.random()
        if r < 0.2 and not sc.in_loop:
            # a = b = v: one array under two names, which the model takes for two
            # fresh arrays -- an in-place update of one then must be refused
            self.features.add("chained_assign")
            e = self.expr(sc, shape, 1)
            out.append(St("raw", [f"{a} = {b} = {R_(e)}"]))
            self._fresh(sc, a, shape)
            self._fresh(sc, b, shape)
            return
        if r < 0.6:
            self.features.add("swap")
            out.append(St("raw", [f"{a}, {b} = {b}, {a}"]))
        else:
            self.features.add("simultaneous_update")
            e = self.expr(sc, rng.choice(subshapes(shape)), 1)
            out.append(St("unpack", [[a, b], [Name(b), Bin("+", Bin("*", Lit("0.5"), Name(a)),
                                                              Call("np.sin", [e]))]]))
        sc.owned.discard(a)
        sc.owned.discard(b)
        if a in sc.shared0 or b in sc.shared0 or shape == S0:
            sc.shared0 |= {a, b} if (a in sc.shared0 or b in sc.shared0) else set()

    def rebind_other(self, sc, out):
        """A name (often a parameter) rebound to another shape or type."""
        rng = self.rng
        if "rebound" in self.off:
            return
        names = [n for n in self.writable(sc) if "[" not in n
                 and not any(n in f[3] for f in sc.funcs)]
        if not names:
            return self.self_assign(sc, out)
        n = rng.choice(names)
        shape = sc.vars[n]
        self.features.add("rebound_other_shape")
        if sc.in_loop:
            text = rng.choice([f"{n} = np.stack([{n}, np.sin({n})])",
                               f"{n} = np.tanh(({n}, 0.5 * {n}))"])
        elif shape == S0:
            text = rng.choice([f"{n} = np.full(2, {n})", f"{n} = [{n}, 2.0 * {n}]",
                               f"{n} = np.array([{n}, {n} * {n}])"])
        else:
            text = rng.choice([f"{n} = [{n}, 2.0 * {n}]", f"{n} = np.stack([{n}, {n}])",
                               f"{n} = {n}[..., None] * C3"])
        out.append(St("raw", [text]))
        del sc.vars[n]
        sc.owned.discard(n)
        sc.anyshape.add(n)

    def list_op(self, sc, out, top):
        rng = self.rng
        if "list" in self.off:
            return self.update(sc, out, 1)
        ls = [n for n, v in sc.lists.items()]
        if top and (not ls or rng.random() < 0.15):
            shape = rng.choice(SHAPES)
            n = self.fresh("l")
            k = rng.random()
            names = [v for v in self.writable(sc) if sc.vars[v] == shape and "[" not in v]
            if k < 0.12 and names:
                # a list of names: its items are those arrays (perhaps one twice)
                self.features.add("list_of_names")
                a, b = rng.choice(names), rng.choice(names)
                out.append(St("raw", [f"{n} = [{a}, {b}]"]))
                sc.lists[n] = [shape, 2, "list", n]
            elif k < 0.5:
                self.features.add("list_literal")
                out.append(St("raw", [f"{n} = [{R_(self.expr(sc, shape, 1))}]"]))
                sc.lists[n] = [shape, 1, "list", n]
            elif k < 0.75:
                self.features.add("list_concat")
                a, b = R_(self.expr(sc, shape, 1)), R_(self.expr(sc, shape, 1))
                out.append(St("raw", [f"{n} = [{a}] + [{b}]"]))
                sc.lists[n] = [shape, 2, "list", n]
            else:
                self.features.add("tuple_concat")
                a, b = R_(self.expr(sc, shape, 1)), R_(self.expr(sc, shape, 1))
                out.append(St("raw", [f"{n} = ({a},) + ({b}, np.tanh({a}))"]))
                sc.lists[n] = [shape, 3, "tuple", n]
            if sc.lists[n][2] == "list" and rng.random() < 0.35:
                # another name for the same list, mutated through either name later
                self.features.add("list_alias")
                m = self.fresh("l")
                out.append(St("raw", [f"{m} = {n}"]))
                sc.lists[m] = list(sc.lists[n])
            return
        if not ls:
            return self.update(sc, out, 1)
        n = rng.choice(ls)
        shape, length, lkind, group = sc.lists[n]
        mutable = lkind == "list"          # may be mutated in place
        e = R_(self.expr(sc, shape, 1))
        k = rng.random()
        if k < 0.15:
            self.features.add("list_concat")
            if lkind != "tuple":
                out.append(St("raw", [rng.choice([f"{n} = {n} + [{e}]", f"{n} = [{e}] + {n}"])]))
            else:
                out.append(St("raw", [f"{n} = {n} + ({e},)"]))
            sc.lists[n] = [shape, length + 1, "list" if lkind == "input" else lkind,
                           self.fresh("g")]
        elif k < 0.3 and lkind != "input":
            self.features.add("list_iadd")
            out.append(St("raw", [f"{n} += [{e}]" if mutable else f"{n} += ({e},)"]))
            if mutable:
                self._grow(sc, group, 1)
            else:
                sc.lists[n] = [shape, length + 1, lkind, self.fresh("g")]
        elif k < 0.55 and mutable:
            if rng.random() < 0.6:
                self.features.add("list_append")
                out.append(St("raw", [f"{n}.append({e})"]))
                self._grow(sc, group, 1)
            else:
                self.features.add("list_extend")
                e2 = R_(self.expr(sc, shape, 1))
                out.append(St("raw", [f"{n}.extend([{e}, {e2}])"]))
                self._grow(sc, group, 2)
        elif k < 0.68 and mutable and length >= 1:
            at = rng.choice(['0', '-1', str(length - 1)])
            if rng.random() < 0.3:
                # in place on the item's array (and on every name and item that is it)
                self.features.add("list_item_iadd")
                out.append(St("raw", [f"{n}[{at}] += {e}"]))
            else:
                self.features.add("list_setitem")
                out.append(St("raw", [f"{n}[{at}] = {e}"]))
        elif k < 0.85 and top and mutable:
            self.features.add("list_alias")
            m = self.fresh("l")
            out.append(St("raw", [f"{m} = {n}"]))
            sc.lists[m] = [shape, length, lkind, group]
            if rng.random() < 0.7:
                out.append(St("raw", [f"{m}.append({e})"]))
                self._grow(sc, group, 1)
        else:
            # a loop over the list
            acc = [v for v in self.writable(sc) if sc.vars[v] == shape and "[" not in v]
            if not acc or length < 1:
                return self.update(sc, out, 1)
            self.features.add("for_over_list")
            a = rng.choice(acc)
            t = self.fresh("t")
            body = [St("assign", [a, Bin(
                "+", Bin("*", Lit("0.5"), Name(a)), Call("np.sin", [Name(t)]))])]
            if shape != S0 and rng.random() < 0.25:
                # in place on each item: the list's arrays (and every name for them)
                self.features.add("update_loop_item")
                body.insert(0, St("raw", [f"{t} += 0.25"]))
            st = WSt("forin", [t, n], body)
            out.append(st)
            self._fresh(sc, a, shape)

    def _grow(self, sc, group, k):
        for m, v in sc.lists.items():
            if v[3] == group:
                v[1] += k if not sc.in_loop else 0

    def dict_op(self, sc, out, top):
        rng = self.rng
        if "dict" in self.off:
            return self.update(sc, out, 1)
        ds = sorted(sc.dicts)
        if top and (not ds or rng.random() < 0.15):
            self.features.add("dict_literal")
            n = self.fresh("d")
            # string keys, and now and then integer ones (d[0], d[i % 2] = ...)
            keys = rng.sample(["a", "b", "w", "s"] + ([0, 1] if rng.random() < 0.3 else []),
                              rng.randint(1, 3))
            items = []
            sc.dicts[n] = [list(keys), False]
            entries = []
            for k in keys:
                shape = rng.choice(SHAPES)
                e = self.expr(sc, shape, 1)
                fresh = isinstance(e, (Call, Bin)) and not (isinstance(e, Call) and
                                                             e.fn.startswith(("h", "sg")))
                items.append(f"{k!r}: {R_(e)}")
                entries.append((f'{n}[{k!r}]', shape, fresh))
            for key, shape, fresh in entries:
                sc.vars[key] = shape
                if fresh and shape != S0:
                    sc.owned.add(key)
            out.append(St("raw", [f"{n} = {{{', '.join(items)}}}"]))
            return
        if not ds:
            return self.update(sc, out, 1)
        n = rng.choice(ds)
        keys, ro = sc.dicts[n]
        r = rng.random()
        if r < 0.5 and not ro:
            k = rng.choice(keys + ["c", 2]) if top else rng.choice(keys)
            key = f"{n}[{k!r}]"
            shape = sc.vars.get(key, rng.choice(SHAPES))
            self.features.add("dict_write")
            out.append(St("assign", [key, Call("np.tanh", [self.expr(sc, shape, 1)])]))
            if key not in sc.vars:
                keys.append(k)
                sc.vars[key] = shape
            if shape != S0:
                sc.owned.add(key)
        else:
            # a loop over the dict
            acc = [v for v in self.writable(sc) if sc.vars[v] == S0 and "[" not in v]
            if not acc:
                return self.update(sc, out, 1)
            a = rng.choice(acc)
            self.features.add("for_over_dict")
            t = self.fresh("k")
            form = rng.random()
            if form < 0.4:
                it, val = n, f"{n}[{t}]"
            elif form < 0.7:
                it, val = f"{n}.values()", t
            else:
                it, val = f"{n}.items()", "v_"
                t = f"{t}, v_"
            body = [St("assign", [a, Bin("+", Bin("*", Lit("0.5"), Name(a)),
                                         Call("np.sum", [Call("np.sin", [Name(val)])]))])]
            if sc.loopvars and rng.random() < 0.5:
                pass
            out.append(WSt("forin", [t, it], body))
            self._fresh(sc, a, S0)

    def nested_def(self, sc, out):
        rng = self.rng
        self.features.add("nested_def")
        shape = rng.choice(SHAPES)
        frees = [n for n, s in sc.vars.items() if "[" not in n and bshape(s, shape) == shape]
        free = rng.choice(frees) if frees else None
        name = self.fresh("inner")
        a = self.fresh("a")
        inner_sc = WScope(rng, {a: shape}, (), [])
        e = self.expr(inner_sc, shape, 2)
        if free:
            e = Bin("+", e, Bin("*", Lit("0.5"), Call("np.sin", [Name(free)])))
        if rng.random() < 0.5:
            self.features.add("lambda")
            out.append(St("raw", [f"{name} = lambda {a}: {R_(e)}"]))
        else:
            out.append(WSt("def", [f"def {name}({a}):", R_(e)], []))
        sc.funcs.append((name, shape, shape, {free} if free else set()))

    def inner_block(self, sc, depth, loop):
        out = []
        for _ in range(self.rng.randint(1, 3)):
            self.stmt(sc, out, depth, loop, top=False)
        return out

    def stmt(self, sc, out, depth, loop, top):
        rng = self.rng
        r = rng.random()
        if loop and r < 0.1:
            self.features.add("break")
            out.append(St("if", [self.scalar_cond(sc, 1)], [St("raw", ["break"])]))
        elif loop and r < 0.17:
            self.features.add("continue")
            out.append(St("if", [self.scalar_cond(sc, 1)], [St("raw", ["continue"])]))
        elif r < 0.22 and sc.out is not None:
            self.features.add("early_return_nested" if not top else "early_return")
            out.append(St("if", [self.scalar_cond(sc, 1)],
                          [St("raw", [f"return {self.out_expr(sc)}"])]))
        elif depth > 0 and r < 0.4:
            out.append(self.compound(sc, depth - 1))
        elif r < 0.46:
            self.self_assign(sc, out)
        elif r < 0.52:
            self.swap(sc, out)
        elif r < 0.56 and not sc.in_loop:
            # (in loops only as the first statement of a body: see _compound)
            self.rebind_other(sc, out)
        elif r < 0.70:
            self.list_op(sc, out, top)
        elif r < 0.78:
            self.dict_op(sc, out, top)
        elif r < 0.86 and top and self.nested:
            self.nested_def(sc, out)
        elif rng.random() < 0.25 and "mutate" not in self.off:
            self.const_array(sc, out)
        else:
            self.update(sc, out, 1)

    def const_array(self, sc, out):
        """A constant array (no gradient reaches it) made in the body, read as a
        coefficient by later expressions, and changed in place by a write or by a call
        made for its effect: each use must see the values it saw in Python."""
        rng = self.rng
        consts = [n for n in sorted(sc.consts) if n in sc.vars and n in sc.owned]
        if not consts or rng.random() < 0.3:
            shape = rng.choice([S3, S23, S21])
            n = self.fresh("c")
            size = int(np.prod(shape))
            self.features.add("const_array")
            made = rng.choice([
                f"np.linspace({self.c(-1, 0)}, {self.c(0.2, 1)}, {size}).reshape({shape})",
                f"np.full({shape}, {self.c()})",
                f"np.cos(np.arange({size}.0) * {self.c(0.2, 1.5)}).reshape({shape})",
                f"{CONSTS[shape]}.copy()", f"np.ones({shape})"])
            out.append(St("raw", [f"{n} = {made}"]))
            sc.vars[n] = shape
            sc.owned.add(n)
            sc.consts.add(n)
            return
        n = rng.choice(consts)
        shape = sc.vars[n]
        lit = self.c(-1.5, 1.5)
        idx = {S3: str(rng.randrange(3)), S23: rng.choice(["0", "1", "1, 2", "0, 1"]),
               S21: rng.choice(["0", "1, 0"])}[shape]
        forms = [f"{n}[{idx}] = {lit}", f"{n}.fill({lit})", f"{n} *= {self.c(0.5, 1.5)}",
                 f"{n} += {lit}", f"np.copyto({n}, {lit})",
                 f"np.put({n}, [{rng.randrange(int(np.prod(shape)))}], {lit})",
                 f"np.place({n}, {n} > {self.c(-0.5, 0.5)}, [{lit}])", f"{n}.sort()",
                 f"{n}[...] = {n}[::-1] if {n}.ndim == 1 else {n}",
                 f"np.random.default_rng({rng.randrange(100)}).shuffle({n})"]
        if len(shape) == 2:
            forms.append(f"np.fill_diagonal({n}, {lit})")
        form = rng.choice(forms)
        self.features.add("const_mutated")
        out.append(St("raw", [form]))

    def snapshot(self, sc):
        return (set(sc.vars), set(sc.owned), {k: list(v) for k, v in sc.lists.items()},
                {k: (list(v[0]), v[1]) for k, v in sc.dicts.items()}, len(sc.funcs))

    def restore(self, sc, snap):
        vars_, owned, lists, dicts, nf = snap
        for n in list(sc.vars):
            if n not in vars_:
                del sc.vars[n]
        sc.owned &= owned
        for n in list(sc.lists):
            if n not in lists:
                del sc.lists[n]
            else:
                # length: the shortest of the paths; a rebound list is a new object
                v = sc.lists[n]
                v[1] = min(v[1], lists[n][1])
                if lists[n][2] == "input":
                    v[2] = "input"  # the caller's list on another path
                if v[3] != lists[n][3]:
                    v[3] = self.fresh("g")
        for n in list(sc.dicts):
            if n not in dicts:
                del sc.dicts[n]
            else:
                sc.dicts[n][0][:] = [k for k in sc.dicts[n][0] if k in dicts[n][0]]
        del sc.funcs[nf:]

    def compound(self, sc, depth):
        snap = self.snapshot(sc)
        st = self._compound(sc, depth)
        self.restore(sc, snap)
        return st

    def _compound(self, sc, depth):
        rng = self.rng
        k = rng.choice(["if", "if", "elif", "for", "for", "while"])
        if k in ("if", "elif"):
            n = 1 if k == "if" else rng.choice([2, 3, 3, 4, 6])
            self.features.add("if" if n == 1 else ("elif" if n < 4 else "elif_deep"))
            conds, bodies = [], []
            for _ in range(n):
                snap = self.snapshot(sc)
                conds.append(self.scalar_cond(sc, 1))
                bodies.append(self.inner_block(sc, depth, bool(sc.in_loop) and False))
                self.restore(sc, snap)
            orelse = []
            if rng.random() < 0.6:
                snap = self.snapshot(sc)
                orelse = self.inner_block(sc, depth, False)
                self.restore(sc, snap)
            if n == 1:
                return St("if", [conds[0]], bodies[0], orelse)
            return WSt("elif", [conds, bodies], [], orelse)
        lv = f"i{len(sc.loopvars)}"
        sc.loopvars.append(lv)
        sc.in_loop += 1
        saved_fib, saved_owned = sc.fib, set(sc.owned)
        if rng.random() < 0.25:
            sc.fib = True           # simultaneous updates: no in-place ops in this loop
        first = []
        if rng.random() < 0.15:
            # a name rebound to another shape in a loop: the loop reads it as np.sum(name)
            sc.in_loop -= 1
            self.rebind_other(sc, first)
            sc.in_loop += 1
            if first and first[0].parts[0].split(" = ")[0] not in sc.anyshape:
                first = []   # (rebind_other fell back to a self-assignment)
            if first:
                n = first[0].parts[0].split(" = ")[0]
                first = [St("raw", [rng.choice([f"{n} = np.stack([{n}, np.sin({n})])",
                                                f"{n} = np.tanh(({n}, 0.5 * {n}))"])])]
        if k == "for":
            self.features.add("for")
            body = first + self.inner_block(sc, depth, True)
            st = St("for", [lv, rng.choice(["2", "3", "4"])], body)
        else:
            self.features.add("while")
            inc = St("raw", [f"{lv} += 1"])
            if rng.random() < 0.5:
                self.features.add("while_boolop")
                cond = self.scalar_cond(sc, 1)
                body = first + self.inner_block(sc, depth, True)
                st = WSt("whilec", [lv, rng.choice(["2", "3"]), cond, rng.random() < 0.5],
                         [inc] + body)
            else:
                body = first + self.inner_block(sc, depth, True)
                st = St("while", [lv, rng.choice(["2", "3"])], [inc] + body)
        sc.fib = saved_fib
        sc.owned &= saved_owned
        sc.in_loop -= 1
        sc.loopvars.pop()
        return st

    def out_expr(self, sc):
        """An expression of the function's output (for early and final returns)."""
        parts = []
        for s in sc.out:
            if s is None:
                parts.append(self.rng.choice(["2", "None", "len(C3)"]))
                continue
            cands = [n for n, t in sc.vars.items() if t == s]
            if cands and self.rng.random() < 0.6:
                parts.append(self.rng.choice(cands))
            else:
                e = self.expr(sc, s, 1)
                parts.append(R_(Call("np.tanh", [e]) if isinstance(e, Name) else e))
        return ", ".join(parts)

    def wfunction(self, params, kinds, helpers, out, n_stmts, call_prev=None):
        rng = self.rng
        vars_ = {}
        sc = WScope(rng, {}, (), helpers)
        for p, (kind, shape) in zip(params, kinds):
            if kind == "dict":
                sc.dicts[p] = [["w", "b"], True]
                vars_[f"{p}['w']"] = S3
                vars_[f"{p}['b']"] = S0
                sc.readonly |= {f"{p}['w']", f"{p}['b']"}
            elif kind == "list":
                sc.lists[p] = [S3, 2, "input", p]   # an input list: never mutated in place
            else:
                vars_[p] = shape
                if kind == "0d":
                    sc.shared0.add(p)
        sc.vars.update(vars_)
        sc.out = out
        body = []
        if call_prev:
            # a chain of helper calls: this helper starts by calling the previous one
            name, pshapes, oshape = call_prev
            v = self.fresh()
            body.append(St("assign", [v, Call(name, [self.expr(sc, s, 1) for s in pshapes])]))
            sc.vars[v] = oshape
            self.features.add("call_chain")
        for j in range(n_stmts):
            r = rng.random()
            if j == 1 and r < 0.45:
                # a container early on, so that later statements can use it
                (self.list_op if r < 0.3 else self.dict_op)(sc, body, True)
            elif r < 0.35 or len(sc.vars) < 2:
                self.new_var(sc, body)
            elif r < 0.75:
                self.stmt(sc, body, 1, False, top=True)
            else:
                body.append(self.compound(sc, 1))
            if self.nested and j == 0 and rng.random() < 0.5:
                self.nested_def(sc, body)   # early, so that later code calls it
        return body, self.out_expr(sc)


@dataclass
class WideProgram:
    seed: int
    clean: str
    kinds: list               # (kind, shape) per argument of f
    positions: object
    features: set
    has_stop: bool
    float32: bool = False

    @property
    def ref(self):
        return make_ref(self.clean)

    @property
    def arg_shapes(self):
        return [k if k in ("dict", "list") else f"{k}{list(s)}" for k, s in self.kinds]

    def args(self, rng):
        ft = np.float32 if self.float32 else np.float64
        out = []
        for kind, s in self.kinds:
            if kind == "float":
                out.append(float(rng.uniform(-1.2, 1.2)))
            elif kind == "0d":
                out.append(np.array(rng.uniform(-1.2, 1.2), dtype=ft))
            elif kind == "int":
                out.append(int(rng.randint(-2, 3)))
            elif kind == "intarr":
                out.append(rng.randint(-2, 3, size=s))
            elif kind == "dict":
                out.append({"w": rng.uniform(-1.2, 1.2, size=3).astype(ft),
                            "b": float(rng.uniform(-1.2, 1.2))})
            elif kind == "list":
                out.append([rng.uniform(-1.2, 1.2, size=3).astype(ft) for _ in range(2)])
            else:
                out.append(rng.uniform(-1.2, 1.2, size=s).astype(ft))
        return tuple(out)


import numpy as np  # noqa: E402


# constructs a campaign can leave out (--off), to look behind the classes found already
OFF_SWITCHES = ("self_assign", "swap", "rebound", "list", "dict", "int", "builtin",
                "decorator", "mutate")


def generate_wide(seed: int, nested: bool = False, off=()) -> WideProgram:
    assert set(off) <= set(OFF_SWITCHES), off
    g = WideGen(seed, nested, off)
    rng = g.rng
    helpers, defs = [], []
    nh = rng.choice([0, 0, 1, 1, 2, 3, 4])
    chain = nh >= 2 and rng.random() < 0.6
    for h in range(nh):
        pshapes = [rng.choice(ARG_SHAPES) for _ in range(rng.randint(1, 2))]
        oshape = rng.choice(SHAPES)
        tuple_out = rng.random() < 0.2
        out = [rng.choice(SHAPES), rng.choice(SHAPES)] if tuple_out else [oshape]
        name = f"h{h}"
        params = [f"{'xyzw'[i]}" for i in range(len(pshapes))]
        prev = None
        if chain and h > 0 and not isinstance(helpers[-1][2], list):
            prev = helpers[-1]
        body, ret = g.wfunction(params, [("f64", s) for s in pshapes],
                                [] if chain else list(helpers), out, rng.randint(1, 3), prev)
        deco = ""
        r = rng.random()
        if "decorator" in off:
            pass
        elif r < 0.25 and not tuple_out:
            deco = rng.choice(["@doubled\n", "@logged\n", "@shifted(0.25)\n"])
            g.features.add("decorator")
        elif r < 0.35:
            deco = "@logged\n"
            g.features.add("decorator")
        text = "\n".join([f"{deco}def {name}({', '.join(params)}):"] +
                         _block(body, False, 1) + [f"    return {ret}"])
        defs.append(text)
        helpers.append((name, pshapes, out if tuple_out else oshape))
    if chain and helpers:
        helpers = helpers[-1:]
    nargs = rng.randint(1, 3)
    kinds = []
    for _ in range(nargs):
        k = rng.choice(WIDE_KINDS)
        if ("int" in off and k in ("int", "intarr")) or ("dict" in off and k == "dict") \
                or ("list" in off and k == "list"):
            k = {"int": "float", "intarr": "f64", "dict": "0d", "list": "f64"}[k]
        s = {"f64": rng.choice([S3, S23]), "intarr": S3}.get(k, S0)
        kinds.append((k, s))
    float32 = rng.random() < 0.12
    out_kind = rng.choice(["scalar", "scalar", "scalar", "array", "tuple", "extra"])
    if out_kind == "scalar":
        out = [S0]
    elif out_kind == "array":
        out = [rng.choice([S3, S23, S21])]
    elif out_kind == "tuple":
        out = [rng.choice(SHAPES) for _ in range(rng.randint(2, 3))]
    else:
        g.features.add("int_output")
        out = [rng.choice(SHAPES), None]
    params = [f"{'xyzp'[i]}" if kinds[i][0] != "dict" else "params"[:1] + "xyz"[i]
              for i in range(nargs)]
    body, ret = g.wfunction(params, kinds, helpers, out, rng.randint(2, 6))
    deco = ""
    if rng.random() < 0.15 and "decorator" not in off:
        deco = rng.choice(["@doubled\n", "@logged\n"]) if len(out) == 1 else "@logged\n"
        if kinds[0][0] not in ("dict", "list") and rng.random() < 0.3:
            deco = "@shifted(0.25)\n"
        g.features.add("decorator")
    fn = "\n".join([f"{deco}def f({', '.join(params)}):"] + _block(body, False, 1)
                   + [f"    return {ret}"])
    pos = rng.sample(range(nargs), rng.randint(1, nargs))
    positions = pos[0] if (len(pos) == 1 and rng.random() < 0.5) else tuple(pos)
    for k, _ in kinds:
        g.features.add(f"input_{k}")
    if float32:
        g.features.add("input_float32")
    head = ("import functools\n\nimport numpy as np\nimport sourcegrad as sg\n\n"
            + PRELUDE_CONSTS + DECORATORS)
    text = head + "\n\n" + "\n\n\n".join(defs + [fn]) + "\n"
    return WideProgram(seed, text, kinds, positions, g.features, g.has_stop, float32)


# -- the finite-difference twin, derived from the plain program -------------------------

WIDE_HOOKS = '''
class _Hooks:
    """Margins of comparisons and kinks; record/replay of stop_gradient values."""

    def __init__(self):
        self.mode = "record"
        self.margin = float("inf")
        self.stops = []
        self.k = 0

    def start(self, mode):
        self.mode = mode
        self.k = 0
        if mode == "record":
            self.stops = []
            self.margin = float("inf")

    def _gap(self, d):
        if self.mode == "record":
            d = np.abs(np.asarray(d, dtype=float))
            if d.size:
                self.margin = min(self.margin, float(np.min(d)))

    def cmp(self, a, b, op):
        self._gap(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]

    def chain(self, ops, *xs):
        out = True
        for op, a, b in zip(ops, xs, xs[1:]):
            out = self.cmp(a, b, op) and out
        return out

    def kink(self, fn, a, b):
        self._gap(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
        return fn(a, b)

    def bmax(self, fn, *args):
        if self.mode == "record":
            vals = list(args[0]) if len(args) == 1 else list(args)
            if len(vals) >= 2:
                s = np.sort(np.stack([np.asarray(v, dtype=float) for v in vals]), axis=0)
                self._gap(s[-1] - s[-2] if fn is max else s[1] - s[0])
        return fn(*args)

    def babs(self, fn, a):
        self._gap(a)
        return fn(a)

    def stop(self, e):
        if self.mode == "record":
            self.stops.append(np.copy(e))
            return e
        v = self.stops[self.k]
        self.k += 1
        return v if np.ndim(v) else v[()]


_H = _Hooks()
'''

_CMP = {_ast.Lt: "<", _ast.Gt: ">", _ast.LtE: "<=", _ast.GtE: ">="}


def _hcall(name, args):
    return _ast.Call(func=_ast.Attribute(value=_ast.Name("_H", _ast.Load()), attr=name,
                                         ctx=_ast.Load()), args=args, keywords=[])


class _RefRewrite(_ast.NodeTransformer):
    def visit_Compare(self, node):
        self.generic_visit(node)
        if not all(type(o) in _CMP for o in node.ops):
            return node
        ops = [_ast.Constant(_CMP[type(o)]) for o in node.ops]
        if len(ops) == 1:
            return _hcall("cmp", [node.left, node.comparators[0], ops[0]])
        return _hcall("chain", [_ast.Tuple(ops, _ast.Load()), node.left] + node.comparators)

    def visit_Call(self, node):
        self.generic_visit(node)
        fn = _ast.unparse(node.func)
        if node.keywords:
            return node
        if fn in ("np.maximum", "np.minimum") and len(node.args) == 2:
            return _hcall("kink", [node.func] + node.args)
        if fn in ("max", "min") and node.args:
            return _hcall("bmax", [node.func] + node.args)
        if fn in ("abs", "np.abs") and len(node.args) == 1:
            return _hcall("babs", [node.func] + node.args)
        if fn == "sg.stop_gradient" and len(node.args) == 1:
            return _hcall("stop", node.args)
        return node


def make_ref(clean: str) -> str:
    """The finite-difference twin of a program: comparisons, kinks and
    ``sg.stop_gradient`` go through the ``_H`` hooks (margins, record/replay)."""
    tree = _RefRewrite().visit(_ast.parse(clean))
    _ast.fix_missing_locations(tree)
    body = _ast.unparse(tree)
    return "import numpy as np\n" + WIDE_HOOKS + "\n" + body + "\n"

if __name__ == "__main__":  # pragma: no cover
    import os
    import sys
    if any(a.startswith("--") for a in sys.argv[1:]):
        # python -m tests.fuzzgen --seed S --count N [--reduce] [--jobs 2] [--nested]
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import fuzzcheck
        fuzzcheck.main()
        sys.exit(0)
    if sys.argv[2:3] == ["wide"]:
        w = generate_wide(int(sys.argv[1]), nested="nested" in sys.argv[3:])
        print(w.clean)
        print("# grad_position =", w.positions, " inputs:", w.arg_shapes,
              " float32:", w.float32, " features:", sorted(w.features))
        sys.exit(0)
    p = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(p.clean)
    print("# grad_position =", p.positions, " features:", sorted(p.features))
