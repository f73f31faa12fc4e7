"""Whether operations are recorded: ``no_grad``, ``enable_grad``, ``set_grad_enabled`` (thread-local)."""
import functools
import threading


class _State(threading.local):
    enabled = True
    # chainrule.func.vmap installs an object here that runs every op (``tensor.apply``) and
    # every op without a gradient (``functional._args.nondiff``) its own way
    apply_hook = None
    # the active ``tracing.Trace``: every node recorded is noted in it, with its inputs
    trace = None
    # inside inference_mode(): what chainrule.is_inference_mode_enabled() reports
    inference = False
    # chainrule.compile's recorder while it records a call: told of every tensor made outside
    # ``apply`` (``born``) and of every look at values it cannot replay (``graph_break``)
    recorder = None
    # True while the engine's reverse pass runs without retain_graph: a compiled call's
    # generated backward then lets go of each saved array after its last use (a vjp called
    # from anywhere else, such as the explainer, keeps them)
    releasing = False


state = _State()


def graph_break(what):
    """Tell chainrule.compile's recorder, when one is recording a call, that ``what`` ran:
    something its replay would not repeat (an optimizer's step, a seed, a write into a tensor's
    array outside any recorded operation).  The compiled function then falls back to eager (a
    graph break, named by ``what`` and the user's line); outside a recording, nothing happens.
    Library code that changes state behind the recorder's back calls it on entry, before it
    looks at anything: a call that changes nothing this time may change something next time."""
    r = state.recorder
    if r is not None:
        r.graph_break(what)


def read_by_reference(t):
    """Tell chainrule.compile's recorder, when one is recording, that tensor ``t``'s array is
    about to be handed to an op as a parameter (an index, a loss's target): the replay then
    reads it from ``t`` on every call instead of freezing this call's values."""
    r = state.recorder
    if r is not None:
        r.ref(t)


def is_grad_enabled():
    """True when operations on tensors that require grad are recorded."""
    return state.enabled


class _GradMode:
    """Base of the grad-mode switches: a context manager and a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._mode

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Don't record operations inside this block or decorated function.

    >>> w = chainrule.tensor([1.0], requires_grad=True)
    >>> (w * 3).sum().backward()
    >>> with chainrule.no_grad():
    ...     w -= 0.1 * w.grad
    >>> w
    tensor([0.7000], requires_grad=True)
    """

    _mode = False


class enable_grad(_GradMode):
    """Record operations again, even inside ``no_grad``."""

    _mode = True


class inference_mode(no_grad):
    """Like ``no_grad`` (chainrule has no separate inference tensors)."""

    def __init__(self, mode=True):
        self._mode = not mode

    def __enter__(self):
        self._prev_inference = state.inference
        state.inference = not self._mode
        super().__enter__()

    def __exit__(self, *exc):
        state.inference = self._prev_inference
        return super().__exit__(*exc)

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(not mode):
                return fn(*args, **kwargs)
        return wrapper


class set_grad_enabled(_GradMode):
    """Turn recording on or off: as a function call, a context manager or a decorator."""

    def __init__(self, mode):
        self._prev = state.enabled
        self._mode = bool(mode)
        state.enabled = self._mode

    def __enter__(self):
        pass

    def __call__(self, fn):
        state.enabled = self._prev  # used as a decorator: undo the switch made in __init__
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper
