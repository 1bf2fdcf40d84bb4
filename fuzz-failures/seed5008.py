# seed 5008 (nested=True, off=int): internal: TypeError: 'dict_values' object is not subscriptable
# grad_position=(0, 2)  float32=False
# args=(array([[ 0.74726008,  0.31901201, -0.06179494],        [ 1.03056751, -0.46116196, -0.97503501]]), -0.7440404642206149, array([[ 0.04144493,  0.77803537, -0.14356457],        [-1.12174018, -0.3070413 , -0.97318153]]))
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
# def f(x, y, z):
#     v1 = (z + x)
#     def inner2(a3):
#         pass
#         return ((np.mean((a3 + C3)) + 2) + (0.5 * np.sin(y)))
#     d4 = {'b': np.tanh((y + C21))}
#     for i0 in range(2):
#         v1 = (v1)
#         if ((np.sum(np.mean(z, axis=0)) < 0.154) and (np.mean(np.sin(d4['b'])) < -0.487) and (sg.stop_gradient(y) > 0.138)):
#             y = ((0.382 * y) + np.sin(inner2(-0.165)))
#             x = np.tanh(np.cos(x))
#             v1 = (v1)
#         elif ((-0.652 < np.sum(sg.stop_gradient((y + C3))) <= -0.326) or (np.mean(((y + C3) if (np.sum(z) < 0.722) else (y * C3))) > 0.779)):
#             x = x
#             v1 = ((0.329 * v1) + np.sin(((y + C3) if ((np.sum(d4['b']) < 0.328) and (np.sum((y * C3)) < -0.238) and (np.mean(d4['b']) < -0.232)) else (y + C3))))
#             v1 *= np.cos((y * y))
#         elif (np.sum(np.where((d4['b'] > -0.500), d4['b'], -0.821)) < -0.956):
#             z = z
#             v1 = v1
#             v1 = ((0.644 * v1) + np.sin((d4['b'] - d4['b'])))
#         elif ((y - -0.315) < np.where((y < -0.444), y, y)):
#             z = np.tanh((y * C23))
#             if (inner2(y) < 0.127):
#                 return d4['b'], np.tanh(d4['b']), ((y * C3) if (y < -0.917) else (y * C3))
#     i0 = 0
#     while i0 < 3:
#         i0 += 1
#         for k5 in d4.values():
#             y = ((0.5 * y) + np.sum(np.sin(k5)))
#         i1 = 0
#         while ((np.mean((y + C3)) > 0.402) and (np.sum(np.tanh((y * C3))) > -0.851)) and i1 < 2:
#             i1 += 1
#             y = y
#             v1 = ((0.584 * v1) + np.sin((y * C21)))
#         x = ((0.235 * x) + np.sin(((1.0 + (np.sin(y) * np.sin(y))) ** 0.5)))
#     return np.tanh(d4['b']), d4['b'], ((y * C3) + (y + C3))
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw8.py #14>", line 81, in f_grad
#     y = 0.5 * y + np.sum(np.sin(values[i]))
#                                 ~~~~~~^^^
# TypeError: 'dict_values' object is not subscriptable
