"""Recording a forward pass so that it can be run again: ``with tracing() as trace: ...``.

The graph keeps only what its VJP rules read (``x + y`` keeps neither ``x`` nor ``y``), which is
what back-propagation needs and no more.  Whoever must re-run recorded ops with all their inputs
records them explicitly, here, while the forward pass runs: ``utils.checkpoint`` (it recomputes
activations in the backward pass), gradcheck's culprit search (it re-runs each op alone in
float64), the registry tests, and ``compile``.  A trace holds every step's inputs for as long as
the trace itself is held, and not a moment longer than its holder decides.

>>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
>>> with tracing() as trace:
...     y = (x * 3).sum()
>>> [step.node.name() for step in trace.steps]
['MulBackward0', 'SumBackward0']
"""
import contextlib

from ._backend import xp
from .grad_mode import state as _grad_state


class Step:
    """One recorded op: its graph ``node``, the ``inputs`` it was given (tensors and numbers),
    its ``out`` tensor, the dtypes its forward ran in (``dtypes``: after promotion, or None) and
    the inputs' versions at the time (``versions``), so a replay can refuse changed inputs."""

    __slots__ = ("node", "inputs", "out", "dtypes", "versions")

    def __init__(self, node, inputs, out, dtypes, versions):
        self.node = node
        self.inputs = inputs
        self.out = out
        self.dtypes = dtypes
        self.versions = versions


class Trace:
    """Every node recorded while the trace is active, in order (``steps``), with the inputs
    ``apply`` (or ``Function.apply``) built it from: the tensors the node's op really ran on,
    also under vmap.  Tracing changes nothing about the values or the graph."""

    def __init__(self, prev, purpose=None):
        self.prev = prev
        self.purpose = purpose
        self.steps = []

    def note(self, node, inputs, out, arrays=None):
        """Called by ``apply`` for every node it records (and by ``Function.apply``)."""
        dtypes = None if arrays is None else \
            tuple(a.dtype if isinstance(a, xp.ndarray) else None for a in arrays)
        versions = tuple(v._vc[0] if hasattr(v, "_vc") else None for v in inputs)
        self.steps.append(Step(node, tuple(inputs), out, dtypes, versions))
        if self.prev is not None:
            self.prev.note(node, inputs, out, arrays)

    def inputs_of(self):
        """``{node: the inputs it was given}`` for every step."""
        return {step.node: step.inputs for step in self.steps}


@contextlib.contextmanager
def tracing(purpose=None):
    """Record every node made inside the block (see the module docstring); yields the
    ``Trace``.  ``purpose`` names who traces (``checkpoint`` looks for its own)."""
    trace = _grad_state.trace = Trace(_grad_state.trace, purpose)
    try:
        yield trace
    finally:
        _grad_state.trace = trace.prev


def active(purpose=None):
    """The innermost active ``Trace`` (with that ``purpose``, if given), or None."""
    t = _grad_state.trace
    while t is not None and purpose is not None and t.purpose != purpose:
        t = t.prev
    return t
