"""Random programs written the way autograd and JAX users write them, for the
differential fuzzer (tests/test_fuzz_real.py; judged by tests/fuzzcheck.py).

Where ``fuzzgen`` grows arithmetic and control flow, this generator strings
together the constructs of code people already have: nested ``def``s and
lambdas reading enclosing (differentiated) values, called in place, in loops,
through ``map`` and through a module-level higher-order helper; closures made
by a module-level factory and called later; ``functools.partial``;
comprehensions and generator expressions into ``sum``/``np.stack``; generator
functions consumed by ``for``, ``sum`` and ``list``; dicts built, copied
(``dict(d)``, ``{**d, "k": v}``), written and read (``d.get``); ``with
np.errstate(...)``; SciPy calls (``scipy.special``, ``scipy.stats`` and its
frozen distributions); data-dependent ``if`` (the finite-difference twin keeps
inputs away from the switch, see ``fuzzgen.make_ref``).

Values stay bounded (tanh/sin/cos, exp of bounded arguments, divisions by
``1.5 + cos(e)``), so finite differences are meaningful.  A campaign::

    python -m tests.fuzz_real --seed 0 --count 2000 --jobs 2
    python tests/fuzz_real.py 17                      # show program 17
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

PRELUDE = '''import functools

import numpy as np
import scipy.special
import scipy.stats

import real_helpers
import sourcegrad as sg


def _twice(fn, v):
    return fn(fn(v) * 0.5)


def _affine(a, b, v):
    return a * v + b


def _make_act(c):
    def act(v):
        return np.tanh(c * v)
    return act


def _make_lin(a, b=0.25):
    return lambda v: a * v + b


GAIN = 0.7


def _gained(fn, v):
    return fn(v) * GAIN


def _make_gained(a):
    return lambda v: np.tanh(a * v) * GAIN


def _make_affine(a, b):
    return functools.partial(_affine, a, b)


def _pairs(xs, scale):
    for i in range(len(xs)):
        yield np.sin(xs[i]) * scale
'''


@dataclass
class RealProgram:
    seed: int
    clean: str
    kinds: list                 # "vec" (shape (3,)), "float", "dict"
    positions: object
    features: set = field(default_factory=set)

    def args(self, rng):
        out = []
        for k in self.kinds:
            if k == "vec":
                out.append(rng.uniform(-1.2, 1.2, size=3))
            elif k == "float":
                out.append(float(rng.uniform(-1.2, 1.2)))
            else:
                out.append({"w": rng.uniform(-1.2, 1.2, size=3),
                            "b": float(rng.uniform(-1.2, 1.2))})
        return tuple(out)


class RealGen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n = 0
        self.features = set()
        self.lines = []

    def fresh(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def c(self):
        return f"{self.rng.uniform(-1.0, 1.0):.2f}"

    # -- expressions over the names in ``vs`` (each bounded, shape (3,) or scalar) -------
    def expr(self, vs, depth=2):
        r = self.rng.random()
        if depth <= 0 or r < 0.25:
            return self.rng.choice(vs) if self.rng.random() < 0.85 else self.c()
        a = self.expr(vs, depth - 1)
        b = self.expr(vs, depth - 1)
        k = self.rng.randrange(8)
        if k == 0:
            return f"({a} + {b})"
        if k == 1:
            return f"({a} * {b})"
        if k == 2:
            return f"({a} - {b} * {self.c()})"
        if k == 3:
            return f"np.{self.rng.choice(['sin', 'cos', 'tanh'])}({a})"
        if k == 4:
            return f"({a} / (1.5 + np.cos({b})))"
        if k == 5:
            return f"np.exp(0.3 * np.tanh({a}))"
        if k == 6:
            return f"np.tanh({a} * {b})"
        return f"(np.sum({a}) * 0.3 + {b})"

    def emit(self, line, ind=1):
        self.lines.append("    " * ind + line)

    # -- statements: each binds a new name from the live ones --------------------------
    def stmt(self, vs, ind=1):
        k = self.rng.choice(self.KINDS)
        getattr(self, "s_" + k)(vs, ind)

    KINDS = ("nested", "nested", "lambda", "lambda_loop", "partial", "genexp", "stack",
             "dict", "dict_copy", "with_", "scipy", "frozen", "factory", "generator",
             "map_", "helper", "if_", "nested_loop", "recursive", "dict_get", "loop_block",
             "mutual", "other_module", "with_return", "default", "dict_loop",
             "frozen_nested", "gen_zip", "factory_partial", "dictcomp", "late",
             "early_capture", "comp_if", "map2", "nested_factory", "chained",
             "chained_loop", "entry_iadd", "dict_sgd", "shadow")

    def new(self, vs, value, ind, base="a"):
        v = self.fresh(base)
        self.emit(f"{v} = {value}", ind)
        vs.append(v)
        return v

    def s_nested(self, vs, ind):
        self.features.add("nested def")
        f = self.fresh("f")
        self.emit(f"def {f}(v):", ind)
        self.emit(f"    return {self.expr(vs + ['v'])}", ind)
        self.new(vs, f"{f}({self.expr(vs, 1)}) + {f}({self.rng.choice(vs)})", ind)

    def s_lambda(self, vs, ind):
        self.features.add("lambda")
        g = self.fresh("g")
        self.emit(f"{g} = lambda v: {self.expr(vs + ['v'])}", ind)
        self.new(vs, f"{g}({self.expr(vs, 1)})", ind)

    def s_lambda_loop(self, vs, ind):
        self.features.add("lambda in loop")
        g = self.fresh("g")
        h = self.fresh("h")
        self.emit(f"{g} = lambda v: np.tanh(v * {self.rng.choice(vs)}) * 0.7", ind)
        self.emit(f"{h} = {self.rng.choice(vs)}", ind)
        self.emit(f"for _ in range({self.rng.randint(1, 3)}):", ind)
        self.emit(f"    {h} = {g}({h}) + {self.c()}", ind)
        vs.append(h)

    def s_partial(self, vs, ind):
        self.features.add("partial")
        p = self.fresh("p")
        self.emit(f"{p} = functools.partial(_affine, {self.expr(vs, 1)}, "
                  f"{self.rng.choice(vs)})", ind)
        self.new(vs, f"np.tanh({p}({self.rng.choice(vs)}))", ind)

    def s_genexp(self, vs, ind):
        self.features.add("generator expression")
        items = ", ".join(self.rng.sample(vs, min(len(vs), 2)) + [self.expr(vs, 1)])
        self.new(vs, f"sum(np.sin(t * {self.rng.choice(vs)}) for t in [{items}])", ind)

    def s_stack(self, vs, ind):
        self.features.add("comprehension")
        items = ", ".join(self.rng.sample(vs, min(len(vs), 2)))
        fn = self.rng.choice(["np.sum(np.stack(", "np.mean(np.stack("])
        self.new(vs, f"{fn}[np.tanh(t) * {self.rng.choice(vs)} + np.zeros(3) "
                     f"for t in [{items}]]), axis=0)", ind)

    def s_dict(self, vs, ind):
        self.features.add("dict")
        d = self.fresh("d")
        self.emit(f'{d} = {{"u": {self.expr(vs, 1)}, "v": {self.rng.choice(vs)}}}', ind)
        self.emit(f'{d}["u"] = {d}["u"] * {self.expr(vs, 1)}', ind)
        self.new(vs, f'{d}["u"] + np.cos({d}["v"])', ind)

    def s_dict_copy(self, vs, ind):
        self.features.add("dict copy")
        d, e = self.fresh("d"), self.fresh("e")
        self.emit(f'{d} = dict(u={self.rng.choice(vs)}, v={self.expr(vs, 1)})', ind)
        if self.rng.random() < 0.5:
            self.emit(f'{e} = {{**{d}, "v": {self.expr(vs, 1)}}}', ind)
        else:
            self.emit(f'{e} = dict({d})', ind)
            self.emit(f'{e}["u"] = np.sin({e}["u"])', ind)
        self.new(vs, f'{e}["u"] * {e}["v"] + {d}["v"]', ind)

    def s_dict_get(self, vs, ind):
        self.features.add("dict get")
        d = self.fresh("d")
        self.emit(f'{d} = {{"u": {self.expr(vs, 1)}}}', ind)
        self.new(vs, f'{d}.get("u") + {d}.get("z", {self.rng.choice(vs)})', ind)

    def s_with_(self, vs, ind):
        self.features.add("with")
        self.emit('with np.errstate(divide="ignore", invalid="ignore"):', ind)
        self.new(vs, f"np.log(1.0 + {self.expr(vs, 1)} ** 2)", ind + 1)

    def s_scipy(self, vs, ind):
        self.features.add("scipy")
        e = self.expr(vs, 1)
        call = self.rng.choice([
            f"scipy.special.logsumexp({e}) + 0.0 * {self.rng.choice(vs)}",
            f"scipy.special.expit({e})",
            f"scipy.special.erf(0.5 * {e})",
            f"scipy.special.gammaln(1.5 + {e} ** 2)",
            f"scipy.stats.norm.logpdf({e}, loc={self.rng.choice(vs)}, scale=1.5)",
            f"scipy.stats.t.logpdf({e}, 4.0, {self.rng.choice(vs)})",
            f"scipy.special.log_softmax({e})",
        ])
        self.new(vs, call, ind)

    def s_frozen(self, vs, ind):
        self.features.add("frozen distribution")
        dist = self.fresh("dist")
        self.emit(f"{dist} = scipy.stats.norm({self.rng.choice(vs)}, "
                  f"1.0 + 0.5 * np.tanh({self.rng.choice(vs)}) ** 2)", ind)
        m = self.rng.choice(["logpdf", "cdf", "logcdf"])
        self.new(vs, f"{dist}.{m}({self.expr(vs, 1)}) * 0.5", ind)

    def s_factory(self, vs, ind):
        self.features.add("closure factory")
        g = self.fresh("g")
        mk = self.rng.choice(["_make_act", "_make_lin"])
        self.emit(f"{g} = {mk}({self.expr(vs, 1)})", ind)
        self.new(vs, f"{g}({self.rng.choice(vs)}) * {g}({self.expr(vs, 1)})", ind)

    def s_generator(self, vs, ind):
        self.features.add("generator function")
        items = ", ".join(self.rng.sample(vs, min(len(vs), 2)))
        k = self.rng.randrange(3)
        if k == 0:
            self.new(vs, f"sum(_pairs([{items}], {self.rng.choice(vs)}))", ind)
        elif k == 1:
            self.new(vs, f"np.stack([t + np.zeros(3) for t in _pairs([{items}], {self.c()})])"
                         f".sum(axis=0)", ind)
        else:
            s = self.new(vs, "0.0", ind, "s")
            self.emit(f"for t in _pairs([{items}], {self.rng.choice(vs)}):", ind)
            self.emit(f"    {s} = {s} + t * {self.rng.choice(vs)}", ind)

    def s_map_(self, vs, ind):
        self.features.add("map")
        items = ", ".join(self.rng.sample(vs, min(len(vs), 2)))
        self.new(vs, f"sum(map(lambda t: np.sin(t * {self.rng.choice(vs)}), [{items}]))",
                 ind)

    def s_helper(self, vs, ind):
        self.features.add("higher-order helper")
        f = self.fresh("f")
        self.emit(f"def {f}(v):", ind)
        self.emit(f"    return np.tanh(v * {self.rng.choice(vs)})", ind)
        self.new(vs, f"_twice({f}, {self.expr(vs, 1)})", ind)

    def s_if_(self, vs, ind):
        self.features.add("if")
        v = self.fresh("b")
        self.emit(f"if np.sum({self.rng.choice(vs)}) > {self.c()}:", ind)
        self.emit(f"    {v} = {self.expr(vs, 1)}", ind)
        self.emit("else:", ind)
        self.emit(f"    {v} = {self.expr(vs, 1)}", ind)
        vs.append(v)

    def s_nested_loop(self, vs, ind):
        self.features.add("nested def in loop")
        f, h = self.fresh("step"), self.fresh("h")
        p = self.rng.choice(vs)
        self.emit(f"def {f}(h, t):", ind)
        self.emit(f"    return np.tanh(h * {p} + t)", ind)
        self.emit(f"{h} = {self.rng.choice(vs)}", ind)
        self.emit(f"for t in [{', '.join(self.rng.sample(vs, min(len(vs), 2)))}]:", ind)
        self.emit(f"    {h} = {f}({h}, t)", ind)
        vs.append(h)

    def s_recursive(self, vs, ind):
        self.features.add("recursive nested def")
        f = self.fresh("rec")
        self.emit(f"def {f}(v, n):", ind)
        self.emit("    if n == 0:", ind)
        self.emit("        return v", ind)
        self.emit(f"    return {f}(np.sin(v * {self.rng.choice(vs)}), n - 1)", ind)
        self.new(vs, f"{f}({self.rng.choice(vs)}, {self.rng.randint(1, 3)})", ind)


    def s_loop_block(self, vs, ind):
        if ind > 2:
            return self.s_nested(vs, ind)
        self.features.add("statements in a loop")
        self.emit(f"for k in range({self.rng.randint(1, 2)}):", ind)
        for _ in range(self.rng.randint(1, 2)):
            self.stmt(vs, ind + 1)

    def s_mutual(self, vs, ind):
        self.features.add("mutual recursion")
        a, b = self.fresh("ev"), self.fresh("od")
        self.emit(f"def {a}(v, n):", ind)
        self.emit(f"    return v if n < 0.5 else {b}(v * {self.rng.choice(vs)}, n - 1)", ind)
        self.emit(f"def {b}(v, n):", ind)
        self.emit(f"    return {a}(np.sin(v) + {self.rng.choice(vs)}, n - 1)", ind)
        self.new(vs, f"{a}({self.rng.choice(vs)}, {self.rng.randint(0, 3)})", ind)

    def s_other_module(self, vs, ind):
        self.features.add("another module's helper")
        if self.rng.random() < 0.5:
            f = self.fresh("f")
            self.emit(f"def {f}(v):", ind)
            self.emit(f"    return np.cos(v * {self.rng.choice(vs)})", ind)
            self.new(vs, f"real_helpers.apply_doubled({f}, {self.expr(vs, 1)})", ind)
        else:
            g = self.fresh("g")
            self.emit(f"{g} = real_helpers.make_act({self.expr(vs, 1)})", ind)
            self.new(vs, f"{g}({self.rng.choice(vs)})", ind)

    def s_with_return(self, vs, ind):
        self.features.add("return inside with")
        f = self.fresh("f")
        self.emit(f"def {f}(v):", ind)
        self.emit('    with np.errstate(all="ignore"):', ind)
        self.emit(f"        if np.sum(v) > {self.c()}:", ind)
        self.emit(f"            return np.tanh(v * {self.rng.choice(vs)})", ind)
        self.emit("        u = np.sin(v)", ind)
        self.emit(f"    return u * {self.rng.choice(vs)}", ind)
        self.new(vs, f"{f}({self.expr(vs, 1)})", ind)

    def s_default(self, vs, ind):
        self.features.add("closure default")
        f = self.fresh("f")
        self.emit(f"def {f}(v, s={self.rng.choice(vs)}):", ind)
        self.emit(f"    return np.sin(v * s) + {self.rng.choice(vs)}", ind)
        self.new(vs, f"{f}({self.rng.choice(vs)}) + {f}({self.rng.choice(vs)}, "
                     f"s={self.expr(vs, 1)})", ind)

    def s_dict_loop(self, vs, ind):
        self.features.add("dict in a loop")
        acc = self.fresh("acc")
        self.emit(f'{acc} = {{"s": {self.rng.choice(vs)}, "n": 0.0}}', ind)
        self.emit(f"for t in [{', '.join(self.rng.sample(vs, min(len(vs), 2)))}]:", ind)
        self.emit(f'    {acc}["s"] = np.tanh({acc}["s"] * t)', ind)
        self.emit(f'    {acc} = {{**{acc}, "n": {acc}["n"] + np.sum(t)}}', ind)
        self.new(vs, f'{acc}["s"] + {acc}["n"] * 0.1', ind)

    def s_frozen_nested(self, vs, ind):
        self.features.add("frozen distribution in a nested def")
        dist, f = self.fresh("prior"), self.fresh("lp")
        self.emit(f"{dist} = scipy.stats.norm(0.0, 1.0 + {self.rng.choice(vs)} ** 2)", ind)
        self.emit(f"def {f}(v):", ind)
        self.emit(f"    return {dist}.logpdf(v) + "
                  f"scipy.stats.norm.logpdf({self.rng.choice(vs)}, v, 1.5)", ind)
        self.new(vs, f"sum({f}(t) for t in [{', '.join(self.rng.sample(vs, min(len(vs), 2)))}])",
                 ind)

    def s_gen_zip(self, vs, ind):
        self.features.add("zip over a generator")
        s_ = self.new(vs, "0.0", ind, "s")
        items = ", ".join(self.rng.sample(vs, min(len(vs), 2)))
        self.emit(f"for i, (a, b) in enumerate(zip(_pairs([{items}], {self.c()}), "
                  f"[{items}])):", ind)
        self.emit(f"    {s_} = {s_} + (i + 1.0) * a * b", ind)

    def s_factory_partial(self, vs, ind):
        self.features.add("factory of a partial")
        g = self.fresh("g")
        self.emit(f"{g} = _make_affine({self.rng.choice(vs)}, {self.expr(vs, 1)})", ind)
        self.new(vs, f"np.tanh({g}({self.rng.choice(vs)}))", ind)


    def s_dictcomp(self, vs, ind):
        self.features.add("dict comprehension")
        d, e = self.fresh("d"), self.fresh("e")
        self.emit(f'{d} = {{"u": {self.rng.choice(vs)}, "v": {self.expr(vs, 1)}}}', ind)
        self.emit(f"{e} = {{k: t * {self.rng.choice(vs)} - 0.1 * np.sin(t) "
                  f"for k, t in {d}.items()}}", ind)
        self.new(vs, f'{e}["u"] + {e}["v"] * {d}["u"]', ind)

    def s_late(self, vs, ind):
        self.features.add("late binding")
        a, f = self.fresh("c"), self.fresh("f")
        self.emit(f"{a} = {self.expr(vs, 1)}", ind)
        self.emit(f"def {f}(v):", ind)
        self.emit(f"    return np.sin(v * {a})", ind)
        self.emit(f"{a} = {a} * 0.5 + {self.rng.choice(vs)}", ind)
        vs.append(a)
        self.new(vs, f"{f}({self.rng.choice(vs)})", ind)

    def s_early_capture(self, vs, ind):
        self.features.add("defaults and partials bind early")
        a, g, p = self.fresh("c"), self.fresh("g"), self.fresh("p")
        self.emit(f"{a} = {self.expr(vs, 1)}", ind)
        self.emit(f"{g} = lambda v, s={a}: np.tanh(v * s)", ind)
        self.emit(f"{p} = functools.partial(_affine, {a}, 0.5)", ind)
        self.emit(f"{a} = np.cos({a}) + {self.rng.choice(vs)}", ind)
        vs.append(a)
        self.new(vs, f"{g}({self.rng.choice(vs)}) + {p}({self.rng.choice(vs)}) * {a}", ind)

    def s_comp_if(self, vs, ind):
        self.features.add("comprehension with a condition")
        items = ", ".join(self.rng.sample(vs, min(len(vs), 3)))
        self.new(vs, f"sum(np.sum(np.tanh(t) * {self.rng.choice(vs)}) for t in [{items}] "
                     f"if np.sum(t) > {self.c()}) + 0.0", ind)

    def s_map2(self, vs, ind):
        self.features.add("map over two lists")
        f = self.fresh("f")
        self.emit(f"def {f}(a, b):", ind)
        self.emit(f"    return np.sum(a * b * {self.rng.choice(vs)})", ind)
        xs = self.rng.sample(vs, min(len(vs), 2))
        ys = self.rng.sample(vs, min(len(vs), 2))
        self.new(vs, f"sum(map({f}, [{', '.join(xs)}], [{', '.join(ys)}]))", ind)

    def s_nested_factory(self, vs, ind):
        self.features.add("nested closure factory")
        mk, g = self.fresh("make"), self.fresh("g")
        self.emit(f"def {mk}(a, b=0.25):", ind)
        self.emit("    def inner(v):", ind)
        self.emit(f"        return np.tanh(a * v + b) * {self.rng.choice(vs)}", ind)
        self.emit("    return inner", ind)
        self.emit(f"{g} = {mk}({self.expr(vs, 1)})", ind)
        self.new(vs, f"{g}({self.rng.choice(vs)}) + {mk}({self.rng.choice(vs)}, "
                     f"{self.c()})({self.rng.choice(vs)})", ind)


    def s_chained(self, vs, ind):
        self.features.add("write into an item of an item")
        cfg = self.fresh("cfg")
        self.emit(f'{cfg} = {{"l": {{"w": {self.rng.choice(vs)}, "b": {self.c()}}}, '
                  f'"r": [{self.rng.choice(vs)}, {self.expr(vs, 1)}]}}', ind)
        self.emit(f'{cfg}["l"]["b"] = {self.expr(vs, 1)}', ind)
        self.emit(f'{cfg}["r"][1] = {cfg}["r"][0] * {cfg}["l"]["b"]', ind)
        self.new(vs, f'np.tanh({cfg}["l"]["w"] + {cfg}["r"][1])', ind)

    def s_chained_loop(self, vs, ind):
        self.features.add("writes into rows in a loop")
        rows = self.fresh("rows")
        a, b = self.rng.choice(vs), self.rng.choice(vs)
        self.emit(f"{rows} = [[{a}, {b}], [{b}, {self.expr(vs, 1)}]]", ind)
        self.emit("for i in range(2):", ind)
        self.emit(f"    {rows}[i][1] = np.sin({rows}[i][0] * {self.rng.choice(vs)}) "
                  f"+ {rows}[i][1]", ind)
        self.new(vs, f"{rows}[0][1] * {rows}[1][1]", ind)

    def s_entry_iadd(self, vs, ind):
        self.features.add("in-place update of a dict entry")
        d = self.fresh("d")
        self.emit(f'{d} = {{"s": {self.expr(vs, 1)} + np.zeros(3), "n": 0.0}}', ind)
        self.emit(f'{d}["s"] += {self.expr(vs, 1)}', ind)
        self.emit(f'{d}["n"] += np.sum({d}["s"])', ind)
        self.new(vs, f'{d}["s"] * 0.5 + {d}["n"] * 0.1', ind)

    def s_dict_sgd(self, vs, ind):
        self.features.add("dict comprehension update")
        ps, gs = self.fresh("ps"), self.fresh("gs")
        self.emit(f'{ps} = {{"w": {self.rng.choice(vs)}, "b": {self.expr(vs, 1)}}}', ind)
        self.emit(f"{gs} = {{k: np.cos(v * {self.rng.choice(vs)}) for k, v in {ps}.items()}}",
                  ind)
        self.emit(f"{ps} = {{k: v - 0.1 * {gs}[k] for k, v in {ps}.items()}}", ind)
        self.new(vs, f'np.tanh({ps}["w"] * {self.rng.choice(vs)} + {ps}["b"])', ind)


    def s_shadow(self, vs, ind):
        self.features.add("a local named like a helper's global")
        f, g = self.fresh("f"), self.fresh("g")
        self.emit(f"GAIN = {self.expr(vs, 1)}", ind)
        self.emit(f"def {f}(v):", ind)
        self.emit(f"    return np.sin(v * {self.rng.choice(vs)})", ind)
        self.emit(f"{g} = _make_gained({self.rng.choice(vs)})", ind)
        vs.append("GAIN")
        self.new(vs, f"_gained({f}, {self.rng.choice(vs)}) + {g}({self.rng.choice(vs)})", ind)


def generate_real(seed: int) -> RealProgram:
    g = RealGen(seed)
    rng = g.rng
    nargs = rng.randint(1, 3)
    kinds = ["vec"] + [rng.choice(["vec", "vec", "float", "dict"]) for _ in range(nargs - 1)]
    params = ["x", "w", "p"][:nargs]
    vs = []
    for name, k in zip(params, kinds):
        if k == "dict":
            g.emit(f'{name}_w = {name}["w"]')
            g.emit(f'{name}_b = {name}["b"]')
            vs += [f"{name}_w", f"{name}_b"]
        else:
            vs.append(name)
    for _ in range(rng.randint(2, 5)):
        g.stmt(vs)
    live = vs[-3:] if len(vs) > 3 else vs
    out = " + ".join(f"np.sum({v})" for v in live)
    g.emit(f"return {out}")
    text = PRELUDE + "\n\ndef f(" + ", ".join(params) + "):\n" + "\n".join(g.lines) + "\n"
    positions = tuple(i for i in range(nargs) if i == 0 or rng.random() < 0.7)
    if len(positions) == 1 and rng.random() < 0.5:
        positions = positions[0]
    return RealProgram(seed, text, kinds, positions, g.features)


def check_seed_real(seed, tmp_dir, timeout=60, use_autograd=False):
    """The fuzzcheck outcome of program ``seed``."""
    import signal

    import fuzzcheck
    prog = generate_real(seed)
    rng = np.random.RandomState(seed)

    def search():
        for _ in range(12):
            yield prog.args(rng)

    old = signal.signal(signal.SIGALRM, fuzzcheck._alarm)
    signal.alarm(timeout)
    try:
        o = fuzzcheck.judge(prog.clean, None, prog.positions, tmp_dir, has_stop=False,
                            search=search, use_autograd=use_autograd)
    except fuzzcheck._Timeout:
        o = fuzzcheck.Outcome("timeout", "", f"over {timeout}s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    o.features = prog.features
    return o


def _job(seed):
    import tempfile
    import warnings
    warnings.simplefilter("ignore")
    tmp = _job.tmp = getattr(_job, "tmp", None) or tempfile.mkdtemp(prefix="fuzz_real_")
    o = check_seed_real(seed, tmp)
    return seed, o.kind, o.msg, o.detail


def main(argv=None):
    import argparse
    import collections
    import time
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz_real")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--show", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.time()
    seeds = range(a.seed, a.seed + a.count)
    if a.jobs > 1:
        import multiprocessing
        with multiprocessing.Pool(a.jobs) as pool:
            res = sorted(pool.imap_unordered(_job, seeds, chunksize=8))
    else:
        res = [_job(s) for s in seeds]
    kinds = collections.Counter(r[1] for r in res)
    print(f"{a.count} programs (seeds {a.seed}..{a.seed + a.count - 1}) in "
          f"{time.time() - t0:.0f}s")
    for k, n in kinds.most_common():
        print(f"  {k:16s} {n}")
    msgs = collections.Counter(f"{r[1]}: {r[2]}" for r in res if r[1] != "ok")
    for m, n in msgs.most_common():
        print(f"  {n:6d}  {m[:200]}")
    for seed, kind, msg, detail in res:
        if kind not in ("ok", "skip", "refused"):
            print(f"seed {seed}: {kind} {msg[:150]}")
            if a.show:
                print(detail)
    return kinds


if __name__ == "__main__":  # pragma: no cover
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if any(x.startswith("--") for x in sys.argv[1:]):
        main()
    else:
        print(generate_real(int(sys.argv[1]) if len(sys.argv) > 1 else 0).clean)
