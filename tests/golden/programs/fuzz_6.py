# fuzz program 6 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(0,); arg_shapes=[(), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def h0(x):
    v1 = np.maximum(C21, sg.stop_gradient(0.079))
    return (np.sin(np.exp(np.tanh(0.220))) ** 2)


def h1(x):
    v2 = (np.tanh(C3) * C3)
    if (np.sum(C21) > 0.818):
        x, v2 = v2, x
        if (np.mean(np.where((C21 > -0.373), C23, 0.188)) > 0.962):
            x, v2 = v2, x
        else:
            v2 = ((0.652 * v2) + np.sin(((1.0 + (np.sin(-0.966) * np.sin(-0.966))) ** 0.5)))
        if (np.sum((C21 + C21)) > 0.220):
            x, v2 = v2, x
            x, v2 = v2, x
            v2 = ((0.365 * v2) + np.sin((v2 if (np.sum(C21) > -0.956) else v2)))
        else:
            x = ((0.271 * x) + np.sin(v2))
            x = ((0.523 * x) + np.sin(np.minimum(x, v2)))
    else:
        x = ((0.507 * x) + np.sin(np.sin(v2)))
        x += (0.291 * np.tanh(np.where((0.362 < 0.107), 0.256, -0.909)))
        v2 = ((0.654 * v2) + np.sin(np.sin(0.823)))
    return (np.log((2.0 + np.cos((v2 * C23)))) if (np.mean((C21 if (np.mean(C21) > 0.663) else C21)) > -0.833) else np.where((-0.501 < 0.036), (v2 + C23), (v2 + C23)))


def f(x, y):
    v3 = np.sin((x + C3))
    v4, v5 = np.tanh(np.sum((-(x * C23)), axis=0)), np.sin(((v3 + C3) / (1.5 + np.cos(((1.0 + (np.cos(v3) * np.cos(v3))) ** -1)))))
    return v5, len(C3)
