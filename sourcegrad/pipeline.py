"""The chain of stages, one line each.

    parse -> fence -> normalize -> activity (+ shapes) -> reverse
          -> optimize (the sweeps) -> assemble -> optimize (the functions)
          -> codegen                              (``build``, reverse mode)
    parse -> fence -> normalize -> activity (+ shapes) -> tangents
          -> optimize (the function) -> codegen   (``build_forward``, forward mode)

Each stage is a module (``parse.py``, ``fence.py``, ... ``codegen``) whose
entry takes a tree and returns a tree; ``sg.source(g, stage=...)`` shows the
tree after each.  The stages share one :class:`Context` per function: what a
name denotes, the names injected into the generated code, the callees'
derivatives, the shapes known.

``derive(fn, spec)`` runs it for one function and one configuration and
returns a :class:`Derivative`: the compiled function(s), their source text
and the guards under which they stay valid.  ``mode="joint"`` emits one
function computing forward and backward sweeps together (what ``grad``
returns); ``mode="split"`` emits ``<name>_fwd`` / ``<name>_bwd`` for calls
from other derivatives.
"""
from __future__ import annotations

import builtins
import functools
import inspect
import gc
import os
import sys
import threading
import types
from dataclasses import dataclass, field

import gast
import numpy as np

from sourcegrad import astutil, refusals
from sourcegrad import memo
from sourcegrad import runtime, xp
from sourcegrad import shapes as shapes_mod
from sourcegrad.activity import INACTIVE_ATTRS, analyse
from sourcegrad.assemble import Assembler, qualified_name, seeded_outputs
from sourcegrad.astutil import param_names
from sourcegrad.codegen import compile_functions, forwarder, to_source
from sourcegrad.errors import (SourceNotFoundError, SourcegradError)
from sourcegrad.fence import fence
from sourcegrad.naming import Namer
from sourcegrad.normalize import name, normalize
from sourcegrad import optimize
from sourcegrad.parse import MISSING, parse_function, unwrap
from sourcegrad.pins import Pin, chain, follow, pin_reads, pinnable
from sourcegrad.reverse import Reverser
from sourcegrad import tangents
from sourcegrad import reverse as reverse_mod
from sourcegrad.rules import foreign, registry
from sourcegrad.tensor import Parameter
from sourcegrad.annotations import getanno, setanno


# what the optimizer may move: functions that only compute a value
_PURE_RUNTIME = {runtime.unbroadcast, runtime.zeros_like, runtime.matmul_adjoint_a,
                 runtime.matmul_adjoint_b, runtime.seed_like, runtime.seed_first,
                 runtime.add_adjoints, runtime.item_adjoint, runtime.fill_zeros,
                 runtime.plain}
_PURE_METHODS = {"sum", "reshape"}
_NUMPY_EFFECTS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis",
                  "seterr", "errstate", "printoptions", "show_config", "info",
                  "dropout", "_dropout_mask"}  # random draws keep their order

@dataclass(frozen=True)
class Spec:
    """What to derive: which parameters, which outputs, how seeded."""

    active: tuple            # names of differentiated parameters, in order asked
    mode: str = "joint"      # "joint" | "split"
    weights: bool = False    # collect Parameter adjoints by identity
    value: bool = False      # joint: also return the primal output
    has_aux: bool = False
    sens: bool = False
    single: bool = False     # joint: one gradient, not a tuple
    weight_args: tuple = ()  # parameters that are weight Parameters at run time
    returned: int = -1       # joint: how many of `active` are returned (the rest: weights)
    shapes: tuple = ()       # ((parameter, shape), ...) the derivative is specialised on
    varargs: int = -1        # >= 0: *args specialised to that many parameters (vararg_names)
    complete: bool = False   # a gradient called inside differentiated code: joint, container
                             # inputs' gradients with zeros, not None, for items not read;
                             # calls resolved at run time through vjp_of (callees' too)
    kwargs: tuple = ()       # the keywords passed into a **kwargs parameter (expand_kwargs)
    library: str = "numpy"   # the inputs' array library ("numpy", "dask", ...): another
                             # library's arrays get no in-place updates (see xp.py)
    basis: bool = False      # jvp: the tangent of the one differentiated (vector)
                             # parameter is the identity basis (tangents.Structure)
    tangent_outputs: tuple = ()  # jvp: the items of a returned tuple whose tangents are
                                 # wanted (the others' are None); () all of them
    wanted: tuple = ()       # (pins.Pin, ...): the Parameters whose gradients are asked for
                             # (weights=...), when known; () not known (any Parameter)
    bound: tuple = ()        # ((parameter, pins.Pin), ...): parameters that are that object
                             # at every call (a Cell known to the caller as ``self``): its
                             # attributes are read as constants (pins.py)


@dataclass
class Derivative:
    functions: tuple
    source: str
    guards: list = field(default_factory=list)
    name: str = ""
    params: tuple = ()
    text: str = ""                              # this function's own generated text
    env: dict = field(default_factory=dict)     # names injected into the generated code
    globals: dict = field(default_factory=dict)  # the user module's globals it runs in
    closure: dict = field(default_factory=dict)  # the user function's closure cells
    callees: list = field(default_factory=list)  # derivatives of called functions
    spec: Spec = None                            # what was derived (to show its stages)

    def valid(self) -> bool:
        for holder, key, mode, expected in self.guards:
            try:
                value = holder.cell_contents if key is None else holder.get(key, MISSING)
                if key is not None and value is MISSING:
                    value = getattr(builtins, key, MISSING)
            except ValueError:
                return False
            if mode == "is":
                if value is not expected:
                    return False
            elif mode == "shape":  # a pinned array (pins.py): same shape and dtype
                if (getattr(value, "shape", None), getattr(value, "dtype", None)) \
                        != expected:
                    return False
            elif type(value) is not expected:
                return False
        return True


# methods that change their object in place: refused on differentiated values
MUTATING_METHODS = {"pop", "insert", "remove", "sort", "reverse", "fill", "resize", "put",
                    "itemset", "clear", "setdefault", "update", "popitem", "setfield"}


RESULT_DEPTH = 3  # see Context.callee_result


class Recursive(Exception):
    """A function's derivative is needed while it is being built (recursion)."""


class CalleeInfo:
    def __init__(self, func, self_expr):
        self.func = func
        self.self_expr = self_expr


class Context:
    """What the reverse pass needs from the pipeline for one function."""

    def __init__(self, parsed, namer, spec, locals_, mentioned=frozenset()):
        self.parsed = parsed
        self.namer = namer
        self.spec = spec
        self.locals = locals_
        self.stored = None  # the names the normalized function binds (``front``)
        self.mentioned = mentioned  # every name the user's function mentions
        self.env = {}           # injected name -> object
        self.env_ids = {}       # id(object) -> injected name
        self.rule_names = {}    # (rule template, free name) -> its injected name
        self.guards = []
        self._wname = None
        self.callees = []
        self.shapes = {}
        self.arrays = {}         # adjoint -> primal, for float arrays of known shape
        self._results = {}       # (callee, argument shapes) -> what it returns
        self.result_depth = 0    # how many callee_result inferences this one is inside
        self._own = None         # split mode: the names of the fwd/bwd functions made
        # parameters bound to one known object (Spec.bound), while not rebound
        self.constants = {}
        for pname, pin in spec.bound:
            obj = pin.get()
            if obj is not None:
                self.constants[pname] = obj
        self.pinned = {}         # id(Attribute node) -> Abstract of a pinned array read
        self.pinned_values = {}  # id(Attribute node) -> the array it reads (pins.py)
        self.wanted = None       # ids of the weights asked for, when known (Spec.wanted)
        if spec.wanted:
            self.wanted = {id(p.get()) for p in spec.wanted if p.get() is not None}
        self._guard_keys = set()

    def base_name(self):
        """The base of the derivative's function names: the function's qualified name,
        with the name the caller gave the object it is specialised on: ``Dense_hidden``
        and ``Dense_out`` for the ``construct`` of two Dense layers ``self.hidden`` and
        ``self.out``, ``Model_helper_model`` for ``model.helper(x)``."""
        base = qualified_name(self.parsed.fn)
        labels = [pin.label for _, pin in self.spec.bound if pin.label not in ("", "self")]
        if not labels:
            return base
        if self.parsed.fn.__name__ in ("construct", "__call__"):
            base = base[:-len(self.parsed.fn.__name__)].rstrip("_") or base
        return "_".join([base] + labels)

    def add_guards(self, guards):
        """Add ``guards`` (each once) to the derivative's."""
        for g in guards:
            key = (id(g[0]), g[1], g[2])
            if key not in self._guard_keys:
                self._guard_keys.add(key)
                self.guards.append(g)

    def weight_of(self, x):
        """For activity: whether ``x`` (an object, or the ``Attribute`` node of a pinned
        read) is a weight asked for -- True/False, or None when not known."""
        if isinstance(x, gast.AST):
            if id(x) not in self.pinned_values:
                return None
            x = self.pinned_values[id(x)]
            if not isinstance(x, Parameter):
                return False  # a plain array: never a weight
        if self.wanted is None:
            return None
        if isinstance(x, (list, tuple)):
            return any(self.weight_of(o) for o in x)
        return isinstance(x, Parameter) and id(x) in self.wanted

    def known_weight(self, node):
        """Whether the ``Attribute`` node ``node`` reads, at every call, a weight whose
        gradient is asked for (then no test of ``wants`` is needed)."""
        return self.wanted is not None and self.weight_of(node) is True

    def pinned_root(self, root, attrs=(), guards=None):
        """The object ``root.a.b`` denotes at every call, or MISSING: ``root`` a
        parameter bound to a known object (``constants``) or a free name guarded by
        identity, and each attribute an instance attribute (guarded in ``guards``)."""
        if root in self.constants:
            obj = self.constants[root]
        elif root in self.locals:
            return MISSING
        else:
            obj = self.parsed.resolve(root)
            if obj is MISSING or not pinnable(obj) or not callable(obj):
                return MISSING  # (only a callable's global is guarded by identity)
        return follow(obj, attrs, [] if guards is None else guards)

    def own_names(self):
        """Split mode: the names of the ``_fwd``/``_bwd`` functions being made (a call
        of the function to itself calls them directly)."""
        if self._own is None:
            base = self.base_name()
            self._own = (self.namer.fresh(base + "_fwd"), self.namer.fresh(base + "_bwd"))
        return self._own

    def env_name(self, preferred, obj):
        key = id(obj)
        if key in self.env_ids:
            return self.env_ids[key]
        g = self.parsed.globals
        if preferred not in self.locals and preferred not in self.parsed.closure \
                and g.get(preferred, MISSING) is obj:
            self.env_ids[key] = preferred
            self.namer.reserve(preferred)
            return preferred
        if preferred in g or preferred in self.locals or preferred in self.parsed.closure \
                or preferred in self.namer.taken:
            n = self.namer.fresh(preferred)
        else:
            n = preferred
            self.namer.reserve(n)
        self.env[n] = obj
        self.env_ids[key] = n
        return n

    def callee_result(self, info, call, known):
        """The Abstract of what calling a function of ours returns, from its own shape
        inference given its arguments' (TOP when unknown).  Worked out afresh for
        each derivation: a cache across derivations could outlive a redefinition.
        Callees of callees are followed RESULT_DEPTH calls deep, not down a whole
        chain of calls (each function's derivation would read all the functions below
        it: quadratic time, and Python recursion as deep as the program)."""
        if self.result_depth >= RESULT_DEPTH:
            return shapes_mod.TOP
        fn = unwrap(info.func)
        nodes = ([info.self_expr] if info.self_expr is not None else []) + list(call.args)
        if any(isinstance(a, gast.Starred) for a in nodes):
            return shapes_mod.TOP
        try:
            bound = inspect.signature(fn, follow_wrapped=False).bind(
                *nodes, **{k.arg: k.value for k in call.keywords})
        except (TypeError, ValueError):
            return shapes_mod.TOP
        shapes = []
        for pname, node in bound.arguments.items():
            a = known.get(node.id) if isinstance(node, gast.Name) else (
                shapes_mod.abstract(node.value) if isinstance(node, gast.Constant) else None)
            if isinstance(a, shapes_mod.Abstract) and a.kind in ("array", "float"):
                shapes.append((pname, a))
        key = (fn, tuple(shapes))
        if key not in self._results:
            self._results[key] = shapes_mod.TOP  # (a recursive call: unknown)
            try:
                _, _, tree, ctx = front(fn, Spec(active=(), shapes=tuple(shapes),
                                                 bound=self.bound_self(fn, info)))
                ctx._results = self._results
                ctx.result_depth = self.result_depth + 1
                got = shapes_mod.infer(tree, ctx, dict(shapes))
                ret = tree.body[-1].value if isinstance(tree.body[-1], gast.Return) else None
                if isinstance(ret, gast.Name):
                    self._results[key] = got.get(ret.id, shapes_mod.TOP)
            except Exception:  # the derivation proper reports what is wrong with it
                pass
        return self._results[key]

    def scatter_call(self, node, primal):
        """For ``node`` = ``index_adjoint(primal, index, g)``: the index as a subscript
        when it is basic (ints and slices: ``d[index] += g`` is exact), else True
        (``np.add.at`` sums repeated positions); False for anything else."""
        if not (isinstance(node, gast.Call) and len(node.args) == 3 and not node.keywords
                and self.static_env(node.func) is runtime.index_adjoint
                and isinstance(node.args[0], gast.Name) and node.args[0].id == primal
                and self.static_env(name("np")) is np):
            return False
        return self.basic_subscript(node.args[1]) or True

    def basic_subscript(self, idx):
        """``idx`` (as ``index_expr`` wrote it) as a subscript, if made of ints and slices."""
        if isinstance(idx, gast.Tuple):
            parts = [self.basic_subscript(e) for e in idx.elts]
            return None if None in parts else gast.Tuple(elts=parts, ctx=gast.Load())
        if isinstance(idx, gast.Constant) and type(idx.value) is int:
            return idx
        if isinstance(idx, gast.Name):
            known = self.shapes.get(idx.id)
            return idx if known is not None and known.kind == "int" else None
        if isinstance(idx, gast.Call) and self.static_env(idx.func) is slice \
                and len(idx.args) == 3 and not idx.keywords:
            parts = [None if isinstance(a, gast.Constant) and a.value is None
                     else self.basic_subscript(a) for a in idx.args]
            if any(p is None for p, a in zip(parts, idx.args)
                   if not (isinstance(a, gast.Constant) and a.value is None)):
                return None
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        return None

    def elementwise_call(self, node):
        """Whether a call in generated code computes a new array elementwise."""
        obj = self.static_env(node.func)
        return isinstance(obj, np.ufunc) or registry.is_elementwise(obj)

    def pure_call(self, node):
        """Whether a call in generated code only computes a value: NumPy, the
        rules' helpers and the runtime's adjoint arithmetic (not user code)."""
        func = node.func
        if isinstance(func, gast.Attribute) and func.attr in _PURE_METHODS:
            return True  # x.sum(axis=0), x.reshape(s), x.T: on arrays only, in generated code
        obj = self.static_env(func)
        if obj is MISSING:
            return False
        if isinstance(obj, np.ufunc) or obj in _PURE_RUNTIME:
            return True
        module = getattr(obj, "__module__", None) or ""
        return (module.startswith("numpy") or module.startswith("sourcegrad.rules")
                or module == "sourcegrad.ops") \
            and not module.startswith("numpy.random") \
            and getattr(obj, "__name__", "") not in _NUMPY_EFFECTS \
            and not getattr(obj, "__name__", "").startswith(("save", "load", "set"))

    def static_env(self, node):
        """The object a name in *generated* code denotes, if known statically."""
        return self.parsed.denotes(node, self.locals, self.env)

    def weights_name(self):
        if not self.spec.weights:
            return None
        if self._wname is None:
            self._wname = self.namer.fresh("weight_grads")
        return self._wname

    def static(self, node):
        """The object a name or attribute chain of the user's code denotes, if known
        statically (attributes followed on any object but an array; through a
        parameter bound to a known object too: ``self.sub``, guarded)."""
        if self.constants:
            root = node
            while isinstance(root, gast.Attribute):
                root = root.value
            if isinstance(root, gast.Name) and root.id in self.constants:
                obj = self.constants[root.id]
                attrs = []
                while isinstance(node, gast.Attribute):
                    attrs.append(node.attr)
                    node = node.value
                for attr in reversed(attrs):
                    if isinstance(obj, np.ndarray):
                        return MISSING
                    own = getattr(obj, "__dict__", None)
                    if isinstance(own, dict) and attr in own:
                        obj = own[attr]
                        self.add_guards([(own, attr, "is", obj)])
                        continue
                    try:
                        obj = getattr(obj, attr, MISSING)
                    except Exception:  # a property that raises
                        return MISSING
                    if obj is MISSING:
                        return MISSING
                return obj
        return self.parsed.denotes(node, self.locals, self.env, objects=True)

    def classify(self, value, rev=None):
        """(kind, obj) for a call: rule | method | nondiff | user | dynamic | unknown."""
        func = value.func
        obj = self.static(func)
        if obj is not MISSING:
            args = value.args
            if obj is getattr and len(args) >= 2 and isinstance(args[1], gast.Constant) \
                    and args[1].value in INACTIVE_ATTRS:
                return "nondiff", obj  # getattr(x, "dtype", None) and the like
            if registry.lookup(obj) is not None:
                return "rule", obj
            if registry.is_nondifferentiable(obj):
                return "nondiff", obj
            if foreign.library_of(obj) is not None:
                return "unknown", obj  # SciPy, autograd, JAX: never their source
            nargs = None if any(isinstance(a, gast.Starred) for a in args) else len(args)
            target = user_callable(obj, nargs)
            if target is not None:
                fn, has_self = target
                self_expr = None
                if has_self:
                    self_expr = func.value if isinstance(obj, types.MethodType) \
                        and isinstance(func, gast.Attribute) else func
                return "user", CalleeInfo(fn, self_expr)
            return "unknown", obj
        if isinstance(func, gast.Attribute):
            meth = getattr(runtime.np.ndarray, func.attr, MISSING)
            base_varied = rev is not None and isinstance(func.value, gast.Name) and \
                func.value.id in rev.act.varied
            if meth is not MISSING and (base_varied or rev is None):
                if registry.lookup(meth) is not None:
                    return "method", meth
                if registry.is_nondifferentiable(meth):
                    return "nondiff", meth
            if base_varied and meth is not MISSING:
                return "unknown", meth
            if base_varied and func.attr in MUTATING_METHODS:
                return "unknown", None
        return "dynamic", None

    def bound_self(self, fn, info):
        """``Spec.bound`` for a call of ``fn`` through ``info``: its ``self`` parameter
        bound to the object the call passes when that object is known at every call
        (``model(x)``, ``self.sub(x)``), else ().  Such derivatives are kept on the
        object (``derivatives``), freed with it."""
        if info.self_expr is None:
            return ()
        c = chain(info.self_expr)
        if c is None:
            return ()
        guards = []
        obj = self.pinned_root(c[0], c[1], guards)
        if not pinnable(obj):
            return ()
        params = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
        if not params or params[0].kind not in (params[0].POSITIONAL_ONLY,
                                                params[0].POSITIONAL_OR_KEYWORD):
            return ()
        label = info.self_expr.attr if isinstance(info.self_expr, gast.Attribute) \
            else info.self_expr.id
        pin = Pin(obj, label.strip("_"))
        self.add_guards(guards)
        return ((params[0].name, pin),)

    def callee(self, info, value, active_args, active_kw, rev, s):
        fn = info.func
        sig = inspect.signature(fn, follow_wrapped=False)
        placeholders = list(range(len(value.args) + (1 if info.self_expr else 0)))
        try:
            bound = sig.bind(*placeholders, **{k.arg: k.arg for k in value.keywords})
        except TypeError as exc:
            rev.refuse(s, f"call to {fn.__qualname__}", detail=str(exc))
        shift = 1 if info.self_expr else 0
        active, order, nvar, kwnames = _active_parameters(fn, sig, bound, shift, active_args,
                                                          active_kw)
        arg_nodes = ([info.self_expr] if info.self_expr else []) + list(value.args)
        known = []
        for pname, v in bound.arguments.items():
            if isinstance(v, int) and v < len(arg_nodes) and isinstance(arg_nodes[v], gast.Name):
                shp = self.shapes.get(arg_nodes[v].id)
                if shp is not None:
                    known.append((pname, shp))
        # a derivative to be differentiated again (grad of grad): so are its callees'
        spec = Spec(active=tuple(active), mode="split", weights=self.spec.weights,
                    shapes=tuple(known) if nvar < 0 else (), varargs=nvar,
                    complete=self.spec.complete, kwargs=kwnames,
                    library=self.spec.library, bound=self.bound_self(fn, info),
                    wanted=self.spec.wanted)
        if fn is self.parsed.fn and spec == self.spec:
            # the function calls itself as it is being differentiated: its own fwd/bwd
            # (one Python frame per level, as the function itself takes)
            fwd_name, bwd_name = self.own_names()
            return fwd_name, bwd_name, order
        try:
            d = derive(fn, spec)
        except Recursive:
            return None
        except SourceNotFoundError as exc:
            refusals.no_derivative(
                rev.parsed, s, f"call to {fn.__qualname__}",
                detail=f"{fn.__qualname__} has no derivative rule and its source cannot "
                       f"be read ({exc.filename})",
                hint=f"define it in a file or notebook cell, or register a rule: "
                     f"@sourcegrad.adjoint({fn.__qualname__})")
        except SourcegradError as exc:
            if not (getattr(fn, "__module__", None) or "").startswith("numpy"):
                raise
            # NumPy's own Python code (np.vectorize's __call__): say so at the user's call
            refusals.no_derivative(
                rev.parsed, s, f"call to {fn.__qualname__}",
                detail=f"{fn.__qualname__} is NumPy's Python code, which cannot be "
                       f"differentiated ({exc.construct})",
                hint=f"register a rule: @sourcegrad.adjoint({fn.__qualname__})")
        self.guards += d.guards
        fwd_name = self.env_name(d.name + "_fwd", d.functions[0])
        bwd_name = self.env_name(d.name + "_bwd", d.functions[1])
        self.callees.append(d)
        return fwd_name, bwd_name, order


class GeneratedCallable:
    """Base of ``api.GradFunction``, what ``grad``/``value_and_grad`` return: a call
    of one inside differentiated code is differentiated through its generated
    code, ``callable_generated()`` (declared here so this module needs no ``api``)."""

    weights = None
    return_ids = False

    def callable_generated(self, nargs=None):
        raise NotImplementedError


def user_callable(obj, nargs=None):
    """(function, has_self) if ``obj`` is Python code sourcegrad can differentiate;
    ``nargs``: the number of positional arguments of the call, when known."""
    if isinstance(obj, GeneratedCallable):  # grad(f) called inside f2: its generated code
        if obj.weights is not None or obj.return_ids:
            return None
        return obj.callable_generated(nargs), False
    if isinstance(obj, types.FunctionType):
        return unwrap(obj), False
    present = getattr(type(obj), "transformable_function", None)  # jacrev(f): a function
    if present is not None:
        return present(obj), False
    if isinstance(obj, types.MethodType) and isinstance(obj.__func__, types.FunctionType):
        return obj.__func__, True
    if type(obj) is functools.partial:
        wrapper = _partial_wrapper(obj)
        return (wrapper, False) if wrapper is not None else None
    if isinstance(obj, type) or isinstance(obj, types.BuiltinFunctionType):
        return None
    cls = type(obj)
    if isinstance(getattr(cls, "bprop", None), types.FunctionType) and \
            _is_cell_dunder_call(cls, "__call__"):
        return _bprop_wrapper(obj), False
    for attr in ("construct", "__call__"):
        meth = getattr(cls, attr, None)
        if isinstance(meth, types.FunctionType) and not _is_cell_dunder_call(cls, attr):
            return meth, True
    return None


def _bprop_wrapper(cell):
    """A Cell with its own ``bprop`` (MindSpore's custom backward): a function of the
    Cell's inputs that calls ``runtime.cell_with_bprop``, whose rule runs ``bprop``."""
    kept = memo.cache(cell, "bprop")  # not in a copy of the Cell: it wraps this one
    cached = kept.get("wrapper")
    if cached is not None:
        return cached
    cls = type(cell)
    sig = inspect.signature(cls.construct)
    params = list(sig.parameters.values())[1:]
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        refusals.at_function(
            cls.construct, f"{cls.__qualname__}.bprop", detail="a custom bprop is supported "
            "for a construct with named positional parameters only",
            hint="name construct's parameters")
    names = [p.name for p in params]
    fn = forwarder(f"{cls.__name__}_with_bprop", names, "cell_with_bprop", ["cell"] + names,
                   {"cell_with_bprop": runtime.cell_with_bprop, "cell": cell},
                   f"{cls.__name__} with its bprop")
    kept["wrapper"] = fn
    return fn


def _partial_wrapper(p):
    """``functools.partial(f, a, k=b)`` as a function of the parameters it leaves:
    ``def f(x, *, k=b): return f(a, x, k=k)``, the bound values held by the wrapper
    (a keyword bound by the partial stays a default the call may override).  None
    when the partial's signature cannot be read."""
    kept = memo.cache(p, "partial")
    if "wrapper" in kept:
        return kept["wrapper"]
    try:
        sig = inspect.signature(p)
    except (TypeError, ValueError):
        return None
    scope = {"partial_func": p.func}
    python = isinstance(unwrap(p.func), types.FunctionType)
    args = []
    for i, v in enumerate(p.args):
        scope[f"bound_{i}"] = v
        args.append(f"bound_{i}")
    params, star = [], False
    for q in sig.parameters.values():
        if q.kind == q.VAR_POSITIONAL:
            params.append(f"*{q.name}")
            args.append(f"*{q.name}")
            star = True
            continue
        if q.kind == q.VAR_KEYWORD:
            params.append(f"**{q.name}")
            args.append(f"**{q.name}")
            continue
        default = ""
        if q.default is not q.empty and not python and q.name not in p.keywords:
            continue  # np.sum's out=, keepdims=<no value>: left to the function itself
        if q.default is not q.empty:
            scope[f"{q.name}_default"] = q.default
            default = f"={q.name}_default"
        if q.kind == q.KEYWORD_ONLY:
            if not star:
                params.append("*")
                star = True
            args.append(f"{q.name}={q.name}")
        else:
            args.append(q.name)
        params.append(q.name + default)
    fname = getattr(p.func, "__name__", None)
    if not (isinstance(fname, str) and fname.isidentifier()):
        fname = "partial"
    fn = kept["wrapper"] = forwarder(fname, params, "partial_func", args, scope,
                                     f"functools.partial of {fname}")
    return fn


def _is_cell_dunder_call(cls, attr):
    if attr != "__call__":
        return False
    # no Cell exists before sourcegrad.nn.cell is imported (nn sits above this module)
    cell = sys.modules.get("sourcegrad.nn.cell")
    return cell is not None and issubclass(cls, cell.Cell)


def _guards(parsed, mentioned):
    """Guards for every free name of the user function (``mentioned``: the names
    it mentions)."""
    out = []
    for n in sorted(mentioned):
        if n in parsed.imports:
            continue  # bound by the function's own import
        if n in parsed.closure:
            cell = parsed.closure[n]
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            out.append(_guard(cell, None, v))
        elif n in parsed.globals:
            out.append(_guard(parsed.globals, n, parsed.globals[n]))
        elif hasattr(builtins, n):
            out.append(_guard(parsed.globals, n, getattr(builtins, n)))
    return out


def _guard(holder, key, value):
    if callable(value) or isinstance(value, (types.ModuleType, type, Parameter)):
        return (holder, key, "is", value)
    return (holder, key, "type", type(value))


# -- the cache of derivatives ---------------------------------------------------------

# A function's derivatives are kept on the function (``memo.cache``): they refer to
# its globals and closure, which often refer back to it, and are freed with it.
_lock = threading.RLock()
_in_progress = {}

# A function's derivative needs its callees' first: derived one inside the other,
# a chain of calls f1 -> f2 -> ... -> f200 would nest 200 transformations on the
# Python stack.  Past MAX_NESTED the innermost one is abandoned and derived first,
# from the top (``_drive``), then the abandoned one again: the stack stays bounded
# whatever the program's depth.
MAX_NESTED = 6
_nested = [0]     # transformations in progress on the stack (under _lock)
_pending = set()  # (fn, spec) that _drive will finish: in progress as well


class _NeedFirst(BaseException):
    """A callee's derivative wanted MAX_NESTED transformations deep: ``_drive``
    derives it first.  (A BaseException: no ``except Exception`` on the way may
    take it for a failure.)"""

    def __init__(self, fn, spec):
        super().__init__(fn)
        self.fn, self.spec = fn, spec


def derivatives(fn, spec: Spec = None) -> dict:
    """``fn``'s cached derivatives, by Spec; those specialised on an object
    (``spec.bound``: a Cell's ``construct`` for that Cell) are kept on the object."""
    if spec is not None and spec.bound:
        obj = spec.bound[0][1].get()
        if obj is not None:
            return memo.cache(obj, "derivatives").setdefault(fn, {})
    return memo.cache(fn, "derivatives")


def derive(fn, spec: Spec) -> Derivative:
    """The derivative of ``fn`` for ``spec``, from the cache when still valid."""
    fn = unwrap(fn)
    with _lock:
        per_fn = derivatives(fn, spec)
        d = per_fn.get(spec)
        if d is not None and d.valid():
            return d
        key = (fn, spec)
        if key in _in_progress or key in _pending:
            raise Recursive(fn)
        if _nested[0] == 0:
            return _drive(key)
        if _nested[0] >= MAX_NESTED:
            raise _NeedFirst(fn, spec)
        return _build(key)


def _nesting(tree):
    """How many blocks deep ``tree``'s statements nest (an ``elif`` is one more)."""
    deepest = 0
    todo = [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        for field_ in ("body", "orelse"):
            for s in getattr(node, field_, None) or ():
                if isinstance(s, gast.stmt):
                    todo.append((s, depth + 1))
    return deepest


# the stages walk nested blocks recursively, a few Python frames per level: a function
# nested deeper than Python's recursion limit allows for (an if/elif chain of several
# hundred branches) raises the limit while it is transformed, by this much per level
FRAMES_PER_LEVEL = 12
MAX_RECURSION_LIMIT = 12000
_saved_limit = [None]  # the recursion limit before the outermost derive raised it


def _allow_nesting(depth):
    """Inside ``derive`` (which puts the limit back): room for ``depth`` levels."""
    if depth * FRAMES_PER_LEVEL <= 300 or not _nested[0]:
        return
    frame, used = sys._getframe(), 0
    while frame is not None:
        frame, used = frame.f_back, used + 1
    want = min(used + 200 + FRAMES_PER_LEVEL * depth, MAX_RECURSION_LIMIT)
    if want > sys.getrecursionlimit():
        if _saved_limit[0] is None:
            _saved_limit[0] = sys.getrecursionlimit()
        sys.setrecursionlimit(want)


def _drive(key):
    """Derive ``key`` = (fn, spec) and, first, every callee wanted too deep down."""
    pending = [key]
    _pending.add(key)
    try:
        while True:
            try:
                d = _build(pending[-1])
            except _NeedFirst as need:
                wanted = (need.fn, need.spec)
                pending.append(wanted)
                _pending.add(wanted)
                continue
            _pending.discard(pending.pop())
            if not pending:
                return d
    finally:
        _pending.difference_update(pending)
        if _saved_limit[0] is not None:
            sys.setrecursionlimit(_saved_limit[0])
            _saved_limit[0] = None


def _build(key):
    fn, spec = key
    _in_progress[key] = True
    _nested[0] += 1
    # The transformation makes thousands of short-lived tree nodes and no garbage
    # worth collecting on the way: with large libraries loaded, collections
    # triggered by those allocations would scan every object in the process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        d = build(fn, spec)
    finally:
        del _in_progress[key]
        _nested[0] -= 1
        if collecting:
            gc.enable()
    derivatives(fn, spec)[spec] = d
    return d


#: The stages whose output ``dump`` (and ``sg.source(g, stage=...)``) can show, in order.
# the trees a stage dump can show: after each stage, and after each pass of the
# optimizer (``optimize``'s docstring lists them)
STAGES = ("parse", "normalize", "activity", "reverse", "specialize", "factor", "saves",
          "assemble", "simplify", "optimize")


def _no_trace(stage, show):
    """The default tracer: shows nothing (``show`` is never called)."""


def dump(fn, spec: Spec, stage: str) -> str:
    """The text of ``fn``'s tree right after ``stage`` (one of :data:`STAGES`),
    transformed afresh for ``spec`` (the cache is neither read nor written)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(map(repr, STAGES))}, got {stage!r}")
    seen = {}

    def trace(name, show):
        if name == stage:
            seen[name] = show()
    build(unwrap(fn), spec, trace)
    return seen[stage]


def _trace_from_environment():
    """``SOURCEGRAD_DUMP=normalize,reverse`` prints those stages of every
    transformation to standard error (``all`` for every stage)."""
    wanted = os.environ.get("SOURCEGRAD_DUMP", "")
    if not wanted:
        return _no_trace
    names = set(STAGES) if wanted.strip() == "all" else {w.strip() for w in wanted.split(",")}

    def trace(name, show):
        if name in names:
            print(f"# ---- sourcegrad stage: {name} ----\n{show()}", file=sys.stderr)
    return trace


def _show_activity(tree, act):
    head = [f"# varied (depend on a differentiated input): {', '.join(sorted(act.varied))}",
            f"# useful (reach a seeded output): {', '.join(sorted(act.useful))}",
            f"# active (get an adjoint): {', '.join(sorted(act.active))}"]
    return "\n".join(head) + "\n" + to_source(tree)


def front(fn, spec: Spec, trace=_no_trace):
    """Stages 1-3 for ``fn``: (parsed source, namer, normalized tree, context)."""
    parsed = parse_function(fn)                                  # 1. read source
    trace("parse", lambda: to_source(parsed.tree))
    _allow_nesting(_nesting(parsed.tree))
    actual_defaults(parsed)
    if parsed.tree.args.kwarg is not None:
        expand_kwargs(parsed, spec.kwargs)
    every = astutil.node_list(parsed.tree)  # (one walk for the fence and the names)
    fence(parsed, every)                                         # 2. refuse what we can't do
    if spec.varargs >= 0 and parsed.tree.args.vararg is not None:
        expand_varargs(parsed.tree, vararg_names(parsed.fn, spec.varargs))
        every = astutil.node_list(parsed.tree)
    _check_active(parsed, spec)
    # every name the function mentions: fresh names avoid them, free ones are guarded
    mentioned = {n.id for n in every if n.__class__ is gast.Name}
    namer = Namer(mentioned)
    tree = normalize(parsed, namer, dict(spec.shapes), every)    # 3. one op per statement
    trace("normalize", lambda: to_source(tree))
    stored = set()  # the names the normalized function binds
    params = set(param_names(tree))
    helpers = []  # runtime helpers the normalizer referred to
    for n in astutil.name_nodes(tree):
        ctx_ = n.ctx.__class__
        if ctx_ is gast.Store:
            stored.add(n.id)
        elif ctx_ is gast.Param:
            params.add(n.id)
        elif getanno(n, "runtime", None) is not None:
            helpers.append(n)
    ctx = Context(parsed, namer, spec, params | stored, mentioned)
    ctx.stored = stored
    for n, obj in parsed.imports.items():  # what the body's own imports bound
        ctx.env[n] = obj
        ctx.env_ids.setdefault(id(obj), n)
    for n in stored:  # a bound parameter the function rebinds is not constant
        ctx.constants.pop(n, None)
    # names of another module's functions inlined (closures): valid while they denote
    # what they denoted
    ctx.guards += list(getanno(tree, "guards", ()))
    for n in helpers:
        n.id = ctx.env_name(n.id, getanno(n, "runtime"))
    pin_reads(tree, ctx)  # known objects' attributes: constants and known shapes
    return parsed, namer, tree, ctx


def build(fn, spec: Spec, trace=None) -> Derivative:
    """Run the stages for ``fn`` and ``spec``; ``trace(stage, show)`` is told after
    each of :data:`STAGES` and may call ``show()`` for the tree's text."""
    if spec.mode == "jvp":
        return build_forward(fn, spec)
    trace = trace or _trace_from_environment()
    parsed, namer, tree, ctx = front(fn, spec, trace)            # 1-3.
    params = param_names(tree)
    ret = tree.body[-1]
    seeds = seeded_outputs(ret.value, spec, parsed, tree)
    act = analyse(tree, parsed, spec.active, seeds, spec.weights,  # 4. activity
                  lambda call_, rev=None: ctx.classify(call_), ctx.locals, ctx.weight_of)
    trace("activity", lambda: _show_activity(tree, act))
    ctx.shapes = shapes_mod.infer(tree, ctx, dict(spec.shapes))  #    shapes, if known
    rev = Reverser(tree, parsed, namer, act, ctx)                # 5. reverse
    assembler = Assembler(tree, parsed, spec, ctx, rev, act, ret)
    fwd, bwd = assembler.sweeps(*rev.block(tree.body[:-1]))      #    seeded, resolved
    trace("reverse", lambda: optimize.show_sweeps(fwd, bwd))
    fwd, bwd = optimize.sweeps(fwd, bwd, ctx, rev, params, trace)  # 6. optimize: sweeps
    functions = assembler.functions(fwd, bwd)                    # 7. assemble
    trace("assemble", lambda: optimize.show_functions(functions))
    functions = optimize.functions(functions, spec, ctx, rev, trace)  # 8. optimize: functions
    trace("optimize", lambda: optimize.show_functions(functions))
    base = ctx.base_name()
    names = [f.name for f in functions]
    env = ctx.env
    if spec.library.startswith("namespace:"):
        env = _namespace_env(functions, ctx, parsed, spec.library)
    elif spec.library != "numpy":
        env = _dispatch_env(functions, ctx, parsed, spec.library)
    compiled, text = compile_functions(                         # 9. print, compile
        functions, names, env=env, globals_=parsed.globals,
        closure_cells={k: v for k, v in parsed.closure.items() if k not in env},
        filename_hint=f"{functions[0].name} from {parsed.filename}")
    guards = _guards(parsed, ctx.mentioned) + ctx.guards
    sources = [text] + [c.source for c in ctx.callees]
    return Derivative(tuple(compiled), "\n\n".join(dict.fromkeys(sources)), guards, base,
                      tuple(params), text=text, env=dict(ctx.env), globals=parsed.globals,
                      closure=dict(parsed.closure), callees=list(ctx.callees), spec=spec)


def build_forward(fn, spec: Spec) -> Derivative:
    """Forward mode (``spec.mode == "jvp"``): the same stages, with ``tangents``
    in place of ``reverse``."""
    parsed, namer, tree, ctx = front(fn, spec)                   # 1-3.
    ret = tree.body[-1]
    seeds = seeded_outputs(ret.value, spec, parsed, tree)
    act = analyse(tree, parsed, spec.active, seeds, False,       # 4. activity
                  lambda call_, rev=None: ctx.classify(call_), ctx.locals)
    ctx.shapes = shapes_mod.infer(tree, ctx, dict(spec.shapes))
    tan = tangents.Tangents(tree, parsed, namer, act, ctx)       # 5. tangents
    body = tan.block(tree.body[:-1])
    f, tparams = tangents.assemble(tree, spec, ctx, tan, body, ret, param_names(tree),
                                   qualified_name(fn))
    f = optimize.optimize(f, spec, pure_call=ctx.pure_call,      # 6. simplify
                          owned=set(tan.tangents.values()),
                          elementwise=ctx.elementwise_call)
    f = tangents.reassociate(f, set(tan.tangents.values()) | set(tparams),
                             ctx.env_ids.get(id(tangents.tn.add_diagonal)))
    env, closure = ctx.env, parsed.closure
    if spec.library.startswith("namespace:"):  # rebound to the inputs' namespace, as build's
        env = _namespace_env([f], ctx, parsed, spec.library)
        closure = {k: v for k, v in parsed.closure.items() if k not in env}
    compiled, text = compile_functions(                         # 7. compile
        [f], [f.name], env=env, globals_=parsed.globals, closure_cells=closure,
        filename_hint=f"{f.name} from {parsed.filename}")
    guards = _guards(parsed, ctx.mentioned) + ctx.guards
    d = Derivative(tuple(compiled), text, guards, qualified_name(fn),
                   tuple(param_names(tree)), text=text, env=dict(ctx.env),
                   globals=parsed.globals, closure=dict(parsed.closure), spec=spec)
    d.tangent_params = tuple(tparams)
    return d


def _free_loads(functions):
    """Names the generated functions read but never bind."""
    loads, stores = set(), set()
    for f in functions:
        for n in astutil.name_nodes(f):
            (loads if isinstance(n.ctx, gast.Load) else stores).add(n.id)
    return loads - stores


def _dispatch_env(functions, ctx, parsed, library):
    """The names a derivative for a library NumPy dispatches to (Dask) is compiled
    with: the generated code's NumPy is ``xp.DispatchNames`` (NumPy, but arrays made
    from a shape alone are the library's); helpers dispatch by themselves."""
    names = xp.dispatch_names(library)
    env = {k: names if v is np else v for k, v in ctx.env.items()}
    for n in sorted(_free_loads(functions) - set(env) - set(parsed.closure)):
        if parsed.globals.get(n) is np:
            env[n] = names
    return env


def _namespace_env(functions, ctx, parsed, library):
    """The names the namespace-generic derivative is compiled with: every object it
    reaches NumPy through (the user's ``np``, the rules' helpers, ``sourcegrad.ops``)
    rebound to the inputs' Array API namespace (``xp.rebind``).  A global or closure
    variable the code reads is shadowed by an injected variable of the same name, so
    the user's module is untouched."""
    names = xp.numpy_names(library)
    _own_reads(functions, ctx, parsed, names)
    env = {k: xp.rebind(v, names) for k, v in ctx.env.items()}
    for n in sorted(_free_loads(functions) - set(env)):
        if n in parsed.closure:  # (its guard refuses the derivative once it is rebound)
            try:
                old = parsed.closure[n].cell_contents
            except ValueError:  # an empty cell
                continue
        elif n in parsed.globals:
            old = parsed.globals[n]
        else:
            continue
        new = xp.rebind(old, names)
        if new is not old:
            env[n] = new
    return env


def _own_reads(functions, ctx, parsed, names):
    """Namespace mode: the NumPy arrays the derivative reads from outside its
    arguments (a Cell's Parameters, a global array) are converted to the namespace
    where they are read (``xp.own_reads``), so they meet the inputs' arrays as arrays
    of the same library."""
    opaque = {}
    for n in _free_loads(functions):
        if n in ctx.env:
            obj = ctx.env[n]
        elif n in parsed.closure:
            try:
                obj = parsed.closure[n].cell_contents
            except ValueError:  # an empty cell
                continue
        elif n in parsed.globals:
            obj = parsed.globals[n]
        else:
            continue
        if isinstance(obj, np.ndarray):
            opaque[n] = True
        elif isinstance(obj, (types.ModuleType, type)) or obj is names or n in ctx.env:
            opaque[n] = False
    own = ctx.env_name("xp_array", names.own)
    opaque[own] = False
    dispatchers = [v for k, v in reverse_mod.RUNTIME_CALLS.items() if k != "call_bwd"]
    callers = {n for n, obj in ctx.env.items() if any(obj is v for v in dispatchers)}
    for f in functions:
        _refuse_numpy_only(f, ctx, parsed, names)
        xp.own_reads(f, own, opaque, callers)


def _refuse_numpy_only(fn, ctx, parsed, names):
    """A NumPy function the derivative calls that the namespace lacks (``np.sinc`` on
    array-api-strict), refused before anything runs, at the user's line."""
    def denotes(n):
        if n in ctx.env:
            return ctx.env[n]
        if n in parsed.closure:
            try:
                return parsed.closure[n].cell_contents
            except ValueError:
                return None
        return parsed.globals.get(n)

    for stmt in astutil.nodes(fn):
        if not isinstance(stmt, gast.stmt):
            continue
        origin = getanno(stmt, "origin") or stmt
        for node in gast.iter_child_nodes(stmt):
            if isinstance(node, gast.stmt):  # (seen on its own, with its own origin)
                continue
            for e in astutil.nodes(node):
                if isinstance(e, gast.Attribute) and isinstance(e.value, gast.Name) \
                        and denotes(e.value.id) is np and not e.attr.startswith("_"):
                    what = e.attr
                elif isinstance(e, gast.Name) and isinstance(e.ctx, gast.Load) \
                        and isinstance(denotes(e.id), (np.ufunc, types.BuiltinFunctionType,
                                                       types.FunctionType)) \
                        and getattr(np, getattr(denotes(e.id), "__name__", ""), None) \
                        is denotes(e.id):
                    what = denotes(e.id).__name__
                else:
                    continue
                if getattr(getattr(names, what), "numpy_only", None):
                    raise xp.numpy_only(what, names.__name__, **parsed.where(origin))


def _code_names(code, out):
    out.update(code.co_varnames, code.co_names, code.co_cellvars, code.co_freevars)
    for k in code.co_consts:
        if isinstance(k, types.CodeType):
            _code_names(k, out)
    return out


def _active_parameters(fn, sig, bound, shift, active_args, active_kw):
    """Which of ``fn``'s parameters a call differentiates, given ``bound`` (its
    signature bound to the argument positions and keyword names of the call, the
    bound object first when ``shift``) and the active positions and keywords:
    ``(active parameter names, order, nvar, kwnames)``.  ``order`` says where each
    active parameter's adjoint goes (``("pos", i)`` or ``("kw", name)``); ``nvar``:
    how many items ``*args`` gets (-1: none); ``kwnames``: the keywords forwarded
    through ``**kwargs``."""
    active, order = [], []
    nvar = -1
    kwnames = ()
    for pname, v in bound.arguments.items():
        kind = sig.parameters[pname].kind
        if kind == kind.VAR_KEYWORD:
            # forwarded through **kwargs: the callee is specialised to these keywords
            kwnames = tuple(v)
            for key in kwnames:
                if key in active_kw:
                    active.append(key)
                    order.append(("kw", key))
            continue
        vals = v if kind == kind.VAR_POSITIONAL else (v,)
        if kind == kind.VAR_POSITIONAL:
            # the callee is specialised to len(vals) parameters: gradient through
            # *args, weights read where it is forwarded, or a wrapper(x, *rest)
            # forwarding it to fn(x, *rest) (which binds only once the items are known)
            nvar = len(vals)
            pnames = vararg_names(fn, nvar)
        for k, item in enumerate(vals):
            if (isinstance(item, int) and item - shift in active_args) or \
                    (isinstance(item, str) and item in active_kw):
                active.append(pnames[k] if kind == kind.VAR_POSITIONAL else pname)
                order.append(("pos", item - shift) if isinstance(item, int) else ("kw", item))
    if nvar < 0 and any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
        nvar = 0  # *args gets nothing here: specialised to none (wrapper(x, *rest))
    return active, order, nvar, kwnames


def _check_active(parsed, spec):
    """The differentiated names must be parameters of the code transformed: a name it
    does not have would carry no gradient, silently (a decorator's wrapper read with
    the wrapped function's signature once did)."""
    params = set(param_names(parsed.tree))
    unknown = [n for n in spec.active if n not in params]
    if unknown:
        refusals.at_function(
            parsed.fn, f"differentiating {', '.join(unknown)}",
            detail=f"{parsed.tree.name}() as read takes {', '.join(sorted(params))}",
            hint="please report this: the positions asked for were mapped to the wrong "
                 "function")


def vararg_names(fn, n):
    """The parameters ``f(a, *args)``'s ``args`` becomes when specialised to ``n``
    items (``args_0``, ``args_1``, ...; none clashes with a name ``fn`` uses)."""
    fn = unwrap(fn)
    code = fn.__code__
    var = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
    taken = _code_names(code, set())
    out = []
    for i in range(n):
        cand = f"{var}_{i}"
        while cand in taken:
            cand += "_"
        out.append(cand)
    return out


_LITERALS = (type(None), bool, int, float, complex, str, bytes)


def actual_defaults(parsed):
    """Make the parameters' default expressions the values the function holds
    (``__defaults__``, ``__kwdefaults__``), computed when its ``def`` ran: the
    expressions may read names of an enclosing function that are not the function's
    closure variables (``def f(x, w=w)``), or names rebound since.  A literal stays
    a literal; another value becomes ``<param>_default``, passed to the generated
    code."""
    fn, a = parsed.fn, parsed.tree.args
    positional = a.posonlyargs + a.args
    values = fn.__defaults__ or ()
    if len(a.defaults) == len(values):
        with_default = positional[len(positional) - len(values):]
        a.defaults = [_default_node(param, value, node)
                      for param, value, node in zip(with_default, values, a.defaults)]
    kwvalues = fn.__kwdefaults__ or {}
    for i, (param, node) in enumerate(zip(a.kwonlyargs, a.kw_defaults)):
        if node is not None and param.id in kwvalues:
            a.kw_defaults[i] = _default_node(param, kwvalues[param.id], node)


def _default_node(param, value, node):
    if type(value) in _LITERALS and (type(value) is not float or value == value):
        out = gast.Constant(value=value, kind=None)
    else:
        out = gast.Name(id=f"{param.id}_default", ctx=gast.Load(), annotation=None,
                        type_comment=None)
        setanno(out, "runtime", value)  # given to the generated code under that name
    return gast.copy_location(out, node)


def extra_keywords(fn, names):
    """The keyword names among ``names`` that a call of ``fn`` passes into its
    ``**kwargs`` parameter (``()`` when it has none)."""
    code = unwrap(fn).__code__
    if not code.co_flags & inspect.CO_VARKEYWORDS:
        return ()
    named = code.co_varnames[code.co_posonlyargcount:code.co_argcount + code.co_kwonlyargcount]
    return tuple(n for n in names if n not in named)


def _forwarded(tree, var, starred):
    """The nodes where ``tree`` forwards parameter ``var`` to a call (``f(*var)`` when
    ``starred``, else ``f(**var)``): ``(call, argument or keyword)`` pairs; None when
    ``var`` is also read or bound otherwise."""
    found, only = _forwarding(tree, var, starred)
    return found if only else None


def _forwarding(tree, var, starred):
    """``(pairs, only)``: the ``(call, argument or keyword)`` pairs of :func:`_forwarded`,
    and whether ``var`` is used nowhere else."""
    found, marked = [], set()
    for node in astutil.nodes(tree):
        if not isinstance(node, gast.Call):
            continue
        items = node.args if starred else node.keywords
        for item in items:
            value = item.value if (isinstance(item, gast.Starred) if starred
                                   else item.arg is None) else None
            if isinstance(value, gast.Name) and value.id == var:
                found.append((node, item))
                marked.add(id(value))
    for node in astutil.nodes(tree):
        if isinstance(node, gast.Name) and node.id == var and id(node) not in marked \
                and not isinstance(node.ctx, gast.Param):
            return found, False
    return found, True


def expand_kwargs(parsed, names):
    """``def w(*args, **kwargs): return fn(*args, **kwargs)`` (a decorator's wrapper):
    specialised to the keywords a call passes into ``**kwargs`` (``names``), they
    become keyword-only parameters of those names, and each ``f(..., **kwargs)``
    passes them by name.  Where ``kwargs`` is read otherwise (``kwargs.get("c", 1.0)``)
    the body starts with ``kwargs = {"c": c, ...}``: a dict of values that carry no
    gradient (only positional parameters are differentiated)."""
    tree = parsed.tree
    a = tree.args
    var = a.kwarg.id
    found, only = _forwarding(tree, var, starred=False)
    taken = {n.id for n in astutil.name_nodes(tree)} - {var}
    for n in names:
        if n in taken:
            refusals.syntax(
                parsed, tree, "**kwargs parameter", detail=f"the keyword argument {n!r} "
                f"passed into **{var} has the name of a variable of {parsed.fn.__qualname__}",
                hint="name the parameter")
    for call_, kw in found:
        given = {k.arg for k in call_.keywords if k.arg is not None}
        twice = sorted(given & set(names))
        if twice:
            raise TypeError(f"{parsed.fn.__qualname__}: a call gets keyword argument "
                            f"{twice[0]!r} twice (by name and through **{var})")
        at = call_.keywords.index(kw)
        call_.keywords[at:at + 1] = [
            gast.keyword(arg=n, value=gast.Name(id=n, ctx=gast.Load(), annotation=None,
                                                type_comment=None)) for n in names]
        for k in call_.keywords[at:at + len(names)]:
            gast.copy_location(k, kw)
            gast.copy_location(k.value, kw)
    a.kwonlyargs = a.kwonlyargs + [gast.Name(id=n, ctx=gast.Param(), annotation=None,
                                             type_comment=None) for n in names]
    a.kw_defaults = a.kw_defaults + [None for _ in names]
    a.kwarg = None
    if not only:
        pack = gast.Assign(
            targets=[gast.Name(id=var, ctx=gast.Store(), annotation=None, type_comment=None)],
            value=gast.Dict(keys=[gast.Constant(value=n, kind=None) for n in names],
                            values=[gast.Name(id=n, ctx=gast.Load(), annotation=None,
                                              type_comment=None) for n in names]),
            type_comment=None)
        for node in astutil.walk(pack):
            gast.copy_location(node, tree)
        _insert_first(tree, pack)


def expand_varargs(tree, names):
    """``def f(a, *args): body`` -> ``def f(a, args_0, args_1): args = (args_0, args_1); body``:
    gradients with respect to items of ``*args`` for a call with that many, the tuple
    then handled like any other.  Where ``args`` is only forwarded (``g(*args)``, a
    decorator's wrapper), the calls pass the items instead and no tuple is made."""
    a = tree.args
    var = a.vararg
    found = _forwarded(tree, var.id, starred=True)
    if found:
        for call_, item in found:
            at = call_.args.index(item)
            call_.args[at:at + 1] = [
                gast.copy_location(gast.Name(id=n, ctx=gast.Load(), annotation=None,
                                             type_comment=None), item) for n in names]
    params = [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
              for n in names]
    a.args = a.args + params
    if a.defaults:  # after parameters with defaults, every parameter needs one
        a.defaults = a.defaults + [gast.Constant(value=None, kind=None) for _ in names]
    a.vararg = None
    pack = gast.Assign(targets=[gast.Name(id=var.id, ctx=gast.Store(), annotation=None,
                                          type_comment=None)],
                       value=gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Load(), annotation=None,
                                                        type_comment=None) for n in names],
                                        ctx=gast.Load()), type_comment=None)
    for node in astutil.nodes(pack):
        gast.copy_location(node, var)
    if found is not None:  # only forwarded: the calls pass the items
        return
    _insert_first(tree, pack)


def _insert_first(tree, stmt):
    """``stmt`` at the top of the function's body (after its docstring)."""
    doc = tree.body and isinstance(tree.body[0], gast.Expr) \
        and isinstance(tree.body[0].value, gast.Constant)
    tree.body.insert(1 if doc else 0, stmt)


__all__ = ["derive", "Spec", "Derivative"]
