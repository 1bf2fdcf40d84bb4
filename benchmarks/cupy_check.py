"""sourcegrad's derivative on CuPy arrays (a GPU), against NumPy's gradient.

    python -m benchmarks.cupy_check          # skips (exit 0) without CuPy or a GPU

CuPy implements NumPy's dispatch protocols, so the generated derivative runs on
the GPU as it is (arrays made from a shape alone are CuPy's, see
``sourcegrad/xp.py``).  For each workload of ``benchmarks/workloads.py`` it
checks that the gradients come back as CuPy arrays equal to NumPy's (1e-10
relative), then times the CuPy gradient against NumPy's.
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import sourcegrad as sg
from benchmarks.workloads import WORKLOADS


def _cupy():
    """CuPy with a usable GPU, or None and the reason."""
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install cupy-cuda12x)"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "no GPU"
    except Exception as exc:  # no driver, no device
        return None, f"no usable GPU ({exc})"
    return cupy, None


def _median_time(fn, rounds=15):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    cp, why = _cupy()
    if cp is None:
        print(f"skipped: {why}")
        return 0
    for name in ("tutorial", "logreg", "mlp", "rnn", "elementwise"):
        wl = WORKLOADS[name]
        args = wl.make_inputs()
        g = sg.grad(wl.fn, wl.positions)
        ref = g(*args)
        gargs = tuple(cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
        got = g(*gargs)
        for a, r in zip(got, ref):
            assert isinstance(a, cp.ndarray), f"{name}: a {type(a).__name__}, not a CuPy array"
            np.testing.assert_allclose(cp.asnumpy(a), r, rtol=1e-10, atol=1e-12)

        def on_gpu():
            g(*gargs)
            cp.cuda.Device().synchronize()

        t_np, t_cp = _median_time(lambda: g(*args)), _median_time(on_gpu)
        print(f"{name:>12}: NumPy {t_np * 1e3:8.3f} ms   CuPy {t_cp * 1e3:8.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
