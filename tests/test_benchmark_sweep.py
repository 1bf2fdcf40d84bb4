"""The first-call size sweep (benchmarks/sweep.py) on tiny sizes."""
import math

import numpy as np

from benchmarks import sweep


def test_exponent_fit():
    xs = [100, 300, 1000, 3000]
    assert math.isclose(sweep.exponent(xs, [3 * x for x in xs]), 1.0)
    assert math.isclose(sweep.exponent(xs, [x * x for x in xs]), 2.0)
    assert sweep.exponent([100], [1.0]) is None


def test_straight_line_function_has_n_statements_and_a_gradient(tmp_path):
    import sys

    import sourcegrad as sg
    from sourcegrad.testing import numeric_grad
    text = sweep.straight_line_source(12)
    assert text.count("\n    v") == 12
    sys.path.insert(0, str(tmp_path))
    try:
        f = sweep._load(text, str(tmp_path)).f
    finally:
        sys.path.remove(str(tmp_path))
    x, w = np.linspace(0.1, 0.9, 8), np.linspace(0.5, 1.5, 8)
    dx, dw = sg.grad(f, (0, 1))(x, w)
    np.testing.assert_allclose(dx, numeric_grad(f, (x, w), 0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dw, numeric_grad(f, (x, w), 1), rtol=1e-5, atol=1e-7)


def test_run_reports_every_size_and_order():
    got = sweep.run([10, 20], [1, 2], memory=False)
    assert [r["n"] for r in got["sizes"]] == [10, 20]
    assert [r["order"] for r in got["orders"]] == [1, 2]
    # the clock is read, never bounded: any finite, non-negative figure passes
    assert all(math.isfinite(r["seconds"]) and r["seconds"] >= 0 and r["cpu_seconds"] >= 0
               for r in got["sizes"] + got["orders"])
    assert "growth exponent" in sweep.render(got)


def _cyclic_garbage_after_first_call(fn, *args):
    """How many objects the collector finds unreachable after ``grad(fn)``'s first call."""
    import gc

    import sourcegrad as sg
    g = sg.grad(fn, tuple(range(len(args))))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        g(*args)
        return gc.collect()
    finally:
        if was:
            gc.enable()


def test_transformation_leaves_its_trees_to_reference_counting(tmp_path):
    """Every stage's tree is freed when the transformation returns, not left in a
    reference cycle for the collector (which at 5,000 statements spent longer on
    the garbage than some stages on the work): the collector finds as little after
    a 200-statement function as after a 10-statement one."""
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        small = sweep._load(sweep.straight_line_source(10), str(tmp_path)).f
        big = sweep._load(sweep.straight_line_source(200), str(tmp_path)).f
    finally:
        sys.path.remove(str(tmp_path))
    x, w = np.linspace(0.1, 0.9, 8), np.linspace(0.5, 1.5, 8)
    _cyclic_garbage_after_first_call(small, x, w)  # (first use: rules parsed, caches filled)
    base = _cyclic_garbage_after_first_call(sweep._load(sweep.straight_line_source(10),
                                                        str(tmp_path)).f, x, w)
    got = _cyclic_garbage_after_first_call(big, x, w)
    assert got <= base + 50, (base, got)
