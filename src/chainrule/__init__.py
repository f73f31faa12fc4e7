"""chainrule: define-by-run automatic differentiation on NumPy, with PyTorch's API.

>>> import chainrule as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> loss = ((w * 2.0 - 4.0) ** 2).sum()
>>> loss.backward()
>>> w.grad
tensor([-8.])
"""
from . import accelerator, autograd, backends, cuda, dtypes, ops, viz
from ._printing import get_printoptions, set_printoptions
from .explainer import explain
from .autograd.gradcheck import check_derivation
from .creation import (Generator, arange, as_tensor, asarray, default_generator, empty,
                       empty_like, eye, from_dlpack, from_numpy, full, full_like,
                       initial_seed, linspace, logspace, manual_seed, multinomial, normal,
                       ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm,
                       seed, tensor, zeros, zeros_like)
from .dtypes import (bool_ as bool, double, dtype, finfo, float, float16, float32, float64,
                     get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long,
                     set_default_dtype, short, uint8)
from .functional import (abs, absolute, add, all, allclose, amax, amin, any, argmax, argmin,
                         asinh, bitwise_not, bmm, broadcast_to, cat, ceil, chunk, clamp, clip,
                         exp2, log10, log2, acos, acosh, asin, atan, atanh, cosh, sinh, erfc,
                         clone, concat, concatenate, cos, div, divide, dot, e, eq, equal, exp,
                         expand, expm1, flatten, flip, floor, floor_divide, fmod, ge, ger, greater,
                         greater_equal, gt, inf, inner, isclose, isfinite, isinf, isnan, le,
                         less, less_equal, log, log1p, log_softmax, logical_and, logical_not,
                         logical_or, logical_xor, logsumexp, lt, matmul, max, maximum, mean, min,
                         masked_fill, minimum, mm, mul, multiply, nan, narrow, ne, neg,
                         negative, norm,
                         not_equal, outer, permute, pi, pow, prod, reciprocal, relu, remainder,
                         repeat, reshape, round, rsqrt, rsub, sigmoid, sign, sin, softmax, split,
                         sqrt, square, squeeze, stack, std, sub, subtract, sum, swapaxes,
                         swapdims, t, tan, tanh, topk, transpose, tril, triu, true_divide,
                         trunc, unbind,
                         unflatten, unsqueeze, var, where)
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .tensor import Size, Tensor, device

# issue #12's catalogue, one block a family (kept apart so that parallel work merges cleanly)
# -- elementwise

# -- special

# -- reductions, scans and sorting

# -- indexing and scatter

# -- shape

# -- linear algebra
from . import linalg  # noqa: E402
from .functional import (addbmm, addmm, addmv, addr, baddbmm, cdist, chain_matmul,  # noqa: E402
                         cholesky_inverse, cholesky_solve, dist, einsum, frobenius_norm, geqrf,
                         inverse, kron, logdet, lu_unpack, matrix_exp, matrix_power, mv,
                         norm_except_dim, nuclear_norm, orgqr, ormqr, pdist, pinverse, renorm,
                         tensordot, triangular_solve, vdot)
from .functional.linalg import (det, torch_slogdet as slogdet,  # noqa: E402
                                torch_cholesky as cholesky,
                                torch_cross as cross, torch_lu as lu,
                                torch_lu_solve as lu_solve, torch_qr as qr, torch_svd as svd,
                                torch_vander as vander)
from .functional.linalg import inner  # noqa: E402,F811
from .functional.linalg import torch_lstsq as lstsq  # noqa: E402
from .functional.linalg import torch_matrix_rank as matrix_rank  # noqa: E402
from .functional.linalg import lobpcg, pca_lowrank, svd_lowrank  # noqa: E402

# -- random

# -- attributes and the rest



def is_tensor(obj):
    """True if ``obj`` is a chainrule Tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def detach(input):
    return input.detach()


def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives ``tensor1 op tensor2``."""
    a = tensor1._data if isinstance(tensor1, Tensor) else tensor1
    b = tensor2._data if isinstance(tensor2, Tensor) else tensor2
    return dtypes.BY_NP[dtypes.result_type(a, b)]


def promote_types(type1, type2):
    return dtypes.BY_NP[dtypes.promote_types(type1.np, type2.np)]


# the layers on top of the core (they import it; it never imports them)
from . import datasets, nn, optim, utils  # noqa: E402
from . import func  # noqa: E402
from .serialization import load, load_safetensors, save, save_safetensors  # noqa: E402

__version__ = "0.1.0"
