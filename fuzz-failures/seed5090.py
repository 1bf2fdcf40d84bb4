# seed 5090 (nested=True, off=): wrong gradient
# grad_position=(0,)  float32=True
# args=(-2,)
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
# def h0(x, y):
#     for i0 in range(2):
#         x = np.tanh(x)
#         y = (y)
#         if ((np.mean(np.mean((y * C23), axis=1, keepdims=True)) < -0.193) and (np.tanh(y) > 0.504)):
#             continue
#     def inner1(a2):
#         pass
#         return (np.abs((a2 * 0.5)) + (0.5 * np.sin(y)))
#     return y
# 
# 
# @shifted(0.25)
# def h1(x):
#     v3 = sg.stop_gradient(-0.543)
#     x = np.tanh((-x))
#     v4 = ((v3 * 1) + 0.5)
#     return (x * np.tanh(v4))
# 
# 
# def f(x):
#     v5 = (x + (x + C3))
#     inner6 = lambda a7: ((a7 + a7[np.array([2, 0, 1])]) + (0.5 * np.sin(x)))
#     d8 = {'b': v5[:], 'a': np.tanh((x + C21)), 'w': sg.stop_gradient((v5 * C23))}
#     if (np.sum(np.sin(d8['a'])) > 0.538):
#         return np.sum(C21)
#     v9 = np.where((np.where((x < -0.014), x, 0.783) < -0.410), np.sum(d8['w'], axis=-1, keepdims=True), (d8['a'] / (1.0 + (x * x))))
#     return x
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: 0.0
#   numeric:    array(1.)
