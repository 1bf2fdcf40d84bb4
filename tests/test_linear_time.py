"""Transformation work grows linearly with the function's size.

The first call of ``grad(f)`` (transformation, printing, compiling, one
evaluation) on the straight-line functions of ``benchmarks.sweep`` is counted,
not timed: the number of Python function calls (``cProfile``'s count: every
call of a function, method or builtin, every resumption of a generator) made
for a function of 200 statements and for one of 800.  Linear work makes about
four times as many calls for four times the statements (fewer: fixed costs);
a pass that compares every statement with every other, or walks the whole
function once per statement, makes about sixteen times as many.  The sizes are
small enough to keep the test quick and large enough for quadratic terms to
show.
"""
from __future__ import annotations

import cProfile
import pstats
import sys

import numpy as np

import sourcegrad as sg
from benchmarks import sweep


def _calls(n, directory):
    """Python calls made by the first call of ``grad(f)(x, w)``, ``f`` of ``n`` statements."""
    sys.path.insert(0, directory)
    try:
        f = sweep._load(sweep.straight_line_source(n), directory).f
    finally:
        sys.path.remove(directory)
    x, w = np.linspace(0.1, 0.9, 8), np.linspace(0.5, 1.5, 8)
    g = sg.grad(f, (0, 1))
    profile = cProfile.Profile()
    profile.enable()
    try:
        g(x, w)
    finally:
        profile.disable()
    return pstats.Stats(profile).total_calls


def test_first_call_work_grows_linearly(tmp_path):
    small, large = (_calls(n, str(tmp_path)) for n in (200, 800))
    ratio = large / small
    # 4 is linear; a quadratic pass costing a tenth of the work at 200 statements
    # would already push the ratio past 5
    assert ratio < 4.6, f"{small} calls for 200 statements, {large} for 800: x{ratio:.2f}"


def test_work_per_statement_is_bounded(tmp_path):
    """Calls per statement at 800 statements: a ceiling well above today's, so that
    a new per-statement walk of the whole function shows long before it is quadratic
    in the sweep's sense."""
    per_statement = _calls(800, str(tmp_path)) / 800
    assert per_statement < 3000, per_statement  # (about 2,350 now)
