"""Forward-mode (tangent) rule for ``scipy.integrate.odeint``: forward sensitivities,
loaded with its adjoint rule (:mod:`sourcegrad.rules.scipy_integrate`).

For ``y' = f(y, t, *args)``, the tangent ``s(t)`` of the solution along the tangents
of ``y0`` and ``args`` obeys ``s' = df/dy s + df/dargs t_args`` with ``s(t[0]) =
t_y0``.  One ``odeint`` call integrates ``y`` and the ``s`` of every direction
together; the products ``df/dy s + df/dargs t_args`` for all directions at once are
the forward-mode derivative of ``func`` made by sourcegrad itself, so ``func`` must
be a function sourcegrad can differentiate (as for the adjoint rule).  Refused as in
reverse mode: tangents of the times ``t`` or of a right-hand side carrying a
derivative itself, and ``full_output=True``.
"""
from __future__ import annotations

import numpy as np
import scipy.integrate as si

from sourcegrad.rules.registry import d, tangent
from sourcegrad.rules.scipy_integrate import _is_float, _refused
from sourcegrad.rules.tangents_numpy import batch_size
from sourcegrad.transforms import call_jvp

_SOLVER = ("Dfun", "col_deriv", "full_output", "ml", "mu", "rtol", "atol", "tcrit", "h0",
           "hmax", "hmin", "ixpr", "mxstep", "mxhnil", "mxordn", "mxords", "printmessg",
           "tfirst")


@tangent(si.odeint, constant=_SOLVER)
def odeint(z, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
           rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
           mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    d[z] = todeint(d[y0], d[args], z, func, y0, t, args, rtol, atol, tfirst, full_output)
    d[z] = trefused(d[t], "the times t", "pass t as a constant (sg.stop_gradient(t))")
    d[z] = trefused(d[func], "a right-hand side that carries a derivative itself",
                    "define it at module level and pass what it reads in args=(...)")


def trefused(t, about, hint):
    _refused("odeint", about, hint)


def todeint(ty0, targs, z, func, y0, t, args, rtol, atol, tfirst, full_output):
    """The tangent of ``odeint(func, y0, t, args)`` along ``y0``'s tangent ``ty0`` and
    ``args``' ``targs`` (either may be None), all directions in one solve."""
    if full_output:
        _refused("odeint", "full_output=True", "call odeint without full_output inside "
                 "the differentiated function")
    if not isinstance(args, tuple):
        args, targs = (args,), (targs,)
    targs = [None] * len(args) if targs is None else list(targs)
    active = [i for i, a in enumerate(args) if targs[i] is not None and _is_float(a)]
    batch = batch_size(ty0, *[targs[i] for i in active])
    y0 = np.asarray(y0, dtype=float)
    m = y0.size
    s0 = np.zeros((batch, m)) if ty0 is None else np.reshape(ty0, (batch, m))
    positions = (1 if tfirst else 0,) + tuple(2 + i for i in active)
    extra = tuple(targs[i] for i in active)

    def dynamics(state, time):
        y, s = state[:m], state[m:].reshape(batch, m)
        f, tf = call_jvp(func, positions, (), (s,) + extra,
                         *((time, y) if tfirst else (y, time)), *args)
        return np.concatenate([np.ravel(f), np.ravel(tf)])

    kw = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    out = si.odeint(dynamics, np.concatenate([y0.ravel(), s0.ravel()]), t, **kw)
    s = out[:, m:].reshape(len(out), batch, m)
    return np.moveaxis(s, 1, 0).reshape((batch,) + np.shape(z))
