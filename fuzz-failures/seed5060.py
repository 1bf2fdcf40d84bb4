# seed 5060 (nested=True, off=): wrong gradient
# grad_position=(0, 1)  float32=False
# args=(2, [array([ 0.97112586, -0.86816983, -1.12733029]), array([ 1.03079674, -1.04146362,  0.52638727])])
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
# def f(x, y):
#     v1 = (-(x + C23))
#     inner2 = lambda a3: ((np.where((a3 > -0.041), C3, C3) + np.minimum(a3, C3)) + (0.5 * np.sin(x)))
#     v1[1] = np.sin(y[1])
#     v4 = ((x + C3) * float(2))
#     v5 = (x * C21)
#     for i0 in range(3):
#         for t6 in y:
#             v4 = ((0.5 * v4) + np.sin(t6))
#         if (np.sum(sg.stop_gradient(v5)) > 0.785):
#             continue
#         v5 = (v5)
#     if (((x * -0.389) < 0.200) and (0.554 > (x + x) > -0.384)):
#         v4 = np.tanh((np.sin(v4) ** 3))
#     else:
#         if (np.sum(v1) > -0.883):
#             return x
#         for t7 in y:
#             v4 = ((0.5 * v4) + np.sin(t7))
#         v1 -= (0.490 * np.tanh(np.sum((x * C23), axis=-1, keepdims=True)))
#     return x
# autograd: n/a
# position 0:
#   sourcegrad: 0.0
#   numeric:    array(1.)
