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
"""
from __future__ import annotations

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


if __name__ == "__main__":  # pragma: no cover
    import sys
    p = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(p.clean)
    print("# grad_position =", p.positions, " features:", sorted(p.features))
