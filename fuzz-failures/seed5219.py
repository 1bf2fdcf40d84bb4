# seed 5219 (nested=True, off=): wrong gradient
# grad_position=0  float32=False
# args=(0,)
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
# @logged
# def h0(x, y):
#     v1 = (-(x + float(2)))
#     def inner2(a3):
#         pass
#         return np.exp(np.sin((a3 - a3)))
#     return y
# 
# 
# def f(x):
#     v4 = (-(x + C23))
#     inner5 = lambda a6: (((0.131 + a6) + (-a6)) + (0.5 * np.sin(x)))
#     l7 = [((1.0 + (np.sin(v4) * np.sin(v4))) ** -2)] + [np.minimum(v4, (x + C21))]
#     l8 = l7
#     return inner5((x + C21)), x, (x + 2)
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: 2.0
#   numeric:    array(3.)
