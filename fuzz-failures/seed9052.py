# seed 9052 (nested=True, off=): program error: ValueError: The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()
# grad_position=0  float32=False
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
# def f(x):
#     v1 = (0.5 * sum(np.where(((x * C21) > -0.250), (x + C23), x)))
#     l2 = (np.sin(x),) + (sg.stop_gradient(x), np.tanh(np.sin(x)))
#     for i0 in range(4):
#         if ((not (np.sum(((1.0 + (np.cos((v1 + C23)) * np.cos((v1 + C23)))) ** 0.5)) < -0.204)) or (np.sum((v1 * np.tanh(x))) > -0.189) or (np.mean(np.cos((x * C23))) > 0.611)):
#             break
#         l2 = l2 + ((l2[1] / (1.0 + (x * x))),)
#         v1 = np.tanh(v1)
#     for i0 in range(4):
#         if ((np.sum((v1 if ((l2[0] >= x) or (np.sum((x + C21)) > -0.779)) else v1)) > -0.474) or (np.mean(((x + C23) / (1.5 + np.cos((x * C21))))) < -0.660)):
#             return (-(x * C21)), len(C3)
#         for t5 in l2:
#             x = ((0.5 * x) + np.sin(t5))
#         for i1 in range(2):
#             x = np.stack([x, np.sin(x)])
#             if (np.sum(np.tanh((v1 * C23))) > -0.806):
#                 break
#             if ((np.sum(((v1 * C23) / (1.5 + np.cos((v1 * C23))))) > -0.286) and (np.sum(np.sum((v1 + C23), axis=-1, keepdims=True)) > 0.676)):
#                 continue
#     v6 = np.cos(C21)
#     def inner7(a8):
#         pass
#         return (np.maximum((C21 * np.tanh(-0.742)), (-0.921 / (1.0 + (0.913 * 0.913)))) + (0.5 * np.sin(v6)))
#     return v6, None
# Traceback (most recent call last):
#   File "/work/wt/dicts/tests/fuzzcheck.py", line 287, in judge
#     out = refm.f(*copy_args(cand))
#           ^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/tmp/sgfuzzc5zqkxj2/fw52_ref.py", line 109, in f
#     if _H.cmp(np.sum(v1 if _H.cmp(l2[0], x, '>=') or _H.cmp(np.sum(x + C21), -0.779, '>') else v1), -0.474, '>') or _H.cmp(np.mean((x + C23) / (1.5 + np.cos(x * C21))), -0.66, '<'):
#                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ValueError: The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()
