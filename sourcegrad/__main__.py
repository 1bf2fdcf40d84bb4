"""The command line: print (or export) the derivative sourcegrad writes for a function.

    python -m sourcegrad show path/to/file.py:function [--wrt 0,1] [--value]
                              [--shapes '(5,)' '(5, 3)'] [--dtype float32]
                              [--no-comments] [--export FILE]
    python -m sourcegrad show package.module:function ...

The target is a file path or an importable module name, a colon, and the
function's name (``Class.method`` for a method).  ``--wrt`` takes the
positions to differentiate with respect to (``0`` gives one gradient, ``0,1``
a tuple, as ``grad_position`` does).  Without ``--shapes`` the general
derivative is shown; with it, the function is called once on example
arguments -- a tuple is an array of that shape (values drawn uniformly from
[0.5, 1.5), seed 0), a number is passed as it is -- and the derivative
specialised to those shapes is shown.  ``--export FILE`` also writes the
derivative as a standalone module that needs only NumPy (see
``sourcegrad.export``).

Exit status: 0 on success, 2 for a bad command line or target, 1 when the
function cannot be differentiated (the message says why).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import os
import sys

import sourcegrad as sg


class _Usage(Exception):
    """A bad command line or target: exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sourcegrad",
        description="Print the derivative sourcegrad generates for a Python function.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    show = sub.add_parser(
        "show", help="print the derivative's source",
        description="Print the derivative's source (and optionally export it).")
    show.add_argument("target", help="path/to/file.py:function or package.module:function")
    show.add_argument("--wrt", default="0", metavar="POSITIONS",
                      help="positions to differentiate with respect to: 0 (one gradient) "
                           "or 0,1 (a tuple); default 0")
    show.add_argument("--value", action="store_true",
                      help="value_and_grad instead of grad")
    show.add_argument("--has-aux", action="store_true",
                      help="differentiate only the first output (has_aux=True)")
    show.add_argument("--shapes", nargs="+", metavar="SHAPE",
                      help="example arguments: a tuple is an array of that shape, a number "
                           "is passed as is; e.g. --shapes '(5,)' '(5, 3)' 2")
    show.add_argument("--dtype", default="float64",
                      help="dtype of the example arrays (default float64)")
    show.add_argument("--no-comments", action="store_true",
                      help="leave out the comments naming the line each block differentiates")
    show.add_argument("--export", metavar="FILE",
                      help="also write the derivative as a standalone module (NumPy only)")
    return parser


def _load_target(target: str):
    """The function named by ``path.py:name`` or ``module:name``."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise _Usage(f"target {target!r} must look like path/to/file.py:function or "
                     f"package.module:function")
    if where.endswith(".py") or os.sep in where or (os.altsep and os.altsep in where):
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise _Usage(f"no such file: {where}")
        modname = os.path.splitext(os.path.basename(path))[0]
        if not modname.isidentifier():
            modname = "_sourcegrad_target"
        sys.path.insert(0, os.path.dirname(path))  # so it can import its neighbours
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        try:
            spec.loader.exec_module(module)
        except SystemExit:
            raise _Usage(f"{where} exited while being imported") from None
        except BaseException as exc:
            sys.modules.pop(modname, None)
            raise _Usage(f"importing {where} failed: {type(exc).__name__}: {exc}") from None
    else:
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise _Usage(f"cannot import module {where!r}: {exc}") from None
        except BaseException as exc:
            raise _Usage(f"importing {where} failed: {type(exc).__name__}: {exc}") from None
    obj = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            defined = sorted(n for n, v in vars(module).items()
                             if callable(v) and not n.startswith("_")
                             and getattr(v, "__module__", None) == module.__name__)
            hint = f"; it defines: {', '.join(defined)}" if defined else ""
            raise _Usage(f"{where} has no attribute {name!r}{hint}") from None
    if not callable(obj):
        raise _Usage(f"{target} is a {type(obj).__name__}, not a function")
    return obj


def _positions(text: str):
    try:
        parts = [int(p) for p in text.replace(" ", "").split(",") if p != ""]
    except ValueError:
        raise _Usage(f"--wrt {text!r}: expected positions such as 0 or 0,1") from None
    if not parts:
        raise _Usage(f"--wrt {text!r}: expected positions such as 0 or 0,1")
    if len(parts) == 1 and "," not in text:
        return parts[0]
    return tuple(parts)


def _examples(items, dtype):
    import numpy as np
    text = ", ".join(items)
    try:
        values = ast.literal_eval("[" + text + "]")
    except (ValueError, SyntaxError):
        raise _Usage(f"--shapes {' '.join(items)!r}: expected shapes such as '(5,)' "
                     f"'(5, 3)' or numbers") from None
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise _Usage(f"--dtype {dtype!r} is not a NumPy dtype") from None
    rng = np.random.default_rng(0)
    args = []
    for v in values:
        if isinstance(v, tuple) and all(isinstance(n, int) and n >= 0 for n in v):
            args.append(rng.uniform(0.5, 1.5, size=v).astype(dtype))
        elif isinstance(v, (int, float, bool, complex, str)) or v is None:
            args.append(v)
        else:
            raise _Usage(f"--shapes: {v!r} is neither a shape (a tuple of ints) nor a number")
    return args


def main(argv=None) -> int:
    parser = _parser()
    opts = parser.parse_args(argv)
    try:
        return _show(opts)
    except _Usage as exc:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2


def _show(opts) -> int:
    fn = _load_target(opts.target)
    wrt = _positions(opts.wrt)
    args = _examples(opts.shapes, opts.dtype) if opts.shapes else None
    make = sg.value_and_grad if opts.value else sg.grad
    try:
        g = make(fn, wrt, has_aux=opts.has_aux)
    except (TypeError, ValueError) as exc:
        raise _Usage(str(exc)) from None
    try:
        if args is not None:
            g(*args)
        text = g.source(comments=not opts.no_comments)
    except sg.SourcegradError as exc:
        print(f"sourcegrad: cannot differentiate {opts.target}:\n{exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"sourcegrad: calling {opts.target} on the example arguments failed: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(text.rstrip("\n"))
    if opts.export:
        try:
            sg.export(g, opts.export, *(args or ()))
        except (ValueError, OSError) as exc:
            print(f"sourcegrad: export failed: {exc}", file=sys.stderr)
            return 1
        print(f"sourcegrad: wrote {opts.export}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
