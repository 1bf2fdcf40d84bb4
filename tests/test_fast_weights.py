"""The cached-call fast path for value_and_grad, weights and Cells (api._fast_path).

A call whose inputs have the same types, shapes and dtypes as the previous call's
takes the fast path from the second call on.  Each test compares its results with
the general path's: a new gradient function's first call, which never takes it.
"""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import Parameter, nn, ops


def _same(got, want):
    """Equal structure, types, dtypes and bits."""
    if isinstance(want, tuple):
        assert type(got) is tuple and len(got) == len(want)
        for a, b in zip(got, want):
            _same(a, b)
        return
    assert type(got) is type(want)
    if isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)
        if isinstance(want, np.ndarray):
            assert got.flags.writeable
    else:
        assert got == want


def _arrays(result):
    if isinstance(result, tuple):
        for r in result:
            yield from _arrays(r)
    elif isinstance(result, np.ndarray):
        yield result


def _check(make, calls, fast_from=1):
    """``make()`` builds a gradient function; each of ``calls`` (argument tuples)
    runs through one kept function (the fast path once a signature repeats) and
    through a fresh one (the general path), several times."""
    g = make()
    for args in calls:
        for i in range(3):
            got = g(*args)
            want = make()(*args)
            _same(got, want)
            arrays = list(_arrays(got))
            assert len({id(a) for a in arrays}) == len(arrays)  # no array twice
            for a in arrays:
                assert all(a is not x for x in args)
            if i >= fast_from:
                assert g._fast is not None
    return g


def _network(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    w = Parameter(rng.standard_normal((5, 3)).astype(dtype), name="w")
    b = Parameter(rng.standard_normal(3).astype(dtype), name="b")

    class Network(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = w
            self.b = b

        def construct(self, x):
            return ops.matmul(x, self.w) + self.b

    return Network()


def test_cell_value_and_grad_across_shapes_and_dtypes():
    model = _network()
    loss_fn = nn.BCEWithLogitsLoss()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    rng = np.random.default_rng(1)
    calls = [(np.ones(5), np.zeros(3)),
             (rng.standard_normal(5), rng.random(3)),
             (rng.standard_normal((4, 5)), rng.random((4, 3))),
             (np.ones(5, np.float32), np.zeros(3, np.float32)),
             (np.ones(5), np.zeros(3))]
    _check(lambda: sg.value_and_grad(forward_fn, None, weights=model.trainable_params()),
           calls)


def test_weights_changed_replaced_and_frozen():
    model = _network()
    loss_fn = nn.BCEWithLogitsLoss()

    def forward_fn(x, y):
        return loss_fn(model(x), y)

    weights = model.trainable_params()
    x, y = np.ones(5), np.zeros(3)

    def make():
        return sg.value_and_grad(forward_fn, None, weights=weights)

    g = _check(make, [(x, y)])
    model.w[...] += 0.5  # in place: the same Parameter, new values
    _check(make, [(x, y)])
    before = g(x, y)
    _same(g(x, y), make()(x, y))
    model.b = Parameter(np.full(3, 2.0), name="b")  # replaced: the old b's gradient is 0
    after = g(x, y)
    _same(after, make()(x, y))
    np.testing.assert_array_equal(after[1][1], np.zeros(3))
    assert not np.array_equal(after[0], before[0])
    weights[0].requires_grad = False  # frozen: zeros
    frozen = g(x, y)
    _same(frozen, make()(x, y))
    np.testing.assert_array_equal(frozen[1][0], np.zeros((5, 3)))
    weights[0].requires_grad = True
    _same(g(x, y), make()(x, y))


def test_closure_rebound_and_emptied():
    def outer():
        model = _network()

        def forward_fn(x):
            return ops.sum(model(x) ** 2)

        def rebind(m):
            nonlocal model
            model = m

        def empty():
            nonlocal model
            del model
        return forward_fn, rebind, empty

    forward_fn, rebind, empty = outer()
    weights = forward_fn.__closure__[0].cell_contents.trainable_params()
    x = np.arange(5.0)

    def make():
        return sg.value_and_grad(forward_fn, 0, weights=weights)

    g = _check(make, [(x,)])
    rebind(_network(seed=3))  # weights no longer read: zeros for them
    _check(make, [(x,)])
    got = g(x)
    np.testing.assert_array_equal(got[1][1][0], np.zeros((5, 3)))

    class Doubled(nn.Cell):  # another class: the derivative must be made again
        def __init__(self, w):
            super().__init__()
            self.w = w

        def construct(self, x):
            return ops.matmul(x, self.w) * 3.0

    rebind(Doubled(weights[0]))
    _check(make, [(x,)])
    np.testing.assert_allclose(g(x)[1][1][0], 18.0 * np.outer(x, x @ weights[0]))
    empty()
    with pytest.raises(NameError):
        g(x)


def test_positions_and_weights_single_weight_and_grad():
    p = Parameter(np.array([1.0, 2.0, 3.0]), name="p")
    q = Parameter(np.array([0.5, -1.0, 2.0]), name="q")

    def f(x, y):
        return np.sum(x * p * y) + np.sum(q * q)

    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    for make in (lambda: sg.grad(f, 0, weights=p),
                 lambda: sg.grad(f, (0, 1), weights=[p, q]),
                 lambda: sg.value_and_grad(f, (1,), weights=[q, p]),
                 lambda: sg.value_and_grad(f, None, weights=q)):
        _check(make, [(x, y), (x.astype(np.float32), y.astype(np.float32)), (x, 2.0),
                      (x, y)])


def test_weights_sharing_one_adjoint_get_distinct_arrays():
    p = Parameter(np.array([1.0, 2.0]), name="p")
    q = Parameter(np.array([3.0, 4.0]), name="q")

    def f(x):
        return np.sum(p + q + x)

    g = _check(lambda: sg.value_and_grad(f, 0, weights=[p, q]), [(np.ones(2),)])
    value, (gx, (gp, gq)) = g(np.ones(2))
    gp += 1.0
    np.testing.assert_array_equal(gq, np.ones(2))
    np.testing.assert_array_equal(gx, np.ones(2))


def test_weight_passed_as_input_takes_the_general_path():
    p = Parameter(np.array([1.0, 2.0]), name="p")

    def f(x, w):
        return np.sum(x * w * p)

    make = lambda: sg.grad(f, 0, weights=p)  # noqa: E731
    g = _check(make, [(np.ones(2), np.ones(2))])
    for _ in range(3):  # p as an input too: its type is no plain array, so no fast path
        _same(g(np.ones(2), p), make()(np.ones(2), p))


def test_a_cell_itself():
    model = _network()

    class WithLoss(nn.Cell):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def construct(self, x, y):
            return ops.mean((self.net(x) - y) ** 2)

    net = WithLoss(model)
    x, y = np.linspace(-1, 1, 5), np.ones(3)
    _check(lambda: sg.value_and_grad(net, None, weights=net.trainable_params()),
           [(x, y), (np.ones((2, 5)), np.ones((2, 3))), (x, y)])
    _check(lambda: sg.grad(net, (0, 1), weights=net.trainable_params()), [(x, y)])


# -- the loss helpers' fast paths: the same bits as their general paths ----------------

class _Sub(np.ndarray):
    """An ndarray subclass: takes the helpers' general paths."""


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_loss_fast_paths_match_general_paths(dtype):
    from sourcegrad.rules import ops as rops
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 5)) * 20).astype(dtype)
    x.flat[:5] = [np.inf, -np.inf, -0.0, 0.0, np.nan]
    t = rng.random((4, 5)).astype(dtype)
    sig = ops.sigmoid(x)
    general = np.where(np.greater_equal(x, 0), 1 / (1 + np.exp(-np.abs(x))),
                       np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    assert sig.dtype == general.dtype
    np.testing.assert_array_equal(sig, general)
    for reduction in ("mean", "sum", "none"):
        fast = ops.binary_cross_entropy_with_logits(x, t, None, None, reduction)
        slow = ops.binary_cross_entropy_with_logits(x.view(_Sub), t.view(_Sub), None, None,
                                                    reduction)
        assert np.asarray(fast).dtype == np.asarray(slow).dtype
        np.testing.assert_array_equal(np.asarray(fast), np.asarray(slow))
    dz = np.array(1.0, dtype)
    np.testing.assert_array_equal(rops._bce_logits_seed(dz, x, "mean"),
                                  rops._loss_seed(dz, x.shape, "mean"))
    with pytest.raises(ValueError, match="reduction"):
        ops.binary_cross_entropy_with_logits(x, t, reduction="avg")
    with pytest.raises(ValueError, match="same shape"):
        ops.binary_cross_entropy_with_logits(x, t[:2])
    with pytest.raises(TypeError, match="float"):
        ops.binary_cross_entropy_with_logits(x, t.astype(np.int64))


@pytest.mark.parametrize("make", [
    lambda f: sg.grad(f, (0, 1), weights=[]),
    lambda f: sg.value_and_grad(f, (0, 1), weights=[]),
    lambda f: sg.value_and_grad(f, None, weights=[]),
])
def test_no_weights_listed(make):
    """weights=[] (a Cell without trainable Parameters): an empty tuple of weight
    gradients, on the fast path as on the first call (the API-semantics fuzzer's
    seed 37 once made the fast path write ``(,)``)."""
    def f(x, y):
        return np.sum(x * y)

    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    first = make(f)(x, y)
    g = make(f)
    results = [g(x, y) for _ in range(3)]
    for r in results:
        assert type(r) is type(first) and len(r) == len(first)
        np.testing.assert_equal(str(r), str(first))
