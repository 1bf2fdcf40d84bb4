"""``samples/train_digits.py``: a real training run on scikit-learn's digits.

A shortened run (3 epochs instead of 20) must lower the training loss every
epoch and reach 85% test accuracy; the gradient the sample trains with must
match central finite differences in float64; the script's command line must
work, and without scikit-learn it must say how to install it and exit 1.

The tests that train need scikit-learn (the ``train`` extra:
``pip install -e ".[train]"``) and are skipped without it. The notebook test
runs ``samples/train_digits.ipynb`` in a Jupyter kernel (``notebook`` extra).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sourcegrad import nn

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "train_digits.py"
NOTEBOOK = ROOT / "samples" / "train_digits.ipynb"
SKLEARN_MISSING = ('scikit-learn is not installed; the digits sample needs the "train" '
                   'extra: pip install -e ".[train]"')


def _load_sample():
    spec = importlib.util.spec_from_file_location("train_digits_sample", SAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample():
    return _load_sample()


@pytest.fixture(scope="module")
def digits(sample):
    pytest.importorskip("sklearn", reason=SKLEARN_MISSING)
    return sample.load_data()


def _run(*args, prelude=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if prelude is None:
        cmd = [sys.executable, str(SAMPLE), *args]
    else:
        cmd = [sys.executable, "-c",
               f"{prelude}\nimport runpy, sys\nsys.argv = {[str(SAMPLE), *args]!r}\n"
               f"runpy.run_path({str(SAMPLE)!r}, run_name='__main__')"]
    return subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True,
                          timeout=300)


def test_data_is_standardized_and_split_repeatably(sample, digits):
    x_train, x_test, y_train, y_test = digits
    assert x_train.shape == (1347, 64) and x_test.shape == (450, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert set(np.unique(y_test)) == set(range(10))
    used = x_train.std(axis=0) > 0  # a few border pixels are always 0
    assert np.allclose(x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(x_train.std(axis=0)[used], 1, atol=1e-4)
    again = sample.load_data()
    for a, b in zip(digits, again):
        assert np.array_equal(a, b), "the train/test split must not change between runs"


def test_short_run_lowers_the_loss_and_reaches_85_percent(sample, digits):
    result = sample.train(epochs=3, quiet=True, data=digits)
    losses = result["losses"]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert all(b < a for a, b in zip(losses, losses[1:])), (
        f"the mean training loss should fall every epoch, got {losses}")
    assert losses[-1] < 0.5 * losses[0], f"loss barely moved: {losses}"
    assert result["test_accuracy"] >= 0.85, (
        f"test accuracy after 3 epochs is {result['test_accuracy']:.3f}, expected >= 0.85")


def test_gradient_matches_finite_differences(sample, digits):
    """The sample's ``grad_fn`` on a tiny float64 batch, against central differences."""
    x_train, _, y_train, _ = digits
    x = x_train[:6].astype(np.float64)
    y = y_train[:6]
    np.random.seed(1)
    model = sample.MLP(dtype=np.float64)
    loss_fn = nn.CrossEntropyLoss()
    params = model.trainable_params()
    forward_fn, grad_fn = sample.make_grad_fn(model, loss_fn, params)
    loss, grads = grad_fn(x, y)
    assert np.isclose(loss, forward_fn(x, y), rtol=1e-12)
    assert [g.shape for g in grads] == [p.shape for p in params]

    names = [p.name for p in params]
    assert names == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    eps = 1e-6
    rng = np.random.default_rng(0)
    for param, grad in zip(params, grads):
        assert grad.dtype == np.float64
        # a few coordinates, chosen among those that influence the loss
        candidates = np.flatnonzero(grad) if np.any(grad) else np.arange(grad.size)
        for flat in rng.choice(candidates, size=min(4, candidates.size), replace=False):
            index = np.unravel_index(flat, param.shape)
            old = param[index]
            param[index] = old + eps
            hi = float(forward_fn(x, y))
            param[index] = old - eps
            lo = float(forward_fn(x, y))
            param[index] = old
            numeric = (hi - lo) / (2 * eps)
            assert np.isclose(grad[index], numeric, rtol=1e-5, atol=1e-8), (
                f"d loss / d {param.name}{list(index)}: sourcegrad {grad[index]!r}, "
                f"finite differences {numeric!r}")


def test_command_line_prints_progress_source_and_summary(digits):
    proc = _run("--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "def " in out and "weight_grads" in out, "the derivative source should be printed"
    compile(out.split("--- derivative of forward_fn (generated by sourcegrad) ---\n")[1]
            .split("\n--- training")[0], "<derivative>", "exec")
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and "1/2" in epoch_lines[0] and "test acc" in epoch_lines[1]
    assert "final test accuracy" in out.splitlines()[-1]
    assert "wall time" in out.splitlines()[-1]


def test_quiet_prints_one_line(digits):
    proc = _run("--epochs", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("final test accuracy"), proc.stdout


def test_without_sklearn_it_says_how_to_install_and_exits_1():
    # sys.modules[name] = None makes `import name` raise ImportError
    proc = _run(prelude="import sys; sys.modules['sklearn'] = None")
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert 'pip install -e ".[train]"' in proc.stderr
    assert "scikit-learn" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.notebook
def test_notebook_trains_in_a_kernel(monkeypatch):
    pytest.importorskip("sklearn", reason=SKLEARN_MISSING)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    assert nbformat.validate(nb) is None
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        "the notebook is stored without outputs")
    # the kernel imports this checkout's sourcegrad even when it is not pip-installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = ""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text += output.get("text", "")
            elif output.get("output_type") in ("execute_result", "display_data"):
                text += output.get("data", {}).get("text/plain", "")
    assert "def " in text, "evaluating grad_fn should show the derivative source"
    final = [line for line in text.splitlines() if line.startswith("final test accuracy")]
    assert final, f"no 'final test accuracy' line in the notebook's output:\n{text}"
    accuracy = float(final[-1].split()[3].rstrip("%")) / 100
    assert accuracy >= 0.95, final[-1]
