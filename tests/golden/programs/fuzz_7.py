# fuzz program 7 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0, 1); arg_shapes=[(2, 3), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x):
    v1 = np.sin(-0.860)
    v2 = ((v1 + C21) - -0.907)
    v3 = (np.maximum(v1, 0.398) - (v1 * np.tanh(v1)))
    return (-0.459)


def f(x, y):
    v4 = np.tanh(x)
    for i0 in range(3):
        y = np.tanh((y if (y < 0.394) else y))
        i1 = 0
        while i1 < 3:
            i1 += 1
            x = np.tanh((x - x))
            if (np.sum(v4[:, 2:3]) < 0.728):
                break
            x = ((0.495 * x) + np.sin(((y + C21) / (1.5 + np.cos(y)))))
    v5 = np.maximum(((y * C21) - (y + C21)), (np.sin(y) ** 3))
    v6 = np.tanh(y)
    if (np.mean(v4) < -0.032):
        y, v6 = v6, y
    v7 = np.exp(np.sin(h0((v6 + C3))))
    return np.sum(v4)
