"""chainrule: define-by-run automatic differentiation on NumPy, with PyTorch's API.

>>> import chainrule as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> loss = ((w * 2.0 - 4.0) ** 2).sum()
>>> loss.backward()
>>> w.grad
tensor([-8.])
"""
from . import accelerator, autograd, backends, cuda, dtypes, exercises, ops, viz
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
from .functional import (abs_, acos_, acosh_, addcdiv, addcmul, angle, arccos, arccos_, arccosh,
                         arccosh_, arcsin, arcsin_, arcsinh, arcsinh_, arctan, arctan2, arctan_,
                         arctanh, arctanh_, asin_, asinh_, atan2, atan_, atanh_, bitwise_and,
                         bitwise_left_shift, bitwise_or, bitwise_right_shift, bitwise_xor, ceil_,
                         clamp_, clamp_max, clamp_max_, clamp_min, clamp_min_, clip_, copysign,
                         cos_, cosh_, deg2rad, deg2rad_, exp2_, exp_, expm1_, fill, fill_, fix,
                         fix_, float_power, floor_, fmax, fmin, frac, frac_, frexp, gcd, gcd_,
                         heaviside, hypot, isneginf, isposinf, isreal, lcm, lcm_, ldexp, ldexp_,
                         lerp, log10_, log1p_, log2_, log_, logaddexp, logaddexp2, nan_to_num,
                         nan_to_num_, neg_, negative_, nextafter, positive, rad2deg, rad2deg_,
                         reciprocal_, relu_, round_, rsqrt_, sgn, sigmoid_, signbit, sin_, sinh_,
                         sqrt_, square_, tan_, tanh_, trunc_, zero_)

# -- special
from . import special  # noqa: E402
from .functional import (digamma, erf, erf_, erfc_, erfinv, i0, i0_, igamma,  # noqa: E402
                         igammac, lgamma,
                         logit, logit_, mvlgamma, polygamma, sinc, sinc_, xlogy, xlogy_)

# -- reductions, scans and sorting
from .functional import (aminmax, argsort, bincount, bucketize, corrcoef,  # noqa: E402
                         count_nonzero, cov, cummax, cummin, cumprod, cumsum,
                         cumulative_trapezoid, diff, gradient, histc, histogram, histogramdd, isin,
                         kthvalue, logcumsumexp, median, mode, msort, nanmean, nanmedian,
                         nanquantile, nansum, quantile, searchsorted, sort, std_mean,
                         trapezoid, trapz, unique, unique_consecutive, var_mean)

# -- indexing and scatter
from .functional import (argwhere, as_strided, as_strided_copy, as_strided_scatter,
                         diagonal_scatter, gather, index_add, index_copy, index_fill, index_put,
                         index_put_, index_reduce, index_select, masked_scatter, masked_select,
                         narrow_copy, nonzero, nonzero_static, put, scatter, scatter_add,
                         scatter_reduce, select, select_copy, select_scatter, slice_scatter, take,
                         take_along_dim, tril_indices, triu_indices, unravel_index)

# -- shape
from .functional import (alias_copy, atleast_1d, atleast_2d, atleast_3d, block_diag,
                         broadcast_shapes, broadcast_tensors,
                         cartesian_prod, channel_shuffle, column_stack,
                         combinations, diag, diag_embed, diagflat,
                         diagonal, diagonal_copy, dsplit, dstack,
                         empty_permuted, empty_strided, expand_copy,
                         fliplr, flipud, hsplit, hstack, meshgrid,
                         moveaxis, movedim, permute_copy, pixel_shuffle,
                         pixel_unshuffle, ravel, repeat_interleave,
                         resize_as_, roll, rot90, row_stack, slice_copy,
                         split_copy, split_with_sizes,
                         split_with_sizes_copy, squeeze_copy, t_copy,
                         tensor_split, tile, trace, transpose_copy,
                         unbind_copy, unfold_copy, unsafe_chunk,
                         unsafe_split, unsafe_split_with_sizes,
                         unsqueeze_copy, view_copy, vsplit, vstack)  # noqa: F401

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
from .creation import (bernoulli, binomial, get_rng_state, poisson, randint_like,  # noqa: E402
                       set_rng_state)
from . import distributions, random  # noqa: E402

# -- attributes and the rest
from .functional.linalg import torch_eig as eig  # noqa: E402
from .functional.linalg import torch_solve as solve  # noqa: E402
from .functional.linalg import torch_symeig as symeig  # noqa: E402
from .nn.functional.activation import (celu, celu_, hardshrink, prelu, selu,  # noqa: E402
                                       selu_, threshold, threshold_)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """torch.rrelu: nn.functional.rrelu with training=False by default (the mean slope)"""
    from .nn.functional import rrelu as f
    return f(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu, in place"""
    from .nn.functional import rrelu as f
    return f(input, lower, upper, training, inplace=True)


def adjoint(input):
    """input with its last two dims swapped (the conjugate transpose; real tensors only)"""
    return input.adjoint()


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    """addmv, written into input"""
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def detach_(input):
    """input, detached from its graph in place"""
    return input.detach_()


def detach_copy(input):
    """a copy of input, outside any graph"""
    return input.detach().clone()


from ._misc import (  # noqa: E402  (range, cond, ...: torch's names, shadowing builtins here)
    are_deterministic_algorithms_enabled, bartlett_window, blackman_window, can_cast, cond, conj,
    conj_physical, conj_physical_, cpu, from_file, frombuffer, get_default_device, get_deterministic_debug_mode,
    get_device, get_device_module, get_float32_matmul_precision, get_num_interop_threads,
    get_num_threads, hamming_window, hann_window, imag, init_num_threads, is_anomaly_check_nan_enabled,
    is_anomaly_enabled, is_complex, is_conj, is_deterministic_algorithms_warn_only_enabled,
    is_distributed, is_inference, is_inference_mode_enabled, is_neg, is_nonzero, is_same_size,
    is_signed, is_storage, is_warn_always_enabled, kaiser_window, layout, range, real, resolve_conj,
    resolve_neg, scalar_tensor, set_anomaly_enabled, set_default_device, set_default_tensor_type,
    set_deterministic_debug_mode, set_float32_matmul_precision, set_flush_denormal,
    set_num_interop_threads, set_num_threads, set_warn_always, strided, to_dlpack, typename,
    use_deterministic_algorithms, while_loop)
from .func import vmap  # noqa: E402
from ._misc import (  # noqa: E402  (nn.functional ops under torch's top-level signatures)
    adaptive_avg_pool1d, avg_pool1d, batch_norm, bilinear, binary_cross_entropy_with_logits,
    conv1d, conv2d, conv_transpose1d, conv_transpose2d, dropout, dropout_, embedding,
    feature_dropout, feature_dropout_, group_norm, kl_div, layer_norm, max_pool1d,
    max_pool1d_with_indices, max_pool2d, rms_norm)
from ._misc import (  # noqa: E402  (issue 13: vision, norms, embedding_bag)
    affine_grid_generator, alpha_dropout, alpha_dropout_, embedding_bag, embedding_renorm_,
    feature_alpha_dropout, feature_alpha_dropout_, grid_sampler, grid_sampler_2d, grid_sampler_3d,
    instance_norm)
from ._misc import (  # noqa: E402,F401  (issue 13: conv and pooling)
    adaptive_max_pool1d, conv3d, conv_tbc, conv_transpose3d, convolution, max_pool3d,
    native_channel_shuffle)



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
# the modules scripts import even on a CPU (issue #13): amp, distributed, onnx, cuda.amp, nn.parallel
from . import amp, distributed, onnx  # noqa: E402,F401
from .amp import autocast  # noqa: E402,F401
from .cuda import amp as _cuda_amp  # noqa: E402,F401
from .nn import parallel as _nn_parallel  # noqa: E402,F401
# torch's top-level loss functions (an integer reduction: 0 none, 1 mean, 2 sum) and distances
from .nn.functional.loss import (  # noqa: E402,F401
    aten_cosine_embedding_loss as cosine_embedding_loss,
    aten_hinge_embedding_loss as hinge_embedding_loss,
    aten_margin_ranking_loss as margin_ranking_loss, aten_poisson_nll_loss as poisson_nll_loss,
    aten_triplet_margin_loss as triplet_margin_loss, cosine_similarity, pairwise_distance)
from .nn.functional.loss import aten_ctc_loss as ctc_loss  # noqa: E402,F401  (issue 13)
from .nn.functional.padding import constant_pad_nd  # noqa: E402,F401
# issue 14: record a step once, replay it as straight-line NumPy
from . import compiler  # noqa: E402,F401
from .compiler import compile  # noqa: E402,F401,A001


def __getattr__(name):
    """``chainrule.bfloat16`` (and torch's float8 dtypes): an error that says why, not a bare
    "has no attribute" (PEP 562 runs this only for names the module lacks)."""
    if name == "bfloat16" or name.startswith("float8_"):
        raise AttributeError(
            f"chainrule has no {name}: NumPy has no such dtype, so chainrule computes in float16, "
            f"float32 or float64. Use chainrule.float32 (or chainrule.float16 for half precision)")
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
