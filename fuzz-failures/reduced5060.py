# seed 5060: wrong gradient
# autograd agrees with finite differences (position 0)
# position 0:
#   sourcegrad: 0.0
#   numeric:    array(1.)
import functools
import numpy as np
import sourcegrad as sg

def f(x, y):
    return x
