# seed 5263 (nested=True, off=): wrong gradient
# grad_position=(1, 0)  float32=False
# args=(-1, 2)
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
# @doubled
# def h0(x, y):
#     if (-0.341 < np.mean(np.where(((y * C3) < -0.196), (y * C3), y)) <= -0.081):
#         return np.exp(np.tanh((y * C21)))
#     return ((y * C21) / (1.0 + ((y * C21) * (y * C21))))
# 
# 
# def h1(x):
#     v1 = (x / (1.5 + np.cos(x)))
#     inner2 = lambda a3: (((a3 / (1.5 + np.cos(a3))) * np.tanh(np.sum((a3 * C3)))) + (0.5 * np.sin(x)))
#     return (x * C23)
# 
# 
# def h2(x):
#     v4 = min(x, x)
#     def inner5(a6):
#         pass
#         return (np.exp(np.tanh((a6 * 1))) + (0.5 * np.sin(v4)))
#     for i0 in range(4):
#         if ((-0.844 < np.mean(inner5((v4 + C23))) <= 0.143) or (np.log((2.0 + np.cos(v4))) > 0.874)):
#             return np.sum((x * C23), axis=0)
#         for i1 in range(4):
#             x = ((0.545 * x) + np.sin((v4 + 0.839)))
#             v4 = ((0.605 * v4) + np.sin((v4 - v4)))
#             if ((np.mean(np.maximum((x + C21), (v4 * C21))) > 0.302) and (np.mean((x * C3)) < 0.226) and (-0.211 > np.sum(np.maximum((v4 + C23), (x + C21))) > -0.674)):
#                 return ((v4 + C3) * np.tanh((v4 * C3)))
#     return np.log((1.0 + (C3 * C3)))
# 
# 
# def f(x, y):
#     for i0 in range(3):
#         if (0.164 > np.sum(((y * C23) / (1.5 + np.cos((y * C21))))) > -0.766):
#             x = np.tanh(np.exp(np.tanh(y)))
#             if ((not ((x / (1.5 + np.cos(x))) < -0.354)) and (np.mean(np.log((1.0 + ((x + C23) * (x + C23))))) > -0.464)):
#                 return x, np.mean((y * C23), axis=-1, keepdims=True)
#         x += (0.465 * np.tanh(np.minimum((0.191 * i0), y)))
#         if ((not (0.455 < y <= 1.354)) and (y <= (np.sin(y) ** 3))):
#             break
#     inner7 = lambda a8: (np.sum((-(a8 + C23)), axis=1, keepdims=True) + (0.5 * np.sin(y)))
#     def inner9(a10):
#         pass
#         return (np.sin(a10) + (0.5 * np.sin(y)))
#     if (((y if ((not (np.mean((y * C23)) > -0.287)) and (y > 0.365)) else y) > 0.438) or (inner9(0.293) < np.log((1.0 + (x * x)))) or (np.tanh(y) < max((y * C3)))):
#         return y, (0.5 * apply_twice(inner7, (x + C21)))
#     if ((np.tanh(y) < 0.165) and (inner9(y) > max((x + C3))) and (inner9(y) < -0.664)):
#         x = ((0.490 * x) + np.sin(inner9(x)))
#         y = (y)
#     elif ((np.mean(np.exp(np.tanh((y + C23)))) < -0.803) and (np.exp(np.sin(y)) < 0.941)):
#         y = (y)
#         x, y = y, ((0.5 * x) + np.sin(min(y, y, x)))
#         if ((0.886 > np.sum(((y + C3) - C3)) > 0.370) and (((x - -0.167) < 0.882) and (np.sum(sg.stop_gradient((y + C23))) > 0.802))):
#             return (y * y), (0.5 * apply_twice(inner7, (x + C21)))
#     elif (np.where((x > -0.479), y, x) >= y):
#         if (np.mean((-(x * C23))) < -0.861):
#             return x, np.tanh((y * C21))
#         if ((np.mean(np.sin((y + C23))) < 0.524) and (sg.stop_gradient(x) <= np.maximum(x, -0.812))):
#             return x, (-(x * C21))
#     else:
#         if ((np.mean(abs((y + C21))) < 0.780) or ((np.mean(((x * C21) if ((not (np.mean((x * C23)) > -0.332)) or (np.sum((y + C3)) > -0.318) or (np.mean((x + C23)) > 0.098)) else (x + C21))) < 0.505) and (y < 0.586))):
#             return (0.3 * sum((x * C3))), sg.stop_gradient(C21)
#         if (np.mean(((y + C21) + 1)) < -0.651):
#             return inner9(y), np.mean((y + C23), axis=-1, keepdims=True)
#         y = ((0.254 * y) + np.sin((y + float(2))))
#     v11 = max((x + C3))
#     i0 = 0
#     while i0 < 3:
#         i0 += 1
#         v11 = np.tanh((v11, 0.5 * v11))
#         if (np.sum(np.where((x < -0.075), (x * C21), np.sum(v11))) > -0.455):
#             return x, np.where(((y * C21) > -0.300), (x * C21), y)
#         if (not (-0.869 < inner9(-0.303) <= 0.249)):
#             break
#         y = np.tanh((y if ((not (np.mean((y + C3)) > -0.841)) and (np.sum((y + C3)) < 0.107)) else x))
#     return y, h0((x + C3), 0.388)
# autograd agrees with finite differences (position 1)
# position 1:
#   sourcegrad: 0.41614683654714246
#   numeric:    array(1.41614684)
