"""The benchmark runner's own measurements (benchmarks/run.py), on tiny budgets.

Only what the runner reports is checked (its fields, that they are durations,
that the functions it times compute the same gradient), never how long anything
took: that depends on the machine and its load, and is the benchmark's to report.
"""
import math

import numpy as np

import sourcegrad as sg
from benchmarks import run


def _duration(value):
    return isinstance(value, float) and math.isfinite(value) and value >= 0.0


def test_first_call_in_a_fresh_process():
    """The first-call probe runs in a process of its own and reports a duration."""
    got = run.measure_first_calls(1)
    assert "error" not in got, got
    assert len(got["samples_s"]) == 1 and _duration(got["samples_s"][0])
    assert got["median_s"] == got["min_s"] == got["max_s"] == got["samples_s"][0]


def test_overhead_measure():
    """The cached-call overhead: ``g`` and the generated function it calls are both
    timed (they compute the same gradient), their difference reported two ways."""
    wl = run.WORKLOADS["tutorial"]
    args = wl.make_inputs()
    g = wl.sourcegrad(sg)
    want = g(*args)
    gen = run._generated_function(sg, g)
    assert gen is not None
    got = gen(*args)
    assert wl.kind == "grad" and len(got) == len(want) == 2
    for a, b in zip(want, got):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    got = run._measure_overhead(sg, g, args, rounds=3, min_batch_s=0.001)
    assert "error" not in got, got
    assert set(got) == {"g_s", "generated_s", "overhead_s", "overhead_paired_median_s"}
    assert _duration(got["g_s"]) and _duration(got["generated_s"])
    # a difference of two durations: any sign, but a number
    assert math.isfinite(got["overhead_s"]) and math.isfinite(got["overhead_paired_median_s"])
