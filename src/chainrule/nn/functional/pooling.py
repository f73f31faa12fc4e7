"""Pooling beyond conv.py's max/avg (issue #13): adaptive max pooling, max unpooling, power-average
(LP) pooling and fractional max pooling, in 1, 2 and 3 dims as torch has them.

None is a primitive:

- The max poolings find each window's winner with NumPy (all windows at once: a gather of the
  windows into a (*lead, *out, *kernel) array, then one argmax) and return ``input[winners]``
  through ``conv.take_winners``, an index node; its VJP scatters the gradient back to the
  winners and that scatter's VJP gathers, so they differentiate to any order.  Ties go to the
  first maximum of a window in scan order and a window with NaN to its last NaN, as torch.
  The winners are found by ops without a gradient run through ``functional._args.nondiff``
  (``adaptive_max_places``, ``fractional_max_places``), so ``chainrule.compile`` replays them.
- ``max_unpool`` is the adjoint of that gather: an ``index_scatter`` of the input into zeros.
- ``lp_pool`` is torch's own composite of ``avg_pool`` and powers.
"""
import math

from ... import creation
from ... import functional as CF
from ... import ops
from ..._backend import xp
from ...functional._args import nondiff
from ...tensor import apply
from .conv import (adaptive_sizes, avg_pool1d, avg_pool2d, avg_pool3d, check_tensor,
                   max_pool1d, max_pool2d, max_pool3d, take_winners, tuple_arg, type_name,
                   window_argmax)

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "lp_pool1d", "lp_pool2d", "lp_pool3d", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def _gather_windows(a, idx):
    """a's windows (*lead, *out, *kernel): ``idx[i]`` (*lead', out_i, k_i) holds the input
    coordinates along spatial dim i of every window (lead' broadcasting against a's lead)."""
    nd = len(idx)
    lead = a.shape[:-nd]
    index = [xp.arange(n).reshape((-1,) + (1,) * (len(lead) - 1 - j + 2 * nd))
             for j, n in enumerate(lead)]
    for i, ix in enumerate(idx):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = ix.shape[-2], ix.shape[-1]
        index.append(ix.reshape(ix.shape[:-2] + tuple(shape)))
    return a[tuple(index)]


def _winner_plane(a, starts, ends, kernel):
    """Per window, the flat place (in its plane of the last nd dims) of torch's maximum.
    ``starts[i]``/``ends[i]`` (*lead', out_i): where windows begin and end along dim i;
    ``kernel[i]`` the longest window (shorter ones repeat their last element, which never wins
    a tie against itself and maps back to the same place)."""
    nd = len(kernel)
    size = a.shape[-nd:]
    idx = [xp.minimum(s[..., None] + xp.arange(k), e[..., None] - 1)
           for s, e, k in zip(starts, ends, kernel)]
    offsets = xp.unravel_index(window_argmax(_gather_windows(a, idx), nd), kernel)
    plane = 0
    for i, (s, e, off, n) in enumerate(zip(starts, ends, offsets, size)):
        shape = s.shape[:-1] + tuple(s.shape[-1] if j == i else 1 for j in range(nd))
        coord = xp.minimum(s.reshape(shape) + off, e.reshape(shape) - 1)
        plane = plane * n + coord
    return plane.astype(xp.int64, copy=False)


# =========================================================================================
# Adaptive max pooling
# =========================================================================================

def _adaptive_max(op, nd, input, output_size, return_indices):
    x = check_tensor(input, "input", op)
    ndim = x._data.ndim
    if nd == 1:
        if ndim not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {ndim}-dimensional tensor "
                               f"for argument #1 'self' (while checking arguments for {op})")
        if isinstance(output_size, (list, tuple)) and len(output_size) != 1:
            raise RuntimeError(f"{op}() argument 'output_size' should contain one int (got "
                               f"{len(output_size)})")
    elif ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(x.shape)}")
    elif isinstance(output_size, (list, tuple)) and len(output_size) != nd:
        raise RuntimeError(f"{op}(): internal error: output_size.size() must be {nd}")
    for i in range(ndim - nd - 1, ndim):
        if x.shape[i] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(x.shape)} with dimension "
                               f"{i} being empty")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{op}\" not implemented for '{type_name(x._data.dtype)}' "
                                  "(convert the input with .float())")
    size, out = adaptive_sizes(op, x, nd, output_size)
    plane = nondiff(adaptive_max_places, x, out=tuple(out))
    overlap = any(o and n % o for n, o in zip(size, out))
    name = f"AdaptiveMaxPool{max(nd, 2)}DBackward0"
    result = take_winners(x, plane, nd, bool(overlap), name)
    if return_indices:
        return result, plane
    return result


def adaptive_max_places(a, out):
    """torch's indices of adaptive max pooling ``a`` (*lead, *size) to ``out``: per window
    (rows floor(i·H/h) to ceil((i+1)·H/h), etc.), the winner's flat place in its plane, int64.
    NumPy alone, called through ``nondiff`` (an op chainrule.compile replays)."""
    size = a.shape[len(a.shape) - len(out):]
    starts = [(xp.arange(o) * n) // o for n, o in zip(size, out)]
    ends = [-((-(xp.arange(o) + 1) * n) // o) for n, o in zip(size, out)]
    kernel = tuple(int((e - s).max()) if o else 1 for s, e, o in zip(starts, ends, out))
    return _winner_plane(a, starts, ends, kernel)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """(adaptive_max_pool1d(input, output_size), indices), whatever return_indices says

    >>> x = chainrule.tensor([[1., 3., 2., 0., 5.]])
    >>> chainrule.nn.functional.adaptive_max_pool1d_with_indices(x, 2)
    (tensor([[3., 5.]]), tensor([[1, 4]]))
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """(adaptive_max_pool2d(input, output_size), indices), whatever return_indices says

    >>> x = chainrule.arange(16.).reshape(1, 4, 4)
    >>> chainrule.nn.functional.adaptive_max_pool2d_with_indices(x, 2)[1]
    tensor([[[ 5,  7],
             [13, 15]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """(adaptive_max_pool3d(input, output_size), indices), whatever return_indices says

    >>> x = chainrule.arange(8.).reshape(1, 2, 2, 2)
    >>> chainrule.nn.functional.adaptive_max_pool3d_with_indices(x, 1)[1]
    tensor([[[[7]]]])
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, True)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """out[n, c, i] = max of input[n, c] over rows floor(i·L/l) to ceil((i+1)·L/l)

    >>> chainrule.nn.functional.adaptive_max_pool1d(chainrule.tensor([[1., 3., 2., 0., 5.]]), 2)
    tensor([[3., 5.]])
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """out = the max over torch's adaptive windows (rows floor(i·H/h) to ceil((i+1)·H/h), etc.)

    output_size: an int or a pair (None keeps that input size).  With return_indices, also the
    flat index (h·W + w) of each maximum in its input plane.

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> chainrule.nn.functional.adaptive_max_pool2d(x, 1)
    tensor([[[[15.]]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """out = the max over torch's adaptive windows along D, H and W

    >>> x = chainrule.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> chainrule.nn.functional.adaptive_max_pool3d(x, 1)
    tensor([[[[[7.]]]]])
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# =========================================================================================
# Max unpooling: the adjoint of max pooling's gather
# =========================================================================================

def _unpool_output_size(x, kernel, stride, padding, output_size):
    """torch's rule (nn.functional._unpool_output_size): the default size, or output_size within
    a stride of it."""
    nd = len(kernel)
    default = [(x.shape[x._data.ndim - nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(nd)]
    if output_size is None:
        ret = default
    else:
        output_size = tuple(output_size)
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be '
                                 f'between {lo} and {hi})')
        ret = list(output_size)
    for d in range(nd):
        if ret[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={ret[d]}")
    return tuple(int(r) for r in ret)


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    x = check_tensor(input, "input", op)
    idx = check_tensor(indices, "indices", op)
    kernel = tuple_arg(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else tuple_arg(stride, nd, "stride", op)
    pad = tuple_arg(padding, nd, "padding", op)
    out = _unpool_output_size(x, kernel, stride, pad, output_size)
    k = max(nd, 2)                  # max_unpool1d is torch's max_unpool2d on a width-1 image
    if x._data.ndim not in (nd + 1, nd + 2):
        shown = x._data.ndim + (nd == 1)
        raise RuntimeError(f"Input to max_unpooling{k}d should be a {k + 1}d or {k + 2}d Tensor, "
                           f"but got a tensor with {shown} dimensions.")
    if idx._data.dtype != xp.int64:
        raise RuntimeError("elements in indices should be type int64" +
                           (f" but got: {type_name(idx._data.dtype)}" if k == 2 else ""))
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"max_unpool{k}d\" not implemented for "
                                  f"'{type_name(x._data.dtype)}'")
    plane = math.prod(out)
    i = idx._data
    bad = (i < 0) | (i >= plane)
    if bad.any():
        shown = "x".join(map(str, out + ((1,) if nd == 1 else ())))
        raise RuntimeError(f"Found an invalid max index: {int(i[bad].flat[0])} (output volumes "
                           f"are of size {shown})")
    # out[n, c][unravel(indices[n, c, p])] = input[n, c, p]: one scatter into zeros, whose VJP
    # gathers the gradient at the indices (a repeated index keeps the last write, as torch)
    lead = tuple(x.shape[:-nd])
    index = tuple(xp.arange(n).reshape((-1,) + (1,) * (len(lead) - 1 - j + nd))
                  for j, n in enumerate(lead)) + xp.unravel_index(i, out)
    return apply(ops.index_scatter, (x,), {"shape": lead + out, "index": index,
                                           "accumulate": False}, name=f"MaxUnpool{k}DBackward0")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: zeros with input[n, c, l] put at indices[n, c, l]

    >>> x = chainrule.tensor([[1., 3., 2., 0.]])
    >>> out, i = chainrule.nn.functional.max_pool1d(x, 2, return_indices=True)
    >>> chainrule.nn.functional.max_unpool1d(out, i, 2)
    tensor([[0., 3., 2., 0.]])
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: zeros of the output size with each input value put at
    its index (h·W + w) in its plane

    output_size (H, W), or (N, C, H, W), picks among the sizes the pooling could have come from.

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> out, i = chainrule.nn.functional.max_pool2d(x, 2, return_indices=True)
    >>> chainrule.nn.functional.max_unpool2d(out, i, 2)[0, 0, :2]
    tensor([[0., 0., 0., 0.],
            [0., 5., 0., 7.]])
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: zeros with each input value put at its index
    (d·H·W + h·W + w) in its volume

    >>> x = chainrule.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> out, i = chainrule.nn.functional.max_pool3d(x, 2, return_indices=True)
    >>> chainrule.nn.functional.max_unpool3d(out, i, 2).sum()
    tensor(7.)
    """
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


# =========================================================================================
# Power-average pooling: torch's composite
# =========================================================================================

def _lp_pool(nd, pool, maxpool, input, norm_type, kernel_size, stride, ceil_mode):
    x = check_tensor(input, "input", f"lp_pool{nd}d")
    if isinstance(norm_type, (int, float)):
        if norm_type == math.inf:
            return maxpool(CF.abs(x), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -math.inf:
            return -maxpool(-CF.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    kernel = tuple_arg(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    if stride is not None:
        out = pool(CF.pow(x, norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = pool(CF.pow(x, norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    # sign·relu(|out|) is out itself, but its derivative is 0 where out = 0, as torch's
    return CF.pow(CF.mul(CF.sign(out) * CF.relu(CF.abs(out)), math.prod(kernel)),
                  1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """out = (Σ over each window of x^p)^(1/p); p = inf is max pooling of |x|

    >>> chainrule.nn.functional.lp_pool1d(chainrule.tensor([[3., 4., 1., 0.]]), 2, 2)
    tensor([[5., 1.]])
    """
    return _lp_pool(1, avg_pool1d, max_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """out = (Σ over each kH×kW window of x^p)^(1/p); p = inf is max pooling of |x|

    >>> x = chainrule.tensor([[[3., 4.], [0., 0.]]])
    >>> chainrule.nn.functional.lp_pool2d(x, 2, 2)
    tensor([[[5.]]])
    """
    return _lp_pool(2, avg_pool2d, max_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """out = (Σ over each kD×kH×kW window of x^p)^(1/p); p = inf is max pooling of |x|

    >>> x = chainrule.tensor([[[[3., 4.], [0., 0.]], [[0., 0.], [0., 0.]]]])
    >>> chainrule.nn.functional.lp_pool3d(x, 2, 2)
    tensor([[[[5.]]]])
    """
    return _lp_pool(3, avg_pool3d, max_pool3d, input, norm_type, kernel_size, stride, ceil_mode)


# =========================================================================================
# Fractional max pooling (Graham, 2014): windows of kernel_size at pseudo-random steps
# =========================================================================================

# which of a plane's random samples each spatial dim uses, as torch: (W, H) for 2-d, (T, H, W)
# for 3-d
_SAMPLE_OF_DIM = {2: (1, 0), 3: (0, 1, 2)}
_DIM_WORDS = {2: ("height", "width"), 3: ("time", "height", "width")}


def _intervals(u, n, o, k):
    """torch's window starts along one dim: for samples u (*, 1), in u's own dtype (torch
    computes them in the input's scalar type, so float32 rounding decides some starts)."""
    dt = u.dtype.type
    starts = xp.empty(u.shape[:-1] + (o,), dtype=xp.int64)
    if o > 1:
        alpha = dt(n - k) / dt(o - 1)
        i = xp.arange(o - 1).astype(u.dtype)
        starts[..., :-1] = (((i + u) * alpha).astype(xp.int64) -
                            (u * alpha).astype(xp.int64))
    if o > 0:
        starts[..., -1] = n - k
    return starts


def _fractional(op, nd, input, kernel_size, output_size, output_ratio, return_indices,
                samples):
    x = check_tensor(input, "input", op)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else \
            (output_ratio,) * nd
        if len(ratio) == 1:
            ratio = ratio * nd
        if len(ratio) != nd:
            raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple of "
                             "Ints.")
        output_size = [int(x.shape[x._data.ndim - nd + i] * ratio[i]) for i in range(nd)]
    kernel = tuple_arg(kernel_size, nd, "kernel_size", op)
    out = tuple_arg(output_size, nd, "output_size", op)
    ndim = x._data.ndim
    where = op + ("_out" if nd == 3 else "")
    if ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{where}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(x.shape)}")
    for i in range(ndim - nd - 1, ndim):
        if x.shape[i] == 0:
            raise RuntimeError(f"{where}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but got{list(x.shape)} with dimension {i} being "
                               "empty.")
    size = tuple(x.shape[-nd:])
    # torch checks 2-d as (H, W) and 3-d as (T, W, H), and 3-d windows may not reach the end
    order = (0, 1) if nd == 2 else (0, 2, 1)
    for j in order:
        word, n, k, o = _DIM_WORDS[nd][j], size[j], kernel[j], out[j]
        if (o + k - 1 > n) if nd == 2 else (o + k - 1 >= n):
            raise RuntimeError(f"{where}(): pool {word} {k} too large relative to input {word} "
                               f"{n}")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for "
                                  f"'{type_name(x._data.dtype)}'")
    batch = 1 if ndim == nd + 1 else x.shape[0]
    planes = x.shape[-nd - 1]
    if samples is None:
        samples = creation.rand(batch, planes, nd, dtype=x.dtype)
    else:
        samples = check_tensor(samples, "_random_samples", op)
        u = samples._data
        if u.ndim != 3:
            raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {u.ndim}")
        if u.shape[2] != nd:
            raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got "
                               f"{u.shape[2]}.")
        if u.shape[1] != planes:
            raise RuntimeError(f"Expect _random_samples.size(1) equals to input channel size "
                               f"({planes}); got {u.shape[1]}.")
        if u.shape[0] < batch:
            raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
        if u.dtype != x._data.dtype:
            raise RuntimeError("Expect _random_samples to have the same dtype as input")
    plane = nondiff(fractional_max_places, x, samples, kernel=kernel, out=out)
    result = take_winners(x, plane, nd, True, f"FractionalMaxPool{nd}DBackward0")
    if return_indices:
        return result, plane
    return result


def fractional_max_places(a, u, kernel, out):
    """torch's indices of fractional max pooling ``a`` (*lead, *size) with the samples ``u``
    (N, C, nd) placing the windows: per window, the winner's flat place in its plane, int64.
    NumPy alone, called through ``nondiff`` (an op chainrule.compile replays)."""
    nd = len(kernel)
    size = a.shape[a.ndim - nd:]
    u = u[:a.shape[0]] if a.ndim == nd + 2 else u[0]
    starts = [_intervals(u[..., s:s + 1], n, o, k)
              for s, n, o, k in zip(_SAMPLE_OF_DIM[nd], size, out, kernel)]
    ends = [s + k for s, k in zip(starts, kernel)]
    return _winner_plane(a, starts, ends, kernel)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(fractional_max_pool2d(input, ...), indices), whatever return_indices says

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> u = chainrule.full((1, 1, 2), 0.5)
    >>> chainrule.nn.functional.fractional_max_pool2d_with_indices(x, 2, 2, _random_samples=u)[1]
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(fractional_max_pool3d(input, ...), indices), whatever return_indices says

    >>> x = chainrule.arange(27.).reshape(1, 1, 3, 3, 3)
    >>> u = chainrule.full((1, 1, 3), 0.5)
    >>> chainrule.nn.functional.fractional_max_pool3d_with_indices(x, 2, 1, _random_samples=u)[1]
    tensor([[[[[26]]]]])
    """
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, True, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max pooling over kH×kW windows placed at pseudo-random steps that shrink the image to
    output_size (or output_ratio times its size); _random_samples (N, C, 2) in [0, 1) fixes
    the steps (drawn from chainrule's generator when None)

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> u = chainrule.full((1, 1, 2), 0.5)
    >>> chainrule.nn.functional.fractional_max_pool2d(x, 2, output_size=2, _random_samples=u)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max pooling over kT×kH×kW windows placed at pseudo-random steps (see
    fractional_max_pool2d); _random_samples (N, C, 3)

    >>> x = chainrule.arange(27.).reshape(1, 1, 3, 3, 3)
    >>> u = chainrule.full((1, 1, 3), 0.5)
    >>> chainrule.nn.functional.fractional_max_pool3d(x, 2, output_size=1, _random_samples=u)
    tensor([[[[[26.]]]]])
    """
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, return_indices, _random_samples)
