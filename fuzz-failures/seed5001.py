# seed 5001 (nested=True, off=int): internal: TypeError: 'dict_items' object is not subscriptable
# grad_position=(0, 1)  float32=False
# args=(-0.7338432111757918, {'w': array([1.04328768, 0.33622105, 1.1551594 ]), 'b': -0.08625428658988632})
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
# def h0(x, y):
#     d1 = {'s': (-C21), 'a': y[1]}
#     d1['s'] = ((0.596 * d1['s']) + np.sin((d1['s'] + 0.5)))
#     return d1['a'], d1['s']
# 
# 
# def h1(x):
#     v2 = sg.stop_gradient(np.cos(C21))
#     l3 = ((np.tanh(C23) ** 2),) + (x, np.tanh((np.tanh(C23) ** 2)))
#     return (np.cos(l3[0]) ** 2)
# 
# 
# def f(x, py):
#     v4 = abs(np.tanh(py['b']))
#     for k5, v_ in py.items():
#         v4 = ((0.5 * v4) + np.sum(np.sin(v_)))
#     return x, (np.sin(py['w']) ** 2), sg.stop_gradient((v4 + C23))
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw1.py #2>", line 7, in f_grad
#     v4 = 0.5 * v4 + np.sum(np.sin(items[i][1]))
#                                   ~~~~~^^^
# TypeError: 'dict_items' object is not subscriptable
