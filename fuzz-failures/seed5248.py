# seed 5248 (nested=True, off=int): internal: TypeError: list indices must be integers or slices, not str
# grad_position=(1,)  float32=False
# args=(array([[-0.17210855, -0.50787248, -0.18219983],        [-0.34089954, -0.61141282, -0.75608342]]), array(1.06966349), array([[-0.38024251,  0.23933887, -0.0133375 ],        [-1.01847761, -0.10654758, -0.18178403]]))
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
#     v1 = (-0.908 if ((np.sum(x) > 0.279) and ((np.sum(x) < 0.917) or (np.sum(x) > -0.266))) else 0.448)
#     inner2 = lambda a3: ((np.sum((a3 + C23), axis=1, keepdims=True) * np.tanh((0.251 + -0.561))) + (0.5 * np.sin(v1)))
#     l4 = [(v1 + 0.5)]
#     l5 = l4
#     v6 = inner2(C21)
#     return np.log((2.0 + np.cos(x)))
# 
# 
# @logged
# def f(x, y, z):
#     v7 = np.tanh(x)
#     inner8 = lambda a9: (np.cos(np.cos(a9)) + (0.5 * np.sin(y)))
#     d10 = {'w': (0.5 * apply_twice(inner8, (y + C3))), 's': (-(y + C21)), 'b': v7}
#     if ((y + -0.171) >= (y if ((np.mean(x) > 0.271) and (y < 0.694)) else y)):
#         v7, x = x, v7
#         if (((-y) <= (y - y)) and (np.sum((0.5 * sum(d10['b']))) > -0.624)):
#             return y
#         d10['s'] = np.tanh(abs(d10['s']))
#     l11 = [inner8(d10['w'])] + [(d10['w'] - d10['w'])]
#     if ((np.sum(abs(d10['s'])) > -0.773) and ((1.066 > np.mean(z) > 0.035) or (np.sum((0.5 * apply_twice(inner8, d10['w']))) > 0.711))):
#         d10['b'] = np.tanh(np.sin(d10['b']))
#         x = x[..., None] * C3
#         v7 = [v7, 2.0 * v7]
#     else:
#         l11[0] = (0.5 * apply_twice(inner8, l11[1]))
#         d10['w'] -= (0.270 * np.tanh((y if ((np.sum(d10['b']) < 0.740) and (0.309 > np.mean(d10['s']) > -0.852) and (np.mean(d10['s']) > 0.933)) else y)))
#         l11[1] = inner8(d10['w'])
#     if ((0.728 > np.mean((d10['s'] + y)) > 0.449) and (np.sum(h0(l11[1])) < -0.787)):
#         l11[-1] = inner8(d10['w'])
#         d10['b'] = np.tanh((z if (np.mean((y + C21)) > -0.896) else d10['b']))
#         for k12 in d10.values():
#             y = ((0.5 * y) + np.sum(np.sin(k12)))
#     return y
# Traceback (most recent call last):
#   File "/work/wt/closures/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzztvgpukc0/fw248.py #502>", line 7, in f_grad
#     dargs_1_part = f_bwd(out_saved, dout)[0]
#                    ^^^^^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_fwd from /tmp/sgfuzztvgpukc0/fw248.py #501>", line 217, in f_bwd
#     d10 = restore_item(d10, 'b', d10_old_1, copies)
#           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/closures/sourcegrad/runtime.py", line 263, in restore_item
#     y[index] = old
#     ~^^^^^^^
# TypeError: list indices must be integers or slices, not str
