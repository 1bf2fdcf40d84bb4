"""Optimizer pass -- saves nothing reads.

The reverse stage saves a value the forward sweep overwrites (``push``) and
restores it in the backward sweep (``pop``); it saves the items a write into an
array overwrites (``a_old = save_item(a, i)``) and puts them back in the
backward sweep (``a = restore_item(a, i, a_old, copies)``).  Where the backward
sweep, once specialised, never reads a restored value, the pair is dropped, and
the blocks that leaves empty.  Runs on the two sweeps before the functions
are assembled (assembly decides what the forward function hands the backward
one from what the backward sweep reads).
"""
from __future__ import annotations

import gast

from sourcegrad.annotations import getanno
from sourcegrad.astutil import name_nodes, statements


def drop_unread_saves(rev, fwd, bwd):
    """Drop the saving and restoring of values the backward sweep does not read after
    restoring them (the pushes and pops ``rev``, the reverse stage's ``Reverser``,
    recorded), pair by pair, and the blocks that leaves empty.  Flow-sensitive: in
    ``if c: y = sin(y) else: y = 3 * y`` only the first branch's backward reads the
    old ``y``, so only that branch keeps its save."""
    while True:
        bwd = _drop_empty(bwd)
        if not rev.pushed and not rev.restores:
            return fwd, bwd
        dead = set()
        _dead_pops(bwd, frozenset(), dead)
        if not dead:
            return fwd, bwd
        fwd, bwd = _strip_pairs(rev, fwd, bwd, dead)


def _loads(s):
    """The names ``s`` reads, less an array a restore reads only to restore it (the
    restores of an array are dead together when nothing else reads it after them)."""
    if isinstance(s, (gast.If, gast.For, gast.While)):
        return set().union(_loads(s.test if isinstance(s, (gast.If, gast.While)) else s.iter),
                           *(_loads(t) for t in s.body + s.orelse))
    got = {n.id for n in name_nodes(s) if isinstance(n.ctx, gast.Load)}
    restored = getanno(s, "restore", None)
    if restored is not None:
        got.discard(restored)
    return got


def _dead_pops(block, after, dead):
    """Add to ``dead`` the pair numbers of the pops and restores in ``block`` whose value
    no later statement reads: ``after`` holds what runs after the block may read (a
    loop's next iteration included).  Conservative: a later read counts even where a
    statement in between binds the name again."""
    later = set(after)
    for s in reversed(block):
        if isinstance(s, (gast.If, gast.For, gast.While)):
            inner = later | _loads(s) if isinstance(s, (gast.For, gast.While)) else later
            for field_ in ("body", "orelse"):
                _dead_pops(getattr(s, field_), frozenset(inner), dead)
        else:
            restored = getanno(s, "pop", None) or getanno(s, "restore", None)
            if restored is not None and restored not in later:
                dead.add(getanno(s, "pair", None))
        later |= _loads(s)
    dead.discard(None)


def _strip_pairs(rev, fwd, bwd, dead):
    """``fwd`` and ``bwd`` without the pushes and pops of the pairs ``dead``."""
    def strip(body):
        out = []
        for s in body:
            if getanno(s, "pair", None) in dead:
                continue
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body = strip(s.body) or [gast.Pass()]
                s.orelse = strip(s.orelse)
            out.append(s)
        return out

    fwd, bwd = strip(fwd), strip(bwd)
    rev.pushed = {getanno(s, "push") for st in fwd for s in statements([st])
                  if getanno(s, "push", None) is not None}
    if not rev.pushed:
        rev.stack = None
    return fwd, bwd


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


def _only_pass(body):
    """Whether ``body`` holds nothing but ``pass`` and notes."""
    return all(isinstance(s, gast.Pass) or getanno(s, "note", False) for s in body)


__all__ = ["drop_unread_saves"]
