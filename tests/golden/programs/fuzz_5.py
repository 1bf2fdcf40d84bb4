# fuzz program 5 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(1, 2); arg_shapes=[(), (), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x, y):
    if (np.sum(np.where((y < -0.444), C3, -0.332)) > 0.963):
        if ((np.tanh(0.920) ** 3) < -0.373):
            x = np.tanh((x - y))
        else:
            y = np.tanh(C3)
        if (np.sum(x) < 0.026):
            x = ((0.332 * x) + np.sin(np.sum(x, axis=1, keepdims=True)))
        else:
            y = np.tanh(np.where((y < -0.019), y, C3))
            y = ((0.205 * y) + np.sin(sg.stop_gradient(0.157)))
            x = ((0.495 * x) + np.sin((y + y)))
        x = np.tanh(np.cos(x))
    else:
        y = ((0.403 * y) + np.sin(np.sin(0.067)))
    x = ((0.346 * x) + np.sin((C21 - (-0.159 * C21))))
    return y[-3]


def h1(x, y):
    v1 = (-(-(y * C21)))
    for i0 in range(2):
        x = ((0.437 * x) + np.sin(x))
        x = ((0.375 * x) + np.sin(np.mean(x, axis=-1, keepdims=True)))
        y = np.tanh(np.where((y < 0.337), -0.046, y))
    return (-sg.stop_gradient(v1))


def f(x, y, z):
    x *= np.cos(np.cos((x / (1.5 + np.cos(x)))))
    v2, v3 = np.tanh(np.where((np.tanh((x * C21)) > -0.095), np.log((1.0 + ((z + C21) * (z + C21)))), np.sum((z * C23)))), np.sin(np.mean(((z * C3) + (y * C23)), axis=1, keepdims=True))
    x = ((0.688 * x) + np.sin((z - z)))
    v4, v5 = np.tanh((v3 - v3)), np.sin(h1(((v3 + C23) - v2), z))
    v6 = (v3 / (1.0 + (v5 * v5)))
    return v2, v3
