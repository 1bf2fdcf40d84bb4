# seed 5179 (nested=True, off=int): internal: TypeError: 'dict_items' object is not subscriptable
# grad_position=(1,)  float32=False
# args=({'w': array([ 1.07032465,  0.63226449, -0.93034651]), 'b': 0.5503807508414642}, array([ 0.64310425,  0.46041464, -1.06001977]), -1.1945244520575797)
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
#     v1 = np.mean((x + C23), axis=-1, keepdims=True)
#     l2 = [((x + C23) if (-0.891 > -0.781) else (x + C23))]
#     i0 = 0
#     while ((-0.627 < np.mean((l2[0] * float(2))) <= 0.372) and (0.870 > np.mean(np.tanh(l2[0])) > -0.269) and ((x * 1) < max((x * C3)))) and i0 < 2:
#         i0 += 1
#         v1 = ((0.574 * v1) + np.sin(x))
#         i1 = 0
#         while i1 < 3:
#             i1 += 1
#             v1 = np.tanh(((1.0 + (np.tanh(v1) * np.tanh(v1))) ** -2))
#             x = ((0.243 * x) + np.sin((-x)))
#             v1 = ((0.258 * v1) + np.sin(min(-0.900, x)))
#         l2 = l2 + [((v1 + C23) - (x * C23))]
#     return ((x * C3) if (np.mean((v1 * C23)) > 0.917) else (x + C3))
# 
# 
# @doubled
# def h1(x):
#     v5 = min((x / (1.5 + np.cos(x))), x)
#     def inner6(a7):
#         pass
#         return (((C21 if ((np.mean(C3) < 0.011) and ((0.967 < -0.475) or (np.sum(C3) < 0.643))) else C21) * (a7 * 0.5)) + (0.5 * np.sin(x)))
#     return x
# 
# 
# def h2(x):
#     v8 = np.where((0.332 < 0.317), -0.650, 0.642)
#     l9 = [(np.tanh(x) ** 3)]
#     x = x
#     return x
# 
# 
# def h3(x):
#     v10 = sg.stop_gradient(np.cos(C21))
#     l11 = [sg.stop_gradient(x)]
#     v12 = h1(-0.236)
#     return (0.3 * sum((v12 + C3)))
# 
# 
# def f(px, y, z):
#     y = ((0.656 * y) + np.sin(np.maximum(z, px['b'])))
#     for k13, v_ in px.items():
#         z = ((0.5 * z) + np.sum(np.sin(v_)))
#     v14 = (np.sum((px['b'] + C21)) + ((1.0 + (np.tanh(px['b']) * np.tanh(px['b']))) ** 0.5))
#     return (np.tanh(z) ** 2)
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw179.py #357>", line 6, in f_grad
#     z = 0.5 * z + np.sum(np.sin(items[i][1]))
#                                 ~~~~~^^^
# TypeError: 'dict_items' object is not subscriptable
