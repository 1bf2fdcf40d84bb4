# seed 5243 (nested=True, off=): wrong gradient
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
#     v1 = np.log((2.0 + np.cos(sg.stop_gradient(-0.903))))
#     l2 = ((0.243 * 0.5),) + (np.where((v1 > 0.332), v1, v1), np.tanh((0.243 * 0.5)))
#     for i0 in range(3):
#         x = ((0.384 * x) + np.sin(x[-1]))
#         l2 = l2 + (np.tanh(v1),)
#         for t4 in l2:
#             v1 = ((0.5 * v1) + np.sin(t4))
#     return (x * x)
# 
# 
# def f(x):
#     v6 = (np.cos((x * C3)) ** 2)
#     def inner7(a8):
#         pass
#         return (C21 + (0.5 * np.sin(x)))
#     if (np.sum((0.5 * apply_twice(inner7, (x * C21)))) < 0.506):
#         return x
#     for i0 in range(3):
#         x = ((0.396 * x) + np.sin((x + x)))
#         if ((np.mean(sg.stop_gradient((x * C23))) > 0.875) and (v6[2] > 0.738) and (np.sum((x + C23)) > 0.598)):
#             break
#         v6[2] = np.sin(max(x, x))
#     for i0 in range(4):
#         x *= np.cos((x * np.tanh((0.098 * i0))))
#         v6 = np.tanh((v6 if ((0.278 > np.sum(v6) > -0.760) and ((np.sum(v6) > 0.591) and (x > 0.396))) else v6))
#         if ((np.mean((v6 + C23)) > -0.677) and (-0.275 < (x + x) <= 0.561) and (x < np.maximum(x, -0.751))):
#             x = ((0.220 * x) + np.sin(sg.stop_gradient(x)))
#         elif ((np.mean((np.tanh(C21) ** 2)) < 0.999) and (np.sum(((x + C23) if ((x >= (0.114 * i0)) or ((np.mean((x + C21)) < -0.858) and (0.133 > np.mean((x + C3)) > -0.185))) else (v6 * C23))) > 0.363)):
#             v6 = ((0.672 * v6) + np.sin(C3))
#             x = ((0.640 * x) + np.sin((x / (1.0 + (0.091 * 0.091)))))
#         elif (np.mean(((v6 + C23) * (x * C3))) < -0.291):
#             v6 += (0.159 * np.tanh((x * C3)))
#             v6 = ((0.462 * v6) + np.sin((x - v6)))
#             x = ((0.352 * x) + np.sin(np.minimum(x, -0.459)))
#         else:
#             if ((not (np.mean(sg.stop_gradient(v6)) > -0.168)) or (sg.stop_gradient(-0.923) > 0.230)):
#                 return (x * np.tanh(x))
#             v6 = (v6)
#             x = ((0.276 * x) + np.sin(np.tanh(x)))
#     return (x if (np.sum(v6) > 0.291) else x)
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: 0.0
#   numeric:    array(1.)
