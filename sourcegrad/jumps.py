"""Part of stage 3 -- lower ``return``/``break``/``continue`` to flags.

Before normalization, every early exit becomes an assignment to a flag, and
the statements it would have skipped are guarded by ``if not flag``::

    for x in xs:                    broke = False
        if f(x) > 0:                for x in xs:
            break          ->           if f(x) > 0:
        y = y + x                           broke = True
                                        if not broke:
                                            y = y + x
                                        if broke:
                                            break

The only ``break`` left is the last statement of a loop body, and the only
``return`` the last statement of the function; the reverse sweep replays the
branches that were taken and the iterations that ran.
"""
from __future__ import annotations

import gast

from sourcegrad.astutil import statements


def _name(n, store=False):
    return gast.Name(id=n, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def _set(n, value, origin):
    node = gast.Assign(targets=[_name(n, True)], value=gast.Constant(value=value, kind=None),
                       type_comment=None)
    return gast.copy_location(node, origin)


def _not(n):
    return gast.UnaryOp(op=gast.Not(), operand=_name(n))


def _has(body, kinds):
    return any(isinstance(s, kinds) for s in statements(body))


class Lowering:
    def __init__(self, namer):
        self.namer = namer
        self.result = None
        self.done = None

    def run(self, fdef):
        body = fdef.body
        final_return = bool(body) and isinstance(body[-1], gast.Return)
        jumps = {type(s) for s in statements(body[:-1] if final_return else body)}
        early = gast.Return in jumps
        loops = gast.Break in jumps or gast.Continue in jumps
        if not early and not loops and not any(
                isinstance(s, (gast.For, gast.While)) and s.orelse for s in statements(body)):
            return fdef
        if early:
            self.result = self.namer.fresh("result")
            self.done = self.namer.fresh("returned")
        new, _ = self.block(body, None)
        if early:
            first = body[0]
            new = [_set(self.result, None, first), _set(self.done, False, first)] + new
            ret = gast.Return(value=_name(self.result))
            new.append(gast.copy_location(ret, body[-1]))
        fdef.body = new
        return fdef

    def block(self, stmts, loop):
        out = []
        for i, s in enumerate(stmts):
            new, flags = self.stmt(s, loop)
            out += new
            if flags and i + 1 < len(stmts):
                rest, more = self.block(stmts[i + 1:], loop)
                if rest:
                    guard = rest
                    for f in sorted(flags):
                        guard = [gast.copy_location(gast.If(test=_not(f), body=guard,
                                                            orelse=[]), stmts[i + 1])]
                    out += guard
                return out, flags | more
            if flags:
                return out, flags
        return out, set()

    def stmt(self, s, loop):
        if isinstance(s, gast.Return):
            if self.result is None:  # the final return of a function without early exits
                return [s], set()
            value = s.value if s.value is not None else gast.Constant(value=None, kind=None)
            assign = gast.copy_location(gast.Assign(targets=[_name(self.result, True)],
                                                    value=value, type_comment=None), s)
            return [assign, _set(self.done, True, s)], {self.done}
        if isinstance(s, gast.Break):
            return [_set(loop[0], True, s)], {loop[0]}
        if isinstance(s, gast.Continue):
            return [_set(loop[1], True, s)], {loop[1]}
        if isinstance(s, gast.If):
            body, f1 = self.block(s.body, loop)
            orelse, f2 = self.block(s.orelse, loop)
            s.body, s.orelse = body or [gast.Pass()], orelse
            return [s], f1 | f2
        if isinstance(s, (gast.For, gast.While)):
            orelse, s.orelse = s.orelse, []
            out, flags, left = self.loop(s)
            if not orelse:
                return out, flags
            # for ... else: the else block runs unless break (or return) left the loop
            rest, more = self.block(orelse, loop)
            for f in sorted(left):
                rest = [gast.copy_location(gast.If(test=_not(f), body=rest, orelse=[]),
                                           orelse[0])]
            return out + rest, flags | more
        return [s], set()

    def loop(self, s):
        """A loop with its ``break``/``continue``/``return`` turned into flags:
        (statements, flags still set after it, flags telling it was left early)."""
        if not _has(s.body, (gast.Break, gast.Continue, gast.Return)):
            return [s], set(), set()
        broke, skip = self.namer.fresh("broke"), self.namer.fresh("skip")
        body, flags = self.block(s.body, (broke, skip))
        pre = []
        if skip in flags:
            body = [_set(skip, False, s)] + body
        exits = [f for f in (broke, self.done) if f in flags]
        for f in exits:
            brk = gast.copy_location(gast.Break(), s)
            body.append(gast.copy_location(gast.If(test=_name(f), body=[brk], orelse=[]), s))
        if broke in flags:
            pre.append(_set(broke, False, s))
        s.body = body
        return pre + [s], flags & ({self.done} if self.done else set()), set(exits)


def lower_jumps(fdef, namer):
    """Rewrite early ``return``/``break``/``continue`` in ``fdef`` as flags (in place)."""
    return Lowering(namer).run(fdef)
