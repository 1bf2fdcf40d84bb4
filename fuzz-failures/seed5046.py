# seed 5046 (nested=True, off=int): internal: TypeError: list indices must be integers or slices, not str
# grad_position=(0,)  float32=False
# args=(0.5598951930805036,)
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
#     v1 = (np.abs((x + C23)) - (np.sin((x + C23)) ** 2))
#     if (np.sum(((x * C21) if ((0.448 > np.sum(v1) > -0.372) and (np.mean((x + C21)) < -0.758) and (x < -0.908)) else (x + C21))) > -0.989):
#         v1 = (v1)
#         if ((x / (1.0 + (0.142 * 0.142))) > 0.954):
#             return ((x * C21) / (1.0 + ((x * C21) * (x * C21)))), np.log((2.0 + np.cos((x * C3))))
#         v1 = ((0.545 * v1) + np.sin(v1[:, 0:1]))
#     else:
#         x = np.tanh((x if (x < -0.863) else -0.668))
#         x = ((0.340 * x) + np.sin((x / (1.5 + np.cos(x)))))
#         v1 = v1
#     d2 = {'a': np.sum(v1, axis=-1, keepdims=True), 'w': ((x + C23) if ((np.mean(v1) < 0.986) or ((np.sum((x + C21)) < -0.521) or (-0.411 < np.mean((x * C3)) <= -0.158))) else v1), 'b': (x + C3)}
#     l3 = [(d2['a'] * 0.5)]
#     d2['a'] = ((0.267 * d2['a']) + np.sin(np.where((d2['a'] > 0.110), (x * C21), x)))
#     return (x - (0.5 * sum(l3))), np.mean(v1, axis=0)
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw46.py #86>", line 116, in f_grad
#     d2 = restore_item(d2, 'a', d2_old, copies)
#          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/runtime.py", line 263, in restore_item
#     y[index] = old
#     ~^^^^^^^
# TypeError: list indices must be integers or slices, not str
