"""``samples/gp_regression.py``: Gaussian-process regression written as an autograd
user writes it (a dict of parameters, scipy.stats, helpers), fitted with
``scipy.optimize.minimize(jac=True)`` through ``sg.ravel``."""
from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import numeric_grad

pytest.importorskip("scipy", reason="SciPy is not installed: the sample fits with scipy.optimize")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "gp_regression.py"


@pytest.fixture(scope="module")
def sample():
    return runpy.run_path(str(SAMPLE), run_name="gp_sample")


def test_objective_gradient_matches_finite_differences(sample):
    x, y = sample["make_data"](n=12, seed=1)
    params = sample["init_params"]()
    params["kernel"]["log_lengthscales"] = np.array([0.2, -0.3])
    params["mean"] = 0.1
    flat, unravel = sg.ravel(params)
    value, grads = sg.value_and_grad(sample["objective"])(params, x, y)
    got = sg.ravel(grads)[0]
    want = numeric_grad(lambda v: sample["objective"](unravel(v), x, y), [flat], 0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert value == pytest.approx(sample["objective"](params, x, y))


def test_sample_runs_fits_and_prints_its_derivative():
    out = subprocess.run([sys.executable, str(SAMPLE)], capture_output=True, text=True,
                         timeout=120, cwd=str(ROOT),
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    text = out.stdout
    start, end = map(float, re.search(r"posterior: (\S+) -> (\S+)", text).groups())
    assert end < start - 10.0
    noise = float(re.search(r"noise std\s+(\S+)", text).group(1))
    assert 0.05 < noise < 0.2  # the data's noise is 0.1
    rmse = float(re.search(r"test RMSE\s+(\S+)", text).group(1))
    assert rmse < 0.2
    derivative = text.split("--- derivative of the objective ---")[1]
    assert "def objective_grad(params, x, y):" in derivative
    assert "_mvn_grad(" in derivative and "_norm_dlogpdf_du(" in derivative


def test_exported_derivative_needs_only_numpy_and_scipy(sample, tmp_path):
    x, y = sample["make_data"](n=8)
    params = sample["init_params"]()
    vg = sg.value_and_grad(sample["objective"])
    want = vg(params, x, y)
    path = tmp_path / "gp_gradient.py"
    text = sg.export(vg, str(path), params, x, y)
    imports = {line for line in text.splitlines() if line.startswith(("import ", "from "))}
    assert all("sourcegrad" not in line for line in imports), imports
    assert "BOUND = ()" in text
    got = runpy.run_path(str(path))["gradient"](params, x, y)
    assert got[0] == pytest.approx(want[0])
    np.testing.assert_allclose(sg.ravel(got[1])[0], sg.ravel(want[1])[0], rtol=1e-12)
