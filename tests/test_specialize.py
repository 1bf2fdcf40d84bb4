"""Shape-specialised backward sweeps: what the optimizer may do once shapes are known.

* a sum's or mean's adjoint stays a small value while only elementwise
  operations read it, and is spread to its full shape before anything else
  does (a matmul, a reduction, a loop, the return);
* ``unbroadcast`` becomes ``.sum(axis=...)``;
* ``d = d + e`` becomes ``d += e`` only where ``d`` owns its array;
* single-use temporaries are put back into the expression that uses them.

Every case is checked against finite differences (the gradient) and, where it
matters, against the generated source (that the optimization happened, or that
it did not where it would be wrong).  The same function is also called twice so
the second call runs the cached derivative.
"""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

rng = np.random.default_rng(7)
A = rng.standard_normal((4, 3))
B = rng.standard_normal((3, 5))
V3 = rng.standard_normal(3)
V4 = rng.standard_normal(4)
ROW = rng.standard_normal((1, 3))
COL = rng.standard_normal((4, 1))


def source_after_call(fn, *args, wrt=0):
    g = sg.grad(fn, wrt)
    g(*args)
    return sg.source(g, comments=False)


# -- a mean's adjoint meets each kind of reader ----------------------------------------

def mean_into_matmul(a, b):
    return np.mean(a @ b)


def mean_into_sum_axis(a):
    return np.mean(np.sum(a, axis=0) * 2.0)


def mean_returned_directly(a):
    return np.mean(a)


def sum_returned_directly(a):
    return np.sum(a)


def mean_of_scalar_chain(a):
    return np.mean(-a) * 3.0


def mean_into_broadcast_add(a, v):
    return np.mean(a + v)


def mean_into_loop(a):
    s = np.mean(a * a)
    out = 0.0
    for i in range(3):
        out = out + s * i
    return out


def sum_keepdims_softmax(a):
    e = np.exp(a - np.max(a, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(p * np.arange(3.0))


def sum_axis_no_keepdims(a):
    return np.sum(np.sum(a * a, axis=1) * np.arange(4.0))


def sum_negative_axis(a):
    return np.sum(np.sin(np.sum(a, axis=-1)))


def mean_axis_tuple(a):
    return np.sum(np.mean(a * a, axis=(0, 1), keepdims=True) * 5.0)


def mean_into_reshape(a):
    return np.sum(np.reshape(np.mean(a, axis=0) * a, (12,)) * np.arange(12.0))


def mean_into_index(a):
    m = a * np.mean(a)
    return m[1, 2] + m[0, 0]


def mean_float32(a):
    return np.mean(np.tanh(a))


CASES = [
    (mean_into_matmul, (A, B)),
    (mean_into_sum_axis, (A,)),
    (mean_returned_directly, (A,)),
    (sum_returned_directly, (A,)),
    (mean_of_scalar_chain, (A,)),
    (mean_into_broadcast_add, (A, V3)),
    (mean_into_broadcast_add, (A, ROW)),
    (mean_into_broadcast_add, (A, COL)),
    (mean_into_loop, (A,)),
    (sum_keepdims_softmax, (A,)),
    (sum_axis_no_keepdims, (A,)),
    (sum_negative_axis, (A,)),
    (mean_axis_tuple, (A,)),
    (mean_into_reshape, (A,)),
    (mean_into_index, (A,)),
]


@pytest.mark.parametrize("fn,args", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_uniform_adjoints(fn, args):
    check_grads(fn, *args)
    check_grads(fn, *args)  # the cached, specialised derivative


def test_mean_seed_is_a_constant():
    text = source_after_call(mean_into_broadcast_add, A, V3, wrt=(0, 1))
    assert "broadcast_to" not in text and "ones_like" not in text
    assert "1 / 12" in text or "0.08333333333333333" in text


def test_spread_before_a_matmul():
    # the adjoint reaching the matmul must be a full (4, 5) array
    text = source_after_call(mean_into_matmul, A, B, wrt=(0, 1))
    assert "np.full((4, 5)" in text or "broadcast_to" in text


def test_gradients_have_the_input_shape_and_dtype():
    for fn in (mean_returned_directly, sum_returned_directly, mean_of_scalar_chain):
        g = sg.grad(fn)(A)
        assert g.shape == A.shape and g.dtype == A.dtype and g.flags.writeable
    a32 = A.astype(np.float32)
    g = sg.grad(mean_float32)(a32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, (1 - np.tanh(a32) ** 2) / a32.size, rtol=1e-6)


# -- unbroadcast as .sum ------------------------------------------------------------------

def add_vector(a, v):
    return np.sum(np.sin(a + v))


def add_row_and_col(a, r, c):
    return np.sum(np.cos(a * r + c))


def add_scalar_array(a, s):
    return np.sum((a + s) ** 2)


def batch_add(x, w):
    return np.sum(np.tanh(x + w) * np.arange(3.0))


@pytest.mark.parametrize("fn,args", [
    (add_vector, (A, V3)),
    (add_row_and_col, (A, ROW, COL)),
    (add_scalar_array, (A, np.array(0.3))),
    (add_scalar_array, (A, np.array([0.3]))),
    (batch_add, (rng.standard_normal((2, 4, 3)), rng.standard_normal((4, 1)))),
    (batch_add, (rng.standard_normal((2, 4, 3)), rng.standard_normal((1, 1, 3)))),
], ids=lambda c: getattr(c, "__name__", ""))
def test_unbroadcast_as_sum(fn, args):
    check_grads(fn, *args)


def test_unbroadcast_written_out():
    text = source_after_call(add_vector, A, V3, wrt=(0, 1))
    assert "unbroadcast" not in text and ".sum(axis=0)" in text


# -- in-place accumulation ------------------------------------------------------------------

def rnn(xs, h, w):
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h)
    return np.sum(h * h)


def shared_adjoint(a):
    # the adjoint of b is a's adjoint too: accumulating into it in place would
    # corrupt a's
    b = a
    c = np.sin(a) + np.cos(b)
    return np.sum(c * b)


def accumulate_then_alias(a, w):
    z = a @ w
    y = z * z + z
    return np.sum(y * z)


def repeated_use(a):
    return np.sum(a * a * a + np.exp(a) * a - a)


def test_in_place_where_owned():
    xs, h, w = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 3)), \
        rng.standard_normal((3, 3))
    check_grads(rnn, xs, h, w, wrt=(1, 2))
    text = source_after_call(rnn, xs, h, w, wrt=(1, 2))
    assert "dw += " in text


@pytest.mark.parametrize("fn,args", [
    (shared_adjoint, (A,)),
    (accumulate_then_alias, (A, rng.standard_normal((3, 3)))),
    (repeated_use, (A,)),
])
def test_accumulation_correct(fn, args):
    check_grads(fn, *args)
    check_grads(fn, *args)


def test_inputs_are_never_updated_in_place():
    a0 = A.copy()
    w0 = B.copy()
    sg.grad(mean_into_matmul, (0, 1))(a0, w0)
    sg.grad(repeated_use)(a0)
    np.testing.assert_array_equal(a0, A)
    np.testing.assert_array_equal(w0, B)


def test_returned_gradients_are_distinct_arrays():
    # d/da and d/db of a + b are the same adjoint: each returned gradient must
    # be its own array, or updating one would change the other
    def add(a, b):
        return np.sum((a + b) * 2.0)
    ga, gb = sg.grad(add, (0, 1))(A.copy(), A.copy())
    ga += 1.0
    np.testing.assert_allclose(gb, 2.0)


# -- inlining respects evaluation order -----------------------------------------------------

calls = []


def logged(x, tag):
    calls.append(tag)
    return x * 2.0


def order_matters(a):
    b = np.sin(a)
    c = logged(a, "first")
    d = logged(b, "second")
    return np.sum(c * d)


def test_inlining_keeps_user_calls_in_order():
    check_grads(order_matters, A)
    calls.clear()
    sg.grad(order_matters)(A)
    assert calls == ["first", "second"]


def test_temporaries_inlined():
    def mlp(x, w1, w2):
        h = np.tanh(x @ w1 + 1.0)
        return np.sum(h @ w2)
    w1, w2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    check_grads(mlp, A, w1, w2, wrt=(1, 2))
    text = source_after_call(mlp, A, w1, w2, wrt=(1, 2))
    assert "h = np.tanh(x @ w1 + 1.0)" in text


# -- a lean adjoint meets control flow in the backward sweep ---------------------------------

def mean_after_branch(x, y):
    z = x * 2.0
    if np.sum(y) > 0:
        z = z + y
    else:
        z = np.sin(z)
    return np.mean(z)


def mean_after_loop_rebinding(x):
    z = x
    for i in range(3):
        if i == 1:
            z = z * x
    return np.mean(z)


def mean_of_broadcast_in_branch(x, v):
    z = x + v
    if np.sum(v) < 0:
        z = z * 0.5
    return np.mean(z)


@pytest.mark.parametrize("fn,args", [
    (mean_after_branch, (A, np.abs(A))),
    (mean_after_branch, (A, -np.abs(A))),
    (mean_after_loop_rebinding, (A,)),
    (mean_of_broadcast_in_branch, (A, np.abs(V3))),
    (mean_of_broadcast_in_branch, (A, -np.abs(V3))),
], ids=lambda c: getattr(c, "__name__", ""))
def test_lean_adjoints_through_control_flow(fn, args):
    check_grads(fn, *args)
    g = sg.grad(fn, tuple(range(len(args))))(*args)
    assert all(gi.shape == a.shape for gi, a in zip(g, args))


# -- shapes and ints that depend on the data are never taken from stand-ins --------------

def unique_count(x):
    u = np.unique(np.round(x))
    return np.sum(x) * u.shape[0] + np.mean(u * 1.0)


def nonzero_items(x):
    idx = np.nonzero(x > 0)[0]
    return np.mean(x[idx] ** 2)


def count_from_data(x):
    k = int(np.sum(x > 0))
    return np.mean(x[:k] ** 2) * k


def argmax_index(x):
    i = np.argmax(x)
    return x[i] * 3.0 + np.sum(x[:i + 1])


def loop_count_from_float(x, s):
    n = int(s * 2.0)
    out = 0.0
    for i in range(n):
        out = out + np.sum(x) * i
    return out


def where_one_arg(x):
    return np.sum(x[np.where(x < 0)] ** 2)


MIXED = np.array([0.5, -1.0, 2.0, -0.3, 0.7, 1.6])


@pytest.mark.parametrize("fn,args", [
    (unique_count, (MIXED,)),
    (nonzero_items, (MIXED,)),
    (count_from_data, (MIXED,)),
    (argmax_index, (MIXED,)),
    (loop_count_from_float, (MIXED, 1.7)),
    (where_one_arg, (MIXED,)),
], ids=lambda c: getattr(c, "__name__", ""))
def test_data_dependent_shapes(fn, args):
    check_grads(fn, *args, wrt=0)
    check_grads(fn, *args, wrt=0)


# -- integer and boolean array inputs are part of the specialisation ---------------------

def softmax_xent(W, X, y):
    logits = X @ W
    logits = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits).sum(axis=1))
    return np.mean(lse - logits[np.arange(len(y)), y])


def gather_repeated(x, idx):
    return np.sum(np.sin(x[idx]) * np.arange(float(len(idx))))


def masked_mean(x, m):
    return np.mean(x[m] ** 2) + np.sum(np.where(m, x, 0.0))


def int_scale(x, k):
    return np.sum(x * k) / k.size


@pytest.mark.parametrize("fn,args,wrt", [
    (softmax_xent, (rng.standard_normal((4, 3)), rng.standard_normal((6, 4)),
                    np.array([0, 2, 1, 1, 0, 2])), (0, 1)),
    (gather_repeated, (V4, np.array([3, 0, 3, 1, 3])), 0),
    (masked_mean, (V4, np.array([True, False, True, True])), 0),
    (masked_mean, (V4, np.array([False, False, True, False])), 0),
    (int_scale, (A, np.arange(12).reshape(4, 3)), 0),
], ids=lambda c: getattr(c, "__name__", ""))
def test_integer_and_mask_inputs(fn, args, wrt):
    check_grads(fn, *args, wrt=wrt)
    check_grads(fn, *args, wrt=wrt)


def test_one_derivative_for_masks_and_indices_of_the_same_shape():
    g = sg.grad(masked_mean)
    for m in ([True, False, True, True], [False, False, True, False], [True] * 4):
        m = np.array(m)
        want = 2 * V4 * m / m.sum() + m
        np.testing.assert_allclose(g(V4, m), want, rtol=1e-12)
    g = sg.grad(gather_repeated)
    for idx in ([3, 0, 3, 1, 3], [0, 1, 2, 3, 0]):
        idx = np.array(idx)
        want = np.zeros(4)
        np.add.at(want, idx, np.cos(V4[idx]) * np.arange(5.0))
        np.testing.assert_allclose(g(V4, idx), want, rtol=1e-12)


# -- item reads in loops: the adjoint is added at the item, in place -------------------------

def rows_loop(x, w):
    total = np.zeros(x.shape[1])
    for i in range(x.shape[0]):
        total = total + w[i] * x[i]
    return np.sum(total ** 2)


def slices_loop(x):
    out = 0.0
    for i in range(3):
        out = out + np.sum(x[i:i + 2] ** 2) + np.sum(x[::-1][i] * x[i])
    return out


def fancy_repeats(x, idx):
    out = 0.0
    for k in range(2):
        out = out + np.sum(np.sin(x[idx]) * (k + 1.0))
    return out


def column_reads(x):
    return np.sum(x[:, 0] * x[:, 1]) + np.sum(x[1:, -1] ** 2)


@pytest.mark.parametrize("fn,args,wrt", [
    (rows_loop, (A, V4), (0, 1)),
    (slices_loop, (rng.standard_normal(6),), 0),
    (fancy_repeats, (V4, np.array([1, 1, 3, 0, 1])), 0),
    (column_reads, (A,), 0),
], ids=lambda c: getattr(c, "__name__", ""))
def test_item_adjoints_added_in_place(fn, args, wrt):
    check_grads(fn, *args, wrt=wrt)
    check_grads(fn, *args, wrt=wrt)


def test_row_adjoint_written_as_a_person_would():
    text = source_after_call(rows_loop, A, V4, wrt=(0, 1))
    assert "dx[i] += " in text and "index_adjoint" not in text


# -- shapes flow through calls to your own functions -----------------------------------------

def _linear(x, W, b):
    return x @ W + b


def _mse(pred, y):
    return np.mean((pred - y) ** 2)


def two_layer(x, y, W1, b1, W2, b2):
    h = np.maximum(_linear(x, W1, b1), 0.0)
    return _mse(_linear(h, W2, b2), y)


def _countdown(x, n):
    return x if n == 0 else _countdown(np.sin(x), n - 1)


def recursive_helper(x):
    return np.mean(_countdown(x, 3) * 2.0)


def test_callees_specialised_on_the_shapes_they_are_called_with():
    args = (A, rng.standard_normal((4, 2)), rng.standard_normal((3, 5)), rng.standard_normal(5),
            rng.standard_normal((5, 2)), rng.standard_normal(2))
    check_grads(two_layer, *args, wrt=(0, 1, 2, 3, 4, 5))
    text = source_after_call(two_layer, *args, wrt=(2, 3, 4, 5))
    assert "dout.sum(axis=0)" in text            # the bias adjoint, in _linear's sweep
    assert "seed_like" not in text and "_sum_grad" not in text  # _mse's output is known


def test_recursive_callee_shapes():
    check_grads(recursive_helper, V4)


# -- the cached-call fast path -------------------------------------------------------------

def test_fast_path_follows_the_inputs():
    def f(x, a):
        return np.sum(x * a)
    g = sg.grad(f, (0, 1))
    calls = [(np.ones(3), 2.0), (np.ones(3), np.ones(3)), (np.ones(3), 2.0),
             (np.ones(3, np.float32), 2.0), (np.ones(4), 2.0), (np.ones(3), 2.0)]
    def signature(x, a):
        return x.shape, x.dtype, type(a), np.shape(a)

    # each signature three times in a row (the second call writes its fast path, the
    # third takes it), then all of them again, mostly missing the previous one's path
    previous = None
    for x, a in [c for c in calls for _ in range(3)] + calls:
        gx, ga = g(x, a)
        assert (g._fast is not None) == (signature(x, a) == previous)
        previous = signature(x, a)
        np.testing.assert_allclose(gx, np.broadcast_to(a, x.shape))
        assert gx.dtype == x.dtype and gx.shape == x.shape and gx.flags.writeable
        if isinstance(a, float):
            assert type(ga) is float and ga == pytest.approx(float(np.sum(x)))
        else:
            np.testing.assert_allclose(ga, x)
            assert ga is not a and ga is not x


def test_fast_path_returns_distinct_writeable_gradients():
    def add(a, b):
        return np.sum(a + b)

    def mean_only(a):
        return np.mean(a)
    g = sg.grad(add, (0, 1))
    for _ in range(3):
        ga, gb = g(A.copy(), A.copy())
        assert ga is not gb and ga.flags.writeable and gb.flags.writeable
        ga += 1.0
        np.testing.assert_allclose(gb, 1.0)
    h = sg.grad(mean_only)
    for _ in range(3):
        got = h(A)
        assert got.flags.writeable and got.shape == A.shape
        np.testing.assert_allclose(got, 1.0 / A.size)
