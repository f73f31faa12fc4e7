"""Convolution and pooling: conv1d/conv2d, conv_transpose1d/2d, max/avg pooling, adaptive pooling.

Everything is vectorised: a convolution lays its input's windows out as columns (im2col, through a
strided view) and does one batched BLAS matmul; its transposed form does the matmul and then adds
each kernel offset's slice back into place (col2im: a loop over the kh·kw kernel offsets, never
over pixels).

Two registry primitives do the work, both in ``ops/nn.py``: ``convolution`` (conv and, with
``transposed=True``, its adjoint) and ``avg_pool2d``; the functions here check arguments with
torch's messages and call them.

Max pooling is a composite: the window maxima's positions are found with NumPy and the output is
``input.reshape(-1)[positions]``, an ``index`` node named ``MaxPool2DWithIndicesBackward0`` that
keeps one int64 an output, as torch (its VJP scatters the gradient back to the winners, and that
scatter's VJP gathers).
"""
import math

from ... import dtypes as D
from ... import functional as CF
from ... import ops
from ..._backend import xp
from ...ops.nn import pool_out_size, spatial_pad, windows
from ...tensor import Tensor, apply, wrap

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d"]


# =========================================================================================
# Argument checks, with torch's messages
# =========================================================================================

def tuple_arg(v, nd, what, op):
    if isinstance(v, (list, tuple)):
        v = tuple(v)
        if len(v) == 1:
            v = v * nd
        if len(v) != nd:
            raise RuntimeError(f"expected {what} to be a single integer value or a list of {nd} "
                               f"values to match the convolution dimensions, but got "
                               f"{what}={list(v)}")
    else:
        v = (v,) * nd
    for e in v:
        if isinstance(e, bool) or not isinstance(e, (int, xp.integer)):
            raise TypeError(f"{op}(): argument '{what}' must be an int or a tuple of ints, "
                            f"got {v!r}")
    return tuple(int(e) for e in v)


def _tensor(v, what, op):
    if not isinstance(v, Tensor):
        raise TypeError(f"{op}(): argument '{what}' must be a Tensor, not {type(v).__name__}")
    return v


def _type_name(dtype):
    return D.SCALAR_NAMES.get(dtype.name, dtype.name)


def _check_conv(op, x, w, b, nd, groups, transposed):
    """Dims, channels, groups, bias and dtypes, before any work: torch's messages."""
    ndim = x._data.ndim
    if ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(x.shape)}")
    if w._data.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected weight to be {nd + 2}-dimensional, (out_channels, in_channels / "
            f"groups, *kernel_size) for a convolution or (in_channels, out_channels / groups, "
            f"*kernel_size) for a transposed one, but got weight of size {list(w.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, (int, xp.integer)) or groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (got groups={groups!r})")
    c = x.shape[1] if ndim == nd + 2 else x.shape[0]
    shape = list(w.shape)
    if shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {[shape]} instead")
    want = shape[0] if transposed else shape[1] * groups
    if c != want:
        batched = list(x.shape) if ndim == nd + 2 else [1] + list(x.shape)
        layout = ("in_channels, out_channels / groups" if transposed else
                  "out_channels, in_channels / groups")
        raise RuntimeError(
            f"Given {'transposed=1' if transposed else f'groups={groups}'}, weight of size "
            f"{shape}, expected input{batched} to have {want} channels, but got {c} channels "
            f"instead ({op}: the weight is ({layout}, *kernel_size))")
    out_channels = shape[1] * groups if transposed else shape[0]
    if b is not None and (b._data.ndim != 1 or b.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {shape}, expected bias to be 1-dimensional "
                           f"with {out_channels} elements, but got bias of size {list(b.shape)} "
                           "instead")
    if x._data.dtype != w._data.dtype:
        raise RuntimeError(
            f"expected scalar type {_type_name(x._data.dtype)} but found "
            f"{_type_name(w._data.dtype)} ({op}: the input is {x.dtype} and the weight "
            f"{w.dtype}; convert one, e.g. input.to(weight.dtype))")
    if b is not None and b._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"Input type ({_type_name(x._data.dtype).lower()}) and bias type "
            f"({_type_name(b._data.dtype).lower()}) should be the same ({op}: convert the bias, "
            "e.g. bias.to(input.dtype))")


def _check_positive(values, what):
    if any(v <= 0 for v in values):
        raise RuntimeError(f"non-positive {what} is not supported (got {what}={values})")


def _padding_pairs(padding, nd, kernel, dilation, stride, op):
    """(lo, hi) per spatial dim from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}' ({op}: use 'valid', "
                               "'same', an int or a tuple of ints)")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # torch puts the odd element of an even total on the right
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(kernel, dilation))
    pad = tuple_arg(padding, nd, "padding", op)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"negative padding is not supported (got padding={pad})")
    return tuple((p, p) for p in pad)


def _check_fits(size, pads, kernel, dilation, op):
    padded = [n + lo + hi for n, (lo, hi) in zip(size, pads)]
    eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than "
            f"actual input size ({op}: pad the input, or use a smaller kernel or dilation)")


def _batched(x, nd):
    """x with a batch dim, and whether one was added (torch accepts unbatched input)."""
    if x._data.ndim == nd + 1:
        return CF.unsqueeze(x, 0), True
    return x, False


# =========================================================================================
# Public functions
# =========================================================================================

def _convnd(op, nd, input, weight, bias, stride, padding, dilation, groups):
    x = _tensor(input, "input", op)
    w = _tensor(weight, "weight", op)
    b = None if bias is None else _tensor(bias, "bias", op)
    _check_conv(op, x, w, b, nd, groups, False)
    stride = tuple_arg(stride, nd, "stride", op)
    dilation = tuple_arg(dilation, nd, "dilation", op)
    _check_positive(stride, "stride")
    _check_positive(dilation, "dilation")
    kernel = tuple(w.shape[2:])
    pads = _padding_pairs(padding, nd, kernel, dilation, stride, op)
    _check_fits(x.shape[-nd:], pads, kernel, dilation, op)
    x, added = _batched(x, nd)
    params = dict(stride=stride, padding=pads, dilation=dilation, transposed=False,
                  groups=int(groups))
    out = apply(ops.convolution, (x, w) if b is None else (x, w, b), params)
    return CF.squeeze(out, 0) if added else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, l] = bias[o] + Σ_c,k weight[o, c, k] · input[n, c, l·stride + k·dilation - p]

    input (N, C, L) or (C, L); weight (out_channels, C / groups, k); padding an int, a tuple,
    'valid' or 'same'.

    >>> x = chainrule.ones(1, 2, 5)
    >>> chainrule.nn.functional.conv1d(x, chainrule.ones(3, 2, 3)).shape
    chainrule.Size([1, 3, 3])
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o] = bias[o] + Σ_c weight[o, c] ⋆ input[n, c] (cross-correlation, as torch)

    input (N, C, H, W) or (C, H, W); weight (out_channels, C / groups, kH, kW); stride,
    padding, dilation an int or a pair; padding may also be 'valid' or 'same'.

    >>> x = chainrule.ones(1, 1, 4, 4)
    >>> chainrule.nn.functional.conv2d(x, chainrule.ones(2, 1, 3, 3), padding=1)[0, 0]
    tensor([[4., 6., 6., 4.],
            [6., 9., 9., 6.],
            [6., 9., 9., 6.],
            [4., 6., 6., 4.]])
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x = _tensor(input, "input", op)
    w = _tensor(weight, "weight", op)
    b = None if bias is None else _tensor(bias, "bias", op)
    _check_conv(op, x, w, b, nd, groups, True)
    stride = tuple_arg(stride, nd, "stride", op)
    dilation = tuple_arg(dilation, nd, "dilation", op)
    _check_positive(stride, "stride")
    _check_positive(dilation, "dilation")
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be an int or a tuple of ints, not a "
                        f"string ('{padding}' exists only for convolutions)")
    pad = tuple_arg(padding, nd, "padding", op)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"negative padding is not supported (got padding={pad})")
    opad = tuple_arg(output_padding, nd, "output_padding", op)
    for o, s, d in zip(opad, stride, dilation):
        if o < 0 or (o >= s and o >= d):
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding={opad}, stride={stride}, dilation={dilation}")
    kernel = tuple(w.shape[2:])
    size = x.shape[-nd:]
    out_size = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
                zip(size, stride, pad, dilation, kernel, opad)]
    if any(n <= 0 for n in out_size):
        raise RuntimeError(f"Given input size per channel: {list(size)}. Calculated output size "
                           f"per channel: {out_size}. Output size is too small ({op}: reduce "
                           "the padding)")
    x, added = _batched(x, nd)
    params = dict(stride=stride, padding=tuple((p, p - o) for p, o in zip(pad, opad)),
                  dilation=dilation, transposed=True, groups=int(groups))
    out = apply(ops.convolution, (x, w) if b is None else (x, w, b), params)
    return CF.squeeze(out, 0) if added else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """out = the adjoint of conv1d in its input (a "deconvolution"), plus bias

    input (N, C, L) or (C, L); weight (C, out_channels / groups, k); the output length is
    (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1.

    >>> x = chainrule.ones(1, 2, 3)
    >>> chainrule.nn.functional.conv_transpose1d(x, chainrule.ones(2, 4, 3), stride=2).shape
    chainrule.Size([1, 4, 7])
    """
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """out = the adjoint of conv2d in its input (a "deconvolution"), plus bias

    input (N, C, H, W) or (C, H, W); weight (C, out_channels / groups, kH, kW).

    >>> x = chainrule.ones(1, 2, 3, 3)
    >>> chainrule.nn.functional.conv_transpose2d(x, chainrule.ones(2, 4, 2, 2), stride=2).shape
    chainrule.Size([1, 4, 6, 6])
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def _pool_args(op, x, nd, kernel_size, stride, padding, dilation):
    x = _tensor(x, "input", op)
    if x._data.ndim not in (nd + 1, nd + 2) or 0 in x.shape[-nd - 1:]:
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for "
                           f"input ({op} got input of size {list(x.shape)})")
    kernel = tuple_arg(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else \
        tuple_arg(stride, nd, "stride", op)
    pad = tuple_arg(padding, nd, "padding", op)
    dil = tuple_arg(dilation, nd, "dilation", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"kernel_size={kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride={stride}")
    if any(d <= 0 for d in dil):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation={dil}")
    for p, k, d in zip(pad, kernel, dil):
        if p < 0 or p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    return x, kernel, stride, pad, dil


def _check_out_size(op, x, nd, out):
    if any(o <= 0 for o in out):
        planes = x.shape[-nd - 1]           # channels, batched or not
        size = x.shape[-nd:]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (planes,) + tuple(size)))}). "
                           f"Calculated output size: "
                           f"({'x'.join(map(str, (planes,) + tuple(out)))}). Output size is too "
                           f"small ({op}: use a smaller kernel, or pad the input)")


def _max_pool_positions(a, kernel, stride, pad, dil, out):
    """Per output position and spatial dim, the input coordinate of the window's maximum:
    torch's choice (the first maximum in scan order; the last NaN; never the padding)."""
    nd = len(kernel)
    size = a.shape[-nd:]
    low = -xp.inf if a.dtype.kind == "f" else xp.iinfo(a.dtype).min
    pads = tuple((p, (o - 1) * s + d * (k - 1) + 1 - n - p)
                 for n, k, s, p, d, o in zip(size, kernel, stride, pad, dil, out))
    win = windows(spatial_pad(a, pads, low), kernel, stride, dil, out)
    flat = win.reshape(win.shape[:-nd] + (-1,))
    pick = flat.argmax(axis=-1)
    if a.dtype.kind == "f" and xp.isnan(a).any():
        # torch keeps the last NaN of a window; NumPy's argmax finds the first
        nan = xp.isnan(flat)
        last = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        pick = xp.where(nan.any(axis=-1), last, pick)
    offsets = xp.unravel_index(pick, kernel)
    coords = []
    for i, (s, p, d) in enumerate(zip(stride, pad, dil)):
        start = (xp.arange(out[i]) * s - p).reshape((-1,) + (1,) * (nd - 1 - i))
        coords.append(start + offsets[i] * d)
    if any(lo > 0 or hi > 0 for lo, hi in pads):
        invalid = False
        for c, n in zip(coords, size):
            invalid = invalid | (c < 0) | (c >= n)
        if xp.any(invalid):     # a window of -inf: its max is in the padding; torch takes the
            for i, (s, p, d) in enumerate(zip(stride, pad, dil)):      # first real element
                start = (xp.arange(out[i]) * s - p).reshape((-1,) + (1,) * (nd - 1 - i))
                first = start + d * ((xp.maximum(-start, 0) + d - 1) // d)
                coords[i] = xp.where(invalid, first, coords[i])
    return coords


def _max_poolnd(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
                return_indices):
    x, kernel, stride, pad, dil = _pool_args(op, input, nd, kernel_size, stride, padding,
                                             dilation)
    size = x.shape[-nd:]
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(size, kernel, stride, pad, dil))
    _check_out_size(op, x, nd, out)
    a = x._data
    coords = _max_pool_positions(a, kernel, stride, pad, dil, out)
    plane = coords[0]                   # the winner's place in its plane, h·W + w: torch's indices
    for c, n in zip(coords[1:], size[1:]):
        plane = plane * n + c
    # the graph keeps one int64 an output, as torch: the winner's place in the flattened input,
    # read from a view of it (one index array where a coordinate each needs nd + 2 and is slower)
    lead = a.shape[:-nd]
    start = xp.arange(math.prod(lead)).reshape(lead + (1,) * nd) * math.prod(size)
    # windows that overlap can share a winner: its gradients must add up
    overlap = any(s < d * (k - 1) + 1 for s, k, d in zip(stride, kernel, dil))
    result = apply(ops.index, (CF.reshape(x, (-1,)),),
                   {"index": start + plane, "accumulate": overlap},
                   name="MaxPool2DWithIndicesBackward0")
    if not return_indices:
        return result
    return result, wrap(plane.astype(xp.int64))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """out[n, c, i, j] = max of input[n, c] over window (i, j); input padded with -inf

    stride defaults to kernel_size.  With return_indices, also the flat index (h·W + w) of
    each maximum in its input plane.  Ties go to the first maximum in the window, as torch.

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> chainrule.nn.functional.max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """out[n, c, l] = max of input[n, c] over window l (max_pool2d on a height-1 image, as torch)

    >>> chainrule.nn.functional.max_pool1d(chainrule.tensor([[1., 3., 2., 0.]]), 2)
    tensor([[3., 2.]])
    """
    _pool_args("max_pool1d", input, 1, kernel_size, stride, padding, dilation)

    def one(v, default):
        return tuple_arg(v, 1, "", "max_pool1d")[0] if v is not None and v != () else default
    k = one(kernel_size, None)
    out = _max_poolnd("max_pool1d", 2, CF.unsqueeze(input, -2), (1, k),
                      (1, one(stride, k)), (0, one(padding, 0)), (1, one(dilation, 1)),
                      ceil_mode, return_indices)
    if return_indices:
        return CF.squeeze(out[0], -2), CF.squeeze(out[1], -2)
    return CF.squeeze(out, -2)


def _avg_poolnd(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, name=None):
    x, kernel, stride, pad, _ = _pool_args(op, input, nd, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    out = tuple(pool_out_size(n, k, s, p, 1, ceil_mode)
                for n, k, s, p in zip(x.shape[-nd:], kernel, stride, pad))
    _check_out_size(op, x, nd, out)
    params = dict(kernel_size=kernel, stride=stride, padding=pad, ceil_mode=bool(ceil_mode),
                  count_include_pad=bool(count_include_pad), divisor_override=divisor_override)
    return apply(ops.avg_pool2d, (x,), params, name=name)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """out[n, c, i, j] = mean of input[n, c] over window (i, j)

    The divisor is the window's size clipped to the padded input (to the input itself with
    count_include_pad=False), or divisor_override.

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> chainrule.nn.functional.avg_pool2d(x, 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """out[n, c, l] = mean of input[n, c] over window l (avg_pool2d on a height-1 image)

    >>> chainrule.nn.functional.avg_pool1d(chainrule.tensor([[1., 3., 2., 0.]]), 2)
    tensor([[2., 1.]])
    """
    _pool_args("avg_pool1d", input, 1, kernel_size, stride, padding, 1)

    def one(v, default):
        return tuple_arg(v, 1, "", "avg_pool1d")[0] if v is not None and v != () else default
    k = one(kernel_size, None)
    out = _avg_poolnd("avg_pool1d", 2, CF.unsqueeze(input, -2), (1, k), (1, one(stride, k)),
                      (0, one(padding, 0)), ceil_mode, count_include_pad, None)
    return CF.squeeze(out, -2)


def _adaptive_sizes(op, x, nd, output_size):
    size = tuple(x.shape[-nd:])
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{op}: output_size must have {nd} elements, got {output_size}")
        out = tuple(n if o is None else o for o, n in zip(output_size, size))
    else:
        out = (output_size,) * nd
    if any(isinstance(o, bool) or not isinstance(o, (int, xp.integer)) or o < 0 for o in out):
        raise RuntimeError(f"{op}: elements of output_size must be non-negative integers, got "
                           f"{output_size!r}")
    return size, tuple(int(o) for o in out)


def _adaptive_matrix(n, o, dtype):
    """(o, n): row i averages input[floor(i·n/o) : ceil((i+1)·n/o)], torch's windows."""
    i = xp.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    j = xp.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(input, output_size):
    """out = the mean over torch's adaptive windows: rows floor(i·H/h) to ceil((i+1)·H/h), etc.

    output_size: an int or a pair (None keeps that input size).

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> chainrule.nn.functional.adaptive_avg_pool2d(x, 1)
    tensor([[[[7.5000]]]])
    """
    op = "adaptive_avg_pool2d"
    x = _tensor(input, "input", op)
    if x._data.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(x.shape)} (the "
                           "spatial and channel dims must be non-empty)")
    size, out = _adaptive_sizes(op, x, 2, output_size)
    if 0 in out:
        raise RuntimeError(f"{op}: output_size must be positive, got {output_size!r}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"adaptive_avg_pool2d\" not implemented for "
                           f"'{_type_name(x._data.dtype)}' (convert the input with .float())")
    if out == (1, 1):           # torch takes the mean
        return CF.mean(x, (-2, -1), True)
    if all(n % o == 0 for n, o in zip(size, out)):      # regular windows: plain average pooling
        k = tuple(n // o for n, o in zip(size, out))
        return _avg_poolnd(op, 2, x, k, k, 0, False, True, None,
                           name="AdaptiveAvgPool2DBackward0")
    # irregular windows: out = A_h · x · A_wᵀ with averaging matrices (differentiable again)
    a_h = wrap(_adaptive_matrix(size[0], out[0], x._data.dtype))
    a_w = wrap(_adaptive_matrix(size[1], out[1], x._data.dtype).T.copy())
    return apply(ops.matmul, (a_h, CF.matmul(x, a_w)), name="AdaptiveAvgPool2DBackward0")


def adaptive_avg_pool1d(input, output_size):
    """out = the mean over torch's adaptive windows along the last dim

    >>> chainrule.nn.functional.adaptive_avg_pool1d(chainrule.tensor([[1., 3., 2., 0.]]), 2)
    tensor([[2., 1.]])
    """
    op = "adaptive_avg_pool1d"
    x = _tensor(input, "input", op)
    if x._data.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise RuntimeError(f"{op}(): Expected 2D or 3D tensor, but got {list(x.shape)}")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != 1:
            raise RuntimeError(f"{op}: output_size must have 1 element, got {output_size}")
        output_size = output_size[0]
    out = adaptive_avg_pool2d(CF.unsqueeze(x, -2), (1, output_size))
    return CF.squeeze(out, -2)
