"""``chainrule.utils.checkpoint``: activations recomputed in the backward pass, not stored.

``checkpoint(fn, *args)`` runs ``fn`` and records its graph as usual, under a trace
(``chainrule.tracing``: every op with the inputs it was given, in order).  When fn returns,
its nodes let go of the tensors fn computed inside (the activations): only fn's inputs, the
tensors it closed over and its outputs stay.  When the reverse pass reaches fn's outputs, a
pre-hook on their nodes recomputes the dropped values by replaying the recorded primitives'
forwards in recording order, and the pass goes on through the original graph: gradients,
``autograd.grad``, ``create_graph`` and hooks behave exactly as without checkpointing.

The replay re-runs primitives, not fn's Python, so it computes the same arrays bit for bit:
dropout masks and other random draws are inputs of the recorded ops and are kept, which is why
``preserve_rng_state`` has nothing to do here.
"""
import weakref

from .. import _backend as B
from .._backend import xp
from ..grad_mode import is_grad_enabled
from ..grad_mode import state as _grad_state
from ..graph import Freed
from ..tensor import Tensor, wrap
from ..tracing import active as active_trace
from ..tracing import tracing

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Dropped(Freed):
    """A node input checkpointing let go of: its shape and dtype, and which node makes it."""

    __slots__ = ("k",)

    def __init__(self, array, k):
        super().__init__(array)
        self.k = k


class _Made:
    """In a replay plan: the input is what step ``k`` of the checkpointed function made."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


def _plain_outputs(out):
    """The plain tensors behind fn's outputs (tuples, lists and dicts of tensors; vmap's batched
    tensors are looked through)."""
    from ..func._pytree import tree_flatten
    found = []
    for v in tree_flatten(out)[0]:
        while isinstance(v, Tensor) and hasattr(v, "_phys"):
            v = v._phys
        if isinstance(v, Tensor):
            found.append(v)
    return found


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, keeping none of its intermediate values for the backward
    pass: they are recomputed when the gradient reaches the function's outputs.  Gradients are
    exactly those without checkpointing; memory drops to the inputs and outputs of each
    checkpointed piece, at the cost of one more forward pass of it.

    use_reentrant: accepted for PyTorch's signature; both values behave as PyTorch's
    non-reentrant variant (``autograd.grad`` and double backward work).

    >>> import chainrule as torch
    >>> from chainrule.utils.checkpoint import checkpoint
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> checkpoint(lambda x: (x.exp() * x).sum(), x).backward()
    >>> x.grad
    tensor([ 5.4366, 22.1672])
    """
    if use_reentrant not in (None, True, False):
        raise ValueError(f"checkpoint: use_reentrant must be True, False or None, got "
                         f"{use_reentrant!r}")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check should be 'default' or 'none', got "
                         f"{determinism_check!r}")
    if not is_grad_enabled() or active_trace("checkpoint") is not None:
        return function(*args, **kwargs)        # nothing recorded, or an outer one frees it all
    with tracing("checkpoint") as trace:
        out = function(*args, **kwargs)
    _drop([s for s in trace.steps if not getattr(s.node.op, "joint", False)],
          _plain_outputs(out))
    return out


def _drop(steps, outputs):
    """Let go of what the traced ``steps``' nodes hold inside the function; arm the
    recomputation.  (``autograd.Function`` nodes keep what their ctx saved, and are not
    replayed.)"""
    if not steps:
        return
    for step in steps:
        for v, ver in zip(step.inputs, step.versions):
            if isinstance(v, Tensor) and v._vc[0] != ver:
                return          # an in-place change inside fn: the replay would need old values
    kept = {id(t) for t in outputs}
    produced = {id(step.out): k for k, step in enumerate(steps)}
    plan = []
    for k, step in enumerate(steps):
        node = step.node
        # what the replay reads: the index of the step that makes an input inside fn, or the
        # input itself (fn's arguments, the tensors it closes over, numbers)
        specs = tuple(_Made(produced[id(v)]) if isinstance(v, Tensor) and id(v) in produced and
                      id(v) not in kept else v for v in step.inputs)
        node.inputs = tuple(_Dropped(v._data, spec.k) if type(spec) is _Made and
                            isinstance(v, Tensor) else v
                            for v, spec in zip(node.inputs, specs))
        had_out = node.out_data is not None and id(step.out) not in kept
        if had_out:
            node.out_data = None
        # the node by weak reference: the plan lives in the nodes' pre-hooks, and a strong
        # reference back would make a cycle only the garbage collector frees
        plan.append((weakref.ref(node), step.dtypes, step.versions, step.out._vc, had_out,
                     specs))
    done = []

    def recompute(grad):
        if not done:
            done.append(True)
            _replay(plan)
    # every node that lost something replays on first use (normally an output's node is
    # reached first; a tensor that left fn another way may lead the pass to any of them)
    for node_ref, _, _, _, had_out, _ in plan:
        node = node_ref()
        if had_out or any(isinstance(v, _Dropped) for v in node.inputs):
            node.register_prehook(recompute)


def _replay(plan):
    """Run the recorded forwards again, in order, and give each node its inputs back.  A node
    that no longer exists had no consumer left, so nothing needs its output."""
    nodes = [entry[0]() for entry in plan]
    # an array is let go of after its last reader ran, unless a node keeps it (its rule reads
    # it): recomputing a segment holds what its nodes keep, as the plain graph would, not more
    given_back = {v.k for node in nodes if node is not None for v in node.inputs
                  if isinstance(v, _Dropped)}
    last = {}
    for k, entry in enumerate(plan):
        for spec in entry[5]:
            if type(spec) is _Made:
                last[spec.k] = k
    arrays = {}
    token = B.quiet_fp()
    try:
        for k, (_, dtypes, versions, _, had_out, specs) in enumerate(plan):
            node = nodes[k]
            if node is None or node.freed:
                continue
            vals = []
            for i, spec in enumerate(specs):
                if type(spec) is _Made:
                    a = arrays[spec.k]
                elif isinstance(spec, Tensor):
                    if spec._vc[0] != versions[i]:
                        raise RuntimeError(
                            "checkpoint: one of the inputs of the checkpointed function (or a "
                            "tensor it closes over) was modified by an inplace operation after "
                            f"the forward pass ({node._name} read it), so its recomputation would "
                            "differ; do the in-place operation after backward(), or on a clone")
                    a = spec._data
                else:
                    a = spec
                if dtypes is not None and dtypes[i] is not None and \
                        (not isinstance(a, xp.ndarray) or a.dtype != dtypes[i]):
                    a = xp.asarray(a, dtypes[i])       # the promotion the forward was given
                vals.append(a)
            out = node.op.forward(*vals, **node.params) if node.params else \
                node.op.forward(*vals)
            arrays[k] = out if type(out) is xp.ndarray else xp.asarray(out)
            if had_out:
                node.out_data = arrays[k]
            for j in [k] + [spec.k for spec in specs if type(spec) is _Made]:
                if last.get(j, -1) <= k and j not in given_back:
                    arrays.pop(j, None)
    finally:
        B.restore_fp(token)
    made = {}
    for node in nodes:
        if node is None or node.freed:
            continue
        inputs = list(node.inputs)
        for i, v in enumerate(inputs):
            if isinstance(v, _Dropped):
                t = made.get(v.k)
                if t is None:
                    vc = plan[v.k][3]
                    t = made[v.k] = wrap(arrays[v.k], True)
                    t._grad_fn = nodes[v.k]
                    t._vc = vc
                inputs[i] = t
        node.inputs = tuple(inputs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or a list of modules/functions) in order on ``input``,
    split into ``segments`` pieces; every piece but the last is checkpointed, so the backward
    pass stores only the segment boundaries and recomputes one segment at a time.

    >>> import chainrule as torch
    >>> from chainrule.utils.checkpoint import checkpoint_sequential
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    >>> out = checkpoint_sequential(net, 2, torch.ones(3, 2, requires_grad=True))
    >>> out.shape
    chainrule.Size([3, 1])
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError(f"Unexpected keyword arguments: {', '.join(kwargs)}")
    functions = list(functions.children()) if hasattr(functions, "children") else \
        list(functions)
    size = len(functions) // segments if segments >= 1 else 0
    if size == 0:
        raise ValueError(f"checkpoint_sequential: {segments} segments for {len(functions)} "
                         "functions; give between 1 and len(functions) segments")

    def run(start, end):
        def forward(x):
            for f in functions[start:end + 1]:
                x = f(x)
            return x
        return forward
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
