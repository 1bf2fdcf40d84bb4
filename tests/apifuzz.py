"""Random programs over a wide slice of NumPy's API, for tests/test_api_fuzz.py.

``tests/fuzzgen.py`` stresses control flow over a dozen NumPy functions; this
generator stresses the *API surface*: linear algebra (``@``, ``dot``,
``einsum``, ``tensordot``, ``linalg.*``), reshaping and joining arrays,
reductions with every ``axis``/``keepdims`` form, method calls
(``x.sum(axis=1)``, ``x.T``, ``x.reshape(-1)``), every kind of subscript
(negative ints, steps, ``...``, ``None``, masks computed from data, integer
arrays), writes into arrays, keyword arguments, Python floats mixed with
arrays, and the idioms NumPy users write (softmax, logsumexp, layer norm,
cross entropy, attention, ...).

A program is built one statement at a time *on concrete inputs*: each
candidate statement is run with NumPy on the program's own arguments and kept
only if it works and its values stay finite and moderate, so every generated
program runs, and its shapes are whatever NumPy says.  Domains are kept safe
by construction (``log(1 + x*x)``, ``sqrt(1 + x*x)``, ``arcsin(0.5*tanh(x))``,
diagonally dominant matrices for ``inv``/``solve``/``det``); kinks (``abs``,
``max``, ``clip``, masks) are left to the driver's finite-difference
stability check.

``generate(seed)`` returns a :class:`Program`: its source (a module defining
``f``), its arguments, the positions to differentiate and the templates used.

    python tests/apifuzz.py 123        # show program 123
"""
from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field

import numpy as np

ARG_SHAPES = [(), (), "float", (3,), (4,), (2, 3), (3, 3), (3, 4), (4, 3), (2, 3, 4),
              (3, 2, 2)]
_NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


@dataclass
class Program:
    seed: int
    source: str
    args: tuple
    positions: object
    templates: list = field(default_factory=list)
    float32: bool = False

    @property
    def arg_shapes(self):
        return [np.shape(a) if isinstance(a, np.ndarray) else type(a).__name__
                for a in self.args]


class Reject(Exception):
    """A template does not apply to the values at hand."""


def _lit(v):
    """A float or array as a short source literal."""
    if isinstance(v, np.ndarray):
        return f"np.array({np.round(v, 3).tolist()!r})"
    return repr(round(float(v), 3))


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.nprng = np.random.RandomState(seed)
        self.env = {}          # variable -> value (on the program's arguments)
        self.order = []        # variables, oldest first
        self.used = set()      # variables read by a later statement
        self.consts = []       # module-level constant definitions
        self.ns = {"np": np}   # the module's namespace while generating
        self.lines = []
        self.templates = []
        self._n = 0
        self._c = 0

    # -- names ---------------------------------------------------------------------
    def new(self):
        self._n += 1
        return f"v{self._n}"

    def const(self, shape, lo=-1.0, hi=1.0, integer=None):
        """A module-level constant ``C<k>`` of ``shape`` (an int array if ``integer``)."""
        self._c += 1
        n = f"C{self._c}"
        if integer is not None:
            v = self.nprng.randint(0, integer, size=shape)
        else:
            v = np.round(self.nprng.uniform(lo, hi, size=shape), 3)
        v = np.asarray(v)
        self.consts.append(f"{n} = np.array({v.tolist()!r})")
        self.ns[n] = v
        return n

    # -- choosing inputs -------------------------------------------------------------
    def pick(self, cond=lambda v: True, avoid=()):
        """A variable whose value satisfies ``cond``: recent and unused ones first."""
        cands = [n for n in self.order if n not in avoid and cond(self.env[n])]
        if not cands:
            raise Reject("no operand")
        fresh = [n for n in cands if n not in self.used]
        if fresh and self.rng.random() < 0.7:
            cands = fresh
        if self.rng.random() < 0.6:
            return cands[-1]
        return self.rng.choice(cands)

    def shape(self, n):
        return np.shape(self.env[n])

    def choice(self, seq):
        return self.rng.choice(list(seq))

    # -- running a candidate ---------------------------------------------------------
    def try_lines(self, lines, out, template):
        ns = dict(self.ns)
        # a failed candidate changes nothing (deepcopy keeps which names share an array)
        ns.update(copy.deepcopy(self.env))
        for k, v in self.env.items():
            if isinstance(v, np.ndarray) and not v.flags.writeable:
                ns[k] = v   # np.broadcast_to's read-only views stay read-only
        before = set(ns)
        try:
            with np.errstate(all="raise"):
                exec("\n".join(lines), ns)
        except Exception:
            raise Reject("does not run")
        val = ns[out]
        if isinstance(val, np.ndarray):
            if val.dtype.kind != "f" or val.size == 0:
                raise Reject("not a float array")
        elif not isinstance(val, (float, np.floating)):
            raise Reject("not a float")
        for k in set(ns) - before | {out}:
            v = ns[k]
            if isinstance(v, (np.ndarray, float, np.floating)) and np.asarray(v).dtype.kind == "f":
                if not np.all(np.isfinite(v)) or np.any(np.abs(v) > 200.0):
                    raise Reject("values out of range")
        for k in ns:
            if k in self.env or k not in before and not k.startswith("__"):
                self.env[k] = ns[k]  # writes into arrays, temporaries: the state after it
        reads = {n for n in self.order if any(_reads(line, n) for line in lines)}
        self.used |= reads
        self.env[out] = val
        self.order.append(out)
        self.lines += lines
        self.templates.append(template)


def _reads(line, n):
    import re
    return re.search(rf"(?<![\w.]){n}(?!\w)", line) is not None


# -- predicates ------------------------------------------------------------------------

def arr(v):
    return isinstance(v, np.ndarray) and v.ndim >= 1


def nd(k):
    return lambda v: isinstance(v, np.ndarray) and v.ndim == k


def ndmin(k):
    return lambda v: isinstance(v, np.ndarray) and v.ndim >= k


def anyv(v):
    return True


def square(v):
    return isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[0] == v.shape[1]


def scalar(v):
    return not isinstance(v, np.ndarray) or v.ndim == 0


# -- templates ---------------------------------------------------------------------------
# Each takes the generator and the output's name and returns the statement lines
# (the last one assigns ``out``) or raises Reject.

TEMPLATES = []


def template(weight=1.0):
    def register(fn):
        TEMPLATES.append((fn.__name__, fn, weight))
        return fn
    return register


UNARY = [
    "np.sin({x})", "np.cos({x})", "np.tanh({x})", "np.arctan({x})", "np.arcsinh({x})",
    "np.sinh({x})", "np.cosh({x})", "np.exp({x})", "np.expm1({x})", "np.exp2({x})",
    "np.square({x})", "np.exp(-{x} ** 2)", "np.log(1.0 + {x} * {x})", "np.log1p({x} ** 2)",
    "np.log2(2.0 + np.sin({x}))", "np.log10(1.5 + np.cos({x}))", "np.sqrt(1.0 + np.square({x}))",
    "np.sqrt(np.exp({x}))", "np.arcsin(0.5 * np.tanh({x}))", "np.arccos(0.9 * np.sin({x}))",
    "np.arctanh(0.5 * np.tanh({x}))", "np.reciprocal(1.5 + np.cos({x}))",
    "np.power(1.5 + np.sin({x}), 2.5)", "{x} ** 2", "{x} ** 3", "np.power({x}, 3)",
    "2.0 ** {x}", "np.hypot({x}, 0.5)", "np.logaddexp({x}, 0.0)", "np.cbrt(2.5 + {x})",
    "np.deg2rad({x})", "np.radians({x})", "np.rad2deg({x}) / 50.0", "np.sinc({x})",
    "-{x}", "np.negative({x})", "np.positive({x})", "(1.5 + np.sin({x})) ** 0.5",
    "np.float_power(2.0 + np.cos({x}), 1.5)", "1.0 / (1.0 + np.exp(-{x}))",
    "np.arccosh(1.5 + {x} ** 2)", "np.tan(0.5 * np.tanh({x}))", "np.fabs({x}) + {x}",
    "np.abs({x})", "np.absolute({x})", "np.sign({x}) * {x} ** 2", "np.maximum({x}, 0.0)",
    "np.minimum({x}, 0.3)", "np.fmax({x}, -0.2)", "np.fmin({x}, 0.1)",
    "np.clip({x}, -0.5, 0.5)", "np.clip({x}, a_min=-0.3, a_max=None)",
    "np.clip({x}, None, 0.4)", "np.where({x} > 0.0, {x}, 0.01 * {x})",
    "{x} * ({x} > 0.1)", "np.floor({x}) + {x}", "np.round({x}, 1) * {x}",
    "{x} % 1.0", "np.mod({x}, 0.7)", "np.fmod({x}, 0.6)", "np.remainder({x}, 0.8)",
    "np.nan_to_num({x})", "np.real({x})", "np.trunc({x}) * {x}", "np.ceil({x}) - {x}",
    "np.rint({x}) * 0.5 + {x}", "np.heaviside({x}, 0.5) * {x}",
]

UNARY_METHODS = ["{x}.clip(-0.4, 0.6)", "{x}.clip(min=-0.2)", "{x}.clip(max=0.3)",
                 "{x}.copy()", "{x}.astype(np.float64)", "abs({x})", "{x}.conj()",
                 "{x}.round(2) * {x}", "{x}.__abs__()", "{x}.real"]


@template(6)
def unary(g, out):
    x = g.pick()
    return [f"{out} = " + g.choice(UNARY).format(x=x)]


@template(1.5)
def unary_method(g, out):
    x = g.pick(arr)
    return [f"{out} = " + g.choice(UNARY_METHODS).format(x=x)]


BINARY = ["{x} + {y}", "{x} - {y}", "{x} * {y}", "{x} / (1.5 + np.cos({y}))",
          "np.add({x}, {y})", "np.subtract({x}, {y})", "np.multiply({x}, {y})",
          "np.divide({x}, 2.0 + {y} * {y})", "np.true_divide({x}, 2.0 + np.sin({y}))",
          "np.maximum({x}, {y})", "np.minimum({x}, {y})", "np.fmax({x}, {y})",
          "np.where({x} > {y}, {x}, {y})", "np.where({x} > 0.2, {x}, 2.0 * {y})",
          "np.hypot({x}, {y})", "np.arctan2({x}, 1.5 + np.cos({y}))",
          "np.logaddexp({x}, {y})", "np.logaddexp2({x}, {y})",
          "np.power(1.5 + np.sin({x}), {y})", "(2.0 + np.tanh({x})) ** {y}",
          "np.float_power(1.2 + {x} ** 2, 0.5 * {y})", "{x} * np.exp(-{y} ** 2)",
          "np.clip({x}, -0.5, {y} * {y} + 0.1)", "np.heaviside({x}, {y}) * {y}",
          "{x} @ {y}", "np.matmul({x}, {y})", "np.dot({x}, {y})", "{x}.dot({y})",
          "np.inner({x}, {y})", "np.outer({x}, {y})", "np.vdot({x}, {y})",
          "np.tensordot({x}, {y}, axes=1)", "np.tensordot({x}, {y}, axes=0)",
          "np.kron({x}, {y})", "np.cross({x}, {y})", "np.copysign({x}, {y})"]


@template(6)
def binary(g, out):
    x = g.pick()
    y = g.pick(avoid=(x,)) if g.rng.random() < 0.7 else x
    return [f"{out} = " + g.choice(BINARY).format(x=x, y=y)]


@template(2)
def binary_const(g, out):
    """An operand that is a constant (module-level array, literal) or a Python float."""
    x = g.pick()
    s = g.shape(x)
    r = g.rng.random()
    if r < 0.5 and s:
        sub = s[g.rng.randint(0, len(s) - 1):] if g.rng.random() < 0.5 else s
        c = g.const(sub)
    else:
        c = _lit(g.rng.uniform(-2, 2))
    form = g.choice(["{x} * {c}", "{c} * {x}", "{x} + {c}", "{c} - {x}", "{x} / 2.5",
                     "{c} / (1.5 + np.cos({x}))", "{x} @ {c}", "{c} @ {x}", "np.dot({c}, {x})",
                     "{x}.dot({c})", "{x} ** 2 * {c}", "np.maximum({x}, {c})",
                     "np.where({c} > 0.0, {x}, -{x})", "np.einsum('...,...->...', {x}, {c})"])
    if "@" in form or "dot" in form:
        if not s:
            raise Reject("matmul of a scalar")
        k = g.choice([s[-1]] if "{x} @" in form or "{x}.dot" in form else [s[0]])
        if "{x} @" in form or "{x}.dot" in form:
            c = g.const((k,) if g.rng.random() < 0.4 else (k, g.choice([2, 3])))
        else:
            c = g.const((k,) if g.rng.random() < 0.4 else (g.choice([2, 3]), k)) \
                if len(s) <= 2 else g.const((g.choice([2, 3]), s[-2]))
    return [f"{out} = " + form.format(x=x, c=c)]


@template(1.5)
def python_float(g, out):
    """Python floats (arguments of type float, float() of arrays) mixed with arrays."""
    s = g.pick(lambda v: isinstance(v, float))
    x = g.pick(avoid=(s,))
    form = g.choice(["{s} * {x}", "{x} / (1.0 + {s} * {s})", "np.sin({s}) + {x}",
                     "{s} ** 2 * {x}", "{x} - {s}", "max({s}, 0.1) * {x}",
                     "abs({s}) * {x}", "float({s}) * np.tanh({x})", "np.exp({s}) * {x}",
                     "min({s}, -0.1) + {x}", "{x} * {s} + {s}"])
    return [f"{out} = " + form.format(s=s, x=x)]


@template(1)
def to_float(g, out):
    x = g.pick(arr)
    form = g.choice(["float(np.sum({x}))", "float({x}.mean())", "{x}.sum().item()",
                     "float({x}.ravel()[0])", "np.float64(np.max({x}))",
                     "{x}.flat[0] * 1.0", "sum({x}.ravel().tolist())"])
    return [f"{out} = " + form.format(x=x)]


@template(1)
def math_module(g, out):
    x = g.pick(scalar)
    fn = g.choice(["math.exp({x})", "math.sin({x})", "math.tanh({x})", "math.sqrt(1.0 + {x} ** 2)",
                   "math.log(1.0 + {x} ** 2)", "math.cos({x})", "math.atan({x})",
                   "math.hypot({x}, 1.0)", "math.pow(1.5 + math.sin({x}), 2.0)"])
    g.ns.setdefault("math", __import__("math"))
    return [f"{out} = " + fn.format(x=x)]


def _axis_forms(g, ndim, allow_tuple=True, allow_none=True):
    forms = []
    for a in range(ndim):
        forms += [str(a), str(a - ndim)]
    if allow_tuple and ndim >= 2:
        forms += [f"({a}, {b})" for a in range(ndim) for b in range(a + 1, ndim)]
        forms += ["(0, -1)", "(-1, 0)"] if ndim >= 2 else []
    if allow_none:
        forms.append("None")
    return forms


REDUCTIONS = {
    "sum": ("np.sum({x}{ax}{kd})", "{x}.sum({ax0}{kd0})"),
    "mean": ("np.mean({x}{ax}{kd})", "{x}.mean({ax0}{kd0})"),
    "prod": ("np.prod(1.0 + 0.3 * {x}{ax}{kd})", "(1.0 + 0.3 * {x}).prod({ax0}{kd0})"),
    "max": ("np.max({x}{ax}{kd})", "{x}.max({ax0}{kd0})"),
    "min": ("np.min({x}{ax}{kd})", "{x}.min({ax0}{kd0})"),
    "amax": ("np.amax({x}{ax}{kd})", None),
    "amin": ("np.amin({x}{ax}{kd})", None),
    "std": ("np.std({x}{ax}{kd})", "{x}.std({ax0}{kd0})"),
    "var": ("np.var({x}{ax}{kd})", "{x}.var({ax0}{kd0})"),
    "std1": ("np.std({x}{ax}{kd}, ddof=1)", "{x}.std({ax0}ddof=1{kd})"),
    "var1": ("np.var({x}{ax}{kd}, ddof=1)", None),
    "ptp": ("np.ptp({x}{ax}{kd})", None),
    "average": ("np.average({x}{ax}{kd})", None),
    "nansum": ("np.nansum({x}{ax}{kd})", None),
    "nanmean": ("np.nanmean({x}{ax}{kd})", None),
    "nanmax": ("np.nanmax({x}{ax}{kd})", None),
    "median": ("np.median({x}{ax}{kd})", None),
    "norm": ("np.linalg.norm({x}, axis={axv}{kd})", None),
    "logsumexp": ("np.log(np.sum(np.exp({x}){ax}{kd}))", None),
    "builtin_sum": ("sum({x})", None),
}


@template(6)
def reduction(g, out):
    x = g.pick(arr)
    ndim = len(g.shape(x))
    kind = g.choice(REDUCTIONS)
    fn_form, method_form = REDUCTIONS[kind]
    axv = g.choice(_axis_forms(g, ndim, allow_tuple=kind not in ("norm",) or ndim >= 2))
    if kind == "norm" and axv.startswith("(") and ndim < 2:
        raise Reject("norm over two axes of a vector")
    keep = g.rng.random() < 0.3
    if method_form and g.rng.random() < 0.45:
        # x.sum(), x.sum(1), x.sum(axis=(0, 1)), x.sum(keepdims=True), ...
        style = g.rng.random()
        if axv == "None" and style < 0.4:
            ax0 = ""
        elif style < 0.7 and not axv.startswith("("):
            ax0 = axv
        else:
            ax0 = f"axis={axv}"
        text = method_form.format(x=x, ax0=ax0 + (", " if ax0 and "ddof" in method_form else ""),
                                  kd0=(", keepdims=True" if ax0 else "keepdims=True") if keep
                                  else "", kd=", keepdims=True" if keep else "")
        text = text.replace("(, ", "(")
    else:
        style = g.rng.random()
        if axv == "None" and style < 0.5:
            ax = ""
        elif style < 0.3 and kind not in ("norm",):
            ax = f", {axv}"
        else:
            ax = f", axis={axv}"
        text = fn_form.format(x=x, ax=ax, axv=axv, kd=", keepdims=True" if keep else "")
    return [f"{out} = {text}"]


@template(2)
def cumulative(g, out):
    x = g.pick(arr)
    ndim = len(g.shape(x))
    ax = g.choice([str(a) for a in range(ndim)] + ["-1", "None"])
    form = g.choice(["np.cumsum({x}, axis={a})", "np.cumprod(1.0 + 0.2 * {x}, axis={a})",
                     "{x}.cumsum({a})", "{x}.cumsum(axis={a})", "(1.0 + 0.1 * {x}).cumprod({a})",
                     "np.diff({x}, axis={a2})", "np.diff({x})", "np.sort({x}, axis={a2})",
                     "np.sort({x})", "np.cumsum({x})", "np.gradient({x}, axis={a2})"])
    a2 = ax if ax != "None" else "-1"
    return [f"{out} = " + form.format(x=x, a=ax, a2=a2)]


def _factor_shapes(size):
    out = []
    for a in range(1, size + 1):
        if size % a == 0:
            out.append((a, size // a))
    return out


@template(4)
def reshape(g, out):
    x = g.pick(arr)
    s = g.shape(x)
    size = int(np.prod(s))
    a, b = g.choice(_factor_shapes(size))
    form = g.choice(["{x}.reshape(-1)", "{x}.reshape({a}, {b})", "{x}.reshape(({a}, {b}))",
                     "{x}.reshape({a}, -1)", "{x}.reshape((-1, {b}))", "np.reshape({x}, (-1,))",
                     "np.reshape({x}, ({a}, {b}))", "np.reshape({x}, (-1, {b}))",
                     "np.reshape({x}, {size})", "{x}.reshape({x}.shape[0], -1)",
                     "{x}.reshape(*{x}.shape[:-1], -1)", "{x}.reshape(({a}, {b}, 1))",
                     "np.reshape({x}, {x}.shape + (1,))", "{x}.reshape({x}.size)",
                     "{x}.ravel()", "np.ravel({x})", "{x}.flatten()", "{x}.ravel(order='F')",
                     "{x}.reshape(len({x}), -1)", "{x}.reshape(-1, order='F')"])
    return [f"{out} = " + form.format(x=x, a=a, b=b, size=size)]


@template(4)
def permute(g, out):
    x = g.pick(ndmin(2))
    n = len(g.shape(x))
    perm = list(range(n))
    g.rng.shuffle(perm)
    form = g.choice(["{x}.T", "np.transpose({x})", "{x}.transpose()",
                     "np.transpose({x}, {perm})", "np.transpose({x}, axes={perm})",
                     "{x}.transpose({perm})", "{x}.transpose({perm_args})",
                     "np.swapaxes({x}, 0, -1)", "{x}.swapaxes(0, 1)", "np.swapaxes({x}, -2, -1)",
                     "np.moveaxis({x}, 0, -1)", "np.moveaxis({x}, -1, 0)",
                     "np.moveaxis({x}, [0, 1], [1, 0])", "np.rollaxis({x}, 1)",
                     "np.flip({x}, axis=0)", "np.flip({x})", "np.flip({x}, -1)",
                     "np.fliplr({x})", "np.flipud({x})", "np.rot90({x})", "np.rot90({x}, 2)",
                     "np.roll({x}, 1, axis=0)", "np.roll({x}, -1)", "np.roll({x}, (1, 1), (0, 1))",
                     "{x}.mT", "np.matrix_transpose({x})", "np.permute_dims({x}, {perm})"])
    return [f"{out} = " + form.format(x=x, perm=tuple(perm),
                                      perm_args=", ".join(map(str, perm)))]


@template(3)
def dims(g, out):
    x = g.pick(arr)
    s = g.shape(x)
    n = len(s)
    ones = [i for i, k in enumerate(s) if k == 1]
    form = g.choice(["np.expand_dims({x}, 0)", "np.expand_dims({x}, axis=-1)",
                     "np.expand_dims({x}, (0, 2))", "{x}[None]", "{x}[:, None]",
                     "{x}[np.newaxis, ...]", "{x}[..., None]", "np.atleast_2d({x})",
                     "np.atleast_3d({x})", "np.atleast_1d({x})",
                     "np.squeeze({x})", "{x}.squeeze()", "np.squeeze({x}, axis={one})",
                     "{x}.squeeze({one})", "np.broadcast_to({x}, (2,) + {x}.shape)",
                     "np.broadcast_to({x}, {bshape})", "np.asarray({x})", "np.array({x})",
                     "np.asarray({x}, dtype=np.float64)", "np.copy({x})",
                     "np.ascontiguousarray({x})", "np.asfortranarray({x})",
                     "{x} * np.ones({shape})", "np.zeros({shape}) + {x}",
                     "np.ones_like({x}) * {x}", "np.full_like({x}, 2.0) * {x}"])
    if "{one}" in form and not ones:
        raise Reject("no axis of length 1")
    bshape = (3,) + s if n < 3 else s
    if n >= 1 and s[-1] == 1:
        bshape = s[:-1] + (3,)
    return [f"{out} = " + form.format(x=x, one=g.choice(ones) if ones else 0,
                                      bshape=bshape, shape=s)]


@template(4)
def join(g, out):
    x = g.pick(arr)
    s = g.shape(x)
    same = [n for n in g.order if np.shape(g.env[n]) == s and n != x]
    y = g.choice(same) if same and g.rng.random() < 0.7 else f"np.sin({x})"
    n = len(s)
    ax = g.rng.randint(-n, n - 1)
    ax1 = g.rng.randint(-n - 1, n)
    form = g.choice(["np.concatenate([{x}, {y}])", "np.concatenate(({x}, {y}), axis={ax})",
                     "np.concatenate([{x}, {y}, {x}], {ax})", "np.concatenate([{x}], axis={ax})",
                     "np.stack([{x}, {y}])", "np.stack(({x}, {y}), axis={ax1})",
                     "np.hstack([{x}, {y}])", "np.vstack([{x}, {y}])", "np.hstack(({x}, {y}))",
                     "np.dstack([{x}, {y}])", "np.column_stack([{x}, {y}])",
                     "np.row_stack([{x}, {y}])", "np.append({x}, {y})",
                     "np.append({x}, {y}, axis={ax})", "np.array([{x}, {y}])",
                     "np.asarray([{x}, {y}])", "np.block([{x}, {y}])",
                     "np.concatenate([{x}, np.zeros({s})], axis={ax})",
                     "np.stack([{x}[..., 0], {y}[..., -1]], axis=-1)",
                     "np.concatenate([{x}, {y}], axis=None)"])
    return [f"{out} = " + form.format(x=x, y=y, ax=ax, ax1=ax1, s=s)]


@template(2)
def scalars_to_array(g, out):
    a = g.pick(scalar)
    b = g.pick(scalar, avoid=()) if g.rng.random() < 0.5 else "0.5"
    form = g.choice(["np.array([{a}, {b}, {a} * {b}])", "np.array([[{a}, {b}], [{b}, 1.0]])",
                     "np.stack([{a}, {b}])", "np.asarray([{a}, 2.0 * {b}])",
                     "np.hstack([{a}, {b}])", "np.append({a}, {b})"])
    return [f"{out} = " + form.format(a=a, b=b)]


@template(2)
def split(g, out):
    x = g.pick(arr)
    s = g.shape(x)
    n = len(s)
    axes = [a for a in range(n) if s[a] % 2 == 0] or [None]
    ax = g.choice(axes)
    t = g.new()
    u = g.new()
    if ax is None:
        form = g.choice([f"{t}, {u} = np.array_split({x}, 2)",
                         f"{t}, {u} = np.array_split({x}, [1], axis=-1)",
                         f"{t}, {u} = np.split({x}, [1])"])
    else:
        form = g.choice([f"{t}, {u} = np.split({x}, 2, axis={ax})",
                         f"{t}, {u} = np.split({x}, 2, {ax - n})",
                         f"parts = np.array_split({x}, 2, axis={ax})\n"
                         f"{t} = parts[0]\n{u} = parts[1]",
                         f"{t}, {u} = np.array_split({x}, [1], axis={ax})",
                         f"{t}, {u} = np.hsplit({x}, 2)" if n >= 2 and s[1] % 2 == 0 else
                         f"{t}, {u} = np.split({x}, 2, axis={ax})",
                         f"{t}, {u} = np.vsplit({x}, 2)" if n >= 2 and s[0] % 2 == 0 else
                         f"{t}, {u} = np.split({x}, 2, axis={ax})"])
    comb = g.choice([f"{out} = {t} * np.cos({u})", f"{out} = np.sum({t}) + 2.0 * np.sum({u} ** 2)",
                     f"{out} = {t} - {u}", f"{out} = {u}"])
    return form.split("\n") + [comb]


@template(2)
def tile_repeat(g, out):
    x = g.pick(arr)
    n = len(g.shape(x))
    ax = g.rng.randint(-n, n - 1)
    form = g.choice(["np.tile({x}, 2)", "np.tile({x}, (2, 1))", "np.tile({x}, (1,) * {n} + (2,))",
                     "np.repeat({x}, 2)", "np.repeat({x}, 2, axis={ax})",
                     "{x}.repeat(3, axis={ax})", "np.repeat({x}, {reps}, axis=0)",
                     "np.pad({x}, 1)", "np.pad({x}, ((1, 0),) * {n})",
                     "np.pad({x}, 1, mode='edge')", "np.pad({x}, 2, mode='reflect')",
                     "np.pad({x}, (0, 2), constant_values=0.5)", "np.resize({x}, (2, 5))"])
    reps = list(range(1, g.shape(x)[0] + 1))
    return [f"{out} = " + form.format(x=x, n=n, ax=ax, reps=reps)]


@template(2)
def matrix_parts(g, out):
    x = g.pick(nd(2))
    k = g.rng.randint(-1, 1)
    form = g.choice(["np.triu({x})", "np.tril({x}, {k})", "np.triu({x}, k={k})",
                     "np.diag({x})", "np.diag({x}, {k})", "np.diagonal({x})", "{x}.diagonal()",
                     "np.diagonal({x}, offset={k})", "np.trace({x})", "{x}.trace()",
                     "np.diag(np.diag({x}))", "np.diagflat({x}[0])", "np.diag({x}[0])",
                     "np.diag({x}[0], 1)", "np.fliplr({x}).diagonal()",
                     "np.einsum('ii->i', {x}[:2, :2])", "np.einsum('ij->ji', {x})",
                     "np.take({x}, [0, 1], axis=1)", "{x}.take([1, 0, 1], axis=0)",
                     "np.take({x}, [0, -1])", "np.take_along_axis({x}, np.argsort({x}, axis=1), "
                     "axis=1)", "np.compress([True, False], {x}, axis=0)"])
    return [f"{out} = " + form.format(x=x, k=k)]


@template(4)
def contraction(g, out):
    """matmul/dot/inner/outer/tensordot/einsum on two operands of compatible shapes."""
    x = g.pick(arr)
    s = g.shape(x)
    cands = [n for n in g.order if arr(g.env[n])]
    y = g.choice(cands)
    t = g.shape(y)
    forms = []
    if len(s) == 2 and len(t) == 2 and s[1] == t[0]:
        forms += ["{x} @ {y}", "np.matmul({x}, {y})", "np.dot({x}, {y})", "{x}.dot({y})",
                  "np.einsum('ij,jk->ik', {x}, {y})", "np.einsum('ij,jk', {x}, {y})",
                  "np.tensordot({x}, {y}, axes=1)", "np.tensordot({x}, {y}, axes=([1], [0]))",
                  "np.linalg.multi_dot([{x}, {y}])", "np.einsum('ij,jk->ki', {x}, {y})",
                  "np.matmul({x}, {y}).T", "({x} @ {y}).sum(axis=1)"]
    if len(s) == 2 and len(t) == 2 and s[0] == t[0]:
        forms += ["{x}.T @ {y}", "np.dot({x}.T, {y})", "np.einsum('ij,ik->jk', {x}, {y})",
                  "np.tensordot({x}, {y}, axes=([0], [0]))", "np.einsum('ji,jk', {x}, {y})"]
    if len(s) == 2 and len(t) == 2 and s[1] == t[1]:
        forms += ["{x} @ {y}.T", "np.inner({x}, {y})", "np.einsum('ij,kj->ik', {x}, {y})",
                  "{x} @ {y}.transpose()", "np.dot({x}, {y}.T)"]
    if s == t:
        forms += ["np.einsum('...,...->', {x}, {y})", "np.sum({x} * {y})", "np.vdot({x}, {y})",
                  "np.tensordot({x}, {y}, axes={n})", "np.einsum('{sub},{sub}->', {x}, {y})",
                  "np.einsum('{sub},{sub}->{sub}', {x}, {y})"]
    if len(s) == 2 and len(t) == 1 and s[1] == t[0]:
        forms += ["{x} @ {y}", "np.dot({x}, {y})", "np.einsum('ij,j->i', {x}, {y})",
                  "np.matmul({x}, {y})", "np.inner({x}, {y})", "{x}.dot({y})"]
    if len(s) == 1 and len(t) == 2 and s[0] == t[0]:
        forms += ["{x} @ {y}", "np.dot({x}, {y})", "np.einsum('i,ij->j', {x}, {y})"]
    if len(s) == 1 and len(t) == 1:
        forms += ["np.outer({x}, {y})", "np.einsum('i,j->ij', {x}, {y})",
                  "np.multiply.outer({x}, {y})", "{x}[:, None] * {y}[None, :]",
                  "np.tensordot({x}, {y}, axes=0)", "np.kron({x}, {y})"]
        if s == t:
            forms += ["{x} @ {y}", "np.dot({x}, {y})", "np.inner({x}, {y})", "{x}.dot({y})"]
    if len(s) == 3 and len(t) == 3 and s[0] == t[0] and s[2] == t[1]:
        forms += ["{x} @ {y}", "np.matmul({x}, {y})", "np.einsum('bij,bjk->bik', {x}, {y})"]
    if len(s) == 3 and len(t) == 2 and s[2] == t[0]:
        forms += ["{x} @ {y}", "np.dot({x}, {y})", "np.einsum('bij,jk->bik', {x}, {y})",
                  "np.tensordot({x}, {y}, axes=([2], [0]))", "np.matmul({x}, {y})"]
    if len(s) == 3 and len(t) == 1 and s[2] == t[0]:
        forms += ["{x} @ {y}", "np.dot({x}, {y})", "np.einsum('bij,j->bi', {x}, {y})"]
    if len(s) == 3:
        forms += ["np.einsum('ijk->kji', {x})", "np.einsum('ijk->j', {x})",
                  "np.einsum('ijk,ijk->i', {x}, {x})", "np.einsum('bij->bji', {x}) @ {x}",
                  "np.tensordot({x}, {x}, axes=([0, 1], [0, 1]))",
                  "np.einsum('...ij->...ji', {x})", "np.swapaxes({x}, -1, -2) @ {x}"]
    if len(s) == 2:
        forms += ["{x} @ {x}.T", "{x}.T @ {x}", "np.einsum('ij->', {x})",
                  "np.einsum('ij,ij->i', {x}, {x})", "np.dot({x}, {x}.T)"]
    if not forms:
        raise Reject("no contraction")
    sub = "ijk"[:len(s)]
    return [f"{out} = " + g.choice(forms).format(x=x, y=y, n=len(s), sub=sub)]


@template(3)
def linalg(g, out):
    x = g.pick(square)
    n = g.shape(x)[0]
    a = g.new()
    build = g.choice([f"{a} = 3.0 * np.eye({n}) + 0.3 * {x}",
                      f"{a} = {x} @ {x}.T + np.eye({n})",
                      f"{a} = np.identity({n}) * 2.5 + np.tanh({x})"])
    spd = "@" in build
    b = g.pick(lambda v: arr(v) and v.shape[0] == n and v.ndim <= 2, avoid=(x,)) \
        if g.rng.random() < 0.5 else None
    b = b or g.const((n,))
    forms = ["np.linalg.inv({a})", "np.linalg.det({a})", "np.linalg.slogdet({a})[1]",
             "np.linalg.solve({a}, {b})", "np.linalg.inv({a}) @ {b}",
             "np.linalg.solve({a}.T, {b}) * 2.0", "np.linalg.norm({a})",
             "np.linalg.norm({a}, 'fro')", "np.linalg.norm({a}, ord=1)",
             "np.linalg.norm({a}, np.inf)", "np.linalg.norm({a}, 2)",
             "np.linalg.norm({a}, 'nuc')", "np.linalg.norm({a}, axis=0)",
             "np.linalg.norm({a}, ord=1, axis=1)", "np.linalg.matrix_power({a}, 2)",
             "np.linalg.matrix_power({a}, 3)", "np.linalg.pinv({a})",
             "np.linalg.svd({a}, compute_uv=False)", "np.linalg.qr({a})[1]",
             "np.linalg.lstsq({a}, {b}, rcond=None)[0]", "np.linalg.eigvals({a}).real",
             "np.linalg.cond({a})", "np.log(np.linalg.det({a}) ** 2)",
             "np.trace(np.linalg.inv({a}))", "np.linalg.tensorsolve({a}, {b})",
             "np.linalg.matrix_rank({a}) * {a}"]
    if spd:
        forms += ["np.linalg.cholesky({a})", "np.linalg.eigh({a})[0]",
                  "np.linalg.eigvalsh({a})", "np.sum(np.log(np.diag(np.linalg.cholesky({a}))))",
                  "np.linalg.slogdet({a}).logabsdet"]
    form = g.choice(forms)
    if "slogdet" in form and g.rng.random() < 0.5:
        sg_, ld = g.new(), g.new()
        return [build, f"{sg_}, {ld} = np.linalg.slogdet({a})", f"{out} = {sg_} * {ld}"]
    return [build, f"{out} = " + form.format(a=a, b=b)]


@template(2)
def vector_norms(g, out):
    x = g.pick(arr)
    form = g.choice(["np.linalg.norm({x})", "np.linalg.norm({x}, axis=-1)",
                     "np.linalg.norm({x}, axis=0, keepdims=True)", "np.linalg.norm({x}.ravel(), 1)",
                     "np.linalg.norm({x}.ravel(), ord=np.inf)", "np.linalg.norm({x}.ravel(), 3)",
                     "np.linalg.norm({x}.ravel(), -np.inf)", "np.sqrt(np.sum({x} ** 2))",
                     "{x} / np.linalg.norm({x}, axis=-1, keepdims=True)",
                     "np.linalg.vector_norm({x})", "np.linalg.norm({x}.ravel(), 0.5)"])
    return [f"{out} = " + form.format(x=x)]


INDEX_1 = ["0", "-1", "1:", ":-1", "::2", "::-1", "1:3", "...", "None", "[0, 2]",
           "[-1, 0, 0]", "np.array([2, 0, 0])", "{x} > 0.2", "np.abs({x}) > 0.5",
           "np.argmax({x})", "np.argsort({x})", "{x} < {x}.mean()", "slice(1, None)",
           "-2::-1", "[True, False, True]"]
INDEX_2 = ["0", "-1", "1:", "::2, ::-1", ":, 0", ":, -1", "..., 0", "0, 1", "-1, ::2",
           "1:, :-1", ":, None, :", "None, :, 0", "[0, 1], [1, 0]", ":, [1, 0]",
           "[1, 0]", "np.arange(2), np.array([0, 2])", "{x} > 0.1", "{x}[:, 0] > 0.0",
           "np.argmax({x}, axis=0), np.arange({n1})", "..., ::-1", "::-1, 1:",
           "(0, 1)", "0][1", ":, :-1, None", "np.ix_([0, 1], [0, 1])",
           "np.unravel_index(np.argmax({x}), {x}.shape)"]
INDEX_3 = ["0", "-1, :, 1", "0, :, 1", ":, 1, :", "..., 0", "..., 1:", "1, ...", ":, :, ::-1",
           "None, ..., 0", "[0, 1], :, [1, 0]", "{x} > 0.3", "0, 1", ":, [1, 0], -1",
           "..., None, 0", "::2, 1:, ::-1"]


@template(6)
def subscript(g, out):
    x = g.pick(arr)
    s = g.shape(x)
    table = {1: INDEX_1, 2: INDEX_2}.get(len(s), INDEX_3)
    idx = g.choice(table).format(x=x, n1=s[1] if len(s) > 1 else 1)
    form = g.choice(["{x}[{i}]", "{x}[{i}] * 2.0", "np.sum({x}[{i}])", "{x}[{i}] ** 2"])
    return [f"{out} = " + form.format(x=x, i=idx)]


@template(3)
def setitem(g, out):
    """Writes into a fresh array: a copy, zeros, an empty buffer filled by a loop."""
    x = g.pick(arr)
    s = g.shape(x)
    v = g.pick(scalar, avoid=(x,)) if g.rng.random() < 0.5 else None
    val = v or "0.5"
    n = len(s)
    first = g.choice([f"{out} = {x}.copy()", f"{out} = np.copy({x})", f"{out} = {x} * 1.0",
                      f"{out} = np.zeros_like({x})", f"{out} = np.zeros({s})",
                      f"{out} = np.ones_like({x}) * 2.0", f"{out} = np.array({x})",
                      f"{out} = np.empty_like({x})\n{out}[...] = {x}",
                      f"{out} = np.zeros({x}.shape)", f"{out} = {x}"])
    fill = [f"{out}[0] = {val}", f"{out}[-1] = np.sin({x}[0])",
            f"{out}[1:] = {x}[:-1]", f"{out}[::2] *= 3.0", f"{out}[0] += {x}[-1] * {val}",
            f"{out}[{x} > 0.3] = 0.0", f"{out}[np.abs({x}) < 0.4] *= {val}",
            f"{out}[[0, 0]] += {x}[0]", f"{out}[np.array([1, 0, 1]) % {s[0]}] = {x}[0] ** 2",
            f"{out}[...] = np.tanh({x})", f"{out} += {x}", f"{out} *= np.cos({x})",
            f"{out} -= 0.5 * {x}", f"{out} /= 1.5 + np.sin({x})",
            f"{out}[:] = {out}[::-1] * {x}", f"np.add.at({out}, [0, 0], {x}[0])",
            f"np.copyto({out}, {x} ** 2)", f"{out}.fill(1.0)\n{out}[0] = {x}[0]",
            f"{out}.sort(axis=0)", f"np.put({out}, [0], {val})", f"{out}.flat[0] = {val}",
            f"np.place({out}, {x} > 0.0, 0.1)", f"np.putmask({out}, {x} > 0.0, {x} ** 2)",
            f"{out}[{x} > 0.0] = {x}[{x} > 0.0] ** 2"]
    if n >= 2:
        fill += [f"{out}[:, 0] = {val}", f"{out}[0, :] = {x}[-1] * {val}",
                 f"{out}[..., -1] += {x}[..., 0]", f"{out}[0, 0] = {x}[-1, -1]",
                 f"{out}[:, 1:] = {x}[:, :-1] * 2.0", f"{out}[[0, 1], [1, 0]] = {val}",
                 f"{out}[:, [0, 0]] += 1.0 * {val}", f"{out}.T[0] = {val}",
                 f"{out}[1][0] = {val}"]
    lines = first.split("\n")
    for _ in range(g.rng.randint(1, 2)):
        lines += g.choice(fill).split("\n")
    return lines


@template(2)
def loop(g, out):
    """Loops over an array's rows and over ranges, as people write them."""
    x = g.pick(arr)
    s = g.shape(x)
    n = s[0]
    i = "i" + out[1:]
    body = g.choice([
        [f"{out} = 0.0", f"for {i} in range({n}):", f"    {out} = {out} + np.sum({x}[{i}] ** 2)"],
        [f"{out} = np.zeros({s[1:]})" if len(s) > 1 else f"{out} = 0.0",
         f"for row in {x}:", f"    {out} = {out} + np.tanh(row)"],
        [f"{out} = np.zeros({n})", f"for {i} in range(len({x})):",
         f"    {out}[{i}] = np.sum(np.sin({x}[{i}]))"],
        ["rows = []", f"for {i} in range({n}):", f"    rows.append({x}[{i}] * ({i} + 1.0))",
         f"{out} = np.stack(rows)"],
        [f"{out} = [np.cos(r) for r in {x}]", f"{out} = np.array({out})"],
        [f"{out} = sum(np.exp(-r ** 2) for r in {x})"],
        [f"{out} = {x}", "for _ in range(2):", f"    {out} = 0.5 * {out} + np.sin({out})"],
        [f"{out} = 1.0", f"for {i}, r in enumerate({x}):",
         f"    {out} = {out} * (1.0 + 0.1 * np.sum(r))"],
        [f"{out} = 0.0", f"for a, b in zip({x}, {x}[::-1]):", f"    {out} += np.sum(a * b)"],
        [f"{out} = np.zeros_like({x})", f"for {i} in range({n}):",
         f"    {out}[{i}] = {x}[{i}] - {x}[{i} - 1]"],
    ])
    return body


@template(4)
def idiom(g, out):
    """The numerical idioms of NumPy model code."""
    x = g.pick(arr)
    s = g.shape(x)
    n = len(s)
    m, e = g.new(), g.new()
    forms = [
        # softmax over the last axis, numerically stable
        [f"{m} = np.max({x}, axis=-1, keepdims=True)", f"{e} = np.exp({x} - {m})",
         f"{out} = {e} / np.sum({e}, axis=-1, keepdims=True)"],
        [f"{e} = np.exp({x} - {x}.max())", f"{out} = {e} / {e}.sum()"],
        # logsumexp
        [f"{m} = {x}.max(axis=0)", f"{out} = {m} + np.log(np.exp({x} - {m}).sum(axis=0))"],
        [f"{m} = np.max({x})", f"{out} = {m} + np.log(np.sum(np.exp({x} - {m})))"],
        # log-softmax
        [f"{m} = {x} - np.max({x}, axis=-1, keepdims=True)",
         f"{out} = {m} - np.log(np.sum(np.exp({m}), axis=-1, keepdims=True))"],
        # sigmoid, stable sigmoid, softplus, relu, leaky relu, gelu, silu
        [f"{out} = 1.0 / (1.0 + np.exp(-{x}))"],
        [f"{out} = np.where({x} >= 0, 1.0 / (1.0 + np.exp(-{x})), "
         f"np.exp({x}) / (1.0 + np.exp({x})))"],
        [f"{out} = np.log1p(np.exp(-np.abs({x}))) + np.maximum({x}, 0)"],
        [f"{out} = np.maximum(0, {x})"], [f"{out} = np.where({x} > 0, {x}, 0.1 * {x})"],
        [f"{out} = 0.5 * {x} * (1.0 + np.tanh(0.79788456 * ({x} + 0.044715 * {x} ** 3)))"],
        [f"{out} = {x} / (1.0 + np.exp(-{x}))"],
        # normalisation
        [f"{m} = {x}.mean(axis=-1, keepdims=True)", f"{e} = {x}.var(axis=-1, keepdims=True)",
         f"{out} = ({x} - {m}) / np.sqrt({e} + 1e-5)"],
        [f"{out} = ({x} - np.mean({x}, axis=0)) / (np.std({x}, axis=0) + 0.1)"],
        [f"{out} = {x} / np.sqrt(np.sum({x} ** 2, axis=-1, keepdims=True) + 1e-3)"],
        # losses
        [f"{out} = np.mean(({x} - 0.3) ** 2)"],
        [f"{out} = np.mean(np.abs({x} - 0.1))"],
        [f"{m} = np.abs({x} - 0.2)",
         f"{out} = np.where({m} < 0.5, 0.5 * {m} ** 2, 0.5 * ({m} - 0.25))"],
        [f"{m} = 1.0 / (1.0 + np.exp(-{x}))",
         f"{out} = -np.mean(0.3 * np.log({m}) + 0.7 * np.log(1.0 - {m}))"],
        [f"{out} = np.sum(np.maximum(0.0, 1.0 - {x} * 0.7))"],
        # polynomial by loop, Horner
        [f"{out} = 0.0", "for k in range(3):", f"    {out} = {out} + (k + 1.0) * {x} ** k"],
        [f"{out} = np.polyval([0.5, -1.0, 2.0], {x})"],
        # gaussian log-density, cosine similarity
        [f"{out} = -0.5 * np.sum(({x} - 0.1) ** 2 / 0.7) - 0.5 * np.log(2 * np.pi * 0.7)"],
        [f"{out} = np.dot({x}.ravel(), np.cos({x}.ravel())) / (np.linalg.norm({x}) * "
         f"np.linalg.norm(np.cos({x})))"],
        # numpy scalars and np.float64 of results
        [f"{out} = np.float64(np.sum({x})) * 2.0"],
        [f"{out} = np.sum({x}, dtype=np.float64) + np.mean({x}, dtype=np.float64)"],
        [f"{out} = {x}.sum(axis=0) / {x}.shape[0]"],
        [f"{out} = {x} / len({x})"],
        [f"{out} = np.sum({x}) / {x}.size"],
        [f"{out} = np.interp({x}, [-1.0, 0.0, 1.0], [0.0, 1.0, 0.5])"],
        [f"{out} = np.convolve({x}.ravel(), [0.25, 0.5, 0.25], mode='same')"],
        [f"{out} = np.correlate({x}.ravel(), [1.0, -1.0])"],
        [f"{out} = np.cov({x}) if {x}.ndim > 1 else np.var({x})"],
        [f"{out} = np.trapezoid({x}) if hasattr(np, 'trapezoid') else np.trapz({x})"],
        [f"{out} = np.linspace(0.0, 1.0, 4) * np.sum({x})"],
        [f"{out} = np.linspace({x}.ravel()[0], 1.0, 4)"],
    ]
    if n == 2:
        r, c = s
        lab = g.const((r,), integer=c)
        forms += [
            # cross entropy with integer labels
            [f"{m} = {x} - np.max({x}, axis=1, keepdims=True)",
             f"{e} = {m} - np.log(np.sum(np.exp({m}), axis=1, keepdims=True))",
             f"{out} = -np.mean({e}[np.arange({r}), {lab}])"],
            [f"{m} = np.exp({x}) / np.exp({x}).sum(axis=1, keepdims=True)",
             f"{out} = -np.log({m}[range({r}), {lab}]).sum()"],
            [f"{m} = np.zeros(({r}, {c}))", f"{m}[np.arange({r}), {lab}] = 1.0",
             f"{out} = -np.sum({m} * np.tanh({x}))"],
            [f"{m} = np.eye({c})[{lab}]", f"{out} = np.sum({m} * {x} ** 2)"],
            # attention
            [f"{m} = {x} @ {x}.T / np.sqrt({c})",
             f"{e} = np.exp({m} - {m}.max(axis=-1, keepdims=True))",
             f"{out} = ({e} / {e}.sum(axis=-1, keepdims=True)) @ {x}"],
            # pairwise squared distances
            [f"{m} = {x}[:, None, :] - {x}[None, :, :]",
             f"{out} = np.sqrt(np.sum({m} ** 2, axis=-1) + 1e-2)"],
            [f"{m} = np.sum({x} ** 2, axis=1)",
             f"{out} = {m}[:, None] + {m}[None, :] - 2.0 * {x} @ {x}.T"],
            # a dense layer
            [f"{m} = np.tanh({x} @ {g.const((c, 2))} + {g.const((2,))})",
             f"{out} = {m} @ {g.const((2,))}"],
        ]
    return g.choice(forms)


@template(1)
def helper_call(g, out):
    """A user helper taking keyword arguments and defaults."""
    x = g.pick(arr)
    h = f"h{out[1:]}"
    body = g.choice([
        (f"def {h}(a, scale=1.0, axis=-1):\n"
         f"    return scale * np.tanh(a).sum(axis=axis)", f"{h}({x}, scale=0.5)"),
        (f"def {h}(a, *, shift):\n    return np.exp(-(a - shift) ** 2)",
         f"{h}({x}, shift=0.2)"),
        (f"def {h}(a, b=None):\n    if b is None:\n        b = a\n    return a * b",
         f"{h}({x})"),
        (f"def {h}(*xs):\n    return sum(np.sum(t ** 2) for t in xs)", f"{h}({x}, {x})"),
        (f"def {h}(a, **kw):\n    return np.clip(a, **kw)", f"{h}({x}, a_min=-0.5, a_max=0.5)"),
        (f"{h} = lambda a: np.sum(np.sin(a), axis=0)", f"{h}({x})"),
    ])
    g.consts.append(body[0])
    exec(body[0], g.ns)
    return [f"{out} = {body[1]}"]


# -- the program -------------------------------------------------------------------------

def _arg_value(g, shape):
    if shape == "float":
        return float(np.round(g.nprng.uniform(-1.2, 1.2), 4))
    v = g.nprng.uniform(-1.2, 1.2, size=shape)
    return v if shape != () else np.float64(v)


def generate(seed: int) -> Program:
    g = Gen(seed)
    rng = g.rng
    nargs = rng.choice([1, 1, 2, 2, 2, 3])
    args = []
    params = []
    for k in range(nargs):
        shape = rng.choice(ARG_SHAPES)
        if shape == () and rng.random() < 0.5:
            shape = "float"
        name = "xyzw"[k]
        val = _arg_value(g, shape)
        if isinstance(val, np.float64):
            val = np.array(val)  # a 0-d array
        args.append(np.array(val) if isinstance(val, np.ndarray) else val)
        params.append(name)
        g.env[name] = val
        g.order.append(name)
    names = [name for name, _, w in TEMPLATES]
    weights = [w for _, _, w in TEMPLATES]
    table = {name: fn for name, fn, _ in TEMPLATES}
    want = rng.randint(2, 6)
    tries = 0
    while len(g.templates) < want and tries < 200:
        tries += 1
        tname = rng.choices(names, weights)[0]
        try:
            lines = table[tname](g, g.new())
            out = _assigned(lines)
            g.try_lines(lines, out, tname)
        except Reject:
            continue
    # every value computed feeds the result: a weighted sum of the unused ones
    unused = [n for n in g.order if n not in g.used and n not in params]
    if not unused:
        unused = [g.order[-1]]
    terms = []
    style = rng.random()
    if style < 0.15 and len(unused) == 1:
        ret = unused[0]  # a non-scalar output: seeded with ones
    elif style < 0.25 and len(unused) >= 1:
        ret = ", ".join(unused) + ("," if len(unused) == 1 else "")  # a tuple of outputs
    else:
        for n in unused:
            s = np.shape(g.env[n])
            if s == ():
                terms.append(f"{_lit(rng.uniform(0.5, 1.5))} * {n}")
            else:
                c = g.const(s)
                terms.append(rng.choice([f"np.sum({n} * {c})", f"({n} * {c}).sum()",
                                         f"np.sum(np.sin({n}) * {c})"]))
        ret = " + ".join(terms)
    if rng.random() < 0.5 or len(params) == 1:
        positions = tuple(range(len(params)))
        if len(positions) == 1 and rng.random() < 0.5:
            positions = 0
    else:
        positions = tuple(sorted(rng.sample(range(len(params)), rng.randint(1, len(params)))))
    imports = "import math\n\nimport numpy as np\n"
    body = "\n".join("    " + line for line in "\n".join(g.lines).split("\n"))
    text = body + "\n" + ret
    consts = [c for c in g.consts if _reads(text, _defined(c))]  # the ones still read
    src = (imports + "\n" + "\n".join(consts) + "\n\n\n"
           f"def f({', '.join(params)}):\n{body}\n    return {ret}\n")
    float32 = rng.random() < 0.15
    return Program(seed, src, tuple(args), positions, g.templates, float32)


def _defined(line):
    import re
    return re.match(r"(?:def\s+)?(\w+)", line).group(1)


def _assigned(lines):
    """The variable the last statement of ``lines`` binds (``v3 = ...`` or ``v3[...] = ...``)."""
    import re
    for line in reversed(lines):
        m = re.match(r"\s*(v\d+)\b", line)
        if m and not line.lstrip().startswith("for"):
            return m.group(1)
    raise Reject("no result")


if __name__ == "__main__":  # pragma: no cover
    import sys
    p = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(p.source)
    print("# args:", p.arg_shapes, " grad_position =", p.positions, " float32 =", p.float32)
    print("# templates:", p.templates)
