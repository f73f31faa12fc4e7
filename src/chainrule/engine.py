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
from ._fns import ArrayF
from .grad_mode import state as _grad_state
from .graph import Freed, Node, dependencies, freed_constant
from .tensor import Tensor, _new, _RetainHook

_ndarray = B.ndarray

_SECOND_BACKWARD = (
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
            grads.append(_new(g) if create_graph else g)
            continue
        if not isinstance(g, Tensor):
            g = _new(B.asarray(g, dtype=t._data.dtype))
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
            g = _new(g)
        result.append(g)
    return tuple(result)


def run_backward(outputs, grads, retain_graph, create_graph, inputs=None, accumulate=True,
                 trace=None):
    """The reverse pass.

    outputs/grads: where the pass starts and with which gradients (arrays, or tensors when
    ``create_graph``).  inputs: tensors whose gradients are wanted (None: every leaf).
    accumulate: add into ``.grad`` (backward) rather than return (``autograd.grad``).
    trace: called as ``trace(node, i, g, gi)`` for every local VJP computed (the explainer).
    Returns ``{id(tensor): gradient}`` for ``inputs`` (for every leaf when ``inputs`` is None and
    ``accumulate`` is False).
    """
    F = ArrayF
    if create_graph:
        from .functional import TensorF as F
    wanted = None if inputs is None else {id(t): t for t in inputs}
    wanted_nodes = {} if inputs is None else {t._grad_fn: t for t in inputs if t._grad_fn is not None}
    found = {}
    buffers = {}
    leaf_grads = {}            # id(leaf) -> [leaf, grad, fresh]
    roots = []
    for t, g in zip(outputs, grads):
        if t._grad_fn is None:
            _to_leaf(leaf_grads, t, g, False)
        else:
            node = t._grad_fn
            prev = buffers.get(node)
            buffers[node] = g if prev is None else _add(prev, g)
            roots.append(node)
    deps = dependencies(roots)
    ready = [n for n in dict.fromkeys(roots) if n not in deps]

    fast = not create_graph and trace is None
    owned = set()              # nodes whose gradient buffer is an array this pass allocated
    prev_mode = _grad_state.enabled
    _grad_state.enabled = create_graph
    token = B.quiet_fp()
    try:
        while ready:
            node = ready.pop()
            g = buffers.pop(node, None)
            if g is None:           # nothing flowed here (every path to it was pruned)
                for e in node.next:
                    if type(e) is Node:
                        deps[e] -= 1
                        if deps[e] == 0:
                            ready.append(e)
                continue
            if node.pre_hooks:
                g = _run_prehooks(node, g, create_graph)
            if node in wanted_nodes:
                found[id(wanted_nodes[node])] = g
            op = node.op
            values = _values(node, create_graph)
            params = node.params
            if op.joint:            # one call gives every input's gradient (autograd.Function)
                joint = op.vjps(F, g, *values, **params)
            i = -1
            for e in node.next:
                i += 1
                if e is None:
                    continue
                if fast and op.vjps_into is not None and g.dtype == values[i + 1].dtype:
                    _send_into(op.vjps_into[i], e, g, values, params, values[i + 1], buffers,
                               deps, ready, leaf_grads, owned)
                    continue
                if op.joint:
                    gi = joint[i]
                elif op.nary:
                    gi = op.vjps(F, g, *values, i=i, **params)
                else:
                    rule = op.vjps[i]
                    gi = rule(F, g, *values, **params) if params else rule(F, g, *values)
                if gi is None:
                    if type(e) is Node:
                        deps[e] -= 1
                        if deps[e] == 0:
                            ready.append(e)
                    continue
                _send(node, i, e, gi, g, buffers, deps, ready, leaf_grads, F, trace, owned)
            if not retain_graph:
                _release(node)
    finally:
        _grad_state.enabled = prev_mode
        B.restore_fp(token)

    for leaf, g, fresh in leaf_grads.values():
        if leaf._hooks:
            g = _run_leaf_hooks(leaf, g, create_graph)
            fresh = False
        if wanted is None or id(leaf) in wanted:
            if not accumulate:
                found[id(leaf)] = g
                continue
        else:
            continue
        _accumulate(leaf, g, fresh, create_graph)
    if accumulate:              # backward(inputs=[non_leaf]) fills non_leaf.grad, as torch
        for t in wanted_nodes.values():
            if id(t) in found:
                _accumulate(t, found[id(t)], False, create_graph)
    return found


def _values(node, create_graph):
    """What the node's rules read: ``out`` then the inputs (arrays, or tensors with a graph)."""
    if node.freed:
        raise RuntimeError(_SECOND_BACKWARD)
    inputs = node.inputs
    if node.versions is not None:
        for i, v in zip(node.op.saves, node.versions):
            t = inputs[i]
            if isinstance(t, Tensor) and t._vc[0] != v:
                _raise_modified(node, t, v)
    out = node.out_data
    if node.out_version is not None:
        box, v = node.out_version
        if box[0] != v:
            _raise_modified(node, None, v, box[0], out)
    if create_graph:
        if out is not None:
            t = _new(out, True)
            t._grad_fn = node
            out = t
        return (out,) + tuple(inputs)
    return [out] + [v._data if isinstance(v, Tensor) else v for v in inputs]


def _raise_modified(node, t, expected, now=None, data=None):
    data = t._data if t is not None else data
    now = t._vc[0] if t is not None else now
    from .tensor import _LEGACY_NAMES
    made_by = ""
    maker = t._grad_fn if t is not None else node
    if maker is not None:      # torch names the op without its suffix: "output 0 of Mul"
        made_by = f", which is output 0 of {re.sub(r'Backward[0-9]*$', '', maker._name)},"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [chainrule.{_LEGACY_NAMES.get(data.dtype.name, data.dtype.name)} "
        f"{list(data.shape)}]{made_by} is at version {now}; expected version {expected} instead. "
        f"{node._name} saved it for the backward pass: do the in-place operation after "
        "backward(), or apply it to a .clone().")


def _send(node, i, e, gi, g, buffers, deps, ready, leaf_grads, F, trace, owned):
    """Deliver input ``i``'s gradient: un-broadcast, cast, then add into its consumer's buffer.

    ``owned``: the nodes whose buffer is an array this pass allocated (``prev + gi``); only
    those are added to in place, never an array a rule, a hook or the caller handed over."""
    v = node.inputs[i]
    a = v._data if isinstance(v, Tensor) else v
    shape = a.shape
    if gi.shape != shape:
        gi = F.sum_to(gi, shape)
    if gi.dtype != a.dtype:
        gi = F.cast(gi, a)
    if type(gi) is not _ndarray and not isinstance(gi, Tensor):
        gi = B.asarray(gi)     # a rule's ufunc on 0-d arrays returns a NumPy scalar
    if trace is not None:
        trace(node, i, g, gi)
    if type(e) is Node:
        prev = buffers.get(e)
        if prev is None:
            buffers[e] = gi
        elif e in owned:
            prev += gi
        else:
            buffers[e] = _add(prev, gi)
            if type(gi) is _ndarray:           # tensors (create_graph) are never added in place
                owned.add(e)
        deps[e] -= 1
        if deps[e] == 0:
            ready.append(e)
    else:
        _to_leaf(leaf_grads, e, gi, gi is not g and getattr(gi, "base", 1) is None)


def _send_into(rule_into, e, g, values, params, a, buffers, deps, ready, leaf_grads, owned):
    """Deliver a sparse VJP (``x[index]``'s) by adding it into the gradient of x in place, in an
    array this pass owns (allocated, or copied once): each contribution costs its own size, not
    x's.  ``a``: the input's array (or its Freed record), for shape and dtype."""
    if type(e) is Node:
        buf = buffers.get(e)
        if buf is None or e not in owned:
            buf = buffers[e] = B.xp.zeros(a.shape, a.dtype) if buf is None else buf.copy()
            owned.add(e)
        rule_into(buf, g, *values, **params)
        deps[e] -= 1
        if deps[e] == 0:
            ready.append(e)
        return
    entry = leaf_grads.get(id(e))
    if entry is None:
        entry = leaf_grads[id(e)] = [e, B.xp.zeros(a.shape, a.dtype), True]
        owned.add(id(e))
    elif id(e) not in owned:
        entry[1], entry[2] = B.asarray(entry[1]).copy(), True
        owned.add(id(e))
    rule_into(entry[1], g, *values, **params)


def _add(a, b):
    """``a + b`` for gradient buffers: arrays stay arrays (NumPy returns a scalar for two 0-d
    arrays, and a later in-place ``+=`` on that scalar would update a copy), tensors stay
    tensors (create_graph)."""
    r = a + b
    if type(r) is not _ndarray and not isinstance(r, Tensor):
        r = B.asarray(r)
    return r


def _to_leaf(leaf_grads, leaf, g, fresh):
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g, fresh]
    else:
        entry[1] = _add(entry[1], g)
        entry[2] = True


# Backward passes from several threads may share leaves (a model's parameters): the
# read-add-write of a .grad must not interleave, or one thread's gradient is lost.  torch holds a
# mutex per AccumulateGrad; one lock for all leaves is simpler and costs ~0.1 µs uncontended.
_accumulate_lock = threading.Lock()


def _accumulate(leaf, g, fresh, create_graph):
    """Add ``g`` into ``leaf.grad`` (a new tensor the first time; torch's AccumulateGrad)."""
    with _accumulate_lock:
        _accumulate_locked(leaf, g, fresh, create_graph)


def _accumulate_locked(leaf, g, fresh, create_graph):
    if create_graph:
        if not isinstance(g, Tensor):
            g = _new(g)
        leaf._grad = g if leaf._grad is None else leaf._grad + g
        return
    if isinstance(g, Tensor):
        g = g._data
        fresh = False
    if type(g) is not B.ndarray:
        g, fresh = B.asarray(g), True
    if leaf._grad is None:
        leaf._grad = _new(g if fresh else g.copy())
    else:
        old = leaf._grad
        old._data = _add(old._data, g)
        old._vc[0] += 1


def _run_prehooks(node, g, create_graph):
    hooks = list(node.pre_hooks.values())
    for hook in hooks:
        if type(hook) is _RetainHook:
            continue
        fn = hook.fn if hasattr(hook, "fn") else hook
        gt = g if create_graph else _new(g)
        r = fn(gt)
        if r is not None:
            _check_hook_result(fn, r, gt)
            g = r if create_graph else r._data
    for hook in hooks:
        if type(hook) is _RetainHook:
            hook.fn(g if create_graph else _new(g.copy()))
    return g


def _run_leaf_hooks(leaf, g, create_graph):
    for fn in list(leaf._hooks.values()):
        gt = g if isinstance(g, Tensor) else _new(B.asarray(g))
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
    """Free what the node saved for backward; keep shapes so untouched rules still run."""
    op = node.op
    if op.joint:
        op.release(node)
    inputs = node.inputs
    saved = op.saves_out
    if not saved:
        for i in op.saves:
            if isinstance(inputs[i], Tensor):
                saved = True
                break
    # a small constant (no edge) stays, a big one leaves a weak reference (graph.freed_constant):
    # the explainer re-runs the graph from them and the leaves after backward()
    node.inputs = tuple([v if not isinstance(v, Tensor) else Freed(v._data) if e is not None
                         else freed_constant(v) for v, e in zip(inputs, node.next)])
    node.out_data = None
    if saved:
        node.freed = True
