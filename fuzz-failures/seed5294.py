# seed 5294 (nested=True, off=int): internal: TypeError: list indices must be integers or slices, not str
# grad_position=(0, 2, 1)  float32=False
# args=([array([ 0.45705175,  0.13381321, -0.73481152]), array([ 0.02617778,  0.18784016, -0.29554215])], array([[-0.12756679,  0.11740509,  0.71309127],        [-0.32446581,  0.71182435, -0.03665512]]), 0.3273468358633984)
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
#     i0 = 0
#     while i0 < 3:
#         i0 += 1
#         if (np.sum(np.cos(y)) < -0.690):
#             break
#         if ((1.451 > np.mean(np.abs((z * C3))) > 0.594) or ((-0.174 < (z * 0.5) <= 0.138) and (z > -0.776))):
#             y = ((0.541 * y) + np.sin(sg.stop_gradient(C23)))
#         z = np.tanh(sg.stop_gradient(-0.406))
#     d1 = {'b': (-(z + C21)), 's': (x[0] * y), 'a': y[:, 1:2]}
#     d1['b'] = np.tanh(y[:, 1:2])
#     for i0 in range(3):
#         x = x
#     return z
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw294.py #602>", line 50, in f_grad
#     d1 = restore_item(d1, 'b', d1_old, copies)
#          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/runtime.py", line 263, in restore_item
#     y[index] = old
#     ~^^^^^^^
# TypeError: list indices must be integers or slices, not str
