# seed 7188 (nested=False, off=): program error: ValueError: all input arrays must have the same shape
# grad_position=(0, 1)  float32=False
# args=None
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
# def f(x, y):
#     for i0 in range(2):
#         x = np.tanh(max(x, y))
#         for i1 in range(3):
#             y = np.stack([y, np.sin(y)])
#             x = np.tanh(((0.248 * i0) + 1))
#         for i1 in range(2):
#             x = np.tanh(sg.stop_gradient(np.sum(y)))
#             x = np.tanh(sg.stop_gradient(np.sum(y)))
#     v1 = (x + C23)
#     if (not ((x / (1.5 + np.cos(x))) < -0.306)):
#         for i0 in range(4):
#             x = ((0.593 * x) + np.sin((0.3 * sum((x + C3)))))
#             v1[0] = np.sin(((1.0 + (np.cos((x * C3)) * np.cos((x * C3)))) ** -2))
#             if ((x if ((x <= -0.612) and (x < -0.580)) else x) < 0.887):
#                 break
#         x = np.tanh(sg.stop_gradient(np.sum(y)))
#     else:
#         if (not ((np.sum(y) * np.tanh(x)) < 0.577)):
#             v1 = np.tanh(np.sin(v1))
#             x -= (0.297 * np.tanh(np.sin(x)))
#             if (np.sum((-(x * C21))) < 0.241):
#                 return (x * np.tanh(x))
#         else:
#             x = np.tanh(v1[1, 2])
#             x = ((0.356 * x) + np.sin((np.sum(y) / (1.0 + (-0.958 * -0.958)))))
#         v1 = ((0.405 * v1) + np.sin(abs((x * C21))))
#     v2 = np.cos(x)
#     return np.where((v2 < 0.267), v2, v2)
# Traceback (most recent call last):
#   File "/work/wt/dicts/tests/fuzzcheck.py", line 287, in judge
#     out = refm.f(*copy_args(cand))
#           ^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/tmp/sgfuzzho3cjwu5/fw188_ref.py", line 102, in f
#     x = np.tanh(_H.bmax(max, x, y))
#                 ^^^^^^^^^^^^^^^^^^
#   File "/tmp/sgfuzzho3cjwu5/fw188_ref.py", line 43, in bmax
#     s = np.sort(np.stack([np.asarray(v, dtype=float) for v in vals]), axis=0)
#                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/numpy/_core/shape_base.py", line 458, in stack
#     raise ValueError('all input arrays must have the same shape')
# ValueError: all input arrays must have the same shape
