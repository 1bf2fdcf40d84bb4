# fuzz program 2 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0,); arg_shapes=[()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def f(x):
    v1 = ((1.0 + (np.cos(np.tanh((x * C23))) * np.cos(np.tanh((x * C23))))) ** 0.5)
    i0 = 0
    while i0 < 3:
        i0 += 1
        if (np.mean(np.sum(v1, axis=1, keepdims=True)) > 0.815):
            x = ((0.318 * x) + np.sin((-x)))
        else:
            x = ((0.445 * x) + np.sin((x if (np.mean((x * C21)) < -0.678) else x)))
            x = ((0.355 * x) + np.sin((x if (np.mean(v1) > 0.881) else (0.204 * i0))))
        if (np.tanh(x) > 0.365):
            continue
        v1 = ((0.228 * v1) + np.sin((np.cos((x + C3)) ** 2)))
    v2 = (-0.949 + x)
    return np.sum(v1)
