"""Tuples and lists as values: build, unpack, index, len, append, stack, comprehensions."""
import copy
import functools
import itertools
import math
import operator

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

X = np.array([0.3, -0.8, 1.4])
W = np.array([1.2, 0.5, -0.7])


def tuple_build_index(x, w):
    t = (x * w, np.sin(x), w)
    return np.sum(t[0] * t[1] + t[2] * t[-1])


def tuple_unpack(x, w):
    a, b = x * w, x + w
    return np.sum(a * b)


def tuple_swap(x, w):
    a, b = x, w
    a, b = b * 2.0, a
    return np.sum(a * np.exp(b))


def nested_unpack(x, w):
    (a, b), c = (x, w * w), np.sin(x)
    return np.sum(a * b * c)


def starred_unpack(x, w):
    first, *rest = [x, w, x * w]
    return np.sum(first * rest[0] * rest[1])


def list_build_index(x, w):
    xs = [x, w, x * w]
    return np.sum(xs[2] * xs[0]) + np.sum(xs[-2])


def list_len(x):
    xs = [x, x * 2.0, x * 3.0]
    acc = 0.0
    for i in range(len(xs)):
        acc = acc + np.sum(xs[i] ** 2) / len(xs)
    return acc


def list_append_stack(x):
    rows = []
    for i in range(4):
        rows.append(x * (i + 1.0) + np.sin(x))
    return np.sum(np.stack(rows) ** 2)


def list_append_carry(x):
    hs = []
    h = x
    for i in range(3):
        h = np.tanh(h * 1.5 + x)
        hs.append(h)
    return np.sum(np.stack(hs, axis=1) * np.arange(1.0, 4.0))


def list_append_concat(x, w):
    parts = []
    for i in range(3):
        parts.append(x[i:] * w[: 3 - i])
    return np.sum(np.concatenate(parts) ** 2)


def list_append_then_sum_loop(x):
    parts = []
    for i in range(3):
        parts.append(np.exp(x * i))
    acc = 0.0
    for p in parts:
        acc = acc + np.sum(p)
    return acc


def list_comprehension_range(x):
    ys = [x ** k for k in range(1, 4)]
    return np.sum(np.stack(ys))


def list_comprehension_over_list(x, w):
    ys = [np.sin(v) * w for v in [x, w, x * w]]
    return np.sum(ys[0] + ys[1] * ys[2])


def list_comprehension_sum(x):
    return sum([np.sum(x * k) for k in range(3)])


def comprehension_with_condition(x):
    ys = [x * k for k in range(5) if k % 2 == 1]
    return np.sum(np.stack(ys) ** 2)


def pair_helper(v):
    return v * v, np.cos(v)


def triple_helper(v, w):
    return v + w, v * w, np.sin(v)


def helper_tuple_unpacked(x):
    a, b = pair_helper(x)
    return np.sum(a * b)


def helper_tuple_indexed(x):
    t = pair_helper(x)
    return np.sum(t[0] + t[1] * t[0])


def helper_triple_partial_use(x, w):
    s, p, _ = triple_helper(x, w)
    return np.sum(s * p)


def helper_tuple_passed_on(x, w):
    t = triple_helper(x, w)
    a, b, c = t
    return np.sum(a * c) + np.sum(b)


def returns_list(v):
    return [v, v * 2.0]


def helper_list_unpacked(x):
    a, b = returns_list(x)
    return np.sum(a * b)


def tuple_in_loop(x):
    acc = 0.0
    for pair in [(x, 1.0), (x * x, 2.0), (np.sin(x), 3.0)]:
        v, c = pair
        acc = acc + np.sum(v) * c
    return acc


def tuple_unpack_in_loop(x, w):
    a, b = x, w
    for i in range(3):
        a, b = a * b, a + b
    return np.sum(a + b)


def list_of_lists(x):
    grid = [[x, x * 2.0], [np.sin(x), x * x]]
    return np.sum(grid[1][0] * grid[0][1] + grid[1][1])


def dict_values(x, w):
    d = {"a": x * w, "b": np.sin(x)}
    return np.sum(d["a"] * d["b"])


def list_item_overwrite(x):
    xs = [x, x * 2.0]
    xs[0] = np.sin(xs[1])
    return np.sum(xs[0] * xs[1])


def np_array_from_scalars(x):
    v = np.array([x[0] * x[1], x[2], np.sin(x[0])])
    return np.sum(v ** 2)


def tuple_return(x):
    return np.sum(x * x), np.sum(np.sin(x))


def tuple_return_with_int(x):
    return np.sum(x * x), 3, None




@pytest.mark.parametrize("fn", [list_len,
                                list_append_stack,
                                list_append_carry,
                                list_append_then_sum_loop,
                                list_comprehension_range,
                                list_comprehension_sum,
                                comprehension_with_condition,
                                helper_tuple_unpacked, helper_tuple_indexed,
                                helper_list_unpacked, tuple_in_loop, list_of_lists,
                                list_item_overwrite, np_array_from_scalars,
                                tuple_return, tuple_return_with_int])
def test_one_argument(fn):
    check_grads(fn, X)


@pytest.mark.parametrize("fn", [tuple_build_index, tuple_unpack, tuple_swap, nested_unpack,
                                list_build_index,
                                list_append_concat,
                                list_comprehension_over_list,
                                helper_triple_partial_use,
                                helper_tuple_passed_on, tuple_unpack_in_loop])
def test_two_arguments(fn):
    check_grads(fn, X, W)


def append_no_loop(x):
    rows = []
    rows.append(x * 2.0)
    return np.sum(np.stack(rows))


def test_list_append_without_loop():
    np.testing.assert_allclose(sg.grad(append_no_loop)(X), 2.0 * np.ones(3))


def _refused(fn, construct, line_text, *args):
    import inspect
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(fn, tuple(range(len(args))))(*args)
    msg = str(info.value)
    lines, start = inspect.getsourcelines(fn)
    lineno = start + next(k for k, ln in enumerate(lines) if line_text in ln)
    assert construct in msg
    assert "test_containers.py" in msg and f"line {lineno}" in msg and line_text in msg


def test_starred_unpack_refused_with_location():
    _refused(starred_unpack, "starred assignment target", "first, *rest = [x, w, x * w]", X, W)


def dict_call(x, w):
    d = dict(a=x, b=w * 2.0, unused=np.cos(w))
    return np.sum(d["a"] * d["b"])


def dict_of_dicts(x, w):
    p = {"inner": {"x": x, "w": w}, 0: x * w}
    total = 0.0
    for key in ("x", "w"):
        total = total + np.sum(p["inner"][key] * p[0])
    return total


def dict_passed_on(x, w):
    return dict_terms_of_pair({"first": x, "second": np.tanh(w)})


def dict_terms_of_pair(pair):
    return np.sum(pair["first"] ** 2 * pair["second"])


def dict_from_variable_key(x):
    key = "a" if x[0] > 0 else "b"
    return np.sum({key: x}[key])


def test_dicts_built_from_differentiated_values():
    check_grads(dict_values, X, W)      # a display with constant keys
    check_grads(dict_call, X, W)        # dict(k=v)
    check_grads(dict_of_dicts, X, W)
    check_grads(dict_passed_on, X, W)


def test_dict_display_with_a_computed_key_refused_with_location():
    _refused(dict_from_variable_key, "dict display", "return np.sum({key: x}[key])", X)


def test_list_append_does_not_leak_between_calls():
    g = sg.grad(list_append_stack)
    a = g(X)
    b = g(X)
    np.testing.assert_allclose(a, b)
    check_grads(list_append_stack, X)


# -- tuples, lists and dicts as inputs: one gradient per item, zeros where unused ---------

def first_of_three(t):
    a, b, c = t
    return a * 2.0


def uses_two_items(seq):
    return np.sum(np.sin(seq[0])) + np.sum(seq[2] ** 2)


def dict_terms(p):
    return p["a"] * p["b"] + np.sum(p["v"])


def nested_dict_terms(p):
    return p["outer"]["x"] * p["outer"]["y"] + p["z"]


def test_tuple_input_unused_items_get_zeros():
    g = sg.grad(first_of_three)((1.5, -0.5, 2.0))
    assert type(g) is tuple and g == (2.0, 0.0, 0.0)
    assert all(type(v) is float for v in g)


def test_list_input_gradients_shaped_like_items():
    xs = [X, W[:2].copy(), np.array([[0.1, 0.2], [0.3, 0.4]])]
    g = sg.grad(uses_two_items)(xs)
    assert type(g) is list and len(g) == 3
    np.testing.assert_allclose(g[0], np.cos(X))
    np.testing.assert_array_equal(g[1], np.zeros(2))
    np.testing.assert_allclose(g[2], 2 * xs[2])


def test_dict_input_gradients():
    g = sg.grad(dict_terms)({"a": 1.5, "b": -2.0, "v": X, "unused": 4.0})
    assert set(g) == {"a", "b", "v", "unused"}
    assert g["a"] == -2.0 and g["b"] == 1.5 and g["unused"] == 0.0
    np.testing.assert_array_equal(g["v"], np.ones(3))


def test_nested_dict_input_gradients():
    g = sg.grad(nested_dict_terms)({"outer": {"x": 3.0, "y": 4.0}, "z": 1.0})
    assert g == {"outer": {"x": 4.0, "y": 3.0}, "z": 1.0}


# builtin sum over an array adds its rows (API fuzz seeds 1424, 1542: the rows'
# adjoints came back as a list, not an array, and crashed the next rule)

def sum_of_matrix_rows(x):
    v = np.concatenate([x, np.zeros((2, 1))], axis=-1)
    return np.sum(np.tanh(sum(v)))


def sum_of_vector_items(x):
    return -sum(x[[0, 2]] / (1.0 + np.exp(-x[[0, 2]])))


@pytest.mark.parametrize("fn, arg", [(sum_of_matrix_rows, np.array([[0.3, -0.5], [1.2, 0.4]])),
                                     (sum_of_vector_items, np.array([0.3, -0.5, 0.8]))])
def test_builtin_sum_over_an_array(fn, arg):
    check_grads(fn, arg)
    g = sg.grad(fn)(arg.astype(np.float32))
    assert g.dtype == np.float32


# -- zip, enumerate and reversed as values (not a for loop's own iterable) ------------
# (they were taken for functions of no gradient: every gradient through them was 0)

def zip_bound_then_looped(x, w):
    pairs = zip(x, w)
    t = 0.0
    for a, b in pairs:
        t += a * b
    return t


def zip_listed_then_summed(x, w):
    pairs = list(zip(x, w))
    return sum(a * np.sin(b) for a, b in reversed(pairs))


def zip_of_reversed(x, w):
    return sum(a * b for a, b in zip(x, reversed(w)))


def enumerate_listed(x, w):
    e = list(enumerate(x * w))
    return sum(i * v ** 2 for i, v in e)


def enumerate_from_start(x, w):
    t = 0.0
    for i, (a, b) in enumerate(zip(x, w), 1):
        t += i * a * b
    for k, v in enumerate(w, start=2):
        t += v / k
    return t


def reversed_looped_and_stacked(x, w):
    t = 0.0
    for v in reversed(x):
        t = 0.5 * t + v
    return t * np.array(list(reversed(w))) @ x


def dict_of_pairs(x, w):
    m = dict(zip(["a", "b", "c"], x))
    n = dict([("a", w[0]), ("b", x[1] * w[1]), ("a", w[2])], extra=x[0])
    e = dict(enumerate(w))
    return m["a"] * n["a"] * n["b"] + m["c"] ** 2 * n["extra"] + e[1] * e[2]


# -- folds and copies: functools.reduce, itertools.accumulate, copy, pow, math.fsum ----

def reduce_with_operator(x, w):
    return functools.reduce(operator.add, [x[0] * w[1], x[1] ** 2, w[2]])


def reduce_with_lambda_and_init(x, w):
    return functools.reduce(lambda a, b: a * 0.5 + np.sin(b), x * w, 1.0)


def reduce_matmul(x, w):
    return functools.reduce(np.matmul, [np.outer(x, w), np.diag(w), x]).sum()


def accumulate_default_and_func(x, w):
    run = list(itertools.accumulate(x * w))
    return sum(run) + sum(itertools.accumulate(w, operator.mul, initial=0.5))


def copies_pow_fsum(x, w):
    p = {"a": x, "b": [w * 2.0]}
    q = copy.deepcopy(p)
    r = copy.copy(x)
    return math.fsum([np.sum(q["a"] * q["b"][0]), pow(r[0], 2), pow(w[1], 3.0)])


ITERATOR_VALUES = [reduce_with_operator, reduce_with_lambda_and_init, reduce_matmul,
                   accumulate_default_and_func, copies_pow_fsum, zip_bound_then_looped,
                   zip_listed_then_summed, zip_of_reversed,
                   enumerate_listed, enumerate_from_start, reversed_looped_and_stacked,
                   dict_of_pairs]


@pytest.mark.parametrize("fn", ITERATOR_VALUES)
def test_iterator_values_reverse(fn):
    check_grads(fn, X, W)


@pytest.mark.parametrize("fn", ITERATOR_VALUES)
def test_iterator_values_forward(fn):
    vs = (np.array([0.3, -0.2, 0.9]), np.array([-0.5, 0.4, 0.1]))
    out, tangent = sg.jvp(fn, (X, W), vs)
    eps = 1e-6
    want = (fn(X + eps * vs[0], W + eps * vs[1]) - fn(X - eps * vs[0], W - eps * vs[1])) / (2 * eps)
    np.testing.assert_allclose(out, fn(X, W), rtol=1e-12)
    np.testing.assert_allclose(tangent, want, rtol=1e-5, atol=1e-6)
