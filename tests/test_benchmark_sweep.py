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
