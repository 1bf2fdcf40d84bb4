"""Every annotation a stage may put on a tree node, in one table.

Stages talk to later stages through the tree itself: a normalized statement
remembers the user's statement it came from, the reverse stage marks the
pushes and pops of its stack, the assembler marks the user's own forward
statements so the optimizer keeps their meaning.  Each such fact is an
annotation declared below -- which node carries it, which stage sets it,
which reads it -- and is read and written only through :func:`setanno`,
:func:`getanno` and :func:`copyanno` (a test checks that no module sets a
node attribute of its own).

Annotations are stored as attributes named ``sg_<key>``, so ``copy.copy`` of a
node carries them and ``astutil.copy_tree`` (which rebuilds nodes) does not.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Annotation:
    key: str
    on: str        # which nodes carry it
    set_by: str    # the stage (module) that sets it
    read_by: str   # the stages that read it
    meaning: str


ANNOTATIONS = {a.key: a for a in (
    Annotation("origin", "statement", "normalize", "reverse, pipeline, refusals",
               "the user's statement this normalized statement was made from: the "
               "comments heading the backward blocks and the positions of errors"),
    Annotation("nested_name", "Lambda", "normalize", "activity",
               "the name of the nested def this lambda was written back from (a def "
               "used as a value), for the refusal's message"),
    Annotation("runtime", "Name", "normalize, pipeline", "pipeline, reverse",
               "the sourcegrad.runtime helper this name refers to, or the value of a "
               "parameter's default (pipeline.actual_defaults): the pipeline binds "
               "the name to it in the generated code's environment"),
    Annotation("guards", "FunctionDef", "normalize", "pipeline",
               "(namespace, name, mode, object) for each module name an inlined "
               "function of yours read (closures): the derivative stays valid while "
               "each name still denotes that object (mode 'is') or one of that type"),
    Annotation("copy_first", "AugAssign", "normalize", "normalize",
               "an in-place update of a value that may alias an input: copy it first"),
    Annotation("note", "Expr", "reverse", "codegen, optimize, reverse",
               "a comment, not code: codegen prints its string as '# text'"),
    Annotation("pure", "statement", "reverse, optimize.specialize", "optimize.simplify",
               "only binds names: dead-code elimination may drop it when nothing "
               "reads them"),
    Annotation("push", "Expr", "reverse", "optimize.saves",
               "saves the named value on the stack (value: the name)"),
    Annotation("pop", "Assign", "reverse", "optimize.saves, optimize.simplify",
               "restores the named value from the stack (value: the name)"),
    Annotation("restore", "Assign", "reverse", "optimize.saves",
               "restores items of the named array overwritten by a write into it "
               "(value: the name); its pair is the save of those items"),
    Annotation("pair", "statement", "reverse", "optimize.saves",
               "a push and the pop that restores it share this number, as do an "
               "item's save and restore: the pair is dropped together when nothing "
               "reads the value after the pop or restore"),
    Annotation("primal", "Assign", "assemble, tangents", "optimize.simplify",
               "a statement of the user's forward sweep: the optimizer keeps its "
               "semantics (no algebraic identities that would alias a user's array)"),
    Annotation("backward", "For", "reverse", "optimize.simplify",
               "a loop of the backward sweep: dropped when its body is empty"),
    Annotation("tangent", "expression", "tangents", "tangents",
               "forward mode over a basis: a primal expression that is a tangent "
               "(x1.T for x1 @ x): reassociate gathers the primal factors around it"),
    Annotation("operand", "expression", "optimize.simplify", "optimize.simplify",
               "an operand of arithmetic or of an elementwise call: a new array is "
               "made around it, so identities such as 1.0 * e -> e are safe"),
)}

_PREFIX = "sg_"


_ATTRS = {key: _PREFIX + key for key in ANNOTATIONS}  # key -> the attribute holding it


def _attr(key: str) -> str:
    try:
        return _ATTRS[key]
    except KeyError:
        raise KeyError(f"undeclared annotation {key!r}: declare it in "
                       f"sourcegrad.annotations") from None


def setanno(node, key: str, value=True):
    """Annotate ``node`` with ``key`` (declared above); returns ``node``."""
    try:
        setattr(node, _ATTRS[key], value)
    except KeyError:
        setattr(node, _attr(key), value)
    return node


def getanno(node, key: str, default=None):
    """``node``'s annotation ``key``, or ``default``."""
    try:
        return getattr(node, _ATTRS[key], default)
    except KeyError:
        return getattr(node, _attr(key), default)


def copyanno(source, target, key: str):
    """Give ``target`` ``source``'s annotation ``key`` (or none, if it has none)."""
    attr = _attr(key)
    if hasattr(source, attr):
        setattr(target, attr, getattr(source, attr))
    elif hasattr(target, attr):
        delattr(target, attr)
