"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its weights."""
from .. import dtypes as D
from .._backend import xp
from ..tensor import Tensor, wrap


class Parameter(Tensor):
    """A tensor that, assigned as a ``Module`` attribute, becomes one of its ``parameters()``.

    It shares storage with ``data`` and is a leaf that requires grad (unless
    ``requires_grad=False``).

    >>> p = chainrule.nn.Parameter(chainrule.zeros(2))
    >>> p
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = wrap(xp.empty(0, dtype=D.default_float_np()))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor as data, got {type(data).__name__}; "
                            "wrap it first: Parameter(chainrule.tensor(...))")
        p = wrap(data._data, cls=cls)
        p._vc = data._vc                  # the same storage: in-place changes are seen by both
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass                              # everything happened in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


# -- issue 13: Buffer, UninitializedParameter, UninitializedBuffer, is_lazy
import weakref  # noqa: E402

from .. import creation  # noqa: E402

# A Tensor has fixed slots, and an uninitialized tensor changes its class in place when it is
# materialized (to Parameter or Tensor, whose layout must be the same), so a buffer's
# ``persistent`` flag lives here, by the tensor's id, for as long as the tensor lives.
_PERSISTENT = {}


def _set_persistent(t, persistent):
    if id(t) not in _PERSISTENT:
        weakref.finalize(t, _PERSISTENT.pop, id(t), None)
    _PERSISTENT[id(t)] = bool(persistent)


class Buffer(Tensor):
    """A tensor that, assigned as a ``Module`` attribute, becomes one of its buffers (in
    ``state_dict()`` unless ``persistent=False``): ``self.mask = nn.Buffer(torch.ones(3))``.

    It shares storage with ``data`` and keeps its ``requires_grad``, as torch's.

    >>> m = chainrule.nn.Module()
    >>> m.steps = chainrule.nn.Buffer(chainrule.tensor(0))
    >>> list(m.state_dict())
    ['steps']
    """

    __slots__ = ()

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = wrap(xp.empty(0, dtype=D.default_float_np()))
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer expects a Tensor as data, got {type(data).__name__}")
        b = wrap(data._data, cls=cls)
        b._vc = data._vc
        if data.requires_grad:
            b.requires_grad_(True)
        _set_persistent(b, persistent)
        return b

    def __init__(self, data=None, *, persistent=True):
        pass                              # everything happened in __new__

    @property
    def persistent(self):
        return _PERSISTENT.get(id(self), True)

    @persistent.setter
    def persistent(self, value):
        _set_persistent(self, value)


class UninitializedTensorMixin:
    """What ``UninitializedParameter`` and ``UninitializedBuffer`` share: no shape until
    ``materialize(shape)``, which gives them one and turns them into ``cls_to_become``."""

    __slots__ = ()

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (uninitialised values), in place, and make it a
        ``cls_to_become``: what a lazy module's first forward does to its parameters."""
        dtype = self.dtype if dtype is None else dtype
        self._data = creation.empty(shape, dtype=dtype, device=device)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def _uninitialized(self, what):
        raise ValueError(
            f"Attempted to use an uninitialized parameter in {what}. This error happens when "
            "you are using a `LazyModule` or explicitly manipulating "
            f"`torch.nn.parameter.{type(self).__name__}` objects. When using LazyModules Call "
            "`forward` with a dummy batch to initialize the parameters before calling torch "
            "functions")

    def to(self, *args, **kwargs):
        """A cast keeps the tensor uninitialized (``module.double()`` before the first batch
        makes the lazy tensors materialize as float64), as torch's."""
        out = super().to(*args, **kwargs)
        if out is self:
            return self
        new = wrap(out._data, cls=type(self))
        if self.requires_grad:
            new.requires_grad_(True)
        if isinstance(self, Buffer):
            _set_persistent(new, self.persistent)
        return new

    def double(self):
        return self.to(D.float64)

    def float(self):
        return self.to(D.float32)

    def half(self):
        return self.to(D.float16)

    def dim(self):
        self._uninitialized("dim")

    def numel(self):
        self._uninitialized("numel")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (type(self), (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, None, self.dtype)
        return memo[id(self)]


def is_lazy(param):
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``.

    >>> chainrule.nn.parameter.is_lazy(chainrule.nn.UninitializedParameter())
    True
    """
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter without a shape yet (a lazy module's, until its first forward).

    >>> p = chainrule.nn.UninitializedParameter()
    >>> p.materialize((2, 3)); type(p).__name__, p.shape
    ('Parameter', chainrule.Size([2, 3]))
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        p = wrap(creation.empty(0, dtype=dtype, device=device)._data, cls=cls)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Buffer):
    """A buffer without a shape yet (a lazy BatchNorm's running statistics).

    >>> b = chainrule.nn.UninitializedBuffer()
    >>> b.materialize(3); type(b).__name__, b.shape
    ('Tensor', chainrule.Size([3]))
    """

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = wrap(creation.empty(0, dtype=dtype, device=device)._data, cls=cls)
        if requires_grad:
            b.requires_grad_(True)
        _set_persistent(b, persistent)
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass
