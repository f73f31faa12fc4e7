"""Tensor functions with PyTorch's names: ``chainrule.exp(x)``, ``chainrule.sum(x, dim=1)``, ...

Each public function checks its arguments (errors name the op, the shapes and the fix), applies
PyTorch's type promotion, and calls a primitive from ``ops`` through ``tensor.apply``, or is
composed from other functions (``mean``, ``var``, ``std``, ``square``, ``outer``, ...), in which
case it needs no derivative of its own.  One module per family:

- ``elementwise.py``: arithmetic, unary math, rounding, comparisons, logic, ``to``
- ``reductions.py``: ``sum``, ``mean``, ``max``, ``var``, ``softmax``, ...
- ``shape.py``: ``reshape``, ``transpose``, ``cat``, ``split``, ... and indexing (``x[i]``)
- ``linalg.py``: ``matmul``, ``mm``, ``bmm``, ``dot``, ``outer``
- ``_inplace.py``: in-place ops (``x += y``, ``x[i] = v``, ``fill_``, ``copy_``) and the version
  counters that guard them
- ``_args.py``: operands, type promotion, dims and indices, shared by the families
"""
import math

from .elementwise import (abs, absolute, add, allclose, asinh, bitwise_not, ceil, clamp, clip,
                          exp2, log10, log2, acos, acosh, asin, atan, atanh, cosh, sinh, erfc,
                          cos, div, divide, eq, equal, exp, expm1, float_power, floor,
                          floor_divide, fmod, ge, greater, greater_equal, gt, isclose, isfinite,
                          isinf, isnan, le,
                          less, less_equal, log, log1p, logical_and, logical_not, logical_or,
                          logical_xor, lt, maximum, minimum, mul, multiply, ne, neg, negative,
                          not_equal, pow, reciprocal, relu, remainder, round, rsqrt, rsub, sigmoid,
                          sign, sin, sqrt, square, sub, subtract, tan, tanh, to, true_divide,
                          trunc, where)
from .linalg import bmm, dot, ger, inner, matmul, mm, outer
from .reductions import (all, amax, amin, any, argmax, argmin, log_softmax, logsumexp, max, mean,
                         min, norm, prod, softmax, std, sum, topk, var)
from .shape import (broadcast_to, cat, chunk, concat, concatenate, expand, flatten, flip, getitem,
                    masked_fill, narrow, permute, repeat, reshape, split, squeeze, stack, swapaxes,
                    swapdims, t, transpose, tril, triu, unbind, unflatten, unsqueeze, view)
from ._inplace import copy_, fill_, inplace, random_fill_, setitem

# issue #12's catalogue, one block a family (kept apart so that parallel work merges cleanly)
# -- elementwise

# -- special

# -- reductions, scans and sorting

# -- indexing and scatter

# -- shape

# -- linear algebra
from .linalg import (addbmm, addmm, addmv, addr, baddbmm, cdist, chain_matmul,  # noqa: E402,F401
                     cholesky_inverse, cholesky_solve, dist, einsum, frobenius_norm, geqrf,
                     inverse, kron, logdet, lu_unpack, matrix_exp, matrix_power, mv,
                     norm_except_dim, nuclear_norm, orgqr, ormqr, pdist, pinverse, renorm,
                     tensordot, triangular_solve, vdot)
from .linalg import inner  # noqa: E402,F401,F811  (n-d inner, as torch: no longer dot)

# -- random

# -- attributes and the rest

from ..tensor import clone  # noqa: F401  (chainrule.clone)

# math.inf etc. are convenient for users of this module
inf, nan, pi, e = math.inf, math.nan, math.pi, math.e

# engine.run_backward imports TensorF from here; it lives in _tensorf.py, beside _fns.ArrayF
from .._tensorf import TensorF  # noqa: E402,F401
