"""Time sourcegrad against a hand-written gradient and the peers, in one process.

Usage::

    python -m benchmarks.run                 # full run, all workloads
    python -m benchmarks.run --quick         # few rounds, for CI smoke use
    python -m benchmarks.run --only mlp,rnn  # some workloads
    python -m benchmarks.run --json out.json # also write the results as JSON

For every workload of :mod:`benchmarks.workloads` it prints the median time
per gradient call of the hand-written NumPy gradient, of sourcegrad (gradient
function built once, then called) and of the peers that are installed
(autograd, torch eager, jax eager, jax.jit), each with its ratio to the
hand-written one and geometric means over the six issue-5 workloads; then
sourcegrad's first-call (transformation + compile) time, its cached-call
overhead, and the peak memory of one gradient call on the MLP and the RNN.
See ``benchmarks/README.md`` for how to read it.
"""
from __future__ import annotations

import os
import sys

# One BLAS thread for everybody, set before NumPy (or a peer) is imported:
# the pools read these variables once, at load time.  Several threads would
# make the small matmuls noisy and favour whichever library happens to use
# more of the two cores.
_NUMPY_WAS_LOADED = "numpy" in sys.modules
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
# XLA has its own pool, and probing for accelerators only adds start-up noise.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import gc  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.workloads import WORKLOADS, Workload, cell_workload  # noqa: E402

HAND = "hand"
SOURCEGRAD = "sourcegrad"
SGJIT = "sg.jit"  # sourcegrad's derivative compiled with Numba (optional)
PEERS = ("autograd", "torch", "jax", "jax.jit")
COLUMNS = (HAND, SOURCEGRAD, SGJIT) + PEERS
MEMORY_WORKLOADS = ("mlp", "rnn")
OVERHEAD_WORKLOAD = "tutorial"  # the cheapest call, so the difference is not noise
# The first-call target's workload, timed again in fresh processes, each of which
# transforms these functions first, as the main run does before it gets there.
FIRST_CALL_WORKLOAD = "mlp"
FIRST_CALL_AFTER = ("tutorial", "logreg")
_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------
# thread pinning
# --------------------------------------------------------------------------

def _pin_threads() -> tuple[Any, str]:
    """Limit BLAS/OpenMP pools to one thread; return (keep-alive, description).

    The environment variables above do it when NumPy was not loaded yet;
    threadpoolctl, when installed, also covers the case where it was.
    """
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        note = "1 (environment variables)"
        if _NUMPY_WAS_LOADED:
            note += "; WARNING: numpy was imported first, pinning may not hold"
        return None, note
    limiter = threadpool_limits(limits=1)
    pools = ", ".join(f"{p['internal_api']} {p.get('version') or ''} "
                      f"x{p['num_threads']}".strip()
                      for p in threadpool_info())
    return limiter, f"1 (threadpoolctl: {pools or 'no pools found'})"


# --------------------------------------------------------------------------
# peers: the same forward functions, written against each peer's arrays
# --------------------------------------------------------------------------

def _xp_functions(xp) -> dict[str, Callable]:
    """The six forward functions over a NumPy-like module (autograd, jax).

    Bodies are line for line those of :mod:`benchmarks.workloads`, with
    ``np`` replaced by ``xp``, so every peer differentiates the same program.
    """

    def tutorial(x, y, w, b):
        z = x @ w + b
        loss = xp.mean(xp.logaddexp(0.0, z) - y * z)
        return loss

    def logreg(X, y, w, b):
        z = X @ w + b
        return xp.mean(xp.logaddexp(0.0, z) - y * z)

    def mlp(X, Y, W1, b1, W2, b2):
        h = xp.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        shifted = logits - xp.max(logits, axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1,
                                            keepdims=True))
        return -xp.sum(Y * log_probs) / X.shape[0]

    def rnn(xs, h0, Wx, Wh, b):
        h = h0
        for t in range(xs.shape[0]):
            h = xp.tanh(xs[t] @ Wx + h @ Wh + b)
        return xp.mean(h ** 2)

    def elementwise(x):
        return xp.sum(xp.sin(x) * xp.exp(-x * x) + xp.tanh(x) ** 2)

    def float_loop(x, a):
        for i in range(100):
            x = a * x + 0.1 * xp.sin(x)
        return x

    def bce(z, y):
        return xp.mean(xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z))))

    return {"tutorial": tutorial, "logreg": logreg, "mlp": mlp, "rnn": rnn,
            "elementwise": elementwise, "float_loop": float_loop, "bce": bce}


def _torch_functions(torch) -> dict[str, Callable]:
    """The six forward functions in torch, op for op the NumPy ones."""

    def tutorial(x, y, w, b):
        z = x @ w + b
        loss = torch.mean(torch.logaddexp(torch.zeros_like(z), z) - y * z)
        return loss

    def logreg(X, y, w, b):
        z = X @ w + b
        return torch.mean(torch.logaddexp(torch.zeros_like(z), z) - y * z)

    def mlp(X, Y, W1, b1, W2, b2):
        h = torch.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        shifted = logits - torch.amax(logits, dim=1, keepdim=True)
        log_probs = shifted - torch.log(torch.sum(torch.exp(shifted), dim=1,
                                                  keepdim=True))
        return -torch.sum(Y * log_probs) / X.shape[0]

    def rnn(xs, h0, Wx, Wh, b):
        h = h0
        for t in range(xs.shape[0]):
            h = torch.tanh(xs[t] @ Wx + h @ Wh + b)
        return torch.mean(h ** 2)

    def elementwise(x):
        return torch.sum(torch.sin(x) * torch.exp(-x * x) + torch.tanh(x) ** 2)

    def float_loop(x, a):
        for i in range(100):
            x = a * x + 0.1 * torch.sin(x)
        return x

    def bce(z, y):
        return torch.mean(torch.maximum(z, torch.zeros_like(z)) - z * y
                          + torch.log1p(torch.exp(-torch.abs(z))))

    return {"tutorial": tutorial, "logreg": logreg, "mlp": mlp, "rnn": rnn,
            "elementwise": elementwise, "float_loop": float_loop, "bce": bce}


class _Unavailable(Exception):
    """A peer that is not installed: shown as n/a, not as an error."""


def _peer_builders() -> dict[str, Callable[[Workload, tuple], Callable[[], Any]]]:
    """For each peer, ``build(workload, args) -> zero-argument gradient call``.

    Builders import their library lazily so a missing peer costs nothing and
    shows as n/a.  Inputs are converted to the peer's arrays once, outside
    the timed call, as a user of that library would hold them.
    """

    def autograd_build(wl, args):
        try:
            import autograd
            import autograd.numpy as anp
        except ImportError as exc:
            raise _Unavailable(str(exc)) from None
        g = autograd.grad(_xp_functions(anp)[wl.name], argnum=wl.positions)
        return lambda: g(*args)

    def _jax():
        try:
            import jax
        except ImportError as exc:
            raise _Unavailable(str(exc)) from None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        return jax, jnp

    def _jax_args(jnp, args):
        # Python floats stay floats (weakly typed scalars, as a user passes them).
        return tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a
                     for a in args)

    def jax_build(wl, args):
        jax, jnp = _jax()
        g = jax.grad(_xp_functions(jnp)[wl.name], argnums=wl.positions)
        jargs = _jax_args(jnp, args)
        return lambda: jax.block_until_ready(g(*jargs))

    def jax_jit_build(wl, args):
        jax, jnp = _jax()
        g = jax.jit(jax.grad(_xp_functions(jnp)[wl.name], argnums=wl.positions))
        jargs = _jax_args(jnp, args)
        return lambda: jax.block_until_ready(g(*jargs))

    def torch_build(wl, args):
        try:
            import torch
        except ImportError as exc:
            raise _Unavailable(str(exc)) from None
        torch.set_num_threads(1)
        f = _torch_functions(torch)[wl.name]
        targs = tuple(
            torch.tensor(a, dtype=torch.float64,
                         requires_grad=i in wl.positions)
            if isinstance(a, (np.ndarray, float)) else a
            for i, a in enumerate(args))
        wrt = [targs[p] for p in wl.positions]

        def call():
            return torch.autograd.grad(f(*targs), wrt)
        return call

    return {"autograd": autograd_build, "torch": torch_build,
            "jax": jax_build, "jax.jit": jax_jit_build}


def _peer_versions() -> dict[str, str]:
    """Versions of the installed peers (metadata only: nothing is imported)."""
    from importlib import metadata
    versions = {}
    for dist in ("numpy", "numba", "autograd", "torch", "jax", "jaxlib", "sourcegrad"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions


# --------------------------------------------------------------------------
# results: conversion and checking
# --------------------------------------------------------------------------

def _flatten(result) -> list[np.ndarray]:
    """Nested tuples/lists of arrays (any library) to a flat list of ndarrays."""
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _flatten(item)]
    if hasattr(result, "detach"):  # torch
        result = result.detach().numpy()
    return [np.asarray(result, dtype=np.float64)]


def _mismatch(got, want, rtol: float = 1e-6) -> str | None:
    """Why ``got`` is not the reference gradient, or None when it is.

    A fast wrong answer must not show up as a fast answer.  Tolerance is
    relative to each gradient's largest entry, since summation order moves
    near-zero entries by rounding errors of that scale.
    """
    g_leaves, w_leaves = _flatten(got), _flatten(want)
    if len(g_leaves) != len(w_leaves):
        return f"{len(g_leaves)} results, reference has {len(w_leaves)}"
    for i, (g, w) in enumerate(zip(g_leaves, w_leaves)):
        if g.shape != w.shape:
            return f"result {i} has shape {g.shape}, reference {w.shape}"
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        err = float(np.max(np.abs(g - w))) if w.size else 0.0
        if not err <= rtol * max(scale, 1e-300):
            return f"result {i} off by {err:.3g} (scale {scale:.3g})"
    return None


def _load() -> float | None:
    """The one-minute load average, where the platform has one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _describe(exc: BaseException) -> str:
    """A one-line account of an exception, for the notes under the table."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------

@dataclass
class Contender:
    """One column of one row: a zero-argument gradient call, or why not."""

    label: str
    call: Callable[[], Any] | None = None
    error: str | None = None       # shown as "error: ..." in the table
    missing: bool = False          # peer not installed: shown as "n/a"
    batch: int = 1                 # calls per timed batch (calibrated)
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def spread(self) -> float | None:
        """Interquartile range over median: how much to trust the median."""
        if len(self.samples) < 4:
            return None
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / statistics.median(self.samples)


# The clock of the timed batches.  Wall time by default, as users feel it;
# ``--clock cpu`` (this process's CPU time, all threads) leaves out the time
# other processes take from us on a shared machine.
_clock = time.perf_counter


def _time_batch(call: Callable[[], Any], n: int) -> float:
    """Seconds per call over ``n`` back-to-back calls, GC paused as timeit does."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = _clock()
        for _ in range(n):
            call()
        elapsed = _clock() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / n


def _calibrate(contender: Contender, min_batch_s: float) -> None:
    """Pick a batch size whose duration clears the clock's resolution and noise."""
    n = 1
    while True:
        per_call = _time_batch(contender.call, n)
        if per_call * n >= min_batch_s or n >= 1 << 20:
            break
        n = max(2 * n, int(1.2 * min_batch_s / max(per_call, 1e-9)))
    contender.batch = n


def _measure_round_robin(contenders: list[Contender], rounds: int,
                         min_batch_s: float) -> None:
    """Interleave the contenders over ``rounds`` rounds; keep per-call samples.

    Interleaving spreads machine drift (frequency scaling, other load) over
    every contender alike instead of charging it to whoever ran during it.
    The order is shuffled each round (with a fixed seed) so that no
    contender always follows the same one and a periodic background load
    cannot line up with one contender's slot.
    """
    live = [c for c in contenders if c.call is not None]
    for c in live:
        _calibrate(c, min_batch_s)
    order = random.Random(0)
    for _ in range(rounds):
        for c in order.sample(live, len(live)):
            c.samples.append(_time_batch(c.call, c.batch))
        gc.collect()


def _peak_memory(call: Callable[[], Any]) -> int:
    """Peak bytes traced by tracemalloc during one call (result included).

    NumPy reports its data buffers to tracemalloc, so this counts the
    arrays a gradient call holds at its high-water mark, not just Python
    objects.  Torch and XLA buffers are invisible to it: peers are left out.
    """
    call()  # warm-up: caches and lazy transformation are not the call's cost
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del out
    return peak - base


# --------------------------------------------------------------------------
# sourcegrad specifics
# --------------------------------------------------------------------------

def _import_sourcegrad():
    """(module, None) or (None, reason) — the engine may not exist yet."""
    try:
        import sourcegrad
    except Exception as exc:  # a half-built package can fail in any way
        return None, _describe(exc)
    if not callable(getattr(sourcegrad, "grad", None)):
        return None, "AttributeError: sourcegrad.grad is not defined yet"
    return sourcegrad, None


def _generated_function(sg, g) -> Callable | None:
    """The compiled derivative behind ``g``, if sourcegrad exposes it.

    Looked up defensively because the engine's API for it may change:
    ``sourcegrad.api.generated_function(g)`` or
    ``sourcegrad.generated_function(g)``, else an attribute of ``g`` that is
    either the function itself or a no-argument accessor returning it.
    ``sourcegrad.api.generated_function(g)`` gives the derivative the last
    call ran (specialised on the inputs' shapes), which is what ``g`` calls.
    """
    api = getattr(sg, "api", None)
    for getter in (getattr(api, "generated_function", None),
                   getattr(sg, "generated_function", None)):
        if callable(getter):
            try:
                fn = getter(g)
            except Exception:
                fn = None
            if callable(fn):
                return fn
    for attr in ("generated_function", "generated", "_generated",
                 "__sourcegrad_generated__"):
        obj = getattr(g, attr, None)
        if not callable(obj):
            continue
        if _takes_no_arguments(obj):
            try:
                obj = obj()
            except Exception:
                continue
        if callable(obj):
            return obj
    return None


def _takes_no_arguments(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                              p.VAR_POSITIONAL) for p in params)


# --------------------------------------------------------------------------
# one workload
# --------------------------------------------------------------------------

@dataclass
class Row:
    """Everything measured for one workload."""

    workload: Workload
    contenders: dict[str, Contender]
    first_call: dict[str, float] | None = None
    first_call_error: str | None = None
    overhead: dict[str, Any] | None = None
    memory: dict[str, Any] | None = None
    jit_compile: dict[str, Any] | None = None  # sg.jit: first call cold / from disk

    def time(self, label: str) -> float | None:
        c = self.contenders.get(label)
        return c.median if c is not None and c.error is None else None

    def ratio(self, label: str) -> float | None:
        t, h = self.time(label), self.time(HAND)
        return t / h if t is not None and h else None


def _contender(label: str, build: Callable[[], Callable[[], Any]],
               reference) -> Contender:
    """Build a contender, call it once and check it against the reference."""
    c = Contender(label)
    try:
        call = build()
        got = call()
    except _Unavailable:
        c.missing = True
        return c
    except Exception as exc:
        c.error = _describe(exc)
        return c
    why = _mismatch(got, reference)
    if why is not None:
        c.error = f"wrong gradient: {why}"
        return c
    c.call = call
    return c


def run_workload(wl: Workload, sg, sg_error: str | None, peers: bool,
                 rounds: int, min_batch_s: float) -> Row:
    """Measure one workload: all columns, first call, overhead, memory."""
    args = wl.make_inputs()
    reference = wl.hand_grad(*args)
    contenders = {HAND: Contender(HAND, call=lambda: wl.hand_grad(*args))}
    row = Row(wl, contenders)

    # sourcegrad first: its first call must be the first transformation of
    # this function in the process, or the cache would hide the cost.
    if sg is None:
        contenders[SOURCEGRAD] = Contender(SOURCEGRAD, error=sg_error)
    else:
        sg_box = {}

        def build_sourcegrad():
            # What the libraries loaded so far left for the collector (jax's jit,
            # say: a full collection of its objects takes tens of ms) is not the
            # first call's cost: collected before it, not during it.
            gc.collect()
            t0 = time.perf_counter()
            g = wl.sourcegrad(sg)
            t1 = time.perf_counter()
            try:
                g(*args)
            finally:
                t2 = time.perf_counter()
                row.first_call = {"build_s": t1 - t0, "first_call_s": t2 - t1,
                                  "total_s": t2 - t0}
            sg_box["g"] = g
            return lambda: g(*args)

        contenders[SOURCEGRAD] = _contender(SOURCEGRAD, build_sourcegrad,
                                            reference)
        if "g" not in sg_box:
            row.first_call_error = contenders[SOURCEGRAD].error
            row.first_call = None

    contenders[SGJIT] = _jit_contender(wl, sg, sg_error, args, reference, row)

    builders = _peer_builders()
    for label in PEERS:
        if not peers or wl.name not in WORKLOADS:
            # The Cell case is sourcegrad/MindSpore API; peers have no Cell.
            contenders[label] = Contender(label, missing=True)
            continue
        contenders[label] = _contender(
            label, lambda b=builders[label]: b(wl, args), reference)

    _measure_round_robin(list(contenders.values()), rounds, min_batch_s)

    if wl.name == OVERHEAD_WORKLOAD and contenders[SOURCEGRAD].call is not None:
        row.overhead = _measure_overhead(sg, sg_box["g"], args, rounds,
                                         min_batch_s)
    if wl.name in MEMORY_WORKLOADS:
        row.memory = {}
        for label in (HAND, SOURCEGRAD, "autograd"):
            c = contenders[label]
            if c.call is not None:
                row.memory[label] = _peak_memory(c.call)
    return row


def _jit_contender(wl: Workload, sg, sg_error, args, reference, row: Row) -> Contender:
    """``sg.jit`` of the workload's gradient: its first call (transformation, Numba
    compile into this run's empty cache directory) is timed as the cold compile."""
    if sg is None:
        return Contender(SGJIT, error=sg_error)
    if not hasattr(sg, "jit"):
        return Contender(SGJIT, missing=True)
    try:
        import numba  # noqa: F401
    except ImportError:
        return Contender(SGJIT, missing=True)
    import warnings

    def build():
        gc.collect()
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", sg.JitWarning)
            j = sg.jit(wl.sourcegrad(sg))
            j(*args)
        cold = time.perf_counter() - t0
        fell = [w for w in caught if issubclass(w.category, sg.JitWarning)]
        if fell:  # timed as NumPy, it would pass for a compiled figure
            raise RuntimeError(f"uncompiled: {str(fell[0].message)}")
        row.jit_compile = {"cold_s": cold}
        return lambda: j(*args)

    return _contender(SGJIT, build, reference)


def probe_jit_first_call(name: str) -> float:
    """In this process: ``sg.jit`` of workload ``name``, its first call (loading the
    compiled code from the disk cache a previous process filled), in seconds."""
    import sourcegrad as sg
    from sourcegrad.jit import _numba_owner
    # Numba's start-up in a process (import, LLVM and its first tiny compile) is paid
    # once per process whatever is compiled: outside the figure
    _numba_owner()
    wl = WORKLOADS[name] if name in WORKLOADS else cell_workload()
    args = wl.make_inputs()
    gc.collect()
    t0 = time.perf_counter()
    sg.jit(wl.sourcegrad(sg))(*args)
    return time.perf_counter() - t0


def measure_jit_from_cache(rows: list[Row]) -> None:
    """Each compiled workload's first call again, in a fresh process per workload,
    with the cache directory this run filled: the compile time from the disk cache."""
    for r in rows:
        c = r.contenders.get(SGJIT)
        if c is None or c.call is None or r.jit_compile is None:
            continue
        proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--probe-jit",
                               r.workload.name], cwd=_ROOT, capture_output=True, text=True,
                              timeout=600)
        if proc.returncode == 0:
            r.jit_compile["cached_s"] = float(proc.stdout.split()[-1])
        else:
            lines = proc.stderr.strip().splitlines() or ["no output"]
            r.jit_compile["cached_error"] = lines[-1]


def _measure_overhead(sg, g, args, rounds: int, min_batch_s: float) -> dict:
    """Median time of ``g(*args)`` minus that of the generated function itself."""
    gen = _generated_function(sg, g)
    if gen is None:
        return {"error": "no generated function exposed (see README)"}
    try:
        gen(*args)
    except Exception as exc:
        return {"error": f"calling the generated function: {_describe(exc)}"}
    wrapped = Contender("g", call=lambda: g(*args))
    direct = Contender("generated", call=lambda: gen(*args))
    _measure_round_robin([wrapped, direct], 2 * rounds, min_batch_s)
    # A microsecond of fixed cost, not a ratio: the medians (and their difference)
    # grow with whatever slows the machine down, by half and more on a busy one.
    # Each contender's fastest batch is its cost with the least interference, as
    # timeit reports it; the median of the per-round differences is kept too.
    paired = [w - d for w, d in zip(wrapped.samples, direct.samples)]
    return {"g_s": wrapped.median, "generated_s": direct.median,
            "overhead_s": min(wrapped.samples) - min(direct.samples),
            "overhead_paired_median_s": statistics.median(paired)}


def probe_first_call(name: str = FIRST_CALL_WORKLOAD,
                     after: tuple = FIRST_CALL_AFTER) -> float:
    """In this process: transform and call the ``after`` workloads, then return
    ``name``'s first-call time net of a median call (run in a fresh process)."""
    import sourcegrad as sg
    for other in after:
        wl = WORKLOADS[other]
        args = wl.make_inputs()
        wl.hand_grad(*args)
        wl.sourcegrad(sg)(*args)
    wl = WORKLOADS[name]
    args = wl.make_inputs()
    wl.hand_grad(*args)
    gc.collect()  # as in the main run (build_sourcegrad)
    t0 = time.perf_counter()
    g = wl.sourcegrad(sg)
    g(*args)
    total = time.perf_counter() - t0
    calls = []
    for _ in range(5):
        t = time.perf_counter()
        g(*args)
        calls.append(time.perf_counter() - t)
    return max(total - statistics.median(calls), 0.0)


def measure_first_calls(runs: int) -> dict:
    """``probe_first_call`` in ``runs`` fresh processes: median, min, max.

    One first call is one sample of a few milliseconds on a shared machine,
    easily moved by a third; the median of several fresh processes says what
    the transformation costs."""
    samples = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--probe-first-call"],
                              cwd=_ROOT, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or ["no output"]
            return {"error": lines[-1]}
        samples.append(float(proc.stdout.split()[-1]))
    return {"median_s": statistics.median(samples), "min_s": min(samples),
            "max_s": max(samples), "samples_s": samples}


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _cell(c: Contender, value: str, notes: list[str]) -> str:
    """A table cell: the value, or n/a, or a short error with a numbered note."""
    if c.missing:
        return "n/a"
    if c.error is not None:
        if c.error not in notes:
            notes.append(c.error)
        # Only the exception type fits in a cell; the message is in the notes.
        kind = c.error.split(":", 1)[0][:24]
        return f"error: {kind} [{notes.index(c.error) + 1}]"
    return value


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(  # noqa: E731
        (s.ljust(w) if i == 0 else s.rjust(w)) for i, (s, w) in
        enumerate(zip(r, widths))) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule] + [line(r) for r in body])


def geometric_means(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Per column: geometric mean of the ratios over the issue-5 workloads."""
    means = {}
    counted = [r for r in rows if r.workload.in_geomean]
    for label in COLUMNS:
        ratios = [r.ratio(label) for r in counted]
        ratios = [x for x in ratios if x is not None]
        means[label] = {
            "ratio": math.exp(sum(map(math.log, ratios)) / len(ratios))
            if ratios else None,
            # Out of all six, so a partial run (--only) says it is partial.
            "n": len(ratios), "of": sum(w.in_geomean for w in WORKLOADS.values())}
    return means


def _transform_time(row: Row) -> float | None:
    """First-call cost net of one ordinary call: transformation + compile.

    The first call also evaluates the gradient once; taking the median call
    off keeps the 1e6-float evaluation, say, out of the transformation time.
    """
    median = row.time(SOURCEGRAD)
    if row.first_call is None or median is None:
        return None
    return max(row.first_call["total_s"] - median, 0.0)


def targets(rows: list[Row], fresh_first_calls: dict | None = None) -> list[dict[str, Any]]:
    """Issue 5's targets: each with the measured value and met / missed / unknown.

    "unknown" means the run could not measure it (sourcegrad or a peer
    missing, workload not selected); a partial geometric mean is unknown too.
    """
    by_name = {r.workload.name: r for r in rows}
    means = geometric_means(rows)
    result = []

    def add(what, value, ok, shown):
        status = "unknown" if value is None else ("met" if ok else "missed")
        result.append({"target": what, "value": value, "status": status,
                       "shown": shown if value is not None else "-"})

    sg_mean = means[SOURCEGRAD]
    full = sg_mean["ratio"] if sg_mean["n"] == sg_mean["of"] else None
    add("geometric mean <= 1.2x hand-written", full,
        full is not None and full <= 1.2, f"{full or 0:.2f}x")
    # every workload, the extras (the written-out BCE, the Cell) included
    ratios = [by_name[n].ratio(SOURCEGRAD) if n in by_name else None
              for n in WORKLOADS] + [r.ratio(SOURCEGRAD) for r in rows
                                     if r.workload.name not in WORKLOADS]
    worst = None if None in ratios else max(ratios)
    add("no workload above 1.5x", worst, worst is not None and worst <= 1.5,
        f"worst {worst or 0:.2f}x")
    for peer, factor in (("autograd", 5.0), ("torch", 3.0)):
        p = means[peer]
        speedup = (p["ratio"] / full if full and p["n"] == p["of"] else None)
        add(f">= {factor:g}x faster than {peer} (geometric means)", speedup,
            speedup is not None and speedup >= factor, f"{speedup or 0:.1f}x")
    jit_mean = means[SGJIT]
    jfull = jit_mean["ratio"] if jit_mean["n"] == jit_mean["of"] else None
    add("sg.jit geometric mean <= 0.5x hand-written", jfull,
        jfull is not None and jfull <= 0.5, f"{jfull or 0:.2f}x")
    pairs = [(by_name[n].ratio(SGJIT), by_name[n].ratio("jax.jit")) if n in by_name
             else (None, None) for n in WORKLOADS]
    known = None if any(None in p for p in pairs) else \
        max(j / x for j, x in pairs)
    add("sg.jit <= jax.jit on every workload", known,
        known is not None and known <= 1.0, f"worst {known or 0:.2f}x jax.jit")
    first = _transform_time(by_name["mlp"]) if "mlp" in by_name else None
    fresh = (fresh_first_calls or {}).get("median_s")
    if fresh is not None:  # the median of several processes, rather than one sample
        first = fresh
    add("first call (transform + compile) <= 20 ms on the MLP", first,
        first is not None and first <= 0.020, _fmt_time(first))
    ov = by_name[OVERHEAD_WORKLOAD].overhead if OVERHEAD_WORKLOAD in by_name \
        else None
    overhead = ov.get("overhead_s") if ov else None
    add("cached-call overhead <= 3 µs", overhead,
        overhead is not None and overhead <= 3e-6, _fmt_time(overhead))
    for name in MEMORY_WORKLOADS:
        mem = by_name[name].memory if name in by_name else None
        ratio = (mem[SOURCEGRAD] / mem[HAND]
                 if mem and SOURCEGRAD in mem and mem.get(HAND) else None)
        add(f"peak memory <= 1.2x hand-written on {name}", ratio,
            ratio is not None and ratio <= 1.2, f"{ratio or 0:.2f}x")
    return result


def render(rows: list[Row], meta: dict) -> str:  # noqa: C901 (21; to split)
    """The human-readable report."""
    out = []
    out.append(f"sourcegrad benchmarks: {meta['python']} on {meta['machine']}, "
               f"{meta['cpus']} CPUs; BLAS threads {meta['threads']}")
    out.append("versions: " + ", ".join(f"{k} {v}"
                                        for k, v in meta["versions"].items()))
    out.append(f"{meta['rounds']} round-robin rounds, batches of at least "
               f"{meta['min_batch_s'] * 1e3:g} ms; median {meta['clock']} time "
               f"per call; float64")
    # Another process on a 2-core machine moves ratios by tens of percent:
    # say so rather than let a noisy run pass for a measurement.
    busy = [x for x in (meta.get("load_before"), meta.get("load_after"))
            if x is not None and x > 0.5 * (meta["cpus"] or 1) + 1]
    if busy:
        out.append(f"WARNING: machine busy (load average {max(busy):g} on "
                   f"{meta['cpus']} CPUs): numbers are unreliable; rerun when "
                   f"idle or with --clock cpu")
    noisy = sorted({r.workload.name for r in rows
                    for c in r.contenders.values()
                    if c.spread is not None and c.spread > 0.10})
    if noisy:
        out.append(f"WARNING: samples spread over 10% (IQR/median) in "
                   f"{', '.join(noisy)} (per-contender spread in the JSON)")
    out.append("")

    notes: list[str] = []
    header = ["workload"] + list(COLUMNS)
    out.append("Median time per gradient call")
    out.append(_table(header, [
        [r.workload.title] + [_cell(r.contenders[label], _fmt_time(r.time(label)),
                                    notes) for label in COLUMNS]
        for r in rows]))
    out.append("")

    out.append("Ratio to hand-written (lower is better)")
    body = [[r.workload.title] + [
        _cell(r.contenders[label],
              f"{r.ratio(label):.2f}x" if r.ratio(label) is not None else "-",
              notes) for label in COLUMNS] for r in rows]
    means = geometric_means(rows)
    gm_row = ["geometric mean (issue-5 six)"]
    for label in COLUMNS:
        m = means[label]
        if m["ratio"] is None:
            gm_row.append("-")
        else:
            partial = "" if m["n"] == m["of"] else f" ({m['n']}/{m['of']})"
            gm_row.append(f"{m['ratio']:.2f}x{partial}")
    out.append(_table(header, body + [gm_row]))
    speedups = []
    sg_mean = means[SOURCEGRAD]["ratio"]
    for label in ("autograd", "torch"):
        peer = means[label]["ratio"]
        if sg_mean and peer:
            speedups.append(f"{peer / sg_mean:.1f}x faster than {label}")
    if speedups:
        out.append("sourcegrad (geometric mean): " + ", ".join(speedups))
    out.append("")

    out.append("sourcegrad first call (build grad + transform + compile + "
               "first call)")
    fc_body = []
    for r in rows:
        if r.first_call is not None:
            fc = r.first_call
            fc_body.append([r.workload.title, _fmt_time(fc["build_s"]),
                            _fmt_time(fc["first_call_s"]),
                            _fmt_time(fc["total_s"]),
                            _fmt_time(_transform_time(r))])
        else:
            fc_body.append([r.workload.title, "-", "-", "-",
                            _cell(r.contenders[SOURCEGRAD], "-", notes)])
    out.append(_table(["workload", "grad()", "first call", "total",
                       "transform (total - median call)"], fc_body))
    fresh = meta.get("fresh_first_calls")
    if fresh is not None:
        title = WORKLOADS[FIRST_CALL_WORKLOAD].title
        if "error" in fresh:
            out.append(f"{title}, in fresh processes: n/a ({fresh['error']})")
        else:
            out.append(f"{title}, transform in {len(fresh['samples_s'])} fresh processes "
                       f"(each after the {' and '.join(FIRST_CALL_AFTER)} workloads): "
                       f"median {_fmt_time(fresh['median_s'])} (min "
                       f"{_fmt_time(fresh['min_s'])}, max {_fmt_time(fresh['max_s'])})")
    out.append("")

    jit_rows = [r for r in rows if r.jit_compile is not None]
    if jit_rows:
        out.append("sg.jit first call (transform + Numba compile + first call): cold (empty "
                   "cache directory) and from the disk cache (a second process, after "
                   "Numba's start-up there)")
        out.append(_table(["workload", "cold", "from disk cache"], [
            [r.workload.title, _fmt_time(r.jit_compile.get("cold_s")),
             _fmt_time(r.jit_compile.get("cached_s")) if "cached_error" not in r.jit_compile
             else f"error: {r.jit_compile['cached_error'][:40]}"] for r in jit_rows]))
        out.append("")

    for r in rows:
        if r.workload.name != OVERHEAD_WORKLOAD:
            continue
        ov = r.overhead
        if ov is None:
            text = "n/a (sourcegrad did not run)"
        elif "error" in ov:
            text = f"n/a ({ov['error']})"
        else:
            text = (f"{_fmt_time(ov['overhead_s'])} between the fastest batches (medians: "
                    f"g(*args) {_fmt_time(ov['g_s'])} vs generated function "
                    f"{_fmt_time(ov['generated_s'])}; median of per-round differences "
                    f"{_fmt_time(ov['overhead_paired_median_s'])})")
        out.append(f"sourcegrad cached-call overhead on {r.workload.title}: {text}")
        out.append("")

    mem_rows = [r for r in rows if r.memory is not None]
    if mem_rows:
        out.append("Peak memory of one gradient call (tracemalloc, NumPy buffers)")
        mb = []
        for r in mem_rows:
            hand = r.memory.get(HAND)
            cells = [r.workload.title]
            for label in (HAND, SOURCEGRAD, "autograd"):
                c = r.contenders[label]
                v = r.memory.get(label)
                ratio = f" ({v / hand:.2f}x)" if v is not None and hand else ""
                cells.append(_cell(c, _fmt_bytes(v) + ratio, notes)
                             if label != HAND else _fmt_bytes(v))
            mb.append(cells)
        out.append(_table(["workload", HAND, SOURCEGRAD, "autograd"], mb))
        out.append("")

    out.append("Issue 5 targets")
    out.append(_table(["target", "measured", "status"],
                      [[t["target"], t["shown"], t["status"]]
                       for t in targets(rows, meta.get("fresh_first_calls"))]))
    out.append("")

    if notes:
        out.append("Notes")
        out.extend(f"[{i + 1}] {n}" for i, n in enumerate(notes))
    return "\n".join(out)


def to_json(rows: list[Row], meta: dict) -> dict:
    """The results as plain data (seconds, bytes, ratios; None when absent)."""
    result = {"meta": meta, "workloads": {},
              "geometric_means": geometric_means(rows),
              "targets": [{k: t[k] for k in ("target", "value", "status")}
                          for t in targets(rows, meta.get("fresh_first_calls"))]}
    for r in rows:
        result["workloads"][r.workload.name] = {
            "title": r.workload.title,
            "in_geomean": r.workload.in_geomean,
            "median_s": {label: r.time(label) for label in COLUMNS},
            "ratio_to_hand": {label: r.ratio(label) for label in COLUMNS},
            "samples_s": {label: c.samples for label, c in r.contenders.items()},
            "spread_iqr_over_median": {label: c.spread for label, c in
                                       r.contenders.items() if c.samples},
            "batch": {label: c.batch for label, c in r.contenders.items()
                      if c.call is not None},
            "status": {label: ("n/a" if c.missing else c.error or "ok")
                       for label, c in r.contenders.items()},
            "sourcegrad_first_call": r.first_call and {
                **r.first_call, "transform_s": _transform_time(r)},
            "sourcegrad_cached_call_overhead": r.overhead,
            "peak_memory_bytes": r.memory,
            "sg_jit_first_call": r.jit_compile,
        }
    return result


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Median time per gradient call: sourcegrad vs a "
                    "hand-written NumPy gradient and the peers.")
    parser.add_argument("--quick", action="store_true",
                        help="few short rounds (CI smoke test, noisy numbers)")
    parser.add_argument("--json", metavar="PATH",
                        help="also write the results as JSON to PATH")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help="run only these workloads: "
                             + ", ".join(list(WORKLOADS) + ["cell"]))
    parser.add_argument("--no-peers", action="store_true",
                        help="skip autograd, torch and jax")
    parser.add_argument("--rounds", type=int,
                        help="round-robin rounds (default 21, or 3 with --quick)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time batches by wall clock (default) or by this "
                             "process's CPU time (steadier on a busy machine)")
    parser.add_argument("--first-call-runs", type=int, metavar="N",
                        help=f"fresh processes timing the {FIRST_CALL_WORKLOAD} workload's "
                             f"first call (default 7, or 3 with --quick; 0: none)")
    parser.add_argument("--probe-first-call", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe-jit", metavar="NAME", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.probe_first_call:  # one sample, in a process of its own (see above)
        _pin_threads()
        print(probe_first_call())
        return 0
    if opts.probe_jit:
        _pin_threads()
        print(probe_jit_first_call(opts.probe_jit))
        return 0
    # sg.jit compiles into a cache directory of this run's own, empty at the start, so
    # its first calls are cold compiles (the --probe-jit processes then read it)
    jit_cache = None
    if "SOURCEGRAD_JIT_CACHE" not in os.environ:
        import tempfile
        jit_cache = tempfile.TemporaryDirectory(prefix="sourcegrad-jit-bench-")
        os.environ["SOURCEGRAD_JIT_CACHE"] = jit_cache.name

    global _clock
    _clock = time.perf_counter if opts.clock == "wall" else time.process_time

    rounds = opts.rounds or (3 if opts.quick else 21)
    min_batch_s = 0.002 if opts.quick else 0.02
    keep_alive, threads = _pin_threads()  # noqa: F841 (limits last while alive)

    sg, sg_error = _import_sourcegrad()
    workloads = list(WORKLOADS.values())
    try:
        cell = cell_workload()
    except Exception as exc:  # nn imports but is broken: report, keep going
        cell = None
        print(f"tutorial Cell case skipped: {_describe(exc)}", file=sys.stderr)
    if cell is not None:
        workloads.append(cell)
    if opts.only:
        wanted = [n.strip() for n in opts.only.split(",") if n.strip()]
        known = {wl.name for wl in workloads}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            extra = "" if "cell" in known else " (cell needs sourcegrad.nn)"
            parser.error(f"unknown workload(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(sorted(known))}{extra}")
        workloads = [wl for wl in workloads if wl.name in wanted]

    meta = {
        "python": f"Python {platform.python_version()}",
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "threads": threads, "versions": _peer_versions(),
        "rounds": rounds, "min_batch_s": min_batch_s, "quick": opts.quick,
        "clock": opts.clock, "load_before": _load(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sourcegrad_error": sg_error,
    }

    rows = []
    for wl in workloads:
        print(f"... {wl.title}", file=sys.stderr, flush=True)
        try:
            rows.append(run_workload(wl, sg, sg_error, not opts.no_peers,
                                     rounds, min_batch_s))
        except Exception:  # a broken reference is a bug here: say so, go on
            print(f"workload {wl.name} failed:\n{traceback.format_exc()}",
                  file=sys.stderr)
    runs = opts.first_call_runs if opts.first_call_runs is not None else (
        3 if opts.quick else 7)
    if runs > 0 and sg is not None and FIRST_CALL_WORKLOAD in {r.workload.name for r in rows}:
        print(f"... first calls in {runs} fresh processes", file=sys.stderr, flush=True)
        meta["fresh_first_calls"] = measure_first_calls(runs)
    if any(r.jit_compile for r in rows):
        print("... sg.jit first calls from the disk cache, in fresh processes", file=sys.stderr,
              flush=True)
        measure_jit_from_cache(rows)
    meta["load_after"] = _load()
    print(render(rows, meta))
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as fh:
            json.dump(to_json(rows, meta), fh, indent=2)
            fh.write("\n")
        print(f"\nresults written to {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
