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
from .elementwise import (addcdiv, addcmul, angle, arccos, arccosh, arcsin, arcsinh, arctan,
                          arctan2, arctanh, atan2, bitwise_and, bitwise_left_shift, bitwise_or,
                          bitwise_right_shift, bitwise_xor, clamp_max, clamp_min, copysign,
                          deg2rad, fix, fmax, fmin, frac, frexp, gcd, heaviside, hypot, isneginf,
                          isposinf, isreal, lcm, ldexp, lerp, logaddexp, logaddexp2, nan_to_num,
                          nextafter, positive, rad2deg, sgn, signbit)
from ._inplace import (abs_, absolute_, acos_, acosh_, addcdiv_, addcmul_, apply_, arccos_,
                       arccosh_, arcsin_, arcsinh_, arctan2_, arctan_, arctanh_, asin_, asinh_,
                       atan2_, atan_, atanh_, bitwise_and_, bitwise_left_shift_, bitwise_not_,
                       bitwise_or_, bitwise_right_shift_, bitwise_xor_, ceil_, clamp_, clamp_max_,
                       clamp_min_, clip_, copysign_, cos_, cosh_, deg2rad_, divide_, eq_, exp2_,
                       exp_, expm1_, fill, fix_, float_power_, floor_, floor_divide_, fmod_, frac_,
                       gcd_, ge_, greater_, greater_equal_, gt_, heaviside_, hypot_, lcm_, ldexp_,
                       le_, lerp_, less_, less_equal_, log10_, log1p_, log2_, log_, logical_and_,
                       logical_not_, logical_or_, logical_xor_, lt_, map_, multiply_, nan_to_num_,
                       ne_, neg_, negative_, nextafter_, not_equal_, rad2deg_, reciprocal_, relu_,
                       remainder_, round_, rsqrt_, sgn_, sigmoid_, sign_, sin_, sinh_, sqrt_,
                       square_, subtract_, tan_, tanh_, true_divide_, trunc_, zero_)

# -- special
from .special import (digamma, entr, erf, erf_, erfc_, erfcx, erfinv, i0, i0_, i0e, i1, i1e,
                      igamma, igammac, lgamma, log_ndtr, logit, logit_, mvlgamma, ndtr, ndtri,
                      polygamma, polygamma_, sinc, sinc_, xlog1py, xlogy, xlogy_, zeta)

# -- reductions, scans and sorting
from .reductions import (aminmax, corrcoef, count_nonzero, cov, nanmean, nansum,  # noqa: E402
                         std_mean, var_mean)
from .scans import (argsort, bincount, bucketize, cummax, cummin, cumprod,  # noqa: E402
                    cumprod_, cumsum, cumsum_, cumulative_trapezoid, diff, gradient, histc,
                    histogram, histogramdd, isin, kthvalue, logcumsumexp, median, mode, msort,
                    nanmedian, nanquantile, quantile, searchsorted, sort, trapezoid, trapz,
                    unique, unique_consecutive)

# -- indexing and scatter
from .indexing import (argwhere, as_strided, as_strided_copy, as_strided_scatter, diagonal_scatter,
                       fill_diagonal_, gather, index_add, index_add_, index_copy, index_copy_,
                       index_fill, index_fill_, index_put, index_put_, index_reduce, index_reduce_,
                       index_select, masked_scatter, masked_scatter_, masked_select, narrow_copy,
                       nonzero, nonzero_static, put, put_, scatter, scatter_, scatter_add,
                       scatter_add_, scatter_reduce, scatter_reduce_, select, select_copy,
                       select_scatter, slice_scatter, take, take_along_dim, tril_indices,
                       triu_indices, unravel_index)

# -- shape
from .shape import (alias_copy, atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_shapes,
                    broadcast_tensors, cartesian_prod, channel_shuffle,
                    column_stack, combinations, diag, diag_embed, diagflat,
                    diagonal, diagonal_copy, dsplit, dstack, empty_permuted,
                    empty_strided, expand_copy, fliplr, flipud, hsplit, hstack,
                    inplace_view, meshgrid, moveaxis, movedim, permute_copy,
                    pixel_shuffle, pixel_unshuffle, ravel, repeat_interleave,
                    resize, resize_, resize_as, resize_as_, roll, rot90,
                    row_stack, slice_copy, split_copy, split_with_sizes,
                    split_with_sizes_copy, squeeze_copy, sum_to_size, t_copy,
                    tensor_split, tile, trace, transpose_copy, unbind_copy,
                    unfold, unfold_copy, unsafe_chunk, unsafe_split,
                    unsafe_split_with_sizes, unsqueeze_copy, view_copy, vsplit,
                    vstack)  # noqa: F401

# -- linear algebra
from .linalg import (addbmm, addmm, addmv, addr, baddbmm, cdist, chain_matmul,  # noqa: E402,F401
                     cholesky_inverse, cholesky_solve, dist, einsum, frobenius_norm, geqrf,
                     inverse, kron, logdet, lu_unpack, matrix_exp, matrix_power, mv,
                     norm_except_dim, nuclear_norm, orgqr, ormqr, pdist, pinverse, renorm,
                     tensordot, triangular_solve, vdot)
from .linalg import inner  # noqa: E402,F401,F811  (n-d inner, as torch: no longer dot)

# -- random

# -- attributes and the rest
from .. import _misc as misc  # noqa: E402,F401  (Tensor.H, .stride(), ...: tensor.py's _F.misc)

from ..tensor import clone  # noqa: F401  (chainrule.clone)

# math.inf etc. are convenient for users of this module
inf, nan, pi, e = math.inf, math.nan, math.pi, math.e

# engine.run_backward imports TensorF from here; it lives in _tensorf.py, beside _fns.ArrayF
from .._tensorf import TensorF  # noqa: E402,F401
