"""``chainrule.compile``: record a function's call once, replay it as straight-line NumPy.

The first call with a new *signature* (input shapes, dtypes, which require grad, grad mode, a
module's training flags and parameters, the values of non-tensor arguments) runs eagerly while
``recording.Recorder`` notes every op; ``codegen`` writes the ops out as a ``forward`` over
arrays and, per output that needs a gradient, a ``backward`` that calls the same VJP rules the
engine would, in the engine's order.  Later calls with that signature run ``forward`` and
return tensors whose ``grad_fn`` is one node (AOTAutograd's model): the engine runs it like any
other node, so hooks, ``retain_graph`` and accumulation into ``.grad`` are the engine's own.

Anything the recording cannot replay (Python reading tensor values, random draws, in-place
changes, a custom ``autograd.Function``) is a graph break: the function runs eagerly from then
on, after one warning naming the line (``fullgraph=True``: an error instead).  What no recorder
can see is Python control flow on non-tensor state: see docs/compile.md.

>>> w = chainrule.tensor([1.0, 2.0], requires_grad=True)
>>> f = chainrule.compile(lambda x: (x * w).sum())
>>> f(chainrule.ones(2))          # the first call records (an eager call)
tensor(3., grad_fn=<SumBackward0>)
>>> f(chainrule.ones(2))          # later ones replay: one node for the whole call
tensor(3., grad_fn=<CompiledFunctionBackward>)
"""
import functools
import itertools
import operator
import os
import weakref
import sys
import types
import warnings

from .. import _backend as B
from .._fns import ArrayF
from ..engine import SECOND_BACKWARD, grad, raise_modified
from ..grad_mode import state as _grad_state
from ..graph import Node
from ..nn.modules.module import Members, Module, tree_changes
from ..tensor import Tensor, wrap
from .recording import (Effect, GraphBreak, Recorder, StopRecording, differences, freed,
                        lighten, read_slots, replay_with_graph)

__all__ = ["compile", "OptimizedModule", "GraphBreak", "cache_size_limit", "reset"]

# How many recordings one compiled function keeps (torch._dynamo.config.cache_size_limit):
# a call with a new signature past this many runs eagerly, after one warning.
cache_size_limit = 8

_SIMPLE = (int, float, bool, str, type(None), complex)
# torch.compile's modes; the ones that keep a workspace between calls (CUDA graphs there)
MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_KEEPING = ("reduce-overhead", "max-autotune")
_DATA = operator.attrgetter("_data")
_quiet_fp, _restore_fp = B.quiet_fp, B.restore_fp
_weakref = weakref.ref
EAGER = object()        # what a replay returns when this call must run eagerly instead
_WALKED = 1024          # longer lists and dicts are not searched for tensors (a data set)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CompiledOp:
    """The op of a compiled call's node: answers the engine's ``vjp`` with the generated
    backward of one output (what an ``autograd.Function``'s op is to its node)."""

    nary = False
    joint = True
    saves = ()
    saves_out = False
    formulas = ()
    vjp_texts = ()
    name = "compiled"
    backward_name = "CompiledFunctionBackward"

    def __init__(self, program, k, fn_name):
        self.program = program
        self.k = k
        self.fn_name = fn_name
        self.probed = False

    def vjp(self, F, g, out, inputs, params, edges):
        call = params["call"]
        saved = call.saved
        if saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        for box, version, data in call.checks:
            if box[0] != version:
                raise_modified(call.node(), None, version, box[0], data)
        if F is not ArrayF:
            return self.with_graph(g, call.inputs, edges)
        prog = self.program
        box = [saved]           # the generated backward pops it: it then holds the only
        del saved               # references, and drops each array after its last use
        if _grad_state.releasing:     # backward() without retain_graph: the node lets go now
            self.release(call.node())
        grads = prog.backwards[self.k](g, box)
        if len(grads) > 1:      # one array for two inputs (``a + b``'s gradient): the engine
            seen = set()        # may keep each as a leaf's .grad, so each gets its own
            for i, a in enumerate(grads):
                if a is not None:
                    if id(a) in seen:
                        grads = list(grads)
                        grads[i] = a.copy()
                    seen.add(id(a))
        if not self.probed:         # the first backward probed every delivery: write it again
            self.probed = True
            prog.specialize()
        return grads

    def with_graph(self, g, bt, edges):
        """Under ``create_graph=True``: the recorded ops run again on the inputs as tensor
        operations, and the engine differentiates them with a graph (eager mode's answer; the
        generated backward is NumPy code and records none)."""
        w = self.program.writer
        values = replay_with_graph(w.rec, dict(zip(w.boundary, bt)))
        want = [i for i, e in enumerate(edges) if e is not None]
        found = grad(values[w.outputs[self.k]], [bt[i] for i in want], grad_outputs=g,
                     create_graph=True, allow_unused=True)
        result = [None] * len(bt)
        for i, gi in zip(want, found):
            result[i] = gi
        return result

    def release(self, node):
        call = node.params["call"]
        if call.saved:
            call.saved = None
            node.freed = True


class Call:
    """What one compiled call's node keeps for its backward: the arrays the generated
    backward reads (``saved``), the versions to check them against (``checks``), the input
    tensors (``inputs``, for create_graph) and a weak reference to the node."""

    __slots__ = ("saved", "checks", "inputs", "node")

    def __init__(self, saved, checks, inputs):
        self.saved = saved
        self.checks = checks
        self.inputs = inputs
        self.node = None

    def __repr__(self):
        n = 0 if self.saved is None else len(self.saved)
        return f"<{n} saved arrays>"


class _Entry:
    """One recording: its program, the boundary (inputs, then tensors read from outside),
    the guards a call must pass, and how to rebuild the outputs."""

    def __init__(self, program, boundary, externals, guards, outputs, structure, ops, freeds,
                 checks):
        self.program = program
        self.boundary = boundary        # per boundary position: int (argument) or Tensor
        self.externals = externals      # (tensor, shape, dtype, requires_grad)
        self.guards = guards            # (dict or cell, name or None, tensor)
        self.outputs = outputs          # per output: (mode, boundary position or None)
        self.structure = structure      # "one", or (type, per item: None or (type, length))
        self.ops = ops                  # per output: CompiledOp or None
        self.freeds = freeds            # per output: the node's records of its inputs
        self.checks = checks            # boundary positions and outputs whose arrays are saved
        self.leaves = None              # a training step: the leaves it adds gradients into
        self.specialized = False        # a training step's code written after its first replay
        self.make = None                # writes the program (at the first replay)
        self.dead = {}                  # output -> the freed node a training step's loss gets

    def ok(self):
        for t, shape, dtype, rg in self.externals:
            d = t._data
            if d.shape != shape or d.dtype != dtype or t._requires_grad != rg:
                return False
        for where, name, t in self.guards:
            v = where.get(name) if name is not None else _cell(where)
            if v is not t:
                return False
        return True

    def written(self):
        """The program, written now if this is its first use."""
        if self.program is None:
            self.program, self.ops, self.checks = self.make()
            self.make = None
        return self.program

    def run(self, tensors):
        """The outputs of a replay on ``tensors`` (the call's argument tensors), or ``EAGER``
        when a training step's leaf is no longer one the recording could add into."""
        bt = [tensors[b] if type(b) is int else b for b in self.boundary] if tensors else \
            self.boundary
        prog = self.program
        if prog is None:
            prog = self.written()
        if prog.forward is None:        # the first replay: write the code now
            prog.render()
        arrays = list(map(_DATA, bt))
        if self.leaves is not None:     # a training step: it adds into these leaves' .grad
            for i in self.leaves:
                if bt[i]._grad_fn is not None or bt[i]._hooks or not bt[i]._requires_grad:
                    return EAGER
            arrays.append(bt)
        token = _quiet_fp()
        try:
            outs, saved = prog.forward(*arrays)
        finally:
            _restore_fp(token)
        if self.leaves is not None and not self.specialized:   # a training step's backwards
            self.specialized = True     # ran inside: write them again for what they probed
            prog.specialize()
        results = []
        k = 0
        for mode, pos in self.outputs:
            if mode == "same":
                results.append(bt[pos])
                k += 1
                continue
            a = outs[k]
            t = wrap(a.copy() if mode == "const" else a)
            if mode == "dead":      # a training step's loss: its graph was used and freed
                node = self.dead.get(k)
                if node is None:        # (one per output: a backward through it only raises)
                    node = self.dead[k] = Node(self.ops[k], self.freeds[k], (None,) * len(bt),
                                               {"call": Call(None, [], None)})
                    node.freed = True
                t._requires_grad = True
                t._grad_fn = node
            if mode == "node":
                nxt = [None] * len(bt)
                for i in prog.edges[k]:
                    b = bt[i]
                    if b._requires_grad:
                        nxt[i] = b._grad_fn or b
                checks = [(bt[i]._vc, bt[i]._vc[0], bt[i]._data) for i in self.checks[0]] \
                    if self.checks[0] else []
                call = Call(saved, checks, bt)
                node = Node(self.ops[k], self.freeds[k], tuple(nxt), {"call": call})
                call.node = _weakref(node)
                t._requires_grad = True
                t._grad_fn = node
            results.append(t)
            k += 1
        if self.checks[1]:          # outputs the backward reads: their in-place changes too
            for t in results:
                if t._grad_fn is not None and type(t._grad_fn) is Node and \
                        type(t._grad_fn.op) is CompiledOp:
                    t._grad_fn.params["call"].checks.extend(
                        (results[k]._vc, 0, results[k]._data) for k in self.checks[1])
        if self.structure == "one":
            return results[0]
        if self.structure == "none":
            return None
        tp, spec = self.structure
        items, i = [], 0
        for s in spec:
            if s is None:
                items.append(results[i])
                i += 1
            else:
                items.append(_make(s[0], results[i:i + s[1]]))
                i += s[1]
        return _make(tp, items)


def _substitute(obj, swap):
    """``obj`` (arguments: tensors in tuples, lists and dicts) with tensors replaced by
    ``swap[id(t)]``, one level of nesting deep (deeper tensors are left as they are)."""
    def one(v):
        return swap.get(id(v), v) if isinstance(v, Tensor) else v
    if type(obj) is dict:
        return {k: (type(v)(one(e) for e in v) if type(v) in (tuple, list) else
                    {a: one(b) for a, b in v.items()} if type(v) is dict else one(v))
                for k, v in obj.items()}
    return type(obj)(type(v)(one(e) for e in v) if type(v) in (tuple, list) else
                     {a: one(b) for a, b in v.items()} if type(v) is dict else one(v)
                     for v in obj)


def _flatten(result):
    """(structure, tensors) of what a function returned: a tensor, None, or a tuple or list
    (also a namedtuple) of tensors and of tuples of tensors (an LSTM's ``(out, (h, c))``);
    structure None for anything else."""
    if isinstance(result, Tensor):
        return "one", [result]
    if result is None:          # a training step that returns nothing
        return "none", []
    if not isinstance(result, (tuple, list)) or not result:
        return None, None
    spec, outs = [], []
    for e in result:
        if isinstance(e, Tensor):
            spec.append(None)
            outs.append(e)
        elif isinstance(e, (tuple, list)) and e and all(isinstance(q, Tensor) for q in e):
            spec.append((type(e), len(e)))
            outs.extend(e)
        else:
            return None, None
    return (type(result), spec), outs


def _make(tp, items):
    return tp._make(items) if hasattr(tp, "_make") else tp(items)


def _stacklevel():
    """``warnings.warn``'s stacklevel for the caller's caller's first frame outside chainrule:
    the warning points at the user's call, also through ``Module.__call__``."""
    f, level = sys._getframe(2), 2
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f, level = f.f_back, level + 1
    return level


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return None


def _signature(args, kwargs, tensors):
    """The key of a call (appending its tensors to ``tensors``)."""
    if not kwargs:          # the common call: numbers and tensors, no containers
        key = [_grad_state.enabled, (tuple, len(args))]    # as the general walk writes args
        for v in args:
            tp = type(v)
            if tp is Tensor:
                d = v._data
                alias = None
                if tensors:
                    for i, t in enumerate(tensors):
                        if t._data is d:
                            alias = i
                            break
                tensors.append(v)
                key.append((d.shape, d.dtype, v._requires_grad, alias))
            elif tp is float or tp is int or tp is bool:
                key.append((tp, v if v == v else repr(v)))
            else:
                del tensors[:]
                break
        else:
            return tuple(key)
    key = [_grad_state.enabled]
    stack = [kwargs, args]
    while stack:
        v = stack.pop()
        tp = type(v)
        if tp in _SIMPLE:
            key.append((tp, v if v == v else repr(v)))
        elif isinstance(v, Tensor):
            d = v._data
            alias = None
            for i, t in enumerate(tensors):
                if t._data is d:
                    alias = i
                    break
            tensors.append(v)
            key.append((d.shape, d.dtype, v._requires_grad, alias))
        elif tp is tuple or tp is list:
            key.append((tp, len(v)))
            stack.extend(reversed(v))
        elif tp is dict:
            ks = tuple(v)
            key.append((dict, ks))
            stack.extend(v[k] for k in reversed(ks))
        elif isinstance(v, B.xp.generic):      # a NumPy number: by value, as a Python one
            key.append((tp, v.item() if v == v else repr(v)))
        else:
            key.append((tp, id(v)))
    return tuple(key)


_TRAINING = operator.attrgetter("training")
_DICTS = operator.attrgetter("_modules", "_parameters", "_buffers")
_VALUES = operator.methodcaller("values")
_chain = itertools.chain.from_iterable


class _ModuleTree:
    """The part of a compiled module's signature its tree gives: every module's training
    flag, and the identity of every module, parameter and buffer in it (and of the dicts that
    hold them).  The flags are read on every call; the identities only when some module's
    members changed since the last look (``tree_changes``: every ``Members`` dict counts its
    writes), or on every call where the tree holds a dict that does not count them; the tree
    is walked again only when an identity changed.  ``held`` keeps what the key names by
    ``id`` alive, so an id is never another object's while a recording keyed by it lives.  A
    parameter's shape, dtype and ``requires_grad`` are not in the key: the recording checks
    those of the tensors it read (``_Entry.ok``) and records again when one changed."""

    def __init__(self, mod):
        self.mod = mod
        self.numbers = {}       # identities -> a small number: the key hashes that, not them
        self.walk()

    def walk(self):
        self.seen = tree_changes[0]     # read first: a change during the walk moves it again
        self.mods = list(self.mod.modules())
        self.ids, self.held = self.identities()
        self.number = self.numbers.setdefault(self.ids, len(self.numbers))
        self.counted = all(type(d) is Members for d in self.held[:3 * len(self.mods)])

    def identities(self):
        dicts = list(_chain(map(_DICTS, self.mods)))
        held = dicts + list(_chain(map(_VALUES, dicts)))
        return tuple(map(id, held)), held

    def key(self):
        now = tree_changes[0]
        if not self.counted or now != self.seen:
            ids, _ = self.identities()
            if ids != self.ids:         # a module, parameter or buffer was added or replaced
                self.walk()
            else:
                self.seen = now
        return tuple(map(_TRAINING, self.mods)), self.number


def _code_names(code):
    """The global and free names ``code`` (and the functions defined in it) reads, sorted."""
    found = _names_of.get(code)
    if found is None:
        found = _names_of[code] = sorted(_walk_names(code))
    return found


# code object -> its names: a recording asks three times, every recording of a function again
_names_of = weakref.WeakKeyDictionary()


def _walk_names(code):
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        names.update(c.co_freevars)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


class Compiled:
    """What ``chainrule.compile(fn)`` returns for a function: call it as ``fn``."""

    def __init__(self, fn, fullgraph, dynamic, options, disable, module=None, mode=None):
        self.fn = fn
        # the CUDA-graph modes keep their workspace from one call to the next: here, the
        # generated backward's scratch arrays (see docs/compile.md, "mode")
        self.keep_buffers = mode in _KEEPING
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.options = dict(options or {})
        self.disable = disable
        self.module = module
        self.tree = None if module is None else _ModuleTree(module)
        self.guards = tuple(self.options.get("guards", ()))
        self.cache = {}
        self.broken = None
        self.full_warned = False
        self.recordings = 0
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args, **kwargs):
        if self.disable or self.broken is not None or _grad_state.apply_hook is not None or \
                _grad_state.recorder is not None:
            return self.fn(*args, **kwargs)
        tensors = []
        key = _signature(args, kwargs, tensors)
        if self.tree is not None:
            key = (key, self.tree.key())
        for guard in self.guards:
            key = (key, guard())
        entry = self.cache.get(key)
        if entry is not None and entry.ok():
            result = entry.run(tensors)
            if result is not EAGER:
                return result
            return self.fn(*args, **kwargs)
        if entry is None and len(self.cache) >= cache_size_limit:
            if not self.full_warned:
                self.full_warned = True
                warnings.warn(
                    f"chainrule.compile: {self._name()} has been recorded for "
                    f"{cache_size_limit} signatures (chainrule.compiler.cache_size_limit); calls "
                    "with other signatures run eagerly. Raise the limit, or keep shapes and "
                    "non-tensor arguments the same between calls", UserWarning,
                    stacklevel=_stacklevel())
            return self.fn(*args, **kwargs)
        return self._record(key, args, kwargs, tensors)

    def _name(self):
        return getattr(self.fn, "__qualname__", None) or type(self.fn).__name__

    def _trace(self, args, kwargs, tensors, reachable, fullgraph, check=False):
        """Run the function once under a new ``Recorder``: (the recorder, the result).  The
        check run (``check``) stops where a training step's first effect would change state
        (result None)."""
        rec = Recorder(fullgraph)
        rec.checking = check
        rec.prev = None
        for i, t in enumerate(tensors):
            rec.input(i, t)
        # the tensors it can reach from outside, known before it runs: an index array taken
        # from one of them (a closure's labels) is then read from it on every call, not frozen
        for t in reachable:
            if id(t._data) not in rec.by_array:
                rec.add("external", None, t._data, t)
        _grad_state.apply_hook = rec
        _grad_state.recorder = rec
        try:
            result = self.fn(*args, **kwargs)
        except StopRecording:
            result = None
        finally:
            _grad_state.apply_hook = None
            _grad_state.recorder = None
        return rec, result

    def _check(self, rec, result, args, kwargs, tensors, reachable):
        """Run the function a second time on the same inputs with their elements shuffled,
        and compare the two recordings (torch.jit.trace's ``check_trace``): an array that
        NumPy computed from tensor values outside any primitive (max unpooling's positions)
        differs between them, and a replay could not recompute it: a graph break."""
        rng = B.xp.random.default_rng(0)

        def shuffled(a):
            return rng.permutation(a.reshape(-1)).reshape(a.shape) if a.size > 1 else a.copy()
        swap = {}
        for t in tensors:
            if id(t) not in swap:
                c = wrap(shuffled(t._data), t._requires_grad)
                swap[id(t)] = c
        args2, kwargs2 = _substitute(args, swap), _substitute(kwargs, swap)
        # (and every tensor the first run read from outside: a label tensor reached through
        # an object, whose values NumPy may have computed an index from)
        shuffle = list(reachable) + [s.tensor for s in rec.slots if s.kind == "external" and
                                     s.tensor is not None and
                                     all(s.tensor is not t for t in reachable)]
        saved = [(t, t._data) for t in shuffle]
        try:
            for t, a in saved:
                t._data = shuffled(a)
            rec2, result2 = self._trace(args2, kwargs2, [swap[id(t)] for t in tensors],
                                        reachable, False, check=True)
        except Exception as e:          # noqa: BLE001 - the check itself could not run
            return (f"running it again on shuffled inputs raised {type(e).__name__} (the "
                    "recording could not be checked)", None)
        finally:
            for t, a in saved:
                t._data = a
        if rec2.broken is not None:
            return rec2.broken
        return differences(rec, rec2, result, result2)

    def _record(self, key, args, kwargs, tensors):
        reachable = self._reachable()
        rec, result = self._trace(args, kwargs, tensors, reachable, self.fullgraph)
        # the check is needed only where an array reached a primitive from no recorded value
        if rec.broken is None and rec.unexplained_before is not None and \
                rec.unexplained > rec.unexplained_before:
            rec.graph_break("an array that came from no recorded value after a training step's "
                            "first backward() or update (the check run stops before it)",
                            "the function's body")
        if rec.broken is None and rec.unexplained and self.options.get("check", True):
            found = self._check(rec, result, args, kwargs, tensors, reachable)
            if found is not None:
                rec.graph_break(*found)
        entry = self._build(rec, result, tensors)
        if rec.broken is not None:
            self.broken = rec.broken
            what, line = rec.broken
            warnings.warn(
                f"chainrule.compile: {what} at {line}: {self._name()} cannot be replayed and "
                "runs eagerly from now on (a graph break; fullgraph=True makes it an error)",
                UserWarning, stacklevel=_stacklevel())
            return result
        entry.called_with = _describe(args, kwargs, self.module)
        # what the key names by id stays alive while the recording does (see _ModuleTree)
        entry.held = None if self.tree is None else self.tree.held
        self.cache[key] = entry
        self.recordings += 1
        return result

    def _build(self, rec, result, tensors):
        structure, outs = _flatten(result)
        if structure is None:
            rec.graph_break(f"returning a {type(result).__name__} (a compiled function returns "
                            "a tensor, or a tuple or list of tensors and of tuples of tensors)", "its return")
            return None
        slots = []
        for t in outs:
            slots.append(rec.ref(t).n)
        rec.finish_checks()
        if rec.broken is not None:
            return None
        used = set(slots)
        for st in rec.steps:
            used.update(read_slots(st))
        # every argument tensor stays (its position is fixed); an outside tensor only if read
        keep = [s for s in rec.slots if s.kind == "input" or
                (s.kind == "external" and s.n in used)]
        boundary_slots = [s.n for s in keep]
        boundary = [s.index if s.kind == "input" else s.tensor for s in keep]
        outputs, needs = [], []
        roots = {st.params["root"].n for st in rec.steps if type(st.fn) is Effect and
                 st.fn.kind == "backward"}
        for t, n in zip(outs, slots):
            s = rec.slots[n]
            if s.kind in ("input", "external") and t is s.tensor:
                outputs.append(("same", boundary_slots.index(n)))
                needs.append(False)
            elif s.kind == "const":
                outputs.append(("const", None))
                needs.append(False)
            elif t._requires_grad and roots:    # a training step returns its loss
                if n not in roots:
                    rec.graph_break("returning a tensor that requires grad from a function "
                                    "that calls backward() (return the loss, or .detach() it)",
                                    "its return")
                    return None
                outputs.append(("dead", None))
                needs.append(False)
            elif t._requires_grad:
                if s.kind != "step" or t is not s.tensor or t._grad_fn is None:
                    rec.graph_break("an output that is another tensor's alias with a gradient",
                                    "its return")
                    return None
                outputs.append(("node", None))
                needs.append(True)
            else:
                outputs.append(("plain", None))
                needs.append(False)
        guards = self._guards([rec.slots[n].tensor for n in boundary_slots
                               if rec.slots[n].kind == "external"])
        labels = self._labels(rec, boundary_slots, guards)
        freeds = [tuple(freed(rec.slots[n].array) for n in boundary_slots) for _ in slots]
        externals = [(s.tensor, s.array.shape, s.array.dtype, s.requires_grad)
                     for s in keep if s.kind == "external"]
        leaves = None
        if rec.effects:         # the boundary positions a training step adds gradients into
            leaves = sorted({boundary_slots.index(r.n) for st in rec.steps
                             if type(st.fn) is Effect and st.fn.kind == "backward"
                             for r in st.params["leaves"]})
        lighten(rec)
        entry = _Entry(None, boundary, externals, guards, outputs, structure, None, freeds,
                       None)
        entry.leaves = leaves
        # the code is written at the first replay (a signature called once costs no more
        # than its recording): from the lightened recording, which holds no array of the call
        entry.make = functools.partial(self._generate, rec, slots, boundary_slots, needs,
                                       labels, outputs)
        return entry

    def _generate(self, rec, slots, boundary_slots, needs, labels, outputs):
        """(program, ops, checks) of a recording: its code, the op of each output's node, and
        the boundary positions and outputs whose arrays the backward reads."""
        from .codegen import generate   # (imported at the first replay: an eager program
        program = generate(rec, slots, boundary_slots, needs, labels,     # never loads it)
                           self.keep_buffers)
        saved = program.saved_slots
        checks = ([i for i, n in enumerate(boundary_slots) if n in saved],
                  [k for k, n in enumerate(slots) if n in saved and outputs[k][0] == "node"])
        ops = [CompiledOp(program, k, self._name()) if lines is not None or mode == "dead"
               else None for k, ((lines, _), (mode, _)) in enumerate(zip(program.bodies,
                                                                         outputs))]
        return program, ops, checks

    def _reachable(self):
        """The tensors of the module (parameters, buffers) or of the function's globals and
        closure cells."""
        if self.module is not None:
            return [t for _, t in self.module.named_parameters()] + \
                [t for _, t in self.module.named_buffers()]
        fn = getattr(self.fn, "__func__", self.fn)
        code = getattr(fn, "__code__", None)
        if code is None:
            return []
        g = getattr(fn, "__globals__", {})
        found = [g[n] for n in _code_names(code) if isinstance(g.get(n), Tensor)]
        cells = [_cell(c) for c in getattr(fn, "__closure__", None) or ()]
        found += [v for v in cells if isinstance(v, Tensor)]
        # one level further: the functions, modules and lists of tensors it reaches (a
        # training step's loss function and its labels, a model, a list of parameters), so
        # that an index taken from such a tensor is read from it on every call, not frozen
        seen = {id(t) for t in found}
        stack = [(v, 0) for v in cells + [g.get(n) for n in _code_names(code)]
                 if v is not None and not isinstance(v, Tensor)]
        while stack:
            v, depth = stack.pop()
            if isinstance(v, Tensor):
                if id(v) not in seen:
                    seen.add(id(v))
                    found.append(v)
            elif depth >= 3:
                continue
            elif isinstance(v, Module):
                stack += [(t, depth + 1) for _, t in v.named_parameters()]
                stack += [(t, depth + 1) for _, t in v.named_buffers()]
            elif type(v) in (list, tuple) and len(v) <= _WALKED:
                stack += [(e, depth + 1) for e in v]
            elif type(v) is dict and len(v) <= _WALKED:
                stack += [(e, depth + 1) for e in v.values()]
            elif type(v) is types.FunctionType and v is not fn:
                stack += [(_cell(c), depth + 1) for c in v.__closure__ or ()]
                stack += [(v.__globals__.get(n), depth + 1) for n in _code_names(v.__code__)
                          if isinstance(v.__globals__.get(n), (Tensor, Module))]
        return found

    def _labels(self, rec, boundary_slots, guards):
        """What each input of the generated code is: an argument, a parameter, a global
        (``guards``: where the tensors read from outside were found)."""
        names = {}
        if self.module is not None:
            for n, p in self.module.named_parameters():
                names[id(p)] = f"parameter {n}"
            for n, b in self.module.named_buffers():
                names[id(b)] = f"buffer {n}"
        fn = getattr(self.fn, "__func__", self.fn)
        cells = dict(zip(getattr(getattr(fn, "__code__", None), "co_freevars", ()),
                         getattr(fn, "__closure__", None) or ()))
        cell_names = {id(c): k for k, c in cells.items()}
        for where, name, t in guards:
            names[id(t)] = f"global {name}" if name is not None else \
                f"closure variable {cell_names.get(id(where), '?')}"
        labels = []
        for n in boundary_slots:
            s = rec.slots[n]
            labels.append(f"argument tensor {s.index}" if s.kind == "input" else
                          names.get(id(s.tensor), "a tensor read from outside"))
        return labels

    def _guards(self, external):
        """Where the function finds the tensors it reads from outside (a global, a closure
        cell): a later call checks they are still there, and records again when not."""
        fn = getattr(self.fn, "__func__", self.fn)
        code = getattr(fn, "__code__", None)
        if code is None or not external:
            return []
        ids = {id(t) for t in external}
        guards = []
        g = getattr(fn, "__globals__", {})
        for name in _code_names(code):
            v = g.get(name)
            if isinstance(v, Tensor) and id(v) in ids:
                guards.append((g, name, v))
        for cell in getattr(fn, "__closure__", None) or ():
            v = _cell(cell)
            if isinstance(v, Tensor) and id(v) in ids:
                guards.append((cell, None, v))
        return guards

    def explain(self):
        """The generated forward and backward of every recording, as Python source (what
        ``backward()`` does for this function, written out).

        >>> f = chainrule.compile(lambda x: (x * x).sum())
        >>> _ = f(chainrule.ones(2, requires_grad=True))
        >>> print(f.explain().splitlines()[0])
        # recording 1 of 1: called with (tensor (2,) float32 requiring grad)
        """
        if self.broken is not None:
            what, line = self.broken
            return (f"# {self._name()} runs eagerly: {what} at {line} is a graph break\n")
        if not self.cache:
            return f"# {self._name()} has not been called yet: nothing is recorded\n"
        parts = []
        for i, entry in enumerate(self.cache.values()):
            parts.append(f"# recording {i + 1} of {len(self.cache)}: called with "
                         f"{entry.called_with}\n" + entry.written().source)
        return "\n".join(parts)


def _describe(args, kwargs, module):
    """The call a recording was made for, in words: ``(tensor (2,) float32 requiring grad, 1.0)``."""
    def one(v):
        if isinstance(v, Tensor):
            d = v._data
            return f"tensor {tuple(d.shape)} {d.dtype.name}" + \
                (" requiring grad" if v._requires_grad else "")
        if type(v) in _SIMPLE:
            return repr(v)
        if type(v) in (tuple, list):
            inner = ", ".join(one(e) for e in v)
            return f"[{inner}]" if type(v) is list else f"({inner})"
        return type(v).__name__
    text = ", ".join([one(v) for v in args] + [f"{k}={one(v)}" for k, v in kwargs.items()])
    notes = [] if _grad_state.enabled else ["grad mode off"]
    if module is not None:
        notes.append("training" if module.training else "eval")
    return f"({text})" + (f", {', '.join(notes)}" if notes else "")


class OptimizedModule(Module):
    """What ``chainrule.compile(module)`` returns: a module whose ``forward`` is the compiled
    call of the original (``_orig_mod``); its parameters are the original's, as torch's."""

    def __init__(self, mod, compiled):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled", compiled)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def explain(self):
        """The generated source of the compiled forward (see ``Compiled.explain``)."""
        return self._compiled.explain()

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            mods = self.__dict__.get("_modules")
            if mods is None or "_orig_mod" not in mods:
                raise
            return getattr(mods["_orig_mod"], name)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Record ``model`` (a function or an ``nn.Module``) once per signature and replay later
    calls as generated NumPy code; torch.compile's signature and uses (see docs/compile.md).

    ``mode="reduce-overhead"`` (and "max-autotune", torch's CUDA-graph modes, which keep their
    workspace between calls) keeps the generated backward's scratch arrays from one call to
    the next: faster on large arrays, at the cost of holding them; the other modes and
    ``backend`` change nothing (there is one backend: generated NumPy).
    ``dynamic`` is accepted: every shape and non-tensor argument is part of the signature, as
    torch's ``dynamic=False``.  ``options={"guards": [callable, ...]}`` adds each callable's
    result to the signature: the way to mark Python state the function branches on.

    >>> @chainrule.compile
    ... def f(x):
    ...     return (x * 2).sum()
    >>> x = chainrule.ones(3, requires_grad=True)
    >>> f(x).backward(); f(x).backward(); x.grad
    tensor([4., 4., 4.])
    """
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if model is None:
        def decorate(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, disable=disable)
        return decorate
    if isinstance(model, Module):
        c = Compiled(model, fullgraph, dynamic, options, disable, module=model, mode=mode)
        return OptimizedModule(model, c)
    if not callable(model):
        raise TypeError(f"chainrule.compile expects a function or an nn.Module, got "
                        f"{type(model).__name__}")
    return Compiled(model, fullgraph, dynamic, options, disable, mode=mode)


def reset():
    """Kept for torch's ``torch._dynamo.reset()``: recordings live on each compiled function,
    so there is nothing global to clear; drop the compiled function to drop them."""


