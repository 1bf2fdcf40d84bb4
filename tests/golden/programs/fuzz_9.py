# fuzz program 9 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0, 1); arg_shapes=[(2, 3), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x, y):
    v1 = np.minimum((y + C21), y)
    v2 = (x + x)
    i0 = 0
    while i0 < 3:
        i0 += 1
        v2[0] = np.sin((0.064 * i0))
    return v1, v1


def f(x, y):
    v3 = np.maximum((y + C3), y)
    v4 = np.tanh((y + C21))
    return v4, v3
