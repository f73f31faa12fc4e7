"""Helpers shared by the distributions (torch.distributions.utils)."""
import math

import numpy as np

from .. import dtypes as D
from ..tensor import Tensor, wrap

euler_constant = 0.57721566490153286060


def tensor_like(value, like=None):
    if isinstance(value, Tensor):
        return value
    dt = like.dtype if like is not None else D.get_default_dtype()
    return wrap(np.asarray(value, dtype=dt.np))


def broadcast_all(*values):
    """Tensors (numbers become tensors of the others' dtype, else the default dtype) broadcast
    to one shape."""
    from .. import functional as F
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, int, float, np.number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    like = None
    if tensors:
        like = wrap(np.empty(0, D.result_type(*(t._data for t in tensors))))
    ts = [v if isinstance(v, Tensor) else tensor_like(float(v), like) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    return tuple(t if tuple(t.shape) == shape else F.expand(t, shape) for t in ts)


def sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    eps = float(np.finfo(probs._data.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Probabilities to logits: log p (normalised by softmax later), or log(p / (1 - p))."""
    from .. import functional as F
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return F.log(ps_clamped) - F.log1p(-ps_clamped)
    return F.log(ps_clamped)


def logits_to_probs(logits, is_binary=False):
    """Logits to probabilities: sigmoid (binary) or softmax over the last dim."""
    from .. import functional as F
    if is_binary:
        return F.sigmoid(logits)
    return F.softmax(logits, -1)


def xlogy(x, y):
    """x·log(y), 0 where x == 0 (also its gradient)."""
    from .. import functional as F
    x, y = (v if isinstance(v, Tensor) else tensor_like(v) for v in (x, y))
    zero = x == 0
    safe = F.where(zero, tensor_like(1.0, y), y)
    return F.where(zero, tensor_like(0.0, y), x * F.log(safe))


class lazy_property:
    """A property computed once, on first access, then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def _tril_mask(n, diag):
    arange = np.arange(n)
    return arange < arange.reshape(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular entries (below ``diag``) of a (batched) square matrix, in row
    order."""
    from .. import functional as F
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.nonzero(_tril_mask(n, diag))
    return F.stack([mat[..., int(i), int(j)] for i, j in zip(rows, cols)], -1)


def vec_to_tril_matrix(vec, diag=0):
    """The (batched) square lower-triangular matrix holding ``vec`` below ``diag``, in row
    order."""
    from .. import functional as F
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > float(np.finfo(vec._data.dtype).eps):
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mask = _tril_mask(n, diag)
    zero = vec[..., 0] * 0 if vec.shape[-1] else None
    k = 0
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            if mask[i, j]:
                row.append(vec[..., k])
                k += 1
            else:
                row.append(zero)
        rows.append(F.stack(row, -1))
    return F.stack(rows, -2)
