"""First-call cost against function size: does transformation grow linearly?

Usage::

    python -m benchmarks.sweep                    # sizes 10..5000, order 1; orders 1-4
    python -m benchmarks.sweep --sizes 10,100,1000
    python -m benchmarks.sweep --quick            # sizes up to 1000, orders 1-3
    python -m benchmarks.sweep --json out.json

Two sweeps, each timed in this process on functions no earlier call has seen
(so the cache hides nothing):

* **size**: a straight-line function of ``n`` statements (a mix of ufuncs,
  arithmetic, broadcasting and reductions, each statement reading the two
  before it) is written to a file, and ``grad(f)(x, w)`` is timed on its first
  call (transformation + compile + one evaluation).  The growth exponent is
  the slope of a least-squares line through ``log(time)`` against ``log(n)``
  over the sizes >= 100 (below that, fixed costs dominate): 1 is linear, 2
  quadratic.  Peak memory of the transformation (``tracemalloc``) is fitted
  the same way.
* **order**: ``grad`` applied 1-4 times to a one-line function
  (``np.sin(x) * x``), first call of the innermost result.

Wall and CPU time (this process's) are both shown: on a shared machine the
CPU time is the steadier figure.  The targets of issue 17 are printed beside
the numbers: 1,000 statements <= 0.5 s, 5,000 <= 3 s, 4th order <= 50 ms,
exponents near 1.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import tempfile
import time
import tracemalloc

import numpy as np

# one statement per line; {a}, {b}: the two previous values (arrays of shape (8,))
_TEMPLATES = (
    "{t} = np.sin({a}) * {b}",
    "{t} = {a} * w + np.tanh({b})",
    "{t} = np.exp(-{a} * {a}) + 0.5 * {b}",
    "{t} = {a} / (1.0 + {b} ** 2)",
    "{t} = np.log1p({a} * {a}) - {b}",
    "{t} = {a} + np.sum({b} * w) * 0.01",
    "{t} = np.maximum({a}, 0.0) + {b} * 0.3",
    "{t} = np.cos({a} + {b})",
)


def straight_line_source(n: int, name: str = "f") -> str:
    """A function of ``n`` statements (plus the return), each reading the two before."""
    lines = ["import numpy as np", "", "", f"def {name}(x, w):", "    v0 = x * w"]
    prev, last = "x", "v0"
    for i in range(1, n):
        t = f"v{i}"
        lines.append("    " + _TEMPLATES[i % len(_TEMPLATES)].format(t=t, a=last, b=prev))
        prev, last = last, t
    lines.append(f"    return np.sum({last})")
    return "\n".join(lines) + "\n"


_loaded = 0


def _load(text: str, directory: str):
    from sourcegrad.testing import load_source
    global _loaded
    _loaded += 1
    return load_source(os.path.join(directory, f"sweep_{_loaded}.py"), text)


def first_call_size(sg, n: int, directory: str, memory: bool = False) -> dict:
    """Seconds (and peak bytes) of ``grad(f)(x, w)`` on its first call, ``f`` of size n."""
    f = _load(straight_line_source(n), directory).f
    x = np.linspace(0.1, 0.9, 8)
    w = np.linspace(0.5, 1.5, 8)
    gc.collect()
    if memory:
        tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    sg.grad(f, (0, 1))(x, w)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = None
    if memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"n": n, "seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak}


_ORDER_SOURCE = "import numpy as np\n\n\ndef f(x):\n    return np.sin(x) * x\n"


def first_call_order(sg, order: int, directory: str) -> dict:
    """Seconds of the first call of ``grad`` applied ``order`` times to a one-liner."""
    g = _load(_ORDER_SOURCE, directory).f
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(order):
        g = sg.grad(g)
    g(0.3)
    return {"order": order, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0}


def exponent(xs, ys) -> float | None:
    """Slope of the least-squares line through (log x, log y)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else None


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def run(sizes, orders, repeats: int = 1, memory: bool = True) -> dict:
    import sourcegrad as sg
    with tempfile.TemporaryDirectory() as directory:
        sys.path.insert(0, directory)
        try:
            size_rows = []
            for n in sizes:
                samples = [first_call_size(sg, n, directory) for _ in range(repeats)]
                row = {"n": n, "samples": samples,
                       **{k: _median([s[k] for s in samples])
                          for k in ("seconds", "cpu_seconds")}}
                if memory:
                    row["peak_bytes"] = first_call_size(sg, n, directory, True)["peak_bytes"]
                size_rows.append(row)
                print(f"... {n} statements: {row['seconds']:.3f} s", file=sys.stderr,
                      flush=True)
            order_rows = []
            for k in orders:
                samples = [first_call_order(sg, k, directory) for _ in range(max(repeats, 3))]
                order_rows.append({"order": k, "samples": samples,
                                   **{key: _median([s[key] for s in samples])
                                      for key in ("seconds", "cpu_seconds")}})
        finally:
            sys.path.remove(directory)
    big = [r for r in size_rows if r["n"] >= 100]
    fit = {"time": exponent([r["n"] for r in big], [r["seconds"] for r in big]),
           "cpu": exponent([r["n"] for r in big], [r["cpu_seconds"] for r in big])}
    if memory:
        fit["memory"] = exponent([r["n"] for r in big], [r["peak_bytes"] for r in big])
    return {"sizes": size_rows, "orders": order_rows, "exponent": fit}


def render(result: dict) -> str:
    out = ["First call of grad(f) on a straight-line function of n statements",
           f"{'n':>6} | {'wall':>9} | {'CPU':>9} | {'peak memory':>11}"]
    for r in result["sizes"]:
        mem = f"{r['peak_bytes'] / 2 ** 20:.1f} MiB" if r.get("peak_bytes") else "-"
        out.append(f"{r['n']:>6} | {r['seconds']:>7.3f} s | {r['cpu_seconds']:>7.3f} s | "
                   f"{mem:>11}")
    e = result["exponent"]
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    out.append(f"growth exponent (n >= 100): wall time {fmt(e['time'])}, CPU time "
               f"{fmt(e['cpu'])}, memory {fmt(e.get('memory'))}  (1 = linear, 2 = quadratic)")
    out.append("")
    out.append("First call of grad applied k times to `np.sin(x) * x`")
    for r in result["orders"]:
        out.append(f"  order {r['order']}: {r['seconds'] * 1e3:.1f} ms "
                   f"(CPU {r['cpu_seconds'] * 1e3:.1f} ms)")
    out.append("")
    out.append("Issue 17 targets")
    by_n = {r["n"]: r["seconds"] for r in result["sizes"]}
    by_k = {r["order"]: r["seconds"] for r in result["orders"]}
    for what, value, limit in (("1,000 statements <= 0.5 s", by_n.get(1000), 0.5),
                               ("5,000 statements <= 3 s", by_n.get(5000), 3.0),
                               ("4th-order grad <= 50 ms", by_k.get(4), 0.05)):
        status = "unknown" if value is None else ("met" if value <= limit else "missed")
        shown = "-" if value is None else f"{value:.3f} s"
        out.append(f"  {what}: {shown} ({status})")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweep",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated statement counts")
    parser.add_argument("--orders", default=None, help="comma-separated grad orders")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1000, orders 1-3")
    parser.add_argument("--repeats", type=int, default=1, help="samples per size (median)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    opts = parser.parse_args(argv)
    default_sizes = "10,30,100,300,1000" if opts.quick else "10,30,100,300,1000,2000,5000"
    sizes = [int(s) for s in (opts.sizes or default_sizes).split(",")]
    orders = [int(s) for s in (opts.orders or ("1,2,3" if opts.quick else "1,2,3,4")).split(",")]
    result = run(sizes, orders, opts.repeats, not opts.no_memory)
    print(render(result))
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
