"""API-surface differential fuzzing: sourcegrad vs central finite differences.

``tests/apifuzz.py`` writes random programs over a wide slice of NumPy
(linear algebra, reshaping and joining, reductions with every axis form,
methods, subscripts of every kind, writes into arrays, idioms such as softmax
and cross entropy).  Each program is written to a real ``.py`` file and
imported (sourcegrad reads source), then checked four ways:

* ``grad``'s gradients against central finite differences in float64 where
  the differences agree at three step sizes (at a kink or an unstable point,
  only the checks below), and each gradient's shape and type;
* ``value_and_grad``: its value against a direct call, its gradients
  against ``grad``'s;
* the general derivative (not specialised on the inputs' shapes) against the
  specialised one;
* the same program on float32 inputs (some programs): each gradient is
  float32 (docs/api.md: a gradient has its input's dtype) and close to float64's.

A program sourcegrad refuses with a ``SourcegradError`` passes only when the
message names a construct listed in ``OUTSIDE`` (outside what sourcegrad
supports) or ``GAPS`` (known gaps, to be closed; each entry is checked to be
still a gap); anything else it refuses, any other exception and any wrong
number fails.

    SOURCEGRAD_API_FUZZ_N=5000 pytest tests/test_api_fuzz.py   # a long run
    SOURCEGRAD_API_FUZZ_SEED=7 ...                              # another corpus
    python tests/test_api_fuzz.py 5000 [START]                  # summary of a long run
    python tests/apifuzz.py 123                                 # show program 123
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import sourcegrad as sg
import sourcegrad.api as sg_api
from sourcegrad.testing import load_source as load, numeric_grad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apifuzz import generate  # noqa: E402

N = int(os.environ.get("SOURCEGRAD_API_FUZZ_N", "150"))
SEED0 = int(os.environ.get("SOURCEGRAD_API_FUZZ_SEED", "0"))
RTOL, ATOL = 1e-4, 1e-6

# Refusals that are fine: constructs outside what sourcegrad supports (a phrase
# of the refusal's message -> why).
OUTSIDE = {
    "generator expression over a differentiated value":
        "generator expressions carrying gradient are refused by design (a list works)",
    "whose result is discarded":
        "writes through functions other than np.add.at, np.put, np.copyto, np.place, "
        "np.putmask, .fill (those are writes by subscript, docs/behaviour.md 12.16)",
    "method call for its side effect": "in-place methods (.sort(), .fill())",
    "**kwargs in a call": "keyword-argument unpacking into a call",
    "may share its array with": "an in-place write into an array another name reads later",
    "which updates its argument": "a call that writes into an array the caller reads "
                                  "again (np.putmask(v, ...), your own f(y) doing y -= c)",
}
# Refusals of NumPy code the README covers that sourcegrad does not support yet:
# known gaps, each a rule or a construct to add.  The list is strict: each entry
# comes with a witness, the body of a function f(x) that sourcegrad must still
# refuse with that phrase (test_known_gaps_are_still_gaps); when a gap closes, that
# test fails until the entry is removed here, and the fuzzer then checks those
# programs' gradients.

GAPS = {
    "numpy.linalg.tensorsolve": ("no rule", "return np.sum(np.linalg.tensorsolve("
                                            "np.outer(x, x) + np.eye(3), x))"),
    # y.T[0] = v and y[1][0] = v (a view picked by integers and slices) are writes
    # into y (docs/behaviour.md); through a fancy index the view is a copy instead
    "assignment into this subscript": ("writes into y.T[i] with an index array "
                                       "(the write goes through a view: not rewritten)",
                                       "y = np.outer(x, x)\ny.T[np.argmax(x)] = x\n"
                                       "return np.sum(y)"),
}


class Refused(Exception):
    """sourcegrad refused the program with a SourcegradError naming an OUTSIDE construct."""


class Disagreement(AssertionError):
    pass




def copy_args(args):
    return tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)


def flat(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in flat(x)]
    return [out]


def same_value(a, b):
    fa, fb = flat(a), flat(b)
    return len(fa) == len(fb) and all(
        np.shape(x) == np.shape(y) and np.allclose(x, y, rtol=1e-10, atol=1e-12)
        for x, y in zip(fa, fb))


def as_tuple(got, positions):
    return (got,) if isinstance(positions, int) else got


def finite_differences(f, args, positions):
    want = []
    for p in ((positions,) if isinstance(positions, int) else positions):
        try:
            with np.errstate(all="ignore"):
                a = numeric_grad(f, copy_args(args), p, eps=1e-5)
                b = numeric_grad(f, copy_args(args), p, eps=1e-6)
                c = numeric_grad(f, copy_args(args), p, eps=1e-4)
        except (ValueError, IndexError):
            # a mask's size changed under the perturbation: a shape no longer fits
            return None
        if not (np.all(np.isfinite(a)) and np.allclose(a, b, rtol=1e-3, atol=1e-5)
                and np.allclose(a, c, rtol=1e-2, atol=1e-4)):
            return None  # a kink or a branch switch within the steps: no fair test
        want.append(a)
    return want


def sourcegrad_grad(f, positions, args, where):
    try:
        return sg.grad(f, positions)(*args)
    except sg.SourcegradError as e:
        msg = str(e)
        for phrase in list(OUTSIDE) + list(GAPS):
            if phrase in msg:
                raise Refused(phrase)
        raise


def compare(got, want, args, positions, where, rtol=RTOL, atol=ATOL):
    got_t = as_tuple(got, positions)
    pos = (positions,) if isinstance(positions, int) else positions
    if not isinstance(got_t, tuple) or len(got_t) != len(pos):
        raise Disagreement(f"{where}: grad returned {type(got).__name__} for "
                           f"grad_position={positions!r}")
    for p, g, w in zip(pos, got_t, want or [None] * len(pos)):
        if np.shape(g) != np.shape(args[p]):
            raise Disagreement(f"{where}: gradient {p} has shape {np.shape(g)}, input has "
                               f"{np.shape(args[p])}")
        if isinstance(args[p], float) and not isinstance(g, float):
            raise Disagreement(f"{where}: gradient {p} of a float input is {type(g).__name__}")
        if isinstance(args[p], np.ndarray) and (not isinstance(g, np.ndarray)
                                                or g.dtype != args[p].dtype):
            raise Disagreement(f"{where}: gradient {p} is {type(g).__name__} "
                               f"{getattr(g, 'dtype', '')}, input is {args[p].dtype}")
        if w is not None and not np.allclose(g, w, rtol=rtol, atol=atol):
            err = np.max(np.abs(np.asarray(g, dtype=np.float64) - w))
            raise Disagreement(f"{where}: gradient {p} differs from finite differences "
                               f"(max abs error {err:.3g})\n  sourcegrad: {g!r}\n"
                               f"  numeric:    {w!r}")


def run_program(seed, tmp_dir):
    """Check one generated program; raises Refused or a failure."""
    prog = generate(seed)
    mod = load(os.path.join(tmp_dir, f"api{seed}.py"), prog.source)
    f, args, positions = mod.f, prog.args, prog.positions
    want = finite_differences(f, args, positions)
    where = f"program {seed}"
    before = copy_args(args)
    got = sourcegrad_grad(f, positions, args, where)
    if not all(np.array_equal(a, b) for a, b in zip(args, before)):
        raise Disagreement(f"{where}: sourcegrad mutated an input")
    compare(got, want, args, positions, where)
    # value_and_grad: the value of a direct call, the gradients of grad
    value, got2 = sg.value_and_grad(f, positions)(*copy_args(args))
    if not same_value(value, f(*copy_args(args))):
        raise Disagreement(f"{where}: value_and_grad's value {value!r} != f(...)")
    for g1, g2 in zip(as_tuple(got, positions), as_tuple(got2, positions)):
        if not np.allclose(g1, g2, rtol=1e-12, atol=0):
            raise Disagreement(f"{where}: value_and_grad's gradient differs from grad's")
    # the general derivative, not specialised on the inputs' shapes
    saved = sg_api.MAX_SPECIALIZATIONS
    sg_api.MAX_SPECIALIZATIONS = 0
    try:
        general = sg.grad(f, positions)(*copy_args(args))
    finally:
        sg_api.MAX_SPECIALIZATIONS = saved
    compare(general, want, args, positions, f"{where} (general derivative)")
    if prog.float32:
        args32 = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args)
        got32 = sg.grad(f, positions)(*copy_args(args32))
        scale = max([np.max(np.abs(w)) for w in want or () if np.size(w)] + [1.0])
        compare(got32, want, args32, positions, f"{where} (float32)", rtol=1e-2,
                atol=1e-3 * scale)
    return prog.templates


def describe(seed, exc):
    prog = generate(seed)
    return (f"{type(exc).__name__}: {exc}\n--- program {seed} (grad_position="
            f"{prog.positions!r}, arguments {prog.arg_shapes}, float32={prog.float32}) ---\n"
            f"{prog.source}\n(show it: python tests/apifuzz.py {seed})")


@pytest.mark.parametrize("seed", range(SEED0, SEED0 + N))
def test_api_fuzz(seed, tmp_path):
    try:
        run_program(seed, str(tmp_path))
    except Refused:
        pass  # refused, naming a construct listed in OUTSIDE or GAPS
    except Exception as e:
        pytest.fail(describe(seed, e), pytrace=False)


@pytest.mark.parametrize("phrase", sorted(GAPS))
def test_known_gaps_are_still_gaps(phrase, tmp_path):
    """GAPS is strict: when sourcegrad learns a construct listed there, this fails
    until the entry is removed (the fuzzer then checks those programs' gradients)."""
    import textwrap
    why, body = GAPS[phrase]
    mod = load(str(tmp_path / "gap.py"),
               "import numpy as np\n\n\ndef f(x):\n" + textwrap.indent(body, "    ") + "\n")
    x = np.array([0.5, 1.0, 2.0])
    mod.f(x)  # the witness is a valid program
    try:
        sg.grad(mod.f)(x)
    except sg.SourcegradError as e:
        assert phrase in str(e), f"refused, but not naming {phrase!r}: {e}"
    else:
        pytest.fail(f"the known gap {phrase!r} ({why}) is closed: remove it from GAPS")


def test_generated_programs_run():
    """The generator's programs are valid Python and run on their own arguments."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for seed in range(SEED0, SEED0 + 30):
            prog = generate(seed)
            compile(prog.source, f"api{seed}.py", "exec")
            load(os.path.join(d, f"api{seed}.py"), prog.source).f(*copy_args(prog.args))


def test_generator_covers_the_api():
    """The default corpus uses every template."""
    from apifuzz import TEMPLATES
    seen = set()
    for seed in range(SEED0, SEED0 + max(N, 100)):
        seen |= set(generate(seed).templates)
    missing = {name for name, _, _ in TEMPLATES} - seen
    assert not missing, f"never generated: {sorted(missing)}"


if __name__ == "__main__":  # a long run with a summary
    import collections
    import tempfile
    import time
    import traceback

    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    start = int(sys.argv[2]) if len(sys.argv) > 2 else SEED0
    stats = collections.Counter()
    refused = collections.Counter()
    failures = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        for seed in range(start, start + n):
            try:
                run_program(seed, d)
                stats["ok"] += 1
            except Refused as e:
                stats["refused (known gap)" if str(e) in GAPS else "refused (outside)"] += 1
                refused[str(e)] += 1
            except Exception as e:
                stats["FAIL"] += 1
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                failures.append((seed, type(e).__name__, first))
                if os.environ.get("SOURCEGRAD_FUZZ_TRACE"):
                    traceback.print_exc()
    print(f"{n} programs in {time.time() - t0:.1f}s: {dict(stats)}")
    for phrase, k in refused.most_common():
        print(f"  refused {k}x: {phrase}")
    for seed, kind, first in failures:
        print(f"  seed {seed}: {kind}: {first[:240]}")
