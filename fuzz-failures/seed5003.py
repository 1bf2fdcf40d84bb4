# seed 5003 (nested=True, off=int): internal: KeyError: #
# grad_position=2  float32=False
# args=(-0.6555072256705085, {'w': array([ 1.00903221,  0.55927341, -0.17736364]), 'b': -0.5232400122618376}, [array([-0.27511433,  1.14693759, -0.71231555]), array([-0.36147861, -0.0747793 ,  0.39202817])])
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
# def f(x, py, z):
#     i0 = 0
#     while i0 < 2:
#         i0 += 1
#         z = (z)
#     x = (x)
#     i0 = 0
#     while i0 < 2 and (-0.659 < np.sum((0.5 * sum((x * C23)))) <= 0.051):
#         i0 += 1
#         for k1 in py:
#             x = ((0.5 * x) + np.sum(np.sin(py[k1])))
#     if ((1.202 > np.sum(sg.stop_gradient(py['w'])) > 0.162) or ((np.sum(np.sum((py['w'] + C23), axis=0)) < -0.658) or (np.sum((py['b'] + C3)) > -0.650))):
#         x = np.tanh((py['b'] - x))
#         x = ((0.264 * x) + np.sin((py['b'] if ((np.sum((py['w'] * C23)) < 0.854) and (np.sum((x * C23)) > -0.621)) else x)))
#         if ((np.sum(abs((py['w'] * C23))) > -0.442) and ((x + x) < -0.131)):
#             return py['w'], py['w'], (x + C23)
#     elif (np.sum((np.sin((py['w'] * C23)) ** 3)) < -0.969):
#         x = np.tanh((x - py['b']))
#         x = x
#         z = z
#     elif ((np.sum(np.maximum((py['b'] * C21), py['b'])) < -0.258) or ((-0.818 < np.sum((py['b'] + C23)) <= 0.083) or (np.mean((py['b'] + C21)) < -0.886))):
#         if ((not ((np.cos(x) ** 3) > -0.542)) and ((py['b'] * 2) <= (-py['b']))):
#             return z[-1], py['w'], (x + C23)
#         x = np.tanh((0.3 * sum(py['w'])))
#         for k2 in py.values():
#             x = ((0.5 * x) + np.sum(np.sin(k2)))
#     if (not (0.111 > np.sum(np.cos(py['w'])) > -0.296)):
#         if ((np.cos(py['b']) < -0.798) and (np.mean(((py['b'] * C23) * float(2))) > -0.727)):
#             x *= np.cos(sg.stop_gradient(x))
#         else:
#             z = z
#             if ((np.mean(((x + C21) / (1.5 + np.cos(x)))) < 0.096) or (((0.3 * sum(z[0])) > -0.340) and (0.756 > (0.518 / (1.0 + (0.164 * 0.164))) > 0.004))):
#                 return np.where((py['w'] < 0.382), py['w'], py['w']), py['w'], np.minimum((py['b'] + C23), 0.696)
#             x = np.tanh(np.exp(np.sin(x)))
#         x = ((0.389 * x) + np.sin((0.273 if ((1.701 > np.sum(z[-1]) > 0.536) and ((np.mean((py['b'] + C21)) < 0.082) or (-0.710 < np.sum(py['w']) <= -0.175))) else py['b'])))
#     return np.where((py['b'] < -0.421), py['w'], x), py['w'], np.where(((x + C23) > -0.249), (py['w'] * C23), (py['w'] * C23))
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw3.py #5>", line 43, in f_grad
#     x = 0.5 * x + np.sum(np.sin(py[py_old[i]]))
#                                    ~~~~~~^^^
# KeyError: 0
