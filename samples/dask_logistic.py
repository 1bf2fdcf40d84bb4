"""Logistic regression trained on a Dask cluster, with sourcegrad's lazy gradient.

The data is a Dask array generated lazily from a fixed seed: no process ever
holds all of it, and at full size it is larger than any worker's memory
limit.  The loss is plain NumPy code; ``sg.value_and_grad`` of it, called with
Dask arrays, returns Dask arrays (a graph, nothing computed), and each step
computes the loss and the gradient together with one ``dask.compute``.  The
gradient of the first step is checked against NumPy's on a subsample.

Run it:

    python samples/dask_logistic.py --small      # a LocalCluster, small data (CI)
    python samples/dask_logistic.py              # 4e6 x 64 float64 (2 GB) on 2 workers
                                                 # of 600 MB each
    python samples/dask_logistic.py --scheduler tcp://scheduler-address:8786

With ``--scheduler`` the same script runs on a real cluster (the workers need
NumPy; sourcegrad runs only in this process, building the graph).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import sourcegrad as sg


def loss(X, y, w, b):
    """Mean logistic loss of a linear model (``y`` in {0, 1})."""
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def make_data(rows, features, chunk_rows, seed=0):
    """A lazily generated Dask data set: ``X`` standard normal, ``y`` drawn from a
    true linear model.  Computing any part of it regenerates just that part."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features))
    w_true = np.random.default_rng(seed + 1).standard_normal(features) / np.sqrt(features)
    p = 1.0 / (1.0 + np.exp(-(X @ w_true)))
    y = (rng.random(rows, chunks=chunk_rows) < p).astype(np.float64)
    return X, y


def check_first_step(value_and_grad, X, y, w, b, rows=1000):
    """The lazy gradient on the first ``rows`` rows against NumPy's on the same rows,
    computed in this process."""
    import dask
    Xs, ys = X[:rows], y[:rows]
    lazy = value_and_grad(Xs, ys, w, b)
    (lazy_loss, (dw, db)), Xn, yn = dask.compute(lazy, Xs, ys)
    ref_loss, (rw, rb) = value_and_grad(Xn, yn, w, b)
    err = max(np.max(np.abs(dw - rw)), np.max(np.abs(db - rb)), abs(lazy_loss - ref_loss))
    print(f"first-step gradient on {rows} rows: Dask vs NumPy max abs difference {err:.2e}")
    assert err < 1e-12, err


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="small data for CI")
    parser.add_argument("--rows", type=int, help="rows of X (default 4e6; --small: 20000)")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--steps", type=int, help="gradient steps (default 10; --small: 8)")
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default=None,
                        help="per worker (default 600MB; --small: 400MB)")
    parser.add_argument("--scheduler", default=None,
                        help="a running cluster's address, e.g. tcp://scheduler-address:8786")
    args = parser.parse_args(argv)
    rows = args.rows or (20_000 if args.small else 4_000_000)
    steps = args.steps or (8 if args.small else 10)
    memory_limit = args.memory_limit or ("400MB" if args.small else "600MB")
    # 64 MB chunks: a few fit in a worker at once, well below its limit
    chunk_rows = max(1, min(rows, 125_000 if not args.small else 5_000))

    from dask.distributed import Client, LocalCluster
    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                               processes=True, memory_limit=memory_limit,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        X, y = make_data(rows, args.features, chunk_rows)
        gib = X.nbytes / 2**30
        print(f"data: X {X.shape} float64, {gib:.2f} GiB in {X.npartitions} chunks, "
              f"generated lazily; {len(client.scheduler_info()['workers'])} workers, "
              f"memory limit {memory_limit} each")
        w = np.zeros(args.features)
        b = np.zeros(1)
        value_and_grad = sg.value_and_grad(loss, (2, 3))
        check_first_step(value_and_grad, X, y, w, b, rows=min(rows, 1000))
        losses = []
        print("--- loss curve ---")
        for step in range(steps):
            t0 = time.perf_counter()
            lazy = value_and_grad(X, y, w, b)  # a Dask graph: nothing computed yet
            value, (dw, db) = client.compute(lazy, sync=True)
            w = w - args.lr * dw
            b = b - args.lr * db
            losses.append(float(value))
            print(f"step {step}: loss {value:.6f}  ({time.perf_counter() - t0:.2f} s)")
        assert losses[-1] < losses[0], losses
        print(f"loss decreased from {losses[0]:.6f} to {losses[-1]:.6f}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
