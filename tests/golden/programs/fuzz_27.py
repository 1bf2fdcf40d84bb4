# fuzz program 27 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0, 1); arg_shapes=[(3,), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x, y):
    for i0 in range(3):
        y += (0.344 * np.tanh(np.tanh((0.193 * i0))))
        y = ((0.249 * y) + np.sin(np.where((y > -0.362), 0.220, y)))
    if (np.sum((x + x)) > -0.301):
        x = np.tanh((0.301 + x))
        i0 = 0
        while i0 < 3:
            i0 += 1
            y = ((0.478 * y) + np.sin(np.where((y < -0.017), (0.065 * i0), y)))
        if ((y * np.tanh(0.688)) < 0.653):
            x = np.tanh(np.cos(x))
            x = ((0.202 * x) + np.sin(y))
        else:
            x = np.tanh(sg.stop_gradient(x))
    else:
        if ((-y) > -0.556):
            y = ((0.616 * y) + np.sin((y * np.tanh(y))))
            y = ((0.417 * y) + np.sin(np.maximum(0.384, y)))
        else:
            x = np.tanh(((1.0 + (np.tanh(x) * np.tanh(x))) ** -1))
    return y, y


def f(x, y):
    v1 = np.tanh(0.089)
    v2 = np.minimum(x, -0.000)
    for i0 in range(3):
        if (np.sum((-x)) < -0.784):
            continue
        v2 = ((0.255 * v2) + np.sin(np.exp(np.sin(x))))
    v3, v4 = np.tanh(np.exp(np.tanh(((v1 + C21) - C21)))), np.sin((np.sin(0.080) * np.tanh(np.cos(C3))))
    if (np.exp(np.tanh(v1)) < -0.670):
        for i0 in range(4):
            v1 = np.tanh(np.tanh(v1))
            v1 *= np.cos((y * np.tanh(v1)))
        i0 = 0
        while i0 < 2:
            i0 += 1
            y = ((0.468 * y) + np.sin(np.log((2.0 + np.cos(v1)))))
            if (np.mean((v1 * C21)) < 0.730):
                break
        i0 = 0
        while i0 < 2:
            i0 += 1
            v2 = ((0.366 * v2) + np.sin((-v2)))
    else:
        if (np.mean(sg.stop_gradient(v3)) < 0.110):
            v1 = ((0.327 * v1) + np.sin(y))
            v1, y = y, v1
    i0 = 0
    while i0 < 3:
        i0 += 1
        if (np.sum(np.tanh(v3)) > 0.002):
            continue
    if (np.sum(v3) > 0.498):
        return np.sum(v4)
    return np.sum(v2)
