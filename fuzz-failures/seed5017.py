# seed 5017 (nested=True, off=): wrong gradient
# grad_position=1  float32=False
# args=(array([ 0,  1, -2]), 1, 0.5358562816908208)
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
#     v1 = (x * C23)
#     return np.sin((x + C21))
# 
# 
# def h1(x, y):
#     v2 = h0(np.log((2.0 + np.cos(-0.334))), (0.684 + 0.5))
#     v3 = (x + C3)
#     i0 = 0
#     while i0 < 3:
#         i0 += 1
#         if (x > (x if ((np.mean(y) < -0.811) and ((np.mean(y) > -0.646) or (np.mean(y) < -0.643))) else x)):
#             continue
#         if (np.sum(((x * C21) + 2)) > -0.461):
#             continue
#     if ((np.sum((y * np.tanh(v2))) < 0.775) and ((np.mean(y[:, 1:2]) < -0.949) and (-0.150 > np.cos(x) > -0.512))):
#         v3 = np.tanh((x - v3))
#     else:
#         v3 += (0.489 * np.tanh(np.minimum(x, -0.891)))
#         y = np.tanh(np.maximum(y, v2))
#     return y, np.mean(y, axis=1, keepdims=True)
# 
# 
# def h2(x):
#     v4 = np.log((1.0 + ((0.544 + 0.571) * (0.544 + 0.571))))
#     d5 = {'s': np.tanh(x)}
#     v6 = ((v4 + C3) * 0.5)
#     return ((v4 + C21) - (v4 + C21))
# 
# 
# @logged
# def f(x, y, z):
#     if (0.294 < np.sum((z + C23)) <= 1.481):
#         if ((np.sum((y * C23)) < 0.239) or ((-0.797 * np.tanh(z)) > 0.449) or (np.sum((-(x * C23))) > 0.758)):
#             return (0.3 * sum((z + C3)))
#         x = ((0.273 * x) + np.sin(np.maximum(x, -0.012)))
#     elif (((y * 0.5) < -0.822) or (np.sum(np.maximum((y * C21), (z + C21))) > 0.613)):
#         x = ((0.270 * x) + np.sin(np.sin(y)))
#     elif ((np.mean(sg.stop_gradient((y * C23))) > 0.081) and (np.mean(((z + C21) + C21)) < 0.792)):
#         z *= np.cos((0.3 * sum(x)))
#     l7 = [abs((y + C23))] + [np.cos((y + C23))]
#     l8 = l7
#     v9 = (np.cos(x) / (1.0 + (np.minimum(y, z) * np.minimum(y, z))))
#     if ((-0.782 + y) > 0.742):
#         return y
#     z = ((0.238 * z) + np.sin((y * float(2))))
#     v10 = ((y * C21) * 1)
#     return y
# autograd agrees with finite differences (position 1)
# position 1:
#   sourcegrad: 0.0
#   numeric:    array(1.)
