# seed 5180 (nested=True, off=): wrong gradient
# grad_position=0  float32=False
# args=(0, array([[ 0.01591184,  0.70669747,  0.1654876 ],        [ 1.16657234, -0.44850063,  0.63933034]]), array([[ 0.33015216,  0.21055143, -0.18003856],        [ 0.96761627,  0.36999133,  0.54811281]]))
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
# def h0(x):
#     v1 = np.cos(C3)
#     inner2 = lambda a3: (sg.stop_gradient(a3) + (0.5 * np.sin(v1)))
#     l4 = [0.718] + [(-0.755 - 0.378)]
#     return np.where((0.585 < -0.056), -0.507, -0.738)
# 
# 
# def h1(x, y):
#     v5 = h0(sg.stop_gradient((y + C23)))
#     if ((np.mean(np.cos((y * C23))) < -0.934) or ((0.221 < np.mean((x * np.tanh(v5))) <= 0.989) and (-0.373 < (0.405 if (not (np.mean((y * C23)) < 0.219)) else 0.453) <= 0.146))):
#         return x, np.log((2.0 + np.cos(-0.687)))
#     d6 = {'s': (x * float(2)), 'a': (-0.384 * np.tanh(v5))}
#     for i0 in range(4):
#         d6['a'] = np.tanh((0.114 * i0))
#     return x, np.cos(d6['a'])
# 
# 
# def h2(x):
#     v7 = np.tanh(C23)
#     l8 = (sg.stop_gradient(v7),) + (v7, np.tanh(sg.stop_gradient(v7)))
#     return (v7 if (not (np.mean((x * C3)) > -0.340)) else v7)
# 
# 
# def f(x, y, z):
#     i0 = 0
#     while i0 < 2 and ((x < 0.357) and (np.sum(((x * C21) - (x * C21))) < -0.312)):
#         i0 += 1
#         y = np.tanh(h2(x))
#         y = (y)
#     def inner9(a10):
#         pass
#         return (np.exp(np.tanh((a10 / (1.0 + (0.452 * 0.452))))) + (0.5 * np.sin(x)))
#     for i0 in range(2):
#         if (np.sum(np.where((-0.877 > -0.439), z, (x * C21))) > -0.323):
#             return x
#         if ((x > -0.239) and (np.sum((x + C3)) > -0.064)):
#             continue
#     return x
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: 0.0
#   numeric:    array(1.)
