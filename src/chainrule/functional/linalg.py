"""Linear algebra with PyTorch's names: ``matmul`` (``@``), ``mm``, ``bmm``, ``dot``, ``outer``."""
import builtins

from .. import dtypes as D
from .. import ops
from ..tensor import apply
from ._args import tensor_arg
from .elementwise import mul
from .shape import unsqueeze


# =========================================================================================
# Linear algebra
# =========================================================================================

def matmul(input, other):
    """input @ other: dot, matrix-vector, matrix-matrix or batched (batch dims broadcast)"""
    x, y = tensor_arg(input), tensor_arg(other)
    xs, ys = x._data.shape, y._data.shape
    if not xs or not ys:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(xs)}D and {len(ys)}D")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{D.CPP_NAMES.get(x._data.dtype.name, x._data.dtype.name)} != "
            f"{D.CPP_NAMES.get(y._data.dtype.name, y._data.dtype.name)} "
            f"(matmul of {D.of(x._data)} and {D.of(y._data)}: convert one with .to(dtype))")
    k1 = xs[-1]
    k2 = ys[0] if len(ys) == 1 else ys[-2]
    if k1 != k2:
        if len(xs) == 1 and len(ys) == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{xs[0]}] and src "
                               f"[{ys[0]}] to have the same number of elements, but got {xs[0]} "
                               f"and {ys[0]} elements respectively")
        a = "x".join(map(str, (xs[-2] if len(xs) > 1 else 1, k1)))
        b = "x".join(map(str, (k2, ys[-1] if len(ys) > 1 else 1)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a} and {b}) in matmul "
                           f"of shapes {list(xs)} and {list(ys)}: the last dim of the first must "
                           "equal the second-to-last of the second")
    bx, by = xs[:-2], ys[:-2]
    for i in range(1, builtins.min(len(bx), len(by)) + 1):
        if bx[-i] != by[-i] and bx[-i] != 1 and by[-i] != 1:
            raise RuntimeError(f"The size of tensor a ({bx[-i]}) must match the size of tensor b "
                               f"({by[-i]}) at non-singleton dimension "
                               f"{builtins.max(len(bx), len(by)) - i}")
    name = ops.matmul_name(x._data, y._data)
    if len(xs) > 2 or len(ys) > 2:
        name = "BmmBackward0" if len(xs) == 3 and len(ys) == 3 else "UnsafeViewBackward0"
    return apply(ops.matmul, (x, y), name=name)


def mm(input, mat2):
    """Matrix product of two 2-d tensors"""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2-d, got {input.ndim}-d and "
                           f"{mat2.ndim}-d; use matmul (@) for other shapes")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors with the same batch size"""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (bmm got {input.ndim}-d and "
                           f"{mat2.ndim}-d)")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def dot(input, other):
    """Inner product of two 1-d tensors"""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return matmul(input, other)


inner = dot


def outer(input, vec2):
    """out[i, j] = input[i] · vec2[j]"""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-d tensors, got {input.ndim}-d and {vec2.ndim}-d")
    return mul(unsqueeze(input, 1), vec2)


ger = outer

