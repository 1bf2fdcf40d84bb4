# fuzz program 4 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0, 1); arg_shapes=[(), (2, 3)])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def f(x, y):
    v1 = y[0, 0]
    v2, v3 = np.tanh(((y - y) + np.tanh(y))), np.sin((y / (1.5 + np.cos(np.mean((v1 * C21))))))
    v4 = np.sin(np.cos(v2))
    v5, v6 = np.tanh(((np.sin((v1 + C21)) ** 3) + sg.stop_gradient((x * C21)))), np.sin(np.tanh((v2 / (1.5 + np.cos(x)))))
    v7 = np.tanh(v3)
    return v3
