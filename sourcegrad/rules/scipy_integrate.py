"""Derivative rule for ``scipy.integrate.odeint``: the adjoint method.

Differentiating through an ODE solve does not differentiate the solver's
steps.  For ``y' = f(y, t, *args)`` with outputs ``z[i] = y(t[i])``, the
adjoint ``a(t) = dL/dy(t)`` obeys ``a' = -a^T df/dy``, and
``dL/dargs = integral of a^T df/dargs dt``.  The backward pass integrates,
with ``odeint`` itself and from the last time to the first,

    [y, a, q]' = [f(y, t), -a^T df/dy, -a^T df/dargs]

adding ``d[z][i]`` to ``a`` at each output time; at ``t[0]``, ``a`` is the
gradient of ``y0`` and ``q`` that of ``args`` (Pontryagin; Chen et al. 2018,
"Neural ordinary differential equations").  The vector-Jacobian products
``a^T df/dy``, ``a^T df/dargs`` come from sourcegrad itself:
``sg.grad(func, (0, 2, 3, ...), sens_param=True)`` with ``a`` as the cotangent,
so ``func`` must be a function sourcegrad can differentiate (your own
Python code, reading its parameters from ``args``).

Refused (``NoDerivativeError`` when the gradient is asked for): gradients
with respect to the times ``t``; a right-hand side that itself carries
gradient (a lambda or closure reading differentiated values: pass them in
``args``); ``full_output=True``.  ``tfirst=True`` is supported.  ``scipy.integrate.solve_ivp``
returns an object and has no rule: use ``odeint``.
"""
from __future__ import annotations

import numpy as np
import scipy.integrate as si

from sourcegrad import memo
from sourcegrad.api import grad
from sourcegrad.errors import NoDerivativeError
from sourcegrad.pytree import ravel
from sourcegrad.rules.registry import adjoint, d


@adjoint(si.odeint)
def odeint(z, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
           rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
           mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    grads = _odeint_adjoint(d[z], z, func, y0, t, args, rtol, atol, tfirst, full_output)
    d[y0] = grads[0]
    d[args] = grads[1]
    d[t] = _refused("odeint", "the times t", "pass t as a constant (sg.stop_gradient(t))")
    d[func] = _refused("odeint", "a right-hand side that carries gradient itself",
                       "define it at module level and pass what it reads in args=(...)")


def _refused(what, about, hint):
    raise NoDerivativeError(f"gradient of scipy.integrate.{what} with respect to {about}",
                            detail="the adjoint rule of odeint gives gradients of y0 and args "
                                   "only", hint=hint)


def _vjp(func, positions):
    """``sg.grad(func, positions, sens_param=True)``, made once per function (kept
    on the function: freed with it)."""
    per = memo.cache(func, "odeint_vjps")
    g = per.get(positions)
    if g is None:
        g = per[positions] = grad(func, positions, sens_param=True)
    return g


def _is_float(v) -> bool:
    return isinstance(v, float) or (isinstance(v, (np.ndarray, np.generic))
                                    and np.asarray(v).dtype.kind == "f")


def _odeint_adjoint(dz, z, func, y0, t, args, rtol, atol, tfirst, full_output):
    """``(d y0, [d arg for arg in args])`` by the adjoint method (module docstring)."""
    if full_output:
        raise NoDerivativeError("gradient of scipy.integrate.odeint with full_output=True",
                                hint="call odeint without full_output inside the "
                                     "differentiated function")
    if not isinstance(args, tuple):
        args = (args,)
    t = np.asarray(t, dtype=float)
    z = np.asarray(z, dtype=float)
    dz = np.asarray(dz, dtype=float)
    n = z.shape[1]
    active = [i for i, a in enumerate(args) if _is_float(a)]
    q0, unravel = ravel([args[i] for i in active])
    ypos = 1 if tfirst else 0
    positions = (ypos,) + tuple(2 + i for i in active)
    vjp = _vjp(func, positions)

    def dynamics(state, time):
        y, a = state[:n], state[n:2 * n]
        call_args = (time, y) if tfirst else (y, time)
        f = np.asarray(func(*call_args, *args), dtype=float)
        out = vjp(*call_args, *args, -a)
        out = out if isinstance(out, tuple) else (out,)
        dq = ravel(list(out[1:]))[0] if active else np.zeros(0)
        return np.concatenate([f, np.asarray(out[0], dtype=float).ravel(), dq])

    kw = {}
    if rtol is not None:
        kw["rtol"] = rtol
    if atol is not None:
        kw["atol"] = atol
    a = dz[-1].copy()
    q = np.zeros_like(q0)
    for i in range(len(t) - 1, 0, -1):
        state = np.concatenate([z[i], a, q])
        back = si.odeint(dynamics, state, np.array([t[i], t[i - 1]]), **kw)[-1]
        a = back[n:2 * n] + dz[i - 1]
        q = back[2 * n:]
    grads = [None] * len(args)
    for i, g in zip(active, unravel(q)):
        grads[i] = g
    return np.reshape(a, np.shape(y0)), grads
