# fuzz program 0 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0,); arg_shapes=[()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x, y):
    for i0 in range(3):
        x = np.tanh(np.sum(y))
        x = np.tanh(np.tanh(x))
    v1 = (np.maximum(y, x) if (np.sum(np.tanh((y + C23))) < 0.656) else (y - x))
    return (((x + C21) if (x < 0.151) else (x * C21)) * np.mean((v1 * C23), axis=1, keepdims=True))


def f(x):
    v2 = ((1.0 + (np.sin((x * C23)) * np.sin((x * C23)))) ** -1)
    for i0 in range(4):
        if (sg.stop_gradient(x) > -0.558):
            x = ((0.553 * x) + np.sin(x))
            v2[0] = np.sin(((x + C3) / (1.5 + np.cos(x))))
        else:
            v2 += (0.475 * np.tanh(x))
    v3 = np.tanh((x + C21))
    v4 = (((1.0 + (np.tanh(C23) * np.tanh(C23))) ** -2) * np.tanh(((x * C3) * (x + C3))))
    for i0 in range(2):
        v2 = np.tanh(np.cos(v4))
    v5 = np.mean((v3 + v4), axis=-1, keepdims=True)
    return np.sum(v3)
