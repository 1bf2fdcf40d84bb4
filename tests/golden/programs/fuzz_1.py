# fuzz program 1 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0, 2, 1); arg_shapes=[(), (3,), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def f(x, y, z):
    v1, v2 = np.tanh(((x if (np.sum((z + C23)) < -0.939) else -0.238) - (z * C21))), np.sin(y)
    if (np.minimum(x, 0.722) > 0.683):
        if (np.mean((x - v1)) < 0.820):
            v1[0, 0] = np.sin((z * np.tanh(z)))
            y, v2 = v2, y
        else:
            x *= np.cos((x - z))
        z = ((0.589 * z) + np.sin(y[1]))
    else:
        x = ((0.407 * x) + np.sin((-z)))
    if (np.mean((-y)) < 0.320):
        x += (0.299 * np.tanh(np.where((x > 0.027), z, z)))
    else:
        y = ((0.273 * y) + np.sin((y - y)))
        v2, y = y, v2
    v3 = (np.tanh((x * C23)) ** 2)
    for i0 in range(4):
        if (np.sum((v3 + C3)) < -0.599):
            continue
        if (np.mean(((1.0 + (np.sin(v1) * np.sin(v1))) ** 0.5)) > -0.349):
            break
        v3 += (0.466 * np.tanh((v3 - v3)))
    return v2
