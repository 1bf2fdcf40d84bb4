"""Stage 6 -- optimize: small passes, each a function from tree to tree.

The passes, in the order they run, each in its own module:

On the two sweeps the reverse stage made, before the functions are assembled
(these change what the backward sweep reads, so what the forward sweep saves
and, in split mode, hands the backward function):

1. ``specialize``: the backward sweep written for the inputs' known shapes
   (``unbroadcast(e, x)`` -> ``e``, ``matmul_adjoint_a`` -> ``dz @ w.T``);
2. ``factor``: a constant factor of an adjoint (a mean's ``1/n``) carried
   through the operations it commutes with and multiplied in once;
3. ``saves``: the saving and restoring of values nothing reads, dropped.

On each assembled function:

4. ``simplify``: constant folding and algebraic identities, copy propagation,
   dead-code elimination, single-use temporaries put back into the expression
   that reads them, ``+=`` into adjoints the derivative owns, ``if`` blocks
   with one condition merged;
5. ``notes``: comments left heading nothing, and blocks left empty, dropped.

``sweeps`` runs passes 1-3, ``functions`` passes 4-5 (``pipeline.build``
assembles the functions between them).  Forward mode runs pass 4 alone.
"""
from __future__ import annotations

import gast

from sourcegrad.astutil import name_list
from sourcegrad.codegen import to_source
from sourcegrad.optimize.factor import factor
from sourcegrad.optimize.notes import prune_notes
from sourcegrad.optimize.saves import drop_unread_saves
from sourcegrad.optimize.simplify import optimize
from sourcegrad.optimize.specialize import specialize
from sourcegrad.shapes import Abstract


def _no_trace(stage, show):
    pass


def sweeps(fwd, bwd, ctx, rev, params, trace=_no_trace):
    """Passes 1-3 on the forward sweep ``fwd`` and the backward sweep ``bwd``
    (statements) of ``rev`` (the ``reverse.Reverser``); ``params``: the function's
    parameters.  ``trace(pass, show)`` is told after each pass (see
    ``pipeline.build``).  Records in ``ctx.arrays`` the adjoints that certainly hold float
    arrays of their primal's shape (pass 4 may accumulate into them in place)."""
    # the adjoints read after the backward sweep: returned, or a Parameter's
    leaving = {a for p, a in rev.adjoints.items() if p in params or p not in ctx.locals}
    leaned = set()
    bwd = specialize(bwd, ctx, ctx.shapes, rev.adjoints, leaving, leaned)
    trace("specialize", lambda: show_sweeps(fwd, bwd))
    bwd = factor(bwd, ctx, set(params) | _bound(fwd), leaving)
    trace("factor", lambda: show_sweeps(fwd, bwd))
    ctx.arrays = {a: p for p, a in rev.adjoints.items() if a not in leaned
                  and _float_array(ctx.shapes.get(p))}
    fwd, bwd = drop_unread_saves(rev, fwd, bwd)
    trace("saves", lambda: show_sweeps(fwd, bwd))
    return fwd, bwd


def functions(defs, spec, ctx, rev, trace=_no_trace):
    """Passes 4-5 on each assembled function definition of ``defs``."""
    # `+=` into an adjoint: NumPy's arrays only (a NumPy zero accumulator cannot take
    # a Dask array in place, and a Dask array has no in-place update)
    arrays = ctx.arrays if spec.library == "numpy" else None
    defs = [optimize(f, spec, pure_call=ctx.pure_call, arrays=arrays,
                     owned=set(rev.adjoints.values()), elementwise=ctx.elementwise_call,
                     scatter=ctx.scatter_call) for f in defs]
    trace("simplify", lambda: show_functions(defs))
    for f in defs:
        f.body = prune_notes(f.body)
    return defs


def show_sweeps(fwd, bwd):
    """The text of the two sweeps, one after the other (a stage dump)."""
    return "".join(["# forward sweep\n"] + [to_source(s) for s in fwd]
                   + ["# backward sweep\n"] + [to_source(s) for s in bwd])


def show_functions(defs):
    """The text of function definitions (a stage dump)."""
    return "\n\n".join(to_source(f).rstrip() + "\n" for f in defs)


def _bound(stmts):
    """The names ``stmts`` bind."""
    return {n.id for st in stmts for n in name_list(st) if n.ctx.__class__ is not gast.Load}


def _float_array(known):
    """Whether an Abstract certainly describes a float array of known shape."""
    return isinstance(known, Abstract) and known.kind == "array" and known.shape \
        and known.dtype is not None and known.dtype.kind == "f"


__all__ = ["sweeps", "functions", "optimize", "specialize", "factor", "drop_unread_saves",
           "prune_notes"]
