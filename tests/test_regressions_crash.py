"""Regressions of issue 13: integer inputs, builtin max/min on arrays, decorators,
source edited on disk, and crashes users hit (deep if/elif chains and call chains,
deep recursion, third- and fourth-order gradients, closure defaults, dicts of
parameters in loops, recursion over lists, einsum broadcasting, sens_param).

Gradients are checked against central finite differences (sourcegrad.testing);
errors by type and message text.
"""
import functools
import os
import sys
import textwrap

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads, load_source, numeric_grad

X = np.array([0.5, 1.2, 1.0])


def _sum_sin(x):
    return np.sum(np.sin(x))


def _sin_times(x, y):
    return np.sum(np.sin(x) * y)


# -- 5. integer and bool inputs get float gradients ------------------------------------

@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, np.uint32])
def test_integer_array_input_gets_float64_gradient_on_every_call(dtype):
    xi = np.array([1, 2, 3], dtype=dtype)
    g = sg.grad(_sum_sin)
    expected = numeric_grad(_sum_sin, (xi.astype(np.float64),), 0)
    # NumPy computes sin of 8-bit integers in float16: so does the derivative
    rtol = 2e-3 if xi.itemsize == 1 else 1e-6
    for _ in range(3):  # the first call, the second (makes the fast path), the fast path
        got = g(xi)
        assert got.dtype == np.float64 and got.shape == xi.shape
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-8)


def test_bool_array_input_gets_float64_gradient():
    xb = np.array([True, False, True])
    f = lambda x: np.sum(x * 2.5 + np.cos(x * 1.0))  # noqa: E731
    got = sg.grad(f)(xb)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, numeric_grad(f, (xb.astype(float),), 0), atol=1e-6)


def test_python_int_input_gets_python_float_gradient():
    f = lambda x: x * x + np.sin(x)  # noqa: E731
    g = sg.grad(f)
    for _ in range(3):
        got = g(3)
        assert type(got) is float
        assert abs(got - numeric_grad(f, (3.0,), 0)) < 1e-6
    assert type(sg.grad(lambda b: b * 2.5)(True)) is float


def test_integer_inputs_with_value_and_grad_tuple_positions_and_sens():
    xi = np.array([1, 2, 3])
    vg = sg.value_and_grad(_sin_times, grad_position=(0, 1))
    for _ in range(3):
        value, (gx, gy) = vg(xi, 2)
        assert value == pytest.approx(_sin_times(xi, 2))
        assert gx.dtype == np.float64 and type(gy) is float
        np.testing.assert_allclose(gx, numeric_grad(_sin_times, (xi * 1.0, 2.0), 0), atol=1e-6)
        assert gy == pytest.approx(numeric_grad(_sin_times, (xi * 1.0, 2.0), 1), abs=1e-6)
    gs = sg.grad(lambda x: np.sin(x), sens_param=True)
    got = gs(xi, np.array([1, 2, 1]))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.cos(xi) * [1, 2, 1])


def test_integer_weight_gets_float64_gradient():
    w = sg.Parameter(np.array([1, 2, 3]), name="w")
    f = lambda x: np.sum(np.sin(w) * x)  # noqa: E731
    g = sg.grad(f, grad_position=None, weights=[w])
    expected = numeric_grad(lambda wv: np.sum(np.sin(wv) * 1.5), (np.array([1.0, 2.0, 3.0]),), 0)
    for _ in range(3):
        (gw,) = g(1.5)
        assert gw.dtype == np.float64
        np.testing.assert_allclose(gw, expected, atol=1e-6)


def test_unread_integer_input_gets_float_zeros_and_list_of_ints_floats():
    gx, gy = sg.grad(lambda x, y: np.sum(x * 1.5), grad_position=(0, 1))(
        np.array([1, 2]), np.array([3, 4]))
    assert gx.dtype == gy.dtype == np.float64
    np.testing.assert_array_equal(gy, [0.0, 0.0])
    got = sg.grad(lambda xs: np.sin(xs[0]) + xs[1] * 0.5)([1, 2])
    assert [type(v) for v in got] == [float, float]
    assert got[0] == pytest.approx(np.cos(1.0)) and got[1] == pytest.approx(0.5)


# -- 6. builtin max/min/sum/abs on arrays ---------------------------------------------

def _max_array(x):
    return max(x)


def _min_array(x):
    return min(x * 2.0)


def _max_two(a, b):
    return max(a, b) * 3.0 + min(a, b)


def _max_list(x):
    return max([x[0], x[1] * 2.0, x[2]])


def _max_key(x):
    return max(x, key=lambda v: -v) + min(x, key=abs)


def _max_default(x):
    return max(x, default=0.0) + max(x[:0], default=x[1])


def _sum_abs(x):
    return sum(x * x) + np.sum(abs(x - 1.0))


def _max_of_rows(m):
    return np.sum(max(m * 1.0))  # rows of shape (1,): compared as numbers


@pytest.mark.parametrize("fn, args", [
    (_max_array, (X,)), (_min_array, (X,)), (_max_two, (0.3, 0.7)),
    (_max_list, (X,)), (_max_key, (X,)), (_max_default, (X,)), (_sum_abs, (X,)),
    (_max_of_rows, (np.array([[0.2], [0.9], [0.4]]),)),
])
def test_builtin_max_min_sum_abs_on_arrays(fn, args):
    check_grads(fn, *args, wrt=tuple(range(len(args))))


def test_builtin_max_over_array_gives_one_hot_at_first_maximum():
    got = sg.grad(_max_array)(np.array([0.5, 1.2, 1.2]))
    np.testing.assert_array_equal(got, [0.0, 1.0, 0.0])


# -- 7. decorators: the wrapper is what is differentiated --------------------------------

def _doubling(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def _forwarding(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@_doubling
def _doubled(x):
    return np.sum(x * x)


@_forwarding
def _scaled(x, y=2.0):
    return np.sum(np.sin(x) * y)


def _calls_decorated(x):
    return _doubled(x) + _scaled(x, y=x)


class _Model:
    @_doubling
    def method(self, x):
        return np.sum(x ** 3)

    @staticmethod
    def static(x):
        return np.sum(x ** 3)

    @classmethod
    def klass(cls, x):
        return np.sum(x ** 3)


def _calls_methods(x):
    m = _Model()
    return m.method(x) + _Model.static(x) + _Model.klass(x)


def test_wrapper_that_changes_the_value_is_differentiated_not_skipped():
    value, grad = sg.value_and_grad(_doubled)(X)
    assert value == pytest.approx(_doubled(X))
    np.testing.assert_allclose(grad, numeric_grad(_doubled, (X,), 0), atol=1e-6)
    check_grads(_doubled, X)


@pytest.mark.parametrize("fn, args, wrt", [
    (_scaled, (X,), 0), (_scaled, (X, 3.0), (0, 1)), (_calls_decorated, (X,), 0),
    (_Model().method, (X,), 0), (_Model.static, (X,), 0), (_Model.klass, (X,), 0),
    (_calls_methods, (X,), 0),
])
def test_decorated_functions_and_methods(fn, args, wrt):
    check_grads(fn, *args, wrt=wrt)


def test_keywords_forwarded_through_kwargs():
    g = sg.grad(_scaled)
    np.testing.assert_allclose(g(X, y=3.0), numeric_grad(lambda x: _scaled(x, y=3.0), (X,), 0),
                               atol=1e-6)
    np.testing.assert_allclose(g(X), numeric_grad(_scaled, (X,), 0), atol=1e-6)


class _DecoratedNet(sg.nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = sg.Parameter(np.array([1.0, 2.0, -0.5]), name="w")

    @_doubling
    def construct(self, x):
        return np.sum(np.sin(x) * self.w)


def test_cell_with_a_decorated_construct_inputs_and_weights():
    net = _DecoratedNet()
    check_grads(net, X)
    check_grads(lambda x: net(x) * 3.0, X)
    w0 = net.w.copy()
    (gw,) = sg.grad(net, grad_position=None, weights=net.trainable_params())(X)

    def with_w(wv):
        net.w[...] = wv
        try:
            return net(X)
        finally:
            net.w[...] = w0
    np.testing.assert_allclose(gw, numeric_grad(with_w, (np.array(w0),), 0), atol=1e-6)
    gx, (gw2,) = sg.grad(lambda x: net(x) * 3.0, weights=net.trainable_params())(X)
    np.testing.assert_allclose(gw2, 3.0 * gw, atol=1e-9)


def _reads_kwargs(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args) * kwargs.get("scale", 1.0)
    return wrapper


@_reads_kwargs
def _kwargs_read(x):
    return np.sum(x)


def test_kwargs_read_otherwise_than_forwarded_is_a_dict():
    # (it was refused; **kwargs is now the dict of the call's extra keywords)
    np.testing.assert_allclose(sg.grad(_kwargs_read)(X), np.ones_like(X))
    np.testing.assert_allclose(sg.grad(_kwargs_read)(X, scale=3.0), 3.0 * np.ones_like(X))


# -- 8. source edited on disk after the function was defined ----------------------------

def _module(tmp_path, text, name="edited"):
    path = os.path.join(str(tmp_path), f"{name}.py")
    return path, load_source(path, textwrap.dedent(text))


@pytest.mark.parametrize("old, new", [("1.01", "10.1"), ("np.sin", "np.cos"), ("x * ", "x + ")])
def test_each_kind_of_edit_is_seen(tmp_path, old, new):
    text = "import numpy as np\n\ndef f(x):\n    return np.sum(np.sin(x) * 1.01 + x * x)\n"
    path, mod = _module(tmp_path, text, name="kinds")
    with open(path, "w") as fh:
        fh.write(text.replace(old, new))
    with pytest.raises(sg.SourcegradError, match="reload the module"):
        sg.grad(mod.f)(X)


def test_source_edited_without_reload_is_refused(tmp_path):
    path, mod = _module(tmp_path, """\
        import numpy as np

        def f(x):
            return np.sum(x * 1.01)
        """)
    with open(path, "w") as fh:
        fh.write("import numpy as np\n\ndef f(x):\n    return np.sum(x * 10.1)\n")
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(mod.f)(X)
    msg = str(info.value)
    assert "reload the module" in msg and path in msg and "line 3" in msg


def test_edit_after_a_derivative_was_cached_is_refused_at_the_next_transformation(tmp_path):
    path, mod = _module(tmp_path, """\
        import numpy as np

        def f(x):
            return np.sum(x * 1.01)
        """, name="cached")
    g = sg.grad(mod.f)
    np.testing.assert_allclose(g(X), numeric_grad(mod.f, (X,), 0), atol=1e-6)
    with open(path, "w") as fh:
        fh.write("import numpy as np\n\n\ndef f(x):\n    return np.sum(x + 10.1)\n")
    with pytest.raises(sg.SourcegradError, match="reload the module"):
        g(np.ones(5))  # a new shape: transformed again, from the text on disk


def test_same_text_rewritten_and_reloaded_module_work(tmp_path):
    text = "import numpy as np\n\ndef f(x):\n    return np.sum(np.sin(x) * 1.01)\n"
    path, mod = _module(tmp_path, text, name="rewritten")
    with open(path, "w") as fh:  # the same text again (a newer mtime)
        fh.write(text)
    check_grads(mod.f, X)
    mod = load_source(path, text.replace("1.01", "3.0"))  # edited and imported again
    check_grads(mod.f, X)
    assert mod.f(X) == pytest.approx(np.sum(np.sin(X) * 3.0))


def _closure_and_globals():
    scale = 1.5
    shift = 0.25

    def inner(x):
        g = lambda t, a=shift: t * scale + a  # noqa: E731
        n = len([scale for _ in range(2)]) + sum(1 for _ in range(3) if shift > 0)
        return np.sum(np.tanh(g(x)) * scale) + _sum_sin(x) * n
    return inner


def test_closures_and_module_functions_are_not_taken_for_edited_source():
    check_grads(_closure_and_globals(), X)
    check_grads(lambda x: np.sum(np.sin(x) * 2.0), X)


# -- 10. crashes: deep elif chains, call chains and recursion ---------------------------

def test_if_elif_chain_of_300_branches(tmp_path):
    lines = ["import numpy as np", "", "def f(x, k):", "    if k == 0:", "        y = x * 0.5"]
    for i in range(1, 300):
        lines += [f"    elif k == {i}:", f"        y = np.sin(x) * {float(i)}"]
    lines += ["    else:", "        y = x", "    return np.sum(y)", ""]
    _, mod = _module(tmp_path, "\n".join(lines), name="elifs")
    limit = sys.getrecursionlimit()
    for k in (0, 150, 299, 400):
        check_grads(lambda x: mod.f(x, k), X)
    assert "elif" in sg.source(sg.grad(mod.f))
    assert sys.getrecursionlimit() == limit  # raised while transforming only


def _elifs(x, k):
    if k == 0:
        y = x * x
    elif k == 1:
        y = np.sin(x) * x
    elif (big := k > 5):
        y = np.exp(x) * 2.0
    else:
        y = x ** 3
    return np.sum(y) + float(big) if k > 1 else np.sum(y)


@pytest.mark.parametrize("k", [0, 1, 3, 7])
def test_elif_chain_differentiated_twice(k):
    """The generated chain assigns its conditions in the tests (``elif (c := ...)``):
    read again by grad of grad, and written so by users."""
    check_grads(lambda x: _elifs(x, k), X)
    check_grads(lambda x: np.sum(sg.grad(_elifs)(x, k)), X)


def test_chain_of_200_nested_calls(tmp_path):
    lines = ["import numpy as np", ""]
    for i in range(1, 200):
        lines += [f"def f{i}(x):", f"    return f{i + 1}(x) * 1.001", ""]
    lines += ["def f200(x):", "    return np.sum(np.sin(x))", ""]
    _, mod = _module(tmp_path, "\n".join(lines), name="chain")
    check_grads(mod.f1, X)


def test_mutual_recursion_through_a_cycle_longer_than_the_nesting_bound(tmp_path):
    lines = ["import numpy as np", ""]
    for i in range(1, 10):
        lines += [f"def g{i}(x, n):", "    if n == 0:", "        return np.sum(np.sin(x))",
                  f"    return g{i + 1}(x * 1.01, n - 1)", ""]
    lines += ["def g10(x, n):", "    if n == 0:", "        return np.sum(np.cos(x))",
              "    return g1(x * 0.99, n - 1)", ""]
    _, mod = _module(tmp_path, "\n".join(lines), name="cycle")
    for n in (0, 5, 23, 95):
        check_grads(lambda x: mod.g1(x, n), X)


def _recursive(x, n):
    if n == 0:
        return np.sum(np.sin(x))
    return _recursive(x * 1.0001, n - 1)


def test_recursion_900_deep_at_run_time():
    check_grads(lambda x: _recursive(x, 900), X)


def _rec_list(xs):
    return 0.0 if not xs else np.sum(xs[0] ** 2) + _rec_list(xs[1:])


def test_recursion_over_a_list_of_arrays():
    xs = [X, np.array([2.0, -1.0])]
    got = sg.grad(_rec_list)(xs)
    assert isinstance(got, list) and len(got) == 2
    for i in range(2):
        expected = numeric_grad(lambda v: _rec_list(xs[:i] + [v] + xs[i + 1:]), (xs[i],), 0)
        np.testing.assert_allclose(got[i], expected, atol=1e-6)


def _list_in_loop(xs):
    s = 0.0
    for i in range(2):
        s = s + np.sum(xs[i] ** 2)
    return s


def test_list_of_arrays_of_different_shapes_read_in_a_loop():
    xs = [X, np.array([2.0, -1.0])]
    got = sg.grad(_list_in_loop)(xs)
    assert isinstance(got, list) and len(got) == 2
    for i in range(2):
        expected = numeric_grad(lambda v: _list_in_loop(xs[:i] + [v] + xs[i + 1:]), (xs[i],), 0)
        np.testing.assert_allclose(got[i], expected, atol=1e-6)


def _exp_sum(v):
    return np.sum(np.exp(v))


def test_third_and_fourth_order_gradients():
    g2 = sg.grad(sg.grad(_exp_sum))
    g3 = sg.grad(g2)
    g4 = sg.grad(g3)
    np.testing.assert_allclose(g3(X), numeric_grad(lambda v: np.sum(g2(v)), (X,), 0),
                               atol=1e-5)
    np.testing.assert_allclose(g4(X), numeric_grad(lambda v: np.sum(g3(v)), (X,), 0),
                               atol=1e-5)


def _with_closure_default():
    w = np.array([1.0, 2.0, 3.0])

    def f(x, w=w):
        return np.sum(np.sin(x) * w)
    return f


def test_closure_default_captured_from_an_enclosing_function():
    f = _with_closure_default()
    check_grads(f, X)
    check_grads(f, X, np.array([0.5, 0.5, 0.5]), wrt=(0, 1))


def _dict_in_loop(params, x):
    h = x
    for _ in range(2):
        h = np.tanh(h @ params["W"] + params["b"])
    return np.sum(h)


def test_dict_of_parameters_read_in_a_loop():
    params = {"W": np.eye(3) * 0.5 + 0.1, "b": np.array([0.1, -0.2, 0.3])}
    got = sg.grad(_dict_in_loop)(params, X)
    assert isinstance(got, dict) and set(got) == {"W", "b"}
    for key in params:
        expected = numeric_grad(lambda v: _dict_in_loop({**params, key: v}, X), (params[key],), 0)
        np.testing.assert_allclose(got[key], expected, atol=1e-6)


@pytest.mark.parametrize("subscripts, sa, sb", [
    ("mnd,mdo->mno", (1, 2, 3), (5, 3, 4)), ("mnd,mdo->mno", (5, 2, 3), (1, 3, 4)),
    ("mnd,mdo->mno", (1, 2, 3), (1, 3, 4)), ("md,md->d", (1, 3), (5, 3)),
    ("md,md->", (4, 3), (1, 3)), ("...nd,...do->...no", (2, 3), (5, 3, 4)),
    ("ij,ij->ij", (1, 3), (4, 1)), ("bij,bjk->bik", (1, 1, 3), (2, 3, 1)),
])
def test_einsum_with_size_one_and_broadcast_indices(subscripts, sa, sb):
    rng = np.random.default_rng(0)
    check_grads(lambda a, b: np.sum(np.sin(np.einsum(subscripts, a, b))),
                rng.normal(size=sa), rng.normal(size=sb), wrt=(0, 1))


def test_sens_param_without_the_sensitivity_says_so():
    with pytest.raises(TypeError) as info:
        sg.grad(lambda x: np.sum(x * x), sens_param=True)(X)
    msg = str(info.value)
    assert "sensitivity is missing" in msg and "missing 1 required" not in msg
    with pytest.raises(TypeError, match="sensitivity is missing"):
        sg.grad(lambda x, y: x * y, sens_param=True)(X, X)
