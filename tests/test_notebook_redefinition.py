"""Redefinition, as in notebooks: a re-run cell that redefines a helper must be
picked up by the next gradient of a caller (no stale cached derivative)."""
import importlib
import linecache
import sys
import textwrap
import time

import numpy as np
import pytest

import sourcegrad as sg

X = np.array([0.3, -0.8, 1.4])


# -- temp modules -----------------------------------------------------------------------------

@pytest.fixture
def make_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(name, text):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(text))
        importlib.invalidate_caches()
        mod = importlib.import_module(name)
        made.append(name)
        return mod, path

    yield make
    for name in made:
        sys.modules.pop(name, None)


CALLER = """
    import numpy as np

    def helper(v):
        return v * v

    def caller(x):
        return np.sum(helper(x) + x)
"""

NEW_HELPER = """
    import numpy as np

    def helper(v):
        return np.sin(v) * 3.0
"""


def test_module_attribute_swap_fresh_grad(make_module):
    mod, _ = make_module("nbmod_a", CALLER)
    np.testing.assert_allclose(sg.grad(mod.caller)(X), 2 * X + 1)
    new, _ = make_module("nbmod_a_new", NEW_HELPER)
    mod.helper = new.helper
    np.testing.assert_allclose(sg.grad(mod.caller)(X), 3 * np.cos(X) + 1)


def test_module_attribute_swap_existing_grad_object(make_module):
    mod, _ = make_module("nbmod_b", CALLER)
    g = sg.grad(mod.caller)
    np.testing.assert_allclose(g(X), 2 * X + 1)
    new, _ = make_module("nbmod_b_new", NEW_HELPER)
    mod.helper = new.helper
    np.testing.assert_allclose(g(X), 3 * np.cos(X) + 1)


def test_swap_back_and_forth(make_module):
    mod, _ = make_module("nbmod_c", CALLER)
    old = mod.helper
    new, _ = make_module("nbmod_c_new", NEW_HELPER)
    for _ in range(2):
        mod.helper = new.helper
        np.testing.assert_allclose(sg.grad(mod.caller)(X), 3 * np.cos(X) + 1)
        mod.helper = old
        np.testing.assert_allclose(sg.grad(mod.caller)(X), 2 * X + 1)


def test_helper_two_levels_down_swapped(make_module):
    mod, _ = make_module("nbmod_d", """
        import numpy as np

        def inner(v):
            return v * v

        def middle(v):
            return inner(v) * 2.0

        def caller(x):
            return np.sum(middle(x))
    """)
    np.testing.assert_allclose(sg.grad(mod.caller)(X), 4 * X)
    new, _ = make_module("nbmod_d_new", """
        import numpy as np

        def inner(v):
            return np.exp(v)
    """)
    mod.inner = new.inner
    np.testing.assert_allclose(sg.grad(mod.caller)(X), 2 * np.exp(X))


def test_reload_after_file_rewritten(make_module):
    mod, path = make_module("nbmod_e", CALLER)
    np.testing.assert_allclose(sg.grad(mod.caller)(X), 2 * X + 1)
    # rewrite the helper in the same file, same line numbers, and reload
    path.write_text(textwrap.dedent(CALLER).replace("return v * v", "return v * 5.0"))
    st = path.stat()
    import os
    os.utime(path, (st.st_atime, st.st_mtime + 2))
    importlib.invalidate_caches()
    mod = importlib.reload(mod)
    np.testing.assert_allclose(mod.caller(X), np.sum(X * 5.0 + X))
    np.testing.assert_allclose(sg.grad(mod.caller)(X), 6.0 * np.ones(3))


def test_weights_found_after_swap(make_module):
    mod, _ = make_module("nbmod_f", """
        import numpy as np
        from sourcegrad import Parameter

        P1 = Parameter(np.array([1.0, 2.0, 3.0]), name="p1")

        def helper(v):
            return v * P1

        def caller(x):
            return np.sum(helper(x))
    """)
    np.testing.assert_allclose(sg.grad(mod.caller, None, weights=[mod.P1])(X)[0], X)
    new, _ = make_module("nbmod_f_new", """
        import numpy as np
        from nbmod_f import P1

        def helper(v):
            return v * P1 * P1
    """)
    mod.helper = new.helper
    np.testing.assert_allclose(sg.grad(mod.caller, None, weights=[mod.P1])(X)[0],
                               2 * X * mod.P1)


# -- simulated notebook cells: exec with linecache-registered sources ---------------------------

_cell_counter = [0]


def run_cell(ns, text, filename=None):
    """Execute text like IPython does: a unique filename registered in linecache."""
    text = textwrap.dedent(text)
    if filename is None:
        _cell_counter[0] += 1
        filename = f"<ipython-input-{_cell_counter[0]}-{time.time_ns() % 10**9:x}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), ns)
    return filename


def new_namespace():
    return {"np": np, "sg": sg, "__name__": "__main__"}


def test_cell_redefines_helper():
    ns = new_namespace()
    run_cell(ns, """
        def helper(v):
            return v * v
    """)
    run_cell(ns, """
        def caller(x):
            return np.sum(helper(x) * 2.0)
    """)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), 4 * X)
    run_cell(ns, """
        def helper(v):
            return np.tanh(v)
    """)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), 2 * (1 - np.tanh(X) ** 2))


def test_cell_redefines_helper_existing_grad_object():
    ns = new_namespace()
    run_cell(ns, """
        def helper(v):
            return v * v

        def caller(x):
            return np.sum(helper(x))
    """)
    g = sg.grad(ns["caller"])
    np.testing.assert_allclose(g(X), 2 * X)
    run_cell(ns, """
        def helper(v):
            return v * 7.0
    """)
    np.testing.assert_allclose(g(X), 7.0 * np.ones(3))


def test_same_cell_rerun_with_edited_text_same_filename():
    # some front ends reuse the cell's filename when it is re-run after editing
    ns = new_namespace()
    name = "<notebook-cell-fixed-name>"
    run_cell(ns, """
        def helper(v):
            return v * v

        def caller(x):
            return np.sum(helper(x))
    """, filename=name)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), 2 * X)
    run_cell(ns, """
        def helper(v):
            return v * v * v

        def caller(x):
            return np.sum(helper(x))
    """, filename=name)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), 3 * X * X)


def test_cell_redefines_caller_itself():
    ns = new_namespace()
    run_cell(ns, """
        def f(x):
            return np.sum(x * x)
    """)
    np.testing.assert_allclose(sg.grad(ns["f"])(X), 2 * X)
    run_cell(ns, """
        def f(x):
            return np.sum(np.sin(x))
    """)
    np.testing.assert_allclose(sg.grad(ns["f"])(X), np.cos(X))


def test_cell_lambda_helper_redefined():
    ns = new_namespace()
    run_cell(ns, """
        act = lambda v: v * v
    """)
    run_cell(ns, """
        def caller(x):
            return np.sum(act(x))
    """)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), 2 * X)
    run_cell(ns, """
        act = lambda v: np.exp(v)
    """)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), np.exp(X))


def test_cell_global_array_redefined():
    ns = new_namespace()
    run_cell(ns, """
        W = np.array([1.0, 2.0, 3.0])

        def caller(x):
            return np.sum(x * W)
    """)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), [1.0, 2.0, 3.0])
    run_cell(ns, """
        W = np.array([-1.0, 0.0, 4.0])
    """)
    np.testing.assert_allclose(sg.grad(ns["caller"])(X), [-1.0, 0.0, 4.0])


def test_cell_class_method_redefined():
    ns = new_namespace()
    run_cell(ns, """
        class Model:
            def __init__(self):
                self.w = np.array([1.0, 2.0, 3.0])

            def predict(self, x):
                return x * self.w

        m = Model()

        def loss(x):
            return np.sum(m.predict(x))
    """)
    np.testing.assert_allclose(sg.grad(ns["loss"])(X), [1.0, 2.0, 3.0])
    run_cell(ns, """
        class Model:
            def __init__(self):
                self.w = np.array([1.0, 2.0, 3.0])

            def predict(self, x):
                return x * x * self.w

        m = Model()
    """)
    np.testing.assert_allclose(sg.grad(ns["loss"])(X), 2 * X * np.array([1.0, 2.0, 3.0]))


def test_cell_without_linecache_source_is_refused_clearly():
    ns = new_namespace()
    exec(compile("def f(x):\n    return np.sum(x * x)\n", "<unregistered-cell>", "exec"), ns)
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(ns["f"])(X)
    assert "<unregistered-cell>" in str(info.value) or "source" in str(info.value).lower()
