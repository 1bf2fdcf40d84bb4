"""Calls to user functions: transformed recursively, to any depth."""
import inspect
import math

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

X = np.array([0.3, -0.8, 1.4])
W = np.array([1.2, 0.5, -0.7])


# -- helpers, depth and reuse ----------------------------------------------------------

def sq(v):
    return v * v


def level3(v):
    return np.sin(v) * v


def level2(v, w):
    return level3(v * w) + sq(w)


def level1(v, w):
    return np.exp(level2(v, w) * 0.1)


def depth3(x, w):
    return np.sum(level1(x, w))


def same_helper_twice(x):
    return np.sum(sq(x) + sq(np.sin(x)))


def helper_result_reused(x):
    y = sq(x)
    return np.sum(y * sq(y))


def helper_with_branch(v):
    if np.sum(v) > 0:
        return v * 2.0
    return v * v


def calls_helper_with_branch(x):
    return np.sum(helper_with_branch(x) + helper_with_branch(-x * 0.5))


def helper_with_loop(v, n):
    for i in range(n):
        v = np.tanh(v) + 0.1 * v
    return v


def calls_helper_with_loop(x):
    return np.sum(helper_with_loop(x, 3) * helper_with_loop(x * 2.0, 2))


def helper_local_names(a, b):
    tmp = a * b
    out = tmp + a
    return out


def caller_with_same_names(x, w):
    # the caller uses the helper's local names too
    tmp = helper_local_names(x, w)
    out = helper_local_names(tmp, x)
    return np.sum(out)


def test_helpers_to_depth_three():
    check_grads(depth3, X, W)


def test_same_helper_called_twice():
    check_grads(same_helper_twice, X)


def test_helper_result_reused():
    check_grads(helper_result_reused, X)


@pytest.mark.parametrize("x", [np.array([0.5, 0.7]), np.array([-0.5, -0.7])])
def test_helper_with_branch(x):
    check_grads(calls_helper_with_branch, x)


def test_helper_with_loop():
    check_grads(calls_helper_with_loop, X)


def test_helper_locals_do_not_clash():
    check_grads(caller_with_same_names, X, W)


# -- keyword arguments, defaults, *args --------------------------------------------------

def scaled(v, scale=2.0, shift=0.0):
    return v * scale + shift


def kw_call(x, w):
    return np.sum(scaled(x, shift=w) * scaled(w, scale=x))


def default_call(x):
    return np.sum(scaled(x) ** 2)


def kw_only(v, *, power=2):
    return v ** power


def kw_only_call(x):
    return np.sum(kw_only(x, power=3) + kw_only(x))


def kw_reordered(x, w):
    return np.sum(scaled(shift=x, scale=w, v=x * w))


def three(a, b, c):
    return a * b + c


def star_args_call(x, w):
    args = (x, w, x * w)
    return np.sum(three(*args))


def star_args_list_call(x, w):
    return np.sum(three(*[w, x], np.sin(x)))


def varargs_helper(*vs):
    total = 0.0
    for v in vs:
        total = total + np.sum(v * v)
    return total


def calls_varargs(x, w):
    return varargs_helper(x, w, x * w)


def kwargs_helper(v, **opts):
    return v * opts["scale"]


def calls_kwargs(x):
    return np.sum(kwargs_helper(x, scale=3.0))


def star_star_call(x, w):
    opts = {"scale": w, "shift": x}
    return np.sum(scaled(x, **opts))


def test_keyword_arguments_at_call_site():
    check_grads(kw_call, X, W)


def test_defaults_filled_in():
    check_grads(default_call, X)


def test_keyword_only_parameter():
    check_grads(kw_only_call, X)


def test_all_keywords_reordered():
    check_grads(kw_reordered, X, W)


def _refusal(fn, construct, line_text, *args, where=None, wrt=0):
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(fn, wrt)(*args)
    msg = str(info.value)
    assert construct in msg
    assert "test_calls.py" in msg
    lines, start = inspect.getsourcelines(where or fn)
    lineno = start + next(k for k, ln in enumerate(lines) if line_text in ln)
    assert f"line {lineno}" in msg
    assert line_text in msg
    return msg


def test_star_args_from_tuple():
    check_grads(star_args_call, X, W)


def test_star_args_from_list_plus_positional():
    check_grads(star_args_list_call, X, W)


def forwards_varargs(*args):
    return varargs_helper(*args) + three(args[0] * 2.0, *args[1:]).sum()


def held_varargs(x, w):
    helpers = [varargs_helper]
    return helpers[0](w, x * w)


def test_gradient_through_a_varargs_parameter():
    check_grads(calls_varargs, X, W)          # a call with the items written out
    check_grads(forwards_varargs, X, W, X)    # *args passed on (known at run time)
    check_grads(held_varargs, X, W)           # a callee resolved at run time


def kwargs_shadowed(v, **opts):
    scale = 2.0
    return np.sum(v * scale * opts["scale"])


def test_kwargs_parameter_read_as_a_dict():
    check_grads(calls_kwargs, X)     # the callee reads opts["scale"]
    assert np.allclose(sg.grad(kwargs_helper)(X, scale=3.0), 3.0)
    with pytest.raises(KeyError):    # as the function itself does
        sg.grad(kwargs_helper)(X)


def test_kwargs_named_like_a_variable_refused_clearly():
    with pytest.raises(sg.SourcegradError, match="'scale' passed into \\*\\*opts"):
        sg.grad(kwargs_shadowed)(X, scale=3.0)


def test_double_star_call_refused_clearly():
    _refusal(star_star_call, "**kwargs in a call", "return np.sum(scaled(x, **opts))", X, W)


# -- functions as values -----------------------------------------------------------------

def apply(f, v):
    return f(v)


def function_in_variable(x):
    f = level3
    return np.sum(f(x) + f(x * 2.0))


def function_passed_as_argument(x):
    return np.sum(apply(sq, x) + apply(np.tanh, x))


def pick(flag):
    return sq if flag else level3


def function_chosen_by_constant(x):
    f = sq
    g = level3
    return np.sum(f(g(x)) + g(f(x)))


def ufunc_in_variable_tanh(x):
    g = np.tanh
    return np.sum(g(x))


def ufunc_in_variable_sin(x):
    g = np.sin
    return np.sum(g(x))


def loop_over_functions(x):
    acc = 0.0
    for f in (sq, level3, np.exp):
        acc = acc + np.sum(f(x))
    return acc


def test_function_in_variable():
    check_grads(function_in_variable, X)


def test_function_passed_as_argument():
    check_grads(function_passed_as_argument, X)


def test_function_composed_through_variables():
    check_grads(function_chosen_by_constant, X)


def test_ufuncs_held_in_variables_do_not_share_a_derivative():
    sg.grad(ufunc_in_variable_tanh)(X)
    g = sg.grad(ufunc_in_variable_sin)(X)
    np.testing.assert_allclose(g, np.cos(X))


def test_ufunc_held_in_variable():
    check_grads(ufunc_in_variable_tanh, X)


def helper_in_loop(x):
    acc = 0.0
    for i in range(2):
        acc = acc + np.sum(sq(x) * (i + 1.0))
    return acc


def helper_in_while(x):
    y = x
    while np.sum(y) < 4.0:
        y = level3(y) + 1.0
    return np.sum(y)


def method_in_loop(x):
    y = x
    for i in range(3):
        y = SC.apply(y) * 0.5
    return np.sum(y)


def test_helper_called_inside_for_loop():
    check_grads(helper_in_loop, X)


def test_helper_called_inside_while_loop():
    check_grads(helper_in_while, np.array([0.2, 0.4]))


def test_method_called_inside_loop():
    check_grads(method_in_loop, X)


def test_loop_over_tuple_of_functions():
    check_grads(loop_over_functions, X)


def outer_takes_fn(f, x):
    return np.sum(f(x) * x)


def test_grad_wrt_array_when_function_is_an_argument():
    check_grads(outer_takes_fn, sq, X, wrt=1)


# -- recursion ---------------------------------------------------------------------------

def power_rec(v, n):
    if n == 0:
        return v * 0.0 + 1.0
    return v * power_rec(v, n - 1)


def calls_recursion(x):
    return np.sum(power_rec(x, 3))


def shrink_rec(v):
    if np.max(np.abs(v)) < 1.0:
        return v * v
    return shrink_rec(v * 0.5) + v


def calls_data_recursion(x):
    return np.sum(shrink_rec(x))


def _recursion_result(fn, x):
    """Either a correct gradient, or a clear refusal naming the recursion."""
    try:
        g = sg.grad(fn)(x)
    except sg.SourcegradError as e:
        msg = str(e)
        assert "recurs" in msg.lower()
        assert "test_calls.py" in msg and "line " in msg
        return None
    want = check_grads(fn, x)[0]
    np.testing.assert_allclose(g, want)
    return g


def test_recursion_bounded_by_integer_argument():
    _recursion_result(calls_recursion, X)


@pytest.mark.parametrize("x", [np.array([0.5, 0.2]), np.array([3.0, -5.0])])
def test_recursion_bounded_by_data(x):
    _recursion_result(calls_data_recursion, x)


def test_recursion_gradient_supported():
    # recursion bounded by data is supported (docs/api.md, What fn may contain)
    check_grads(calls_data_recursion, np.array([3.0, -5.0]))


# -- methods of plain classes --------------------------------------------------------------

class Scaler:
    def __init__(self, w):
        self.w = w

    def apply(self, v):
        return v * self.w + np.sin(v)

    def twice(self, v):
        return self.apply(self.apply(v))


class Poly:
    def __init__(self, coeffs):
        self.coeffs = coeffs

    def __call__(self, v):
        acc = v * 0.0
        for c in self.coeffs:
            acc = acc * v + c
        return acc


SC = Scaler(np.array([0.5, -1.5, 2.0]))
PO = Poly([0.5, -1.0, 2.0])


def method_call(x):
    return np.sum(SC.apply(x))


def method_calls_method(x):
    return np.sum(SC.twice(x))


def dunder_call(x):
    return np.sum(PO(x))


def object_passed_in(s, x):
    return np.sum(s.apply(x) * x)


def object_built_inside(x, w):
    s = Scaler(w)
    return np.sum(s.apply(x))


def bound_method_in_variable(x):
    f = SC.apply
    return np.sum(f(x) * f(x))


def test_method_of_module_level_instance():
    check_grads(method_call, X)


def test_method_calls_another_method():
    check_grads(method_calls_method, X)


def test_dunder_call_instance():
    check_grads(dunder_call, X)


def test_instance_passed_as_argument():
    check_grads(object_passed_in, SC, X, wrt=1)


def test_instance_built_inside_differentiated_code_refused():
    # Tangent returns a silently zero gradient here; sourcegrad must refuse (or be right)
    msg = _refusal(object_built_inside, "Scaler", "s = Scaler(w)", X, W, wrt=(0, 1))
    assert "Scaler" in msg


def test_bound_method_in_variable():
    check_grads(bound_method_in_variable, X)


# -- things without source -----------------------------------------------------------------

def calls_builtin_without_rule(x):
    return np.sum(x) + float(np.linalg.slogdet(np.outer(x, x) + np.eye(3))[1])


def calls_c_function(x):
    return math.gamma(np.sum(x * x))


def test_function_without_source_or_rule_is_named():
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(calls_c_function)(X)
    msg = str(info.value)
    assert "gamma" in msg
    assert "test_calls.py" in msg
    line = inspect.getsourcelines(calls_c_function)[1] + 1
    assert f"line {line}" in msg
    assert "register" in msg.lower() or "rule" in msg.lower()


# -- lambdas in one statement, each on its own line ------------------------------------------

LAMBDA_TABLE = [lambda x, w: np.sum(x * w),
                lambda x, w: np.sum(x * w * w),
                lambda x, w: np.sum(x - w)]


def test_lambdas_on_separate_lines_of_one_statement():
    for f in LAMBDA_TABLE:
        check_grads(f, X, W)


# -- in-place updates of what a call returned --------------------------------------------
# A call may hand back one of its arguments, or one array twice; `+=` on the result
# then changes the other name too (Python semantics), which per-name adjoints would
# miss: refused unless every return of the callee makes new values.

def _same(v):
    return v


def _twice(x):
    v = np.sin(x)
    return v, v


def _twice_by_another_name(x):
    v = np.sin(x)
    w = v
    return v, w


def _fresh_step(x, h):
    new = np.tanh(x + h)
    return new


def updates_what_identity_returned(x, z):
    y = _same(x)
    y -= z
    return np.sum(x * y)


def updates_one_of_a_pair(x, z):
    a, b = _twice(x)
    b -= z * a
    return np.sum(a)


def updates_one_of_a_renamed_pair(x, z):
    a, b = _twice_by_another_name(x)
    b -= z * a
    return np.sum(a)


def updates_an_item_of_a_tuple(x, z):
    a = np.sin(x)
    t = (a, a)
    p, q = t
    q -= z
    return np.sum(p)


def updates_a_copy_of_a_copy(x, z):
    a = np.sin(x)
    b = a
    c = b
    c += z
    return np.sum(a)


@pytest.mark.parametrize("fn", [updates_what_identity_returned, updates_one_of_a_pair,
                                updates_one_of_a_renamed_pair, updates_an_item_of_a_tuple])
def test_in_place_update_of_a_possibly_shared_result_is_refused(fn):
    with pytest.raises(sg.SourcegradError, match="may share its array"):
        sg.grad(fn, (0, 1))(X.copy(), X[::-1].copy())


def test_in_place_update_of_a_copy_of_a_copy_is_seen_by_the_first():
    # c = b = a on every path: a and b are bound again after c += z (docs/behaviour.md
    # 12.16), as NumPy computes
    value, _ = sg.value_and_grad(updates_a_copy_of_a_copy, (0, 1))(X.copy(), X[::-1].copy())
    assert np.allclose(value, updates_a_copy_of_a_copy(X.copy(), X[::-1].copy()))
    check_grads(updates_a_copy_of_a_copy, X.copy(), X[::-1].copy())


def updates_a_fresh_result(x, h):
    for _ in range(2):
        h = _fresh_step(x, h)
        h += 0.5 * x  # _fresh_step makes a new array: x is untouched
    return np.sum(h * x)


def test_in_place_update_of_a_fresh_result_is_differentiated():
    check_grads(updates_a_fresh_result, X, X[::-1].copy())


# shapes unpacked into a rule's own *args (API fuzz: x.reshape(*x.shape[:-1], 2, -1)
# was refused)

def reshape_unpacked_shape(x):
    y = x.reshape(*x.shape[:-1], 2, -1)
    return np.sum(np.sin(y) * np.arange(12.0).reshape(y.shape))


def transpose_unpacked_axes(x):
    perm = (1, 0)
    return np.sum(x.transpose(*perm) @ x)


def test_unpacked_inactive_arguments_of_a_rule():
    from sourcegrad.testing import check_grads
    x = np.linspace(-1.0, 1.2, 12).reshape(3, 4)
    check_grads(reshape_unpacked_shape, x)
    check_grads(transpose_unpacked_axes, x)


# a method of an argument that carries no gradient, called on one that does (API fuzz
# seed 2048: y.dot(x) with only x differentiated found no rule for the bound method)

def inactive_receiver_dot(x, y):
    return np.sum(np.sin(y.dot(x)))


def test_method_of_an_inactive_array_on_an_active_argument():
    from sourcegrad.testing import check_grads
    x = np.linspace(-1.0, 1.2, 12).reshape(3, 4)
    y = np.linspace(0.5, -0.7, 12).reshape(4, 3)
    check_grads(inactive_receiver_dot, x, y, wrt=0)
    check_grads(inactive_receiver_dot, x, y, wrt=1)
