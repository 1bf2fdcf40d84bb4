# seed 5084 (nested=True, off=int): internal: KeyError: #
# grad_position=(0,)  float32=False
# args=(array(-0.88151157), {'w': array([-0.40933818,  0.60472885, -0.63857558]), 'b': 0.06317193972001478})
# import functools
# 
# import numpy as np
# import sourcegrad as sg
# 
# C3 = np.array([0.3, -0.2, 0.5])
# C23 = np.array([[0.1, -0.4, 0.25], [0.6, 0.05, -0.3]])
# C21 = np.array([[0.2], [-0.35]])
# 
# 
# def doubled(fn):
#     """Doubles what fn returns."""
#     @functools.wraps(fn)
#     def wrapper(*args, **kwargs):
#         return 2.0 * fn(*args, **kwargs)
#     return wrapper
# 
# 
# def logged(fn):
#     """Returns what fn returns (a pass-through wrapper)."""
#     @functools.wraps(fn)
#     def wrapper(*args, **kwargs):
#         out = fn(*args, **kwargs)
#         return out
#     return wrapper
# 
# 
# def shifted(c):
#     """A decorator factory: calls fn with its first argument shifted by c."""
#     def deco(fn):
#         @functools.wraps(fn)
#         def wrapper(x, *rest):
#             return fn(x + c, *rest)
#         return wrapper
#     return deco
# 
# 
# def apply_twice(fn, v):
#     return fn(fn(v))
# 
# 
# def h0(x):
#     v1 = (-0.084 + -0.841)
#     def inner2(a3):
#         pass
#         return (np.mean((-(a3 + C23)), axis=0) + (0.5 * np.sin(v1)))
#     l4 = [((v1 * C21) if ((0.265 < v1 <= 0.586) or ((v1 < 0.113) and (0.643 > v1 > -0.471))) else (v1 * C21))]
#     return np.cos((v1 + C23))
# 
# 
# def h1(x, y):
#     v5 = (x - (x + C21))
#     inner6 = lambda a7: (((C21 * np.tanh(C21)) + np.minimum(a7, -0.971)) + (0.5 * np.sin(x)))
#     return y, ((x + C3) if ((np.mean((x * C21)) < -0.322) and (np.mean(y) > 0.623)) else (x * C3))
# 
# 
# def f(x, py):
#     if (not (np.sum(np.where(((x * C21) < -0.029), (py['b'] * C23), (py['b'] + C23))) < 0.652)):
#         if ((not (-0.972 < np.sum(np.sin(py['w'])) <= 0.100)) or (np.sum((x + C21)) < -0.311)):
#             return x
#     else:
#         x = (x)
#     def inner8(a9):
#         pass
#         return (np.maximum((a9 if ((np.sum(C21) > 0.680) or ((1.720 > np.sum(a9) > 0.590) or (0.254 < -0.243))) else a9), 0.161) + (0.5 * np.sin(x)))
#     for k10 in py:
#         x = ((0.5 * x) + np.sum(np.sin(py[k10])))
#     return py['b']
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw84.py #166>", line 30, in f_grad
#     sum_5 = np.sum(np.sin(py[py_old[i]]))
#                              ~~~~~~^^^
# KeyError: 0
