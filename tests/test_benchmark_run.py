"""The benchmark runner's own measurements (benchmarks/run.py), on tiny budgets."""
import pytest

run = pytest.importorskip("benchmarks.run")


def test_first_call_in_a_fresh_process():
    """The first-call probe runs in a process of its own and reports a time."""
    got = run.measure_first_calls(1)
    assert "error" not in got, got
    assert 0.0 < got["median_s"] == got["min_s"] == got["max_s"] < 5.0


def test_overhead_measure():
    """The cached-call overhead: a difference of fastest batches, with the medians
    and the median of per-round differences beside it."""
    import sourcegrad as sg
    wl = run.WORKLOADS["tutorial"]
    args = wl.make_inputs()
    g = wl.sourcegrad(sg)
    g(*args)
    g(*args)
    got = run._measure_overhead(sg, g, args, rounds=3, min_batch_s=0.001)
    assert got["g_s"] > 0 and got["generated_s"] > 0
    assert abs(got["overhead_s"]) < got["g_s"]
    assert abs(got["overhead_paired_median_s"]) < got["g_s"]
