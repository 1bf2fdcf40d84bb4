"""Code people already have (issue 15): nested defs and lambdas closing over
differentiated values, functools.partial, tuple()/list()/map(), generator
expressions, with-blocks and discarded calls -- each checked against central
finite differences, alone and in combination."""
import functools
import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads, numeric_grad

try:
    import scipy.special as _special
except ImportError:  # pragma: no cover -- SciPy is optional
    _special = None

X = np.array([0.3, -0.8, 1.4])
W = np.array([1.2, 0.5, -0.7])


# -- nested defs and lambdas --------------------------------------------------------

def nested_called_in_place(x, w):
    def act(h):
        return np.tanh(h * w)
    return np.sum(act(x) * act(2.0 * x))


def nested_in_loop(x, w):
    def step(h, x_t):
        return np.tanh(h * w + x_t)
    h = np.zeros_like(x)
    for t in range(3):
        h = step(h, x * t)
    return np.sum(h * h)


def nested_defined_in_loop(x, w):
    s = 0.0
    for k in range(2):
        def term(v):
            return np.sin(v * w + k)
        s = s + np.sum(term(x))
    return s


def nested_default_captures(x, w):
    def scale(h, w=w):  # w as it is when the def runs
        return h * w
    w = w * 3.0
    return np.sum(scale(x) + x * w)


def nested_early_return(x, w):
    def clip(v):
        if np.sum(v) > 0.0:
            return v * w
        return v - w
    return np.sum(clip(x) * clip(-x))


def nested_returns_tuple(x, w):
    def both(v):
        return v * w, np.exp(v)
    a, b = both(x)
    return np.sum(a * b)


def nested_calls_nested(x, w):
    def inner(v):
        return v * w
    def outer(v):  # noqa: E306
        return np.sin(inner(v)) + inner(v * v)
    return np.sum(outer(x))


def nested_keyword_call(x, w):
    def affine(v, a, b=1.0):
        return v * a + b
    return np.sum(affine(x, b=w, a=w * w) ** 2)


def lambda_bound(x, w):
    f = lambda v: np.sin(v) * w  # noqa: E731
    return np.sum(f(x) + f(w))


def lambda_in_loop(x, w):
    g = lambda h: h * w + 0.1  # noqa: E731
    h = x
    for _ in range(3):
        h = g(h)
    return np.sum(h)


def map_lambda(x, w):
    return sum(map(lambda v: np.sum(v * w), [x, 2.0 * x, w]))


def map_nested_two(x, w):
    def dot(a, b):
        return np.sum(a * b)
    return sum(map(dot, [x, w], [w, x * x]))


def dict_params_in_loop(x, params):
    def layer(h):
        return np.tanh(h * params["w"] + params["b"])
    h = x
    for _ in range(3):
        h = layer(h)
    return np.sum(h * h)


@pytest.mark.parametrize("fn", [
    nested_called_in_place, nested_in_loop, nested_defined_in_loop, nested_default_captures,
    nested_early_return, nested_returns_tuple, nested_calls_nested, nested_keyword_call,
    lambda_bound, lambda_in_loop, map_lambda, map_nested_two,
], ids=lambda f: f.__name__)
def test_nested_functions(fn):
    check_grads(fn, X, W, wrt=(0, 1))


def test_nested_def_reading_dict_params_in_loop():
    params = {"w": W.copy(), "b": np.array([0.1, -0.2, 0.3])}
    g = sg.grad(dict_params_in_loop, 1)(X, params)
    assert set(g) == {"w", "b"}
    for key in params:
        def along(v):  # the loss as a function of one entry, run by Python only
            return dict_params_in_loop(X, {**params, key: v})
        want = numeric_grad(along, (params[key],), 0)
        assert np.allclose(g[key], want, rtol=1e-5, atol=1e-7), key
    check_grads(lambda x: dict_params_in_loop(x, params), X)


def test_nested_def_value_matches_python():
    got, _ = sg.value_and_grad(nested_default_captures, (0, 1))(X, W)
    assert np.allclose(got, nested_default_captures(X, W))


def test_nested_def_under_forward_mode():
    v = np.array([0.2, -0.1, 0.5])
    out, tangent = sg.jvp(lambda x: nested_in_loop(x, W), X, v)
    eps = 1e-6
    numeric = (nested_in_loop(X + eps * v, W) - nested_in_loop(X - eps * v, W)) / (2 * eps)
    assert np.allclose(out, nested_in_loop(X, W))
    assert np.allclose(tangent, numeric, rtol=1e-5, atol=1e-7)


def recursive_nested(x, w):
    def power(v, n):
        if n == 0:
            return v
        return power(v * w, n - 1)
    return np.sum(power(x, 2))


def _apply(f, v):
    return f(v)


def _apply_twice(fn, v, shift=0.0):
    return fn(fn(v) + shift)


def nested_passed_to_helper(x, w):
    def scale(v):
        return np.sin(v * w)
    return np.sum(_apply(scale, x) + _apply_twice(scale, x, shift=w))


def lambda_passed_to_helper(x, w):
    return np.sum(_apply_twice(lambda v: v * w + x, x))


def nested_passed_to_numpy(x, w):
    def scale(v):
        return v * w
    return np.sum(np.apply_along_axis(scale, 0, x))


def nested_returned(x, w):
    def shifted(v):
        u = v + w
        return u * u
    fns = [shifted]
    return np.sum(fns[0](x))


def lambda_as_a_sort_key(x, w):
    key = lambda pair: -pair[0]  # noqa: E731 -- no gradient through it: runs as written
    order = sorted([(1.0, 0), (2.0, 1)], key=key)
    return np.sum(x * w) * (order[0][1] + 1.0)


@pytest.mark.parametrize("fn", [nested_passed_to_helper, lambda_passed_to_helper,
                                lambda_as_a_sort_key],
                         ids=lambda f: f.__name__)
def test_functions_passed_to_higher_order_helpers(fn):
    check_grads(fn, X, W, wrt=(0, 1))


def recursive_nested_default(x, w):
    def walk(v, n, scale=w):
        if n <= 0:
            return v
        return walk(np.sin(v) * scale + x, n - 1) * w
    return np.sum(walk(x, 2) + walk(w, 1))


def mutually_recursive(x, w):
    def even(v, n):
        return v if n == 0 else odd(v * w, n - 1)
    def odd(v, n):  # noqa: E306
        return even(v + w, n - 1)
    return np.sum(even(x, 2))


def test_recursive_nested_functions():
    check_grads(recursive_nested, X, W, wrt=(0, 1))
    check_grads(recursive_nested_default, X, W, wrt=(0, 1))
    check_grads(mutually_recursive, X, W, wrt=(0, 1))


def def_in_nested(x, w):
    def outer(v):
        def inner(u):
            return u * w
        return inner(v)
    return np.sum(outer(x))


@pytest.mark.parametrize("fn, words", [
    (def_in_nested, "function defined inside a nested function"),
    (nested_passed_to_numpy, "nested function .scale. used as a value"),
    (nested_returned, "nested function 'shifted' used as a value"),
])
def test_nested_refusals_name_the_construct(fn, words):
    with pytest.raises(sg.SourcegradError, match=words):
        sg.grad(fn, (0, 1))(X, W)


# -- functools.partial --------------------------------------------------------------

def _affine(a, x, b=0.0):
    return a * x + b


def _logsumexp_scaled(v, scale):
    return _special.logsumexp(v * scale)


SHIFTED = functools.partial(_affine, 2.0, b=1.5)


def partial_user_function(x, w):
    f = functools.partial(_affine, w)
    return np.sum(f(x) * f(x, b=w))


def partial_of_rule(x, w):
    p = functools.partial(np.power, x)
    return np.sum(p(2.0) * w)


def partial_global(x, w):
    return np.sum(SHIFTED(x) * w)


def partial_of_nested(x, w):
    def mix(a, b):
        return a * np.exp(b * w)
    f = functools.partial(mix, x)
    return np.sum(f(w) + f(x))


@pytest.mark.parametrize("fn", [partial_user_function, partial_of_rule, partial_global,
                                partial_of_nested], ids=lambda f: f.__name__)
def test_partial(fn):
    check_grads(fn, X, W, wrt=(0, 1))


def _keyworded(x, w, a=1.0, *, b=2.0):
    return np.sum(np.exp(a * x) * w) + b * np.sum(x * x)


@pytest.mark.parametrize("p, args", [
    (functools.partial(_keyworded, a=2.0), (X, W)),     # grad of the partial itself
    (functools.partial(_keyworded, X), (W,)),
    (functools.partial(_keyworded, b=-1.0, a=0.5), (X, W)),
    (SHIFTED, (X,)),
    (functools.partial(np.sum, axis=0), (np.outer(X, W),)),
], ids=["keyword", "positional", "two-keywords", "global", "numpy"])
def test_grad_of_a_partial(p, args):
    check_grads(p, *args)
    value, _ = sg.value_and_grad(p)(*args)
    assert np.allclose(value, p(*args))


def test_grad_of_a_partial_takes_the_call_keywords():
    p = functools.partial(_keyworded, a=2.0)
    for kw in ({}, {"a": 0.5}, {"b": 3.0}):
        want = numeric_grad(lambda x: p(x, W, **kw), (X,), 0)
        assert np.allclose(sg.grad(p)(X, W, **kw), want, atol=1e-6)
    tangent = sg.jvp(p, (X, W), (np.ones(3), np.zeros(3)))[1]
    assert np.isclose(tangent, np.sum(sg.grad(p)(X, W)))


def test_partial_of_a_function_with_a_scipy_call():
    if _special is None:  # pragma: no cover
        pytest.skip("SciPy is not installed")

    def f(x, w):
        lse = functools.partial(_logsumexp_scaled, scale=w)
        return lse(x) + lse(x * x)
    check_grads(f, X, W, wrt=(0, 1))


# -- tuple()/list()/map()/zip()/enumerate(), comprehensions, generator expressions ----

def builtins_over_values(x, w):
    t = tuple([x, w * 2.0])
    items = list(v * v for v in t)
    s = 0.0
    for i, (a, b) in enumerate(zip(items, t)):
        s = s + (i + 1.0) * np.sum(a * b)
    return s


def genexp_into_sum(x, w):
    return sum(np.sum(np.sin(v) * w) for v in [x, x * x])


def genexp_into_max(x, w):
    return max(np.sum(v * w) for v in [x, 2.0 * x + 1.0])


def genexp_into_stack(x, w):
    return np.sum(np.stack(list(v * w for v in [x, w])) ** 2)


def comprehension_into_concatenate(x, w):
    return np.sum(np.concatenate([np.tanh(v * w) for v in [x, w]]))


def genexp_over_layers(x, w):
    layers = [(w, x), (w * w, 0.5 * x)]
    return sum(np.sum(np.tanh(W_ * x + b)) for W_, b in layers)


@pytest.mark.parametrize("fn", [builtins_over_values, genexp_into_sum, genexp_into_max,
                                genexp_into_stack, comprehension_into_concatenate,
                                genexp_over_layers], ids=lambda f: f.__name__)
def test_containers_and_generator_expressions(fn):
    check_grads(fn, X, W, wrt=(0, 1))


# -- with blocks and discarded calls ------------------------------------------------

class _Timer:
    entered = 0

    def __enter__(self):
        _Timer.entered += 1
        return self

    def __exit__(self, *exc):
        return False


def _log(*values):
    print("values:", *[np.round(np.sum(v), 3) for v in values])


def with_errstate(x, w):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x * x * w * w)
    return np.sum(y)


def with_catch_warnings_and_timer(x, w):
    with warnings.catch_warnings(), _Timer() as t:
        warnings.simplefilter("ignore")
        y = np.sin(x * w)
    return np.sum(y * y) + 0.0 * t.entered


def discarded_calls(x, w):
    y = np.tanh(x * w)
    print("step", 1)
    _log(y, w)
    return np.sum(y * x)


@pytest.mark.parametrize("fn", [with_errstate, with_catch_warnings_and_timer,
                                discarded_calls], ids=lambda f: f.__name__)
def test_with_and_discarded_calls(fn):
    with redirect_stdout(io.StringIO()):
        check_grads(fn, X, W, wrt=(0, 1))


def test_with_enters_the_manager_in_the_forward_sweep():
    before = _Timer.entered
    sg.grad(with_catch_warnings_and_timer, (0, 1))(X, W)
    assert _Timer.entered == before + 1


def test_discarded_call_runs_once_per_gradient():
    out = io.StringIO()
    with redirect_stdout(out):
        sg.grad(discarded_calls, (0, 1))(X, W)
    assert out.getvalue().count("step 1") == 1
    assert out.getvalue().count("values:") == 1


# -- generator functions consumed by a for loop --------------------------------------

def _pairs(xs, scale=1.0):
    prev = xs[0]
    for i in range(1, len(xs)):
        yield prev * scale, xs[i]
        prev = xs[i] + prev


def _running(h, w, steps):
    t = 0
    while t < steps:
        h = np.tanh(h * w)
        yield h
        t = t + 1


def generator_for_loop(x, w):
    s = 0.0
    for a, b in _pairs([x, w, x * w], scale=2.0):
        s = s + np.sum(a * np.sin(b))
    return s


def generator_with_while(x, w):
    total = 0.0
    for h in _running(x, w, 3):
        total = total + np.sum(h * h)
    return total


@pytest.mark.parametrize("fn", [generator_for_loop, generator_with_while],
                         ids=lambda f: f.__name__)
def test_generator_functions(fn):
    check_grads(fn, X, W, wrt=(0, 1))


def generator_with_break(x, w):
    s = 0.0
    for h in _running(x, w, 5):
        if np.sum(h) > 10.0:
            break
        s = s + np.sum(h)
    return s


def test_generator_refusal_names_the_construct():
    with pytest.raises(sg.SourcegradError, match="break in a loop over a generator"):
        sg.grad(generator_with_break, (0, 1))(X, W)


def test_forward_mode_through_with_generator_and_partial():
    v = np.array([0.2, -0.1, 0.5])
    for fn in (with_errstate, generator_with_while, partial_user_function, lambda_bound,
               recursive_nested, map_nested_two, nested_passed_to_helper):
        out, tangent = sg.jvp(lambda x, fn=fn: fn(x, W), X, v)
        eps = 1e-6
        numeric = (fn(X + eps * v, W) - fn(X - eps * v, W)) / (2 * eps)
        assert np.allclose(out, fn(X, W)), fn.__name__
        assert np.allclose(tangent, numeric, rtol=1e-5, atol=1e-7), fn.__name__


# -- a program as an autograd/JAX user writes it ---------------------------------------

def rnn_loss(params, xs, ys):
    def step(h, x_t):
        return np.tanh(h @ params["Wh"] + x_t @ params["Wx"] + params["b"])

    def predict(h):
        return h @ params["Wo"]

    h = np.zeros(params["Wh"].shape[0])
    hs = []
    for x_t in xs:
        h = step(h, x_t)
        hs.append(h)
    preds = list(map(predict, hs))
    return sum(np.sum((p - y) ** 2) for p, y in zip(preds, ys)) / len(ys)


def test_rnn_with_nested_defs_dict_params_map_and_generator_expression():
    rng = np.random.default_rng(0)
    params = {"Wh": 0.3 * rng.standard_normal((4, 4)), "Wx": 0.3 * rng.standard_normal((3, 4)),
              "b": 0.1 * rng.standard_normal(4), "Wo": 0.3 * rng.standard_normal((4, 2))}
    xs = rng.standard_normal((5, 3))
    ys = rng.standard_normal((5, 2))
    g = sg.grad(rnn_loss)(params, xs, ys)
    flat, unravel = sg.ravel(params)

    def loss_flat(v):
        return rnn_loss(unravel(v), xs, ys)
    want = numeric_grad(loss_flat, (flat,), 0)
    assert np.allclose(sg.ravel(g)[0], want, rtol=1e-5, atol=1e-7)


# -- assignment expressions and logging with f-strings -------------------------------

def walrus_in_if(x):
    if (n := x.size) > 2:
        return np.sum(x[:n - 1] ** 2)
    return np.sum(x)


def walrus_in_expression(x):
    y = (s := np.sin(x)) * s + (c := np.cos(x))
    return np.sum(y * c + s)


def walrus_in_while_test(x):
    total, i = 0.0, 0
    while (v := x[i] * 2.0) < 3.0 and i < 2:
        total = total + v ** 2
        i += 1
    return total + v


def walrus_short_circuited(x):
    ok = x[0] > 0 and (m := np.max(x)) > 0.5
    if ok:
        return m * x[1]
    return x[1] ** 2


def walrus_in_loop_branch(x):
    acc = []
    for i in range(3):
        if (t := x[i] ** 2) > 0.1:
            acc.append(t)
        else:
            acc.append(-t)
    return sum(acc) * t


def logs_with_fstrings(x):
    loss = np.sum(np.tanh(x) ** 2)
    print(f"x = {x}, loss = {loss:.3f}", "{:.2f}".format(x[0]), "%.1f" % x[1])
    return loss


@pytest.mark.parametrize("fn, x", [
    (walrus_in_if, X), (walrus_in_if, X[:2]), (walrus_in_expression, X),
    (walrus_in_while_test, np.array([0.3, 0.5, 1.0, 0.2])),
    (walrus_in_while_test, np.array([0.3, 1.7, 1.0, 0.2])),
    (walrus_short_circuited, X), (walrus_short_circuited, -X),
    (walrus_in_loop_branch, X), (logs_with_fstrings, X)])
def test_assignment_expressions_and_fstrings(fn, x):
    with redirect_stdout(io.StringIO()):
        check_grads(fn, x)
        assert np.allclose(sg.value_and_grad(fn)(x)[0], fn(x))


def _passes_a_closure_to_grad(x):
    def inner(v):
        return np.sum(np.sin(v) * x)
    return np.sum(sg.grad(inner)(x) ** 2)


def _maml_step(w, X, y):
    g = sg.grad(lambda w_: np.mean((X @ w_ - y) ** 2))(w)   # an inner step
    w2 = w - 0.1 * g
    return np.mean((X @ w2 - y) ** 2)


def _value_and_grad_of_a_lambda(a, b):
    val, g = sg.value_and_grad(lambda u, v: np.sum(np.exp(u * v) * a), (0, 1))(b, b * 2)
    return val + np.sum(g[0] * g[1])


def test_grad_of_a_closure_inside_the_differentiated_function():
    # the closure is lifted, the caller's values it reads passed to it by keyword, so
    # the outer gradient flows through them too
    r = np.random.default_rng(30)
    check_grads(_passes_a_closure_to_grad, X)
    check_grads(_maml_step, r.standard_normal(3), r.standard_normal((5, 3)),
                r.standard_normal(5))
    check_grads(_value_and_grad_of_a_lambda, 0.3 * r.standard_normal(2),
                0.3 * r.standard_normal(2))
    # forward over it: the Hessian of the outer function
    g = sg.grad(_passes_a_closure_to_grad)
    H = sg.hessian(_passes_a_closure_to_grad)(X)
    want = np.array([(g(X + 1e-6 * e) - g(X - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(H, want, atol=1e-6)


# -- np.add.at / np.subtract.at: scatter-adds written as the writes they are -----------

_IDX = np.array([0, 2, 2, 1, 2])


def scatter_into_a_copy(v, a0):
    a = a0 * 1.0
    np.add.at(a, _IDX, v)
    return np.sum(a ** 2)


def scatter_in_a_loop(v):
    out = np.zeros(3)
    for k in range(2):
        np.add.at(out, _IDX, v * (k + 1))
    np.subtract.at(out, [0], v[0])   # a scalar spread over out[[0]]
    return np.sum(np.sin(out))


def scatter_rows(E, tokens):
    acc = np.zeros_like(E)
    np.add.at(acc, tokens, E[tokens] * 2.0)
    return np.sum(acc * E)


def test_ufunc_at_scatters():
    v = np.array([0.3, -1.2, 0.7, 2.0, -0.4])
    check_grads(scatter_into_a_copy, v, np.array([0.5, -0.1, 0.9]))
    check_grads(scatter_in_a_loop, v)
    check_grads(scatter_rows, np.arange(12.0).reshape(4, 3) / 7.0, np.array([1, 1, 3]), wrt=0)
    t = sg.jvp(scatter_in_a_loop, (v,), (np.ones(5),))[1]
    assert np.isclose(t, np.sum(sg.grad(scatter_in_a_loop)(v)))


def scatter_into_a_shared_array(v):
    a = np.zeros(3)
    b = a
    np.add.at(a, _IDX, v)
    return np.sum(b * v[:3])


def test_ufunc_at_into_a_shared_array_is_seen_by_the_other_name():
    # b = a on every path: b is bound again after the write (docs/behaviour.md)
    v = np.array([0.3, -1.2, 0.7, 2.0, -0.4])
    value, _ = sg.value_and_grad(scatter_into_a_shared_array)(v.copy())
    assert np.allclose(value, scatter_into_a_shared_array(v.copy()))
    check_grads(scatter_into_a_shared_array, v)


def reads_flat_and_tolist(x):
    rows = np.sin(x).tolist()
    return x.flat[1] * 2.0 + np.sum(x.T.flat[[0, 2]] ** 2) + rows[0][1] * rows[1][0] \
        + sum(rows[1])


def test_flat_reads_and_tolist():
    x = np.arange(6.0).reshape(2, 3) / 5
    check_grads(reads_flat_and_tolist, x)
    t = np.linspace(0.2, 1.0, 6).reshape(2, 3)
    assert np.isclose(sg.jvp(reads_flat_and_tolist, (x,), (t,))[1],
                      np.sum(sg.grad(reads_flat_and_tolist)(x) * t))


def block_matrix(A, B, C, D):
    M = np.block([[A, B], [C, D]])
    return np.sum(M * np.arange(25.0).reshape(5, 5) / 25.0) + np.sum(M ** 2)


def block_promoted(A, v, s):
    return np.sum(np.block([[A, np.zeros((2, 1))], [v, s]]) ** 3)


def test_block_matrices():
    r = np.random.default_rng(29)
    args = (r.standard_normal((2, 3)), r.standard_normal((2, 2)), r.standard_normal((3, 3)),
            r.standard_normal((3, 2)))
    check_grads(block_matrix, *args)
    check_grads(block_promoted, r.standard_normal((2, 2)), r.standard_normal(2),
                r.standard_normal((1, 1)))
    ts = tuple(np.ones_like(a) for a in args)
    assert np.isclose(sg.jvp(block_matrix, args, ts)[1],
                      sum(np.sum(g) for g in sg.grad(block_matrix, (0, 1, 2, 3))(*args)))
