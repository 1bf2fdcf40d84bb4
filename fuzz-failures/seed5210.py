# seed 5210 (nested=True, off=int): internal: TypeError: 'dict_items' object is not subscriptable
# grad_position=(1, 0)  float32=False
# args=(0.8278844377724968, {'w': array([0.98778335, 0.30258622, 1.09340587]), 'b': -0.6992362950947707})
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
#     v1 = ((x * C23) / (1.5 + np.cos(-0.826)))
#     inner2 = lambda a3: (abs(C23) + (0.5 * np.sin(v1)))
#     for i0 in range(2):
#         if ((np.sum((v1 * (0.263 * i0))) < 0.074) and (np.sum(inner2((x * C23))) > 0.222)):
#             break
#     v4 = ((0.3 * sum(x)) + np.where((-0.754 > 0.022), 0.401, -0.004))
#     return ((v4 * C21) + 2)
# 
# 
# def f(x, py):
#     v5 = ((py['w'] - py['b']) + sg.stop_gradient(py['w']))
#     def inner6(a7):
#         pass
#         return ((-(np.cos(a7) ** 2)) + (0.5 * np.sin(x)))
#     for k8, v_ in py.items():
#         x = ((0.5 * x) + np.sum(np.sin(v_)))
#     for i0 in range(2):
#         if (np.sum(inner6(v5)) > -0.001):
#             x = (x)
#             v5 = v5
#         elif ((np.sum(inner6(v5)) > 0.481) and (np.sum(abs((x * C23))) < 0.472)):
#             x = x
#         elif ((np.mean(np.minimum((py['b'] + C23), (x + C21))) > -0.518) and (np.mean((-(x + C21))) < -0.476)):
#             if (((x + py['b']) < x) or ((np.mean(inner6(v5)) < 0.306) and (np.sum((0.5 * apply_twice(inner6, py['w']))) > -0.604))):
#                 return py['b'], (np.sin(py['w']) ** 3), np.sum((v5 * C23), axis=-1, keepdims=True)
#             v5 *= np.cos((x if ((np.sum((py['b'] * C23)) < 0.779) and ((np.sum((v5 + C23)) > 0.728) or (0.852 > py['b'] > 0.235))) else (0.199 * i0)))
#             x = ((0.324 * x) + np.sin(max(py['w'])))
#         else:
#             v5 = v5
#             v5 = v5
#             v5 = ((0.437 * v5) + np.sin(inner6((py['b'] * C3))))
#     x = np.tanh((py['b'] - py['b']))
#     inner9 = lambda a10: (np.minimum(np.where((a10 < 0.367), a10, -0.232), np.mean(a10, axis=1, keepdims=True)) + (0.5 * np.sin(v5)))
#     return py['b'], (0.5 * sum((v5 + C23))), (-C21)
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw210.py #425>", line 51, in f_grad
#     items_item = items[i]
#                  ~~~~~^^^
# TypeError: 'dict_items' object is not subscriptable
