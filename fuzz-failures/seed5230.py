# seed 5230 (nested=True, off=int): internal: TypeError: list indices must be integers or slices, not str
# grad_position=(1, 0)  float32=False
# args=(array([ 0.28226624, -0.49914475, -1.19637702]), array(-0.1450735))
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
#     v1 = -0.267
#     inner2 = lambda a3: ((0.5 * sum((a3 + C23))) + (0.5 * np.sin(v1)))
#     l4 = (((x * C23) if ((np.sum((v1 + C23)) > 0.978) and (v1 < -0.683)) else (v1 + C23)),) + (((v1 + C23) + 0.5), np.tanh(((x * C23) if ((np.sum((v1 + C23)) > 0.978) and (v1 < -0.683)) else (v1 + C23))))
#     if ((np.mean(np.maximum((x + C23), 0.552)) > -0.884) and (((0.300 * float(2)) > 0.655) and (-0.414 < np.mean(np.tanh(x)) <= 0.175))):
#         return sg.stop_gradient((v1 * C21))
#     return np.sum((x * C23), axis=1, keepdims=True)
# 
# 
# def h1(x, y):
#     v5 = h0(np.cos(y))
#     y = np.tanh(np.maximum(y, -0.831))
#     inner6 = lambda a7: ((C23 if ((not (np.sum(a7) < -0.804)) or (-0.497 > -0.478 > -0.909)) else C23) + (0.5 * np.sin(x)))
#     l8 = ((x * C23),) + (np.maximum((v5 * C23), C23), np.tanh((x * C23)))
#     if ((np.mean((y / (1.5 + np.cos(x)))) > 0.056) and ((-0.974 < np.cos(0.411)) and (-0.341 < np.mean((x * C23)) <= 0.797))):
#         return np.tanh(y)
#     return np.sin(y)
# 
# 
# @logged
# def h2(x, y):
#     v9 = h1(abs(C3), (C3 - -0.867))
#     v10 = (y[:, 1:2] + 1)
#     inner11 = lambda a12: ((abs(C21) * a12) + (0.5 * np.sin(v10)))
#     l13 = [np.where((v10 > 0.112), v10, v10)] + [inner11(C21)]
#     return (v9 - v9), (-0.463 * -0.996)
# 
# 
# def h3(x):
#     v14 = np.cos((x * C23))
#     x = np.tanh(np.mean(v14, axis=0))
#     for i0 in range(3):
#         if ((not (np.mean((C21 * np.tanh((0.140 * i0)))) > -0.740)) and (np.sum((C21 + 2)) < 0.801)):
#             continue
#         v14 = v14
#         if (x[2] > 0.776):
#             continue
#     return v14
# 
# 
# def f(x, y):
#     d15 = {'b': ((y + C23) / (1.0 + (-0.684 * -0.684))), 'w': np.maximum((x + C23), (y * C21))}
#     def inner16(a17):
#         pass
#         return (a17 + (0.5 * np.sin(y)))
#     for i0 in range(3):
#         if ((np.where((y > 0.435), y, y) > np.exp(np.tanh(y))) and ((y + 2) > (y / (1.0 + (y * y))))):
#             d15['w'] = np.tanh((d15['b'] if ((not (np.sum((y * C21)) > -0.280)) or (np.mean((y + C21)) < 0.931)) else d15['w']))
#             for k18, v_ in d15.items():
#                 y = ((0.5 * y) + np.sum(np.sin(v_)))
#             y = (y)
#         elif ((np.mean(d15['w'][:, 2:3]) > -0.318) and (np.sum((C3 * x)) < 0.530) and (y < -0.412)):
#             x = np.tanh(np.cos(x))
#             y = (y)
#         elif ((np.sum(h3(x)) > 0.368) and (inner16(y) < -0.404)):
#             y = y
#             if (inner16(y) >= ((0.100 * i0) / (1.0 + ((0.171 * i0) * (0.171 * i0))))):
#                 return np.mean(d15['b'], axis=1, keepdims=True)
#             d15['b'] = np.tanh(((1.0 + (np.tanh(d15['w']) * np.tanh(d15['w']))) ** -1))
#         elif (np.sum((x + d15['w'])) > -0.606):
#             if (not (np.sum((0.5 * sum(d15['w']))) > 0.047)):
#                 return ((y * C21) + (y + C21))
#             if (-0.275 > np.mean((y + C21)) > -0.990):
#                 return ((y * C21) + (y * C21))
#         else:
#             d15['w'] = np.tanh(((1.0 + (np.cos((x + C23)) * np.cos((x + C23)))) ** 0.5))
#             d15['w'] = ((0.311 * d15['w']) + np.sin(d15['b']))
#         d15['w'] = np.tanh((-d15['w']))
#     v19 = (x + 0.5)
#     if (np.mean(np.mean(d15['b'], axis=0)) < 0.849):
#         d15['w'] = ((0.601 * d15['w']) + np.sin((y + C21)))
#         if ((-0.501 > np.mean(((y * C21) * 1)) > -0.802) and (np.mean(((y + C21) + 0.5)) > 0.084) and (np.sum(np.mean(d15['w'], axis=0)) > 0.845)):
#             return sg.stop_gradient((y + C21))
#     elif (np.sum(((y + C23) + d15['w'])) < 0.969):
#         v19, x = x, v19
#         v19 = (v19)
#         for i0 in range(4):
#             if ((y - y) >= (y + y)):
#                 return abs((y + C21))
#             y = (y)
#             y = (y)
#     elif ((np.sum(np.abs(x)) > -0.478) and (inner16(0.261) > 0.752)):
#         x = x
#     elif ((-0.963 < np.mean(((y * C21) - y)) <= -0.416) or ((np.mean(d15['w']) > 0.897) and (np.where((0.036 > 0.114), y, y) > 0.250))):
#         d15['w'] = ((0.557 * d15['w']) + np.sin((0.5 * sum((x * C23)))))
#         v19 = ((0.333 * v19) + np.sin((0.5 * apply_twice(inner16, y))))
#         d15['w'] = ((0.299 * d15['w']) + np.sin((np.cos(d15['w']) ** 2)))
#     else:
#         v19 = ((0.444 * v19) + np.sin(inner16(y)))
#         if ((inner16(y) <= sg.stop_gradient(0.602)) and (np.mean(((1.0 + (np.sin(d15['w']) * np.sin(d15['w']))) ** 0.5)) < 0.082) and (np.mean(np.tanh(C3)) > 0.546)):
#             return (y + C21)
#     return ((1.0 + (np.cos((y + C21)) * np.cos((y + C21)))) ** -1)
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw230.py #464>", line 429, in f_grad
#     d15 = restore_item(d15, 'w', d15_old_5, copies)
#           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/runtime.py", line 263, in restore_item
#     y[index] = old
#     ~^^^^^^^
# TypeError: list indices must be integers or slices, not str
