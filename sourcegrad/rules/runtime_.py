"""Rules for the runtime helpers that generated code calls.

They make generated code differentiable again: ``grad(grad(f))`` transforms
a derivative, which calls ``unbroadcast`` and friends.  Helpers without a
rule here (``matmul_adjoint_a``...) are plain Python and are differentiated
from their source like user code.
"""
import numpy as np

from sourcegrad import runtime
from sourcegrad.runtime import (concat_head, concat_tail, item_adjoint, list_head, list_tail,
                                repeat_adjoint)
from sourcegrad.rules.registry import adjoint, d


@adjoint(runtime.unbroadcast)
def unbroadcast(z, d_, x):
    d[d_] = np.broadcast_to(d[z], np.shape(d_)) + np.zeros_like(d_)


@adjoint(runtime.plain)
def plain(z, p):
    d[p] = d[z]


@adjoint(runtime.broadcast_like)
def broadcast_like(z, g, x):
    d[g] = runtime.unbroadcast(d[z], g)


@adjoint(runtime.fill_zeros)
def fill_zeros(z, g, x):
    d[g] = d[z]


@adjoint(runtime.index_adjoint)
def index_adjoint(z, x, index, dz):
    d[dz] = runtime.indexed_adjoint(d[z], index, dz)


@adjoint(runtime.indexed_adjoint)
def indexed_adjoint(z, dx, index, like):
    d[dx] = runtime.index_adjoint(dx, index, d[z])


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


@adjoint(runtime.concat)
def concat(z, a, b):
    d[a] = list_head(d[z], len(a))
    d[b] = list_tail(d[z], len(a))


@adjoint(runtime.maybe_concat)
def maybe_concat(z, a, b):
    d[a] = concat_head(d[z], a, b)
    d[b] = concat_tail(d[z], a, b)


@adjoint(runtime.repeat)
def repeat(z, seq, n):
    d[seq] = repeat_adjoint(d[z], seq, n)


@adjoint(runtime.index_concat)
def index_concat(z, concat, *items):
    d[items] = _index_concat_grads(d[z], concat, items)


_TAG = -2.0 ** 40  # far below any number an index item (a slice, an int) contributes


def _index_concat_grads(dz, concat, items):
    """Adjoints of the items of ``np.r_[items]``: it only places their elements,
    so each item is replaced by distinct tags, the tagged result shows where every
    element went, and ``dz`` is gathered back from there."""
    tagged, spans, start = [], [], _TAG
    for v in items:
        if isinstance(v, (float, np.floating)) or (isinstance(v, np.ndarray)
                                                   and v.dtype.kind == "f"):
            n = int(np.size(v))
            tagged.append(start - np.arange(n, dtype=np.float64).reshape(np.shape(v))
                          if np.ndim(v) else start)
            spans.append((start, n))
            start -= n
        else:
            tagged.append(v)
            spans.append(None)
    where = np.asarray(concat[tuple(tagged)], dtype=np.float64).ravel()
    dz = np.broadcast_to(dz, np.shape(where) if np.ndim(dz) == 0 else np.shape(dz)).ravel()
    grads = []
    for v, span in zip(items, spans):
        if span is None:
            grads.append(None)
            continue
        first, n = span
        pos = first - where
        hit = (pos >= 0) & (pos < n)
        g = np.zeros(n, dtype=np.result_type(v, dz))
        np.add.at(g, pos[hit].astype(np.intp), dz[hit])
        grads.append(g.reshape(np.shape(v)) if np.ndim(v) else g[0])
    return grads


@adjoint(runtime.make_dict)
def make_dict(z, *items):
    d[items] = runtime.make_dict_adjoint(d[z], items)


@adjoint(runtime.shallow_copy)
def shallow_copy(z, x):
    d[x] = d[z]


@adjoint(runtime.merge_dicts)
def merge_dicts(z, *maps):
    d[maps] = runtime.merge_dicts_adjoint(d[z], maps)


@adjoint(runtime.sequence)
def sequence(z, x):
    d[x] = runtime.sequence_adjoint(d[z], x)


@adjoint(runtime.dict_get)
def dict_get(z, mapping, key, default=None):
    d[mapping] = runtime.dict_get_adjoint(d[z], mapping, key)
    d[default] = runtime.dict_get_default_adjoint(d[z], mapping, key, default)


@adjoint(runtime.dict_values)
def dict_values(z, mapping):
    d[mapping] = runtime.dict_values_adjoint(d[z], mapping)


@adjoint(runtime.dict_items)
def dict_items(z, mapping):
    d[mapping] = runtime.dict_items_adjoint(d[z], mapping)


@adjoint(runtime.set_entry)
def set_entry(z, mapping, key, value):
    d[mapping] = runtime.entry_rest(d[z], key)
    d[value] = runtime.indexed_adjoint(d[z], key, value)


@adjoint(runtime.field)
def field(z, x, name):
    d[x] = runtime.field_adjoint(x, name, d[z])


@adjoint(runtime.cell_with_bprop)
def cell_with_bprop(z, cell, *args):
    d[args] = runtime.custom_bprop_grads(cell, args, z, d[z])


@adjoint(runtime.save_item)
def save_item(z, y, index):
    d[y] = runtime.index_adjoint(y, index, d[z])


@adjoint(runtime.zipped)
def zipped(z, *seqs):
    d[seqs] = runtime.zipped_adjoint(d[z], seqs)


@adjoint(runtime.enumerated)
def enumerated(z, seq, start=0):
    d[seq] = runtime.enumerated_adjoint(d[z], seq)


@adjoint(runtime.reversed_list)
def reversed_list(z, seq):
    d[seq] = runtime.reversed_adjoint(d[z], seq)


@adjoint(runtime.snapshot)
def snapshot(z, v):
    d[v] = d[z]


@adjoint(runtime.restore_item)
def restore_item(z, y, index, old, copies):
    d[y] = runtime.zero_item(d[z], index)
    d[old] = d[z][index]


@adjoint(runtime.entry_rest)
def entry_rest(z, dz, key):
    d[dz] = runtime.entry_rest(d[z], key)
