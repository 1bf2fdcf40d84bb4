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


class Namer:
    def __init__(self, taken=()):
        self.taken = set(taken) | _BUILTINS | set(keyword.kwlist)

    def fresh(self, hint: str) -> str:
        base = re.sub(r"\W+", "_", hint).strip("_") or "t"
        if base[0].isdigit():
            base = "t" + base
        if len(base) > 48:
            base = base[:48].rstrip("_")
        name = base
        i = 1
        while name in self.taken:
            name = f"{base}_{i}"
            i += 1
        self.taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def adjoint(self, name: str) -> str:
        return self.fresh("d" + name if not name.startswith("_") else "d" + name)
