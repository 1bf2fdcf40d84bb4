"""Optimizer pass -- comments left heading nothing.

The backward sweep heads each block with a note naming the user's line it
differentiates (``reverse.note_stmt``, printed as ``# ...`` by codegen).
When the other passes remove a block's code, its note would head nothing, or
the next block: it goes, and so do the branches and loops left empty.  The
last pass of the stage.
"""
from __future__ import annotations

import gast

from sourcegrad.reverse import is_note


def prune_notes(body):
    """Drop notes that no statement follows (their code was optimized away)."""
    out = []
    for st in body:
        if isinstance(st, (gast.If, gast.For, gast.While)):
            st.body = prune_notes(st.body)
            st.orelse = prune_notes(st.orelse)
            if not st.body and not st.orelse:
                continue  # emptied by the optimizer
            st.body = st.body or [gast.Pass()]
        out.append(st)
    # a note must head some code: drop notes followed by a note, by nothing, or by a
    # return that computes nothing (`return dx`)
    return [st for i, st in enumerate(out)
            if not (is_note(st) and (i + 1 == len(out) or is_note(out[i + 1])
                                     or _computes_nothing(out[i + 1])))]


def _computes_nothing(st):
    """Whether ``st`` is a return of names and constants only."""
    if not isinstance(st, gast.Return):
        return False
    todo = [st.value]
    while todo:
        e = todo.pop()
        if isinstance(e, (gast.Tuple, gast.List)):
            todo.extend(e.elts)
        elif e is not None and not isinstance(e, (gast.Name, gast.Constant)):
            return False
    return True


__all__ = ["prune_notes"]
