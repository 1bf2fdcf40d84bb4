"""Memory: what sourcegrad keeps about a function is freed with the function.

A derivative refers to its function's globals and closure, which usually refer
back to the function; the caches must not keep such a function (and the arrays
it holds) alive once the user drops it.  Each transformation also registers its
generated text with ``linecache`` (tracebacks show generated lines): the entry
goes when the generated code does.

Measured with ``tracemalloc`` (NumPy reports its buffers to it), weak references
and ``gc.collect()``; nothing here reads a clock.  Whole-process figures: see
``benchmarks/memory.py``.
"""
import copy
import functools
import gc
import linecache
import pickle
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import memo, nn
from sourcegrad.testing import check_grads, load_source

MB = 1 << 20
BIG = 1 << 20  # float64 items of each function's array: 8 MB
FUNCTIONS = 5
LAMBDAS = 5000  # transformed in a loop, measured by allocated blocks
TRACED_LAMBDAS = 250  # transformed in a loop under tracemalloc (four times slower)


@pytest.fixture
def traced():
    """``tracemalloc`` on for the test; yields a function giving the bytes traced now."""
    gc.collect()
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    yield lambda: (gc.collect(), tracemalloc.get_traced_memory()[0])[1]
    if not was:
        tracemalloc.stop()


def _freed(make, traced, call):
    """Make FUNCTIONS functions, each holding a BIG array, take their gradients,
    drop everything: the functions die and the memory comes back."""
    before = traced()
    refs = []
    for i in range(FUNCTIONS):
        f = make(i)
        refs.append(weakref.ref(f))
        g = call(f)
        del f, g
    held = traced() - before
    alive = sum(r() is not None for r in refs)
    return alive, held


MODULE = """
import numpy as np

big = np.full({n}, 0.5)


def f(x):
    return np.sum(np.sin(x) * big[:3])
"""


def test_functions_of_dropped_modules_are_freed(tmp_path, traced):
    """A module's function refers to its module's globals, which hold the function:
    the classic cycle through the cache's value back to its key."""
    x = np.array([0.1, 0.2, 0.3])

    def make(i):
        mod = load_source(str(tmp_path / f"dropped_{i}.py"), MODULE.format(n=BIG))
        del sys.modules[mod.__name__]
        return mod.f

    def call(f):
        g = sg.grad(f)
        np.testing.assert_allclose(g(x), 0.5 * np.cos(x))
        np.testing.assert_allclose(g(x), 0.5 * np.cos(x))  # the fast path too
        return g

    alive, held = _freed(make, traced, call)
    assert alive == 0, f"{alive} of {FUNCTIONS} dropped functions are kept alive"
    assert held < 2 * MB, f"{held / MB:.1f} MB of {FUNCTIONS * BIG * 8 / MB:.0f} MB kept"


RECURSIVE = """
import numpy as np


def make(n):
    big = np.full(n, 0.5)

    def f(x, depth=2):
        if depth > 0:
            return f(x, depth - 1)
        return np.sum(np.tanh(x) * big[:3])
    return f


def make_plain(n):
    big = np.full(n, 0.5)

    def f(x, scale):
        return np.sum(np.tanh(x) * big[:3]) * scale
    return f


def loss(x, f):
    # f is known only at run time: a call resolved by sourcegrad's dispatcher
    return f(x, 1.0) * 2.0
"""


@pytest.fixture
def recursive(tmp_path):
    return load_source(str(tmp_path / "recursive.py"), RECURSIVE)


def test_recursive_inner_functions_are_freed(recursive, traced):
    """A recursive inner function is in its own closure."""
    x = np.array([0.3, -0.2, 0.9])

    def call(f):
        g = sg.grad(f)
        np.testing.assert_allclose(g(x), 0.5 * (1 - np.tanh(x) ** 2))
        return g

    alive, held = _freed(lambda i: recursive.make(BIG), traced, call)
    assert alive == 0, f"{alive} of {FUNCTIONS} dropped functions are kept alive"
    assert held < 2 * MB, f"{held / MB:.1f} MB kept"


def test_functions_called_at_run_time_are_freed(recursive, traced):
    """The dispatcher's plans for a function called through a variable (and the
    gradient functions grad-of-grad builds for it) go with the function."""
    x = np.array([0.3, -0.2, 0.9])

    g = sg.grad(recursive.loss)

    def call(f):
        assert "call_fwd(" in sg.source(g)
        np.testing.assert_allclose(g(x, f), 2 * 0.5 * (1 - np.tanh(x) ** 2))
        # grad of grad: the gradient of f, built at run time (dispatch.vjp_of)
        check_grads(lambda t: np.sum(g(t, f)), x)
        return None

    alive, held = _freed(lambda i: recursive.make_plain(BIG), traced, call)
    assert alive == 0, f"{alive} of {FUNCTIONS} dropped functions are kept alive"
    assert held < 2 * MB, f"{held / MB:.1f} MB kept"


class _Scaled(nn.Cell):
    def __init__(self, n):
        super().__init__()
        self.big = np.full(n, 0.5)

    def construct(self, x):
        return x * self.big[0]

    def bprop(self, x, out, dout):
        return (dout * 10.0,)


def test_cells_with_their_own_bprop_are_freed(traced):
    x = np.array([1.0, 2.0])

    def call(cell):
        g = sg.grad(cell)
        np.testing.assert_allclose(g(x), [10.0, 10.0])
        return g

    alive, held = _freed(lambda i: _Scaled(BIG), traced, call)
    assert alive == 0 and held < 2 * MB, (alive, held)


def test_a_copied_cell_uses_its_own_bprop():
    """The bprop wrapper is about one Cell: a deep copy (its __dict__ copied) makes its own."""
    a = _Scaled(4)
    x = np.array([1.0, 2.0])
    sg.grad(a)(x)
    b = copy.deepcopy(a)
    b.bprop = lambda x, out, dout: (dout * 3.0,)
    np.testing.assert_allclose(sg.grad(b)(x), [3.0, 3.0])
    np.testing.assert_allclose(sg.grad(a)(x), [10.0, 10.0])


def test_many_lambdas_leave_no_memory_behind():
    """LAMBDAS new lambdas transformed in a loop (a long notebook): no linecache
    entry and no Python object is left per lambda (``sys.getallocatedblocks``
    counts every small object, without tracemalloc's cost per allocation)."""
    x = np.array([1.0, 2.0, 3.0])

    def run(n, k0=0):
        for k in range(k0, k0 + n):
            f = lambda x: np.sum(np.sin(x) * k)  # noqa: E731
            got = sg.grad(f)(x)
            if k % 1000 == 0:
                np.testing.assert_allclose(got, k * np.cos(x))

    run(50)  # everything made once per process (rule templates, wrappers) made
    gc.collect()
    lines, blocks = len(linecache.cache), sys.getallocatedblocks()
    run(LAMBDAS, 50)
    gc.collect()
    assert len(linecache.cache) <= lines
    grown = sys.getallocatedblocks() - blocks
    # a leak of one object per lambda would be LAMBDAS blocks
    assert grown < LAMBDAS // 5, f"{grown} more memory blocks after {LAMBDAS} lambdas"


def test_many_lambdas_traced(traced):
    """The same, measured in bytes: within 2 MB per 5,000 lambdas."""
    x = np.array([1.0, 2.0])
    # traced too: what lives for good is allocated now, and so is any growth of a
    # shared table the measured calls would pass through (linecache.cache gets one
    # entry per derivative for a while: grown once, a dict's table stays grown, which
    # after a long test session is a one-off 400 KB)
    for k in range(TRACED_LAMBDAS):
        sg.grad(lambda x: np.sum(np.exp(x) * k))(x)  # noqa: B023
    before, lines = traced(), len(linecache.cache)
    for k in range(TRACED_LAMBDAS):
        sg.grad(lambda x: np.sum(np.exp(x) * k))(x)  # noqa: B023
    held = traced() - before
    assert len(linecache.cache) <= lines
    assert held < 2 * MB * TRACED_LAMBDAS / 5000, \
        f"{held / 1024:.0f} KB kept after {TRACED_LAMBDAS} lambdas"


def test_generated_lines_live_as_long_as_the_generated_code():
    """Tracebacks through generated code show its lines while it lives."""
    f = lambda x: np.sum(np.log(x))  # noqa: E731
    g = sg.grad(f)
    g(np.array([1.0, 2.0]))
    gen = g.last_generated()
    filename = gen.__code__.co_filename
    assert "np.log" in "".join(linecache.getlines(filename))
    del f, g
    gc.collect()
    assert linecache.getlines(filename)  # gen still runs that code
    del gen
    gc.collect()
    assert filename not in linecache.cache


# -- memo: the per-object caches ------------------------------------------------------

def test_a_wrapper_does_not_inherit_the_derivatives_of_what_it_wraps():
    """functools.wraps copies __dict__ (where the cache lives) to the wrapper."""
    def f(x):
        return np.sum(x * x)

    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(sg.grad(f)(x), 2 * x)

    @functools.wraps(f)
    def twice(x):
        return 2.0 * f(x)
    del twice.__wrapped__  # differentiated as itself
    assert memo.ATTR in twice.__dict__  # copied by wraps
    assert memo.cache(twice, "derivatives") is not memo.cache(f, "derivatives")
    np.testing.assert_allclose(sg.grad(twice)(x), 4 * x)


def test_a_pickled_cache_comes_back_empty():
    def f(x):
        return x
    memo.cache(f, "derivatives")["k"] = object()
    store = f.__dict__[memo.ATTR]
    again = pickle.loads(pickle.dumps(store))
    assert again == {}
    assert copy.copy(store) == {} and copy.deepcopy(store) == {}


def test_objects_without_a_dict_use_a_bounded_table():
    memo.cache(len, "x")["a"] = 1
    assert memo.cache(len, "x") == {"a": 1}
    assert memo.cache(["unhashable"], "x") == {}
    for i in range(memo.LIMIT + 10):
        memo.cache(("t", i), "x")
    assert len(memo._table) <= memo.LIMIT


def test_methods_share_the_cache_of_their_object():
    class A:
        def m(self):
            return 1
    a, b = A(), A()
    assert memo.cache(a.m, "p") is memo.cache(a.m, "p")
    assert memo.cache(a.m, "p") is not memo.cache(b.m, "p")
    assert memo.ATTR not in A.m.__dict__  # not on the shared function
