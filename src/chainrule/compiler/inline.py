"""An elementwise VJP rule written out as the NumPy ufunc calls it makes, so the generated
backward can put each result into a dead buffer (``out=``) instead of a fresh array.

The rule is not rewritten by hand: ``trace_rule`` runs the registry's own rule once on symbolic
arrays (``Sym``) and a symbolic ``F`` that note every operation, in order.  The generated code
then makes the same ufunc calls on the same operands in the same order, so the values are the
same bits as the rule's; only where each result is stored changes.  A rule that does anything
else (a comparison, ``F.where``, a reduction, a branch on values, an attribute of an array) is
not written out: the backward calls it as before.

``place`` then decides, instruction by instruction, which results may reuse which buffer: a
buffer made by this backward (never the caller's gradient, a saved forward value or an array a
rule call returned) whose every name has been read for the last time.
"""
import re

from .. import _backend as B

xp = B.xp
_NUMBER = (int, float)


class NotInline(Exception):
    """The rule did something ``trace_rule`` does not write out."""


class Sym:
    """A symbolic array in a rule's trace: ``n``, its position (operands first)."""

    __slots__ = ("trace", "n")

    def __init__(self, trace, n):
        self.trace = trace
        self.n = n

    def __getattr__(self, name):
        raise NotInline(name)

    def __bool__(self):
        raise NotInline("a branch on values")

    def __neg__(self):
        return self.trace.op(xp.negative, (self,))

    def __pow__(self, other):
        return self.trace.op("**", (self, other))

    def __rpow__(self, other):
        return self.trace.op("**", (other, self))

    __array_ufunc__ = None      # a NumPy scalar operand must not try to take the Sym in


def _binary(ufunc):
    def op(self, other):
        return self.trace.op(ufunc, (self, other))

    def rop(self, other):
        return self.trace.op(ufunc, (other, self))
    return op, rop


Sym.__add__, Sym.__radd__ = _binary(xp.add)
Sym.__sub__, Sym.__rsub__ = _binary(xp.subtract)
Sym.__mul__, Sym.__rmul__ = _binary(xp.multiply)
Sym.__truediv__, Sym.__rtruediv__ = _binary(xp.true_divide)
for _name in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(Sym, _name, lambda self, other: (_ for _ in ()).throw(NotInline("a comparison")))
Sym.__hash__ = object.__hash__


class SymF:
    """``F`` of a traced rule: the ufuncs ``ArrayF`` maps straight to NumPy's, and ``raw``."""

    UNARY = ("exp", "log", "sin", "cos", "sinh", "cosh", "tanh", "sqrt", "abs")

    def __init__(self, trace):
        self.trace = trace

    def __getattr__(self, name):
        if name in SymF.UNARY:
            ufunc = getattr(xp, "absolute" if name == "abs" else name)
            return lambda a: self.trace.op(ufunc, (a,))
        raise NotInline(f"F.{name}")

    @staticmethod
    def raw(a):
        return a


class Trace:
    """The operations of one traced rule: ``ops`` is a list of (ufunc or "**", operands), an
    operand a ``Sym`` position or a Python number; positions below ``n_inputs`` are the rule's
    array arguments, position ``n_inputs + j`` the result of op j."""

    def __init__(self, n_inputs):
        self.n_inputs = n_inputs
        self.ops = []

    def op(self, fn, operands):
        args = []
        for a in operands:
            if type(a) is Sym:
                if a.trace is not self:
                    raise NotInline("another trace")
                args.append(a)
            elif type(a) in _NUMBER:
                args.append(a)
            else:
                raise NotInline(type(a).__name__)
        self.ops.append((fn, tuple(args)))
        return Sym(self, self.n_inputs + len(self.ops) - 1)


ARRAY = object()        # in trace_rule's args: an array operand, traced as a Sym


def trace_rule(rule, args, kw):
    """The ufunc calls ``rule(F, *args, **kw)`` makes, with each ``ARRAY`` in ``args`` a
    ``Sym`` (numbered in order): (ops, position of the result), or None when the rule does
    anything else."""
    trace = Trace(sum(a is ARRAY for a in args))
    syms = iter([Sym(trace, i) for i in range(trace.n_inputs)])
    args = [next(syms) if a is ARRAY else a for a in args]
    try:
        result = rule(SymF(trace), *args, **kw)
    except Exception:   # noqa: BLE001 - NotInline, or a rule that fails on symbols: called
        return None     # as it is
    if type(result) is not Sym or result.trace is not trace:
        return None
    return trace.ops, result.n


# --- placing results in buffers ------------------------------------------------------------

_AUGMENTED = {"np_add": "+=", "np_subtract": "-=", "np_multiply": "*=", "np_divide": "/="}
_WORD = re.compile(r"\b[a-z][a-z_]*\d+\b|\bg\b")


class Ufunc:
    """One instruction of a backward: ``dest = fn(operands)``, a ufunc call whose result
    ``place`` may put into a dead buffer (``out``), or ``dest = a ** b`` (the operator, which
    takes NumPy's fast paths for small exponents: never written in place), or an alias
    ``dest = operand`` (``fn`` None: a rule that returns its gradient unchanged)."""

    __slots__ = ("dest", "fn", "operands", "out", "note", "meta")

    def __init__(self, dest, fn, operands, note="", meta=None):
        self.dest = dest
        self.fn = fn            # a name in the code's namespace, "**", or None
        self.operands = operands
        self.out = None
        self.note = note
        self.meta = meta        # (shape, dtype) of the result

    def reads(self):
        return [a for a in self.operands if _WORD.fullmatch(a)]

    def text(self, seen=None):
        if self.fn is None:
            return f"    {self.dest} = {self.operands[0]}{self.note}"
        if self.fn == "**":
            return f"    {self.dest} = {self.operands[0]} ** {self.operands[1]}{self.note}"
        op = _AUGMENTED.get(self.fn)
        if op and self.out == self.dest == self.operands[0]:    # np.add(a, b, out=a): a += b
            return f"    {self.dest} {op} {self.operands[1]}{self.note}"
        out = f", out={self.out}" if self.out else ""
        return f"    {self.dest} = {self.fn}({', '.join(self.operands)}{out}){self.note}"


class _Def:
    """One assignment to a name; ``buffer``: the owned buffer it is (None: not ours)."""

    __slots__ = ("name", "buffer", "last", "escaped", "borrowed")

    def __init__(self, name, buffer, at):
        self.name = name
        self.buffer = buffer
        self.last = at
        self.escaped = False
        self.borrowed = False


def place(lines, keep):
    """Set ``out`` on the ``Ufunc`` instructions of ``lines`` (a backward: strings, delivery
    sites and ``Ufunc``s) where a buffer this backward made is dead: every assignment bound
    to it read for the last time at this instruction or before, and none of them handed to a
    rule that is called (its result could be a view of the buffer, as ``reshape``'s is).

    With ``keep`` (``mode="reduce-overhead"``), returns the buffers that never leave the call
    (neither returned nor handed to a called rule) as a list of (shape, dtype): the
    instruction that makes such a buffer writes into
    ``P[j]`` instead, an array the program keeps from one call to the next (``P`` is taken
    from a pool at the start of the backward and put back at its end), so a replay allocates
    only what it returns.  Buffers whose lives do not overlap share a ``P[j]``.  Also returns
    the names the last line returns that are a forward value under another name (``x·1`` is
    ``x``): not arrays this backward made, so never kept as a ``.grad`` without a copy."""
    cur, plan = {}, []
    for i, ln in enumerate(lines):          # the assignments, and where each is read last
        if type(ln) is str:
            names, dest = ([] if ln.lstrip().startswith("#") else _WORD.findall(ln)), None
            for n in names:                 # returned
                if n in cur:
                    cur[n].escaped = True
        elif type(ln) is Ufunc:
            names, dest = ln.reads(), ln.dest
        else:
            names, dest = _WORD.findall((ln.acc or "") + " " + ln.call), ln.new
            for n in _WORD.findall(ln.call):    # handed to a rule: its result may be a view
                if n in cur:                    # of this buffer, so it is never written again
                    cur[n].escaped = True
        read = [cur[n] for n in names if n in cur]
        for d in read:
            d.last = i
        new = None
        if dest is not None:
            borrowed = type(ln) is Ufunc and ln.fn is None and (
                ln.operands[0] not in cur or cur[ln.operands[0]].borrowed)
            new = cur[dest] = _Def(dest, None, i)
            new.borrowed = borrowed     # the name of a forward value (x·1 is x): not ours
        plan.append((ln, read, new))
    last = lines[-1] if lines and type(lines[-1]) is str else ""
    borrowed = {n for n in _WORD.findall(last) if n in cur and cur[n].borrowed}
    buffers = {}            # buffer id -> the assignments bound to it
    made = {}               # buffer id -> (index, the Ufunc that allocates it)
    count = 0
    for i, (ln, read, new) in enumerate(plan):
        if new is None:
            continue
        if type(ln) is Ufunc:
            if ln.fn is None:                       # an alias: its operand's buffer
                new.buffer = read[0].buffer if read else None
            elif ln.fn == "**":
                count += 1
                new.buffer = count
            else:
                b = _dead_operand(read, buffers, i)
                if b is None:
                    count += 1
                    b = count
                    made[b] = (i, ln)
                else:
                    ln.out = next(d.name for d in read if d.buffer == b)
                new.buffer = b
        elif getattr(ln, "nth", 0) >= 2 and read:   # ``new += e``: into the target's buffer
            new.buffer = read[0].buffer if read[0].name == new.name else None
        if new.buffer is not None:
            buffers.setdefault(new.buffer, []).append(new)
    pool, ends = [], []     # per P[j]: (shape, dtype), and the last instruction using it
    for b, (i, ln) in sorted(made.items(), key=lambda kv: kv[1][0]) if keep else ():
        defs = buffers[b]
        if ln.meta is None or any(d.escaped for d in defs):
            continue
        j = next((j for j, m in enumerate(pool) if m == ln.meta and ends[j] < i), None)
        if j is None:
            j = len(pool)
            pool.append(ln.meta)
            ends.append(0)
        ends[j] = max(d.last for d in defs)
        ln.out = f"P[{j}]"
    return pool, borrowed


def _dead_operand(read, buffers, i):
    """An owned buffer among the operands whose every assignment is read last here."""
    for d in read:
        b = d.buffer
        if b is not None and all(e.last <= i and not e.escaped for e in buffers.get(b, ())):
            return b
    return None
