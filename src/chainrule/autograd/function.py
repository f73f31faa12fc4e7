"""User-defined differentiable operations: subclass ``Function``, as in PyTorch.

>>> class Cube(chainrule.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         x, = ctx.saved_tensors
...         return g * 3 * x ** 2
>>> x = chainrule.tensor(2.0, requires_grad=True)
>>> y = Cube.apply(x)
>>> y.backward(); x.grad
tensor(12.)

A ``Function`` becomes one node in the graph whose single VJP rule calls ``backward``.
"""
import contextlib
import warnings
import weakref

from ..grad_mode import no_grad, state as _grad_state
from ..graph import Freed, Node, freed_constant
from ..tensor import Tensor, wrap
from ..tracing import active as active_trace


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._saved_versions = ()
        self._node = None           # a weak reference: the node holds this ctx
        self._output = None         # (array, version box) when the output itself was saved
        self.materialize_grads = True
        self._non_differentiable = ()
        self._dirty = ()

    def save_for_backward(self, *tensors):
        """Keep tensors for ``backward``; in-place changes to them are caught, as in torch."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else t._vc[0] for t in tensors)

    @property
    def saved_tensors(self):
        if self._saved is None:
            from ..engine import SECOND_BACKWARD
            raise RuntimeError(SECOND_BACKWARD)
        node = self._node() if self._node is not None else None
        saved = tuple(_output_again(self._output, node) if t is _OUTPUT else t
                      for t in self._saved)
        for t, v in zip(saved, self._saved_versions):
            if t is not None and t._vc[0] != v and node is not None:
                from ..engine import raise_modified
                raise_modified(node, t, v)       # the engine's message, as torch's
        return saved

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """Declare the inputs ``forward`` modified in place.  As in PyTorch, their version goes
        up (saved copies of their old values are caught at backward), and an output that is
        one of them stays that very tensor, with this Function as its new history."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """PyTorch's switch for passing None, not zeros, for outputs without a gradient.  A
        chainrule Function has one output, and its backward runs only when that output has a
        gradient, so there is never a gradient to materialise: the flag changes nothing, as it
        changes nothing for a one-output Function in PyTorch."""
        self.materialize_grads = bool(value)


class FunctionOp:
    """Plays the part of a registry primitive for one ``Function`` subclass."""

    nary = False
    joint = True
    saves = ()
    saves_out = False
    formulas = ()
    vjp_texts = ()

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__
        self.backward_name = cls.__name__ + "Backward"

    def vjps(self, F, g, out, *inputs, ctx):
        """Run the user's backward once; returns one gradient (or None) per input."""
        create_graph = F.__name__ == "TensorF"
        gt = g if isinstance(g, Tensor) else wrap(g)
        with no_grad() if not create_graph else contextlib.nullcontext():
            grads = self.cls.backward(ctx, gt)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(inputs):
            # torch allows extra trailing Nones
            if len(grads) > len(inputs) and all(x is None for x in grads[len(inputs):]):
                grads = grads[:len(inputs)]
            else:
                raise RuntimeError(f"function {self.backward_name} returned an incorrect number of "
                                   f"gradients (expected {len(inputs)}, got {len(grads)})")
        out = []
        for i, (gi, x) in enumerate(zip(grads, inputs)):
            if gi is None:
                out.append(None)
                continue
            if not isinstance(gi, Tensor):
                raise TypeError(f"function {self.backward_name} returned a gradient of type "
                                f"{type(gi).__name__} for input {i}; expected a Tensor or None")
            xs = x.shape
            if tuple(gi.shape) != tuple(xs):
                raise RuntimeError(f"Function {self.backward_name} returned an invalid gradient at "
                                   f"index {i} - got {list(gi.shape)} but expected shape "
                                   f"compatible with {list(xs)}")
            out.append(gi if create_graph else gi._data)
        return out

    def vjp(self, F, g, out, inputs, params, edges):
        """The engine's one call on a node: the user's backward, run once for every input."""
        return self.vjps(F, g, out, *inputs, **params)

    def release(self, node):
        node.params["ctx"]._saved = None


# A saved output is kept as its array and version box, not as the tensor: the tensor's grad_fn
# is the node that holds this ctx, a reference cycle (torch's SavedVariable does the same).
_OUTPUT = object()


def _output_again(output, node):
    """The saved output as a tensor again: same storage and version box, ``grad_fn`` the node."""
    data, vc = output
    t = wrap(data, requires_grad=node is not None)
    t._vc = vc
    t._grad_fn = node
    return t


class Function:
    """Base class for operations with a hand-written ``forward`` and ``backward``."""

    _op = None

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Function subclasses are used through their apply() classmethod: "
                           f"{type(self).__name__}.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` without recording and link its output to one graph node."""
        if _grad_state.recorder is not None:    # chainrule.compile cannot see inside forward
            _grad_state.recorder.graph_break(f"{cls.__name__}.apply (a custom autograd.Function)")
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if isinstance(out, tuple):
            raise NotImplementedError(
                f"{cls.__name__}.forward returned {len(out)} outputs: chainrule Functions return "
                "one tensor (return the outputs from separate Functions, or stack them)")
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, got "
                            f"{type(out).__name__}")
        in_place = _mark_dirty(ctx, args, out, any(needs))
        if not (_grad_state.enabled and any(needs)) or out in ctx._non_differentiable:
            return out
        if cls.__dict__.get("_op") is None:
            cls._op = FunctionOp(cls)
        next_ = tuple((a if a._grad_fn is None else a._grad_fn) if n else None
                      for a, n in zip(args, needs))
        # backward reads the ctx, not the inputs: the node keeps their shapes and dtypes (and
        # the explainer's constants), as a primitive keeps the inputs no rule reads
        recorded = tuple(a if not isinstance(a, Tensor) or e is a else
                         Freed(a._data) if e is not None else freed_constant(a)
                         for a, e in zip(args, next_))
        node = Node(cls._op, recorded, next_, {"ctx": ctx})
        ctx._node = weakref.ref(node)
        if in_place:
            pass                        # the modified input itself takes the new history
        elif any(a is out for a in args):
            out = wrap(out._data)       # forward returned an input: give the output its own node
        elif any(t is out for t in ctx._saved):
            ctx._output = (out._data, out._vc)
            ctx._saved = tuple(_OUTPUT if t is out else t for t in ctx._saved)
        out._requires_grad = True
        out._grad_fn = node
        trace = active_trace()
        if trace is not None:
            trace.note(node, args, out)
        return out


def _mark_dirty(ctx, args, out, recording):
    """Bump the versions of the inputs ``ctx.mark_dirty`` named; True when ``out`` is one."""
    for t in ctx._dirty:
        if not any(t is a for a in args):
            warnings.warn("ctx.mark_dirty() received a tensor that was not an input. Only input "
                          "Tensors that have been mutated should be passed to ctx.mark_dirty().",
                          UserWarning, stacklevel=3)
            continue
        if recording and _grad_state.enabled and t._requires_grad and t._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        t._vc[0] += 1
    return any(t is out for t in ctx._dirty) and any(a is out for a in args)


class once_differentiable:
    """Decorator kept for compatibility: chainrule runs ``backward`` without recording anyway."""

    def __new__(cls, fn):
        return fn
