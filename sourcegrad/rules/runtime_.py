"""Rules for the runtime helpers that generated code calls.

They make generated code differentiable again: ``grad(grad(f))`` transforms
a derivative, which calls ``unbroadcast`` and friends.  Helpers without a
rule here (``matmul_adjoint_a``...) are plain Python and are differentiated
from their source like user code.
"""
import numpy as np

from sourcegrad import runtime
from sourcegrad.runtime import item_adjoint, list_head, list_tail
from sourcegrad.rules.registry import adjoint, d, nondifferentiable


@adjoint(runtime.unbroadcast)
def unbroadcast(z, d_, x):
    d[d_] = np.broadcast_to(d[z], np.shape(d_)) + np.zeros_like(d_)


@adjoint(runtime.index_adjoint)
def index_adjoint(z, x, index, dz):
    d[dz] = d[z][index]


@adjoint(runtime.zero_item)
def zero_item(z, dy, index):
    d[dy] = runtime.zero_item(d[z], index)


@adjoint(runtime.list_append)
def list_append(z, lst, item):
    d[lst] = list_head(d[z], len(lst))
    d[item] = item_adjoint(d[z], -1, item)


@adjoint(runtime.list_extend)
def list_extend(z, lst, items):
    d[lst] = list_head(d[z], len(lst))
    d[items] = list_tail(d[z], len(lst))


nondifferentiable(runtime.seed_like, runtime.seed_first, runtime.zeros_like,
                  runtime.save_item)
