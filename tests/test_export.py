"""``sg.export``: a derivative written as a standalone module that needs only NumPy.

Each exported module is imported in a subprocess that cannot import
sourcegrad: ``python -I -S`` (no PYTHONPATH, no current directory, no
site-packages, so no editable install either) with a path holding only NumPy
(symlinked) and the exported file.  The subprocess asserts that ``import
sourcegrad`` fails, computes the gradient and prints it; the numbers must be
what ``g(*args)`` returned in this process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import Parameter, Tensor, nn, ops
from sourcegrad.export import export_source


# -- functions to export --------------------------------------------------------------------

def function(x, y, w, b):  # the tutorial's function
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss


def helper(v):
    return v * v


SCALE = 0.5
TABLE = np.array([1.0, -2.0, 3.0])


def loop_branch(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + np.sum(helper(x)) * SCALE
        else:
            s = s + np.sum(np.sin(x) * TABLE)
        if s > 100.0:
            break
    return s


# set by test_same_name_from_two_modules_is_renamed (globals the differentiated code reads)
mod_a = _scale = None


def _tutorial_inputs():
    rng = np.random.RandomState(0)
    x = ops.ones(5, sg.float32)
    y = ops.zeros(3, sg.float32)
    w = Parameter(Tensor(rng.randn(5, 3), sg.float32), name="w")
    b = Parameter(Tensor(rng.randn(3), sg.float32), name="b")
    return x, y, w, b


# -- running an exported module without sourcegrad ------------------------------------------

@pytest.fixture
def numpy_only_path(tmp_path):
    """A directory holding NumPy alone (symlinks), for ``sys.path`` in the subprocess."""
    site = tmp_path / "numpy_only"
    site.mkdir()
    real = os.path.dirname(os.path.dirname(np.__file__))
    for name in ("numpy", "numpy.libs"):
        if os.path.exists(os.path.join(real, name)):
            os.symlink(os.path.join(real, name), site / name)
    return site


def run_isolated(tmp_path, numpy_only_path, code: str):
    """Run ``code`` with only NumPy and ``tmp_path`` importable; return its JSON output."""
    work = tmp_path / "run"
    work.mkdir(exist_ok=True)
    prelude = textwrap.dedent(f"""
        import sys, json
        sys.path[:0] = [{str(tmp_path)!r}, {str(numpy_only_path)!r}]
        try:
            import sourcegrad
        except ImportError:
            pass
        else:
            raise SystemExit("sourcegrad is importable here: " + sourcegrad.__file__)
        import numpy as np
    """) + DUMP
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", prelude + textwrap.dedent(code)],
                          cwd=str(work), env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"exported module failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tolist(value):
    """Nested lists of floats (for comparing through JSON)."""
    if isinstance(value, (tuple, list)):
        return [tolist(v) for v in value]
    return np.asarray(value, dtype=float).tolist()


DUMP = """
def tolist(value):
    if isinstance(value, (tuple, list)):
        return [tolist(v) for v in value]
    return np.asarray(value, dtype=float).tolist()
"""


def assert_same(got, expected):
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), (got, expected)
        for a, b in zip(got, expected):
            assert_same(a, b)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


# -- tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("specialised", [True, False], ids=["shaped", "general"])
def test_tutorial_gradient_runs_without_sourcegrad(tmp_path, numpy_only_path, specialised):
    x, y, w, b = _tutorial_inputs()
    g = sg.grad(function, (2, 3))
    expected = g(x, y, w, b)
    path = tmp_path / "dloss.py"
    sg.export(g, path, *((x, y, w, b) if specialised else ()))
    text = path.read_text()
    assert "import numpy as np" in text
    assert "sourcegrad" not in "".join(
        line for line in text.splitlines() if line.startswith(("import", "from")))
    assert "def function_grad(x, y, w, b):" in text
    got = run_isolated(tmp_path, numpy_only_path, f"""
        import dloss
        x = np.ones(5, np.float32)
        y = np.zeros(3, np.float32)
        w = np.array({w.tolist()!r}, np.float32)
        b = np.array({b.tolist()!r}, np.float32)
        dw, db = dloss.gradient(x, y, w, b)
        assert dw.dtype == np.float32 and db.dtype == np.float32, (dw.dtype, db.dtype)
        print(json.dumps(tolist((dw, db))))
    """)
    assert_same(got, tolist(expected))


def test_loop_and_branch_with_helper_and_constants(tmp_path, numpy_only_path):
    g = sg.grad(loop_branch)
    x = np.array([0.3, -1.2, 2.0])
    path = tmp_path / "dloop.py"
    sg.export(g, path)  # the general derivative: works for any shape and n
    text = path.read_text()
    # the callee's derivative and the constants the code reads are written out
    assert "def helper_fwd(" in text and "def helper_bwd(" in text
    assert "SCALE = 0.5" in text and "TABLE = np.array(" in text
    cases = [(x, 1), (x, 2), (x, 5), (x * 10, 7)]
    expected = [tolist(g(a, n)) for a, n in cases]
    got = run_isolated(tmp_path, numpy_only_path, f"""
        import dloop
        cases = [(np.array(a), n) for a, n in {[(a.tolist(), n) for a, n in cases]!r}]
        print(json.dumps([tolist(dloop.gradient(a, n)) for a, n in cases]))
    """)
    assert_same(got, expected)


def test_shape_specialised_export_refuses_other_shapes(tmp_path, numpy_only_path):
    g = sg.grad(lambda x: np.sum(np.tanh(x) ** 2))
    sg.export(g, tmp_path / "dt.py", np.ones(3))
    got = run_isolated(tmp_path, numpy_only_path, """
        import dt
        ok = dt.gradient(np.array([0.1, 0.2, 0.3])).tolist()
        try:
            dt.gradient(np.ones(4))
        except ValueError as exc:
            msg = str(exc)
        print(json.dumps([ok, msg]))
    """)
    x = np.array([0.1, 0.2, 0.3])
    assert_same(got[0], tolist(g(x)))
    assert "exported for shape (3,)" in got[1]


def test_value_and_grad_has_aux_return_ids(tmp_path, numpy_only_path):
    def outer():
        scale = 3.0  # a closure variable

        def f(x, y):
            return np.sum(np.exp(x) * y * scale), x

        return f

    g = sg.value_and_grad(outer(), (0, 1), has_aux=True, return_ids=True)
    x, y = np.array([0.5, 1.5]), np.array([2.0, -1.0])
    (value, aux), ((p0, d0), (p1, d1)) = g(x, y)
    sg.export(g, tmp_path / "dvg.py", x, y)
    got = run_isolated(tmp_path, numpy_only_path, f"""
        import dvg
        (value, aux), ((p0, d0), (p1, d1)) = dvg.gradient(np.array({x.tolist()}),
                                                          np.array({y.tolist()}))
        print(json.dumps([tolist(value), tolist(aux), [p0, p1], tolist(d0), tolist(d1)]))
    """)
    assert got[2] == [0, 1]
    assert_same([got[0], got[1], got[3], got[4]], tolist([value, aux, d0, d1]))


def test_cell_objects_are_bound_and_weights_passed(tmp_path, numpy_only_path):
    """A Cell instance cannot be written as source: the module asks for it via bind()."""
    x, y, w, b = _tutorial_inputs()

    class Network(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = w
            self.b = b

        def construct(self, x):
            return ops.matmul(x, self.w) + self.b

    model = Network()
    loss_fn = nn.BCEWithLogitsLoss()

    def forward_fn(x, y):
        z = model(x)
        return loss_fn(z, y)

    g = sg.value_and_grad(forward_fn, None, weights=model.trainable_params())
    loss, (dw, db) = g(x, y)
    text = export_source(g, x, y)
    assert "BOUND = ('loss_fn', 'model')" in text
    assert "bind(loss_fn=..., model=...)" in text
    (tmp_path / "dcell.py").write_text(text)
    got = run_isolated(tmp_path, numpy_only_path, f"""
        import types
        import dcell
        w = np.array({w.tolist()!r}, np.float32)
        b = np.array({b.tolist()!r}, np.float32)
        x, y = np.ones(5, np.float32), np.zeros(3, np.float32)
        try:
            dcell.gradient(x, y, weights=[w, b])
        except RuntimeError as exc:
            unbound = str(exc)
        # duck-typed stand-ins for the Cells: the generated code reads their attributes
        dcell.bind(model=types.SimpleNamespace(w=w, b=b),
                   loss_fn=types.SimpleNamespace(weight=None, pos_weight=None,
                                                 reduction="mean"))
        loss, (dw, db) = dcell.gradient(x, y, weights=[w, b])
        print(json.dumps([unbound, tolist(loss), tolist(dw), tolist(db)]))
    """)
    assert "call bind(loss_fn=..., model=...) first" in got[0]
    assert_same(got[1:], tolist([loss, dw, db]))


def test_same_name_from_two_modules_is_renamed(tmp_path, numpy_only_path, monkeypatch):
    """Two different helpers both called ``_scale`` (from two modules) stay apart."""
    for name, body in (("mod_a", "def _scale(v):\n    return v * 2.0\n"),
                       ("mod_b", "def _scale(v):\n    return v + 1.0\n")):
        (tmp_path / "mods").mkdir(exist_ok=True)
        (tmp_path / "mods" / f"{name}.py").write_text("import numpy as np\n\n\n" + body)
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    import importlib
    mod_a = importlib.import_module("mod_a")
    mod_b = importlib.import_module("mod_b")
    monkeypatch.setitem(globals(), "mod_a", mod_a)
    monkeypatch.setitem(globals(), "_scale", mod_b._scale)

    def f(x):
        a = mod_a._scale(2.0)           # 4.0, through a module namespace
        return np.sum(x * a) * _scale(1.0)  # 2.0, a bare name bound to mod_b's helper

    g = sg.grad(f)
    x = np.array([1.0, 2.0])
    text = export_source(g, x)
    assert "def _scale(" in text and "def _scale_1(" in text
    (tmp_path / "dtwo.py").write_text(text)
    got = run_isolated(tmp_path, numpy_only_path, """
        import dtwo
        print(json.dumps(dtwo.gradient(np.array([1.0, 2.0])).tolist()))
    """)
    assert_same(got, tolist(g(x)))
    assert_same(got, [8.0, 8.0])
    for mod in ("mod_a", "mod_b"):
        sys.modules.pop(mod, None)


def test_export_refuses_what_is_not_a_gradient_function():
    with pytest.raises(TypeError, match="expects what sourcegrad.grad"):
        export_source(lambda x: x)


def test_large_arrays_and_objects_are_bound_not_inlined():
    big = np.ones(20_000)
    obj = types.SimpleNamespace(k=2.0)

    def f(x):
        return np.sum(x * big[:3]) * obj.k

    g = sg.grad(f)
    text = export_source(g)
    assert "BOUND = ('big', 'obj')" in text
    ns = {}
    exec(compile(text, "<exported>", "exec"), ns)
    ns["bind"](big=big, obj=obj)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ns["gradient"](x), g(x))
    with pytest.raises(TypeError, match="unexpected nope"):
        ns["bind"](nope=1)


def test_export_to_an_open_file(tmp_path):
    g = sg.grad(lambda x: np.sum(x ** 3))
    with open(tmp_path / "d.py", "w") as fh:
        text = sg.export(g, fh)
    assert (tmp_path / "d.py").read_text() == text
    ns = {}
    exec(compile(text, "d.py", "exec"), ns)
    np.testing.assert_allclose(ns["gradient"](np.array([1.0, 2.0])), [3.0, 12.0])


def _inner(x):
    return np.sum(np.sin(x) * x)


def test_second_order_exports(tmp_path, numpy_only_path):
    g = sg.grad(sg.grad(_inner))  # the derivative of generated source
    x = np.array([0.1, 0.7, 1.3])
    sg.export(g, tmp_path / "d2.py")
    got = run_isolated(tmp_path, numpy_only_path, f"""
        import d2
        print(json.dumps(d2.gradient(np.array({x.tolist()!r})).tolist()))
    """)
    assert_same(got, tolist(g(x)))
    assert_same(got, tolist(2 * np.cos(x) - x * np.sin(x)))


def test_run_time_dispatch_becomes_a_stub_that_raises():
    """grad called inside differentiated code dispatches when it runs: not standalone."""
    def f(x):
        return np.sum(sg.grad(_inner)(x))

    g = sg.grad(f)
    with pytest.warns(UserWarning, match="reaches sourcegrad at run time"):
        text = export_source(g)
    assert "Needs sourcegrad at run time" in text
    ns = {}
    exec(compile(text, "<exported>", "exec"), ns)
    with pytest.raises(RuntimeError, match="needs sourcegrad at run time"):
        ns["gradient"](np.ones(3))
