# seed 20 (nested=False, off=): internal: AttributeError: 'NoneType' object has no attribute 'values'
# grad_position=(1, 0)  float32=False
# args=(array(0.21151392), 0.954512946982603)
# reduced in 82 tries (3s); judged again:
# Traceback (most recent call last):
#   File "/work/wt/dicts/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/dicts/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzz36hnb9k7/fw83.py #57>", line 9, in f_grad
#     dict_values_out = dict_values(d8_1)
#                       ^^^^^^^^^^^^^^^^^
#   File "/work/wt/dicts/sourcegrad/runtime.py", line 536, in dict_values
#     return list(mapping.values()) if isinstance(mapping, dict) else mapping.values()
#                                                                     ^^^^^^^^^^^^^^
# AttributeError: 'NoneType' object has no attribute 'values'
import functools
import numpy as np
import sourcegrad as sg

def f(x, y):
    d8 = {'s': x, 'a': x, 'b': x}
    if not 0.416:
        d8['a'] = x
    else:
        for k10 in d8.values():
            pass
    return d8['a']

# ---- the original program ----
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
#     v1 = np.sin((0.682 if ((np.sum((x * C23)) > 0.146) and (-0.055 > 0.529 > -0.512)) else 0.598))
#     i0 = 0
#     while i0 < 2 and (np.sum(((v1 + C21) + C21)) > 0.568):
#         i0 += 1
#         if ((np.sum(np.tanh((v1 * C21))) > -0.813) and (np.abs(v1) <= (0.236 * i0)) and (np.mean((v1 + C21)) > 0.110)):
#             break
#         x = np.tanh(abs(x))
#     v2 = x[2]
#     return (-0.918 if (not (-0.220 > np.sum((v2 + C21)) > -0.714)) else v2)
# 
# 
# @logged
# def h1(x):
#     v3 = x[1]
#     l4 = [np.mean(x, axis=1, keepdims=True)]
#     l5 = l4
#     return np.where((0.084 > 0.276), x, v3)
# 
# 
# @doubled
# def h2(x, y):
#     if ((not (np.sum((C21 / (1.0 + (C21 * C21)))) < 0.291)) and (np.sum((-x)) > -0.451)):
#         x = np.tanh(np.maximum(x, C3))
#         x, y = y, x
#         x = ((0.543 * x) + np.sin(np.mean(y, axis=0)))
#     if ((-0.129 if (np.sum(x) < 0.738) else -0.510) < (-0.415 * np.tanh(-0.430))):
#         return x
#     v6 = np.tanh((x if ((np.sum(C3) < 0.408) or (np.sum(C23) > -0.812)) else x))
#     return v6
# 
# 
# def f(x, y):
#     v7 = np.tanh((x + C3))
#     d8 = {'s': (-(x + C21)), 'a': np.where((y < -0.376), 0.974, x), 'b': np.sin((x * C23))}
#     if ((not (-0.416 < np.mean((d8['a'] - (y * C23))) <= 0.533)) and (np.sum(np.abs(d8['s'])) > 0.970)):
#         v7 *= np.cos(np.sin(v7))
#         for k9, v_ in d8.items():
#             x = ((0.5 * x) + np.sum(np.sin(v_)))
#         d8['a'] = np.tanh((x * np.tanh(0.317)))
#     else:
#         for k10 in d8.values():
#             y = ((0.5 * y) + np.sum(np.sin(k10)))
#     for i0 in range(4):
#         y = np.stack([y, np.sin(y)])
#         x = np.tanh((x + 0.5))
#     return (x if ((x < -0.084) and ((d8['a'] > 0.708) or (np.sum(v7) > -0.491))) else d8['a']), None
# Traceback (most recent call last):
#   File "/work/wt/dicts/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/dicts/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzz36hnb9k7/fw0.py #0>", line 52, in f_grad
#     dict_values_out = dict_values(d8_1)
#                       ^^^^^^^^^^^^^^^^^
#   File "/work/wt/dicts/sourcegrad/runtime.py", line 536, in dict_values
#     return list(mapping.values()) if isinstance(mapping, dict) else mapping.values()
#                                                                     ^^^^^^^^^^^^^^
# AttributeError: 'NoneType' object has no attribute 'values'
