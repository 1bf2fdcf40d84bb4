"""astutil's tree conversions build exactly the trees gast's own do.

Every node is compared by class and by its whole ``__dict__`` (fields and
location attributes, including which are present), both directions and the
round trip (gast's tree converted back), over sourcegrad's own modules, these tests, a sample of the
standard library and snippets of every kind of syntax the running Python has.
"""
import ast
import asyncio.tasks
import dataclasses
import inspect
import pathlib
import sys
import textwrap
import warnings

import gast
import pytest

import sourcegrad
from sourcegrad import astutil

ROOT = pathlib.Path(sourcegrad.__file__).parent
OWN_FILES = sorted(ROOT.rglob("*.py")) + sorted(pathlib.Path(__file__).parent.glob("*.py"))

STDLIB_MODULES = [ast, dataclasses, textwrap, asyncio.tasks]

SNIPPETS = [
    """
    import os, sys as system
    from . import a as b, c
    from ..pkg.mod import *
    x: int = 1
    y: "list[int]"
    a, *rest = b[1:2, ::3, ...], -c
    del a[0], b.c
    x += 1; x @= m; x //= 2
    assert x, "msg"
    global g
    print(f"{x!r:>{width}} {y=}", *args, sep="", **kw)
    z = lambda a, /, b=1, *c, d, e=2, **f: (a, b, c, d, e, f)
    w = {k: v for k, v in d.items() if k if v}, {*s}, [i async for i in ai], (i for i in r)
    if (n := len(a)) > 10 or not a and b is not None: pass
    elif a < b <= c != d in e not in f: raise ValueError() from None
    else: ...
    """,
    """
    @decorator(1)
    class C(Base, metaclass=Meta, **kw):
        '''doc'''
        attr: int = 0

        def method(self, a: int, /, b: str = "s", *args: int, key: bool = False,
                   **kwargs) -> None:
            nonlocal_free = 1
            def inner():
                nonlocal nonlocal_free
                return nonlocal_free
            yield from inner()
            yield

        async def amethod(self):
            async with a as (b, c), d:
                async for x in y:
                    await x
                else:
                    return
    """,
    """
    try:
        pass
    except ValueError as e:
        raise
    except (TypeError, KeyError):
        pass
    except:
        pass
    else:
        x = 1
    finally:
        y = 2
    while True:
        break
    else:
        continue
    for i, (j, k) in enumerate(z): pass
    with open(f) as fh, lock:
        s = b"bytes" + u"text" + r"\\raw" + 0x1F * 1e3 * 2j
    """,
]
if sys.version_info >= (3, 10):
    SNIPPETS.append("""
    match command.split():
        case [action]: pass
        case [action, obj, *rest]: pass
        case Point(x=0, y=0) | Point(1, 2) as p if p: pass
        case {"x": x, "y": 1, **others}: pass
        case {**others}: pass
        case [1, 2, *_]: pass
        case None | True | -1 | 1+2j | "s" | a.b: pass
        case _: pass
    """)
if sys.version_info >= (3, 11):
    SNIPPETS.append("""
    try:
        pass
    except* ValueError as eg:
        pass
    except* TypeError:
        pass
    """)
if sys.version_info >= (3, 12):
    SNIPPETS.append("""
    type Alias[T] = list[T]
    type Plain = int
    def f[T: int, *Ts, **P](x: T) -> T: pass
    async def g[T](x: T) -> T: pass
    class C[T: (int, str), *Ts, **P]: pass
    """)
if sys.version_info >= (3, 13):
    SNIPPETS.append("""
    def f[T = int, *Ts = *tuple[int], **P = [int]](): pass
    type A[T: int = bool] = T
    """)


def assert_same(expected, got, path="tree"):
    """The two trees are equal node for node: class, fields and attributes."""
    assert type(got) is type(expected), f"{path}: {type(got)} is not {type(expected)}"
    if isinstance(expected, ast.AST):
        want, have = vars(expected), vars(got)
        assert have.keys() == want.keys(), f"{path}: {sorted(have)} != {sorted(want)}"
        for key, value in want.items():
            assert_same(value, have[key], f"{path}.{type(expected).__name__}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), f"{path}: length"
        for i, (e, g) in enumerate(zip(expected, got)):
            assert_same(e, g, f"{path}[{i}]")
    else:
        assert got == expected, f"{path}: {got!r} != {expected!r}"


def assert_new_nodes(result, source):
    """No node of ``result`` is a node of ``source`` (ast shares operator
    singletons; gast makes a node for each)."""
    seen = {id(n) for n in ast.walk(source)}
    nodes = list(ast.walk(result))
    assert not any(id(n) in seen for n in nodes)
    assert len({id(n) for n in nodes}) == len(nodes)


def check(tree):
    """Both directions and the round trip against gast, for an ``ast`` tree."""
    expected = gast.ast_to_gast(tree)
    ours = astutil.ast_to_gast(tree)
    assert_same(expected, ours)
    assert_new_nodes(ours, tree)
    back = astutil.gast_to_ast(expected)
    assert_same(gast.gast_to_ast(expected), back)
    assert_new_nodes(back, expected)


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.name)
def test_own_sources(path):
    check(ast.parse(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("module", STDLIB_MODULES, ids=lambda m: m.__name__)
def test_stdlib_sample(module):
    check(ast.parse(inspect.getsource(module)))


@pytest.mark.parametrize("source", SNIPPETS)
def test_snippets(source):
    source = textwrap.dedent(source)
    check(ast.parse(source))
    assert_same(gast.parse(source), astutil.parse(source))


def test_type_comments():
    tree = ast.parse("def f(a,  # type: int\n      ):\n    # type: (...) -> None\n"
                     "    x = 1  # type: int\n    for i in y:  # type: int\n"
                     "        pass\nimport x  # type: ignore\n", type_comments=True)
    check(tree)


def test_built_trees():
    """Trees made by hand, as the transformation makes them: no locations,
    ``None`` locations, parameters without annotations."""
    x = gast.Name("x", gast.Load(), None, None)
    param = gast.Name("p", gast.Param(), None, None)
    assign = gast.Assign([gast.Name("y", gast.Store(), None, None)],
                         gast.BinOp(x, gast.Add(), gast.Constant(1, None)), None)
    assign.lineno = assign.col_offset = None
    ret = gast.Return(gast.Call(gast.Attribute(x, "f", gast.Load()), [], []))
    gast.copy_location(ret, ast.parse("return 1").body[0])
    handler = gast.ExceptHandler(None, gast.Name("e", gast.Store(), None, None), [gast.Pass()])
    fdef = gast.FunctionDef(
        "f", gast.arguments([param], [], None, [], [], None, []),
        [assign, gast.Try([ret], [handler], [], []), gast.Expr(gast.Constant(None, None))],
        [], None, None, [])
    module = gast.Module([fdef], [])
    assert_same(gast.gast_to_ast(module), astutil.gast_to_ast(module))


def test_missing_field():
    """A field left out is left out, or filled in as Python 3.13's constructors do."""
    call = gast.Call(func=gast.Name("f", gast.Load(), None, None), args=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(gast.gast_to_ast(call), astutil.gast_to_ast(call))
    assert_same(gast.ast_to_gast(ast.Call(func=ast.Name("f", ast.Load()), args=[])),
                astutil.ast_to_gast(ast.Call(func=ast.Name("f", ast.Load()), args=[])))


def _source_trees():
    yield from (astutil.parse(p.read_text(encoding="utf-8")) for p in OWN_FILES)
    yield from (astutil.parse(textwrap.dedent(s)) for s in SNIPPETS)


def test_walk_names_statements():
    """``walk`` yields what ``gast.walk`` yields, in its order; ``name_nodes`` the
    ``Name`` nodes among them (annotated parameters' annotations included), in
    the same order; ``statements`` (and ``statement_list``) every statement, in
    program order."""
    for tree in _source_trees():
        expected = list(gast.walk(tree))
        assert [id(n) for n in astutil.walk(tree)] == [id(n) for n in expected]
        assert [id(n) for n in astutil.name_nodes(tree)] == \
            [id(n) for n in expected if isinstance(n, gast.Name)]
        assert [id(n) for n in astutil.node_list(tree)] == \
            [id(n) for n in astutil.nodes(tree)]
        assert [id(n) for n in astutil.nodes(tree)] == [
            id(n) for n in expected
            if not isinstance(n, (gast.expr_context, gast.operator, gast.unaryop,
                                  gast.cmpop, gast.boolop))]
        for st in astutil.statements(tree.body):  # (most without an annotated name)
            assert [id(n) for n in astutil.name_list(st)] == \
                [id(n) for n in gast.walk(st) if isinstance(n, gast.Name)]
        in_order = sorted((n for n in expected if isinstance(n, gast.stmt)),
                          key=lambda n: (n.lineno, n.col_offset))
        assert [id(n) for n in astutil.statements(tree.body)] == [id(n) for n in in_order]
        for body in [tree.body] + [n.body for n in in_order if isinstance(n, gast.FunctionDef)]:
            # (a module's body holds blocks; many function bodies do not)
            assert [id(n) for n in astutil.statement_list(body)] == \
                [id(n) for n in astutil.statements(body)]


def test_conversion_to_print():
    """``gast_to_ast(tree, locations=False)`` is the same tree without a single
    location attribute: what codegen prints."""
    for tree in _source_trees():
        full = astutil.gast_to_ast(tree)
        bare = astutil.gast_to_ast(tree, locations=False)
        assert ast.dump(bare) == ast.dump(full)
        assert not any(a in n.__dict__ for n in ast.walk(bare)
                       for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"))
