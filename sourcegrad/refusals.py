"""Every refusal of user code at transformation time, one function per kind.

sourcegrad never computes a gradient it cannot get right: what it cannot
differentiate is refused before any generated code runs, by a
:class:`~sourcegrad.errors.SourcegradError` that names the construct, points
at the user's file, line and column, and says what to do instead.  Every
stage refuses through this module, so every refusal reads the same way::

    try statement is not supported            (or  <construct>: <detail>)
      File "model.py", line 12
        try:
        ^
      hint: move error handling outside the differentiated function

The kinds:

* :func:`syntax` -- a statement, expression or parameter form outside the
  subset sourcegrad reads (``fence``, ``normalize``, ``pipeline``);
* :func:`use` -- a supported construct used where its gradient would be
  wrong or unknowable: an in-place write into a value something else still
  reads, a side effect on a differentiated value, a nested function used as a
  value, an opaque expression carrying gradient (``normalize``, ``closures``,
  ``activity``, ``reverse``);
* :func:`no_derivative` -- a call (or attribute) with no derivative: no rule,
  no readable source (``reverse``, ``pipeline``, ``transforms``);
* :func:`at_function` -- a refusal of a whole function, pointing at its
  ``def`` line (a custom ``bprop``, a gradient taken with respect to
  ``*args`` inside differentiated code).

Each takes the ``parse.Parsed`` of the function being transformed and the
node refused; a statement the normalizer made points at the user's
statement it came from (its ``origin``).  The README and docs/api.md
("What ``fn`` may contain") list what is refused and why.
"""
from __future__ import annotations

from typing import NoReturn

from sourcegrad.annotations import getanno
from sourcegrad.errors import NoDerivativeError, SourcegradError, UnsupportedSyntaxError


def syntax(parsed, node, construct, hint=None, detail=None) -> NoReturn:
    """Refuse ``node``, a form outside the supported subset of Python."""
    _refuse(UnsupportedSyntaxError, parsed, node, construct, hint, detail)


def use(parsed, node, construct, hint=None, detail=None) -> NoReturn:
    """Refuse ``node``: a supported construct whose gradient here would be wrong
    or unknowable (``detail`` says why)."""
    _refuse(UnsupportedSyntaxError, parsed, node, construct, hint, detail)


def no_derivative(parsed, node, construct, hint=None, detail=None) -> NoReturn:
    """Refuse ``node``, a call or attribute read with no derivative.  ``parsed``
    may be None for a refusal with no position (a callable with no source)."""
    _refuse(NoDerivativeError, parsed, node, construct, hint, detail)


def at_function(fn, construct, hint=None, detail=None, cls=SourcegradError) -> NoReturn:
    """Refuse the function ``fn`` as a whole, pointing at its ``def`` line
    (``cls``: NoDerivativeError where what is missing is a derivative)."""
    code = getattr(fn, "__code__", None)
    where = {} if code is None else {"filename": code.co_filename,
                                     "lineno": code.co_firstlineno}
    raise cls(construct, hint=hint, detail=detail, **where)


def _refuse(cls, parsed, node, construct, hint, detail) -> NoReturn:
    where = {}
    if parsed is not None:
        where = parsed.where((getanno(node, "origin", None) or node) if node is not None
                             else None)
    raise cls(construct, hint=hint, detail=detail, **where)


__all__ = ["syntax", "use", "no_derivative", "at_function"]
