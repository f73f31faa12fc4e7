"""Linear algebra primitives."""
from .._backend import xp
from . import defprim


def _matmul(x, y):
    """out = x @ y"""
    return xp.matmul(x, y)


def _matmul_vjp_x(F, g, out, x, y):
    if len(y.shape) == 1:
        if len(x.shape) == 1:
            return g * y
        return F.unsqueeze(g, -1) * y          # (..., n, 1) * (k,) → (..., n, k)
    if len(x.shape) == 1:
        return F.squeeze(F.matmul(F.unsqueeze(g, -2), F.swapaxes(y, -1, -2)), -2)
    return F.matmul(g, F.swapaxes(y, -1, -2))


def _matmul_vjp_y(F, g, out, x, y):
    if len(x.shape) == 1:
        if len(y.shape) == 1:
            return g * x
        return F.unsqueeze(x, -1) * F.unsqueeze(g, -2)   # (k, 1) * (..., 1, m) → (..., k, m)
    if len(y.shape) == 1:
        return F.squeeze(F.matmul(F.swapaxes(x, -1, -2), F.unsqueeze(g, -1)), -1)
    return F.matmul(F.swapaxes(x, -1, -2), g)


def matmul_name(x, y):
    if len(x.shape) == 1 and len(y.shape) == 1:
        return "DotBackward0"
    if len(x.shape) == 2 and len(y.shape) == 2:
        return "MmBackward0"
    return "MatmulBackward0"


matmul = defprim("matmul", _matmul, _matmul_vjp_x, _matmul_vjp_y,
                 kind="contraction", linear="bilinear", backward_name="MmBackward0",
                 show="{x} @ {y}", formulas=("yᵀ", "xᵀ"), vjp_texts=("g ↦ g·yᵀ", "g ↦ xᵀ·g"), saves=(0, 1),
                 reads=((1,), (0,)),
                 examples=[("x @ y", (3, 4), (4, 2)), ("x @ y", (4,), (4, 2)), ("x @ y", (3, 4), (4,)),
                           ("x @ y", (4,), (4,)), ("x @ y", (2, 3, 4), (4, 5)),
                           ("x @ y", (2, 1, 3, 4), (5, 4, 2)), ("m.mm(x, y)", (2, 3), (3, 2)),
                           ("m.bmm(x, y)", (2, 2, 3), (2, 3, 4)), ("m.dot(x, y)", (3,), (3,))])
