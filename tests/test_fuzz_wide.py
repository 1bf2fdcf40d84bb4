"""Differential fuzzing of what users write: ``tests/fuzzgen.py``'s wide generator.

The classic corpus (``tests/test_fuzz.py``) stays inside the constructs its
grammar was written for; the wide generator (``fuzzgen.generate_wide``) writes
what people write: self-assignment and swaps, ``and``/``or``/``not`` and chained
comparisons in every test position, parameters rebound in branches and loops
(also to another shape or type), lists and tuples (``+``, ``+=``, append/extend,
aliasing then mutating, subscript writes), dicts (read, write, loops, dict
parameters), integer, float32, 0-d and Python-number inputs, builtin
``max``/``min``/``sum``/``abs``, decorators, deep ``elif`` chains, chains of
helper calls, early returns, and (behind ``nested=True``) nested ``def``s and
lambdas.  ``tests/fuzzcheck.py`` judges each program against finite
differences (float64), autograd as a second opinion, a plain call for the
value, and the inputs' structure/shape/dtype.

Each test parameter is one seed; a program that is not a fair test (no input
away from branch switches and kinks) is replaced by the next candidate of the
same parameter, so no parameter skips for good.  A refusal passes only when
its message names a construct in ``OUTSIDE`` or ``GAPS`` (same format as
``tests/test_api_fuzz.py``).  Seeds that fail today because a fix is under
way are listed in ``KNOWN`` and marked ``xfail(strict=True)``: they fail
loudly once fixed, so the mark gets removed.

    python -m tests.fuzzgen --seed 0 --count 2000 --jobs 2 --reduce   # a campaign
    python tests/fuzzgen.py 17 wide                                   # show program 17
    SOURCEGRAD_WIDE_FUZZ_N=1000 SOURCEGRAD_WIDE_FUZZ_SEED=5000 pytest tests/test_fuzz_wide.py
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzzcheck import check_seed  # noqa: E402
from fuzzgen import generate_wide  # noqa: E402

N = int(os.environ.get("SOURCEGRAD_WIDE_FUZZ_N", "100"))
N_NESTED = int(os.environ.get("SOURCEGRAD_WIDE_FUZZ_NESTED_N", "25"))
SEED0 = int(os.environ.get("SOURCEGRAD_WIDE_FUZZ_SEED", "0"))
CANDIDATES = 6          # programs tried per parameter before it counts as never fair
STRIDE = 1_000_003      # candidate j of seed s is program s + j * STRIDE

# Refusals that are fine: constructs outside what sourcegrad supports (a phrase of the
# refusal's message -> why).
OUTSIDE = {
    "may share its array with": "an in-place write into an array another name reads later",
    "on a list another name shares": "append/extend/pop on an aliased list (lists are values)",
    "which updates its argument": "a function that updates its argument's array in place, "
                                  "while the caller reads that argument again",
}
# Refusals of code the README covers that sourcegrad does not support yet: known gaps,
# in tests/test_api_fuzz.py's format (phrase -> (why, witness)).  Strict: each witness,
# the body of a function f(x), must still be refused with its phrase
# (test_known_gaps_are_still_gaps); when a gap closes, remove its entry.
GAPS = {
    "assignment into this subscript": ("writes into x.T[...] or x[i][j][k] (x[i][j] of a "
                                       "container built in f is supported)",
                                       "y = x * 1.0\ny.T[0] = x[1]\n"
                                       "return np.sum(y)"),
}
# Nested defs and lambdas (only in the nested corpus): support is being added.
NESTED_GAPS = {}

_INT = "int inputs get an integer (truncated) gradient (crash13)"
_DECO = "a decorator that changes the value is skipped: value and gradient (crash13)"
_DICTLOOP = "dict parameter read in a loop: AttributeError 'int' has no 'items' (crash13)"
_SELF = "self-assignment x = x in a branch after a saved value (cflow)"
_REBOUND = "a name rebound to another shape/type (a list, np.full) in a branch or loop (cflow)"
# seed -> why it fails today (the default corpus only): strict xfail
KNOWN = {}
KNOWN_NESTED = {}


def _params(n, known):
    out = []
    for k in range(n):
        seed = SEED0 + k
        why = known.get(seed) if SEED0 == 0 else None
        out.append(pytest.param(seed, marks=[pytest.mark.xfail(strict=True, reason=why)]
                                if why else []))
    return out


def judge_param(seed, tmp_dir, nested):
    """The first fair program of this parameter: (program seed, outcome)."""
    for j in range(CANDIDATES):
        s = seed + j * STRIDE
        o = check_seed(s, tmp_dir, nested=nested)
        if o.kind != "skip":
            return s, o
    pytest.fail(f"no fair program among {CANDIDATES} candidates of seed {seed}: the "
                f"generator must write programs with inputs away from kinks", pytrace=False)


def _check(seed, tmp_dir, nested):
    s, o = judge_param(seed, tmp_dir, nested)
    if o.kind == "ok":
        return
    if o.kind == "refused":
        for phrase in list(OUTSIDE) + list(GAPS) + (list(NESTED_GAPS) if nested else []):
            if phrase in o.detail or phrase in o.msg:
                return
    prog = generate_wide(s, nested=nested)
    pytest.fail(f"{o.key}\n{o.detail}\n--- program {s} (nested={nested}, grad_position="
                f"{prog.positions!r}, inputs {prog.arg_shapes}, float32={prog.float32}, "
                f"args={o.args!r}) ---\n{prog.clean}\n(reproduce: python -m tests.fuzzgen "
                f"--seed {s} --count 1 {'--nested ' if nested else ''}--reduce --show)",
                pytrace=False)


@pytest.mark.parametrize("seed", _params(N, KNOWN))
def test_fuzz_wide(seed, tmp_path):
    _check(seed, str(tmp_path), nested=False)


@pytest.mark.parametrize("seed", _params(N_NESTED, KNOWN_NESTED))
def test_fuzz_wide_nested(seed, tmp_path):
    _check(seed, str(tmp_path), nested=True)


@pytest.mark.parametrize("phrase", list(GAPS) + list(NESTED_GAPS))
def test_known_gaps_are_still_gaps(phrase, tmp_path):
    """GAPS is strict: when sourcegrad learns a construct listed there, this fails
    until the entry is removed (the fuzzer then checks those programs' gradients)."""
    import textwrap

    import numpy as np

    import sourcegrad as sg
    from sourcegrad.testing import load_source
    why, body = {**GAPS, **NESTED_GAPS}[phrase]
    mod = load_source(str(tmp_path / "gap.py"),
                      "import numpy as np\n\n\ndef f(x):\n" + textwrap.indent(body, "    ")
                      + "\n")
    x = np.array([0.5, 1.0, 2.0])
    mod.f(x)  # the witness is a valid program
    try:
        sg.grad(mod.f)(x)
    except sg.SourcegradError as e:
        assert phrase in str(e), f"refused, but not naming {phrase!r}: {e}"
    else:
        pytest.fail(f"the known gap {phrase!r} ({why}) is closed: remove it from GAPS")


def test_wide_generator_covers_what_users_write():
    seen = set()
    for seed in range(SEED0, SEED0 + max(N, 200)):
        seen |= generate_wide(seed).features
    expected = {
        "self_assign", "swap", "simultaneous_update", "boolop_and", "boolop_or", "not",
        "chained_cmp", "while_boolop", "ifexp", "elif", "elif_deep", "rebound_other_shape",
        "list_concat", "list_iadd", "list_append", "list_extend", "list_alias",
        "list_setitem", "tuple_concat", "for_over_list", "dict_literal", "dict_write",
        "for_over_dict", "input_int", "input_intarr", "input_0d", "input_float",
        "input_float32", "input_dict", "input_list", "builtin_maxmin_array",
        "builtin_maxmin_scalars", "builtin_sum", "builtin_abs", "decorator", "call_chain",
        "early_return", "early_return_nested", "break", "continue", "setitem", "augassign",
        "stop_gradient", "int_output", "const_array", "const_mutated"}
    assert expected <= seen, f"never generated: {sorted(expected - seen)}"
    nested = set()
    for seed in range(SEED0, SEED0 + 100):
        nested |= generate_wide(seed, nested=True).features
    assert {"nested_def", "lambda", "nested_call", "function_passed"} <= nested, \
        sorted({"nested_def", "lambda", "nested_call", "function_passed"} - nested)


def test_wide_sources_compile():
    from fuzzgen import make_ref
    for seed in range(50):
        p = generate_wide(seed, nested=seed % 2 == 0)
        compile(p.clean, f"fw{seed}.py", "exec")
        compile(make_ref(p.clean), f"fw{seed}_ref.py", "exec")
