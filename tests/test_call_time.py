"""At call time only the generated function and NumPy run: no transformation,
no tape objects, no per-operation wrappers (issue 2)."""
import sys

import numpy as np

import sourcegrad as sg
from sourcegrad import ops


def function(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss


def loop(x, W):
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


def _python_calls(fn, *args):
    """(module, function name) of every Python-level call made by ``fn(*args)``."""
    seen = []

    def prof(frame, event, arg):
        if event == "call":
            seen.append((frame.f_globals.get("__name__"), frame.f_code.co_name))

    sys.setprofile(prof)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return seen


def test_cached_call_runs_only_the_generated_code_and_numpy():
    rng = np.random.default_rng(0)
    args = (np.ones(5, np.float32), np.zeros(3, np.float32),
            rng.standard_normal((5, 3)).astype(np.float32), np.zeros(3, np.float32))
    for fn, a in ((function, args), (loop, (rng.standard_normal(4),
                                            rng.standard_normal((4, 4))))):
        g = sg.grad(fn, (0, 1) if fn is loop else (2, 3))
        g(*a)  # transforms and caches
        g(*a)  # writes the fast path for this signature (codegen.fast_path), once
        calls = [c for c in _python_calls(g, *a) if c != ("sourcegrad.pipeline", "valid")]
        modules = {m for m, _ in calls}  # (the guard check is the one pipeline call left)
        engine = {"sourcegrad.parse", "sourcegrad.fence", "sourcegrad.normalize",
                  "sourcegrad.activity", "sourcegrad.reverse", "sourcegrad.optimize",
                  "sourcegrad.optimize.specialize", "sourcegrad.optimize.saves",
                  "sourcegrad.optimize.simplify", "sourcegrad.optimize.notes",
                  "sourcegrad.assemble",
                  "sourcegrad.codegen", "sourcegrad.shapes", "sourcegrad.jumps",
                  "sourcegrad.pipeline"}
        assert not modules & engine, f"transformation ran on a cached call: {calls}"
        sourcegrad_calls = [c for c in calls if (c[0] or "").startswith("sourcegrad")]
        # the wrapper (api), the guard check (pipeline.Derivative.valid is excluded
        # above: it is a method of a pipeline class) and the rules' NumPy helpers
        assert all(m in ("sourcegrad.api", "sourcegrad.rules.ops", "sourcegrad.rules.numpy_core",
                         "sourcegrad.rules.linalg", "sourcegrad.rules.fft",
                         "sourcegrad.runtime", "sourcegrad.ops", "sourcegrad.xp")
                   for m, _ in sourcegrad_calls), \
            sourcegrad_calls


def test_cached_call_overhead_is_a_few_function_calls():
    x = np.linspace(-1, 1, 5)
    g = sg.grad(lambda x: np.sum(np.sin(x) * x))
    g(x)
    g(x)  # the second call with one signature writes its fast path
    wrapper = [c for c in _python_calls(g, x) if c[0] == "sourcegrad.api"]
    # __call__ and _fix: the signature check and the gradient's fix-up are inline
    assert len(wrapper) <= 2, wrapper
