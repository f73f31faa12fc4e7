"""Writing a recording out as two straight-line Python functions over NumPy arrays.

``forward(x0, x1, ..., p0, ...)`` calls each recorded primitive's forward (and each function
without a gradient) in the recorded order and returns the outputs and ``saved``: only the arrays
the backward reads.  ``backward_k(g, saved)`` is what the engine would have done from output k:
the VJP rules of the recorded nodes, called in the order the engine's reverse pass calls them
(Kahn's order, simulated here on the recorded graph), each input's gradient summed back to its
shape and added up in the order the engine adds them.  So the gradients are the eager ones, bit
for bit, when every gradient of an input arrives inside the compiled function.

Memory: the forward drops each large array after its last use, and writes an elementwise
result (a primitive that is one NumPy ufunc, ``UFUNCS``) with ``out=`` into an operand's buffer
when the trace proves that buffer dead: made by such a ufunc in this forward, read last by this
op and only ever read by such ufuncs (so no view of it exists), neither saved for the backward
nor returned nor shared with another value, with the result's shape and dtype (the same loop
runs, so the same bits).  The backward pops the saved
arrays from the box the node hands it (``saved.pop()``) and drops each after its last use; under
``backward()`` without ``retain_graph`` the node has already let go of them, so they are freed
there, as the engine frees each node's as it goes.

The source is kept (``Program.source``): ``chainrule.compile(f).explain()`` prints it.
"""
import re

from .. import _backend as B
from .._fns import ArrayF, Scattered
from ..engine import accumulate_grad
from ..graph import Freed
from ..ops import elementwise as E
from .inline import ARRAY, Ufunc, place, trace_rule
from .recording import Effect, Ref, read_slots

xp = B.xp
BIG = 1 << 16       # arrays of this many elements or more are dropped after their last use
_NAME = re.compile(r"\b(v|g|t)(\d+)\b")
_FIXED = re.compile(r"[xv]\d+|[-+.\deE]+|c\d+")     # what a backward never writes
_LITERAL = (int, float, bool, str, type(None), type(Ellipsis), slice)
# primitives whose forward is this NumPy ufunc and nothing else: the forward may write their
# result into a dead buffer with ``out=`` (the same loop, so the same bits)
UFUNCS = {id(p): u for p, u in (
    (E.add, xp.add), (E.sub, xp.subtract), (E.mul, xp.multiply), (E.div, xp.true_divide),
    (E.neg, xp.negative), (E.exp, xp.exp), (E.log, xp.log),
    (E.log1p, xp.log1p), (E.sqrt, xp.sqrt), (E.sin, xp.sin), (E.cos, xp.cos),
    (E.tanh, xp.tanh))}


def deliver(acc, gi, shape, dtype):
    """Add rule result ``gi`` into gradient ``acc`` (None: the first) of a value of ``shape``
    and ``dtype``: the engine's ``_deliver`` (sum back to the shape, cast, an array) and its
    accumulation (a sparse ``Scattered`` gradient added in place into a dense buffer)."""
    if gi is None:
        return acc
    if type(gi) is Scattered:
        if acc is None:
            acc = xp.zeros(gi.shape, gi.dtype)
        else:
            acc = acc.copy()
        gi.add_into(acc)
        return acc
    if gi.shape != shape:
        gi = ArrayF.sum_to(gi, shape)
    if gi.dtype != dtype:
        gi = gi.astype(dtype, copy=False)
    if type(gi) is not xp.ndarray:
        gi = xp.asarray(gi)
    if acc is None:
        return gi
    r = acc + gi
    return r if type(r) is xp.ndarray else xp.asarray(r)


class Program:
    """A recording as code: ``forward``, one ``backward`` per output needing a gradient
    (``backwards[k]``, None for the others), ``edges[k]``: which inputs (positions in
    ``boundary``) output k sends gradients to; ``source``: the text of all of it.

    The code is written and compiled at the first replay (``render``), so a signature called
    once costs no more than its recording.  The backwards are written twice: first with a
    ``probe`` at every delivery, which notes what the engine's delivery had to do there; once a
    backward has run, ``specialize()`` writes them again doing only that."""

    def __init__(self, edges, saved_slots, n_outputs):
        self.forward = None
        self.backwards = [None] * n_outputs
        self.edges = edges
        self._source = None
        self.saved_slots = saved_slots
        self.writer = self.bodies = self.saved_order = self.seen = None

    def probe(self, k, acc, gi, shape, dtype):
        r, self.seen[k] = what_delivery_does(acc, gi, shape, dtype)
        return r

    def specialize(self):
        """Write the backwards again for what the probes saw (after the first backward)."""
        if any(s is None for s in self.seen):   # a delivery not reached: keep probing there
            self.seen = ["deliver" if s is None else s for s in self.seen]
        self.render()

    def text(self, shown):
        """The source; ``shown``: as ``explain()`` prints it (a delivery not yet probed is
        written as the ``deliver`` call the probe makes)."""
        w, saved = self.writer, self.saved_order

        def render(ln):
            if type(ln) is str:
                return ln
            if type(ln) is Ufunc:
                return ln.text()
            return ln.text("deliver" if shown and self.seen[ln.k] is None else self.seen[ln.k])
        src = [render(ln) for ln in w.forward(saved)]
        unpack = "".join(f"{w.var(n)}, " for n in saved)
        for k, (lines, edges) in enumerate(self.bodies):
            if lines is None:
                continue
            src += ["", f"def backward_{k}(g, saved):",
                    f"    ({unpack}) = saved.pop()" if saved else
                    "    # (reads no saved value)"]
            src += w.drop([render(ln) for ln in lines], ("g", "v", "t"), set())
        return "\n".join(src) + "\n"

    @property
    def source(self):
        if self._source is None:
            self._source = self.text(shown=True)
        return self._source

    def render(self):
        """Write the code and compile it (at the first replay, and after the first backward)."""
        ns = self.writer.ns
        ns["probe"] = self.probe
        code = self.text(shown=False)
        self._source = code if all(s is not None for s in self.seen) else None
        exec(compile(code, "<chainrule.compile>", "exec"), ns)  # noqa: S102 - ours
        self.forward = ns["forward"]
        self.backwards = [ns.get(f"backward_{k}") if lines is not None else None
                          for k, (lines, _) in enumerate(self.bodies)]


def _key(v, alias=None):
    """A hashable stand-in for a recorded operand or parameter (TypeError: none); ``alias``
    maps a slot computed as another to that one."""
    if isinstance(v, Ref):
        return ("ref", alias.get(v.n, v.n) if alias else v.n, v.dtype)
    if type(v) in (tuple, list):
        return (type(v),) + tuple(_key(e, alias) for e in v)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, xp.ndarray):
        raise TypeError("an array")
    hash(v)
    return (type(v), v)


def _step_key(st, alias=None):
    """What makes two applications of a primitive give the same array: the op, its operands
    (slots and numbers) and its parameters; None when they cannot be compared."""
    try:
        return (id(st.fn), _key(tuple(st.args), alias),
                _key(tuple(sorted(st.params.items())), alias))
    except TypeError:
        return None


class Site:
    """One delivery in a backward: ``new = deliver(acc, call, shape, dtype)``.  Written first
    as a ``probe`` that also notes what the delivery had to do (the shapes and dtypes of a
    recording never change, so neither does that); after the first backward, as only that:
    ``g2 = sum_to(rule(...), (32,))`` or plainly ``g2 = rule(...)``."""

    __slots__ = ("k", "new", "acc", "call", "shape", "dtype", "nth")

    def __init__(self, k, new, acc, call, shape, dtype, nth):
        self.k, self.new, self.acc, self.call, self.shape, self.dtype, self.nth = \
            k, new, acc, call, shape, dtype, nth

    def text(self, seen):
        """The line, given what the probe saw (``seen``: None before the first backward)."""
        if seen is None:
            return f"    {self.new} = probe({self.k}, {self.acc}, {self.call}, {self.shape}, " \
                   f"{self.dtype})"
        if seen == "deliver":           # a Scattered gradient, or None: the general function
            return f"    {self.new} = deliver({self.acc}, {self.call}, {self.shape}, " \
                   f"{self.dtype})"
        summed, cast, scalar = seen
        e = self.call
        if summed:
            e = f"sum_to({e}, {self.shape})"
        if cast:
            e = f"{e}.astype({self.dtype}, copy=False)"
        if self.nth >= 2:   # the engine's third gradient on: into the buffer the second made
            return f"    {self.new} += {e}"
        if self.acc is not None:
            e = f"{self.acc} + {e}"
        if scalar:
            e = f"asarray({e})"
        return f"    {self.new} = {e}"


def what_delivery_does(acc, gi, shape, dtype):
    """(the result, what it took: "deliver" or (summed, cast, scalar)) for ``deliver``."""
    if gi is None or type(gi) is Scattered:
        return deliver(acc, gi, shape, dtype), "deliver"
    summed = gi.shape != shape
    if summed:
        gi = ArrayF.sum_to(gi, shape)
    cast = gi.dtype != dtype
    if cast:
        gi = gi.astype(dtype, copy=False)
    v = gi if acc is None else acc + gi
    scalar = type(v) is not xp.ndarray
    return (xp.asarray(v) if scalar else v), (summed, cast, scalar)


class _Writer:
    def __init__(self, rec, outputs, boundary, labels, keep=False):
        self.keep = keep                # keep the backward's scratch buffers between calls
        self.effects = any(type(st.fn) is Effect for st in rec.steps)
        self.seed = None                # the seed of ones of the backward being written
        self.constants, self.ones = {}, set()
        self.effect_bodies = {}         # step index of a recorded backward -> its lines
        self.seeds = {}                 # step index of a recorded backward -> its seed of ones
        self.labels = labels            # what each boundary input is, for the source's header
        self.rec = rec
        self.outputs = outputs          # slot number per output
        self.boundary = boundary        # slot numbers of inputs and externals, in order
        self.ns = {"xp": xp, "asarray": xp.asarray, "F": ArrayF, "deliver": deliver,
                   "probe": None, "sum_to": ArrayF.sum_to}
        self.names = {}                 # id(object) -> name in ns
        self.objects = []
        self.freeds = {}                # (slot, dtype) -> the Freed record rules get for it
        self.sites = []                 # every delivery of a rule's result, in order
        self.count = {}                 # slot -> how many gradients it has received so far
        self.temps = []                 # the size of each temporary t0, t1, ... of the backwards
        self.computed = {}

    def var(self, n):
        s = self.rec.slots[n]
        if s.kind == "const":
            return self.put(s.array, "c")
        if s.kind in ("input", "external"):
            return f"x{self.boundary.index(n)}"
        return f"v{n}"

    def put(self, obj, prefix, name=None):
        """A name in the generated code's namespace for ``obj``."""
        key = id(obj)
        if key in self.names:
            return self.names[key]
        self.objects.append(obj)        # alive while ids are keys
        base = name or prefix
        name = base if base not in self.ns and name else f"{base}{len(self.names)}"
        while name in self.ns:
            name += "_"
        self.ns[name] = obj
        self.names[key] = name
        return name

    def arg(self, v):
        if isinstance(v, Ref):
            text = self.var(v.n)
            if v.dtype is not None:
                text = f"{text}.astype({self.put(v.dtype, 'dt', 'dt_' + v.dtype.name)})"
            return text
        if type(v) in (tuple, list):
            inner = ", ".join(self.arg(e) for e in v)
            return f"({inner}{',' if len(v) == 1 else ''})" if type(v) is tuple else f"[{inner}]"
        if type(v) in _LITERAL and (type(v) is not float or v == v and abs(v) != float("inf")):
            return repr(v)
        return self.put(v, "k")

    def kwargs(self, params):
        return "".join(f", {k}={self.arg(v)}" for k, v in params.items())

    # --- forward ----------------------------------------------------------------------------
    def forward(self, saved):
        rec = self.rec
        keep = set(saved) | set(self.outputs)
        # first the plan: which steps repeat an earlier one, and where each slot is last read
        done = {}               # (op, operands, params) -> the slot that already holds it
        alias = {}              # slot -> the slot it was found to be (``same``)
        same = {}               # step index -> the slot whose array it is (computed above)
        last = {}               # slot -> index of the last step that reads it
        viewed = set()          # slots read by a step that may return a view of them
        for i, st in enumerate(rec.steps):
            if type(st.fn) is Effect:   # a training step's effect: what it reads stays whole
                done = {}               # (and values read after it are read again)
                for n in self.effect_reads(i, st):
                    last[n] = i
                    viewed.add(n)
                continue
            # (not an output: two outputs sharing one array would see each other's in-place
            # changes)
            key = _step_key(st, alias) if st.prim and st.out not in self.outputs else None
            if key is not None and key in done:     # the same op on the same values again
                same[i] = alias[st.out] = done[key]
                last[done[key]] = i
                continue
            if key is not None:
                done[key] = st.out
            ufunc = st.prim and not st.params and id(st.fn) in UFUNCS
            stack = list(st.args) + list(st.params.values())
            while stack:
                v = stack.pop()
                if isinstance(v, Ref):
                    last[v.n] = i
                    if not ufunc:       # reshape, a transpose, an index: its result may
                        viewed.add(v.n)     # share the buffer, which must then stay
                elif type(v) in (tuple, list):
                    stack.extend(v)
        self.read_later = set(last)
        aliased = set(same.values()) | viewed
        fresh = set()           # slots holding an array this forward made and nothing else sees
        lines = []
        self.fused = set()      # in-place updates whose value was written into place
        for i, st in enumerate(rec.steps):
            if type(st.fn) is Effect:
                lines += self.effect_lines(i, st)
                continue
            if i in same:
                lines.append(f"    v{st.out} = v{same[i]}    # computed above")
                continue
            ufunc = UFUNCS.get(id(st.fn)) if st.prim and not st.params else None
            target = self.update_target(i, st, ufunc, last, keep, set(same.values()))
            if target is not None:      # p -= lr * g: the ufunc writes into p, as eager does
                fn = self.put(ufunc, "np", "np_" + ufunc.__name__)
                args = ", ".join(self.arg(a) for a in st.args)
                lines.append(f"    {fn}({args}, out={target})    # into {target} itself: "
                             "the in-place update below")
                self.fused.add(i + 1)
                continue
            into = None
            if ufunc is not None:
                a = rec.slots[st.out].array
                for v in st.args:
                    # a dead buffer: made here by a ufunc, read last by this step, not saved
                    # for the backward, not returned, not another value's alias, read by
                    # ufuncs only (no view of it lives on), same shape and dtype as the
                    # result: the ufunc writes the result into it
                    if isinstance(v, Ref) and v.dtype is None and v.n in fresh and \
                            last.get(v.n) == i and v.n not in keep and v.n not in aliased:
                        b = rec.slots[v.n].array
                        if b.shape == a.shape and b.dtype == a.dtype and a.ndim:
                            into = v.n
                            break
                if a.ndim and st.out not in aliased:
                    fresh.add(st.out)
            if into is not None:
                fn = self.put(ufunc, "np", "np_" + ufunc.__name__)
                args = ", ".join(self.arg(a) for a in st.args)
                lines.append(f"    v{st.out} = {fn}({args}, out=v{into})    # into v{into}'s "
                             "buffer: read last here")
                continue
            if ufunc is not None:       # the primitive is this ufunc: called directly
                fn = self.put(ufunc, "np", "np_" + ufunc.__name__)
            elif st.prim:
                fn = self.put(st.fn.forward, "op", st.fn.name)
            else:
                fn = self.put(st.fn, "np", "np_" + getattr(st.fn, "__name__", "fn").strip("<>"))
            call = f"{fn}({', '.join(self.arg(a) for a in st.args)}{self.kwargs(st.params)})"
            if rec.slots[st.out].array.ndim == 0 or not st.prim:   # a ufunc on 0-d: a scalar
                call = f"asarray({call})"
            lines.append(f"    v{st.out} = {call}")
        if self.effects:        # one function: its backwards' names are dropped too
            lines = self.drop(lines, ("v", "g", "t"), keep)
        else:
            lines = self.drop(lines, "v", keep)
        outs = [self.var(n) for n in self.outputs]
        kept = "".join(f"{self.var(n)}, " for n in saved)
        lines.append(f"    return ({''.join(o + ', ' for o in outs)}), ({kept})")
        args = ", ".join([f"x{i}" for i in range(len(self.boundary))] +
                         (["T"] if self.effects else []))
        head = []
        for i, n in enumerate(self.boundary):
            s = rec.slots[n]
            what = self.labels[i] if self.labels else ""
            head.append(f"# x{i}: {what}{', ' if what else ''}{tuple(s.array.shape)} "
                        f"{s.array.dtype.name}{', requires grad' if s.requires_grad else ''}")
        return head + [f"def forward({args}):"] + lines

    def drop(self, lines, prefixes, keep):
        """``lines`` with ``del v7`` after the last line that reads a large array (at least
        ``BIG`` elements) named with one of ``prefixes`` that is not in ``keep`` (slot
        numbers): NumPy frees it there, as the engine frees a value once no node needs it, so
        the peak memory is at most eager mode's."""
        last = {}
        for i, line in enumerate(lines):
            for m in _NAME.finditer(_words(line)):
                if m.group(1) in prefixes:
                    last[m.group(1), int(m.group(2))] = i
        out = []
        gone = {}
        for (p, n), i in last.items():
            size = self.temps[n] if p == "t" else self.rec.slots[n].array.size
            if (p != "v" or n not in keep) and size >= BIG:
                gone.setdefault(i, []).append(f"{p}{n}")
        for i, line in enumerate(lines):
            out.append(line)
            if i in gone:
                out.append(f"    del {', '.join(sorted(gone[i]))}")
        return out

    # --- a training step's effects ----------------------------------------------------------
    def effect_reads(self, i, st):
        """The slots effect step ``i`` reads (a backward: every value its rules read)."""
        found = read_slots(st)
        if st.fn.kind == "backward":
            found += self.effect_bodies[i][1]
        return found

    def tensor_of(self, n):
        """The expression for the tensor object behind slot n (``T``: the boundary tensors)."""
        s = self.rec.slots[n]
        if s.kind == "grad":
            return f"T[{self.boundary.index(s.index)}]._grad"
        return f"T[{self.boundary.index(n)}]"

    def update_target(self, i, st, ufunc, last, keep, shared):
        """The variable of the array an in-place update right after step i (an effect "copy"
        of its result) writes, when step i can write its result there itself: one ufunc, the
        update its result's only reader, the same shape and dtype (eager's fast path for
        ``p -= lr * g`` is that ufunc with ``out=p``: the same bits)."""
        steps = self.rec.steps
        if ufunc is None or i + 1 >= len(steps):
            return None
        nxt = steps[i + 1]
        if type(nxt.fn) is not Effect or nxt.fn.kind != "copy":
            return None
        target, value = nxt.args
        if value.n != st.out or value.dtype is not None or last.get(st.out) != i + 1 or \
                st.out in keep or st.out in shared or \
                any(isinstance(a, Ref) and a.dtype is not None for a in st.args):
            return None
        a, b = self.rec.slots[st.out].array, self.rec.slots[target.n].array
        if a.shape != b.shape or a.dtype != b.dtype or not a.ndim:
            return None
        return self.var(target.n)

    def effect_lines(self, i, st):
        kind, p = st.fn.kind, st.params
        where = f"  {st.line}" if st.line else ""
        if kind == "backward":
            lines, _, edges = self.effect_bodies[i]
            g = self.arg(p["grad"]) if p["grad"] is not None else self.put(
                self.seeds[i], "c", "ones")
            out = [f"    # backward(){where}", f"    g = {g}"] + lines
            names = [f"g_x{j}" for j in edges]
            fn = self.put(accumulate_grad, "fn", "accumulate_grad")
            out.append(f"    {fn}(T, {tuple(edges)!r}, ({''.join(n + ', ' for n in names)}), g"
                       f"{', ' + repr(tuple(p['borrowed'])) if p['borrowed'] else ''})")
            for n in p["grads"]:        # a .grad read later (by the update)
                if n in self.read_later:
                    out.append(f"    v{n} = {self.tensor_of(n)}._data")
            return out
        if kind == "set_grad":
            return [f"    {self.tensor_of(st.args[0].n)}._grad = None    # .grad = None{where}"]
        if kind == "set_data":
            target, value = st.args
            return [f"    {self.tensor_of(target.n)}._data = {self.arg(value)}    # .data ={where}"]
        if kind in ("copy", "fill"):
            target = st.args[0]
            if kind == "copy" and i in self.fused:
                line = f"    # ({self.var(target.n)} written in place above)"
            elif kind == "copy":
                fn = self.put(xp.copyto, "np", "np_copyto")
                line = f"    {fn}({self.var(target.n)}, {self.arg(st.args[1])}, casting='unsafe')"
            else:
                line = f"    {self.var(target.n)}[...] = {self.arg(p['value'])}"
            out = [line + f"    # in place{where}"]
            if p["bump"]:
                out.append(f"    {self.tensor_of(target.n)}._vc[0] += 1")
            return out
        fn = self.put(p["fn"], "call", re.sub(r"\W+", "_", p["what"]).strip("_"))
        return [f"    {fn}()    # {p['what']}, called again{where}"]

    # --- backward ---------------------------------------------------------------------------
    def backward(self, k, root_n=None):
        """Lines of backward for output k (or, for a training step's recorded ``backward()``,
        from slot ``root_n``: then ``k`` names its kept buffers), the slots it reads, and the
        boundary positions it sends gradients to."""
        rec = self.rec
        step_of = {id(st.node): st for st in rec.steps if st.node is not None}
        root = rec.slots[self.outputs[k] if root_n is None else root_n]
        root_node = rec.steps[root.index].node if root.kind == "step" else None
        lines, reads, edges = [], [], []
        self.count = {}     # each backward counts its own deliveries (a second output's too)
        self.computed = {}  # (ufunc, operands) -> the temporary holding it, in this backward
        # the gradients that are constants (a training step's seed of ones, and rules on it)
        self.constants = {} if self.seed is None else {"g": self.seed}
        self.ones = set(self.constants)
        grad = {}           # slot -> name of its gradient so far
        gin = {}            # boundary slot -> name of its gradient
        if root_node is None or id(root_node) not in step_of:
            return None, reads, edges
        grad[root.n] = "g"
        # the engine's Kahn order over the recorded nodes (graph.dependencies, restricted to them)
        deps = {}
        stack, seen = [root_node], {id(root_node)}
        while stack:
            node = stack.pop()
            for e in node.next:
                if id(e) in step_of:
                    deps[id(e)] = deps.get(id(e), 0) + 1
                    if id(e) not in seen:
                        seen.add(id(e))
                        stack.append(e)
        ready = [root_node]
        while ready:
            node = ready.pop()
            st = step_of[id(node)]
            g = grad.get(st.out)
            if g is not None:
                self.rules(st, g, lines, reads, grad, gin)
            for e in node.next:
                if id(e) in step_of:
                    deps[id(e)] -= 1
                    if deps[id(e)] == 0:
                        ready.append(e)
        result = []
        for i, n in enumerate(self.boundary):
            if n in gin:
                edges.append(i)
                result.append(gin[n])
            else:
                result.append("None")
        lines.append(f"    return ({''.join(r + ', ' for r in result)})")
        pool, self.borrowed = place(lines, self.keep)
        if pool:        # the buffers that never leave the call: kept from one to the next
            kept = self.put([], "pool", f"pool_{k}")
            sizes = ", ".join(f"({tuple(sh)!r}, {self.put(dt, 'dt', 'dt_' + dt.name)})"
                              for sh, dt in pool)
            make = self.put(_buffers, "fn", "buffers")
            lines.insert(0, f"    P = {kept}.pop() if {kept} else {make}([{sizes}])")
            lines.insert(len(lines) - 1, f"    {kept}.append(P)")
        return lines, reads, edges

    def rules(self, st, g, lines, reads, grad, gin):
        node, op = st.node, st.fn
        out = "None"
        if node.out_kept:
            out = self.var(st.out)
            reads.append(st.out)
        # what the node keeps, as tensor.apply decides: saves, or what the needed rules read
        if op.reads is None:
            kept = set(op.saves)
        else:
            kept = set()
            for j, e in enumerate(node.next):
                if e is not None:
                    kept.update(op.reads[j])
        values = []
        for i, v in enumerate(st.args):
            if isinstance(v, Ref) and i not in kept:
                rec = self.freeds.get((v.n, v.dtype))
                if rec is None:
                    a = self.rec.slots[v.n].array
                    rec = self.freeds[v.n, v.dtype] = Freed(a if v.dtype is None else
                                                            a.astype(v.dtype))
                values.append(self.put(rec, "shape", f"shape_{self.var(v.n)}"))
            else:
                values.append(self.arg(v))
                if isinstance(v, Ref) and self.rec.slots[v.n].kind != "const":
                    reads.append(v.n)
        kw = self.kwargs(st.params)
        stack = list(st.params.values())
        while stack:                    # slots the params name (a loss's target) are read too
            v = stack.pop()
            if isinstance(v, Ref) and self.rec.slots[v.n].kind != "const":
                reads.append(v.n)
            elif type(v) in (tuple, list):
                stack.extend(v)
        lines.append(f"    # {node.name()} ({op.name}){'  ' + st.line if st.line else ''}")
        for i, e in enumerate(node.next):
            if e is None:
                continue
            v = st.args[i]
            if op.nary:
                rule = self.put(op.vjps, "vjp", f"{op.name}_vjp")
                call = f"{rule}(F, {g}, {out}, {', '.join(values)}, i={i}{kw})"
            else:
                rule = self.put(op.vjps[i], "vjp", f"{op.name}_vjp{i}")
                call = f"{rule}(F, {g}, {out}, {', '.join(values)}{kw})"
            s = self.rec.slots[v.n]
            if s.kind == "const":       # a leaf made inside the function: nobody reads its grad
                continue
            target = s.n
            a = s.array if v.dtype is None else s.array.astype(v.dtype)
            shape = repr(tuple(a.shape))
            dtype = self.put(a.dtype, "dt", "dt_" + a.dtype.name)
            if s.kind in ("input", "external"):
                name = gin.get(target)
                new = f"g_x{self.boundary.index(target)}"
                gin[target] = new
            else:
                name = grad.get(target)
                new = f"g{target}"
                grad[target] = new
            if v.dtype is not None:     # the engine delivers to the input's own dtype: the
                a0 = s.array            # cast back is what the node's edge does
                shape = repr(tuple(a0.shape))
                dtype = self.put(a0.dtype, "dt", "dt_" + a0.dtype.name)
            nth = self.count[target] = self.count.get(target, -1) + 1
            self.constants.pop(new, None)
            self.ones.discard(new)
            if name is None and not op.nary and v.dtype is None and out == "None" and \
                    g in self.constants:
                folded = self.fold(st, i, g, kept, s.array, new)
                if folded is not None:
                    lines.append(folded)
                    continue
            ufuncs = None
            if not op.nary and v.dtype is None:
                ufuncs = self.inline(st, i, g, out, new, name, s.array, kept)
            if ufuncs is not None:
                lines += ufuncs
                continue
            lines.append(Site(len(self.sites), new, name, call, shape, dtype, nth))
            self.sites.append(lines[-1])

    def fold(self, st, i, g, kept, a, new):
        """Rule i of ``st`` run now, when it reads nothing but the gradient ``g``, a constant
        of this backward (a training step's seed of ones, or a rule's result on it), and
        shapes: its delivered result is then a constant too (``sum``'s rule on the seed: ones
        of the summed shape), written as one.  None when the rule reads a value."""
        args = []
        for k, v in enumerate(st.args):
            if isinstance(v, Ref):
                if k in kept or v.dtype is not None:
                    return None
                args.append(self.freeds[v.n, None])
            else:
                args.append(v)
        if _refers(st.params):
            return None
        token = B.quiet_fp()
        try:
            r = deliver(None, st.fn.vjps[i](ArrayF, self.constants[g], None, *args,
                                            **st.params), a.shape, a.dtype)
        finally:
            B.restore_fp(token)
        if type(r) is not xp.ndarray:
            return None
        r.flags.writeable = False
        self.constants[new] = r
        if r.shape == a.shape and (r == 1).all():
            self.ones.add(new)
        return Ufunc(new, None, [self.put(r, "c", "seed")],
                     note="    # its rule on the seed of ones: a constant")

    def inline(self, st, i, g, out, new, acc, a, kept):
        """The instructions that compute rule i of step ``st`` as the ufunc calls it makes
        (``inline.trace_rule``) and deliver the result to ``new`` (adding it to ``acc``), or
        None: when the rule makes other calls, or when its arrays are not all of the input's
        shape and float dtype ``a`` (then the delivery would sum or cast, and a result could
        not go into an operand's buffer)."""
        if a.ndim == 0 or a.dtype.kind != "f" or _refers(st.params):
            return None
        texts, metas, args = [g], [self.rec.slots[st.out].array], [ARRAY]
        if st.node.out_kept:
            texts.append(out)
            metas.append(self.rec.slots[st.out].array)
            args.append(ARRAY)
        else:
            args.append(None)
        for k, v in enumerate(st.args):
            if isinstance(v, Ref):
                if v.dtype is not None:
                    return None
                if k not in kept:       # the rule gets the record of its shape, as called
                    args.append(self.freeds[v.n, None])
                    continue
                texts.append(self.arg(v))
                metas.append(self.rec.slots[v.n].array)
                args.append(ARRAY)
            else:
                args.append(v)
        traced = trace_rule(st.fn.vjps[i], args, st.params)
        if traced is None:
            return None
        ops, result = traced
        n_in = len(texts)
        used = {o.n for _, operands in ops for o in operands if type(o) is not float and
                type(o) is not int and o.n < n_in}
        if result < n_in:
            used.add(result)
        if any(metas[k].shape != a.shape or metas[k].dtype != a.dtype for k in used):
            return None
        names = list(texts)
        code = []
        meta = (a.shape, a.dtype)
        for j, (fn, operands) in enumerate(ops):
            last = j == len(ops) - 1 and acc is None
            ops_text = [names[o.n] if type(o) not in (int, float) else self.arg(o)
                        for o in operands]
            same = _identity(fn, operands, ops_text, self.ones)
            if same is not None:        # x·1, x/1, x·(the backward's seed of ones): x itself,
                if last:                # the same bits (IEEE: exact), one call fewer
                    code.append(Ufunc(new, None, [same]))
                names.append(same)
                continue
            name = fn if fn == "**" else self.put(fn, "np", "np_" + fn.__name__)
            # the same call on values the backward never writes (inputs, saved values,
            # numbers), made earlier in this backward: its result is still there (``place``
            # keeps a buffer while a later line reads it), e.g. pow's 2·x for x ** 2 used twice
            key = (name, tuple(ops_text)) if all(
                _FIXED.fullmatch(o) for o in ops_text) else None
            if key in self.computed:
                if last:
                    code.append(Ufunc(new, None, [self.computed[key]]))
                names.append(self.computed[key])
                continue
            dest = new if last else f"t{len(self.temps)}"
            if not last:
                self.temps.append(a.size)
                if key is not None:
                    self.computed[key] = dest
            code.append(Ufunc(dest, name, ops_text, meta=None if fn == "**" else meta))
            names.append(dest)
        if acc is not None:
            code.append(Ufunc(new, self.put(xp.add, "np", "np_add"), [acc, names[result]],
                              meta=meta))
        elif result < n_in:             # the rule returns an operand unchanged
            code.append(Ufunc(new, None, [names[result]]))
        if code and code[-1].fn is None and code[-1].dest == new:   # a constant's alias
            src = code[-1].operands[0]
            if src in self.constants:
                self.constants[new] = self.constants[src]
                if src in self.ones:
                    self.ones.add(new)
        return code


def _identity(fn, operands, texts, ones):
    """The operand (its text) that ``fn(*operands)`` equals exactly, if any: x·1 and 1·x, x/1,
    and x·g where g is one of the names ``ones`` (a backward's seed of ones, or a constant of
    ones made from it, of x's shape as every operand of a written-out rule).  IEEE multiplication by one is exact (NaN, ±inf and -0 included)."""
    if fn is xp.multiply:
        for k in (0, 1):
            o, other = operands[k], texts[1 - k]
            if (type(o) in (int, float) and o == 1 or texts[k] in ones) \
                    and type(operands[1 - k]) not in (int, float):
                return other
    if fn is xp.true_divide and type(operands[1]) in (int, float) and operands[1] == 1 and \
            type(operands[0]) not in (int, float):
        return texts[0]
    return None


def _words(line):
    """The text of a line of generated code, for finding the names it reads."""
    if type(line) is str:
        return line
    if type(line) is Ufunc:
        return line.text()
    return line.text(None)


def _ones(a):
    one = xp.ones(a.shape, a.dtype)
    one.flags.writeable = False     # the seed of every replay's backward: never written
    return one


def _buffers(metas):
    """The arrays a backward keeps between calls (``P``), one per (shape, dtype)."""
    return [xp.empty(shape, dtype) for shape, dtype in metas]


def _refers(params):
    """Whether ``params`` name a recorded value (a Ref), also inside tuples and lists."""
    stack = list(params.values())
    while stack:
        v = stack.pop()
        if isinstance(v, Ref):
            return True
        if type(v) in (tuple, list):
            stack.extend(v)
    return False


def generate(rec, outputs, boundary, needs_grad, labels=None, keep=False):
    """The ``Program`` of recording ``rec`` with output slots ``outputs`` (``needs_grad[k]``:
    output k gets a backward) and inputs ``boundary`` (slot numbers, described by ``labels``);
    ``keep``: the backwards keep their scratch buffers from one call to the next."""
    w = _Writer(rec, outputs, boundary, labels, keep)
    bodies = []
    reads = []
    for i, st in enumerate(rec.steps):      # a training step's backward() calls, in place
        if type(st.fn) is Effect and st.fn.kind == "backward":
            w.seed = _ones(rec.slots[st.params["root"].n].array) \
                if st.params["grad"] is None else None
            w.seeds[i] = w.seed
            lines, r, edges = w.backward(f"s{i}", st.params["root"].n)
            w.seed = None
            borrowed = [j for j, e in enumerate(edges) if f"g_x{e}" in w.borrowed]
            st.params["borrowed"] = borrowed
            w.effect_bodies[i] = (lines[:-1], r, edges)     # (its return: accumulate_grad)
    for k in range(len(outputs)):
        if needs_grad[k]:
            lines, r, edges = w.backward(k)
            reads += r
        else:
            lines, edges = None, []
        bodies.append((lines, edges))
    saved = list(dict.fromkeys(reads))
    program = Program([e for _, e in bodies], set(saved), len(outputs))
    program.writer, program.bodies, program.saved_order = w, bodies, saved
    program.seen = [None] * len(w.sites)
    return program
