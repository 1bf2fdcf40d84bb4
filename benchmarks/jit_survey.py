"""Which gradients ``sg.jit`` compiles, and why the others run uncompiled.

    python -m benchmarks.jit_survey                 # the default programs below
    python -m benchmarks.jit_survey tests/test_control_flow.py
    python -m benchmarks.jit_survey --samples-only

Every ``sg.grad``/``value_and_grad`` function that a program calls successfully
is, on its first call with a given set of options, made again with the same
options, wrapped in ``sg.jit`` and called on copies of the same arguments (cold:
an empty compile cache of this run's own).  The compiled result is compared with
the uncompiled one (1e-12 relative).  The table prints, for each gradient, where
the function is, whether it compiled, how long the first ``sg.jit`` call took,
and the ``JitWarning`` (or error) when it did not.  (float32 results: to 8 units
in the last place, not 1e-12.)  Programs: the pytest files
given (default: the real-program, control-flow and tutorial tests) and the
scripts of ``samples/`` (run as ``__main__``, their output hidden).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import runpy
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_real_programs.py", "tests/test_control_flow.py",
         "tests/test_tutorial.py"]
SAMPLES = ["samples/autodiff_tutorial.py", "samples/gp_regression.py",
           "samples/train_digits.py"]

_rows = {}  # key -> row dict
_busy = []


def _leaves(x):
    if isinstance(x, (tuple, list)):
        for e in x:
            yield from _leaves(e)
    elif isinstance(x, dict):
        for k in sorted(x, key=repr):
            yield from _leaves(x[k])
    else:
        yield x


def _same(got, want, rtol=1e-12):
    a, b = list(_leaves(got)), list(_leaves(want))
    if len(a) != len(b):
        return f"{len(a)} results, uncompiled {len(b)}"
    for x, y in zip(a, b):
        if x is None or y is None:
            if x is not y:
                return "None against a value"
            continue
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            return f"shape {x.shape} against {y.shape}"
        if x.dtype != y.dtype:
            return f"dtype {x.dtype} against {y.dtype}"
        if not x.size or x.dtype == object:
            continue
        scale = max(float(np.max(np.abs(y))), 1e-300)
        err = float(np.max(np.abs(x.astype(float) - y.astype(float))))
        tol = max(rtol, 8 * float(np.finfo(y.dtype).eps)) if y.dtype.kind == "f" else rtol
        if not err <= tol * scale:
            return f"differs by {err:.3g} (scale {scale:.3g})"
    return None


def _where(fn):
    f = getattr(fn, "__func__", fn)
    f = getattr(f, "func", f)  # a partial
    code = getattr(f, "__code__", None)
    if code is None:
        construct = getattr(type(fn), "construct", None)
        code = getattr(construct, "__code__", None)
    if code is None:
        return repr(fn)[:40], "?"
    path = os.path.relpath(code.co_filename, ROOT)
    return f"{getattr(f, '__qualname__', '?')}", f"{path}:{code.co_firstlineno}"


def _options(init):
    args, kwargs = init
    names = ("fn", "grad_position", "weights", "has_aux", "return_ids", "sens_param", "value")
    bound = dict(zip(names, args))
    bound.update(kwargs)
    opts = []
    if bound.get("grad_position") is not None:
        opts.append(f"pos={bound['grad_position']}")
    for k in ("has_aux", "return_ids", "sens_param", "value"):
        if bound.get(k):
            opts.append(k)
    if bound.get("weights") is not None:
        opts.append("weights")
    return ",".join(opts)


def install():
    """Wrap ``GradFunction`` so that each gradient's first call is surveyed."""
    import sourcegrad as sg
    from sourcegrad import api

    cls = api.GradFunction
    init, call = cls.__init__, cls.__call__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._survey_init = (args, kwargs)

    def __call__(self, *args, **kwargs):
        if _busy:
            return call(self, *args, **kwargs)
        saved = (copy.deepcopy(args), copy.deepcopy(kwargs))
        res = call(self, *args, **kwargs)
        try:
            _survey(self, saved, res, sg)
        except Exception:  # noqa: BLE001 -- the survey never breaks the program
            pass
        return res

    cls.__init__, cls.__call__ = __init__, __call__


def _survey(g, saved, want, sg):
    init = getattr(g, "_survey_init", None)
    if init is None or not isinstance(want, (np.ndarray, tuple, list, float, np.generic)):
        return
    name, where = _where(g.fn)
    key = (where, name, _options(init))
    if key in _rows:
        return
    row = _rows[key] = {"name": name, "where": where, "options": key[2]}
    _busy.append(1)
    try:
        fresh = type(g)(*init[0], **init[1])
        j = sg.jit(fresh)
        args, kwargs = saved
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            try:
                got = j(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                row["status"] = "error"
                row["why"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                return
            row["seconds"] = time.perf_counter() - t0
        jw = [w for w in caught if issubclass(w.category, sg.JitWarning)]
        if jw:
            row["status"] = "fallback"
            row["why"] = str(jw[0].message).replace("sourcegrad.jit: ", "")
            row["warning_lines"] = len(str(jw[0].message).splitlines())
        else:
            row["status"] = "compiled"
        bad = _same(got, want)
        if bad:
            row["status"] += " MISMATCH"
            row["why"] = (row.get("why", "") + " " + bad).strip()
    finally:
        _busy.pop()


def _run_samples(samples):
    for s in samples:
        path = ROOT / s
        out = io.StringIO()
        cwd = os.getcwd()
        try:
            os.chdir(path.parent)
            sys.argv = [str(path)]
            with contextlib.redirect_stdout(out), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                runpy.run_path(str(path), run_name="__main__")
        except SystemExit:
            pass
        except Exception as exc:  # noqa: BLE001
            print(f"[survey] {s} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            os.chdir(cwd)


def report(out=sys.stdout):
    rows = sorted(_rows.values(), key=lambda r: (r["status"], r["where"]))
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"\n{'status':<18} {'seconds':>7}  {'where':<40} {'function':<32} options / why",
          file=out)
    for r in rows:
        secs = f"{r['seconds']:.2f}" if "seconds" in r else "-"
        print(f"{r['status']:<18} {secs:>7}  {r['where']:<40} {r['name'][:32]:<32} "
              f"{r['options']}", file=out)
        if r.get("why"):
            print(f"{'':<28}-> {r['why'][:300]}", file=out)
    compiled = [r["seconds"] for r in rows if r["status"] == "compiled" and "seconds" in r]
    print("\ncounts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=out)
    if compiled:
        print(f"first sg.jit call of a compiled gradient: median {np.median(compiled):.2f} s, "
              f"max {max(compiled):.2f} s, total {sum(compiled):.1f} s", file=out)
    multi = [r for r in rows if r.get("warning_lines", 1) > 1]
    if multi:
        print(f"warnings longer than one line: {len(multi)}", file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tests", nargs="*", help="pytest files (default: %(default)s)")
    ap.add_argument("--samples-only", action="store_true")
    ap.add_argument("--no-samples", action="store_true")
    ns = ap.parse_args(argv)
    os.environ.setdefault("SOURCEGRAD_JIT_CACHE", tempfile.mkdtemp(prefix="sg-jit-survey-"))
    sys.path.insert(0, str(ROOT))
    install()
    if not ns.samples_only:
        import pytest
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main(["-q", "-p", "no:cacheprovider", "-x", "-W", "ignore"]
                        + (ns.tests or TESTS))
    if not ns.no_samples:
        _run_samples(SAMPLES)
    report()


if __name__ == "__main__":
    main()
