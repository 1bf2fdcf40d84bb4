"""A few fixed seeds of tests/fuzz_real.py (programs as autograd and JAX users write
them: nested defs, lambdas, partials, closure factories, comprehensions, generator
functions, dicts, with, SciPy calls), each judged against finite differences by
tests/fuzzcheck.py: no wrong gradient, value, type or crash, and no refusal (every
construct the generator writes is supported).  Long campaigns:
``python -m tests.fuzz_real --seed 0 --count 2000 --jobs 2``."""
import os
import sys
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytest.importorskip("scipy")  # the programs call SciPy, an optional dependency

import fuzz_real  # noqa: E402

SEEDS = [0, 3, 5, 6, 7, 16, 27, 42, 1114, 2001, 2024, 2077, 20003, 20011, 20029, 20042]


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_real_program(seed, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = fuzz_real.check_seed_real(seed, str(tmp_path))
    assert o.kind in ("ok", "skip"), (
        f"seed {seed}: {o.kind} {o.msg}\n{o.detail}\n{fuzz_real.generate_real(seed).clean}")
