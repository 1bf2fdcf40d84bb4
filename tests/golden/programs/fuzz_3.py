# fuzz program 3 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(1,); arg_shapes=[(2, 3), (), (3,)])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def f(x, y, z):
    x = ((0.571 * x) + np.sin(np.log((2.0 + np.cos(((y * C21) / (1.0 + ((y + C21) * (y + C21)))))))))
    if (np.mean(sg.stop_gradient(x)) < 0.956):
        z = np.tanh(z)
    else:
        y = ((0.639 * y) + np.sin(z[-2]))
        if ((-0.417 * np.tanh(y)) < -0.372):
            z = np.tanh(np.mean(x, axis=0))
            z = ((0.549 * z) + np.sin(np.maximum(y, 0.343)))
        else:
            z = np.tanh((np.sin(z) ** 2))
            z = ((0.389 * z) + np.sin(np.where((y < -0.206), y, y)))
            z = ((0.355 * z) + np.sin((-z)))
        y = np.tanh((-y))
    v1, v2 = np.tanh(sg.stop_gradient(np.minimum(x, y))), np.sin(np.where((np.exp(np.tanh(y)) < 0.463), np.log((1.0 + (y * y))), np.where((y > -0.200), y, y)))
    for i0 in range(2):
        i1 = 0
        while i1 < 3:
            i1 += 1
            v1 = ((0.426 * v1) + np.sin((x / (1.0 + (y * y)))))
            if (np.tanh(-0.370) > 0.727):
                continue
            v1 = ((0.218 * v1) + np.sin(((v2 * C21) - v1)))
    v3 = (np.tanh((v2 * C21)) / (1.5 + np.cos(np.tanh(-0.760))))
    return v3, v3
