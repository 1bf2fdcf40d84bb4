# seed 5296 (nested=True, off=): internal: TypeError: list indices must be integers or slices, not str
# grad_position=(1, 2, 0)  float32=False
# args=(array([[-0.09074943, -0.28436164,  0.35044111],        [-0.43315577,  0.50872612, -0.46476661]]), 1.0886583846646627, array([0, 2, 0]))
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
#     v1 = (x * float(2))
#     inner2 = lambda a3: ((np.tanh(C3) / (1.0 + (np.exp(np.tanh(a3)) * np.exp(np.tanh(a3))))) + (0.5 * np.sin(y)))
#     d4 = {'s': x}
#     if ((np.sum(((y * C21) / (1.5 + np.cos((y + C21))))) > -0.415) and (y < z[-3])):
#         return ((y + C21) / (1.5 + np.cos((y * C21)))), None
#     if (1.137 > np.mean(np.cos((y * C21))) > 0.102):
#         d4['s'] = np.tanh((v1 * y))
#     return v1[:, 0:1], None
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzz22xjib6_/fw296.py #612>", line 52, in f_grad
#     d4 = restore_item(d4, 's', d4_old, copies)
#          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/runtime.py", line 263, in restore_item
#     y[index] = old
#     ~^^^^^^^
# TypeError: list indices must be integers or slices, not str
