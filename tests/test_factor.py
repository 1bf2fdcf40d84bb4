"""The optimizer's ``factor`` pass (optimize/factor.py): a constant factor of an
adjoint (a mean's ``1/n``, a negation) carried through the backward sweep and
multiplied in once, where the value is read otherwise or leaves the sweep.

Every case is checked against finite differences and against the same
derivative built without the pass (equal but for rounding); the source checks
say where the pass fires and where it must not (float32 values, integer
arrays, shapes unknown).  ``docs/pipeline.md`` describes the pass.
"""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import optimize, pipeline
from sourcegrad.testing import check_grads

rng = np.random.default_rng(11)
Z = rng.standard_normal((5, 3))
Y = (rng.random((5, 3)) > 0.5).astype(np.float64)
X4 = rng.standard_normal(4)
W = rng.standard_normal((4, 3))
B3 = rng.standard_normal(3)


def stable_bce(z, y):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def tutorial(x, y, w, b):
    z = x @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def product_of_means(z, y):
    return np.mean(z * y) * np.mean(z / 3.0 - y)


def shapes_and_sums(z, y):
    a = (z * y).T / 4.0
    b = a.reshape(-1) * 2.0
    return np.sum(b) + np.mean(a.sum(axis=0) - 1.0) - np.mean(-z)


def reciprocal(z, y):
    return np.mean(3.0 / (z * z + 1.0)) - np.mean(y / (z * z + 2.0))


def negations(z, y):
    u = -(-(z * y))
    return np.mean(-u) + np.mean(-(-z)) / 7.0


def loop(z, y):
    s = 0.0
    for i in range(3):
        s = s + np.mean(z * y * (i + 1.0)) / 2.0
        z = np.tanh(z) * 0.5
    return s


def branch(z, y):
    if np.sum(z) > 0.0:
        out = np.mean(z * y) / 3.0
    else:
        out = -np.mean(z * z) * 2.0
    return out + np.mean(np.sin(z))


def written_after(z, y):
    v = z * 2.0
    w = np.zeros(3)
    w[0] = np.sum(v)
    w[1:] = v[0, :2] * y[0, :2]
    return np.mean(w * v[1]) / 5.0


def int_factor(z, k):
    return np.mean(z * k) + np.mean(z * 3)


def mixed_float32(z, y32):
    return np.mean(np.sin(z) * y32) / 4.0


def float32_mean(z, y):
    return np.mean(np.sin(z) * 3.0 - y * z) / 2.0


CASES = [stable_bce, product_of_means, shapes_and_sums, reciprocal, negations, loop,
         branch, written_after, float32_mean]


def _without_pass(monkeypatch, fn, args, wrt):
    """``fn``'s gradient with the factor pass left out (the cache emptied before and after)."""
    pipeline.derivatives(fn).clear()
    with monkeypatch.context() as m:
        m.setattr(optimize, "factor", lambda stmts, *rest: stmts)
        got = sg.grad(fn, wrt)(*args)
    pipeline.derivatives(fn).clear()
    return got


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_gradient(fn, monkeypatch):
    z = Z.copy()
    z[0, 0] = 0.0  # a tie of maximum(z, 0): half the adjoint each way
    check_grads(fn, Z, Y, wrt=0)
    got = sg.grad(fn, (0, 1))(z, Y)
    want = _without_pass(monkeypatch, fn, (z, Y), (0, 1))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


def test_tutorial(monkeypatch):
    args = (X4, B3 * 0.0, W, B3)
    check_grads(tutorial, *args, wrt=(2, 3))
    g = sg.grad(tutorial, (2, 3))
    got = g(*args)
    want = _without_pass(monkeypatch, tutorial, args, (2, 3))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    # the mean's 1/3 once, on dz, which both the matmul's and the bias's adjoint read
    text = sg.source(g, comments=False)
    assert text.count("0.3333") == 1, text


def test_bce_factor_applied_once():
    g = sg.grad(stable_bce)
    g(Z, Y)
    text = sg.source(g, comments=False)
    assert text.count("0.0666") == 1, text
    assert "np.where" not in text and "heaviside" in text, text


def test_float32_untouched():
    """float32 values: moving a factor would round differently; nothing moves."""
    z, y = Z.astype(np.float32), Y.astype(np.float32)
    g = sg.grad(float32_mean)
    got = g(z, y)
    assert got.dtype == np.float32
    before = sg.source(g, stage="specialize")
    assert sg.source(g, stage="factor") == before


def _backward(g, stage):
    return sg.source(g, stage=stage).split("# backward sweep")[1]


def test_integer_array_untouched():
    """An integer array times the adjoint: not a float64 value, so read as written
    (the mean's factor stays in the product with ``k``)."""
    k = np.arange(15).reshape(5, 3)
    check_grads(int_factor, Z, k, wrt=0)
    g = sg.grad(int_factor)
    np.testing.assert_allclose(g(Z, k), (k + 3.0) / 15.0, rtol=1e-13)
    factored = _backward(g, "factor")
    lines = [s for s in factored.splitlines() if "* k" in s]
    assert lines and all(s in _backward(g, "specialize") for s in lines), factored


def test_float32_part_untouched():
    """A float32 value on the way: the factor is applied before it, as the rule
    wrote it."""
    g = sg.grad(mixed_float32)
    y32 = Y.astype(np.float32)
    got = g(Z, y32)
    factored = _backward(g, "factor")
    lines = [s for s in factored.splitlines() if "y32" in s]
    assert lines and all(s in _backward(g, "specialize") for s in lines), factored
    np.testing.assert_allclose(got, np.cos(Z) * y32 / 60.0, rtol=1e-6)


def test_unknown_shapes_untouched():
    """The general derivative (no shapes known) is not rewritten."""
    g = sg.grad(stable_bce)
    assert sg.source(g, stage="factor") == sg.source(g, stage="specialize")


def test_no_shared_arrays():
    """``d = 1.0 * y`` read as ``y`` itself is never bound to ``y``: the gradient is
    a new array the caller may write into."""
    def f(z, y):
        return np.mean(z * y) * 15.0
    y = Y.copy()
    dz = sg.grad(f)(Z, y)
    dz2 = sg.grad(f)(Z, y)
    assert dz is not y and not np.shares_memory(dz, y)
    dz[...] = 7.0
    np.testing.assert_array_equal(y, Y)
    np.testing.assert_allclose(dz2, Y)


def test_step_of_maximum():
    """``maximum(x, 0)``/``minimum(0, x)`` of float64 arrays: heaviside's step, the
    helper's numbers at ties, infinities and NaN."""
    def relu(x):
        return np.sum(np.maximum(x, 0) + 2.0 * np.minimum(0.0, x))
    x = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan])
    g = sg.grad(relu)
    got = g(x)
    assert "heaviside" in sg.source(g)
    above = np.where(x == 0, 0.5, np.where(x > 0, 1.0, 0.0))
    below = np.where(x == 0, 0.5, np.where(x < 0, 1.0, 0.0))
    np.testing.assert_array_equal(got, above + 2.0 * below)
    g32 = sg.grad(relu)
    assert g32(x.astype(np.float32)).dtype == np.float32
    assert "heaviside" not in sg.source(g32)


# -- random straight-line programs: with the pass and without it ---------------------

_UNARY = ["{a} * {c}", "{a} / {c}", "{c} / ({a} * {a} + 1.0)", "-{a}", "np.sin({a})",
          "np.maximum({a}, 0)", "np.minimum(0.0, {a})", "np.abs({a}) * {c}",
          "np.log1p(np.exp(-np.abs({a})))", "{a}.T.T / {c}", "({a} @ M33) * {c}",
          "np.sum({a}, axis=0) * {c} + {a}", "{a}.sum(axis=1, keepdims=True) / {c} - {a}",
          "np.mean({a}, axis=1, keepdims=True) * {a}", "{c} - {a}", "-(-{a} / {c})"]
_BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 2.0)",
           "{c} * {a} - {b} / {c}", "-{a} * {b}", "np.tanh({a}) * -{b}"]
_CONSTS = ["2.0", "3", "0.5", "-1.5", "7.0", "1"]
_OUTS = ["np.mean({a})", "np.sum({a}) / {c}", "-np.mean({a} * {c})", "np.mean({a}) * {c}",
         "np.sum({a} * {b}) / 15.0"]


def _program(rng, n, blocks=False):
    """Source of a random function of z and y, ``n`` statements long (straight-line,
    or with ``blocks`` some of them in a branch or a loop)."""
    names = ["z", "y"]
    lines = ["def f(z, y):"]
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731

    def form(a, b=None):
        shape = pick(_UNARY) if rng.random() < 0.6 else pick(_BINARY)
        return shape.format(a=a, b=b or pick(names), c=pick(_CONSTS))
    for i in range(n):
        a, v = pick(names), f"v{i}"
        how = rng.random() if blocks else 1.0
        if how < 0.2:
            lines += [f"    if np.sum({a}) > 0.0:", f"        {v} = {form(a)}",
                      "    else:", f"        {v} = {form(pick(names))}"]
        elif how < 0.4:
            lines += [f"    {v} = {a} * 1.0", "    for i in range(2):",
                      f"        {v} = np.tanh({form(v)}) * 0.5"]
        else:
            lines.append(f"    {v} = " + form(a))
        names.append(v)
    outs = [pick(_OUTS).format(a=pick(names[2:]), b=pick(names), c=pick(_CONSTS))
            for _ in range(3)]
    lines.append("    return " + " + ".join(outs))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("dtype,blocks", [(np.float64, False), (np.float32, False),
                                          (np.float64, True)])
def test_random_programs(tmp_path, monkeypatch, dtype, blocks):
    """60 random programs of means, sums, products, quotients and negations (some
    in branches and loops): the pass changes gradients by rounding at most, and
    never their dtype."""
    import importlib.util
    rng = np.random.default_rng((1234 if dtype == np.float64 else 4321) + blocks)
    z, y = Z.astype(dtype), (Y + 0.5).astype(dtype)
    fired = 0
    for k in range(60):
        path = tmp_path / f"factor_prog_{dtype.__name__}_{k}.py"
        path.write_text("import numpy as np\nM33 = np.array([[0.5, -1.0, 0.25], "
                        "[1.5, 0.3, -0.7], [0.2, 0.9, 1.1]], "
                        f"dtype=np.{dtype.__name__})\n\n" + _program(rng, 6, blocks))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fn = module.f
        g = sg.grad(fn, (0, 1))
        got = g(z, y)
        text = (sg.source(g, stage="specialize"), sg.source(g, stage="factor"))
        fired += text[0] != text[1]
        if dtype == np.float32:
            assert text[0] == text[1], path.read_text()
        want = _without_pass(monkeypatch, fn, (z, y), (0, 1))
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12 if dtype == np.float64 else 0,
                                       atol=1e-14, err_msg=path.read_text())
        if dtype == np.float64 and k % 10 == 0:
            check_grads(fn, z, y, wrt=(0, 1))
    if dtype == np.float64:
        assert fired > 30  # (the programs do exercise the pass)
