"""``F`` for VJP rules under ``create_graph=True``: ``ArrayF``'s functions (``_fns.py``) over tensors.

A rule written against ``F`` runs on arrays in an ordinary backward pass and on tensors here, so
a recorded backward pass is itself differentiable.
"""
import builtins

from . import _backend as B
from . import dtypes as D
from . import ops
from ._backend import xp
from .functional.elementwise import (abs, cos, cosh, exp, isnan, log, sign, sin, sinh, sqrt,
                                      tanh, to, where)
from .functional.linalg import matmul
from .functional.reductions import sum
from .functional.shape import expand, flip, permute, reshape, squeeze, transpose, unsqueeze
from .tensor import Tensor, apply, wrap

_ndarray = B.ndarray


def _raw(a):
    return a._data if isinstance(a, Tensor) else a


class TensorF:
    """``F`` for recorded backward passes (see ``_fns.py``): same names as ``ArrayF``."""

    exp = staticmethod(exp)
    log = staticmethod(log)
    sin = staticmethod(sin)
    cos = staticmethod(cos)
    sinh = staticmethod(sinh)
    cosh = staticmethod(cosh)
    tanh = staticmethod(tanh)
    sign = staticmethod(sign)
    sqrt = staticmethod(sqrt)
    abs = staticmethod(abs)
    matmul = staticmethod(matmul)
    raw = staticmethod(_raw)

    @staticmethod
    def isnan(a):
        return isnan(a)._data

    @staticmethod
    def where(cond, a, b):
        c = cond if isinstance(cond, Tensor) else wrap(xp.asarray(cond))
        return where(c, a, b)

    @staticmethod
    def zeros_like(a):
        return wrap(xp.zeros_like(_raw(a)))

    @staticmethod
    def reshape(a, shape):
        return reshape(a, tuple(shape))

    @staticmethod
    def expand(a, shape):
        return expand(a, tuple(shape))

    @staticmethod
    def sum(a, dims, keepdim):
        return sum(a, dims, keepdim)

    @staticmethod
    def sum_to(g, shape):
        shape = tuple(shape)
        if tuple(g.shape) == shape:
            return g
        axes = B.broadcast_axes(g.shape, shape)
        if axes:
            g = sum(g, axes, True)
        return reshape(g, shape)

    @staticmethod
    def swapaxes(a, d0, d1):
        return transpose(a, d0, d1)

    @staticmethod
    def permute(a, axes):
        return permute(a, *axes)

    @staticmethod
    def flip(a, dims):
        return flip(a, *dims)

    @staticmethod
    def unsqueeze(a, d):
        return unsqueeze(a, d)

    @staticmethod
    def squeeze(a, d):
        return squeeze(a, d)

    @staticmethod
    def getitem(a, index):
        return apply(ops.index, (a,), {"index": index, "accumulate": _is_advanced(index)})

    @staticmethod
    def index_scatter(g, shape, index, accumulate):
        return apply(ops.index_scatter, (g,), {"shape": tuple(shape), "index": index,
                                               "accumulate": accumulate})

    @staticmethod
    def cast(a, like):
        return to(a, D.of(_raw(like)) if not isinstance(like, Tensor) else like.dtype)

    @staticmethod
    def apply(op, inputs, params):
        return apply(op, tuple(wrap(v) if type(v) is _ndarray else v for v in inputs), params)


def _is_advanced(index):
    index = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(i, (_ndarray, list, bool)) for i in index)

