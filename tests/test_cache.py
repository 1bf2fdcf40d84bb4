"""Robustness of the derivative cache (issue 7).

* the same function transformed from many threads at once: one derivative,
  correct results;
* a redefined helper (module global rebound) is picked up;
* a Cell whose Parameter or sub-cell attribute is replaced after the first
  call gives the new gradient;
* functions with the same name in different modules don't collide.

What the cache keeps is freed with the function: see test_memory.py.
"""
import concurrent.futures
import gc
import importlib.util
import itertools
import os
import sys
import textwrap
import threading

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import Parameter, nn

THREADS, CALLS = 8, 20
_uid = itertools.count()


def load_module(tmp_path, name, src):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(src))
    modname = f"_sg_cache_{name}_{next(_uid)}"
    spec = importlib.util.spec_from_file_location(modname, str(path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod


# -- threads -----------------------------------------------------------------------------

def test_threads_one_function(tmp_path):
    """8 threads x 20 calls on a fresh (never transformed) function, all released at once."""
    mod = load_module(tmp_path, "threaded", """
        import numpy as np

        def helper(a, b):
            c = a * b
            for i in range(3):
                c = 0.5 * c + np.sin(a)
            return c

        def f(x, y):
            z = helper(x, y)
            if np.sum(z) > 0:
                z = z * 2.0
            return np.sum(np.tanh(z) ** 2)
        """)
    barrier = threading.Barrier(THREADS)
    x = np.array([0.3, 0.9, -0.4])
    y = np.array([1.1, -0.2, 0.7])

    def work(k):
        barrier.wait()
        out = []
        for j in range(CALLS):
            g = sg.grad(mod.f, (0, 1))  # a new GradFunction every call: shared engine cache
            xs, ys = x * (1 + 0.01 * k), y + 0.01 * j
            out.append((k, j, g(xs, ys), sg.source(g)))
        return out

    with concurrent.futures.ThreadPoolExecutor(THREADS) as ex:
        results = [r for fut in [ex.submit(work, k) for k in range(THREADS)]
                   for r in fut.result()]
    assert len(results) == THREADS * CALLS
    sources = {src for *_, src in results}
    assert len(sources) == 1, f"{len(sources)} different derivatives were generated"
    from sourcegrad.testing import numeric_grad
    for k, j, (gx, gy), _ in results[::7]:
        xs, ys = x * (1 + 0.01 * k), y + 0.01 * j
        np.testing.assert_allclose(gx, numeric_grad(mod.f, (xs, ys), 0), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(gy, numeric_grad(mod.f, (xs, ys), 1), rtol=1e-5, atol=1e-8)


def test_threads_one_grad_function():
    """One GradFunction object shared by all threads, first call racing."""
    def f(x):
        y = x
        for i in range(4):
            y = np.sin(y) * x
        return np.sum(y)

    g = sg.grad(f)
    x = np.linspace(-1, 1, 5)
    want = None
    barrier = threading.Barrier(THREADS)

    def work(_):
        barrier.wait()
        return [g(x) for _ in range(CALLS)]

    with concurrent.futures.ThreadPoolExecutor(THREADS) as ex:
        outs = [o for r in ex.map(work, range(THREADS)) for o in r]
    want = outs[0]
    from sourcegrad.testing import numeric_grad
    np.testing.assert_allclose(want, numeric_grad(f, (x,), 0), rtol=1e-5, atol=1e-8)
    for o in outs:
        np.testing.assert_array_equal(o, want)


# -- redefinition ------------------------------------------------------------------------

def test_redefined_helper_is_picked_up(tmp_path):
    mod = load_module(tmp_path, "redef", """
        import numpy as np

        def helper(t):
            return t * t

        def f(x):
            return np.sum(helper(x))
        """)
    g = sg.grad(mod.f)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g(x), 2 * x)
    src1 = sg.source(g)

    mod2 = load_module(tmp_path, "redef_helper", """
        def helper(t):
            return t * t * t
        """)
    mod.helper = mod2.helper
    np.testing.assert_allclose(g(x), 3 * x ** 2)
    np.testing.assert_allclose(sg.grad(mod.f)(x), 3 * x ** 2)
    assert sg.source(g) != src1

    mod.helper = np.sin  # now a NumPy function with a rule
    np.testing.assert_allclose(g(x), np.cos(x))


def test_redefined_function_itself(tmp_path):
    """A cell/file re-executed: the new function object gets a new derivative."""
    mod = load_module(tmp_path, "again", """
        import numpy as np
        def f(x):
            return np.sum(x * x)
        """)
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(sg.grad(mod.f)(x), 2 * x)
    (tmp_path / "again.py").write_text("import numpy as np\n\n\ndef f(x):\n"
                                       "    return np.sum(np.sin(x))\n")
    import linecache
    linecache.checkcache(str(tmp_path / "again.py"))
    ns = {}
    exec(compile((tmp_path / "again.py").read_text(), str(tmp_path / "again.py"), "exec"), ns)
    np.testing.assert_allclose(sg.grad(ns["f"])(x), np.cos(x))


def test_redefined_global_constant_type(tmp_path):
    """A global changing from float to array keeps gradients right."""
    mod = load_module(tmp_path, "gconst", """
        import numpy as np
        SCALE = 2.0
        def f(x):
            return np.sum(x * SCALE)
        """)
    x = np.array([1.0, 2.0])
    g = sg.grad(mod.f)
    np.testing.assert_allclose(g(x), [2.0, 2.0])
    mod.SCALE = np.array([3.0, 5.0])
    np.testing.assert_allclose(g(x), [3.0, 5.0])


# -- cells ---------------------------------------------------------------------------------

class Scale(nn.Cell):
    def __init__(self, w):
        super().__init__()
        self.w = Parameter(np.array(w), name="w")

    def construct(self, x):
        return x * self.w


class Square(nn.Cell):
    def construct(self, x):
        return x * x


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.inner = Scale([1.0, 2.0])
        self.b = Parameter(np.array([0.5, -0.5]), name="b")

    def construct(self, x):
        return np.sum(self.inner(x) + self.b)


def test_cell_parameter_replaced():
    net = Net()
    x = np.array([3.0, 4.0])
    names = [p.name for p in net.trainable_params()]
    assert sorted(names) == ["b", "inner.w"]
    g = sg.grad(net, None, weights=net.trainable_params())
    grads = dict(zip(names, g(x)))
    np.testing.assert_allclose(grads["inner.w"], x)
    np.testing.assert_allclose(grads["b"], [1.0, 1.0])
    net.inner.w = Parameter(np.array([10.0, 20.0]), name="w")  # replaced after first call
    gx = sg.grad(net)(x)
    np.testing.assert_allclose(gx, [10.0, 20.0])
    g2 = sg.grad(net, 0)
    np.testing.assert_allclose(g2(x), [10.0, 20.0])
    params = net.trainable_params()
    assert any(p is net.inner.w for p in params), "the new Parameter is not listed"
    grads = sg.grad(net, None, weights=params)(x)
    for p, gp in zip(params, grads):
        np.testing.assert_allclose(gp, x if p is net.inner.w else [1.0, 1.0])
    # the replaced Parameter is what is found now, not the old one
    old_w = Parameter(np.array([1.0, 2.0]), name="old")
    assert np.all(sg.grad(net, None, weights=old_w)(x) == 0)


def test_cell_parameter_replaced_same_grad_function():
    net = Net()
    x = np.array([3.0, 4.0])
    g = sg.grad(net)
    np.testing.assert_allclose(g(x), [1.0, 2.0])
    net.inner.w = Parameter(np.array([10.0, 20.0]), name="w")
    np.testing.assert_allclose(g(x), [10.0, 20.0])


def test_cell_subcell_replaced():
    net = Net()
    x = np.array([3.0, 4.0])
    g = sg.grad(net)
    np.testing.assert_allclose(g(x), [1.0, 2.0])
    net.inner = Square()  # a different class of sub-cell
    np.testing.assert_allclose(g(x), 2 * x)
    net.inner = Scale([-1.0, 7.0])  # back to the old class, new parameter values
    np.testing.assert_allclose(g(x), [-1.0, 7.0])


def test_cell_parameter_value_updated_in_place():
    net = Net()
    x = np.array([3.0, 4.0])
    g = sg.grad(net)
    np.testing.assert_allclose(g(x), [1.0, 2.0])
    net.inner.w[...] = [5.0, 6.0]  # what an optimizer does
    np.testing.assert_allclose(g(x), [5.0, 6.0])


# -- modules ---------------------------------------------------------------------------------

def test_same_name_in_two_modules(tmp_path):
    a = load_module(tmp_path, "mod_a", """
        import numpy as np
        def loss(x):
            return np.sum(x * x)
        """)
    b = load_module(tmp_path, "mod_b", """
        import numpy as np
        def loss(x):
            return np.sum(np.sin(x))
        """)
    x = np.array([0.5, 1.5])
    for _ in range(2):
        np.testing.assert_allclose(sg.grad(a.loss)(x), 2 * x)
        np.testing.assert_allclose(sg.grad(b.loss)(x), np.cos(x))
    assert sg.source(sg.grad(a.loss)) != sg.source(sg.grad(b.loss))


def test_same_name_helpers_in_two_modules(tmp_path):
    """Same-named helpers called from same-named functions in different modules."""
    srcs = {"h_a": "t * 3.0", "h_b": "t * t"}
    mods = {}
    for key, body in srcs.items():
        mods[key] = load_module(tmp_path, key, f"""
            import numpy as np
            def helper(t):
                return {body}
            def f(x):
                return np.sum(helper(x))
            """)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(sg.grad(mods["h_a"].f)(x), [3.0, 3.0])
    np.testing.assert_allclose(sg.grad(mods["h_b"].f)(x), 2 * x)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def _gc_probe(x):
    return np.sum(np.sin(x) * x)


def _gc_probe_refused(x):
    y = x * 2.0
    if np.sum(x) > 0.5:
        y = x  # y may or may not be x where it is updated: refused
    y += 1.0
    return np.sum(x)


def test_garbage_collection_is_paused_only_while_transforming(monkeypatch):
    # the transformation pauses the collector (many short-lived nodes, no garbage);
    # it must come back as it was, also when the transformation fails
    from sourcegrad import pipeline
    seen = []
    build = pipeline.build

    def spy(fn, spec):
        seen.append(gc.isenabled())
        return build(fn, spec)
    monkeypatch.setattr(pipeline, "build", spy)
    x = np.linspace(-1.0, 1.0, 4)
    assert gc.isenabled()
    sg.grad(_gc_probe)(x)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(sg.SourcegradError):
        sg.grad(_gc_probe_refused)(x)
    assert gc.isenabled()
    gc.disable()
    try:
        sg.grad(lambda x: np.sum(np.cos(x)))(x)
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- nothing of sourcegrad's is written or read beside the package ---------------------
# Rule templates are parsed in each process (a dozen or so a transformation, a tenth
# of a millisecond each); no file is kept between processes, so none can be forged,
# raced over or planted as a symlink, and -B / PYTHONDONTWRITEBYTECODE /
# PYTHONPYCACHEPREFIX govern the package's __pycache__ as they do any package's.

WORK = """
import sys
import numpy as np
import sourcegrad as sg


def f(x, w):
    h = np.tanh(x @ w)
    return np.sum(np.exp(-h) * np.sin(h)) + np.mean(np.log1p(x * x)) + np.max(w)


x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
w = np.linspace(0.5, -0.5, 12).reshape(3, 4)
gx, gw = sg.grad(f, (0, 1))(x, w)
print(sg.__file__)
print(repr(gx.tolist()), repr(gw.tolist()))
"""


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the sourcegrad package with no __pycache__ (a cold install), and a
    script using it; ``run(*flags, env=...)`` starts the script in a new process."""
    import shutil
    import subprocess
    site = tmp_path / "site"
    shutil.copytree(os.path.dirname(sg.__file__), site / "sourcegrad",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "work.py"
    script.write_text(WORK)

    def start(*flags, **env):
        environ = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        environ.update(PYTHONPATH=str(site), **env)
        return subprocess.Popen([sys.executable, *flags, str(script)], cwd=str(tmp_path),
                                env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def finish(proc):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        where, grads = out.splitlines()
        assert where.startswith(str(site)), where  # the copy, not the installed package
        return grads

    return site, start, finish


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, n), root)
                  for d, _, names in os.walk(root) for n in names)


def _here(tmp_path):
    """What WORK prints for the gradient, computed in this process."""
    from sourcegrad.testing import load_source
    mod = load_source(str(tmp_path / "work_here.py"), WORK)
    return f"{mod.gx.tolist()!r} {mod.gw.tolist()!r}"


def test_eight_processes_start_cold_at_once(package_copy, tmp_path):
    """Eight processes import a never-imported copy at once: all succeed, with the
    gradient this process computes, and write nothing but Python's own bytecode."""
    site, start, finish = package_copy
    before = _files(site)
    procs = [start() for _ in range(8)]
    results = [finish(p) for p in procs]
    assert set(results) == {_here(tmp_path)}
    written = [f for f in _files(site) if f not in before]
    assert written and all(f.endswith(".pyc") for f in written), written


def test_planted_files_are_never_read_or_written(package_copy, tmp_path):
    """Files planted where a cache of parsed templates used to live (beside the rule
    modules): a pickle that runs code when loaded, symlinks to a file outside, a
    stale temporary file.  None is read, followed or replaced."""
    import pickle
    site, start, finish = package_copy
    cache = site / "sourcegrad" / "rules" / "__pycache__"
    cache.mkdir()
    marker = tmp_path / "pickle_ran"
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")

    class Forged:
        def __reduce__(self):
            return open, (str(marker), "w")

    tag = sys.implementation.cache_tag
    stems = sorted(n[:-3] for n in os.listdir(cache.parent) if n.endswith(".py"))
    assert "ops" in stems
    for stem in stems:
        if stem != "ops":
            (cache / f"{stem}.templates.{tag}.pickle").write_bytes(
                pickle.dumps({"key": "forged", "trees": Forged()}))
            (cache / f"{stem}.templates.pickle").write_bytes(pickle.dumps(Forged()))
    (cache / f"ops.templates.{tag}.pickle").symlink_to(victim)
    for pid in range(1, 200):
        (cache / f"ops.templates.{tag}.pickle.{pid}.tmp").symlink_to(victim)
    planted = _files(site)
    got = finish(start())
    assert got == _here(tmp_path)
    assert not marker.exists(), "a planted pickle was loaded"
    assert victim.read_text() == "untouched"
    assert all(os.path.islink(cache / f) for f in os.listdir(cache)
               if f.startswith("ops.templates"))
    written = [f for f in _files(site) if f not in planted]
    assert all(f.endswith(".pyc") for f in written), written


@pytest.mark.parametrize("how", ["-B", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"])
def test_the_bytecode_settings_are_honoured(package_copy, tmp_path, how):
    """With -B or PYTHONDONTWRITEBYTECODE nothing is written in the package; with
    PYTHONPYCACHEPREFIX, nothing beside it (the prefix gets the bytecode)."""
    site, start, finish = package_copy
    before = _files(site)
    if how == "-B":
        proc = start("-B")
    elif how == "PYTHONDONTWRITEBYTECODE":
        proc = start(PYTHONDONTWRITEBYTECODE="1")
    else:
        proc = start(PYTHONPYCACHEPREFIX=str(tmp_path / "prefix"))
    assert finish(proc) == _here(tmp_path)
    assert _files(site) == before
    if how == "PYTHONPYCACHEPREFIX":
        assert any(f.endswith(".pyc") for f in _files(tmp_path / "prefix"))


def test_guards_hold_on_the_fast_path(tmp_path):
    """Calls with the same inputs take a fast path (from the second on); it checks
    the guards too: a rebound helper, a global of another type, a builtin shadowed
    by a global and a closure variable rebound are all seen."""
    mod = load_module(tmp_path, "fastguards", """
        import numpy as np
        SCALE = 2.0

        def helper(t):
            return t * t

        def f(x):
            return np.sum(helper(x) * SCALE) + abs(x[0])

        def make(c):
            def h(x):
                return np.sum(x * c)
            return h, lambda v: None
        """)
    x = np.array([1.0, 2.0, 3.0])
    g = sg.grad(mod.f)

    def want(d_helper, scale, d_abs):
        return d_helper * scale + np.array([d_abs, 0.0, 0.0])

    for _ in range(3):
        np.testing.assert_allclose(g(x), want(2 * x, 2.0, 1.0))
    mod.helper = lambda t: t * t * t
    for _ in range(3):
        np.testing.assert_allclose(g(x), want(3 * x ** 2, 2.0, 1.0))
    mod.SCALE = np.array([1.0, 0.5, 4.0])
    for _ in range(3):
        np.testing.assert_allclose(g(x), want(3 * x ** 2, mod.SCALE, 1.0))
    mod.abs = lambda v: -v  # a global now shadows the builtin
    for _ in range(3):
        np.testing.assert_allclose(g(x), want(3 * x ** 2, mod.SCALE, -1.0))

    h, _ = mod.make(2.0)
    gh = sg.grad(h)
    for _ in range(3):
        np.testing.assert_allclose(gh(x), 2.0 * np.ones(3))
    cell = h.__closure__[0]
    cell.cell_contents = np.array([1.0, 2.0, 3.0])
    for _ in range(3):
        np.testing.assert_allclose(gh(x), [1.0, 2.0, 3.0])
