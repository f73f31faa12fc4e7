"""The one reverse pass: the chain rule applied node by node, in topological order.

``backward()``, ``autograd.grad()`` and the explainer all run ``run_backward``; nothing else walks
the graph to compute gradients.  The pass is Kahn's algorithm: a node runs once every node that
consumes its output has sent it a gradient, so each node runs exactly once, with the sum of its
incoming gradients.  It is iterative: depth is bounded only by memory.
"""
import re
import threading
import warnings

from . import _backend as B
from ._fns import ArrayF, Scattered, dense
from .grad_mode import state as _grad_state
from .graph import Freed, Node, dependencies, freed_constant
from .tensor import RetainHook, Tensor, wrap

_ndarray = B.ndarray

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


def _shape_text(shape):
    return f"chainrule.Size({list(shape)})"


def _root_grads(outputs, grad_outputs, create_graph):
    """Check the outputs and build the gradient each starts from (ones for a scalar)."""
    grads = []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: output {i} is a {type(t).__name__}, not a Tensor")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs (this output has shape "
                    f"{tuple(t._data.shape)}): pass out.backward(gradient) with a gradient of that "
                    "shape, or reduce the output first, e.g. out.sum().backward()")
            g = B.xp.ones(t._data.shape, t._data.dtype)
            grads.append(wrap(g) if create_graph else g)
            continue
        if not isinstance(g, Tensor):
            g = wrap(B.asarray(g, dtype=t._data.dtype))
        if g._data.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{_shape_text(g._data.shape)} and output[{i}] has a shape of "
                               f"{_shape_text(t._data.shape)}.")
        if g._data.dtype != t._data.dtype:
            g = g.to(t.dtype)
        grads.append(g if create_graph else g._data)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (or of ``inputs``)."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this "
            "function, make sure to reset the .grad fields of your parameters to None after use "
            "to break the cycle and avoid the leak.", UserWarning, stacklevel=3)
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty. Pass the "
                               "tensors whose .grad you want, or inputs=None for every leaf.")
        for t in inputs:
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(tensors, grad_tensors, create_graph)
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    >>> x = chainrule.tensor(2.0, requires_grad=True)
    >>> chainrule.autograd.grad(x ** 3, x)
    (tensor(12.),)
    """
    single = isinstance(inputs, Tensor)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(outputs, grad_outputs, create_graph)
    found = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                         accumulate=False)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None:
            if materialize_grads:
                g = B.xp.zeros_like(t._data)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        if g is not None and not isinstance(g, Tensor):
            g = wrap(g)
        result.append(g)
    return tuple(result)


def run_backward(outputs, grads, retain_graph, create_graph, inputs=None, accumulate=True,
                 trace=None):
    """The reverse pass: Kahn's algorithm, and at each node one call, ``op.vjp``.

    outputs/grads: where the pass starts and with which gradients (arrays, or tensors when
    ``create_graph``).  inputs: tensors whose gradients are wanted (None: every leaf).
    accumulate: add into ``.grad`` (backward) rather than return (``autograd.grad``).
    trace: called as ``trace(node, i, g, gi)`` for every local VJP computed (the explainer).
    Returns ``{id(tensor): gradient}`` for ``inputs`` (for every leaf when ``inputs`` is None and
    ``accumulate`` is False).
    """
    if _grad_state.recorder is not None:    # chainrule.compile records a training step's
        return _grad_state.recorder.backward(  # backward, or falls back to eager
            run_backward, outputs, grads, retain_graph, create_graph, inputs, accumulate, trace)
    if trace is None and accumulate and inputs is None and not create_graph and \
            len(outputs) == 1:
        node = outputs[0]._grad_fn
        if type(node) is Node and not node.pre_hooks:
            for e in node.next:
                if type(e) is Node:
                    break
            else:               # one node whose edges all go to leaves: a compiled call's
                _run_one(node, grads[0], retain_graph)  # node, or a one-op graph
                return {}
    F = ArrayF
    if create_graph:
        from .functional import TensorF as F
    wanted_nodes = {} if inputs is None else \
        {t._grad_fn: t for t in inputs if t._grad_fn is not None}
    found = {}
    pending = {}          # id(node or leaf) -> [node or leaf, gradient so far, owned, fresh]
    for t, g in zip(outputs, grads):
        e = t._grad_fn or t
        if id(e) in pending:            # the same output twice: its gradients add
            _deliver(pending, e, g, t, g, F)
        else:
            pending[id(e)] = [e, g, False, False]
    roots = [t._grad_fn for t in outputs if t._grad_fn is not None]
    deps = dependencies(roots)
    ready = [n for n in dict.fromkeys(roots) if n not in deps]

    prev_mode, prev_releasing = _grad_state.enabled, _grad_state.releasing
    _grad_state.enabled = create_graph
    _grad_state.releasing = not retain_graph
    token = B.quiet_fp()
    try:
        while ready:
            node = ready.pop()
            entry = pending.pop(id(node), None)
            if entry is not None:           # else every path to it was pruned: nothing flows
                g = entry[1]
                if node.pre_hooks:
                    g = _run_prehooks(node, g, create_graph)
                if node in wanted_nodes:
                    found[id(wanted_nodes[node])] = g
                out, values = _values(node, create_graph)
                edges = node.next
                grads = node.op.vjp(F, g, out, values, node.params, edges)
                for i, e in enumerate(edges):
                    gi = grads[i]
                    if gi is not None and e is not None:
                        gi = _deliver(pending, e, gi, values[i], g, F)
                        if trace is not None:
                            trace(node, i, g, dense(gi))
                if not retain_graph:
                    _release(node)
            for e in node.next:
                if type(e) is Node:
                    deps[e] -= 1
                    if deps[e] == 0:
                        ready.append(e)
    finally:
        _grad_state.enabled = prev_mode
        _grad_state.releasing = prev_releasing
        B.restore_fp(token)

    wanted = None if inputs is None else {id(t) for t in inputs}
    for leaf, g, _, fresh in pending.values():  # what is left are the leaves' totals
        if leaf._hooks:
            g = _run_leaf_hooks(leaf, g, create_graph)
            fresh = False
        if wanted is not None and id(leaf) not in wanted:
            continue
        if accumulate:
            _accumulate(leaf, g, fresh, create_graph)
        else:
            found[id(leaf)] = g
    if accumulate:              # backward(inputs=[non_leaf]) fills non_leaf.grad, as torch
        for t in wanted_nodes.values():
            if id(t) in found:
                _accumulate(t, found[id(t)], False, create_graph)
    return found


def _run_one(node, g, retain_graph):
    """``run_backward`` for a graph of one node whose edges all go to leaves (a compiled
    call's ``CompiledOp`` node, ``(w * x).sum()`` has two), accumulating into ``.grad``
    without ``create_graph``: the same steps in the same order, without the dependency count
    and the ready list that one node does not need."""
    prev_mode, prev_releasing = _grad_state.enabled, _grad_state.releasing
    _grad_state.enabled = False
    _grad_state.releasing = not retain_graph
    pending = {}
    token = B.quiet_fp()
    try:
        out, values = _values(node, False)
        edges = node.next
        grads = node.op.vjp(ArrayF, g, out, values, node.params, edges)
        i = 0
        for e in edges:
            gi = grads[i]
            if gi is not None and e is not None:
                a = values[i]
                if type(gi) is _ndarray and id(e) not in pending and gi.shape == a.shape and \
                        gi.dtype == a.dtype:
                    # _deliver's first delivery of a gradient that needs no summing or cast
                    pending[id(e)] = [e, gi, False, gi is not g and gi.base is None]
                else:
                    _deliver(pending, e, gi, a, g, ArrayF)
            i += 1
        if not retain_graph:
            _release(node)
    finally:
        _grad_state.enabled = prev_mode
        _grad_state.releasing = prev_releasing
        B.restore_fp(token)
    for leaf, g, _, fresh in pending.values():  # the leaves' totals
        if leaf._hooks:
            g = _run_leaf_hooks(leaf, g, False)
            fresh = False
        _accumulate(leaf, g, fresh, False)


def _values(node, create_graph):
    """What the node's rules read: ``out`` then the inputs (arrays, or tensors with a graph)."""
    if node.freed:
        raise RuntimeError(SECOND_BACKWARD)
    inputs = node.inputs
    if node.versions is not None:
        for i, v in zip(node.op.saves, node.versions):
            t = inputs[i]
            if isinstance(t, Tensor) and t._vc[0] != v:
                raise_modified(node, t, v)
    out = node.out_data
    if node.out_version is not None:
        box, v = node.out_version
        if box[0] != v:
            raise_modified(node, None, v, box[0], out)
    if create_graph:
        if out is not None:
            t = wrap(out, True)
            t._grad_fn = node
            out = t
        return out, inputs
    return out, [v._data if isinstance(v, Tensor) else v for v in inputs]


def raise_modified(node, t, expected, now=None, data=None):
    data = t._data if t is not None else data
    now = t._vc[0] if t is not None else now
    from .tensor import LEGACY_NAMES
    made_by = ""
    maker = t._grad_fn if t is not None else node
    if maker is not None:      # torch names the op without its suffix: "output 0 of Mul"
        made_by = f", which is output 0 of {re.sub(r'Backward[0-9]*$', '', maker._name)},"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [chainrule.{LEGACY_NAMES.get(data.dtype.name, data.dtype.name)} "
        f"{list(data.shape)}]{made_by} is at version {now}; expected version {expected} instead. "
        f"{node._name} saved it for the backward pass: do the in-place operation after "
        "backward(), or apply it to a .clone().")


def _deliver(pending, e, gi, a, g, F):
    """Send a rule's result ``gi`` to ``e`` (a node or a leaf) as the gradient of input ``a``
    (its array, tensor, or the record a node keeps of it); returns ``gi`` as delivered.

    First ``gi`` is made ``a``'s gradient: summed back to its shape (un-broadcasting lives here,
    nowhere else), cast to its dtype, and an array, never a NumPy scalar (a ufunc on 0-d arrays
    returns one).  Then it is added to what ``e`` has received: the one place where gradients
    meet.  An entry of ``pending`` is ``[e, gradient, owned, fresh]``: a buffer is added to in
    place only when this pass allocated it (owned), never an array a rule, a hook or the caller
    handed over; a ``Scattered`` gradient is added into an owned buffer in place.  fresh: a leaf
    may keep the array as its ``.grad`` without a copy (the pass allocated it, or a rule made a
    new array that is not ``g`` itself)."""
    if type(gi) is not Scattered:
        if isinstance(a, Tensor):
            a = a._data
        if gi.shape != a.shape:
            gi = F.sum_to(gi, a.shape)
        if gi.dtype != a.dtype:
            gi = F.cast(gi, a)
        if type(gi) is not _ndarray and not isinstance(gi, Tensor):
            gi = B.asarray(gi)
    key = id(e)
    entry = pending.get(key)
    if entry is None:
        if type(gi) is Scattered:
            pending[key] = entry = [e, B.xp.zeros(gi.shape, gi.dtype), True, True]
            gi.add_into(entry[1])
        else:
            pending[key] = [e, gi, False, gi is not g and type(gi) is _ndarray and gi.base is None]
    elif type(gi) is Scattered:
        if not entry[2]:
            entry[1:] = [entry[1].copy(), True, True]
        gi.add_into(entry[1])
    elif entry[2] and type(gi) is _ndarray:
        entry[1] += gi
    else:
        entry[1] = _add(entry[1], gi)
        entry[2] = entry[3] = type(entry[1]) is _ndarray  # tensors (create_graph): never in place
    return gi


def _add(a, b):
    """``a + b`` for gradient buffers: arrays stay arrays (NumPy returns a scalar for two 0-d
    arrays, and a later in-place ``+=`` on that scalar would update a copy), tensors stay
    tensors (create_graph)."""
    r = a + b
    if type(r) is not _ndarray and not isinstance(r, Tensor):
        r = B.asarray(r)
    return r


# Backward passes from several threads may share leaves (a model's parameters): the
# read-add-write of a .grad must not interleave, or one thread's gradient is lost.  torch holds a
# mutex per AccumulateGrad; one lock for all leaves is simpler and costs ~0.1 µs uncontended.
_accumulate_lock = threading.Lock()


def _accumulate(leaf, g, fresh, create_graph):
    """Add ``g`` into ``leaf.grad`` (a new tensor the first time; torch's AccumulateGrad)."""
    if create_graph:
        if not isinstance(g, Tensor):
            g = wrap(g)
        with _accumulate_lock:
            leaf._grad = g if leaf._grad is None else leaf._grad + g
        return
    if isinstance(g, Tensor):
        g = g._data
        fresh = False
    with _accumulate_lock:
        _into_grad(leaf, g, fresh)


def _into_grad(leaf, g, fresh):
    """``_accumulate``'s addition of array ``g`` into ``leaf.grad``, under
    ``_accumulate_lock``."""
    if type(g) is not B.ndarray:
        g, fresh = B.asarray(g), True
    old = leaf._grad
    if old is None:
        leaf._grad = wrap(g if fresh else g.copy())
    else:
        old._data = _add(old._data, g)
        old._vc[0] += 1


def accumulate_grad(leaves, positions, grads, g, borrowed=()):
    """What the engine does with a compiled training step's gradients ``grads`` of
    ``leaves[positions[i]]`` (chainrule.compile): each added into its leaf's ``.grad`` as the
    reverse pass adds a leaf's total, an array kept without a copy only when nothing else
    holds it (not the seed ``g``, not a view, not the same array as another leaf's, not a
    forward value: ``borrowed`` lists the i where the code knows it is one)."""
    with _accumulate_lock:
        if len(grads) == 1:     # (the lecture's one weight: no other leaf to share with)
            gi = grads[0]
            _into_grad(leaves[positions[0]], gi, gi is not g and type(gi) is B.ndarray and
                       gi.base is None and not borrowed)
            return
        seen = set()
        for j, (i, gi) in enumerate(zip(positions, grads)):
            fresh = gi is not g and type(gi) is B.ndarray and gi.base is None and \
                id(gi) not in seen and j not in borrowed
            seen.add(id(gi))
            _into_grad(leaves[i], gi, fresh)


def _run_prehooks(node, g, create_graph):
    hooks = list(node.pre_hooks.values())
    for hook in hooks:
        if type(hook) is RetainHook:
            continue
        fn = hook.fn if hasattr(hook, "fn") else hook
        gt = g if create_graph else wrap(g)
        r = fn(gt)
        if r is not None:
            _check_hook_result(fn, r, gt)
            g = r if create_graph else r._data
    for hook in hooks:
        if type(hook) is RetainHook:
            hook.fn(g if create_graph else wrap(g.copy()))
    return g


def _run_leaf_hooks(leaf, g, create_graph):
    for fn in list(leaf._hooks.values()):
        gt = g if isinstance(g, Tensor) else wrap(B.asarray(g))
        r = fn(gt)
        if r is not None:
            _check_hook_result(fn, r, gt)
            g = r if create_graph else r._data
    return g


def _check_hook_result(fn, r, g):
    name = getattr(fn, "__name__", type(fn).__name__)
    if not isinstance(r, Tensor):
        raise TypeError(f"hook '{name}' returned a {type(r).__name__}; a hook must return a "
                        "Tensor or None")
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")


def _release(node):
    """Free what the node saved for backward (its record of the input keeps shape and dtype, so
    untouched rules still run); inputs no rule reads were never kept (``tensor.apply``)."""
    op = node.op
    if op.joint:                # an autograd.Function: its ctx lets go of what it saved
        op.release(node)
    if node.versions is None and node.out_data is None:
        return                  # it saved nothing
    inputs = list(node.inputs)
    freed = node.out_data is not None
    for i in node.op.saves:
        v = inputs[i]
        if isinstance(v, Tensor):
            # a small constant (no edge) stays, a big one leaves a weak reference: the explainer
            # re-runs the graph from them and the leaves after backward()
            inputs[i] = Freed(v._data) if node.next[i] is not None else freed_constant(v)
            freed = True
    node.inputs = tuple(inputs)
    node.out_data = None
    node.freed = freed
