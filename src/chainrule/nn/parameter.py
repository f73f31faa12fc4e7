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
