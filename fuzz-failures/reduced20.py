# seed 20: internal: AttributeError: 'NoneType' object has no attribute 'values'
# Traceback (most recent call last):
#   File "/work/wt/dicts/tests/fuzzcheck.py", line 310, in judge
#     value, got2 = sg.value_and_grad(mod.f, positions)(*copy_args(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#   File "/work/wt/dicts/sourcegrad/api.py", line 436, in __call__
#     res = f(*args, **kwargs)
#           ^^^^^^^^^^^^^^^^^^
#   File "<sourcegrad: f_grad from /tmp/sgfuzz36hnb9k7/fw83.py #57>", line 9, in f_grad
#     dict_values_out = dict_values(d8_1)
#                       ^^^^^^^^^^^^^^^^^
#   File "/work/wt/dicts/sourcegrad/runtime.py", line 536, in dict_values
#     return list(mapping.values()) if isinstance(mapping, dict) else mapping.values()
#                                                                     ^^^^^^^^^^^^^^
# AttributeError: 'NoneType' object has no attribute 'values'
import functools
import numpy as np
import sourcegrad as sg

def f(x, y):
    d8 = {'s': x, 'a': x, 'b': x}
    if not 0.416:
        d8['a'] = x
    else:
        for k10 in d8.values():
            pass
    return d8['a']
