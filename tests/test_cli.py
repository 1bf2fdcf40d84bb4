"""``python -m sourcegrad show``: prints the derivative, exports it, refuses bad targets."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = """
import numpy as np


def loss(x, w):
    return np.sum(np.tanh(x * w) ** 2)


def not_differentiable(x):
    try:
        return x
    except ValueError:
        return -x
"""


def run(*argv, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "sourcegrad", *argv], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "model_code.py"
    path.write_text(textwrap.dedent(SAMPLE))
    return path


def test_show_prints_the_derivative(sample, tmp_path):
    proc = run("show", f"{sample}:loss", "--wrt", "0,1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "def loss_grad(x, w):" in proc.stdout
    assert "return dx, dw" in proc.stdout
    assert "# return np.sum(np.tanh(x * w) ** 2)" in proc.stdout  # the line comments
    compile(proc.stdout, "<cli>", "exec")


def test_show_without_comments_and_with_shapes(sample, tmp_path):
    proc = run("show", "model_code.py:loss", "--shapes", "(3,)", "(3,)", "--no-comments",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "def loss_grad(x, w):" in proc.stdout
    assert "#" not in proc.stdout
    assert "return dx" in proc.stdout


def test_show_a_module_function(tmp_path):
    proc = run("show", "sourcegrad.ops:sigmoid", "--value", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "def sigmoid_grad(input):" in proc.stdout


def test_export_writes_a_standalone_module(sample, tmp_path):
    out = tmp_path / "dloss.py"
    proc = run("show", f"{sample}:loss", "--wrt", "0,1", "--export", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "def loss_grad(x, w):" in proc.stdout
    assert f"wrote {out}" in proc.stderr
    ns = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)
    x, w = np.array([0.1, -0.4, 0.9]), np.array([1.5, 0.5, -2.0])
    dx, dw = ns["gradient"](x, w)
    t = np.tanh(x * w)
    np.testing.assert_allclose(dx, 2 * t * (1 - t * t) * w)
    np.testing.assert_allclose(dw, 2 * t * (1 - t * t) * x)


@pytest.mark.parametrize("argv, message", [
    (["show", "model_code.py"], "must look like path/to/file.py:function"),
    (["show", "missing.py:loss"], "no such file: missing.py"),
    (["show", "model_code.py:nope"], "has no attribute 'nope'; it defines: loss"),
    (["show", "no_such_pkg.mod:f"], "cannot import module 'no_such_pkg.mod'"),
    (["show", "model_code.py:np"], "is a module, not a function"),
    (["show", "model_code.py:loss", "--wrt", "5"],
     "grad_position=5 but loss takes 2 positional arguments (x, w)"),
    (["show", "model_code.py:loss", "--wrt", "a"], "expected positions such as 0 or 0,1"),
    (["show", "model_code.py:loss", "--shapes", "(3,"], "expected shapes such as"),
    ([], "required: COMMAND"),
])
def test_bad_command_lines_exit_2_with_a_message(sample, tmp_path, argv, message):
    proc = run(*argv, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_function_that_cannot_be_differentiated_exits_1(sample, tmp_path):
    proc = run("show", "model_code.py:not_differentiable", cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "cannot differentiate model_code.py:not_differentiable" in proc.stderr
    assert "Traceback" not in proc.stderr
