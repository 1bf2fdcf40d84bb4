"""Derivative rules for ``numpy.fft``: the transforms and the shifts.

Templates as in :mod:`sourcegrad.rules.numpy_core`.
"""
from __future__ import annotations

import numpy as np

from sourcegrad.rules.numpy_core import _match
from sourcegrad.rules.registry import adjoint, d

# -------------------------------------------------------------- np.fft --
# A DFT is a symmetric linear map, so its adjoint is the same transform of
# ``d[z]`` (cut or zero-padded back to the input's length, as ``n``/``s`` did).

def _fit(g, shape):
    """``g`` cut or zero-padded (at the end) to ``shape``."""
    g = np.asarray(g)
    pad = [(0, max(0, t - s)) for s, t in zip(g.shape, shape)]
    return np.pad(g, pad)[tuple(slice(t) for t in shape)]


def _fft_axes(a, s=None, axes=None):
    """The axes an n-D FFT transforms, non-negative, checked distinct."""
    n = np.ndim(a)
    if axes is None:
        axes = range(n) if s is None else range(n - len(s), n)
    axes = [int(ax) % n for ax in np.atleast_1d(axes)]
    if len(set(axes)) != len(axes):
        raise NotImplementedError("no derivative rule for an FFT over a repeated axis")
    return axes


def _fft_grad(dz, a, axes, norm, inverse=False):
    """Adjoint of ``fftn`` (``ifftn`` if ``inverse``) over ``axes``."""
    fun = np.fft.ifftn if inverse else np.fft.fftn
    return _match(a, _fit(fun(dz, axes=axes, norm=norm), np.shape(a)))


@adjoint(np.fft.fft)
def fft_fft(z, a, n=None, axis=-1, norm=None, out=None):
    d[a] = _fft_grad(d[z], a, _fft_axes(a, None, axis), norm)


@adjoint(np.fft.ifft)
def fft_ifft(z, a, n=None, axis=-1, norm=None, out=None):
    d[a] = _fft_grad(d[z], a, _fft_axes(a, None, axis), norm, True)


@adjoint(np.fft.fft2)
def fft_fft2(z, a, s=None, axes=(-2, -1), norm=None, out=None):
    d[a] = _fft_grad(d[z], a, _fft_axes(a, s, axes), norm)


@adjoint(np.fft.fftn)
def fft_fftn(z, a, s=None, axes=None, norm=None, out=None):
    d[a] = _fft_grad(d[z], a, _fft_axes(a, s, axes), norm)


@adjoint(np.fft.ifft2)
def fft_ifft2(z, a, s=None, axes=(-2, -1), norm=None, out=None):
    d[a] = _fft_grad(d[z], a, _fft_axes(a, s, axes), norm, True)


@adjoint(np.fft.ifftn)
def fft_ifftn(z, a, s=None, axes=None, norm=None, out=None):
    d[a] = _fft_grad(d[z], a, _fft_axes(a, s, axes), norm, True)


def _rfftn_grad(dz, z, a, n_last, axes, norm):
    """Adjoint of ``rfftn`` whose last transformed axis has length ``n_last``."""
    full = list(np.shape(z))
    full[axes[-1]] = n_last
    g = np.fft.fftn(_fit(dz, full), axes=axes, norm=norm)
    return _match(a, np.real(_fit(g, np.shape(a))))


def _irfftn_grad(dz, z, a, axes, norm):
    """Adjoint of ``irfftn``: ``conj(rfftn(d[z]))`` with the interior
    frequencies (counted twice in the real result) doubled, scaled as ``norm``."""
    ns = [np.shape(z)[ax] for ax in axes]
    count = float(np.prod(ns))
    scale = {None: 1.0 / count, "backward": 1.0 / count, "ortho": 1.0 / np.sqrt(count),
             "forward": 1.0}[norm]
    r = np.fft.rfftn(dz, axes=axes)
    k = np.arange(r.shape[axes[-1]])
    fac = np.where((k == 0) | (2 * k == ns[-1]), 1.0, 2.0)
    fac = np.reshape(fac, [-1 if i == axes[-1] else 1 for i in range(np.ndim(r))])
    return _match(a, _fit(np.conj(r) * fac * scale, np.shape(a)))


@adjoint(np.fft.rfft)
def fft_rfft(z, a, n=None, axis=-1, norm=None, out=None):
    d[a] = _rfftn_grad(d[z], z, a, _rfft_len(a, n, axis), _fft_axes(a, None, axis), norm)


@adjoint(np.fft.rfft2)
def fft_rfft2(z, a, s=None, axes=(-2, -1), norm=None, out=None):
    d[a] = _rfftn_grad(d[z], z, a, _rfft_len(a, s, axes), _fft_axes(a, s, axes), norm)


@adjoint(np.fft.rfftn)
def fft_rfftn(z, a, s=None, axes=None, norm=None, out=None):
    d[a] = _rfftn_grad(d[z], z, a, _rfft_len(a, s, axes), _fft_axes(a, s, axes), norm)


def _rfft_len(a, s, axes):
    """Length of the real signal along the last transformed axis."""
    if s is not None:
        return int(np.atleast_1d(s)[-1])
    return np.shape(a)[_fft_axes(a, None, axes)[-1]]


@adjoint(np.fft.irfft)
def fft_irfft(z, a, n=None, axis=-1, norm=None, out=None):
    d[a] = _irfftn_grad(d[z], z, a, _fft_axes(a, None, axis), norm)


@adjoint(np.fft.irfft2)
def fft_irfft2(z, a, s=None, axes=(-2, -1), norm=None, out=None):
    d[a] = _irfftn_grad(d[z], z, a, _fft_axes(a, s, axes), norm)


@adjoint(np.fft.irfftn)
def fft_irfftn(z, a, s=None, axes=None, norm=None, out=None):
    d[a] = _irfftn_grad(d[z], z, a, _fft_axes(a, s, axes), norm)


@adjoint(np.fft.fftshift)
def fft_fftshift(z, x, axes=None):
    d[x] = _match(x, np.fft.ifftshift(d[z], axes))


@adjoint(np.fft.ifftshift)
def fft_ifftshift(z, x, axes=None):
    d[x] = _match(x, np.fft.fftshift(d[z], axes))
