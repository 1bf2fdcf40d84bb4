"""Readable, collision-free names for generated code.

Temporaries are named after what computed them (``matmul``, ``x_T``,
``mul_1``); the adjoint of ``z`` is ``dz``.  A name is never reused and never
shadows a name the user's function refers to (globals, builtins it calls).
"""
from __future__ import annotations

import builtins
import keyword
import re


_BUILTINS = set(dir(builtins))


_NON_WORD = re.compile(r"\W+")


class Namer:
    """Hands out names: ``base``, then ``base_1``, ``base_2``, ... (the first not taken).

    ``taken`` only grows, so the suffixes below a base's counter stay taken: each
    base remembers where its search stopped, and a function with thousands of
    ``mul`` temporaries costs one probe per name, not one per earlier ``mul``.
    """

    def __init__(self, taken=()):
        self.taken = set(taken) | _BUILTINS | set(keyword.kwlist)
        self._next = {}  # base -> the first suffix not known to be taken

    def fresh(self, hint: str) -> str:
        base = _NON_WORD.sub("_", hint).strip("_") or "t"
        if base[0].isdigit():
            base = "t" + base
        if len(base) > 48:
            base = base[:48].rstrip("_")
        name = base
        if name in self.taken:
            i = self._next.get(base, 1)
            name = f"{base}_{i}"
            while name in self.taken:
                i += 1
                name = f"{base}_{i}"
            self._next[base] = i + 1
        self.taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def adjoint(self, name: str) -> str:
        return self.fresh("d" + name if not name.startswith("_") else "d" + name)
