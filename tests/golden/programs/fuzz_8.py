# fuzz program 8 of tests/fuzzgen.py, kept as text: a fixed input of
# tests/test_golden_sources.py (grad_position=(1,); arg_shapes=[(3,), ()])
import numpy as np
import sourcegrad as sg

C3 = np.array([0.3, -0.2, 0.5])
C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
C21 = np.array([[0.2], [-0.35]])


def f(x, y):
    v1 = x[:]
    v2, v3 = np.tanh((np.cos((y + C21)) ** 2)), np.sin((-sg.stop_gradient((y * C21))))
    return np.sum(v3)
