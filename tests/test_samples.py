"""The samples run and print MindSpore's tutorial numbers.

``samples/autodiff_tutorial.py`` is MindSpore's functional-autodiff tutorial
with only its imports changed. Its ``w`` is drawn from a fixed seed and ``b``
is chosen so that ``z = x @ w + b`` equals the ``z`` the tutorial printed;
then every result must match the tutorial's printed numbers.

The notebook tests execute ``samples/autodiff_tutorial.ipynb`` in a real
Jupyter kernel (``nbclient`` + ``ipykernel``, kernel ``python3``); the ``test``
extra installs them, so ``.ci/run`` runs them too (``tox -e notebooks`` runs
only these).  Without those packages they are skipped.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

# What MindSpore's tutorial printed.
LOSS = 0.914285
GRAD_ROW = [6.56869709e-02, 5.37334494e-02, 3.01467031e-01]
GRAD_ROW_TUPLE_OUTPUT = [1.06568694, 1.05373347, 1.30146706]
Z = [-1.40476596, -1.64932394, 2.24711204]
TOL = 1e-6

# A number as NumPy prints it; not part of a word such as ``float32``.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_HEADING = re.compile(r"^--- (.+) ---$", re.MULTILINE)


def numbers(text: str) -> np.ndarray:
    """Every number printed in ``text``, ignoring dtype and shape annotations."""
    text = re.sub(r"dtype=\w+", "", text)
    text = re.sub(r"shape=(\([^)]*\)|\[[^\]]*\])", "", text)
    return np.array([float(m) for m in _NUMBER.findall(text)])


def expect_numbers(section: str, text: str, expected) -> None:
    got = numbers(text)
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=0, atol=TOL):
        pytest.fail(f"section '{section}': expected these {expected.size} numbers "
                    f"(to within {TOL})\n{expected}\ngot {got.size}:\n{text}", pytrace=False)


def grads_w_b(row) -> list:
    """The numbers of ``print((dw, db))``: five rows of ``row`` for w, then ``row`` for b."""
    return list(row) * 5 + list(row)


def sections(stdout: str) -> dict:
    """Split the sample's output at its ``--- heading ---`` lines."""
    parts = _HEADING.split(stdout)
    return {title: body.strip("\n") for title, body in zip(parts[1::2], parts[2::2])}


@pytest.fixture(scope="module")
def tutorial_output() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(SAMPLES / "autodiff_tutorial.py")],
        cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"samples/autodiff_tutorial.py exited with {proc.returncode}\n"
                    f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
                    pytrace=False)
    out = sections(proc.stdout)
    assert out, f"no '--- heading ---' sections in the sample's output:\n{proc.stdout}"
    return out


def section(out: dict, title: str) -> str:
    assert title in out, f"no section '--- {title} ---' in the output; got {list(out)}"
    return out[title]


def test_loss(tutorial_output):
    expect_numbers("loss", section(tutorial_output, "loss"), [LOSS])


def test_grads_of_function(tutorial_output):
    title = "grads of function"
    expect_numbers(title, section(tutorial_output, title), grads_w_b(GRAD_ROW))


def test_tuple_output_differentiates_the_sum(tutorial_output):
    title = "grads of function_with_logits"
    expect_numbers(title, section(tutorial_output, title), grads_w_b(GRAD_ROW_TUPLE_OUTPUT))


def test_stop_gradient(tutorial_output):
    title = "grads of function_stop_gradient"
    expect_numbers(title, section(tutorial_output, title), grads_w_b(GRAD_ROW))


def test_has_aux_returns_z(tutorial_output):
    title = "grads, z of function_with_logits, has_aux=True"
    expect_numbers(title, section(tutorial_output, title), grads_w_b(GRAD_ROW) + Z)


def test_cell_value_and_grad(tutorial_output):
    title = "grads of forward_fn"
    expect_numbers(title, section(tutorial_output, title), grads_w_b(GRAD_ROW))


@pytest.mark.parametrize("name", [
    "function",
    "function_with_logits",
    "function_stop_gradient",
    "function_with_logits, has_aux=True",
    "forward_fn, weights=model.trainable_params()",
])
def test_derivative_source_is_printed(tutorial_output, name):
    text = section(tutorial_output, f"derivative of {name}")
    assert re.search(r"^\s*def \w+\(", text, re.MULTILINE), (
        f"expected a generated 'def ...(' for {name}, got:\n{text}")
    compile(text, f"<derivative of {name}>", "exec")


# --- notebooks -------------------------------------------------------------


@pytest.fixture
def kernel_env(monkeypatch, tmp_path):
    """A ``python3`` kernel that imports this checkout's sourcegrad.

    The kernel is a subprocess and inherits the environment: PYTHONPATH gets the
    repository root (as under plain ``pytest``, where sourcegrad may not be
    installed).  If no ``python3`` kernelspec is visible, ipykernel's is
    installed into a temporary prefix put on JUPYTER_PATH (nothing outside the
    test's temp directory is touched).
    """
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    from jupyter_client.kernelspec import KernelSpecManager
    if "python3" not in KernelSpecManager().find_kernel_specs():
        prefix = tmp_path / "kernel-prefix"
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix),
                        "--name", "python3"], check=True, capture_output=True, timeout=120)
        monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
            filter(None, [str(prefix / "share" / "jupyter"), os.environ.get("JUPYTER_PATH")])))
    return True


def _run_notebook(nb, cwd: Path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def _cell_text(cell) -> str:
    """Everything a code cell showed: streams and the plain-text results."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.mark.notebook
def test_tutorial_notebook_runs_in_a_kernel(kernel_env):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(str(SAMPLES / "autodiff_tutorial.ipynb"), as_version=4)
    nb = _run_notebook(nb, SAMPLES)
    code = {cell.source.strip(): cell for cell in nb.cells if cell.cell_type == "code"}

    def shown(source: str) -> str:
        assert source in code, f"no code cell with source:\n{source}"
        return _cell_text(code[source])

    expect_numbers("loss cell", shown("loss = function(x, y, w, b)\nprint(loss)"), [LOSS])
    expect_numbers("grads cell", shown("grads = grad_fn(x, y, w, b)\nprint(grads)"),
                   grads_w_b(GRAD_ROW))
    expect_numbers("has_aux cell", shown("grads, (z,) = grad_fn(x, y, w, b)\nprint(grads, z)"),
                   grads_w_b(GRAD_ROW) + Z)
    expect_numbers("Cell cell", shown("loss, grads = grad_fn(x, y)\nprint(grads)"),
                   grads_w_b(GRAD_ROW))

    displays = [cell for cell in nb.cells
                if cell.cell_type == "code" and cell.source.split("#")[0].strip() == "grad_fn"]
    assert len(displays) == 5, "expected five cells that display grad_fn"
    for cell in displays:
        text = _cell_text(cell)
        assert "def " in text, f"evaluating grad_fn should show its derivative source:\n{text}"
        html = "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))
        assert "def" in html, f"grad_fn should also have an HTML (highlighted) repr:\n{html}"

    # a helper redefined in a later cell: the next grad differentiates the new body
    redefined = [cell for cell in nb.cells if cell.cell_type == "code"
                 and cell.source.startswith("def helper(x):")]
    assert len(redefined) == 2, "expected two cells that define helper(x)"
    expect_numbers("first helper: d/dx sum(x**2)", _cell_text(redefined[0]), [2.0, 4.0, 6.0])
    expect_numbers("redefined helper: d/dx sum(x**3)", _cell_text(redefined[1]),
                   [2.0, 4.0, 6.0] + [3.0, 12.0, 27.0])


@pytest.mark.notebook
def test_redefining_a_helper_in_a_notebook_rederives(kernel_env):
    """A helper redefined in a later cell is picked up by the next ``grad``."""
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell(
            "import numpy as np\n"
            "import sourcegrad as sg\n"
            "x = np.array([1.0, 2.0])\n"
            "def helper(x):\n"
            "    return x * x\n"
            "def f(x):\n"
            "    return np.sum(helper(x))\n"
            "g = sg.grad(f)\n"
            "print(g(x))"),
        new_code_cell(
            "def helper(x):\n"
            "    return x * x * x\n"
            "g = sg.grad(f)\n"
            "print(g(x))"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    assert nbformat.validate(nb) is None
    nb = _run_notebook(nb, ROOT)
    expect_numbers("first helper: d/dx sum(x**2)", _cell_text(nb.cells[0]), [2.0, 4.0])
    expect_numbers("redefined helper: d/dx sum(x**3)", _cell_text(nb.cells[1]), [3.0, 12.0])


def test_forward_mode_section(tutorial_output):
    # jvp along b = ones: the loss and the sum of its gradient with respect to b
    expect_numbers("jvp of function along b",
                   section(tutorial_output, "jvp of function along b"),
                   [LOSS, sum(GRAD_ROW)])
    expect_numbers("jacfwd of function with respect to b",
                   section(tutorial_output, "jacfwd of function with respect to b"), GRAD_ROW)
    text = section(tutorial_output, "forward-mode derivative of function")
    assert "def function_jvp(x, y, w, b, *, db):" in text
    assert "dloss = " in text
