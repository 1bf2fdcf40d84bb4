"""More code people already have (issue 15, second part): closures returned from
helpers and called later, mutually recursive nested functions, nested functions
passed to another module's helper, ``return`` inside ``with``, generator
functions consumed whole, ``dict(p)``/``{**p, "k": v}``, frozen SciPy
distributions -- each checked against central finite differences -- and the
refusals that remain, each naming its construct."""
import functools

import numpy as np
import pytest

import real_helpers
import sourcegrad as sg
from sourcegrad.testing import check_grads, numeric_grad

try:
    import scipy.integrate as integrate
    import scipy.stats as stats
except ImportError:  # pragma: no cover -- SciPy is optional
    stats = integrate = None
needs_scipy = pytest.mark.skipif(stats is None, reason="SciPy is not installed")

X = np.array([0.3, -0.8, 1.4])
W = np.array([1.2, 0.5, -0.7])
V = np.array([-0.4, 0.9, 0.2])


def both(fn, *args):
    check_grads(fn, *args, wrt=tuple(range(len(args))))


# -- closures made by a helper and called later ---------------------------------------

def make(w):
    def f(x):
        return np.tanh(w * x)
    return f


def make_lam(w, b):
    return lambda x: w * x + b


def make_scaled(w, scale=2.0):
    a = w * scale
    def f(x, shift=0.5):  # noqa: E306
        return np.sin(a * x) + shift * w
    return f


def _aff(a, b, x):
    return a * x + b


def make_partial(w, b):
    return functools.partial(_aff, w, b)


def make_rec(w):
    def power(v, n):
        if n == 0:
            return v
        return power(v * w, n - 1)
    return power


def make_two_step(w):
    def inner(v):
        return v * w
    def f(x):  # noqa: E306
        return np.tanh(inner(x)) + inner(w)
    return f


def use_fn(g, v):
    return g(v) * 3.0


def closure_returned(x, w):
    g = make(w)
    return np.sum(g(x) + g(2.0 * x))


def lambda_returned(x, w):
    g = make_lam(w, x)
    return np.sum(g(x) ** 2)


def factory_defaults(x, w):
    g = make_scaled(w)
    h = make_scaled(x, scale=w)
    return np.sum(g(x) * h(w, shift=x))


def factory_in_loop(x, w):
    s = 0.0
    for k in range(3):
        g = make(w * k)
        s = s + np.sum(g(x))
    return s


def factory_called_directly(x, w):
    return np.sum(make(w)(x) + make_lam(x, w)(w))


def factory_of_partial(x, w):
    g = make_partial(w, x)
    return np.sum(g(x) ** 2)


def factory_of_recursive(x, w):
    p = make_rec(w)
    return np.sum(p(x, 2))


def factory_through_map(x, w):
    g = make(w)
    return sum(np.sum(v) for v in map(g, [x, w]))


def factory_with_inner_calls(x, w):
    g = make_two_step(w)
    return np.sum(g(x))


def factory_passed_to_helper(x, w):
    g = make(w)
    return np.sum(use_fn(g, x))


def factory_of_another_module(x, w):
    g = real_helpers.make_act(w)
    return np.sum(g(x) * x)


def nested_factory(x, w):
    def make_layer(a, b):
        def layer(h):
            return np.tanh(h * a + b)
        return layer
    l1 = make_layer(w, x)
    l2 = make_layer(x * w, 0.5)
    return np.sum(l2(l1(x)) + make_layer(w, w)(x))


def nested_lambda_factory(x, w):
    adder = lambda a: lambda v: v * a + w  # noqa: E731
    return np.sum(adder(x)(w) * adder(w)(x))


@pytest.mark.parametrize("fn", [
    nested_factory, nested_lambda_factory, closure_returned, lambda_returned, factory_defaults,
    factory_in_loop,
    factory_called_directly, factory_of_partial, factory_of_recursive, factory_through_map,
    factory_with_inner_calls, factory_passed_to_helper, factory_of_another_module,
], ids=lambda f: f.__name__)
def test_closures_returned_from_helpers(fn):
    both(fn, X, W)


def test_closure_factory_reads_as_plain_code():
    g = sg.grad(closure_returned, (0, 1))
    g(X, W)
    text = sg.source(g)
    assert "call_fwd" not in text and "make(" not in text.replace("# g = make(w)", "")
    assert "np.tanh" in text


def factories_in_a_list(x, w):
    fns = [make(w), make(x)]
    return np.sum(fns[1](x) + fns[0](w))


def test_a_function_value_made_from_a_differentiated_value_is_refused():
    # one of several closures picked at run time: the values it closes over cannot be
    # followed, so this is refused rather than given a gradient without them
    with pytest.raises(sg.SourcegradError, match="call of a function made from a "
                                                 "differentiated value") as e:
        sg.grad(factories_in_a_list, (0, 1))(X, W)
    assert "test_real_closures.py" in str(e.value)


def factory_with_constant(x, w):
    g = make(0.5)  # closes over a constant: no gradient through it to lose
    return np.sum(g(x) * w)


def test_factory_closing_over_a_constant():
    both(factory_with_constant, X, W)


# -- nested functions: mutual recursion, another module's helper ----------------------

def mutual_three(x, w):
    def a(v, n):
        if n <= 0:
            return v
        return b(np.sin(v) * w, n - 1)
    def b(v, n, s=w):  # noqa: E306
        return c(v + s, n)
    def c(v, n):  # noqa: E306
        return a(v * x, n - 1) + 0.5 * v
    def d(v):  # noqa: E306
        return a(v, 3) * w
    return np.sum(d(x) + a(w, 2))


def nested_to_another_module(x, w):
    def f(v):
        return np.sin(v * w)
    return np.sum(real_helpers.apply_doubled(f, x))


def lambda_to_another_module(x, w):
    return np.sum(real_helpers.apply_doubled(lambda v: v * w + x, x))


@pytest.mark.parametrize("fn", [mutual_three, nested_to_another_module,
                                lambda_to_another_module], ids=lambda f: f.__name__)
def test_nested_functions_more(fn):
    both(fn, X, W)


def test_mutual_recursion_under_forward_mode():
    out, tangent = sg.jvp(lambda x: mutual_three(x, W), X, V)
    eps = 1e-6
    numeric = (mutual_three(X + eps * V, W) - mutual_three(X - eps * V, W)) / (2 * eps)
    assert np.allclose(out, mutual_three(X, W))
    assert np.allclose(tangent, numeric, rtol=1e-5, atol=1e-7)


# -- return and break inside with ----------------------------------------------------

class _Counter:
    entered = exited = 0

    def __enter__(self):
        _Counter.entered += 1
        return self

    def __exit__(self, *exc):
        _Counter.exited += 1
        return False


def return_in_with(x, w):
    with np.errstate(all="ignore"):
        return np.sum(np.log(x * x + w * w))


def return_in_with_branch(x, w):
    with _Counter():
        y = np.sin(x * w)
        if np.sum(y) > 0.0:
            return np.sum(y * y)
    return np.sum(y * x)


def break_in_with(x, w):
    s = 0.0
    for k in range(4):
        with np.errstate(all="ignore"):
            s = s + np.sum(np.sin(x * w * k))
            if k == 2:
                break
    return s


@pytest.mark.parametrize("fn", [return_in_with, return_in_with_branch, break_in_with],
                         ids=lambda f: f.__name__)
def test_jumps_inside_with(fn):
    both(fn, X, W)
    both(fn, -X, W)  # the other branch of return_in_with_branch


def test_return_inside_with_leaves_the_manager():
    before = (_Counter.entered, _Counter.exited)
    sg.grad(return_in_with_branch, (0, 1))(X, W)
    assert (_Counter.entered, _Counter.exited) == (before[0] + 1, before[1] + 1)


# -- generator functions consumed whole ----------------------------------------------

def gen(x, w):
    for k in range(3):
        yield x * w * k + x


def list_of_generator(x, w):
    return np.sum(np.stack(list(gen(x, w))) ** 2)


def sum_of_generator(x, w):
    return np.sum(sum(gen(x, w)))


def zip_of_generators(x, w):
    s = 0.0
    for a, b in zip(gen(x, w), gen(w, x)):
        s = s + np.sum(a * b)
    return s


def enumerate_zip_generator(x, w):
    s = 0.0
    for i, (a, b) in enumerate(zip(gen(x, w), [x, w, x * w])):
        s = s + (i + 1.0) * np.sum(a * b)
    return s


def comprehension_over_generator(x, w):
    return np.sum(np.stack([np.sin(v) for v in gen(x, w)]))


def tuple_of_generator(x, w):
    a, b, c = tuple(gen(x, w))
    return np.sum(a * b + c)


@pytest.mark.parametrize("fn", [list_of_generator, sum_of_generator, zip_of_generators,
                                enumerate_zip_generator, comprehension_over_generator,
                                tuple_of_generator], ids=lambda f: f.__name__)
def test_generators_consumed_whole(fn):
    both(fn, X, W)


def next_of_generator(x, w):
    it = gen(x, w)
    a = next(it)
    return np.sum(a * next(it))


def test_next_of_a_generator_is_refused_by_name():
    with pytest.raises(sg.SourcegradError, match=r"generator function gen\(\)") as e:
        sg.grad(next_of_generator, (0, 1))(X, W)
    assert "list(gen(...))" in str(e.value)


# -- dict(p), {**p, "k": v} ---------------------------------------------------------------

def dict_copy(x, w):
    p = {"a": x, "b": w}
    q = dict(p)
    q["a"] = q["a"] * 2.0
    return np.sum(q["a"] * p["a"] + q["b"])


def dict_copy_with_keywords(x, w):
    p = {"a": x, "b": w}
    q = dict(p, b=w * x, c=x)
    return np.sum(q["a"] * q["b"] + q["c"] * p["b"])


def dict_splat(x, w):
    p = {"a": x, "w": x}
    q = {**p, "w": w, "z": x * w}
    return np.sum(q["a"] * q["w"] + p["w"] + q["z"])


@pytest.mark.parametrize("fn", [dict_copy, dict_copy_with_keywords, dict_splat],
                         ids=lambda f: f.__name__)
def test_dict_copies_and_merges(fn):
    both(fn, X, W)


def merge_params(params, x):
    full = {**params, "scale": params["w"] * 2.0}
    shifted = dict(full, b=full["b"] + 1.0)
    return np.sum(np.tanh(x * shifted["w"] + shifted["b"]) * shifted["scale"])


def test_dict_merge_of_a_parameter_dict_has_its_structure():
    params = {"w": W.copy(), "b": V.copy()}
    g = sg.grad(merge_params)(params, X)
    assert set(g) == {"w", "b"}
    for key in params:
        want = numeric_grad(lambda v, key=key: merge_params({**params, key: v}, X),
                            (params[key],), 0)
        assert np.allclose(g[key], want, rtol=1e-5, atol=1e-7), key


def dict_copy_forward(x):
    q = {**{"a": x}, "b": x * x}
    return np.sum(dict(q)["a"] * q["b"])


def dict_merge_with_a_constant_forward(x):
    q = {**{"a": x, "c": W}, "b": x * x}  # "c" carries no tangent
    return np.sum(dict(q, d=V)["a"] * q["b"] * q["c"])


@pytest.mark.parametrize("fn", [dict_copy_forward, dict_merge_with_a_constant_forward],
                         ids=lambda f: f.__name__)
def test_dict_merge_under_forward_mode(fn):
    out, tangent = sg.jvp(fn, X, V)
    eps = 1e-6
    numeric = (fn(X + eps * V) - fn(X - eps * V)) / (2 * eps)
    assert np.allclose(tangent, numeric, rtol=1e-5, atol=1e-7)


def chained_write(x, w):
    d = {"a": [x, w]}
    d["a"][0] = d["a"][0] * w
    return np.sum(d["a"][0] + d["a"][1])


def chained_write_into_an_array(x, w):
    d = {"a": np.zeros(3)}
    d["a"][1] = np.sum(x * w)
    return np.sum(d["a"] * x)


def chained_write_in_a_loop(x, w):
    rows = [[x, w], [w, x]]
    for i in range(2):
        rows[i][1] = rows[i][0] * w + rows[i][1]
    return np.sum(rows[0][1] * rows[1][1])


def chained_write_dict_of_dicts(x, w):
    cfg = {"layer": {"w": w, "b": 0.0}}
    cfg["layer"]["b"] = x * 2.0
    cfg["layer"]["w"] = cfg["layer"]["w"] * cfg["layer"]["b"]
    return np.sum(cfg["layer"]["w"])


def chained_write_after_a_read(x, w):
    d = {"a": [x * 1.0, w]}
    y = np.sum(d["a"][0])  # a new value: the write does not change it
    d["a"][0] = x * w
    return np.sum(d["a"][0]) * y


@pytest.mark.parametrize("fn", [chained_write, chained_write_into_an_array,
                                chained_write_in_a_loop, chained_write_dict_of_dicts,
                                chained_write_after_a_read], ids=lambda f: f.__name__)
def test_write_into_an_item_of_an_item(fn):
    both(fn, X, W)
    out, tangent = sg.jvp(lambda x: fn(x, W), X, V)
    eps = 1e-6
    assert np.allclose(tangent, (fn(X + eps * V, W) - fn(X - eps * V, W)) / (2 * eps),
                       rtol=1e-5, atol=1e-7)


def chained_held_by_a_name(x, w):
    lst = [x * 1.0, w]
    d = {"a": lst}
    d["a"][0] = x * w  # lst[0] changes too
    return np.sum(lst[0] + d["a"][0])


def chained_read_out_before(x, w):
    d = {"a": [x, w]}
    t = d["a"]
    d["a"][0] = x * w  # t is that list
    return np.sum(t[0] + d["a"][0])


def chained_of_a_shallow_copy(x, w):
    d = {"a": [x, w]}
    e = {**d}
    d["a"][0] = x * w  # e["a"] is that list
    return np.sum(e["a"][0] + d["a"][0])


def chained_of_a_parameter(x, w):
    rows = [x, w]
    rows[0][1] = 5.0  # the caller's array
    return np.sum(rows[0])


@pytest.mark.parametrize("fn", [chained_held_by_a_name, chained_read_out_before,
                                chained_of_a_shallow_copy, chained_of_a_parameter],
                         ids=lambda f: f.__name__)
def test_write_into_a_shared_item_is_refused(fn):
    with pytest.raises(sg.SourcegradError, match=r"assignment into (d|rows)\[\.\.\.\]\[\.\.\.\]"):
        sg.grad(fn, (0, 1))(X, W)


# -- frozen SciPy distributions -------------------------------------------------------------



def frozen_inline(x, w):
    return np.sum(stats.norm(w, 2.0).logpdf(x))


def frozen_bound(x, w):
    d = stats.norm(loc=w, scale=1.5 + x * x)
    return np.sum(d.logpdf(x) + d.cdf(x) + d.logsf(w))


def frozen_t(x, w):
    d = stats.t(4.0, loc=w)
    return np.sum(d.logpdf(x)) + np.sum(stats.t(3.0, w, 1.5).cdf(x))


def frozen_multivariate_normal(x, w):
    cov = np.diag(w * w + 1.0)
    return stats.multivariate_normal(x, cov).logpdf(w)


def frozen_in_a_nested_def(x, w):
    prior = stats.norm(0.0, 1.0 + w * w)

    def log_joint(v):
        return np.sum(prior.logpdf(v)) + np.sum(stats.norm(v, 0.5).logpdf(x))
    return sum(log_joint(v) for v in [x, w])


def frozen_passed_to_a_helper(x, w):
    d = stats.norm(w, 1.0)
    return np.sum(_logpdf_of(d, x))  # inlined with d, as a nested function is


def frozen_kept_in_a_list(x, w):
    ds = [stats.norm(w, 1.0)]
    d = stats.norm(x, 1.0)
    ds.append(d)
    return np.sum(ds[0].logpdf(x))


def _logpdf_of(dist, v):
    return dist.logpdf(v)


@needs_scipy
@pytest.mark.parametrize("fn", [frozen_inline, frozen_bound, frozen_t,
                                frozen_multivariate_normal, frozen_in_a_nested_def,
                                frozen_passed_to_a_helper],
                         ids=lambda f: f.__name__)
def test_frozen_distributions(fn):
    both(fn, X, W)


def frozen_method_passed_on(x, w):
    d = stats.norm(w, 1.0)
    return np.sum(use_fn(d.logpdf, x))


@needs_scipy
def test_frozen_distribution_used_as_a_value_is_refused_by_name():
    for fn in (frozen_method_passed_on, frozen_kept_in_a_list):
        with pytest.raises(sg.SourcegradError, match="frozen distribution 'd' used as a "
                                                     "value"):
            sg.grad(fn, (0, 1))(X, W)


def frozen_in_a_list_display(x, w):
    ds = [stats.norm(w, 1.0), stats.norm(x, 2.0)]
    return np.sum(ds[1].logpdf(w))


@needs_scipy
def test_frozen_distribution_in_a_container_is_refused_by_name():
    with pytest.raises(sg.SourcegradError, match=r"scipy.stats.norm\(...\) makes a frozen"):
        sg.grad(frozen_in_a_list_display, (0, 1))(X, W)


def _decay(t, y, a):
    return -a * y


def solve_ivp_loss(y0, a):
    sol = integrate.solve_ivp(_decay, (0.0, 0.5), y0, args=(a,))
    return np.sum(sol.y[:, -1])


@needs_scipy
def test_solve_ivp_is_refused_naming_odeint():
    with pytest.raises(sg.SourcegradError, match="solve_ivp") as e:
        sg.grad(solve_ivp_loss, (0, 1))(X, 0.7)
    assert "odeint" in str(e.value)


# -- a combination: closures, dict parameters, frozen priors, a generator ---------------------

def layer_factory(params, name):
    def layer(h):
        return np.tanh(h * params[name + "_w"] + params[name + "_b"])
    return layer


def steps(h, layer, n):
    for _ in range(n):
        h = layer(h)
        yield h


def bayes_loss(params, x, y):
    prior = stats.norm(0.0, 1.0)
    first = layer_factory(params, "l1")
    total = 0.0
    for h in steps(x, first, 2):
        total = total + np.sum((h - y) ** 2)
    with np.errstate(all="ignore"):
        lp = sum(np.sum(prior.logpdf(v)) for v in {**params}.values())
    return total - 0.1 * lp


@needs_scipy
def test_closures_generators_dicts_and_frozen_priors_together():
    rng = np.random.default_rng(3)
    params = {"l1_w": rng.standard_normal(3), "l1_b": 0.1 * rng.standard_normal(3)}
    y = rng.standard_normal(3)
    g = sg.grad(bayes_loss)(params, X, y)
    flat, unravel = sg.ravel(params)
    want = numeric_grad(lambda v: bayes_loss(unravel(v), X, y), (flat,), 0)
    assert np.allclose(sg.ravel(g)[0], want, rtol=1e-5, atol=1e-7)


# -- found by tests/fuzz_real.py ------------------------------------------------------------

def negative_constant_squared(x):
    a = (-0.17 * 0.74) ** 2  # folded to a negative constant, then squared
    return a + np.sum(x * x) * (-0.5 * 0.5) ** 2


def test_a_folded_negative_constant_is_printed_as_python_reads_it():
    value, grad = sg.value_and_grad(negative_constant_squared)(X)
    assert np.isclose(value, negative_constant_squared(X))
    check_grads(negative_constant_squared, X)


# -- another module's helper, inlined, stays in step with that module -----------------------

def scaled_by_helper(x, w):
    def k(v):
        return v * w
    return np.sum(real_helpers.apply_scaled(k, x))


def test_inlined_helper_of_another_module_follows_its_module(monkeypatch):
    g = sg.grad(scaled_by_helper, (0, 1))
    check_grads(scaled_by_helper, X, W, wrt=(0, 1))
    monkeypatch.setattr(real_helpers, "SCALE", 5.0)  # a global it reads, rebound
    got = g(X, W)
    want = [numeric_grad(scaled_by_helper, (X, W), p) for p in (0, 1)]
    assert all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(got, want))
    monkeypatch.setattr(real_helpers, "apply_scaled", real_helpers.apply_squared)
    got = g(X, W)  # the helper itself, redefined
    want = [numeric_grad(scaled_by_helper, (X, W), p) for p in (0, 1)]
    assert all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(got, want))


def loop_over_another_modules_generator(x, w):
    s = 0.0
    for h in real_helpers.running(x, w, 3):
        s = s + np.sum(h * x)
    return s + np.sum(sum(real_helpers.running(w, x, 2)))


def test_generator_of_another_module():
    both(loop_over_another_modules_generator, X, W)


# -- d["k"] += v changes the array under "k" in place, as Python does ----------------------

def entry_iadd_of_a_display(x, w):
    y = x * 1.0
    d = {"k": y}
    d["k"] += w  # y's array changes too
    return np.sum(y * x)


def entry_iadd_of_a_copy(x, w):
    d = {"k": x * 1.0}
    e = dict(d)
    e["k"] += w  # d["k"] is the same array
    return np.sum(d["k"] * x)


def entry_iadd_of_a_merge(x, w):
    d = {"k": x * 1.0}
    e = {**d, "z": 2.0}
    e["k"] += w
    return np.sum(d["k"] * x)


def item_iadd_of_a_list_copy(x, w):
    y = x * 1.0
    items = list([y, w * 1.0])
    items[0] += w  # y's array changes too
    return np.sum(y * x)


@pytest.mark.parametrize("fn", [entry_iadd_of_a_display, entry_iadd_of_a_copy,
                                entry_iadd_of_a_merge, item_iadd_of_a_list_copy],
                         ids=lambda f: f.__name__)
def test_in_place_update_of_a_shared_entry_is_refused(fn):
    with pytest.raises(sg.SourcegradError,
                       match=r"in-place add= into (d|e|items)\[\.\.\.\]"):
        sg.grad(fn, (0, 1))(X, W)


def entry_iadd_unshared(x, w):
    d = {"k": x * 1.0}
    d["k"] += w
    e = dict(d)
    e["z"] = w * w
    return np.sum(d["k"] * x + e["k"] * e["z"])


def test_in_place_update_of_an_unshared_entry():
    both(entry_iadd_unshared, X, W)


# -- dict comprehensions carrying gradient ------------------------------------------------

def dictcomp_update(params, x):
    grads = {k: np.cos(v * x) for k, v in params.items()}
    new = {k: v - 0.1 * grads[k] for k, v in params.items()}
    return np.sum(np.tanh(new["w"] * x + new["b"]))


def dictcomp_over_zip(x, w):
    d = {k: np.sin(v) * w for k, v in zip(["p", "q", "r"], [x, w, x * w]) if k != "r"}
    return np.sum(d["p"] * d["q"])


def test_dict_comprehension_over_parameters():
    params = {"w": W.copy(), "b": V.copy()}
    g = sg.grad(dictcomp_update, (0, 1))(params, X)
    for key in params:
        want = numeric_grad(lambda v, key=key: dictcomp_update({**params, key: v}, X),
                            (params[key],), 0)
        assert np.allclose(g[0][key], want, rtol=1e-5, atol=1e-7), key
    assert np.allclose(g[1], numeric_grad(lambda x: dictcomp_update(params, x), (X,), 0),
                       rtol=1e-5, atol=1e-7)


def test_dict_comprehension_in_both_modes():
    both(dictcomp_over_zip, X, W)
    out, tangent = sg.jvp(lambda x: dictcomp_over_zip(x, W), X, V)
    eps = 1e-6
    numeric = (dictcomp_over_zip(X + eps * V, W) - dictcomp_over_zip(X - eps * V, W)) / (2 * eps)
    assert np.allclose(tangent, numeric, rtol=1e-5, atol=1e-7)


# -- late binding: a nested function reads the enclosing value when it is called ----------

def late_binding(x, w):
    a = w * 2.0
    def f(v):
        return v * a
    a = a + x
    return np.sum(f(x))


def defaults_bind_early(x, w):
    a = w * 2.0
    g = lambda v, s=a: v * s  # noqa: E731
    p = functools.partial(np.multiply, a)
    a = a + x
    return np.sum(g(x) * a + p(x))


def frozen_binds_early(x, w):
    a = w * 2.0
    d = stats.norm(a, 1.0)
    a = a + x
    return np.sum(d.logpdf(x) * a)


def factory_binds_early(x, w):
    a = w * 1.0
    g = make(a)
    a = a * 3.0
    return np.sum(g(x) * a)


@pytest.mark.parametrize("fn", [late_binding, defaults_bind_early, factory_binds_early],
                         ids=lambda f: f.__name__)
def test_when_closures_read_their_values(fn):
    both(fn, X, W)


@needs_scipy
def test_a_frozen_distribution_keeps_its_parameters():
    both(frozen_binds_early, X, W)


def helper_global_named_like_a_local(x, w):
    scale = w * 2.0
    scale = scale + x  # renamed (scale_1) by normalization
    def f(v):
        return np.sin(v * w)
    return np.sum(real_helpers.apply_with_scale(f, x) * scale)


def test_another_modules_names_keep_their_meaning():
    both(helper_global_named_like_a_local, X, W)


# -- an inlined function of yours reads its module's globals, not the caller's locals -------

SCALE = 3.0


def make_scaled_by_global(a):
    def f(v):
        return v * a * SCALE
    return f


def apply_scaled_by_global(fn, v):
    return fn(v) * SCALE


def generate_scaled_by_global(a):
    for k in range(2):
        yield a * SCALE * k


def shadowing_caller(x, w):
    SCALE = w * 2.0  # a local named like the module's global the helpers read
    g = make_scaled_by_global(x)
    def f(v):  # noqa: E306
        return v * x
    s = np.sum(g(w) + apply_scaled_by_global(f, w))
    for v in generate_scaled_by_global(x):
        s = s + np.sum(v)
    return s + np.sum(SCALE)


def test_inlined_helpers_read_their_module_not_the_callers_locals():
    both(shadowing_caller, X, W)


# -- dict entries written under keys known only at run time ---------------------------------

def dict_filled_in_a_loop(x, w):
    d = {}
    for i, v in enumerate(x):
        d[i] = v * w[i]
    return d[0] * 2.0 + d[2]  # d[1] is never read


def dict_comprehension_partly_read(x, w):
    d = {i: v * w for i, v in enumerate([x, w, x * w])}
    return np.sum(d[0] * 2.0)


@pytest.mark.parametrize("fn", [dict_filled_in_a_loop, dict_comprehension_partly_read],
                         ids=lambda f: f.__name__)
def test_dict_entries_under_run_time_keys(fn):
    both(fn, X, W)


def chained_write_in_a_branch(x, w):
    d = {"b": np.sin(W), "a": x + 1.0}
    if np.sum(w) < 0.5:
        d["b"][2] = np.sum(np.sin(x * w))
    return np.sum(d["b"] * w) + np.sum(d["a"])


def test_write_into_an_item_of_an_item_in_a_branch():
    both(chained_write_in_a_branch, X, W)       # the branch not taken
    both(chained_write_in_a_branch, X, -W)      # taken
