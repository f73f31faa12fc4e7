"""The recorded graph: one ``Node`` per recorded operation, and its topological order.

A tensor that was computed by a recorded op points at its node (``grad_fn``); the node points at
the nodes of its inputs (``next``) -- never back at its output, so a graph holds no reference
cycles and is freed as soon as its output is.  Edges to leaf tensors point at the leaf itself:
the engine accumulates into its ``.grad``.
"""
import weakref


class Node:
    """One recorded application of a primitive (what PyTorch calls a ``grad_fn``).

    ``inputs`` holds the op's operands as given (tensors and Python numbers) so its VJP rules can
    read them; ``next[i]`` is where the gradient of input ``i`` goes: the input's own node, the
    input itself when it is a leaf that requires grad, or None when it needs no gradient.
    """

    __slots__ = ("op", "inputs", "next", "params", "versions", "out_data", "out_version",
                 "pre_hooks", "freed", "_name", "__weakref__")

    def __init__(self, op, inputs, next_, params):
        self.op = op
        self.inputs = inputs
        self.next = next_
        self.params = params
        self.versions = None
        self.out_data = None
        self.out_version = None
        self.pre_hooks = None
        self.freed = False
        self._name = op.backward_name

    # --- PyTorch's introspection API --------------------------------------------------------
    def name(self):
        """The node's class name in PyTorch: ``MulBackward0``."""
        return self._name

    def __repr__(self):
        return f"<{self._name} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """``((node_or_AccumulateGrad, 0), ...)`` per input, as in PyTorch: a Python number is
        an input without a gradient, ``(None, 0)``, except in the overloads PyTorch gives a
        Scalar argument (``x ** 2``, ``2 ** x``, ``3 - x``), where it is no edge at all."""
        if self._name in _SCALAR_OVERLOADS:
            return tuple((_edge_as_function(e), 0) for e, x in zip(self.next, self.inputs)
                         if not isinstance(x, (bool, int, float, complex)))
        return tuple((_edge_as_function(e), 0) for e in self.next)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node runs; it may return replacement grads."""
        if self.pre_hooks is None:
            self.pre_hooks = {}
        handle = RemovableHandle(self.pre_hooks)
        self.pre_hooks[handle.id] = fn
        return handle

    @property
    def metadata(self):
        return {}


_SCALAR_OVERLOADS = frozenset({"PowBackward0", "PowBackward2", "RsubBackward1"})


def _edge_as_function(e):
    if e is None or isinstance(e, Node):
        return e
    return AccumulateGrad(e)


class AccumulateGrad:
    """The sink that adds a gradient into a leaf's ``.grad`` (shown in ``next_functions``)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks_dict):
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def dependencies(roots):
    """For every node reachable from ``roots``: how many reachable nodes send it a gradient.

    The engine's reverse pass is Kahn's algorithm over these counts: a node runs once all its
    consumers have run.  Iterative, so graph depth is bounded only by memory.
    """
    deps = {}
    stack = [n for n in roots if n is not None]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for e in node.next:
            if type(e) is Node:
                deps[e] = deps.get(e, 0) + 1
                if e not in seen:
                    seen.add(e)
                    stack.append(e)
    return deps


class Freed:
    """What a node keeps of an input after ``backward()`` freed it: its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, array):
        self.shape = array.shape
        self.dtype = array.dtype

    @property
    def ndim(self):
        return len(self.shape)

    def recover(self):
        """The input's value, were it kept (an input with a gradient edge keeps none)."""
        return None


# A constant (an input without a gradient edge, such as the data x in w * x) of at most this many
# elements stays in the node after backward(): every lecture graph's constants, never a data set.
KEEP = 64


def freed_constant(t):
    """What backward() leaves of constant ``t`` in a node: ``t`` itself when it is small and owns
    its array, else a ``FreedConstant``.  With the leaves, that is all the explainer and the
    drawing need to re-run the recorded ops after backward(); nothing large stays alive."""
    a = t._data
    if a.size <= KEEP and a.base is None:
        return t
    return FreedConstant(t)


class FreedConstant(Freed):
    """A freed constant: its shape and dtype, a weak reference to the tensor and, when it is
    small (a view of a bigger array), a copy of its value."""

    __slots__ = ("value", "tensor", "version")

    def __init__(self, constant):
        array = constant._data
        self.shape = array.shape
        self.dtype = array.dtype
        self.tensor = weakref.ref(constant)
        self.version = constant._vc[0]
        self.value = array.copy() if array.size <= KEEP else None

    def recover(self):
        """The constant's tensor while it lives unchanged, else its kept copy, else None."""
        t = self.tensor()
        if t is not None and t._vc[0] == self.version:
            return t
        return self.value
