# seed 5086 (nested=True, off=int): internal: KeyError: #
# grad_position=(1, 0)  float32=False
# args=({'w': array([-0.03570593, -1.0403461 , -0.51573783]), 'b': 0.3260322987691522}, array([[ 0.32734783, -1.16976918, -0.03292254],        [-0.46247643,  1.04103537, -0.1236627 ]]), 0.8275666146409322)
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
#     v1 = np.sum((np.tanh((x * C23)) ** 3), axis=-1, keepdims=True)
#     inner2 = lambda a3: (sg.stop_gradient(np.log((2.0 + np.cos(a3)))) + (0.5 * np.sin(v1)))
#     l4 = (np.log((2.0 + np.cos((v1 + C23)))),) + (np.tanh((v1 * C23)), np.tanh(np.log((2.0 + np.cos((v1 + C23))))))
#     if ((np.sum(((x * C3) - (x * C3))) < 0.116) and (x <= sg.stop_gradient(x))):
#         v1 = v1
#         v1 *= np.cos((x - x))
#     else:
#         if (np.mean(np.minimum((x * C23), x)) > -0.270):
#             return (x + x)
#         v1 *= np.cos((x - x))
#         x = x
#     return x
# 
# 
# def f(px, y, z):
#     v5 = (sg.stop_gradient((px['b'] * C21)) if ((np.mean(np.minimum(y, (z + C21))) < -0.187) and (1.461 > np.sum(((px['b'] * C23) * np.tanh(px['w']))) > 0.270)) else np.where(((px['b'] * C21) < 0.095), (px['b'] + C21), z))
#     for k6 in px:
#         z = ((0.5 * z) + np.sum(np.sin(px[k6])))
#     v7 = (np.minimum(px['w'], C3) - abs(px['w']))
#     v5 = ((0.358 * v5) + np.sin(sg.stop_gradient(px['b'])))
#     v8 = np.cos(px['w'])
#     v9 = np.where((v8 > -0.387), px['w'], v8)
#     return np.tanh(y)
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw86.py #170>", line 6, in f_grad
#     z = 0.5 * z + np.sum(np.sin(px[px_old[i]]))
#                                    ~~~~~~^^^
# KeyError: 0
