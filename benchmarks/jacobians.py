"""Jacobians and Hessians: sourcegrad against hand-written NumPy and autograd.

Usage::

    python -m benchmarks.jacobians            # full run
    python -m benchmarks.jacobians --quick    # a few rounds (smoke test)

Workloads (float64, one BLAS thread for everybody):

* ``jacfwd``/``jacrev`` of ``f(x) = tanh(W @ x + b) * x``, 100 -> 100;
  hand-written: ``((1 - t**2) * x)[:, None] * W + diag(t)``.
* ``hessian`` of the mean logistic loss of a 100-parameter model on 500
  samples, ``mean(logaddexp(0, -s * (X @ w)))``; hand-written:
  ``X.T @ (X * (p * (1 - p))[:, None]) / m``.

Each line prints the median time per call over the rounds, and the ratios to
the hand-written version (also of the best rounds: less moved by other load)
and to autograd's ``jacobian``/``hessian`` (JAX's ``jacfwd``/``hessian``, eager
and jit, when installed), all measured in the same run.  The transformation
itself (first call) is reported separately.
"""
from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import sourcegrad as sg  # noqa: E402

N = 100
M = 500


# ----------------------------------------------------------------- workloads --

def smooth(x, W, b):
    return np.tanh(W @ x + b) * x


def smooth_jacobian_by_hand(x, W, b):
    t = np.tanh(W @ x + b)
    return ((1.0 - t * t) * x)[:, None] * W + np.diag(t)


def logistic_loss(w, X, s):
    z = X @ w
    return np.mean(np.logaddexp(0.0, -s * z))


def logistic_hessian_by_hand(w, X, s):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (X * (p * (1.0 - p))[:, None]) / X.shape[0]


def inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N)
    W = rng.standard_normal((N, N)) / np.sqrt(N)
    b = rng.standard_normal(N) * 0.1
    w = rng.standard_normal(N) * 0.1
    X = rng.standard_normal((M, N))
    s = np.where(rng.random(M) < 0.5, -1.0, 1.0)
    return x, W, b, w, X, s


# -------------------------------------------------------------------- timing --

def _reps(fn, min_time):
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(min_time / once))


def median_times(fns, rounds, min_time=0.02):
    """Median seconds per call of each of ``fns``, measured in interleaved rounds (each
    round times every function once, enough calls to last ``min_time``), so a change
    in the machine's load hits all of them alike."""
    reps = [_reps(f, min_time) for f in fns]
    times = [[] for _ in fns]
    for _ in range(rounds):
        for f, r, out in zip(fns, reps, times):
            t0 = time.perf_counter()
            for _ in range(r):
                f()
            out.append((time.perf_counter() - t0) / r)
    return [(statistics.median(t), min(t)) for t in times]


def peers(x, W, b, w, X, s):
    out = {}
    try:
        import autograd
        import autograd.numpy as anp

        def a_smooth(x):
            return anp.tanh(anp.dot(W, x) + b) * x

        def a_loss(w):
            return anp.mean(anp.logaddexp(0.0, -s * anp.dot(X, w)))

        aj, ah = autograd.jacobian(a_smooth), autograd.hessian(a_loss)
        out["autograd"] = {"jacfwd": lambda: aj(x), "jacrev": lambda: aj(x),
                           "hessian": lambda: ah(w)}
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def j_smooth(x):
            return jnp.tanh(W @ x + b) * x

        def j_loss(w):
            return jnp.mean(jnp.logaddexp(0.0, -s * (X @ w)))

        jf, jr, jh = jax.jacfwd(j_smooth), jax.jacrev(j_smooth), jax.hessian(j_loss)
        out["jax"] = {"jacfwd": lambda: jf(x), "jacrev": lambda: jr(x), "hessian": lambda: jh(w)}
        cf, cr, ch = jax.jit(jf), jax.jit(jr), jax.jit(jh)
        out["jax.jit"] = {"jacfwd": lambda: cf(x).block_until_ready(),
                          "jacrev": lambda: cr(x).block_until_ready(),
                          "hessian": lambda: ch(w).block_until_ready()}
    except ImportError:
        pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds (noisy)")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    x, W, b, w, X, s = inputs()

    t0 = time.perf_counter()
    jf, jr, h = sg.jacfwd(smooth), sg.jacrev(smooth), sg.hessian(logistic_loss)
    jf(x, W, b), jr(x, W, b), h(w, X, s)
    first = time.perf_counter() - t0

    # the same numbers first
    np.testing.assert_allclose(jf(x, W, b), smooth_jacobian_by_hand(x, W, b), atol=1e-10)
    np.testing.assert_allclose(jr(x, W, b), smooth_jacobian_by_hand(x, W, b), atol=1e-10)
    np.testing.assert_allclose(h(w, X, s), logistic_hessian_by_hand(w, X, s), atol=1e-10)

    rows = {
        "jacfwd": (lambda: smooth_jacobian_by_hand(x, W, b), lambda: jf(x, W, b)),
        "jacrev": (lambda: smooth_jacobian_by_hand(x, W, b), lambda: jr(x, W, b)),
        "hessian": (lambda: logistic_hessian_by_hand(w, X, s), lambda: h(w, X, s)),
    }
    others = peers(x, W, b, w, X, s)
    names = list(others)
    print(f"sourcegrad Jacobians, {N} -> {N} and a {N}-parameter logistic Hessian "
          f"({M} samples); median of {rounds} rounds, python {sys.version.split()[0]}, "
          f"numpy {np.__version__}")
    head = f"{'workload':<9} {'hand':>9} {'sourcegrad':>11} {'sg/hand':>8} {'(best)':>7}"
    for p in names:
        head += f" {p:>10} {p + '/sg':>12}"
    print(head)
    for key, (hand, ours) in rows.items():
        (th, bh), (ts, bs), *tps = median_times(
            [hand, ours] + [others[p][key] for p in names], rounds)
        line = f"{key:<9} {th * 1e6:>7.0f}us {ts * 1e6:>9.0f}us {ts / th:>7.2f}x " \
               f"{bs / bh:>6.2f}x"
        for tp, _ in tps:
            line += f" {tp * 1e6:>8.0f}us {tp / ts:>11.1f}x"
        print(line)
    print(f"first calls (transformation + compile + run, all three): {first * 1e3:.0f} ms")
    if not names:
        print("(autograd / jax not installed: pip install autograd)")


if __name__ == "__main__":
    main()
