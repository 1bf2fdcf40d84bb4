# seed 5249 (nested=True, off=int): internal: TypeError: 'dict_items' object is not subscriptable
# grad_position=(1, 2, 0)  float32=False
# args=([array([ 1.17801844,  0.31960455, -0.89769325]), array([0.42430272, 0.47753319, 0.33747369])], -0.05221836966768656, {'w': array([ 0.19534092, -0.16462063, -1.00565765]), 'b': 1.1938882153373507})
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
# def h0(x):
#     v1 = (x + C23)
#     def inner2(a3):
#         pass
#         return (((a3 + float(2)) / (1.5 + np.cos((0.3 * sum(a3))))) + (0.5 * np.sin(x)))
#     d4 = {'w': np.where((-0.467 < -0.138), x, -0.963)}
#     return np.tanh(C21)
# 
# 
# def h1(x):
#     v5 = ((1.0 + (np.tanh(C3) * np.tanh(C3))) ** -1)
#     return v5, (-x)
# 
# 
# def f(x, y, pz):
#     if ((np.log((2.0 + np.cos(pz['b']))) < -0.420) and (np.mean(np.cos((y * C23))) < -0.281)):
#         x = x
#     elif ((sg.stop_gradient(pz['b']) > (-0.966 * 0.5)) and ((pz['b'] / (1.0 + (pz['b'] * pz['b']))) < 0.261)):
#         if (0.732 > np.sum((-x[1])) > 0.331):
#             if (((0.3 * sum(pz['w'])) > -0.785) or ((pz['w'][0] >= (y + pz['b'])) or (1.205 > np.sum((pz['w'] - pz['w'])) > 0.145))):
#                 return pz['w']
#             x = x
#             y = ((0.277 * y) + np.sin((pz['b'] / (1.0 + (-0.064 * -0.064)))))
#         if (not (np.sum(((y * C21) - (pz['b'] * C23))) < -0.404)):
#             return np.minimum(pz['w'], -0.461)
#     elif (((-0.677 / (1.0 + (y * y))) > np.cos(pz['b'])) and ((pz['b'] - 0.685) > 0.208)):
#         if (np.sum(((y + C21) / (1.5 + np.cos((y * C21))))) < 0.940):
#             if ((not (np.mean(sg.stop_gradient(pz['w'])) < -0.076)) and (max(pz['b'], pz['b']) <= np.sum(x[-1]))):
#                 return pz['w']
#             y = ((0.697 * y) + np.sin(np.tanh(y)))
#             y = ((0.625 * y) + np.sin(np.cos(y)))
#         else:
#             for k6, v_ in pz.items():
#                 y = ((0.5 * y) + np.sum(np.sin(v_)))
#             y = ((0.567 * y) + np.sin(np.where((pz['b'] > -0.067), y, y)))
#         y = (y)
#         if ((np.mean((pz['b'] * C23)) < -0.262) and (y > -0.337)):
#             return np.where((pz['b'] > 0.348), pz['w'], pz['w'])
#     elif (pz['b'] < min(0.450, y)):
#         for i0 in range(3):
#             y -= (0.236 * np.tanh(np.maximum(pz['b'], -0.279)))
#             x = x
#         y *= np.cos(sg.stop_gradient(pz['b']))
#     elif (np.mean((pz['w'] if ((not (0.361 < np.sum((y * C23)) <= 0.796)) or (np.sum((y + C21)) < 0.261)) else pz['w'])) < 0.443):
#         y *= np.cos(np.sin(y))
#         for i0 in range(4):
#             y += (0.475 * np.tanh(np.sin(pz['b'])))
#             y = (y)
#         y -= (0.417 * np.tanh((y if ((0.111 < np.sum(pz['w']) <= 0.857) and (np.mean((pz['b'] * C23)) > -0.178)) else 0.653)))
#     elif ((np.mean((0.5 * sum((y + C23)))) < -0.364) and (np.sum(sg.stop_gradient(pz['w'])) < 0.554)):
#         y += (0.296 * np.tanh(np.where((y < 0.269), y, y)))
#         y = np.tanh(abs(y))
#     else:
#         if (0.025 > np.sum((0.5 * sum((pz['w'] * C23)))) > -0.706):
#             y = np.tanh(np.tanh(y))
#             y = y
#             x = x
#         elif ((np.mean(np.minimum(x[-1], pz['w'])) > 0.722) or (-0.622 < np.mean(np.tanh((pz['w'] * C23))) <= 0.078) or ((np.tanh(pz['b']) ** 3) < -0.074)):
#             y = np.tanh(0.395)
#             x = (x)
#         elif (np.sum(np.abs((pz['b'] + C3))) > -0.315):
#             if ((abs(pz['b']) > 0.997) and ((0.288 > np.mean((pz['w'] * C23)) > -0.152) and (np.mean(h0(x[1])) < 0.296))):
#                 return (y * np.tanh(pz['w']))
#         elif (np.sum(np.where((pz['b'] > 0.491), (0.5 * sum(x)), pz['w'])) > -0.329):
#             if (np.mean(np.sin((pz['b'] + C23))) < 0.786):
#                 return np.tanh(pz['w'])
#         else:
#             y = ((0.260 * y) + np.sin(sg.stop_gradient(y)))
#         if ((np.mean(((y * C21) * 1)) < -0.123) and (np.mean((-(pz['b'] * C23))) < -0.204)):
#             return pz['w']
#         x = (x)
#     inner7 = lambda a8: (sg.stop_gradient(np.cos(a8)) + (0.5 * np.sin(y)))
#     if ((-y) >= np.mean((pz['b'] * C23))):
#         y = ((0.297 * y) + np.sin((-y)))
#         if (np.mean(np.sin((pz['w'] + C23))) < -0.000):
#             return (x[-1] + pz['w'])
#         if ((not (np.sum((-(y * C21))) < 0.385)) or (np.sum(np.sin((pz['b'] + C21))) > -0.245)):
#             return pz['w']
#     elif ((-0.910 < np.sum(np.tanh((y * C21))) <= -0.482) and (-0.662 < np.sum((pz['w'] + pz['w'])) <= 0.036) and (np.sum(np.mean((pz['w'] * C23), axis=-1, keepdims=True)) < -0.101)):
#         y = np.tanh((pz['b'] + float(2)))
#     elif (-0.444 < np.sum(inner7((y * C23))) <= 0.439):
#         if ((not (-0.400 < np.sum(h0(pz['w'])) <= 0.068)) and ((pz['b'] * 2) < 0.807)):
#             return pz['w']
#         y = ((0.295 * y) + np.sin(np.mean(pz['w'])))
#     elif ((not ((-pz['b']) < -0.743)) or (np.mean((-pz['w'])) < 0.748)):
#         y = ((0.308 * y) + np.sin((-pz['b'])))
#     elif ((np.sum(x[1]) > 0.136) or ((np.sum((0.5 * apply_twice(inner7, (y * C23)))) > -0.544) or ((y if (-0.491 < 0.559 <= -0.197) else y) < 0.686))):
#         y = ((0.264 * y) + np.sin(np.cos(-0.053)))
#         x = x
#     elif ((not (-0.103 < np.sum(np.mean((pz['w'] * C23), axis=-1, keepdims=True)) <= 0.940)) and (np.sum(((pz['b'] + C21) + float(2))) > -0.468)):
#         y = ((0.550 * y) + np.sin(np.where((pz['b'] < -0.436), y, y)))
#     else:
#         if ((pz['b'] * y) < 0.400):
#             y += (0.456 * np.tanh((0.3 * sum(pz['w']))))
#             x = (x)
#         else:
#             y = ((0.265 * y) + np.sin((y if ((np.sum((y + C21)) > -0.500) and ((-0.322 < np.mean((pz['b'] * C21)) <= 0.827) or (-0.907 < np.sum(pz['w']) <= 0.191))) else y)))
#             if ((np.mean(h0(pz['w'])) < -0.862) and (pz['w'][-1] <= (y / (1.0 + (-0.494 * -0.494))))):
#                 return pz['w'][::-1]
#     if (np.where((0.749 > 0.263), pz['b'], pz['b']) > -0.994):
#         for k9, v_ in pz.items():
#             y = ((0.5 * y) + np.sum(np.sin(v_)))
#     v10 = np.tanh(((pz['b'] + C21) / (1.5 + np.cos((pz['b'] + C21)))))
#     if ((not (np.mean(((pz['b'] + C23) * float(2))) < -0.934)) and ((pz['b'] / (1.0 + (pz['b'] * pz['b']))) > (y / (1.0 + (y * y))))):
#         v10 = ((0.639 * v10) + np.sin((v10 / (1.5 + np.cos(y)))))
#         if ((np.sum(((1.0 + (np.tanh(pz['w']) * np.tanh(pz['w']))) ** -1)) < -0.192) and (np.sum(np.exp(np.sin(v10))) < -0.281)):
#             return pz['w']
#     elif (np.sum(np.sum((y * C23), axis=1, keepdims=True)) > 0.992):
#         if ((np.exp(np.sin(pz['b'])) > 0.721) and (np.sum(np.abs(v10)) > 0.859) and (np.mean((pz['b'] + C23)) <= (y / (1.0 + (y * y))))):
#             return pz['w']
#         if (0.360 > np.mean((0.5 * apply_twice(inner7, (y + C23)))) > -0.658):
#             if (np.mean(np.log((2.0 + np.cos(v10)))) < 0.474):
#                 return pz['w']
#             x = x
#             y = (y)
#     elif ((np.maximum(pz['b'], 0.556) <= (y + pz['b'])) or (np.sum(np.minimum(v10, (y * C21))) < 0.218)):
#         x = x
#         x = x
#         v10 = [v10, 2.0 * v10]
#     return (pz['b'] + x[0])
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw249.py #503>", line 481, in f_grad
#     v_ = items_1[i_1][1]
#          ~~~~~~~^^^^^
# TypeError: 'dict_items' object is not subscriptable
