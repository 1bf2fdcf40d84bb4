# seed 5181 (nested=True, off=): wrong gradient
# grad_position=(0,)  float32=False
# args=(array([-2, -1,  0]),)
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
# def f(x):
#     v1 = np.where((C23 < -0.209), (x * C23), 0.091)
#     l2 = [(0.845 if ((np.mean(C21) < 0.544) or (-0.355 < np.sum(x) <= 0.837)) else 0.822)]
#     l3 = l2
#     v4 = np.abs(x[-2])
#     return ((v4 * C21) / (1.0 + (v4 * v4))), v4
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: array([0., 0., 0.])
#   numeric:    array([ 0., -1.,  0.])
