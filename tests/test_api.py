"""The API contract of docs/api.md, item by item against the behaviour
decisions of docs/behaviour.md (MindSpore's measured behaviour, and where
sourcegrad differs from it)."""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import Parameter, ops

f32 = np.float32
a = np.array([1.0, 2.0], f32)
bb = np.array([3.0, 4.0], f32)
c = np.array([5.0, 6.0], f32)
p1 = Parameter(np.array([1.0, 2.0], f32), name="p1")
p2 = Parameter(np.array([3.0, 4.0, 5.0], f32), name="p2")
p3 = Parameter(np.array([7.0], f32), name="p3_unused")


def f3(x, y, z):
    return np.sum(x * y * z)


def g(x):
    return np.sum(x * p1) + np.sum(p2 * p2)


def h2(x):
    return np.sum(x * bb), x * 10


def h3(x, y):
    return np.sum(x * y), x * 10, y + 1


def same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple), f"expected a tuple, got {type(got).__name__}"
        assert len(got) == len(want), f"expected {len(want)} items, got {len(got)}"
        for x, y in zip(got, want):
            same(x, y)
    elif isinstance(want, str) or isinstance(want, int) and not isinstance(want, bool):
        assert got == want
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6)


# -- grad_position -------------------------------------------------------------------

@pytest.mark.parametrize("pos, want", [
    (0, [15, 24]), (1, [5, 12]), ((1,), ([5, 12],)), ((0, 2), ([15, 24], [3, 8])),
    ((2, 0), ([3, 8], [15, 24])), ((0, 1, 2), ([15, 24], [5, 12], [3, 8])),
])
def test_grad_position_structure(pos, want):
    same(sg.grad(f3, pos)(a, bb, c), want)


def test_default_position_and_dtype():
    got = sg.grad(f3)(a, bb, c)
    assert isinstance(got, np.ndarray) and got.dtype == f32 and got.shape == (2,)
    same(got, [15, 24])


@pytest.mark.parametrize("pos, exc, text", [
    (-1, ValueError, "grad_position=-1 is negative"),
    ((0, -1), ValueError, "negative"),
    (3, ValueError, "grad_position=3 but f3 takes 3 positional arguments (x, y, z)"),
    ((0, 5), ValueError, "grad_position=5 but f3 takes 3"),
    ((0, 0), ValueError, "repeats position 0"),
    ((1, 0, 1), ValueError, "repeats position 1"),
    ([0, 1], TypeError, "got a list"),
    (1.0, TypeError, "must be an int or a tuple"),
    ((0, "1"), TypeError, "must contain ints"),
    ((), ValueError, "asks for no gradient"),
    (None, ValueError, "cannot both be None"),
])
def test_grad_position_refused_up_front(pos, exc, text):
    for make in (sg.grad, sg.value_and_grad):
        with pytest.raises(exc) as info:
            make(f3, pos)
        assert text in str(info.value)


def test_value_and_grad_positions():
    v, gr = sg.value_and_grad(f3)(a, bb, c)
    same(v, 63.0)
    same(gr, [15, 24])
    same(sg.value_and_grad(f3, (1,))(a, bb, c), (63.0, ([5, 12],)))
    same(sg.value_and_grad(f3, (0, 2))(a, bb, c), (63.0, ([15, 24], [3, 8])))


# -- grad_position into *args: positions index the arguments each call passes ------

def weighted_varargs(scale, *terms):
    first, second = terms[0], terms[1]
    total = scale * np.sum(first * np.sin(second))
    for t in terms:
        total = total + np.sum(t * t) * len(terms)
    return total


def product_of_all(*xs):
    u, v = xs
    return np.sum(u * v), np.max(u)


def test_grad_position_into_varargs():
    from sourcegrad.testing import check_grads
    x, y, z = np.linspace(0.1, 0.9, 4), np.linspace(-1.0, 1.0, 4), np.linspace(2.0, 3.0, 4)
    check_grads(lambda *args: np.sum(args[0] * np.cos(args[1])), x, y)
    check_grads(weighted_varargs, 1.5, x, y)
    check_grads(weighted_varargs, 1.5, x, y, z, wrt=(0, 3))
    # the same gradient function, called with more arguments: specialised again
    g = sg.grad(weighted_varargs, (1, 2))
    two, three = g(1.5, x, y), g(1.5, x, y, z)
    assert len(two) == len(three) == 2 and not np.allclose(two[0], three[0])


def test_varargs_value_and_grad_and_aux():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    same(sg.value_and_grad(product_of_all, (0, 1), has_aux=True)(x, y),
         ((1.0, 2.0), (y, x)))
    same(sg.grad(product_of_all, 1, has_aux=True)(x, y), (x, (2.0,)))


def test_varargs_position_beyond_the_call_refused():
    g = sg.grad(weighted_varargs, (0, 3))
    with pytest.raises(ValueError) as info:
        g(1.0, a, bb)
    assert "grad_position=3 but weighted_varargs takes 1 positional argument (scale) " \
           "and *terms, and was called with 3" in str(info.value)


def test_keyword_arguments_at_call():
    same(sg.grad(f3, (0, 2))(a, bb, z=c), ([15, 24], [3, 8]))
    same(sg.grad(f3, 0)(x=a, y=bb, z=c), [15, 24])
    same(sg.grad(f3, 1)(a, y=bb, z=c), [5, 12])


def test_not_callable():
    with pytest.raises(TypeError, match="callable"):
        sg.grad(3)


def test_flags_must_be_bool():
    with pytest.raises(TypeError, match="has_aux must be True or False"):
        sg.grad(h2, 0, has_aux=1)
    with pytest.raises(TypeError, match="return_ids must be True or False"):
        sg.grad(f3, 0, return_ids=1)


# -- weights -------------------------------------------------------------------------

@pytest.mark.parametrize("weights, want", [
    (p1, [1, 2]), ([p1], ([1, 2],)), ([p1, p2], ([1, 2], [6, 8, 10])),
    ((p1, p2), ([1, 2], [6, 8, 10])), ([p2, p1], ([6, 8, 10], [1, 2])),
    ([p1, p3], ([1, 2], [0])), (p3, [0]), ([], ()), ((), ()),
    ([p1, p1], ([1, 2], [1, 2])),
])
def test_weights_structure(weights, want):
    same(sg.grad(g, None, weights=weights)(a), want)


def test_positions_and_weights():
    same(sg.grad(g, 0, weights=[p1, p2])(a), ([1, 2], ([1, 2], [6, 8, 10])))
    same(sg.grad(g, (0,), weights=[p1, p2])(a), (([1, 2],), ([1, 2], [6, 8, 10])))
    same(sg.grad(g, 0, weights=p1)(a), ([1, 2], [1, 2]))
    same(sg.grad(f3, (0, 2), weights=[p1])(a, bb, c), (([15, 24], [3, 8]), ([0, 0],)))
    same(sg.value_and_grad(g, None, weights=p1)(a), (55.0, [1, 2]))
    same(sg.value_and_grad(g, 0, weights=[p1, p2])(a),
         (55.0, ([1, 2], ([1, 2], [6, 8, 10]))))


def test_weight_gradients_are_plain_arrays_and_weights_unchanged():
    before = p1.copy()
    gw = sg.grad(g, None, weights=[p1])(a)[0]
    assert type(gw) is np.ndarray and gw.dtype == f32
    np.testing.assert_array_equal(p1, before)


def test_parameter_as_argument_and_weight():
    def gp(x, q):
        return np.sum(x * q * q)
    same(sg.grad(gp, 1, weights=p1)(a, p1), ([2, 8], [2, 8]))
    same(sg.grad(gp, (0, 1), weights=[p1])(a, p1), (([1, 4], [2, 8]), ([2, 8],)))


def test_parameter_passed_by_keyword_and_weight():
    # d/dq sum(x * q * q) = 2 x q = [2, 8]: the weight's gradient, however q is passed
    def gp(x, q):
        return np.sum(x * q * q)
    same(sg.grad(gp, 1, weights=p1)(a, q=p1), ([2, 8], [2, 8]))
    same(sg.grad(gp, None, weights=[p1])(a, q=p1), ([2, 8],))
    same(sg.value_and_grad(gp, None, weights=p1)(x=a, q=p1), (9.0, [2, 8]))


def test_frozen_parameter_gets_zeros():
    frozen = Parameter(np.array([1.0, 2.0], f32), name="frozen", requires_grad=False)

    def gn(x):
        return np.sum(x * frozen) + np.sum(p1 * p1)
    same(sg.grad(gn, None, weights=[frozen, p1])(a), ([0, 0], [2, 4]))


@pytest.mark.parametrize("bad", [np.array([1.0]), [p1, np.array([1.0])], {"a": p1}])
def test_weights_refused(bad):
    with pytest.raises(TypeError, match="Parameter"):
        sg.grad(g, None, weights=bad)


# -- has_aux ---------------------------------------------------------------------------

def test_has_aux():
    grads, aux = sg.grad(h2, 0, has_aux=True)(a)
    same(grads, [3, 4])
    same(aux, ([10, 20],))
    same(sg.grad(h3, (0, 1), has_aux=True)(a, bb), (([3, 4], [1, 2]), ([10, 20], [4, 5])))
    same(sg.value_and_grad(h2, 0, has_aux=True)(a), ((11.0, [10, 20]), [3, 4]))
    same(sg.value_and_grad(h3, (0, 1), has_aux=True)(a, bb),
         ((11.0, [10, 20], [4, 5]), ([3, 4], [1, 2])))


def test_has_aux_needs_two_outputs():
    def h1(x):
        return np.sum(x * x)

    def h1t(x):
        return (np.sum(x * x),)
    for fn in (h1, h1t):
        with pytest.raises(ValueError, match="at least two"):
            sg.grad(fn, 0, has_aux=True)(a)


@pytest.mark.parametrize("api", [sg.grad, sg.value_and_grad])
def test_has_aux_needs_two_outputs_when_no_gradient_flows_from_the_output(api):
    # the single output does not depend on x (and is computed by a method call, which
    # the transformer cannot see is not a tuple): still refused, not sliced as aux
    def h(x, y):
        out = (y * 2).sum()
        return out
    with pytest.raises(ValueError, match="at least two"):
        api(h, 0, has_aux=True)(a, bb)


@pytest.mark.parametrize("api", [sg.grad, sg.value_and_grad])
def test_has_aux_with_sens_param_seeds_the_first_output(api):
    # was an IndexError (the seed indexed as if it were one per output)
    def hx(x):
        return np.sum(x * x), x

    def hr(x):
        r = (np.sum(x * x), x)
        return r
    for fn in (hx, hr):
        got = api(fn, 0, has_aux=True, sens_param=True)(a, f32(3.0))
        want = ([6, 12], ([1, 2],)) if api is sg.grad else ((5.0, [1, 2]), [6, 12])
        same(got, want)


def test_has_aux_with_weights():
    def hw(x):
        return np.sum(x * p1), x * 2
    same(sg.grad(hw, 0, weights=p1, has_aux=True)(a), (([1, 2], [1, 2]), ([2, 4],)))


# -- outputs without aux ------------------------------------------------------------------

def test_dict_output_seeds_every_value():
    # docs/behaviour.md 4.10: a dict output's values are seeded with ones, like a tuple's
    # (was a zero gradient)
    def nd(x):
        return {"s": np.sum(x * bb), "v": x * x}

    def nested(x):
        d = {"a": {"b": x * 2}, "c": x}
        return d
    same(sg.grad(nd)(a), [5, 8])
    value, grads = sg.value_and_grad(nd)(a)
    same((value["s"], value["v"], grads), (11.0, [1, 4], [5, 8]))
    same(sg.grad(nested)(a), [3, 3])


def test_non_scalar_and_tuple_outputs_are_seeded_with_ones():
    same(sg.grad(lambda x, y: x * y)(a, bb), [3, 4])
    same(sg.grad(lambda x: (np.sum(x * bb), x * x))(a), [5, 8])
    same(sg.grad(lambda x: [x * bb, x])(a), [4, 5])
    same(sg.grad(lambda x: ((x * x).sum(), 3))(a), [2, 4])
    same(sg.grad(lambda x: (x.sum(), x.astype(np.int32)))(a), [1, 1])


def test_outputs_without_gradient_give_zeros():
    same(sg.grad(lambda x: bb * 2)(a), [0, 0])
    same(sg.grad(lambda x: None)(a), [0, 0])
    same(sg.grad(lambda x: 3.0)(a), [0, 0])
    same(sg.grad(lambda x, z: np.sum(x * x), (0, 1))(a, np.zeros((1, 3), f32)),
         ([2, 4], [[0, 0, 0]]))


def test_sens_param():
    same(sg.grad(lambda x, y: x * y, 0, sens_param=True)(a, bb, np.array([1.0, 2.0], f32)),
         [3, 8])


# -- return_ids --------------------------------------------------------------------------

def test_return_ids():
    same(sg.grad(f3, (1, 2), return_ids=True)(a, bb, c), ((1, [5, 12]), (2, [3, 8])))
    same(sg.grad(f3, 0, return_ids=True)(a, bb, c), (0, [15, 24]))
    same(sg.grad(g, None, weights=[p1, p2], return_ids=True)(a),
         (("p1", [1, 2]), ("p2", [6, 8, 10])))
    same(sg.grad(g, None, weights=p1, return_ids=True)(a), ("p1", [1, 2]))
    same(sg.grad(g, 0, weights=[p1, p2], return_ids=True)(a),
         ((0, [1, 2]), (("p1", [1, 2]), ("p2", [6, 8, 10]))))


# -- stop_gradient ---------------------------------------------------------------------

def test_stop_gradient_identity():
    np.testing.assert_array_equal(sg.stop_gradient(a), a)
    assert ops.stop_gradient is sg.stop_gradient


def test_stop_gradient_cuts_statically():
    same(sg.grad(lambda x: sg.stop_gradient(np.sum(x * x)))(a), [0, 0])
    same(sg.grad(lambda x: np.sum(x * sg.stop_gradient(x)))(a), [1, 2])
    same(sg.grad(lambda x: np.sum(sg.stop_gradient(sg.stop_gradient(x) * 2) + x * 3))(a),
         [3, 3])
    same(sg.grad(lambda x: (np.sum(x * x), sg.stop_gradient(x * 5)))(a), [2, 4])
    g_ = sg.grad(lambda x: np.sum(x * sg.stop_gradient(x)))
    assert "dstop_gradient" not in sg.source(g_)


def _inner_stop(x):
    return sg.stop_gradient(x * x) + x


def test_stop_gradient_in_called_function():
    same(sg.grad(lambda x: np.sum(_inner_stop(x)))(a), [1, 1])


# -- input types -------------------------------------------------------------------------

def test_dtype_follows_input():
    for dt in (np.float16, np.float32, np.float64):
        got = sg.grad(lambda x, y: np.sum(x * x * y))(a.astype(dt), bb)
        assert got.dtype == dt


def test_python_float_input_gets_float():
    got = sg.grad(lambda x, s: np.sum(x * s), (0, 1))(a, 2.0)
    assert isinstance(got[1], float) and got[1] == 3.0
    same(got[0], [2, 2])


def test_scalar_array():
    got = sg.grad(lambda x: x * x)(np.array(3.0, f32))
    assert got.shape == () and got == 6.0


def test_fn_runs_once_per_call():
    calls = []

    def f(x):
        calls.append(1)
        return np.sum(x * x)
    sg.grad(f)(a)
    assert len(calls) == 1
    sg.value_and_grad(f)(a)
    assert len(calls) == 2


def test_same_grad_fn_twice():
    gf = sg.grad(f3, (0, 1))
    same(gf(a, bb, c), gf(a, bb, c))


def test_exception_inside_propagates():
    def f(x):
        raise KeyError("boom")
    with pytest.raises(KeyError):
        sg.grad(f)(a)


def _power_of_negative(a, b):
    return a ** b  # Python floats: a negative base gives a complex number


def test_float_input_with_complex_result_gets_real_gradient():
    # the convention of the complex rules (as in HIPS autograd): a real input's
    # adjoint is the real part of the complex one
    g = sg.grad(_power_of_negative, (0, 1))(-0.5, 0.3)
    assert all(type(v) is float for v in g)
    want = 0.3 * (-0.5 + 0j) ** (0.3 - 1)
    assert abs(g[0] - want.real) < 1e-12


# -- grad of a function with a derivative rule but no Python source (np.sin) ----------

def test_grad_of_a_function_with_a_rule():
    from sourcegrad.testing import check_grads
    x, y = np.linspace(-1.0, 1.0, 5), np.linspace(0.5, 2.0, 5)
    assert sg.grad(np.sin)(1.0) == pytest.approx(np.cos(1.0))
    assert isinstance(sg.grad(np.sin)(1.0), float)
    check_grads(np.tanh, x)                  # a non-scalar output: seeded with ones
    check_grads(np.multiply, x, y)
    check_grads(np.arctan2, x, y)
    check_grads(ops.sigmoid, x)
    check_grads(np.sum, x.reshape(5, 1) * y)
    check_grads(np.linalg.det, np.array([[2.0, 0.5], [0.3, 1.5]]))
    same(sg.grad(np.clip)(x, -0.5, 0.5), [0.0, 1.0, 1.0, 1.0, 0.0])
    same(sg.value_and_grad(np.exp)(0.0), (1.0, 1.0))
    assert sg.grad(sg.grad(np.sin))(1.0) == pytest.approx(-np.sin(1.0))
    assert "def sin(x)" not in sg.source(sg.grad(np.sin))  # the derivative, not the wrapper
    assert "np.cos(x)" in sg.source(sg.grad(np.sin))


def test_grad_of_a_function_without_source_or_rule_refused():
    import math
    with pytest.raises(TypeError, match="gamma.*register a derivative rule"):
        sg.grad(math.gamma)


# --------------------------------------------------------------------------
# ops.GradOperation and get_grad (MindSpore's older and id-based APIs)
# --------------------------------------------------------------------------
from sourcegrad import nn  # noqa: E402


class AffineWB(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([6.0], f32), name="w")
        self.b = Parameter(np.array([1.0], f32), name="b")

    def construct(self, x, y):
        return self.w * x * y + self.b


def test_grad_operation_structures():
    net = AffineWB()
    x, y = np.array([100.0], f32), np.array([2.0], f32)
    dx = ops.GradOperation()(net)(x, y)
    assert isinstance(dx, np.ndarray)
    np.testing.assert_allclose(dx, [12.0])
    both = ops.GradOperation(get_all=True)(net)(x, y)
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[1], [600.0])
    ws = ops.GradOperation(get_by_list=True)(net, sg.ParameterTuple(net.trainable_params()))(x, y)
    assert isinstance(ws, tuple)
    np.testing.assert_allclose(ws[0], [200.0])
    np.testing.assert_allclose(ws[1], [1.0])
    ins, ws = ops.GradOperation(get_all=True, get_by_list=True)(net, net.trainable_params())(x, y)
    assert len(ins) == 2 and len(ws) == 2
    sens = ops.GradOperation(sens_param=True)(net)(x, y, np.array([0.1], f32))
    np.testing.assert_allclose(sens, [1.2], rtol=1e-6)
    # get_by_list without weights: the Cell's trainable parameters
    np.testing.assert_allclose(ops.GradOperation(get_by_list=True)(net)(x, y)[0], [200.0])


def test_grad_operation_get_all_with_varargs():
    def f(*xs):
        return np.sum(xs[0] * xs[1])
    ga, gb = ops.GradOperation(get_all=True)(f)(a, bb)
    np.testing.assert_allclose(ga, bb)
    np.testing.assert_allclose(gb, a)


def test_grad_operation_checks_flags():
    with pytest.raises(TypeError, match="get_all"):
        ops.GradOperation(get_all=1)
    with pytest.raises(TypeError, match="weights"):
        ops.GradOperation(get_by_list=True)(f3)


def test_get_grad_by_position_and_parameter():
    net = AffineWB()
    x, y = np.array([100.0], f32), np.array([2.0], f32)
    res = sg.grad(net, (0, 1), net.trainable_params(), return_ids=True)(x, y)
    np.testing.assert_allclose(sg.get_grad(res, 1), [600.0])
    np.testing.assert_allclose(ops.get_grad(res, net.b), [1.0])
    with pytest.raises(RuntimeError, match="position 2"):
        sg.get_grad(res, 2)
    with pytest.raises(TypeError):
        sg.get_grad(res, "w")


class _NoInputNet(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([6.0], f32), name="w")
        self.b = Parameter(np.array([2.0], f32), name="b")

    def construct(self):
        return self.w * self.b


def test_grad_operation_of_a_cell_without_inputs():
    # MindSpore (test_grad_return_type): () for the inputs, paired with the weights'
    net = _NoInputNet()
    assert ops.GradOperation()(net)() == ()
    assert ops.GradOperation(get_all=True)(net)() == ()
    ins, ws = ops.GradOperation(get_all=True, get_by_list=True)(net, net.trainable_params())()
    assert ins == ()
    np.testing.assert_allclose(ws[0], [2.0])
    np.testing.assert_allclose(ws[1], [6.0])
    ins, w_only = ops.GradOperation(get_all=True, get_by_list=True)(net, net.w)()
    assert ins == () and isinstance(w_only, np.ndarray)


def _vararg_product(*xs):
    return np.sum(xs[0] * xs[1])


def _grad_of_vararg_inside(a, b):
    ga, gb = sg.grad(_vararg_product, (0, 1))(a, b)
    return np.sum(ga * gb)


def test_vararg_positions_inside_differentiated_code_are_refused_with_the_place():
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(_grad_of_vararg_inside, (0, 1))(np.ones(2), np.ones(2))
    msg = str(info.value)
    assert "*args inside differentiated code" in msg and "test_api.py" in msg \
        and "def _vararg_product(*xs):" in msg


def test_matrix_inputs_are_refused():
    """np.matrix's * is a matrix product: the derivative's rules would not follow it.
    Refused, also after a call with a plain array of the same shape (the cache)."""
    def f(x, y):
        return np.sum(x * y)
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = sg.grad(f)
    np.testing.assert_allclose(g(a, a), a)
    np.testing.assert_allclose(g(a, a), a)  # (the fast path made)
    for call in (lambda: g(np.matrix(a), a), lambda: sg.value_and_grad(f)(a, np.matrix(a)),
                 lambda: sg.jvp(f, (np.matrix(a), a), (a, a)),
                 lambda: sg.jacrev(f)(np.matrix(a), a)):
        with pytest.raises(TypeError, match="np.matrix"):
            call()
