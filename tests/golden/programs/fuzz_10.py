# fuzz program 10 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0, 1); arg_shapes=[(3,), (2, 3)])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x):
    v1 = ((0.491 / (1.0 + (0.720 * 0.720))) - np.tanh(C21))
    return np.exp(np.tanh((0.939 if (np.sum(x) < 0.536) else -0.911)))


def h1(x):
    v2 = (np.cos((x + C3)) if (np.sum((x * C21)) < -0.523) else (0.546 + (x * C3)))
    i0 = 0
    while i0 < 3:
        i0 += 1
        x *= np.cos((x - x))
        x = np.tanh(x)
    return v2, v2


def f(x, y):
    i0 = 0
    while i0 < 2:
        i0 += 1
        y = np.tanh(y)
        y = np.tanh(np.where((C21 < 0.059), y, (0.160 * i0)))
        if (((0.159 * i0) - (0.164 * i0)) < -0.153):
            break
    for i0 in range(2):
        if (np.mean(x) < 0.702):
            break
        if (np.mean(np.sin(y)) > 0.340):
            continue
        if (np.sum((np.tanh(C21) ** 2)) < -0.585):
            break
    for i0 in range(4):
        y = np.tanh(((1.0 + (np.tanh(y) * np.tanh(y))) ** -2))
        x = np.tanh(sg.stop_gradient(C3))
    v3 = np.cos(C21)
    v4, v5 = np.tanh((-(v3 * C23))), np.sin(np.minimum(np.where((v3 > 0.087), v3, C21), sg.stop_gradient(-0.869)))
    return np.sum(v3)
