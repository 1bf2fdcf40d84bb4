# seed 5018 (nested=True, off=int): internal: TypeError: 'dict_items' object is not subscriptable
# grad_position=0  float32=False
# args=(-1.0894561024370082, {'w': array([-0.79045389,  1.18042859,  0.35260683]), 'b': -0.10490732187748586}, array([0.83596444, 0.99464565, 0.84665935]))
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
# def f(x, py, z):
#     for i0 in range(2):
#         z = z
#     inner1 = lambda a2: (np.sin(a2) + (0.5 * np.sin(x)))
#     for k3, v_ in py.items():
#         x = ((0.5 * x) + np.sum(np.sin(v_)))
#     inner4 = lambda a5: ((np.sin(0.376) + np.minimum(C21, 0.119)) + (0.5 * np.sin(x)))
#     if ((-0.182 > py['b'] > -0.440) or (np.mean(z) < 0.285)):
#         return np.cos(z)
#     return (z * np.tanh(z))
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw18.py #35>", line 3, in f_grad
#     out, out_saved = f_fwd(args_0, args_1, args_2)
#                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_fwd from /tmp/sgfuzztvgpukc0/fw18.py #34>", line 11, in f_fwd
#     x = 0.5 * x + np.sum(np.sin(items[i][1]))
#                                 ~~~~~^^^
# TypeError: 'dict_items' object is not subscriptable
