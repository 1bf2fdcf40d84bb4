# seed 5121 (nested=True, off=int): internal: KeyError: #
# grad_position=(0, 1, 2)  float32=False
# args=({'w': array([-0.45948507, -0.39648325, -0.5238222 ]), 'b': 0.14531409696620323}, array([ 0.18703731,  0.12981126, -0.31355027]), array(0.32275428))
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
# def f(px, y, z):
#     if (sg.stop_gradient(z) < max(px['w'])):
#         i0 = 0
#         while i0 < 2:
#             i0 += 1
#             if (0.296 < np.cos(px['b']) <= 1.029):
#                 continue
#         if ((np.sum(np.tanh((px['b'] * C23))) < 0.605) and ((z * z) < -0.453) and (0.683 > np.sum(((px['b'] + C23) + z)) > 0.227)):
#             if (((0.622 * px['b']) < 0.317) or ((np.mean(np.abs((y * C23))) < -0.099) or (np.mean(np.mean((z * C23), axis=0)) > -0.398))):
#                 return np.where(((px['b'] * C3) > 0.128), px['w'], y)
#             z = np.tanh((px['b'] * float(2)))
#     else:
#         z *= np.cos(np.cos(z))
#         for k1 in px:
#             z = ((0.5 * z) + np.sum(np.sin(px[k1])))
#         for k2 in px:
#             z = ((0.5 * z) + np.sum(np.sin(px[k2])))
#     y = y
#     if ((not ((px['b'] if (np.sum((px['b'] + C21)) > -0.542) else px['b']) < 0.599)) or (np.mean(((z * C21) if (np.sum((z + C23)) > 0.776) else (z * C21))) < -0.025)):
#         return np.where(((z + C3) < 0.401), y, y)
#     v3 = np.where((px['w'] > 0.074), (px['w'] * C23), px['w'])
#     return px['w']
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw121.py #240>", line 62, in f_grad
#     z = 0.5 * z + np.sum(np.sin(px[px_old[i]]))
#                                    ~~~~~~^^^
# KeyError: 0
