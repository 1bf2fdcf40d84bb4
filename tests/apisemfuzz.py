"""Random API-semantics cases for ``tests/test_api_semantics_fuzz.py``.

Each case is a small module (written to a real ``.py`` file and imported, since
sourcegrad reads source) and a *call*: how a MindSpore/JAX user differentiates
something in that module.

The module defines

* ``DTYPES``: the dtype of each Parameter (float32 or float64; the test writes
  a float64 twin of the module for finite differences);
* a target: a function ``f(x0, ..., xn)`` (optionally reading global
  Parameters, a helper function and a global Cell), or a Cell class ``Net``
  with 0-3 Parameters of its own (some frozen), sub-Cells (a user Cell, an
  ``nn.Dense``, an activation layer, a ``SequentialCell``) and ``ops.*`` calls;
* 1-3 outputs (a bare value, a tuple or a list), some scalars, some not.

The call (a dict) says: ``api`` (``grad``, ``value_and_grad`` or
``GradOperation``), ``grad_position``, ``weights`` (how they are named: a
Parameter, a list, a tuple, ``trainable_params()``, a ``ParameterTuple``, with
an unused or frozen Parameter), ``has_aux``, ``return_ids``, ``sens_param``,
keyword arguments at call time, grad of grad; or an invalid combination and
the error it must raise.

    python tests/apisemfuzz.py 12     # show case 12
"""
from __future__ import annotations

import random
import sys

SHAPES = [(3,), (2, 3), (4,), (2, 2), (3,), (2, 3), ()]
UNARY = [
    "np.sin({})", "np.tanh({})", "ops.sigmoid({})", "ops.tanh({})", "np.cos({})",
    "ops.exp(0.3 * {})", "ops.square({})", "({}) ** 2", "stop_gradient({})",
    "ops.stop_gradient({})", "ops.softplus({})", "np.log(1.0 + ({}) ** 2)",
    "ops.sin({})", "-({})", "ops.neg({})",
]
BINARY = [
    "({}) + ({})", "({}) - ({})", "({}) * ({})", "ops.mul({}, {})", "ops.add({}, {})",
    "({}) / (1.0 + ({}) ** 2)", "ops.sub({}, {})", "np.multiply({}, {})",
]
REDUCE = ["np.sum({})", "ops.mean({})", "({}).sum()", "ops.sum({})", "np.mean({})"]


def _vals(rng, shape):
    n = 1
    for s in shape:
        n *= s
    vals = [round(rng.uniform(-1.5, 1.5), 3) for _ in range(n)]
    if not shape:
        return repr(vals[0])
    import numpy as np
    return repr(np.array(vals).reshape(shape).tolist())


class Case:
    def __init__(self, seed):
        self.seed = seed
        self.text = ""
        self.kind = "fn"          # fn | cell | method
        self.inputs = []          # ("array", shape, dtype) | ("float",)
        self.input_values = []    # python lists / floats
        self.params = []          # (attr path, shape, dtype index, requires_grad, used)
        self.outputs = None       # "single" | "tuple" | "list"
        self.nout = 1
        self.call = {}

    def describe(self):
        return f"case {self.seed}: {self.call}\n{self.text}"


def generate(seed):
    rng = random.Random(seed)
    case = Case(seed)
    case.kind = rng.choice(["fn", "fn", "cell", "cell", "method", "forward"])
    shape = rng.choice(SHAPES)
    nin = rng.randint(1, 4)
    for i in range(nin):
        if rng.random() < 0.2:
            case.inputs.append(("float",))
            case.input_values.append(round(rng.uniform(-1.5, 1.5), 3))
        else:
            dt = rng.choice(["float32", "float64"])
            case.inputs.append(("array", shape, dt))
            n = 1
            for s in shape:
                n *= s
            case.input_values.append([round(rng.uniform(-1.5, 1.5), 3) for _ in range(n)])
    xs = [f"x{i}" for i in range(nin)]
    # a Parameter passed as an input (docs/behaviour.md 2.25, 2.26), maybe also in weights
    pa = None
    if case.kind == "fn" and rng.random() < 0.2:
        cands = [i for i, k in enumerate(case.inputs) if k[0] == "array"]
        if cands:
            pa = rng.choice(cands)
            case.inputs[pa] = ("param", shape, "PA")

    lines = ["import numpy as np", "import sourcegrad as sg",
             "from sourcegrad import nn, ops, Parameter, ParameterTuple",
             "from sourcegrad.ops import stop_gradient", ""]
    nparam = rng.randint(0, 3)
    dtypes = [rng.choice(["np.float32", "np.float64"]) for _ in range(nparam + 2)]
    lines.append(f"DTYPES = [{', '.join(dtypes)}]")
    lines.append("")
    if pa is not None:
        lines += [f"PA = Parameter(np.array({_vals(rng, shape)}, DTYPES[-1]), name='pa')", ""]
    # (the tutorial's forward: logits of the labels' shape, so Parameters of that shape)
    pshapes = [rng.choice([shape, shape[-1:]]) if case.kind != "forward" else shape
               for _ in range(nparam)]
    frozen = [rng.random() < 0.15 for _ in range(nparam)]
    cell = case.kind in ("cell", "method", "forward")
    pref = "self." if cell else ""
    pnames = [f"w{i}" for i in range(nparam)]
    # sub-cells / helpers
    use_sub = rng.random() < 0.5
    use_dense = rng.random() < 0.35 and shape != ()
    use_seq = rng.random() < 0.2
    use_helper = rng.random() < 0.4
    if use_sub:
        sshape = rng.choice([shape, shape[-1:]]) if case.kind != "forward" else shape
        lines += [
            "class Sub(nn.Cell):",
            "    def __init__(self):",
            "        super().__init__()",
            f"        self.v = Parameter(np.array({_vals(rng, sshape)}, DTYPES[-1]))",
            "",
            "    def construct(self, x):",
            "        return " + rng.choice(["np.tanh(x * self.v)", "x * self.v + 0.5",
                                        "ops.sigmoid(x) * self.v"]),
            "",
        ]
    if use_helper:
        lines += ["def helper(a, b):",
                  "    t = " + rng.choice(["a * b", "np.sin(a) + b", "a * np.cos(b)",
                                         "ops.mul(a, a) - b"]),
                  "    return t * 0.5", ""]
    dense_in = shape[-1] if shape else 1
    act = rng.choice([None, "'tanh'", "'sigmoid'"])
    pdefs = []
    for i, (nm, ps) in enumerate(zip(pnames, pshapes)):
        rg = "" if not frozen[i] else ", requires_grad=False"
        named = rng.random() < 0.5
        nmarg = f", name='{nm}'" if (named or not cell) else ""
        pdefs.append(f"Parameter(np.array({_vals(rng, ps)}, DTYPES[{i}]){nmarg}{rg})")
    dense_def = (f"nn.Dense({dense_in}, 2, weight_init=np.array({_vals(rng, (2, dense_in))}), "
                 f"bias_init=np.array({_vals(rng, (2,))}), activation={act}, "
                 f"dtype=DTYPES[-2])")
    seq_def = "nn.SequentialCell(nn.Tanh(), Sub())" if use_sub else \
        "nn.SequentialCell(nn.Sigmoid(), nn.Tanh())"

    # leaves
    leaves = list(xs) + [pref + p for p in pnames]

    arrays = {x for x, k in zip(xs, case.inputs) if k[0] == "array"} | \
        {pref + p for p in pnames}

    def expr(depth):
        """(source, whether it is an array: a Python float input is not)"""
        r = rng.random()
        if depth <= 0 or r < 0.3:
            leaf = rng.choice(leaves)
            return leaf, leaf in arrays
        if r < 0.55:
            e, arr = expr(depth - 1)
            return rng.choice(UNARY).format(e), arr
        if r < 0.65 and use_sub:
            e, arr = expr(depth - 1)
            return (f"{pref}sub({e})" if cell else f"SUB({e})"), True
        if r < 0.7 and use_helper:
            (a, arr_a), (b, arr_b) = expr(depth - 1), expr(depth - 1)
            return f"helper({a}, {b})", arr_a or arr_b
        if r < 0.75 and use_seq:
            e, arr = expr(depth - 1)
            if arr:
                return (f"{pref}seq({e})" if cell else f"SEQ({e})"), True
            return e, arr
        (a, arr_a), (b, arr_b) = expr(depth - 1), expr(depth - 1)
        return rng.choice(BINARY).format(a, b), arr_a or arr_b

    nout = rng.choice([1, 1, 2, 2, 3]) if case.kind != "forward" else 1
    outs, out_arrays = [], []
    # the first output involves every input some of the time
    for j in range(nout):
        e, arr = expr(rng.randint(1, 3))
        if j == 0 and rng.random() < 0.6:
            extra = [v for v in leaves if v not in e]
            for v in rng.sample(extra, min(len(extra), 2)):
                e = f"{e} + {rng.choice(UNARY).format(v)}" if rng.random() < 0.8 else \
                    f"{e} * {v}"
                arr = arr or v in arrays
        if use_dense and arr and rng.random() < 0.4:
            dn = f"{pref}dense" if cell else "DENSE"
            e = f"np.sum({dn}({e})) + {e}"
        if rng.random() < 0.6 and not (case.kind == "forward" and arr):
            e = rng.choice(REDUCE if arr else REDUCE[:2]).format(e)
        outs.append(e)
        out_arrays.append(arr)
    form = "single" if nout == 1 else rng.choice(["tuple", "tuple", "tuple", "list"])
    if nout == 1 and rng.random() < 0.1 and case.kind != "forward":
        form = "tuple1"
    if form in ("tuple", "list") and rng.random() < 0.2:
        # an output that carries no gradient (docs/behaviour.md 4.11): adds nothing
        outs.append(rng.choice(["3", "np.argmax(x0)", "None"]))
        nout += 1
    case.outputs, case.nout = form, nout
    body = []
    for j, e in enumerate(outs):
        body.append(f"out{j} = {e}")
    if form == "single":
        ret = "return out0"
    elif form == "tuple1":
        ret = "return (out0,)"
    elif form == "tuple":
        ret = f"return {', '.join(f'out{j}' for j in range(nout))}"
    else:
        ret = f"return [{', '.join(f'out{j}' for j in range(nout))}]"
    body.append(ret)

    if cell:
        lines += ["class Net(nn.Cell):", "    def __init__(self):", "        super().__init__()"]
        for nm, d in zip(pnames, pdefs):
            lines.append(f"        self.{nm} = {d}")
        if use_sub:
            lines.append("        self.sub = Sub()")
        if use_dense:
            lines.append(f"        self.dense = {dense_def}")
        if use_seq:
            lines.append(f"        self.seq = {seq_def}")
        lines += ["", f"    def construct(self, {', '.join(xs)}):"]
        lines += ["        " + b for b in body]
        lines += ["", "", "net = Net()", ""]
        if case.kind == "forward":
            # the tutorial's forward_fn: a global net and loss_fn, (loss, logits) out
            loss = rng.choice(["nn.MSELoss()", "nn.MSELoss(reduction='sum')",
                               "nn.BCEWithLogitsLoss()"])
            if "BCE" in loss and not out_arrays[0]:
                loss = "nn.MSELoss()"  # BCE wants logits of the labels' shape
            y = f"x{nin}"
            case.inputs.append(("array", shape, rng.choice(["float32", "float64"])))
            n = 1
            for d in shape:
                n *= d
            case.input_values.append([round(rng.uniform(0.05, 0.95), 3) for _ in range(n)])
            lines += [f"loss_fn = {loss}", "", "",
                      f"def f({', '.join(xs + [y])}):",
                      f"    z = net({', '.join(xs)})",
                      f"    loss = loss_fn(z, {y})",
                      "    return loss, z" if rng.random() < 0.6 else "    return loss", ""]
            case.outputs, case.nout = ("tuple", 2) if "loss, z" in lines[-2] else ("single", 1)
            nin += 1
    else:
        for nm, d in zip(pnames, pdefs):
            lines.append(f"{nm} = {d}")
        if use_sub:
            lines.append("SUB = Sub()")
        if use_dense:
            lines.append(f"DENSE = {dense_def}")
        if use_seq:
            lines.append(f"SEQ = {seq_def}")
        lines += ["", "", f"def f({', '.join(xs)}):"]
        lines += ["    " + b for b in body]
        lines += [""]
    case.text = "\n".join(lines) + "\n"

    # Parameters visible to weights=: (expression naming it, its kind)
    if cell:
        all_params_expr = "net.trainable_params()"
    else:
        gl = [nm for nm in pnames] + (["SUB.v"] if use_sub else []) + \
            (["DENSE.weight", "DENSE.bias"] if use_dense else []) + \
            (["SEQ.trainable_params()[0]"] if use_seq and use_sub else []) + \
            (["PA"] if pa is not None else [])
        all_params_expr = "[" + ", ".join(gl) + "]"
    case.call = make_call(rng, case, nin, pnames, cell, all_params_expr)
    if case.call.get("order2") == "source":
        # grad of a function that calls a gradient (docs/behaviour.md 8.3)
        target = "net" if cell else "f"
        inner = rng.choice([f"sg.grad({target}, {case.call['grad_position']})({{}})",
                            f"sg.value_and_grad({target}, {case.call['grad_position']})({{}})[1]",
                            f"ops.grad({target}, {case.call['grad_position']})({{}})"])
        xs_all = [f"x{i}" for i in range(nin)]
        case.text += "\n".join([
            "", "", f"def outer({', '.join(xs_all)}):",
            f"    g = {inner.format(', '.join(xs_all))}",
            "    return " + rng.choice(["np.sum(g * g)", "np.sum(np.sin(g))", "g",
                                   "np.sum(g) * 2.0"]),
            ""])
    return case


def make_call(rng, case, nin, pnames, cell, all_params_expr):
    call = {}
    if rng.random() < 0.12:
        return invalid_call(rng, case, nin, cell, all_params_expr)
    api = rng.choice(["grad", "grad", "value_and_grad", "value_and_grad", "GradOperation"])
    call["api"] = api
    # weights
    pref = "net." if cell else ""
    wchoice = rng.random()
    if wchoice < 0.4:
        weights = None
    elif wchoice < 0.55 and pnames:
        weights = pref + rng.choice(pnames)  # a single Parameter
    elif wchoice < 0.7:
        weights = all_params_expr
    elif wchoice < 0.8:
        weights = f"ParameterTuple({all_params_expr})"
    elif wchoice < 0.9:
        weights = f"tuple({all_params_expr})"
    else:
        extra = rng.choice(["Parameter(np.zeros(2, np.float32), name='unused')",
                            "Parameter(np.ones(3), name='frozen', requires_grad=False)",
                            "list(PLIST)[0]", "list(PLIST)[-1]"])
        if "PLIST" in extra:  # a Parameter twice (docs/behaviour.md 2.19): its gradient twice
            # (a frozen stand-in when there is no trainable Parameter)
            extra = extra.replace("PLIST", f"{all_params_expr} + [Parameter(np.ones(3), "
                                  "name='frozen', requires_grad=False)]")
        weights = f"list({all_params_expr}) + [{extra}]"
        if rng.random() < 0.5:
            weights = f"[{extra}] + list({all_params_expr})"
    call["weights"] = weights
    if api == "GradOperation":
        call["get_all"] = rng.random() < 0.5
        call["get_by_list"] = weights is not None and weights.startswith(
            ("net.trainable", "[", "ParameterTuple", "tuple", "list"))
        if not call["get_by_list"]:
            call["weights"] = None
        call["sens_param"] = rng.random() < 0.25
        return call
    r = rng.random()
    if r < 0.35:
        pos = rng.randrange(nin)
    elif r < 0.8 or weights is None:
        k = rng.randint(1, nin)
        pos = tuple(rng.sample(range(nin), k))
    else:
        pos = None
    call["grad_position"] = pos
    call["has_aux"] = case.outputs in ("tuple",) and rng.random() < 0.4
    call["return_ids"] = rng.random() < 0.15
    # (with has_aux the seed is the first output's alone, as in JAX's vjp)
    call["sens_param"] = rng.random() < 0.15
    call["kwargs"] = 0 if call["sens_param"] else rng.choice([0, 0, 0, 1, nin])
    call["order2"] = False
    if case.kind != "forward" and api == "grad" and weights is None \
            and isinstance(pos, int) and not call["has_aux"] \
            and not call["return_ids"] and not call["sens_param"] and rng.random() < 0.5:
        # grad(grad(f, pos), outer_position), or grad(outer, ...) where outer calls it
        call["order2"] = rng.choice(["direct", "source"])
        call["outer_position"] = rng.randrange(nin)
        call["kwargs"] = 0
    return call


def invalid_call(rng, case, nin, cell, all_params_expr):
    """A combination that must be refused: (call, expected exception type)."""
    kinds = ["neg", "dup", "range", "list", "float", "none", "aux_type", "ids_type",
             "weights_array", "weights_dict", "weights_list_array", "empty"]
    # (a list of two or more outputs with has_aux: MindSpore refuses it, sourcegrad
    # accepts it (docs/behaviour.md 3.6); not generated here)
    if case.outputs in ("single", "tuple1"):
        kinds += ["aux_single"] * 3
    k = rng.choice(kinds)
    call = {"api": rng.choice(["grad", "value_and_grad"]), "invalid": k,
            "grad_position": 0, "weights": None, "has_aux": False, "return_ids": False,
            "sens_param": False, "kwargs": 0, "order2": False}
    if k == "neg":
        call["grad_position"] = rng.choice([-1, (0, -1)])
    elif k == "dup":
        p = rng.randrange(nin)
        call["grad_position"] = (p, p) if rng.random() < 0.5 else (p, rng.randrange(nin), p)
    elif k == "range":
        call["grad_position"] = rng.choice([nin, (0, nin + 1)])
    elif k == "list":
        call["grad_position"] = list(range(min(nin, 2)))
    elif k == "float":
        call["grad_position"] = rng.choice([0.0, (0, "1")])
    elif k == "none":
        call["grad_position"] = None
    elif k == "aux_type":
        call["has_aux"] = 1
    elif k == "ids_type":
        call["return_ids"] = 1
    elif k == "weights_array":
        call["weights"] = "np.ones(2)"
    elif k == "weights_dict":
        call["weights"] = "{'a': Parameter(np.ones(2), name='a')}"
    elif k == "weights_list_array":
        call["weights"] = "[Parameter(np.ones(2), name='a'), np.ones(2)]"
    elif k == "empty":
        call["grad_position"] = ()
    elif k == "aux_single":
        call["has_aux"] = True
    return call


if __name__ == "__main__":
    print(generate(int(sys.argv[1])).describe())
