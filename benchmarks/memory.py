"""Whole-process memory of sourcegrad's caches: the resident set size (RSS) before
and after work whose memory must come back.

    python -m benchmarks.memory              # both cases
    python -m benchmarks.memory --lambdas 20000

1. Five functions, each holding an 80 MB array through its module's globals,
   are differentiated and called, then dropped: the RSS returns to about where
   it started (the derivatives cached on each function go with it).
2. Many new lambdas (a long notebook) are differentiated in a loop: the RSS
   grows by a little at first (allocator pools), then stays flat.

Figures only; the pass/fail checks are tests/test_memory.py (tracemalloc and
weak references, which do not depend on the allocator).  Linux (/proc).
"""
from __future__ import annotations

import argparse
import gc
import linecache
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sourcegrad as sg  # noqa: E402
from sourcegrad.testing import load_source  # noqa: E402

MB = 1 << 20


def rss() -> int:
    """This process's resident set size in bytes (Linux: /proc/self/status)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmRSS in /proc/self/status")


MODULE = """
import numpy as np

big = np.full({n}, 0.5)


def f(x):
    return np.sum(np.sin(x) * big[:3])
"""


def big_functions(count=5, megabytes=80):
    x = np.array([0.1, 0.2, 0.3])
    gc.collect()
    start = rss()
    with tempfile.TemporaryDirectory() as d:
        grads = []
        for i in range(count):
            mod = load_source(os.path.join(d, f"big_{i}.py"),
                              MODULE.format(n=megabytes * MB // 8))
            del sys.modules[mod.__name__]
            g = sg.grad(mod.f)
            g(x)
            g(x)
            grads.append(g)
            del mod
        held = rss()
        del grads, g
        gc.collect()
    after = rss()
    print(f"{count} functions of {megabytes} MB: RSS {start / MB:.0f} MB at start, "
          f"{held / MB:.0f} MB with their gradients, {after / MB:.0f} MB after del "
          f"(+{(after - start) / MB:.1f} MB)")


def lambdas(n):
    x = np.array([1.0, 2.0, 3.0])
    for k in range(50):
        sg.grad(lambda x: np.sum(np.sin(x) * k))(x)  # noqa: B023
    gc.collect()
    start, lines = rss(), len(linecache.cache)
    marks = []
    for k in range(n):
        sg.grad(lambda x: np.sum(np.sin(x) * k))(x)  # noqa: B023
        if (k + 1) % max(n // 5, 1) == 0:
            gc.collect()
            marks.append(f"{(rss() - start) / MB:+.1f}")
    print(f"{n} lambdas: RSS {start / MB:.0f} MB at start, then (MB) {' '.join(marks)}; "
          f"linecache entries {len(linecache.cache) - lines:+d}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lambdas", type=int, default=5000)
    ap.add_argument("--megabytes", type=int, default=80)
    args = ap.parse_args(argv)
    big_functions(megabytes=args.megabytes)
    lambdas(args.lambdas)


if __name__ == "__main__":
    main()
