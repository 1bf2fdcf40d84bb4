"""Dask inputs: the derivative stays lazy (README, "Dask and other array libraries").

Every test counts the computations Dask runs (a scheduler that counts its calls)
and asserts there were none before the test itself asks, checks that gradients
come back as Dask arrays, and compares their values with the gradients of the
same NumPy inputs (themselves checked against finite differences here).
"""
import numpy as np
import pytest

import os
import sys

import sourcegrad as sg
from sourcegrad import Parameter, nn, ops
from sourcegrad.testing import check_grads
from benchmarks.workloads import logistic_inputs, logistic_regression, mlp_inputs, mlp_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from array_cases import CASES as ARRAY_CASES, cell_cases  # noqa: E402

da = pytest.importorskip("dask.array", reason="dask is not installed: "
                         "pip install 'sourcegrad[dask]' to run the Dask tests")
dask = pytest.importorskip("dask")


class Counter:
    """A Dask scheduler that counts how often a graph is computed."""

    def __init__(self):
        self.computes = 0

    def __call__(self, dsk, keys, **kwargs):
        self.computes += 1
        return dask.get(dsk, keys, **kwargs)


@pytest.fixture
def counter():
    c = Counter()
    with dask.config.set(scheduler=c):
        yield c


# chunks of the inputs made Dask arrays, per case
CHUNKS = {"tutorial": {0: (4, 5), 1: (4, 3)}, "mlp": {0: (2, 6), 1: (2, 3)}, "rnn": {0: (5, 1, 3)}}
CASES = {name: ARRAY_CASES[name] + (chunks,) for name, chunks in CHUNKS.items()}


def to_dask(args, chunks):
    return tuple(da.from_array(a, chunks=chunks[i]) if i in chunks else a
                 for i, a in enumerate(args))


def assert_lazy_equal(got, ref):
    """``got`` holds Dask arrays where ``ref`` holds NumPy gradients, with equal
    shapes, dtypes and (computed) values."""
    got = got if isinstance(got, tuple) else (got,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    assert len(got) == len(ref)
    for g in got:
        assert isinstance(g, da.Array), type(g)
    for g, r, c in zip(got, ref, dask.compute(*got)):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(c, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_reference_is_right(name):
    fn, args, positions, _ = CASES[name]
    check_grads(fn, *args, wrt=positions)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("kind", ["grad", "value_and_grad"])
def test_lazy_gradients(name, kind, counter):
    fn, args, positions, chunks = CASES[name]
    g = getattr(sg, kind)(fn, positions)
    ref = getattr(sg, kind)(fn, positions)(*args)
    dargs = to_dask(args, chunks)
    counter.computes = 0
    got = [g(*dargs) for _ in range(3)]  # the first call, then cached calls
    assert counter.computes == 0
    for res in got:
        if kind == "value_and_grad":
            assert isinstance(res[0], da.Array)
            np.testing.assert_allclose(res[0].compute(), ref[0], rtol=1e-12)
            assert_lazy_equal(res[1], ref[1])
        else:
            assert_lazy_equal(res, ref)


def test_numpy_parameter_against_dask_data_gives_dask_gradient(counter):
    """Only the data is a Dask array: the gradients of the NumPy weights are Dask
    arrays too (the user decides when to compute them)."""
    X, Y, W1, b1, W2, b2 = mlp_inputs(small=True)
    g = sg.grad(mlp_loss, (2, 3, 4, 5))
    ref = g(X, Y, W1, b1, W2, b2)
    got = g(da.from_array(X, chunks=(2, 6)), da.from_array(Y, chunks=(2, 3)), W1, b1, W2, b2)
    assert counter.computes == 0
    assert_lazy_equal(got, ref)


def test_every_input_a_dask_array(counter):
    fn, args, positions, _ = CASES["mlp"]
    g = sg.grad(fn, positions)
    ref = g(*args)
    got = g(*[da.from_array(a, chunks=2) for a in args])
    assert counter.computes == 0
    assert_lazy_equal(got, ref)


def test_specialised_on_known_dask_shapes():
    """Known shapes: the derivative is specialised like NumPy's (broadcasting written
    out, transposes instead of the general matmul adjoint)."""
    X, Y, W1, b1, W2, b2 = mlp_inputs(small=True)
    g = sg.grad(mlp_loss, (2, 3))
    g(da.from_array(X, chunks=(2, 6)), da.from_array(Y, chunks=(2, 3)), W1, b1, W2, b2)
    text = sg.source(g)
    assert "dW1 = X.T @ dadd" in text and "unbroadcast" not in text
    # no in-place accumulation into a NumPy array that a Dask array flows into
    assert "+=" not in text


def test_unknown_chunk_sizes_use_the_general_derivative(counter):
    """A Dask array whose length is unknown (nan, after boolean indexing): the general
    derivative, still lazy, with the right values."""
    X, y, w, b = logistic_inputs(small=True)
    g = sg.grad(logistic_regression, (0, 2, 3))
    ref = g(X, y, w, b)
    Xd, yd = da.from_array(X, chunks=(5, 5)), da.from_array(y, chunks=5)
    keep = yd > -1.0  # every row, but Dask cannot know that
    got = g(Xd[keep], yd[keep], w, b)
    assert np.isnan(got[0].shape[0])
    assert counter.computes == 0
    assert "unbroadcast(" in sg.source(g)  # general: shapes decided at run time
    for r, c in zip(ref, dask.compute(*got)):
        np.testing.assert_allclose(c, r, rtol=1e-12, atol=1e-12)


def test_numpy_and_dask_calls_alternate():
    """NumPy and Dask inputs of the same shapes have derivatives of their own: a NumPy
    call after a Dask one gets NumPy arrays back (and the fast path stays NumPy's)."""
    fn, args, positions, chunks = CASES["tutorial"]
    g = sg.grad(fn, positions)
    dargs = to_dask(args, chunks)
    for _ in range(3):
        assert all(type(r) is np.ndarray for r in g(*args))
        assert all(isinstance(r, da.Array) for r in g(*dargs))


def test_cell_weights_with_dask_data(counter):
    """A Cell's Parameters (NumPy) read against Dask data: Dask gradients."""
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(6, 3)

        def construct(self, x, y):
            return ops.mse_loss(self.dense(x), y)

    net = Net()
    X, Y = mlp_inputs(small=True)[:2]
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    vg = sg.value_and_grad(net, None, net.trainable_params())
    ref_loss, ref = vg(X, Y)
    loss, grads = vg(da.from_array(X, chunks=(2, 6)), da.from_array(Y, chunks=(2, 3)))
    assert counter.computes == 0
    assert isinstance(loss, da.Array) and all(isinstance(g, da.Array) for g in grads)
    loss, grads = dask.compute(loss, grads)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-6)
    for g, r in zip(grads, ref):
        assert g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7)


# chunks of each Cell's data, per case
CELL_CHUNKS = {"tutorial": ((4, 5), (4, 3)), "mlp": ((2, 6), (2, 3)), "rnn": ((5, 1, 3), (1, 4))}


@pytest.mark.parametrize("name", sorted(CELL_CHUNKS))
def test_cell_models_with_dask_data(name, counter):
    """The tutorial's model, an MLP of ``nn.Dense`` layers and an RNN as Cells with
    float64 Parameters, their data Dask arrays: the loss and the Parameters'
    gradients are Dask arrays, nothing computed until asked, equal to NumPy's
    (tests/test_array_api.py checks those against finite differences)."""
    net, data = cell_cases()[name]
    vg = sg.value_and_grad(net, None, net.trainable_params())
    ref_loss, ref = vg(*data)
    ddata = tuple(da.from_array(a, chunks=c) for a, c in zip(data, CELL_CHUNKS[name]))
    counter.computes = 0
    for _ in range(2):
        loss, grads = vg(*ddata)
        assert counter.computes == 0
        assert isinstance(loss, da.Array)
        np.testing.assert_allclose(loss.compute(), ref_loss, rtol=1e-12)
        assert_lazy_equal(grads, ref)
        counter.computes = 0


def test_parameter_weights_against_dask_data(counter):
    w = Parameter(np.random.default_rng(1).standard_normal(5), name="w")
    X, y = logistic_inputs(small=True)[:2]

    def loss(X, y):
        return np.mean(np.logaddexp(0.0, X @ w) - y * (X @ w))

    g = sg.grad(loss, None, w)
    ref = g(X, y)
    got = g(da.from_array(X, chunks=(5, 5)), da.from_array(y, chunks=5))
    assert counter.computes == 0
    assert_lazy_equal(got, ref)


def test_integer_array_index_adjoint_is_refused_by_name():
    """np.add.at (repeated positions) has no Dask counterpart: one clear error."""
    def f(x):
        return np.sum(x[np.array([0, 0, 2])] ** 2)

    x = da.from_array(np.arange(4.0), chunks=2)
    with pytest.raises(TypeError, match="np.add.at"):
        sg.grad(f)(x)


def test_slice_adjoint_stays_lazy(counter):
    def f(x):
        return np.sum(x[1:3] ** 2) + np.sum(x[0] * x)

    x = np.arange(4.0)
    ref = sg.grad(f)(x)
    got = sg.grad(f)(da.from_array(x, chunks=2))
    assert counter.computes == 0
    assert_lazy_equal(got, ref)


def test_distributed_sample_small():
    """samples/dask_logistic.py --small: a LocalCluster of two worker processes trains
    logistic regression on lazily generated data; the loss goes down and the first
    step's gradient matches NumPy's (the sample asserts both)."""
    pytest.importorskip("distributed", reason="dask.distributed is not installed: "
                        "pip install 'sourcegrad[dask]'")
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, str(root / "samples" / "dask_logistic.py"),
                           "--small", "--steps", "5"], cwd=str(root), env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = [float(line.split()[3]) for line in proc.stdout.splitlines()
              if line.startswith("step ")]
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert "Dask vs NumPy max abs difference" in proc.stdout


def test_adjoint_spread_to_a_dask_shape_is_a_dask_array(counter, monkeypatch):
    """``np.sum(X @ w)``: the sum's adjoint, spread to the shape of ``X @ w`` for the
    matmul, is made by Dask (no NumPy array of the data's length in the client)."""
    def f(X, w):
        return np.sum(X @ w)

    X = np.random.default_rng(0).standard_normal((40, 5))
    w = np.ones(5)
    ref = sg.grad(f, 1)(X, w)
    g = sg.grad(f, 1)
    with monkeypatch.context() as m:
        m.setattr(np, "full", None)  # any NumPy array made from a shape would fail here
        got = g(da.from_array(X, chunks=(10, 5)), w)
    assert "np.full((40,), 1.0)" in sg.source(g)
    assert counter.computes == 0
    assert_lazy_equal(got, ref)


def test_benchmark_hand_gradient_matches(counter):
    """benchmarks/dask_logreg.py compares sourcegrad with a hand-written Dask gradient:
    both agree (and with finite differences of the loss on NumPy data)."""
    from benchmarks.dask_logreg import hand_grad, loss
    X, y, w, b = logistic_inputs(small=True)
    check_grads(loss, X, y, w, b, wrt=(2, 3))
    Xd, yd = da.from_array(X, chunks=(5, 5)), da.from_array(y, chunks=5)
    ours, hand = sg.grad(loss, (2, 3))(Xd, yd, w, b), hand_grad(Xd, yd, w, b)
    assert counter.computes == 0
    for a, h in zip(dask.compute(*ours), dask.compute(*hand)):
        np.testing.assert_allclose(a, h, rtol=1e-12, atol=1e-15)
