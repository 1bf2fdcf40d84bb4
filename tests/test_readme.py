"""The derivatives the README shows are the ones sourcegrad generates today.

Each README block between ``<!-- derivative: NAME -->`` and
``<!-- /derivative -->`` is compared with ``sg.source`` of the same function
called on inputs of the same shapes (line numbers in comments aside: they
depend on where the function is defined).  After a change to the generated
code, refresh the README with ``PYTHONPATH=. python tests/test_readme.py``.
"""
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import ops

README = Path(__file__).resolve().parent.parent / "README.md"


def function(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss


def rnn(xs, h, Wx, Wh):
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
        if np.sum(h) > 10.0:
            break
    return np.mean(h ** 2)


def _tutorial():
    rng = np.random.default_rng(0)
    args = (np.ones(5, np.float32), np.zeros(3, np.float32),
            rng.standard_normal((5, 3)).astype(np.float32),
            rng.standard_normal(3).astype(np.float32))
    return sg.grad(function, (2, 3)), args


def _rnn():
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 5)),
            rng.standard_normal((3, 5)), rng.standard_normal((5, 5)))
    return sg.grad(rnn, (2, 3)), args


CASES = {"tutorial": _tutorial, "rnn": _rnn}


def _blocks():
    text = README.read_text(encoding="utf-8")
    pattern = r"<!-- derivative: (\w+) -->\s*```python\n(.*?)```\s*<!-- /derivative -->"
    return dict(re.findall(pattern, text, flags=re.S))


def _without_line_numbers(src):
    return re.sub(r"   \(line \d+\)", "", src).strip()


def test_readme_has_the_blocks():
    assert set(_blocks()) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_readme_derivative_is_current(name):
    g, args = CASES[name]()
    g(*args)
    assert _without_line_numbers(_blocks()[name]) == _without_line_numbers(sg.source(g)), (
        f"README's {name} derivative is out of date; it is now:\n{sg.source(g)}")


def _update_readme():
    """Rewrite the README's blocks, numbering lines as in its listing of each function."""
    text = README.read_text(encoding="utf-8")
    snippet_def_line = {"tutorial": 5, "rnn": 1}
    funcs = {"tutorial": function, "rnn": rnn}
    for name, make in CASES.items():
        g, args = make()
        g(*args)
        shift = snippet_def_line[name] - inspect.getsourcelines(funcs[name])[1]
        new = re.sub(r"\(line (\d+)\)", lambda m: f"(line {int(m.group(1)) + shift})",
                     sg.source(g)).rstrip("\n") + "\n"
        pattern = (r"(<!-- derivative: %s -->\s*```python\n)(.*?)(```\s*<!-- /derivative -->)"
                   % name)
        text = re.sub(pattern, lambda m: m.group(1) + new + m.group(3), text, flags=re.S)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    _update_readme()
