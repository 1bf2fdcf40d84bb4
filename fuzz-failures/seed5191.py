# seed 5191 (nested=True, off=int): internal: TypeError: 'dict_values' object is not subscriptable
# grad_position=(1, 0)  float32=True
# args=(-1.0424271204165219, {'w': array([ 0.71785486,  1.1516446 , -0.17739506], dtype=float32), 'b': 0.012718058777337005})
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
#     d1 = {'s': abs(C23)}
#     inner2 = lambda a3: np.exp(np.sin((a3 * np.tanh(C21))))
#     if ((min(-0.536, -0.140) <= np.minimum(-0.263, 0.060)) or ((np.mean((x if (np.sum(x) < 0.250) else x)) < 0.545) and (np.sum(x) > -0.290))):
#         y = np.tanh(sg.stop_gradient(d1['s']))
#         if ((not (0.006 < np.mean(np.minimum(x, 0.581)) <= 0.798)) and (1.165 > np.mean((x / (1.5 + np.cos(0.780)))) > 0.453) and (np.sum(np.maximum(x, 0.944)) > -0.188)):
#             x = np.tanh((-x))
#         else:
#             x = x
#             y *= np.cos(np.where((x > -0.056), d1['s'], C21))
#             x = x
#         x = x
#     else:
#         d1['s'][0] = np.sin((x if ((1.258 > 0.197 > 0.291) and ((np.mean(C3) > 0.494) and (-0.057 < 0.223))) else x))
#         if (max(x) < np.minimum(0.514, 0.873)):
#             return 0.260
#     return (0.3 * sum(x))
# 
# 
# def f(x, py):
#     if ((np.mean(py['w'][::-1]) < -0.770) and (0.146 < np.mean(np.cos((py['b'] + C23))) <= 0.968)):
#         x = x
#     for k4 in py.values():
#         x = ((0.5 * x) + np.sum(np.sin(k4)))
#     for i0 in range(2):
#         x = np.tanh(np.abs(x))
#         x = ((0.499 * x) + np.sin(np.sin(py['b'])))
#     return (x * np.tanh(py['b']))
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw191.py #387>", line 17, in f_grad
#     k4 = values[i]
#          ~~~~~~^^^
# TypeError: 'dict_values' object is not subscriptable
