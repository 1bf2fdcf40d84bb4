"""How a gradient function shows itself: short ``repr``, highlighted HTML in Jupyter,
plain ``<pre>`` without pygments, the source through IPython's pretty printer."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import sourcegrad as sg


def f(x, w):
    z = np.tanh(x * w)  # a < b & "quotes"
    return np.sum(z)


@pytest.fixture
def g():
    return sg.grad(f, (0, 1))


def test_repr_is_short(g):
    text = repr(g)
    assert len(text) < 120 and "\n" not in text
    assert "grad" in text and "f" in text
    assert "def " not in text


def test_html_repr_is_highlighted_with_pygments(g):
    pytest.importorskip("pygments")
    html = g._repr_html_()
    assert "<span" in html and "style=" in html  # inline-styled pygments spans
    # the derivative's name and a keyword are inside the highlighted markup
    assert "f_grad" in html and ">def<" in html
    # the comment naming the user's line is escaped, not raw HTML
    assert "a &lt; b &amp;" in html and "a < b &" not in html


def test_html_repr_without_pygments_is_escaped_pre(g, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)  # `import pygments` now fails
    html = g._repr_html_()
    assert html.startswith("<pre>") and html.endswith("</pre>")
    assert "<span" not in html
    assert "def f_grad(x, w):" in html
    assert "a &lt; b &amp; &quot;quotes&quot;" in html


def running_source(g):
    """The text of the derivative ``g``'s last call ran, as Python reads it back from
    the compiled code object (``inspect``, through ``linecache``): the expectation
    for what a notebook shows, made without sourcegrad's own ``source()``."""
    import inspect
    import textwrap
    return textwrap.dedent(inspect.getsource(g.last_generated()))


def test_html_repr_shows_the_derivative_the_last_call_used(g, monkeypatch):
    import html
    monkeypatch.setitem(sys.modules, "pygments", None)
    general = running_source(g)
    shown = html.unescape(g._repr_html_()[len("<pre>"):-len("</pre>")])
    assert shown.strip() == general.strip()
    g(np.ones(3), np.ones(3))  # now the shape-specialised derivative
    specialised = running_source(g)
    assert specialised != general  # (else this test could not tell them apart)
    shown = html.unescape(g._repr_html_()[len("<pre>"):-len("</pre>")])
    assert shown.strip() == specialised.strip()
    assert shown.startswith("def f_grad(x, w):\n") and "# z = np.tanh(x * w)" in shown


class FakePrinter:
    """The part of IPython's ``PrettyPrinter`` that ``_repr_pretty_`` uses."""

    def __init__(self):
        self.parts = []

    def text(self, s):
        self.parts.append(s)

    def pretty(self, obj):
        self.parts.append(repr(obj))

    def breakable(self, sep=" "):
        self.parts.append(sep)


def test_repr_pretty_prints_the_source(g):
    p = FakePrinter()
    g._repr_pretty_(p, False)
    shown = "".join(p.parts)
    assert shown.strip() == running_source(g).strip()
    assert shown.startswith("def f_grad(x, w):\n")


def test_ipython_display_formatter_uses_the_source(g):
    IPython = pytest.importorskip("IPython")
    from IPython.core.formatters import PlainTextFormatter
    text = PlainTextFormatter()(g)
    assert "def f_grad(x, w):" in text
    assert IPython is not None
