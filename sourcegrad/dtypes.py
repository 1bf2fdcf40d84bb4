"""MindSpore-style dtype names, which here are simply NumPy's scalar types.

Usage::

    >>> import numpy as np
    >>> from sourcegrad.dtypes import float32
    >>> np.ones(2, float32).dtype
    dtype('float32')
"""
from __future__ import annotations

import numpy as np

__all__ = ["float16", "float32", "float64", "int32", "int64", "bool_"]

float16 = np.float16
float32 = np.float32
float64 = np.float64
int32 = np.int32
int64 = np.int64
bool_ = np.bool_
