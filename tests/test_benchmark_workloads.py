"""The benchmark references are right, and sourcegrad agrees with them.

Each hand-written gradient in ``benchmarks.workloads`` is checked against
central finite differences in float64: coordinate by coordinate on a small
instance of the same function, and along one random direction on the full
benchmark size.  Then sourcegrad's gradient of the *same* forward function must equal the
hand-written one to 1e-8 relative.
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.workloads import WORKLOADS, Workload, cell_workload

SIX = list(WORKLOADS.values())
IDS = [wl.name for wl in SIX]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _split(wl: Workload, result):
    """(value or None, list of gradients) from what a workload returns."""
    if wl.kind == "value_and_grad":
        value, grads = result
    else:
        value, grads = None, result
    if not isinstance(grads, tuple):
        raise AssertionError(f"{wl.name}: expected a tuple of gradients, "
                             f"got {type(grads).__name__}")
    return value, list(grads)


def _slots(wl: Workload, args):
    """The differentiated values, in result order: positions, then weights."""
    return [args[p] for p in (wl.positions or ())] + list(wl.weights)


def _loss(wl: Workload, args) -> float:
    return float(wl.fn(*args))


def _shifted(wl: Workload, args, slot: int, delta):
    """Arguments with slot ``slot`` moved by ``delta``.

    Positional slots are replaced by new values; Parameter slots (weights)
    are shifted in place, because the forward function reads them from the
    cell, and the caller undoes the shift.
    """
    n_pos = len(wl.positions or ())
    if slot < n_pos:
        pos = wl.positions[slot]
        new = list(args)
        new[pos] = args[pos] + delta
        return tuple(new)
    wl.weights[slot - n_pos][...] += delta
    return args


def _unshift(wl: Workload, slot: int, delta):
    n_pos = len(wl.positions or ())
    if slot >= n_pos:
        wl.weights[slot - n_pos][...] -= delta


def _fd_along(wl: Workload, args, slot: int, delta) -> float:
    """Central difference of the loss along ``delta`` (already scaled by eps)."""
    hi = _loss(wl, _shifted(wl, args, slot, delta))
    _unshift(wl, slot, delta)
    lo = _loss(wl, _shifted(wl, args, slot, -delta))
    _unshift(wl, slot, -delta)
    return hi - lo


def numeric_grads(wl: Workload, args, eps: float = 1e-6):
    """Coordinate-wise central finite differences for every slot."""
    grads = []
    for slot, value in enumerate(_slots(wl, args)):
        if isinstance(value, float):
            grads.append(_fd_along(wl, args, slot, eps) / (2 * eps))
            continue
        value = np.asarray(value)
        g = np.zeros(value.shape)
        for idx in np.ndindex(value.shape):
            delta = np.zeros(value.shape)
            delta[idx] = eps
            g[idx] = _fd_along(wl, args, slot, delta) / (2 * eps)
        grads.append(g)
    return grads


def assert_grads_close(got, want, rtol, what):
    """Each gradient within ``rtol`` of the reference, relative to its scale.

    Entries that are (nearly) zero in the reference are judged against the
    largest entry of that gradient, since summation order alone moves them
    by rounding errors of that scale.
    """
    assert len(got) == len(want), f"{what}: {len(got)} gradients, want {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        assert g.shape == w.shape, f"{what}[{i}]: shape {g.shape}, want {w.shape}"
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{what}[{i}]")


# --------------------------------------------------------------------------
# the hand-written references against finite differences
# --------------------------------------------------------------------------

@pytest.mark.parametrize("wl", SIX, ids=IDS)
def test_inputs_are_deterministic_float64(wl):
    for small in (True, False):
        a, b = wl.make_inputs(small=small), wl.make_inputs(small=small)
        for u, v in zip(a, b):
            assert np.array_equal(u, v)
            if isinstance(u, np.ndarray):
                assert u.dtype == np.float64
            else:
                assert isinstance(u, float)


@pytest.mark.parametrize("wl", SIX, ids=IDS)
def test_hand_grad_matches_finite_differences_small(wl):
    args = wl.make_inputs(small=True)
    _, hand = _split(wl, wl.hand_grad(*args))
    assert_grads_close(hand, numeric_grads(wl, args), 1e-6, f"{wl.name} hand")


@pytest.mark.parametrize("wl", SIX, ids=IDS)
def test_hand_grad_matches_directional_difference_full_size(wl):
    """At benchmark size, along one random direction per differentiated input."""
    args = wl.make_inputs()
    _, hand = _split(wl, wl.hand_grad(*args))
    rng = np.random.default_rng(1)
    for slot, (value, g) in enumerate(zip(_slots(wl, args), hand)):
        if isinstance(value, float):
            v = 1.0
        else:
            # Unit-RMS direction: the step eps*v is then eps per coordinate.
            v = rng.standard_normal(np.shape(value))
        eps = 1e-6
        fd = _fd_along(wl, args, slot, eps * v) / (2 * eps)
        exact = float(np.sum(np.asarray(g) * v))
        assert fd == pytest.approx(exact, rel=1e-6, abs=1e-7 * np.sum(np.abs(g))), \
            f"{wl.name}: slot {slot}"


def test_cell_hand_value_and_grad_matches_finite_differences():
    wl = cell_workload()
    args = wl.make_inputs()
    value, hand = _split(wl, wl.hand_grad(*args))
    assert value == pytest.approx(_loss(wl, args), rel=1e-12)
    assert_grads_close(hand, numeric_grads(wl, args), 1e-6, "cell hand")


def test_checker_rejects_a_wrong_gradient():
    """The comparison can fail: a gradient off in one coordinate is caught."""
    wl = WORKLOADS["mlp"]
    args = wl.make_inputs(small=True)
    _, hand = _split(wl, wl.hand_grad(*args))
    wrong = [np.array(g, copy=True) for g in hand]
    wrong[1][0] *= 1.001
    with pytest.raises(AssertionError):
        assert_grads_close(wrong, numeric_grads(wl, args), 1e-6, "wrong")


# --------------------------------------------------------------------------
# sourcegrad against the hand-written references
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sg():
    import sourcegrad
    return sourcegrad


def _sourcegrad_result(sg, wl: Workload, args):
    """Build sourcegrad's callable and call it."""
    return wl.sourcegrad(sg)(*args)


def _check_against_hand(sg, wl: Workload, args):
    value, got = _split(wl, _sourcegrad_result(sg, wl, args))
    want_value, want = _split(wl, wl.hand_grad(*args))
    assert_grads_close(got, want, 1e-8, f"{wl.name} sourcegrad")
    # A gradient has the type, shape and dtype of its input (docs/api.md).
    for slot, (x, g) in enumerate(zip(_slots(wl, args), got)):
        if isinstance(x, float):
            assert isinstance(g, float), f"{wl.name}[{slot}]: {type(g).__name__}"
        else:
            assert np.shape(g) == np.shape(x)
            assert np.asarray(g).dtype == np.asarray(x).dtype
    if want_value is not None:
        assert float(value) == pytest.approx(float(want_value), rel=1e-12)


@pytest.mark.parametrize("wl", SIX, ids=IDS)
def test_sourcegrad_matches_hand_grad(sg, wl):
    _check_against_hand(sg, wl, wl.make_inputs())


@pytest.mark.parametrize("wl", SIX, ids=IDS)
def test_sourcegrad_matches_hand_grad_small(sg, wl):
    _check_against_hand(sg, wl, wl.make_inputs(small=True))


def test_sourcegrad_cell_value_and_grad(sg):
    wl = cell_workload()
    _check_against_hand(sg, wl, wl.make_inputs())
