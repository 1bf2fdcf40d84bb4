"""Errors raised by sourcegrad.

Every refusal of user code is a :class:`SourcegradError` that knows the
user's file, line and column and the text of that line, and renders with a
caret under the offending construct and a hint saying what to do instead.
Argument errors at the API boundary are plain ``TypeError``/``ValueError``.
"""
from __future__ import annotations

import linecache


class SourcegradError(Exception):
    """A construct in user code that sourcegrad cannot differentiate.

    Attributes:
        construct: short name of what was refused (``"try statement"``).
        filename, lineno, col: where it is in the user's source.
        line: the text of that line (may be empty when unknown).
        hint: what to do instead.
    """

    def __init__(self, construct: str, *, filename: str | None = None,
                 lineno: int | None = None, col: int | None = None,
                 line: str | None = None, hint: str | None = None,
                 detail: str | None = None):
        self.construct = construct
        self.filename = filename
        self.lineno = lineno
        self.col = col
        if line is None and filename and lineno:
            line = linecache.getline(filename, lineno).rstrip("\n")
        self.line = line or ""
        self.hint = hint
        self.detail = detail
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.construct} is not supported"
        if self.detail:
            head = f"{self.construct}: {self.detail}"
        where = ""
        if self.filename:
            where = f'\n  File "{self.filename}", line {self.lineno}'
            if self.line:
                stripped = self.line.lstrip()
                where += f"\n    {stripped}"
                if self.col is not None:
                    indent = len(self.line) - len(stripped)
                    where += "\n    " + " " * max(self.col - indent, 0) + "^"
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return head + where + hint


class UnsupportedSyntaxError(SourcegradError):
    """A statement or expression outside the supported subset of Python."""


class NoDerivativeError(SourcegradError):
    """A call to a function with no derivative rule and no readable source."""


class SourceNotFoundError(SourcegradError):
    """The source of a function could not be read (``exec``, C code, REPL)."""
