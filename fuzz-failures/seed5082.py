# seed 5082 (nested=True, off=): internal: TypeError: list indices must be integers or slices, not str
# grad_position=(0, 2, 1)  float32=False
# args=(array([-1, -2,  2]), 1.0601658803706464, -1)
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
#     for i0 in range(3):
#         x = np.tanh(np.where(((0.276 * i0) > 0.024), x, (0.142 * i0)))
#         y = (y)
#         x = np.tanh(np.mean(y, axis=0))
#     def inner1(a2):
#         pass
#         return ((-0.048) * np.where((-0.924 < 0.133), a2, a2))
#     if ((np.mean((C21 / (1.5 + np.cos(C21)))) > 0.361) or ((np.mean((x * np.tanh(0.575))) < -0.292) or (0.501 > np.mean(y[:, 1:2]) > 0.292))):
#         return (-0.521 * np.tanh(0.936))
#     v3 = np.mean(C3)
#     return max(x)
# 
# 
# def f(x, y, z):
#     l4 = [np.where(((y * C3) < 0.186), (y + C23), x)]
#     d5 = {'b': np.where(((x + C23) < 0.323), l4[0], l4[-1])}
#     v6 = max(x)
#     d5['b'] = ((0.635 * d5['b']) + np.sin(((z + C21) + 2)))
#     for i0 in range(3):
#         l4 = (l4)
#         z = z
#         if ((0.947 > np.sum(abs(x)) > 0.155) and ((x[-1] > -0.721) or (0.704 > np.mean(np.sin(x)) > 0.417))):
#             break
#     return (z * np.tanh(z))
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzz22xjib6_/fw82.py #166>", line 44, in f_grad
#     d5 = restore_item(d5, 'b', d5_old, copies)
#          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/runtime.py", line 263, in restore_item
#     y[index] = old
#     ~^^^^^^^
# TypeError: list indices must be integers or slices, not str
