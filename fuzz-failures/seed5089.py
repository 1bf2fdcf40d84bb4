# seed 5089 (nested=True, off=): wrong gradient
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
# def h0(x):
#     v1 = np.where((-0.133 < -0.325), x, x)
#     l2 = [np.sin(x)] + [np.log((2.0 + np.cos(C3)))]
#     l3 = l2
#     return np.minimum((x + C23), 0.465)
# 
# 
# @logged
# def h1(x, y):
#     v4 = h0((C3 if ((np.mean(x) < -0.035) or ((np.mean(x) > -0.329) or (0.243 > 0.484))) else x))
#     l5 = [(x + C23)]
#     def inner6(a7):
#         pass
#         return np.sum(np.abs(C23), axis=-1, keepdims=True)
#     l5 += [np.tanh(y)]
#     v8 = np.maximum((0.5 * apply_twice(inner6, C21)), ((1.0 + (np.tanh(-0.664) * np.tanh(-0.664))) ** 0.5))
#     return (-0.226 * -0.850), x
# 
# 
# def h2(x, y):
#     d9 = {'w': np.cos(C3), 'a': (C3 + x), 'b': (C21 - C21)}
#     x = (x)
#     return (0.5 * sum(d9['a']))
# 
# 
# def f(x):
#     v10 = np.sum((x + C23), axis=0)
#     def inner11(a12):
#         pass
#         return ((np.where((-0.195 < 0.332), 0.967, 0.982) * abs(a12)) + (0.5 * np.sin(x)))
#     l13 = [((x * C21) + 0.5)]
#     l14 = l13
#     v15 = (-np.sum(C23, axis=1, keepdims=True))
#     v15 = (v15)
#     v16 = (np.abs(C23) * (x * C23))
#     v17 = np.where((np.cos(v10) > -0.123), (v16 * 2), (v16 if ((x <= 0.732) and (np.mean((0.5 * sum(l13))) < -0.034)) else v16))
#     return x
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: 0.0
#   numeric:    array(1.)
