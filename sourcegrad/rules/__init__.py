"""Derivative rules, one module per family: operators, NumPy, sourcegrad.ops, runtime."""
