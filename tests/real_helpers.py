"""Helpers of another module than the differentiated functions of
tests/test_real_closures.py (a higher-order helper, a closure factory)."""
import numpy as np


def apply_doubled(fn, v):
    return fn(v) * 2.0


def make_act(w):
    def act(x):
        return np.tanh(w * x)
    return act


SCALE = 2.0


def apply_scaled(fn, v):
    return fn(v) * SCALE


def apply_squared(fn, v):
    return fn(v) * fn(v)


def running(h, w, steps):
    for _ in range(steps):
        h = np.tanh(h * w)
        yield h


scale = 3.0


def apply_with_scale(fn, v):
    return fn(v) * scale  # this module's scale, whatever the caller calls scale
