"""sg.jit: the derivative compiled with Numba equals the NumPy derivative.

Skipped, with the reason shown, when Numba (the optional ``jit`` extra) is not
installed.  Each compiled result is checked against the uncompiled derivative
(to 1e-12 relative) and, where new, against central finite differences.
"""
import functools
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import numeric_grad

numba = pytest.importorskip("numba", reason="sg.jit needs Numba: pip install sourcegrad[jit]")


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(tmp_path_factory):
    """One cache directory for this module's tests (compiles are shared, as on disk)."""
    old = os.environ.get("SOURCEGRAD_JIT_CACHE")
    os.environ["SOURCEGRAD_JIT_CACHE"] = str(tmp_path_factory.mktemp("jit"))
    yield
    if old is None:
        del os.environ["SOURCEGRAD_JIT_CACHE"]
    else:
        os.environ["SOURCEGRAD_JIT_CACHE"] = old


def _same(got, want, rtol=1e-12):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-300)
        assert float(np.max(np.abs(a - b))) <= rtol * scale if b.size else True


def _compiled(j):
    """Whether the last call of ``j`` ran compiled code (not the NumPy fallback)."""
    return j._last[1].reason is None


def mlp(X, Y, W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / X.shape[0]


def rnn(xs, h0, Wx, Wh, b):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.mean(h ** 2)


def float_loop(x, a):
    for i in range(20):
        x = a * x + 0.1 * np.sin(x)
    return x


def bce(z, y):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def outer_loss(x, w, b):
    z = np.logaddexp(0.0, x @ w + b)
    return np.mean(z)


def reductions(a):
    m = np.mean(a, axis=0)
    s = a.sum(axis=1, keepdims=True)
    return np.sum(m * m) + np.sum(np.min(a, axis=1) * s[:, 0]) + np.mean(a, axis=-1).sum()


def _rng():
    return np.random.default_rng(7)


def _mlp_args():
    r = _rng()
    Y = np.eye(4)[r.integers(0, 4, 6)]
    return (r.standard_normal((6, 5)), Y, r.standard_normal((5, 7)) * 0.5,
            r.standard_normal(7) * 0.1, r.standard_normal((7, 4)) * 0.5,
            r.standard_normal(4) * 0.1)


CASES = [
    ("mlp", mlp, _mlp_args, (2, 3, 4, 5)),
    ("rnn", rnn, lambda: (_rng().standard_normal((4, 3, 2)), _rng().standard_normal((3, 5)),
                          _rng().standard_normal((2, 5)) * 0.5,
                          _rng().standard_normal((5, 5)) * 0.5, _rng().standard_normal(5)),
     (2, 3, 4)),
    ("float_loop", float_loop, lambda: (0.3, 0.9), (0, 1)),
    ("bce", bce, lambda: (_rng().standard_normal((5, 3)), (_rng().random((5, 3)) > 0.5) * 1.0),
     0),
    ("outer", outer_loss, lambda: (_rng().standard_normal(5), _rng().standard_normal((5, 3)),
                                   _rng().standard_normal(3)), (1, 2)),
    ("reductions", reductions, lambda: (_rng().standard_normal((4, 6)),), 0),
]


@pytest.mark.parametrize("name, fn, make, positions", CASES, ids=[c[0] for c in CASES])
def test_compiled_equals_numpy_derivative(name, fn, make, positions):
    args = make()
    g = sg.grad(fn, positions)
    j = sg.jit(g)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)  # a fallback fails the test
        got = j(*args)
        again = j(*args)  # the fast path
    assert _compiled(j)
    _same(got, g(*args))
    _same(again, got)


def test_compiled_gradient_matches_finite_differences():
    args = _mlp_args()
    got = sg.jit(sg.grad(mlp, (2, 3, 4, 5)))(*args)
    for pos, g in zip((2, 3, 4, 5), got):
        want = numeric_grad(mlp, args, pos)
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7)


def test_source_shows_the_compiled_dialect():
    args = _mlp_args()
    j = sg.jit(sg.grad(mlp, (2, 3, 4, 5)))
    j(*args)
    text = sg.source(j)
    assert "keepdims" not in sg.source(j, comments=False)  # lowered: Numba has none
    assert "_sg_jit.max_keep(" in text and "_sg_jit.sum_keep(" in text
    assert "# log_probs = shifted - np.log(" in text  # the user's lines, as comments
    compile(text, "<jit>", "exec")


def test_stacks_become_one_list_per_name():
    args = CASES[1][2]()
    j = sg.jit(sg.grad(rnn, (2, 3, 4)))
    j(*args)
    text = sg.source(j)
    assert "reversed(" not in text
    assert "stack_h = []" in text and "stack_h.pop()" in text


def test_value_and_grad_and_single_position():
    args = _mlp_args()
    for g in (sg.value_and_grad(mlp, 2), sg.grad(mlp, 2), sg.grad(mlp, (2,))):
        j = sg.jit(g)
        got = j(*args)
        assert _compiled(j)
        want = g(*args)
        if isinstance(want, tuple) and len(want) == 2 and np.ndim(want[0]) == 0:
            assert abs(got[0] - want[0]) <= 1e-12 * abs(want[0])
            _same(got[1], want[1])
        else:
            _same(got, want)


def test_new_shapes_compile_again():
    j = sg.jit(sg.grad(bce))
    y = np.ones((5, 3))
    for shape in ((5, 3), (2, 3)):
        z = _rng().standard_normal(shape)
        _same(j(z, y[:shape[0]]), sg.grad(bce)(z, y[:shape[0]]))


def _unsupported(x):
    return np.sum(np.linalg.slogdet(x)[1] * x)


def test_fallback_warns_once_naming_the_line():
    x = np.eye(3) * 2.0 + 0.1
    g = sg.grad(_unsupported)
    j = sg.jit(g)
    with pytest.warns(sg.JitWarning) as caught:
        got = j(x)
    assert len(caught) == 1
    msg = str(caught[0].message)
    assert "\n" not in msg and "test_jit.py:" in msg and "running it uncompiled" in msg
    _same(got, g(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)
        _same(j(x), g(x))  # the same signature: no second warning


def test_strict_raises():
    x = np.eye(3) * 2.0 + 0.1
    j = sg.jit(sg.grad(_unsupported), strict=True)
    with pytest.raises(sg.SourcegradError, match="Numba cannot compile"):
        j(x)


def _plain(x, y):
    return np.sum(np.sin(x) * y, axis=0, keepdims=True)


def test_plain_function():
    x, y = _rng().standard_normal((4, 3)), _rng().standard_normal((4, 3))
    j = sg.jit(_plain)
    _same(j(x, y), _plain(x, y))
    assert "_sg_jit.sum_keep(" in sg.source(j)


def test_disk_cache_serves_a_second_process(tmp_path):
    """A second process loads the machine code instead of compiling again."""
    script = (
        "import time, numpy as np, sourcegrad as sg, numba\n"
        "from tests.test_jit import float_loop\n"
        "j = sg.jit(sg.grad(float_loop, (0, 1)))\n"
        "j(0.3, 0.9)\n"
        "print(sum(j._last[1].call.stats.cache_hits.values()))\n")
    env = dict(os.environ, SOURCEGRAD_JIT_CACHE=str(tmp_path / "shared"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = [subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    first, second = (r.stdout.split()[-1] for r in runs)
    assert (first, second) == ("0", "1")  # compiled, then loaded from the disk cache


def branchy(x, w):
    s = 0.0
    i = 0
    while i < 3:
        if np.sum(x) > 0:
            s = s + np.sum(np.tanh(x * w))
        else:
            s = s - np.sum(x * x)
        x = x * 0.5
        i += 1
    return s, x


def test_control_flow_has_aux_and_sens():
    x, w = _rng().standard_normal(4), _rng().standard_normal(4)
    for g in (sg.grad(branchy, (0, 1), has_aux=True),
              sg.grad(branchy, 1, has_aux=True, sens_param=True)):
        j = sg.jit(g)
        extra = (2.0,) if g.sens else ()
        with warnings.catch_warnings():
            warnings.simplefilter("error", sg.JitWarning)
            got = j(x, w, *extra)
        assert _compiled(j)
        want = g(x, w, *extra)
        _same(got[0], want[0])
        _same(got[1], want[1])


def chain(x, a):
    return np.sum(np.sin(x) * np.exp(-x * x) * a + np.tanh(x) ** 2 / (1.0 + x * x))


@pytest.mark.parametrize("make", [
    lambda: (_rng().uniform(-2.0, 2.0, 50), 0.7),
    lambda: (np.asfortranarray(_rng().uniform(-2.0, 2.0, (4, 6))), 1.3),  # not C-ordered
    lambda: (_rng().uniform(-2.0, 2.0, (4, 6))[:, ::2], -0.4),           # strided view
], ids=["vector", "fortran", "strided"])
def test_elementwise_chain_is_one_fused_loop(make):
    """An all-elementwise derivative becomes one loop over the elements (no array
    per temporary), with the results of the NumPy derivative and of finite
    differences."""
    args = make()
    g = sg.grad(chain)  # (the gradient with respect to `a` is a sum: not elementwise)
    j = sg.jit(g)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)
        got = j(*args)
    assert _compiled(j)
    text = sg.source(j)
    assert "for i in range(size):" in text and "x_i = x_flat[i]" in text
    loop = [ln.strip() for ln in text.split("for i in range(size):")[1].splitlines()
            if not ln.strip().startswith("#")]
    # (the vectorisable sin, and the C library's in the function for far arguments)
    assert "sin = _sg_jit.vsin(x_i)" in loop and not any("np.sin(x)" in ln for ln in loop)
    assert "sin = np.sin(x_i)" in text
    _same(got, g(*args))
    np.testing.assert_allclose(got, numeric_grad(chain, args, 0), rtol=1e-6, atol=1e-8)


def _divides(x):
    return np.sum(1.0 / x)


def test_fused_loop_divides_by_zero_as_numpy_does():
    """x / 0.0 in compiled code is inf (NumPy's answer), not ZeroDivisionError."""
    x = np.array([0.5, 0.0, -2.0])
    g = sg.grad(_divides)
    with np.errstate(divide="ignore"):
        want = g(x)
        got = sg.jit(g)(x)
    np.testing.assert_array_equal(got, want)


def test_a_derivative_with_a_reduction_is_not_fused():
    args = _mlp_args()
    j = sg.jit(sg.grad(mlp, (2, 3, 4, 5)))
    j(*args)
    text = sg.source(j)
    assert "for i in range(size)" not in text and "_flat" not in text


def _net_and_loss():
    from sourcegrad import Parameter, Tensor, nn, ops

    w = Parameter(Tensor(_rng().standard_normal((4, 2)), sg.float64), name="w")
    b = Parameter(Tensor(_rng().standard_normal(2), sg.float64), name="b")

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = w
            self.b = b

        def construct(self, x):
            return ops.matmul(x, self.w) + self.b

    net = Net()
    loss_fn = nn.BCEWithLogitsLoss()

    def bce(x, y):
        return loss_fn(net(x), y)

    def squares(x):
        return np.sum(np.asarray(net(x)) ** 2)

    return net, loss_fn, bce, squares


def codegen_text(text):
    """``text`` without its comment lines."""
    return "".join(ln for ln in text.splitlines(True) if not ln.lstrip().startswith("#"))


def _same_weights(got, want):
    _same(np.asarray(got[0]), np.asarray(want[0]))
    _same(tuple(np.asarray(v) for v in got[1]), tuple(np.asarray(v) for v in want[1]))


def test_gradient_with_weights_is_one_compiled_function():
    """A Cell's gradient with ``weights=``: its methods inlined, the Parameters passed
    in as arrays and their gradients returned -- equal to the NumPy derivative, on
    the first call and on the fast path, and following the Parameters' values."""
    net, loss_fn, bce, squares = _net_and_loss()
    x, y = _rng().standard_normal(4), (_rng().random(2) > 0.5) * 1.0
    for fn, args in ((bce, (x, y)), (squares, (x,))):
        g = sg.value_and_grad(fn, None, weights=net.trainable_params())
        j = sg.jit(g)
        with warnings.catch_warnings():
            warnings.simplefilter("error", sg.JitWarning)
            for _ in range(3):  # first call, second (builds the fast path), fast path
                got = j(*args)
                assert _compiled(j)
                _same_weights(got, g(*args))
        text = sg.source(j)
        assert "net_w" in text and "weight_grads" not in codegen_text(text)
        assert ".w" not in codegen_text(text)
        net.w[0, 0] += 0.5  # an update in place is seen
        _same_weights(j(*args), g(*args))
        net.w -= 0.5 * net.w  # (still in place)
        _same_weights(j(*args), g(*args))
    got = sg.jit(sg.grad(bce, None, weights=net.trainable_params()))(x, y)
    want = sg.grad(bce, None, weights=net.trainable_params())(x, y)
    _same(tuple(np.asarray(v) for v in got), tuple(np.asarray(v) for v in want))
    k = [id(p) for p in net.trainable_params()].index(id(net.b))
    np.testing.assert_allclose(
        want[k], numeric_grad(lambda b_: np.mean(np.logaddexp(0.0, x @ np.asarray(net.w) + b_)
                                                 - y * (x @ np.asarray(net.w) + b_)),
                              (np.asarray(net.b).copy(),), 0), rtol=1e-6, atol=1e-9)


def test_weights_gradient_follows_attributes_taken_as_constants():
    """An attribute written into the compiled text (the loss's reduction) is checked on
    every call: changed, the derivative compiles again, with the new result."""
    net, loss_fn, bce, _ = _net_and_loss()
    x, y = _rng().standard_normal(4), (_rng().random(2) > 0.5) * 1.0
    g = sg.value_and_grad(bce, None, weights=net.trainable_params())
    j = sg.jit(g)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)
        j(x, y)
        j(x, y)
        assert "'mean'" in sg.source(j)
        loss_fn.reduction = "sum"
        got = j(x, y)
        assert _compiled(j) and "'sum'" in sg.source(j)
    _same_weights(got, g(x, y))


def test_gradient_of_a_method_runs_uncompiled_and_says_why():
    from sourcegrad import Parameter, Tensor, nn, ops

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(_rng().standard_normal((4, 2)), sg.float64), name="w")

        def construct(self, x):
            return np.sum(ops.matmul(x, self.w) ** 2)

    net = Net()
    g = sg.grad(net.construct)
    x = _rng().standard_normal(4)
    with pytest.warns(sg.JitWarning, match="gradient of a method"):
        got = sg.jit(g)(x)
    _same(got, g(x))


def _tanh_layer(x, w):
    return np.sum(np.tanh(x @ w) * np.exp(x @ w * 0.1))


def test_transcendental_functions_of_large_arrays_call_numpy_kernels():
    """np.tanh on a float64 array of 1024 elements or more runs NumPy's own (SIMD)
    kernel from the compiled code, with the NumPy derivative's results; on a
    small array, Numba's."""
    from sourcegrad import _jitlib
    for rows in (64, 2):  # 2048 elements, then 64
        args = (_rng().standard_normal((rows, 16)), _rng().standard_normal((16, 32)) * 0.3)
        g = sg.grad(_tanh_layer, (0, 1))
        j = sg.jit(g)
        with warnings.catch_warnings():
            warnings.simplefilter("error", sg.JitWarning)
            got = j(*args)
        assert _compiled(j) and "_sg_jit.tanh(" in sg.source(j)
        assert (rows * 32 >= _jitlib.SIMD_MIN_SIZE) == (rows == 64)
        _same(got, g(*args))


def _kernel_loop(kernel):
    from numba import njit

    @njit(error_model="numpy")
    def loop(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = kernel(x[i])
        return out
    return loop


def _domain():
    """Arguments over the whole float64 range: ordinary, huge, tiny, subnormal and
    special, and the edges of each kernel's cases."""
    r = np.random.default_rng(3)
    edges = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -5e-324, 1e-308, 709.78, 709.79,
             -745.13, -745.14, -708.5, -740.0, 19.0, 22.0, 22.5, 0.625, -0.55, np.pi / 4,
             np.pi / 2, np.pi, 1e5 * np.pi, 823549.5, -823549.5]
    return np.concatenate([r.standard_normal(20000), r.uniform(-50, 50, 20000),
                           r.uniform(-800, 800, 20000), r.uniform(-1e-5, 1e-5, 5000),
                           np.exp(r.uniform(-745, 709, 20000)) * r.choice([-1, 1], 20000),
                           r.uniform(-823549.0, 823549.0, 20000), edges])


@pytest.mark.parametrize("name", ["exp", "tanh", "sin", "cos"])
def test_vector_kernels_agree_with_numpy_to_a_few_ulps(name):
    """The polynomial exp/tanh/sin/cos a fused loop calls: within 3 units in the last
    place of NumPy's value, with NumPy's inf, NaN and signed zeros (sin and cos below
    TRIG_RANGE, where the loop uses them)."""
    from sourcegrad import _jitlib
    x = _domain()
    if name in ("sin", "cos"):
        x = x[~(np.abs(x) >= _jitlib.TRIG_RANGE)]
    with np.errstate(all="ignore"):
        got = _kernel_loop(getattr(_jitlib, "v" + name))(x)
        want = getattr(np, name)(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    ulps = np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))
    assert ulps.max() <= 3.0, x[finite][np.argmax(ulps)]
    zero = want == 0.0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))


def _trig_chain(x):
    return np.sum(np.sin(x) * np.exp(-x * x) + np.tanh(x) ** 2 + np.cos(2.0 * x))


@pytest.mark.parametrize("special", [None, 1e7, np.inf, np.nan])
def test_fused_loop_with_vector_kernels_equals_numpy_derivative(special):
    """The vectorised loop equals the NumPy derivative; an argument of sin/cos beyond
    TRIG_RANGE (or inf) reruns the loop with the C library's functions."""
    x = _rng().uniform(-3.0, 3.0, 3000)
    if special is not None:
        x[17] = special
    g = sg.grad(_trig_chain)
    j = sg.jit(g)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("error", sg.JitWarning)
        got = j(x)
        want = g(x)
    assert _compiled(j)
    text = sg.source(j)
    assert "_sg_jit.vcos(" in text and "far |= _sg_jit.far(" in text
    assert "return trig_chain_grad_libm(x)" in text
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    _same(got[ok], want[ok])
    if special is None:
        # (central differences of a sum of 3000 terms: good to about 1e-7)
        np.testing.assert_allclose(got, numeric_grad(_trig_chain, (x,), 0), rtol=1e-5,
                                   atol=1e-6)


def _helper_cases():
    """(name, Numba helper call, the NumPy function it stands for, arguments)."""
    from sourcegrad import _jitlib as L, ops, runtime
    from sourcegrad.rules import numpy_core, ops as ops_rules
    r = _rng()
    a2, b2, dz2 = r.standard_normal((3, 4)), r.standard_normal((4, 5)), r.standard_normal((3, 5))
    a1, b1 = r.standard_normal(4), r.standard_normal(4)
    z, t = r.standard_normal((3, 4)) * 3.0, (r.random((3, 4)) > 0.5) * 1.0
    wt, pw = r.random((3, 4)) + 0.5, r.random((3, 4)) + 0.5
    cases = [
        ("matmul 2x2", lambda a, b: L.matmul(a, b), ops.matmul, (a2, b2)),
        ("matmul 1x2", lambda a, b: L.matmul(a, b), ops.matmul, (a1, b2)),
        ("adjoint a 2x2", lambda d, a, b: L.matmul_adjoint_a(d, a, b), runtime.matmul_adjoint_a,
         (dz2, a2, b2)),
        ("adjoint b 2x2", lambda d, a, b: L.matmul_adjoint_b(d, a, b), runtime.matmul_adjoint_b,
         (dz2, a2, b2)),
        ("adjoint a 1x2", lambda d, a, b: L.matmul_adjoint_a(d, a, b), runtime.matmul_adjoint_a,
         (dz2[0], a1, b2)),
        ("adjoint b 1x2", lambda d, a, b: L.matmul_adjoint_b(d, a, b), runtime.matmul_adjoint_b,
         (dz2[0], a1, b2)),
        ("adjoint a 2x1", lambda d, a, b: L.matmul_adjoint_a(d, a, b), runtime.matmul_adjoint_a,
         (dz2[:, 0], a2, b1)),
        ("adjoint b 2x1", lambda d, a, b: L.matmul_adjoint_b(d, a, b), runtime.matmul_adjoint_b,
         (dz2[:, 0].copy(), a2, b1)),
        ("adjoint a 1x1", lambda d, a, b: L.matmul_adjoint_a(d, a, b), runtime.matmul_adjoint_a,
         (0.7, a1, b1)),
        ("outer 1x1", lambda a, b: L.outer(a, b), np.multiply.outer, (a1, b1[:3])),
        ("outer 2x1", lambda a, b: L.outer(a, b), np.multiply.outer, (a2, b1)),
        ("outer of ints", lambda a, b: L.outer(a, b), np.multiply.outer, (np.arange(3), b2)),
        ("outer strided", lambda a, b: L.outer(a, b), np.multiply.outer, (a2.T, b1[::2])),
        ("cast to float", lambda g, x: L.cast(g, x), ops_rules._cast, (z, 1.5)),
        ("cast to float32", lambda g, x: L.cast(g, x), ops_rules._cast, (z, z.astype(np.float32))),
        ("seed", lambda v: L.seed_like(v), runtime.seed_like, (z,)),
        ("sum adjoint", lambda d, a: L.sum_grad_all(d, a), numpy_core._sum_grad, (0.3, z)),
        ("asarray adjoint", lambda d, x: L.array_grad(d, x), numpy_core._array_grad, (t, z)),
    ]
    for how, w_, p_ in (("mean", None, None), ("mean", wt, pw), ("sum", wt, None),
                        ("none", None, pw)):
        cases.append((f"bce {how} {w_ is None} {p_ is None}",
                      eval(f"lambda a, b, w, p: _L.bce_with_logits(a, b, w, p, {how!r})",
                           {"_L": L}),
                      lambda a, b, w, p, how=how: ops.binary_cross_entropy_with_logits(
                          a, b, w, p, how), (z, t, w_, p_)))
        dz = 0.4 if how != "none" else r.standard_normal((3, 4))
        cases.append((f"bce adjoint {how} {w_ is None} {p_ is None}",
                      eval("lambda d, a, b, w, p: "
                           f"_L.bce_logits_grad_input(d, a, b, w, p, {how!r})", {"_L": L}),
                      lambda d, a, b, w, p, how=how: ops_rules._bce_logits_grad_input(
                          d, a, b, w, p, how), (dz, z, t, w_, p_)))
    if hasattr(ops_rules, "_bce_sigmoid"):
        cases.append(("bce sigmoid", lambda x: L.bce_sigmoid(x), ops_rules._bce_sigmoid,
                      (z * 300.0,)))
    return cases


def test_cell_helpers_equal_their_numpy_versions():
    """Each Numba helper a derivative is compiled with equals the NumPy function it
    stands for (np.multiply.outer, the seed of an array, a cast, matmul and its
    adjoints in 1-D and 2-D, BCE-with-logits and its adjoint in every reduction, with
    and without weights)."""
    from numba import njit
    for name, helper, numpy_fn, args in _helper_cases():
        got = njit(helper)(*args)
        want = numpy_fn(*args)
        assert np.shape(got) == np.shape(want), name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=name)


def _keyword_defaults(x, w, *, a=2.0, b=0.5):
    return np.sum(np.exp(a * x) * w) + b * np.sum(x * x)


def test_keyword_only_defaults_are_passed_to_the_compiled_function():
    # Numba takes every argument by position: sg.jit fills in the defaults
    # (a functools.partial's bound keywords arrive as such defaults)
    x, w = np.array([0.1, 0.2, -0.3]), np.array([1.0, 3.0, 0.5])
    for fn, kw in ((_keyword_defaults, {}), (_keyword_defaults, {"b": 2.0}),
                   (functools.partial(_keyword_defaults, a=0.5), {})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sg.JitWarning)  # (a partial runs uncompiled)
            got = sg.jit(sg.grad(fn))(x, w, **kw)
        np.testing.assert_allclose(got, sg.grad(fn)(x, w, **kw), rtol=1e-12)


# -- early returns, loops that stop early, loops over rows, callees ---------------------
# (the derivative keeps ``result = None`` / ``row = None`` before a name's first
# assignment, replays ``reversed(steps[:trips])`` and calls callee derivatives: each
# compiles, and equals the NumPy derivative and finite differences)

def early_return_in_if(x):
    if np.sum(x) < 0:
        return np.sum(x * x)
    y = np.exp(x)
    return np.sum(y * x)


def early_return_in_loop(x):
    y = x
    for i in range(10):
        y = y * 1.5
        if np.sum(y) > 6.0:
            return np.sum(y * x)
    return np.sum(y)


def early_return_in_while(x):
    y = x
    while True:
        y = y + x * x
        if np.sum(y) > 3.0:
            return np.sum(np.sin(y))


def early_return_elif_chain(x):
    s = np.sum(x)
    if s > 2.0:
        return s * s
    elif s > 0.0:
        return np.sum(np.sin(x))
    return np.sum(x ** 3)


def continue_over_rows(m):
    acc = 0.0
    for row in m:
        if np.sum(row) < 0:
            continue
        acc = acc + np.sum(row * row)
    return acc


def nested_loops_with_break(x):
    acc = 0.0
    for i in range(3):
        for j in range(4):
            acc = acc + np.sum(np.tanh(x * (i + j)))
            if acc > 2.5:
                break
    return acc


def inner_range_from_outer(x):
    acc = 0.0
    for i in range(3):
        for j in range(i + 1):  # (each inner range saved for the backward sweep)
            acc = acc + np.sum(np.sin(x * (j + 1)))
    return acc


def _scaled(v, w, *, shift=0.5):
    return np.tanh(v * w + shift)


def calls_a_helper(x, w):
    def act(h):
        return np.sin(h * w)
    return np.sum(act(x) * _scaled(x, w, shift=0.25))


EARLY = [
    ("return_in_if", early_return_in_if, lambda: (np.array([0.5, 1.5, 2.0]),), 0),
    ("return_in_if_taken", early_return_in_if, lambda: (np.array([-0.5, -1.5, 0.2]),), 0),
    ("return_in_loop", early_return_in_loop, lambda: (np.array([0.3, 0.2, 0.1]),), 0),
    ("return_in_while", early_return_in_while, lambda: (np.array([0.5, 0.6]),), 0),
    ("elif_chain", early_return_elif_chain, lambda: (np.array([0.5, 0.4, -0.3]),), 0),
    ("continue_rows", continue_over_rows,
     lambda: (np.array([[1.0, 2.0], [-1.0, -3.0], [0.5, 0.1]]),), 0),
    ("break_nested", nested_loops_with_break, lambda: (np.array([0.2, -0.1, 0.3]),), 0),
    ("inner_range_saved", inner_range_from_outer, lambda: (np.array([0.2, -0.1, 0.3]),), 0),
    ("callees", calls_a_helper, lambda: (np.array([0.3, -0.8, 1.4]),
                                         np.array([1.2, 0.5, -0.7])), (0, 1)),
    ("partial_kwonly", functools.partial(_scaled, shift=0.1),
     lambda: (np.array([0.3, -0.8]), np.array([1.2, 0.5])), (0, 1)),
    ("partial_sum_axis", functools.partial(np.sum, axis=0),
     lambda: (np.array([0.3, -0.8, 0.1]),), 0),
]


@pytest.mark.parametrize("name, fn, make, positions", EARLY, ids=[c[0] for c in EARLY])
def test_early_exits_and_callees_compile(name, fn, make, positions):
    args = make()
    g = sg.grad(fn, positions)
    j = sg.jit(g)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)  # a fallback fails the test
        got = j(*args)
        again = j(*args)
    assert _compiled(j)
    want = g(*args)
    _same(got, want)
    _same(again, want)
    wants = want if isinstance(want, tuple) else (want,)
    for pos, w in zip(positions if isinstance(positions, tuple) else (positions,), wants):
        np.testing.assert_allclose(w, numeric_grad(fn, args, pos), rtol=1e-5, atol=1e-7)


def test_early_return_value_and_grad_with_some_positions_compiles():
    def f(x, w, b):
        z = np.tanh(x * w + b)
        if np.sum(z) > 0.0:
            return np.sum(z * z)
        return np.sum(z)
    args = (np.array([0.3, -0.8, 1.4]), np.array([1.2, 0.5, -0.7]), 0.1)
    for positions in (1, (0, 2)):
        g = sg.value_and_grad(f, positions)
        with warnings.catch_warnings():
            warnings.simplefilter("error", sg.JitWarning)
            j = sg.jit(g)
            got = j(*args)
        assert _compiled(j)
        value, grads = got
        want_value, want_grads = g(*args)
        _same(value, want_value)
        _same(grads, want_grads)


def _unset_then_array(x):
    acc = 0.0
    for row in x:
        h = np.exp(row)
        acc = acc + np.sum(h * row)
    return acc


def test_a_name_before_its_first_assignment_is_typed_not_none():
    # ``h = None`` before the loop (its value saved each iteration) is written as
    # UNSET, which Numba types as h's arrays: Optional arrays do not compile
    g = sg.grad(_unset_then_array)
    j = sg.jit(g)
    x = np.arange(6.0).reshape(3, 2) / 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)
        got = j(x)
    assert _compiled(j)
    _same(got, g(x))
    text = sg.source(j)
    assert "_sg_jit.UNSET" in text and "= None" not in text


def _with_errstate(x):
    with np.errstate(divide="ignore"):
        y = np.log(x * x)
    return np.sum(y)


@pytest.mark.parametrize("fn, args, construct", [
    (_unsupported, (np.eye(3) * 2.0 + 0.1,), "`return np.sum(np.linalg.slogdet(x)[1] * x)`"),
    (_with_errstate, (np.array([0.5, 2.0]),), "np.errstate"),
])
def test_fallback_warning_names_the_construct_in_plain_words(fn, args, construct):
    with pytest.warns(sg.JitWarning) as caught:
        got = sg.jit(sg.grad(fn))(*args)
    msg = str(caught[0].message)
    assert "\n" not in msg and construct in msg and "test_jit.py:" in msg
    # Numba's own vocabulary stays out: no temporaries, pipeline stages or ANSI codes
    for internal in ("$", "Failed in", "nopython", "During:", "\x1b["):
        assert internal not in msg
    _same(got, sg.grad(fn)(*args))


def test_float32_value_stays_float32():
    def f(x, w):
        return np.sum(np.tanh(x * w))
    x, w = np.linspace(-1.0, 1.0, 4).astype(np.float32), np.float32(0.7) * np.ones(4, np.float32)
    g = sg.value_and_grad(f, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)
        value, grad = sg.jit(g)(x, w)
    want_value, want_grad = g(x, w)
    assert type(value) is type(want_value) and np.asarray(value).dtype == np.float32
    np.testing.assert_allclose(value, want_value, rtol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-6)
    assert grad.dtype == want_grad.dtype


def test_aux_containers_come_back_as_python_containers():
    # a dict made in compiled code is Numba's typed dict: given back as a dict
    def f(x, w):
        return np.sum(x * w), {"n": 3}
    x, w = np.array([0.3, -0.8, 1.4]), np.array([1.2, 0.5, -0.7])
    g = sg.grad(f, 1, has_aux=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.JitWarning)
        j = sg.jit(g)
        got = j(x, w)
        again = j(x, w)
    want = g(x, w)
    for res in (got, again):
        assert type(res[1][0]) is dict and res[1][0] == want[1][0]
        _same(res[0], want[0])


def _falls_off_the_end(x):
    if np.sum(x) > 0:
        return np.sum(x * x)


@pytest.mark.parametrize("x", [np.array([1.0, 2.0]), np.array([-1.0, -2.0])])
def test_a_path_without_return_gives_what_numpy_gives(x):
    # ``result = None`` is saved before the branch and restored on a path that
    # returns nothing: the NumPy derivative gives zeros there.  (Numba types the
    # restored stand-in only through the value saved, which is the stand-in alone:
    # this one may run uncompiled, saying so in one line.)
    g = sg.grad(_falls_off_the_end)
    j = sg.jit(g)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sg.JitWarning)
        got = j(x)
    for w in caught:
        msg = str(w.message)
        assert "\n" not in msg and "test_jit.py:" in msg and "$" not in msg
    _same(got, g(x))
