"""The distributed logistic-regression gradient: sourcegrad's lazy derivative
against a hand-written Dask gradient, on a LocalCluster.

    python -m benchmarks.dask_logreg                    # 1e7 x 100 float64 (8 GB)
    python -m benchmarks.dask_logreg 1e6                # the number of rows
    python -m benchmarks.dask_logreg --rows 1000000     # (the same)
    python -m benchmarks.dask_logreg --scheduler tcp://host:8786

Both sides compute the gradient of the mean logistic loss
``mean(logaddexp(0, z) - y * z)``, ``z = X @ w + b``, with respect to ``w`` and
``b``.  The hand-written side is the closed form
``X.T @ (sigmoid(X @ w + b) - y) / n``; sourcegrad's is ``sg.grad(loss, (2, 3))``
called on the Dask arrays (the graph it builds, then ``dask.compute``).  Each
round times one gradient of each (which goes first alternates from round to
round), including building the graph.  ``X`` is persisted on the workers when it fits in their
memory (``--persist auto``), else generated lazily from a fixed seed inside each
computation (both sides then pay the same generation).

Reported: the median and minimum time of each, their ratio (target: sourcegrad
at most 1.3x the hand-written time), the workers' CPU seconds per gradient
(robust when other processes share the cores), and each worker's peak resident
memory against its limit.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

import sourcegrad as sg


def loss(X, y, w, b):
    """Mean logistic loss, as a user writes it."""
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def hand_grad(X, y, w, b):
    """d loss / d(w, b), the closed form written for Dask."""
    z = X @ w + b
    dz = (1.0 / (1.0 + np.exp(-z)) - y) / X.shape[0]
    return X.T @ dz, dz.sum(keepdims=True)


def _peak_rss_bytes():
    """This process's peak resident memory (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_seconds():
    """This process's user + system CPU time."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _count(text):
    """A row count written as ``10000000``, ``1e7`` or ``10_000_000``."""
    value = float(text.replace("_", ""))
    if value != int(value) or value < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of rows: {text}")
    return int(value)


def _parse_bytes(text):
    from dask.utils import parse_bytes
    return parse_bytes(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=_count, default=None,
                        help="rows of X (1e7, 2500000, ...); --rows says the same")
    parser.add_argument("--rows", type=_count, default=10_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GB", help="per worker")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--persist", choices=["auto", "yes", "no"], default="auto")
    parser.add_argument("--scheduler", default=None, help="a running cluster's address")
    args = parser.parse_args(argv)
    if args.size is not None:
        args.rows = args.size

    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        client, cluster = Client(args.scheduler), None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               memory_limit=args.memory_limit, dashboard_address=None)
        client = Client(cluster)
    try:
        n, d = args.rows, args.features
        rng = da.random.default_rng(0)
        X = rng.standard_normal((n, d), chunks=(min(args.chunk_rows, n), d))
        y = (rng.random(n, chunks=min(args.chunk_rows, n)) < 0.5).astype(np.float64)
        limit = _parse_bytes(args.memory_limit)
        nworkers = len(client.scheduler_info()["workers"])
        persist = args.persist == "yes" or (
            args.persist == "auto" and X.nbytes + y.nbytes < 0.5 * limit * nworkers)
        if persist:
            X, y = client.persist([X, y])
            from dask.distributed import wait
            wait([X, y])
        w = np.random.default_rng(1).standard_normal(d) / np.sqrt(d)
        b = np.array([0.1])
        grad = sg.grad(loss, (2, 3))

        def ours():
            return dask.compute(*grad(X, y, w, b))

        def hand():
            return dask.compute(*hand_grad(X, y, w, b))

        # the same numbers before any timing
        (gw, gb), (hw, hb) = ours(), hand()
        err = max(np.max(np.abs(gw - hw)) / np.max(np.abs(hw)), np.max(np.abs(gb - hb)) /
                  np.max(np.abs(hb)))
        assert err < 1e-10, f"sourcegrad and the hand-written gradient differ: {err:.2e}"
        times = {"sourcegrad": [], "hand": []}
        cpu = {"sourcegrad": [], "hand": []}
        peaks = {}

        def cpu_now():
            return sum(client.run(_cpu_seconds).values())

        for i in range(args.rounds):  # which goes first alternates
            for name, fn in (("hand", hand), ("sourcegrad", ours))[::1 if i % 2 == 0 else -1]:
                c0 = cpu_now()
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(cpu_now() - c0)
                # each worker's peak so far (a restarted worker starts a new process)
                for addr, peak in client.run(_peak_rss_bytes).items():
                    peaks[addr] = max(peak, peaks.get(addr, 0))
        med = {k: statistics.median(v) for k, v in times.items()}
        low = {k: min(v) for k, v in times.items()}
        print(f"X: {n} x {d} float64 ({X.nbytes / 2**30:.2f} GiB) in {X.npartitions} chunks, "
              f"{'persisted on' if persist else 'generated lazily on'} {nworkers} workers, "
              f"memory limit {args.memory_limit} each; {args.rounds} rounds")
        print("sourcegrad's derivative:\n" + sg.source(grad))
        for k in ("hand", "sourcegrad"):
            print(f"{k:>10}: median {med[k]:.3f} s   min {low[k]:.3f} s   rounds "
                  + " ".join(f"{t:.2f}" for t in times[k]))
        ratio = med["sourcegrad"] / med["hand"]
        print(f"ratio sourcegrad / hand: median {ratio:.3f}, min "
              f"{low['sourcegrad'] / low['hand']:.3f} (target <= 1.3)")
        paired = [s_ / h for s_, h in zip(times["sourcegrad"], times["hand"])]
        print(f"per-round ratios (same round): median {statistics.median(paired):.3f}")
        # the workers' CPU seconds per gradient: what each side costs, even when other
        # processes share the machine's cores and stretch the wall-clock times
        cmed = {k: statistics.median(v) for k, v in cpu.items()}
        print(f"worker CPU per gradient: hand median {cmed['hand']:.2f} s, sourcegrad median "
              f"{cmed['sourcegrad']:.2f} s, ratio {cmed['sourcegrad'] / cmed['hand']:.3f}")
        for addr, peak in sorted(peaks.items()):
            print(f"worker {addr}: peak RSS {peak / 2**20:.0f} MiB of {limit / 2**20:.0f} MiB "
                  f"limit ({'below' if peak < limit else 'ABOVE'})")
        return ratio
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
