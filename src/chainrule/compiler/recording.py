"""Recording one call of a function for ``chainrule.compile``: every op it runs, as data.

While a compiled function records, ``Recorder`` is both ``grad_mode.state.apply_hook`` (it sees
every primitive ``tensor.apply`` runs, with or without a gradient, and every function without a
gradient ``functional._args.nondiff`` runs: comparisons, argmax, casts) and
``grad_mode.state.recorder`` (it is told of every tensor made outside ``apply``, and of every
look at values Python could branch on: ``bool(t)``, ``.item()``, printing, random draws, a
custom ``autograd.Function``).  ``tracing.tracing()`` notes only the ops that make graph nodes;
compiling must also replay the ops without one, hence the hook (as ``vmap`` does).

The call itself runs eagerly, unchanged: the recorder calls the real ``apply`` and keeps what
it did.  What it keeps is a list of ``Step``s over numbered values (``Slot``s): the inputs, the
tensors read from outside (a module's parameters, a closure's tensor), constants made inside,
and each step's output.  Whatever the recorder cannot express becomes a *graph break*: the
function falls back to eager.
"""
import os
import sys

from .. import _backend as B
from ..grad_mode import state as _grad_state
from ..graph import Freed
from ..tensor import Tensor, apply, wrap

_ndarray = B.ndarray
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# functions that make constants: their tensors depend on their arguments, not on other tensors
_MAKERS = {
    "creation": {"tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full",
                 "empty", "arange", "range", "linspace", "logspace", "eye", "zeros_like",
                 "ones_like", "full_like", "empty_like", "tril_indices", "triu_indices",
                 "scalar_tensor"},
    "tensor": {"__init__", "new_tensor", "new_zeros", "new_ones", "new_full", "new_empty"},
}


class StopRecording(BaseException):
    """Raised in the check run where a training step's first effect would change state (a
    BaseException, so that the user's ``except Exception`` does not swallow it)."""


class GraphBreak(Exception):
    """Raised inside a recording with ``fullgraph=True`` (torch's ``Unsupported``)."""


def seen_nodes(node):
    """Every node reachable from ``node`` (not itself), without recursion."""
    found, stack, seen = [], [node], {id(node)}
    while stack:
        for e in stack.pop().next:
            if e is not None and not isinstance(e, Tensor) and id(e) not in seen:
                seen.add(id(e))
                found.append(e)
                stack.append(e)
    return found


def user_line():
    """``file:line`` of the innermost frame outside chainrule: the user's line."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno}"


def _module_of(frame):
    return os.path.splitext(os.path.basename(frame.f_code.co_filename))[0]


def _maker():
    """Who made a tensor: (module, function, frame, direct) of the innermost function of
    ``_MAKERS`` on the stack (``direct``: called from the user's code, not from chainrule's),
    else of the outermost chainrule frame below the user's code (with frame None: no maker)."""
    f = sys._getframe(2)
    last = None
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        mod = _module_of(f)
        if f.f_code.co_name in _MAKERS.get(mod, ()):
            up = f.f_back
            return mod, f.f_code.co_name, f, \
                up is None or not up.f_code.co_filename.startswith(_PACKAGE)
        last = f
        f = f.f_back
    if last is None:
        return None, None, None, False
    return _module_of(last), last.f_code.co_name, None, False


class Slot:
    """One value of the recording: ``kind`` is "input" (argument ``index``), "external" (a
    tensor read from outside: ``tensor``), "const" (an array made inside: ``array``), "step"
    (the output of step ``index``) or "grad" (the ``.grad`` of the input or external slot
    ``index`` after a recorded ``backward()``).  ``array`` is its value during the recording; ``box`` and
    ``version`` the version counter it was seen with (in-place changes are graph breaks)."""

    __slots__ = ("n", "kind", "index", "array", "tensor", "box", "version", "requires_grad",
                 "stale")

    def __init__(self, n, kind, index, array, tensor):
        self.n = n
        self.kind = kind
        self.index = index
        self.array = array
        self.tensor = tensor
        self.box = None if tensor is None else tensor._vc
        self.version = None if tensor is None else tensor._vc[0]
        self.requires_grad = tensor is not None and tensor._requires_grad
        self.stale = None       # what made its value out of date (an optimizer's step), if any


class Ref:
    """An argument of a step: slot ``n``, cast to ``dtype`` when not None."""

    __slots__ = ("n", "dtype")

    def __init__(self, n, dtype=None):
        self.n = n
        self.dtype = dtype


class Step:
    """One recorded op.  ``fn``: a registry primitive (``prim`` True) or a NumPy function
    without a gradient; ``args``: Refs and Python values; ``params``: keyword arguments (Refs
    inside where an array came from a slot); ``out``: its slot; ``node``: the graph node eager
    made (None without a gradient); ``line``: the user's line."""

    __slots__ = ("fn", "prim", "args", "params", "out", "node", "line")

    def __init__(self, fn, prim, args, params, out, node, line):
        self.fn = fn
        self.prim = prim
        self.args = args
        self.params = params
        self.out = out
        self.node = node
        self.line = line


class Effect:
    """What a step's ``fn`` is when the step changes state instead of making a value (a
    training step's ``backward()``, ``w.data = ...``, ``p.grad.zero_()``, ``opt.step()``):
    ``kind`` is "backward", "set_data", "set_grad", "copy", "fill" or "call"; the step's args and params
    say what it reads and writes (see ``Recorder``'s methods of the same names)."""

    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def __eq__(self, other):
        return type(other) is Effect and other.kind == self.kind

    def __hash__(self):
        return hash(self.kind)

    @property
    def __name__(self):
        return {"backward": "backward()", "set_data": "setting .data", "copy": "an in-place op",
                "fill": "fill_", "call": "a call", "set_grad": "setting .grad"}[self.kind]


def read_slots(step):
    """The slot numbers a step names: the Refs in its args and params (also inside tuples
    and lists)."""
    found = []
    stack = list(step.args) + list(step.params.values())
    while stack:
        v = stack.pop()
        if isinstance(v, Ref):
            found.append(v.n)
        elif type(v) in (tuple, list):
            stack.extend(v)
    return found


class Recorder:
    """``grad_mode.state.apply_hook`` and ``.recorder`` for one recording call."""

    def __init__(self, fullgraph):
        self.fullgraph = fullgraph
        self.slots = []
        self.by_array = {}      # id(array) -> slot number
        self.keep = []          # the arrays whose ids are keys above, alive while recording
        self.steps = []
        self.made = {}          # id(tensor) -> (tensor, maker module, maker function, line)
        self.broken = None      # (what, line) of the first graph break
        self.unexplained = 0    # arrays given to primitives that came from no recorded value
        self.prev = None
        self.effects = 0        # steps that change state (a training step): see ``Effect``
        self.kept_out = {}      # id(node) -> whether it kept its output, before a backward
        self.checking = False   # the check run: stop before the first effect
        self.touched = set()    # (id, what) of the tensors a recorded call (opt.step()) changed
        self.unexplained_before = None  # unexplained arrays before the first effect (but
        # zero_grad(), which the check run passes over)

    # --- the hooks --------------------------------------------------------------------------
    def graph_break(self, what, line=None):
        if self.broken is None:
            self.broken = (what, line or user_line())
        if self.fullgraph:
            what, line = self.broken
            raise GraphBreak(f"chainrule.compile(fullgraph=True): {what} at {line} cannot be "
                             "recorded (it reads tensor values in Python, or does something the "
                             "replay cannot repeat); move it out of the compiled function or "
                             "compile without fullgraph=True to let it run eagerly")

    def born(self, t):
        mod, name, frame, direct = _maker()
        if mod is None:         # made by the recorder itself
            return
        ok = frame is not None
        # tensor(t) copies t's values: a constant only when made from plain data (zeros_like(t)
        # and t.new_zeros() read only t's shape and dtype)
        if ok and not name.endswith("_like") and not name.startswith("new_"):
            code = frame.f_code
            for v in (frame.f_locals.get(a) for a in code.co_varnames[:code.co_argcount]):
                if isinstance(v, Tensor) and id(v._data) in self.by_array and \
                        self.slots[self.by_array[id(v._data)]].kind != "const":
                    ok = False
        # made inside chainrule (an RNN's zero state): its arguments could have come from
        # values chainrule read itself, so such a constant is confirmed by the check run
        self.made[id(t)] = (t, mod, name, user_line() if not ok else None,
                            "direct" if ok and direct else "checked" if ok else None)

    def __call__(self, op, inputs, params, arrays, name):
        line = user_line()
        args = []
        for i, v in enumerate(inputs):
            if isinstance(v, Tensor):
                r = self.ref(v)
                if arrays is not None and arrays[i] is not v._data:
                    a = arrays[i]
                    if not isinstance(a, _ndarray) or a.shape != v._data.shape:
                        self.graph_break(f"{op.name}'s operands (a conversion the recorder "
                                         "cannot express)")
                    r = Ref(r.n, a.dtype)
                args.append(r)
            elif arrays is not None and isinstance(arrays[i], _ndarray):
                args.append(self.const(arrays[i]))
            else:
                args.append(v)
        kw = self.encode(params) if params else {}
        stack = list(kw.values())
        while stack:                    # x[mask]: how many elements come out depends on values
            v = stack.pop()
            if isinstance(v, Ref) and self.slots[v.n].kind != "const" and \
                    self.slots[v.n].array.dtype == bool:
                self.graph_break(f"{op.name} with a boolean mask from a tensor (the result's "
                                 "shape depends on the values)")
            elif type(v) in (tuple, list):
                stack.extend(v)
        hook = _grad_state.apply_hook
        _grad_state.apply_hook = self.prev
        try:
            out = apply(op, inputs, params, arrays, name)
        finally:
            _grad_state.apply_hook = hook
        n = self.add("step", len(self.steps), out._data, out)
        self.steps.append(Step(op, True, args, kw, n, out._grad_fn, line))
        return out

    def nondiff(self, fn, args, kwargs):
        refs = [self.ref(a) if isinstance(a, Tensor) else
                self.encode_value(a) if isinstance(a, _ndarray) else a for a in args]
        kw = self.encode(kwargs) if kwargs else {}
        token = B.quiet_fp()
        try:
            value = fn(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
        finally:
            B.restore_fp(token)
        t = wrap(B.xp.asarray(value))
        self.made.pop(id(t), None)
        n = self.add("step", len(self.steps), t._data, t)
        self.steps.append(Step(fn, False, refs, kw, n, None, None))
        return t

    # --- effects: a whole training step ----------------------------------------------------
    def _boundary(self, t):
        """The slot of ``t`` itself when it is an argument or a tensor read from outside (or
        a ``.grad`` after a recorded backward), else None."""
        n = self.by_array.get(id(t._data))
        if n is None:
            return None
        s = self.slots[n]
        if s.kind not in ("input", "external", "grad") or s.stale:
            return None
        return s

    def begins(self):
        """An effect is about to change state: the check run stops here (it compares what
        came before), and the arrays made from no recorded value so far are the ones it
        checks."""
        if self.checking:
            raise StopRecording
        if self.unexplained_before is None:
            self.unexplained_before = self.unexplained

    def effect(self, kind, args, params):
        self.effects += 1
        self.steps.append(Step(Effect(kind), False, args, params, None, None, user_line()))

    def backward(self, run, outputs, grads, retain_graph, create_graph, inputs, accumulate,
                 trace):
        """``loss.backward()`` inside the function: recorded (the replay runs the generated
        backward and adds into the leaves' ``.grad`` as the engine does) when it starts at one
        recorded output, every node it reaches was recorded here and every leaf it reaches is
        an argument or a tensor read from outside, without hooks; else a graph break.  The
        backward itself runs eagerly, unrecorded."""
        why = None
        if not accumulate or create_graph or retain_graph or inputs is not None or \
                len(outputs) != 1 or trace is not None:
            why = "autograd.grad(), or backward() with retain_graph, create_graph or inputs"
        leaves = []
        if why is None:
            root = outputs[0]
            steps = {id(st.node) for st in self.steps if st.node is not None}
            n = self.by_array.get(id(root._data))
            if n is None or root._grad_fn is None or id(root._grad_fn) not in steps:
                why = "backward() from a tensor the function did not compute"
            seen, stack = set(), [root._grad_fn]
            while why is None and stack:
                node = stack.pop()
                if id(node) not in steps:
                    why = "backward() into a graph made outside the compiled function"
                    break
                for e in node.next:
                    if e is None or id(e) in seen:
                        continue
                    seen.add(id(e))
                    if isinstance(e, Tensor):
                        s = self._boundary(e)
                        if s is None or s.kind == "grad" or s.tensor is not e or e._hooks:
                            why = "backward() to a leaf that is not an argument or a tensor " \
                                  "read from outside, or one with hooks"
                            break
                        leaves.append(s.n)
                    else:
                        stack.append(e)
        if why is not None:
            self.graph_break(f"{why} (the replay would skip it)")
            return self._unrecorded(run, outputs, grads, retain_graph, create_graph, inputs,
                                    accumulate, trace)
        for node in [root._grad_fn] + [e for e in seen_nodes(root._grad_fn)]:
            self.kept_out[id(node)] = node.out_data is not None   # (the backward frees it)
        self.begins()
        seed = grads[0]
        g = None if type(seed) is _ndarray and seed.shape == root._data.shape and \
            seed.dtype == root._data.dtype and (seed == 1).all() and \
            id(seed) not in self.by_array else self.encode_value(B.xp.asarray(seed))
        self.effect("backward", [], {"root": Ref(n), "grad": g,
                                     "leaves": [Ref(k) for k in leaves]})
        st = self.steps[-1]
        found = self._unrecorded(run, outputs, grads, retain_graph, create_graph, inputs,
                                 accumulate, trace)
        grads_of = []
        for k in leaves:                # each leaf's .grad after it: a value later ops may read
            leaf = self.slots[k].tensor
            grads_of.append(self.add("grad", k, leaf._grad._data, leaf._grad))
        st.params["grads"] = grads_of
        return found

    def out_kept(self, node):
        """Whether ``node`` keeps its output for its rules (as it did before a recorded
        backward freed it)."""
        return self.kept_out.get(id(node), node.out_data is not None)

    def _unrecorded(self, run, *args):
        hook, rec = _grad_state.apply_hook, _grad_state.recorder
        _grad_state.apply_hook = _grad_state.recorder = None
        try:
            return run(*args)
        finally:
            _grad_state.apply_hook, _grad_state.recorder = hook, rec

    def grad_read(self, t):
        """``t.grad`` read inside the function: fine when it is a gradient a recorded backward
        made (or None); a ``.grad`` from before the call is a tensor the replay could not
        find again (backward and zero_grad replace it)."""
        g = t._grad
        if g is None:
            return
        n = self.by_array.get(id(g._data))
        if n is None or self.slots[n].kind != "grad" or self.slots[n].stale:
            self.graph_break("reading .grad of a tensor before backward() in the same call (the "
                             "replay would not see a later backward() or zero_grad() replace it)")

    def set_data(self, t, value):
        """``t.data = value``: recorded when t is an argument or a tensor read from outside
        and value was computed here."""
        s = self._boundary(t)
        if s is None or s.kind == "grad" or s.tensor is not t or not isinstance(value, Tensor):
            self.graph_break("setting .data of a tensor made inside the function, or to a "
                             "value the recorder did not see")
            return
        self.begins()
        self.effect("set_data", [Ref(s.n), self.ref(value)], {})

    def set_grad(self, t, value):
        """``t.grad = None`` for an argument or a tensor read from outside: recorded (its
        ``.grad`` read before is then out of date); any other ``.grad`` assignment is a graph
        break."""
        s = self._boundary(t)
        if value is not None or s is None or s.kind == "grad" or s.tensor is not t:
            self.graph_break("setting .grad (to a tensor, or of a tensor made inside)")
            return
        self.begins()
        self.effect("set_grad", [Ref(s.n)], {})
        for g in self.slots:
            if g.kind == "grad" and g.index == s.n:
                g.stale = g.stale or "setting .grad = None"

    def in_place(self, x, what):
        """Before an in-place op on x: whether it can be recorded (x's own array is an
        argument, a tensor read from outside or a recorded ``.grad``, and no gradient is
        recorded for it); else a graph break.  ``in_place_done`` records it after."""
        s = self._boundary(x)
        if s is None or (_grad_state.enabled and x._requires_grad):
            self.graph_break(f"{what} (an in-place change)")
            return None
        self.begins()
        return s

    def in_place_done(self, s, x, value):
        """After the in-place op: x's array now holds ``value`` (a recorded tensor, copied in
        with NumPy's unsafe casting, as ``_write``) or the number ``value`` (``fill_``)."""
        bump = x is s.tensor            # the replay bumps that tensor's version counter too
        if isinstance(value, Tensor):
            self.effect("copy", [Ref(s.n), self.ref(value)], {"bump": bump})
        else:
            self.effect("fill", [Ref(s.n)], {"value": value, "bump": bump})
        if s.box is not None:
            s.version = s.box[0]

    def call(self, what, fn, stales):
        """An optimizer's ``step()`` or a ``zero_grad()``: called again, as it is, by the
        replay (it reads and writes tensors the recorder does not see, so it runs unrecorded
        now).  Afterwards the ``.grad``s are out of date, and unless ``stales`` is "grads", the
        tensors ``stales()`` names (an optimizer's parameters and state, asked after the call):
        reading them again in the same call is a graph break."""
        if stales == "grads":       # zero_grad(): what the check run compares before the
            if self.checking:       # first backward does not depend on it; it passes over it
                self.effect("call", [], {"fn": fn, "what": what})
                return None
        else:
            self.begins()
        self.effect("call", [], {"fn": fn, "what": what})
        result = self._unrecorded(fn)
        touched = set() if stales == "grads" else {id(t) for t in stales()}
        self.touched.update((i, what) for i in touched)
        for s in self.slots:
            if s.kind == "grad" or s.tensor is not None and id(s.tensor) in touched:
                s.stale = s.stale or what
        return result

    # --- values -----------------------------------------------------------------------------
    def add(self, kind, index, array, tensor):
        n = len(self.slots)
        self.slots.append(Slot(n, kind, index, array, tensor))
        self.by_array[id(array)] = n
        self.keep.append(array)
        return n

    def const(self, array):
        n = self.by_array.get(id(array))
        if n is not None:
            return Ref(n)
        array = array.copy()
        array.flags.writeable = False    # a constant is shared by every replay: never written
        return Ref(self.add("const", None, array, None))

    def check(self, slot, t):
        """A graph break when ``t`` (slot's tensor, or one sharing its array) changed in place."""
        if slot.box is None:
            return
        if t._vc is not slot.box and t is slot.tensor:     # a view took its base's counter
            slot.box, slot.version = t._vc, t._vc[0]
        elif slot.box[0] != slot.version:
            self.graph_break("an in-place change to a tensor (noticed here)")

    def ref(self, t):
        """The slot holding tensor ``t``'s value (new for a tensor read from outside)."""
        n = self.by_array.get(id(t._data))
        if n is not None:
            if self.slots[n].stale:
                self.graph_break(f"reading a tensor after {self.slots[n].stale} in the same call "
                                 "(its value there is not the one the recording saw)")
            self.check(self.slots[n], t)
            return Ref(n)
        for i, what in self.touched:        # a tensor a recorded call changed, met after it
            if i == id(t):
                self.graph_break(f"reading a tensor after {what} in the same call (its value "
                                 "there is not the one the recording saw)")
        b = self.made.get(id(t))
        if b is not None:
            _, mod, name, line, ok = b
            if not ok:
                self.graph_break(f"{name}() (chainrule.{mod}) made a tensor the recorder cannot "
                                 "follow", line)
            elif ok == "checked":
                self.unexplained += 1
            return self.const(t._data)
        return Ref(self.add("external", None, t._data, t))

    def encode_value(self, a):
        """An array argument: the slot it is, or came from by a cast (a loss's target as
        int64, an index), else a constant."""
        n = self.by_array.get(id(a))
        if n is not None:
            return Ref(n)
        for s in self.slots:
            if s.kind != "const" and s.array.shape == a.shape and s.array.size > 0 and \
                    B.xp.array_equal(s.array, a):
                self.unexplained += 1   # taken for a copy of s: the check run confirms it
                return Ref(s.n, None if s.array.dtype == a.dtype else a.dtype)
        self.unexplained += 1       # made from shapes alone, or from values: the check decides
        return self.const(a)

    def encode(self, params):
        """params with Tensors and arrays (also inside tuples and lists) made Refs."""
        out = {}
        for k, v in params.items():
            if isinstance(v, Tensor):
                out[k] = self.ref(v)
            elif isinstance(v, _ndarray):
                out[k] = self.encode_value(v)
            elif type(v) in (tuple, list) and any(isinstance(e, (Tensor, _ndarray)) for e in v):
                out[k] = type(v)(self.ref(e) if isinstance(e, Tensor) else
                                 self.encode_value(e) if isinstance(e, _ndarray) else e
                                 for e in v)
            else:
                out[k] = v
        return out

    def input(self, index, t):
        n = self.by_array.get(id(t._data))
        if n is None:
            n = self.add("input", index, t._data, t)
        return n

    def finish_checks(self):
        """Graph breaks found at the end: values changed in place, hooks on intermediates."""
        for s in self.slots:      # (a stale value was changed by a call the replay makes)
            if s.box is not None and s.box[0] != s.version and not s.stale:
                self.graph_break("an in-place change to a tensor the function read or made",
                                 "the function's body")
                break
        for st in self.steps:
            if st.node is not None and st.node.pre_hooks:
                self.graph_break("register_hook() or retain_grad() on a tensor made inside "
                                 "the function", "the function's body")
                break


class Meta:
    """What a recording keeps of a value once its code is written: shape and dtype (not the
    array of the recording call, nor its tensor and graph)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def astype(self, dtype):
        return Meta(self.shape, B.xp.dtype(dtype))


LEAF = object()     # a skeleton's edge to anything the recording did not make (a leaf)


class Skeleton:
    """What the code writer reads of a recorded node, kept instead of the node itself: its
    name, its edges in order (a ``Skeleton``, ``LEAF`` or None) and whether it kept its
    output for its rules.  The node's saved arrays are not kept."""

    __slots__ = ("label", "next", "out_kept")

    def __init__(self, label, out_kept):
        self.label = label
        self.out_kept = out_kept
        self.next = ()

    def name(self):
        return self.label


def lighten(rec):
    """Let go of the recording call's arrays, tensors and graph (the code is written later,
    at the first replay, from what is left): only constants keep their arrays, and each
    node becomes its ``Skeleton``."""
    made = {}
    for st in rec.steps:
        if st.node is not None:
            made[id(st.node)] = Skeleton(st.node.name(), rec.out_kept(st.node))
    for st in rec.steps:
        if st.node is not None:
            made[id(st.node)].next = tuple(None if e is None else made.get(id(e), LEAF)
                                           for e in st.node.next)
    for st in rec.steps:
        if st.node is not None:
            st.node = made[id(st.node)]
    for s in rec.slots:
        if s.kind != "const":
            s.array = Meta(s.array.shape, s.array.dtype)
            s.tensor = None
            s.box = None
    rec.by_array = rec.made = None
    rec.kept_out = {}
    rec.keep = []


def replay_with_graph(rec, given):
    """Run the recorded steps again as tensor operations (recording a graph) from ``given``
    ({slot number: tensor}, the inputs): what a compiled call's backward falls back to under
    ``create_graph=True``.  Returns {slot number: tensor}."""
    from ..functional._args import nondiff
    values = dict(given)
    for st in rec.steps:
        def value(v):
            if isinstance(v, Ref):
                s = rec.slots[v.n]
                t = values.get(v.n)
                if t is None:
                    t = values[v.n] = wrap(s.array)     # a constant
                return t
            return v

        def raw(v):
            if isinstance(v, Ref):
                a = value(v)._data
                return a if v.dtype is None else a.astype(v.dtype)
            if type(v) in (tuple, list):
                return type(v)(raw(e) for e in v)
            return v
        params = {k: raw(v) for k, v in st.params.items()}
        if st.prim:
            inputs = tuple(value(v) for v in st.args)
            arrays = None
            if any(isinstance(v, Ref) and v.dtype is not None for v in st.args):
                arrays = [raw(v) if isinstance(v, Ref) else v for v in st.args]
            values[st.out] = apply(st.fn, inputs, params, arrays)
        else:
            values[st.out] = nondiff(st.fn, *[value(v) if isinstance(v, Ref) and
                                             rec.slots[v.n].kind != "const" else raw(v)
                                             for v in st.args], **params)
    return values


def _same(a, b, r1, r2):
    """Whether two recorded arguments (or params) are the same, constants by value."""
    if isinstance(a, Ref) or isinstance(b, Ref):
        if not (isinstance(a, Ref) and isinstance(b, Ref)) or a.n != b.n or a.dtype != b.dtype:
            return False
        s1, s2 = r1.slots[a.n], r2.slots[b.n]
        if s1.kind != s2.kind:
            return False
        return s1.kind != "const" or (s1.array.shape == s2.array.shape and
                                      B.xp.array_equal(s1.array, s2.array, equal_nan=True))
    if type(a) is not type(b):
        return False
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(_same(x, y, r1, r2) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k], r1, r2) for k in a)
    if isinstance(a, _ndarray):
        return a.shape == b.shape and B.xp.array_equal(a, b, equal_nan=True)
    if callable(a) and hasattr(a, "__code__"):      # a function made anew on each call
        cells = [c.cell_contents for c in (a.__closure__ or ())]
        others = [c.cell_contents for c in (b.__closure__ or ())]
        return a.__code__ is b.__code__ and len(cells) == len(others) and \
            all(x is y or _same(x, y, r1, r2) for x, y in zip(cells, others))
    try:
        return a is b or a == b or (a != a and b != b)
    except Exception:   # noqa: BLE001 - objects that refuse comparison: the same object only
        return False


def differences(r1, r2, result1, result2):
    """(what, line) of the first difference between two recordings of one function, or None."""
    if result2 is None and r2.checking and len(r2.steps) < len(r1.steps):
        n = len(r2.steps)       # the check run stopped at the first effect: where the first
        if type(r1.steps[n].fn) is not Effect:      # run had one too, else it took another path
            return ("Python took another path on other input values (a branch on tensor "
                    "values the recorder did not see)", "the function's body")
        r1 = _Prefix(r1, n)
        result1 = None
    if len(r1.steps) != len(r2.steps):
        return ("Python took another path on other input values (a branch on tensor values "
                "the recorder did not see)", "the function's body")
    for s1, s2 in zip(r1.steps, r2.steps):
        where = s1.line or "the function's body"
        name = s1.fn.name if s1.prim else getattr(s1.fn, "__name__", "a NumPy function")
        if not _same(s1.fn, s2.fn, r1, r2) or not _same(s1.args, s2.args, r1, r2):
            return (f"{name} got other operands on other input values", where)
        if type(s1.fn) is Effect:       # (a zero_grad() the check run passed over)
            continue
        for k in s1.params:
            if not _same(s1.params[k], s2.params.get(k), r1, r2):
                return (f"{name}'s {k} is computed from tensor values outside any operation the "
                        "recorder sees (in NumPy), or equals an input by chance, so a replay could "
                        "not recompute it", where)
    o1 = result1 if type(result1) in (tuple, list) else (result1,)
    o2 = result2 if type(result2) in (tuple, list) else (result2,)
    if len(o1) != len(o2):
        return ("the function returned other outputs on other input values", "its return")
    return None


class _Prefix:
    """The first n steps of a recording (what a check run that stopped is compared with)."""

    def __init__(self, rec, n):
        self.slots = rec.slots
        self.steps = rec.steps[:n]


def freed(array):
    """A node's record of an input its rules read only the shape and dtype of."""
    return Freed(array)
