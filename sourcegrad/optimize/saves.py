"""Optimizer pass -- saves nothing reads.

The reverse stage saves a value the forward sweep overwrites (``push``) and
restores it in the backward sweep (``pop``).  Where the backward sweep, once
specialised, never reads a restored value, its push and pop are dropped, and
the blocks that leaves empty.  Runs on the two sweeps before the functions
are assembled (assembly decides what the forward function hands the backward
one from what the backward sweep reads).
"""
from __future__ import annotations

import gast

from sourcegrad.annotations import getanno
from sourcegrad.astutil import name_nodes


def drop_unread_saves(rev, fwd, bwd):
    """Drop the saving and restoring of values the backward sweep never reads (the
    pushes and pops ``rev``, the reverse stage's ``Reverser``, recorded), and the
    blocks that leaves empty."""
    while True:
        bwd = _drop_empty(bwd)
        if not rev.pushed:
            return fwd, bwd
        read = {n.id for s in bwd for n in name_nodes(s)
                if isinstance(n.ctx, gast.Load)}
        unread = {n for n in rev.pushed if n not in read}
        if not unread:
            return fwd, bwd
        fwd, bwd = _strip_saves(rev, fwd, bwd, unread)


def _drop_empty(body):
    out = []
    for s in body:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = _drop_empty(s.body)
            s.orelse = _drop_empty(s.orelse)
            if _only_pass(s.body + s.orelse):
                continue
            if not s.body:
                s.body = [gast.Pass()]
        elif isinstance(s, gast.Pass):
            continue
        out.append(s)
    return out


def _strip_saves(rev, fwd, bwd, unread):
    def strip(body):
        out = []
        for s in body:
            if getanno(s, "push", None) in unread or getanno(s, "pop", None) in unread:
                continue
            for field_ in ("body", "orelse"):
                if isinstance(s, (gast.If, gast.For, gast.While)):
                    setattr(s, field_, strip(getattr(s, field_)) or
                            ([gast.Pass()] if field_ == "body" else []))
            out.append(s)
        return out

    rev.pushed -= unread
    fwd, bwd = strip(fwd), strip(bwd)
    if not rev.pushed:
        rev.stack = None
    return fwd, bwd


def _only_pass(body):
    """Whether ``body`` holds nothing but ``pass`` and notes."""
    return all(isinstance(s, gast.Pass) or getanno(s, "note", False) for s in body)


__all__ = ["drop_unread_saves"]
