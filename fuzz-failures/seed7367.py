# seed 7367 (nested=False, off=): wrong gradient
# grad_position=(0,)  float32=False
# args=(array([ 1,  1, -1]), -0.6146766062092057, -2)
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
#     v1 = (x * np.tanh(x))
#     return (-0.123 + -0.845)
# 
# 
# @logged
# def h1(x):
#     v2 = h0(sg.stop_gradient((x + C23)))
#     if (((v2 + 1) < -0.388) or ((np.cos(v2) >= (v2 + 0.234)) and (min(x) <= sg.stop_gradient(v2)))):
#         v2 = v2
#     for i0 in range(2):
#         if ((0.3 * sum(C3)) > 0.888):
#             break
#     v2 = ((0.640 * v2) + np.sin(v2))
#     return ((v2 * C21) + (x + C23))
# 
# 
# def h2(x, y):
#     v3 = h1(np.log((2.0 + np.cos(x))))
#     if ((np.mean((C21 - C21)) < 0.447) and (np.mean(C3) > 0.874)):
#         if ((0.915 - -0.513) > -0.604):
#             return (0.5 * sum(y))
#     else:
#         v3, y = y, ((0.5 * v3) + np.sin(np.tanh(0.806)))
#     for i0 in range(3):
#         x = ((0.374 * x) + np.sin(np.sin((0.197 * i0))))
#         v3 = np.tanh((v3 / (1.0 + ((0.141 * i0) * (0.141 * i0)))))
#     return x
# 
# 
# @doubled
# def f(x, y, z):
#     v4 = (np.sin(x[-1]) ** 2)
#     d5 = {'s': x[np.array([2, 0, 1])], 'a': (z if (-0.999 > 0.821) else -0.980), 'b': np.where(((x + C23) > -0.400), (v4 + C23), (y + C23))}
#     v6 = (np.cos(np.maximum(d5['b'], 0.413)) ** 2)
#     v7 = ((v6 / (1.0 + (z * z))) + 1)
#     return v6
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: array([0.        , 0.        , 8.41160536])
#   numeric:    array([0.        , 0.        , 4.54480977])
