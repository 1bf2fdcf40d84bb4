"""Node annotations: declared in one module, set and read only through it.

Stages pass facts to later stages on the tree's nodes; ``sourcegrad.annotations``
declares each one.  These tests read the package's source: no module sets or
reads an ``sg_`` attribute directly, and every declared annotation is both set
and read somewhere (an annotation nobody sets is dead, like ``backward`` once was).
"""
import ast
import functools
import pathlib
import re

import gast
import pytest

import sourcegrad
from sourcegrad import annotations

PACKAGE = pathlib.Path(sourcegrad.__file__).parent
SOURCES = {p: p.read_text() for p in sorted(PACKAGE.rglob("*.py")) if p.name != "annotations.py"}


def test_no_module_touches_an_annotation_attribute_directly():
    direct = re.compile(r"""\.sg_[a-z]\w*\b|["']sg_[a-z]\w*["']""")
    found = [f"{p.relative_to(PACKAGE)}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}"
             for p, text in SOURCES.items() for m in direct.finditer(text)]
    assert not found, "set or read annotations through sourcegrad.annotations:\n" + \
        "\n".join(found)


@functools.lru_cache(maxsize=None)
def _calls(fname):
    """The annotation keys passed to ``fname`` anywhere in the package."""
    keys = set()
    for text in SOURCES.values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == fname:
                keys.update(a.value for a in node.args
                            if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return keys


@pytest.mark.parametrize("key", sorted(annotations.ANNOTATIONS))
def test_every_annotation_is_set_and_read(key):
    assert key in _calls("setanno") | _calls("copyanno"), \
        f"annotation {key!r} is declared but never set"
    assert key in _calls("getanno"), \
        f"annotation {key!r} is declared but never read"


def test_only_declared_keys_are_used():
    used = _calls("setanno") | _calls("getanno") | _calls("copyanno")
    assert used <= set(annotations.ANNOTATIONS)


def test_undeclared_annotation_is_refused():
    node = gast.Pass()
    with pytest.raises(KeyError, match="undeclared annotation 'colour'"):
        annotations.setanno(node, "colour", "red")
    with pytest.raises(KeyError, match="undeclared annotation"):
        annotations.getanno(node, "colour")


def test_set_get_copy():
    a, b = gast.Pass(), gast.Pass()
    assert annotations.getanno(a, "pure") is None
    assert annotations.setanno(a, "pure") is a
    assert annotations.getanno(a, "pure") is True
    annotations.copyanno(a, b, "pure")
    assert annotations.getanno(b, "pure") is True
    annotations.copyanno(gast.Pass(), b, "pure")  # a source without it clears it
    assert annotations.getanno(b, "pure", "absent") == "absent"
