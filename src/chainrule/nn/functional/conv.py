"""Convolution and pooling: conv1d/2d/3d, conv_transpose1d/2d/3d, conv_tbc, max/avg pooling in 1 to
3 dims, adaptive average pooling, fold/unfold (the rest of pooling is in ``pooling.py``).

Everything is vectorised: a convolution lays its input's windows out as columns (im2col, through a
strided view) and does one batched BLAS matmul; its transposed form does the matmul and then adds
each kernel offset's slice back into place (col2im: a loop over the kh·kw kernel offsets, never
over pixels).

Two registry primitives do the work, both in ``ops/nn.py``: ``convolution`` (conv and, with
``transposed=True``, its adjoint) and ``avg_pool2d``; the functions here check arguments with
torch's messages and call them.

``unfold`` and ``fold`` are that same ``convolution`` (and its transpose) with an identity kernel of
one output channel per kernel offset.

Max pooling is a composite: the window maxima's positions are found with NumPy
(``max_pool_places``, torch's indices) and the output is ``input.reshape(-1)[positions]``, an
``index`` node named ``MaxPool{2,3}DWithIndicesBackward0`` that keeps one int64 an output, as
torch (its VJP scatters the gradient back to the winners, and that scatter's VJP gathers).  The
positions come from ops without a gradient run through ``functional._args.nondiff`` (as argmax), so
``chainrule.compile`` records them and a replay finds them again on its own inputs.
"""
import math

from ... import dtypes as D
from ... import functional as CF
from ... import ops
from ..._backend import xp
from ...functional import channel_shuffle, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ...functional._args import nondiff
from ...ops.nn import pool_out_size, spatial_pad, windows
from ...tensor import Tensor, apply, wrap

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d",
           # -- issue 13: conv and pooling
           "conv3d", "conv_transpose3d", "conv_tbc", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool3d",
           "adaptive_avg_pool3d", "fold", "unfold", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle", "assert_int_or_pair"]


# =========================================================================================
# Argument checks, with torch's messages
# =========================================================================================

def assert_int_or_pair(arg, arg_name, message):
    """torch's argument check for fold/unfold: ``arg`` is an int or a pair, else
    ``AssertionError(message.format(arg_name))``.

    >>> chainrule.nn.functional.assert_int_or_pair((2, 3), "kernel_size", "{} must be a pair")
    """
    if not (isinstance(arg, int) or len(arg) == 2):
        raise AssertionError(message.format(arg_name))


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


def check_tensor(v, what, op):
    """v itself, or torch's TypeError when it is not a Tensor."""
    if not isinstance(v, Tensor):
        raise TypeError(f"{op}(): argument '{what}' must be a Tensor, not {type(v).__name__}")
    return v


def type_name(dtype):
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
            f"expected scalar type {type_name(x._data.dtype)} but found "
            f"{type_name(w._data.dtype)} ({op}: the input is {x.dtype} and the weight "
            f"{w.dtype}; convert one, e.g. input.to(weight.dtype))")
    if b is not None and b._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"Input type ({type_name(x._data.dtype).lower()}) and bias type "
            f"({type_name(b._data.dtype).lower()}) should be the same ({op}: convert the bias, "
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
    x = check_tensor(input, "input", op)
    w = check_tensor(weight, "weight", op)
    b = None if bias is None else check_tensor(bias, "bias", op)
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
    x = check_tensor(input, "input", op)
    w = check_tensor(weight, "weight", op)
    b = None if bias is None else check_tensor(bias, "bias", op)
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
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, size))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, out_size))}). Output size is too small ({op}: "
                           "reduce the padding)")
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


def _pool_args(op, x, nd, kernel_size, stride, padding, dilation, indices=False):
    x = check_tensor(x, "input", op)
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
    if any(p > k // 2 for p, k in zip(pad, kernel)):      # torch checks the bare kernel too
        if nd == 1 and not indices:     # with indices, torch pools 1-d input as a 2-d image
            raise RuntimeError(f"{op}() padding should be at most half of kernel size, but got "
                               f"padding={pad[0]} and kernel_size={kernel[0]}")
        got = (f"padW = {pad[0]}, padH = 0, kW = {kernel[0]}, kH = 1" if nd == 1 else
               f"padW = {pad[1]}, padH = {pad[0]}, kW = {kernel[1]}, kH = {kernel[0]}"
               if nd == 2 else
               f"kT: {kernel[0]} kW: {kernel[2]} kH: {kernel[1]} padT: {pad[0]} padW: {pad[2]} "
               f"padH: {pad[1]}")
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got {got}")
    return x, kernel, stride, pad, dil


def _check_out_size(op, x, nd, out):
    if any(o <= 0 for o in out):
        planes = x.shape[-nd - 1]           # channels, batched or not
        size = x.shape[-nd:]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (planes,) + tuple(size)))}). "
                           f"Calculated output size: "
                           f"({'x'.join(map(str, (planes,) + tuple(out)))}). Output size is too "
                           f"small ({op}: use a smaller kernel, or pad the input)")


def window_argmax(win, nd):
    """Per window of ``win`` (*lead, *kernel: the last nd dims), the flat offset of torch's
    winner: the first maximum in scan order, or the last NaN."""
    flat = win.reshape(win.shape[:-nd] + (math.prod(win.shape[-nd:]),))
    if flat.size == 0:                  # no windows (an empty batch or output)
        return xp.zeros(flat.shape[:-1], dtype=xp.int64)
    pick = flat.argmax(axis=-1)
    if flat.dtype.kind == "f":
        nan = xp.isnan(flat)
        if nan.any():       # torch keeps the last NaN of a window; NumPy's argmax finds the first
            last = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
            pick = xp.where(nan.any(axis=-1), last, pick)
    return pick


def take_winners(x, plane, nd, overlap, name, pool=None):
    """x's values at ``plane`` (a tensor: per leading index, the winner's flat place in its
    plane of the last nd dims), recorded as one index node named ``name``: its VJP scatters back
    to the winners (adding up where ``overlap`` lets windows share one), and that scatter's
    gathers.  ``pool`` (kernel, stride, padding, dilation) marks a max pooling: a window of it
    with no input element gets the lowest value of x's dtype (-inf), read from one element
    appended to x's values, and no gradient.

    The index is computed from ``plane`` by ``winner_index`` through ``nondiff``, so
    chainrule.compile records it as an op of the replay, not as a constant."""
    size = tuple(x.shape[-nd:])
    flat = CF.reshape(x, (-1,))
    if pool is not None and empty_windows(size, *pool, tuple(plane.shape[-nd:])) is None:
        pool = None
    index = nondiff(winner_index, plane, size=size, pool=pool)
    if pool is not None:
        flat = CF.cat([flat, nondiff(lowest_value, x)])
    return apply(ops.index, (flat,), {"index": index._data, "accumulate": overlap}, name=name)


def winner_index(plane, size, pool=None):
    """The winners' places in the flattened input: ``plane`` (*lead, *out) plus the offset of
    its plane; with ``pool`` (kernel, stride, padding, dilation), a window with no input element
    points one past the end (where ``take_winners`` appends the lowest value)."""
    nd = len(size)
    lead = plane.shape[:-nd]
    per = math.prod(size)
    index = xp.arange(math.prod(lead)).reshape(tuple(lead) + (1,) * nd) * per + plane
    if pool is not None:
        empty = empty_windows(size, *pool, plane.shape[-nd:])
        if empty is not None:
            index = xp.where(empty, math.prod(lead) * per, index)
    return index


def lowest_value(a):
    """One element: the lowest value of ``a``'s dtype (-inf for floats)."""
    low = -xp.inf if a.dtype.kind == "f" else xp.iinfo(a.dtype).min
    return xp.full((1,), low, dtype=a.dtype)


def _first_inside(out, s, p, d):
    """Per window along one dim, the first position of its scan that is not left padding."""
    start = xp.arange(out) * s - p
    return start + d * ((xp.maximum(-start, 0) + d - 1) // d)


def empty_windows(size, kernel, stride, pad, dil, out):
    """A mask (of shape ``out``) of the windows that hold no input element at all, or None when
    there is none: it depends on the sizes alone, never on values."""
    nd = len(size)
    empty = False
    for i, (n, s, p, d, o) in enumerate(zip(size, stride, pad, dil, out)):
        first = _first_inside(o, s, p, d).reshape((-1,) + (1,) * (nd - 1 - i))
        empty = empty | (first >= n)
    return empty if xp.any(empty) else None


def max_pool_places(a, kernel, stride, pad, dil, out):
    """torch's indices of max pooling ``a`` (*lead, *size): per window, the winner's flat place
    h·W + w in its plane, int64: the first maximum in scan order, the last NaN, never the
    padding; a window that holds no input element at all gets the place its scan would have
    started (torch's index there), which lies outside the input.  NumPy alone: max pooling
    calls it through ``nondiff``, an op without a gradient that chainrule.compile records and
    replays like argmax."""
    nd = len(kernel)
    size = a.shape[a.ndim - nd:]
    low = -xp.inf if a.dtype.kind == "f" else xp.iinfo(a.dtype).min
    pads = tuple((p, (o - 1) * s + d * (k - 1) + 1 - n - p)
                 for n, k, s, p, d, o in zip(size, kernel, stride, pad, dil, out))
    win = windows(spatial_pad(a, pads, low), kernel, stride, dil, out)
    pick = window_argmax(win, nd)           # the winner's flat offset in its window
    if not any(lo > 0 or hi > 0 for lo, hi in pads):
        # every window lies inside the input: the place is the window's first place plus the
        # offset's, h·W + w = (i·s + ki·d)·W + (j·s + kj·d), the second a lookup
        base = table = 0
        for i, (n, k, s, d, o) in enumerate(zip(size, kernel, stride, dil, out)):
            axis = (-1,) + (1,) * (nd - 1 - i)
            base = base * n + (xp.arange(o) * s).reshape(axis)
            table = table * n + (xp.arange(k) * d).reshape(axis)
        return (base + table.reshape(-1)[pick]).astype(xp.int64, copy=False)
    offsets = xp.unravel_index(pick, kernel)
    coords = []
    for i, (s, p, d) in enumerate(zip(stride, pad, dil)):
        start = (xp.arange(out[i]) * s - p).reshape((-1,) + (1,) * (nd - 1 - i))
        coords.append(start + offsets[i] * d)
    invalid = False
    for c, n in zip(coords, size):
        invalid = invalid | (c < 0) | (c >= n)
    if xp.any(invalid):         # a window of -inf: its max is in the padding; torch takes the
        for i, (s, p, d) in enumerate(zip(stride, pad, dil)):          # first real element
            first = _first_inside(out[i], s, p, d).reshape((-1,) + (1,) * (nd - 1 - i))
            coords[i] = xp.where(invalid, first, coords[i])
    plane = coords[0]
    for c, n in zip(coords[1:], size[1:]):
        plane = plane * n + c
    return plane.astype(xp.int64, copy=False)


def max_poolnd(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
               return_indices):
    x, kernel, stride, pad, dil = _pool_args(op, input, nd, kernel_size, stride, padding,
                                             dilation)
    size = x.shape[-nd:]
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(size, kernel, stride, pad, dil))
    _check_out_size(op, x, nd, out)
    # the winners' places in their planes: torch's indices, found by an op without a gradient
    plane = nondiff(max_pool_places, x, kernel=kernel, stride=stride, pad=pad, dil=dil, out=out)
    # the graph keeps one int64 an output, as torch: the winner's place in the flattened input,
    # read from a view of it (one index array where a coordinate each needs nd + 2 and is slower);
    # windows that overlap can share a winner: its gradients must add up
    overlap = any(s < d * (k - 1) + 1 for s, k, d in zip(stride, kernel, dil))
    result = take_winners(x, plane, nd, overlap, f"MaxPool{nd}DWithIndicesBackward0",
                          (kernel, stride, pad, dil))
    if not return_indices:
        return result
    return result, plane


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
    return max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """out[n, c, l] = max of input[n, c] over window l (max_pool2d on a height-1 image, as torch)

    >>> chainrule.nn.functional.max_pool1d(chainrule.tensor([[1., 3., 2., 0.]]), 2)
    tensor([[3., 2.]])
    """
    _pool_args("max_pool1d", input, 1, kernel_size, stride, padding, dilation, return_indices)

    def one(v, default):
        return tuple_arg(v, 1, "", "max_pool1d")[0] if v is not None and v != () else default
    k = one(kernel_size, None)
    out = max_poolnd("max_pool1d", 2, CF.unsqueeze(input, -2), (1, k),
                      (1, one(stride, k)), (0, one(padding, 0)), (1, one(dilation, 1)),
                      ceil_mode, return_indices)
    if return_indices:
        return CF.squeeze(out[0], -2), CF.squeeze(out[1], -2)
    return CF.squeeze(out, -2)


def avg_poolnd(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
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
    return avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
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
    out = avg_poolnd("avg_pool1d", 2, CF.unsqueeze(input, -2), (1, k), (1, one(stride, k)),
                      (0, one(padding, 0)), ceil_mode, count_include_pad, None)
    return CF.squeeze(out, -2)


def adaptive_sizes(op, x, nd, output_size):
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
    x = check_tensor(input, "input", op)
    if x._data.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(x.shape)} (the "
                           "spatial and channel dims must be non-empty)")
    size, out = adaptive_sizes(op, x, 2, output_size)
    if 0 in out:
        raise RuntimeError(f"{op}: output_size must be positive, got {output_size!r}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"adaptive_avg_pool2d\" not implemented for "
                           f"'{type_name(x._data.dtype)}' (convert the input with .float())")
    if out == (1, 1):           # torch takes the mean
        return CF.mean(x, (-2, -1), True)
    if all(n % o == 0 for n, o in zip(size, out)):      # regular windows: plain average pooling
        k = tuple(n // o for n, o in zip(size, out))
        return avg_poolnd(op, 2, x, k, k, 0, False, True, None,
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
    x = check_tensor(input, "input", op)
    if x._data.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise RuntimeError(f"{op}(): Expected 2D or 3D tensor, but got {list(x.shape)}")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != 1:
            raise RuntimeError(f"{op}: output_size must have 1 element, got {output_size}")
        output_size = output_size[0]
    out = adaptive_avg_pool2d(CF.unsqueeze(x, -2), (1, output_size))
    return CF.squeeze(out, -2)


# =========================================================================================
# -- issue 13: conv and pooling (3-d layers, conv_tbc, the *_with_indices forms, fold/unfold)
# =========================================================================================

def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o] = bias[o] + Σ_c weight[o, c] ⋆ input[n, c] over (D, H, W) (cross-correlation)

    input (N, C, D, H, W) or (C, D, H, W); weight (out_channels, C / groups, kD, kH, kW).

    >>> x = chainrule.ones(1, 2, 4, 4, 4)
    >>> chainrule.nn.functional.conv3d(x, chainrule.ones(3, 2, 3, 3, 3), padding=1).shape
    chainrule.Size([1, 3, 4, 4, 4])
    """
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """out = the adjoint of conv3d in its input (a "deconvolution"), plus bias

    input (N, C, D, H, W) or (C, D, H, W); weight (C, out_channels / groups, kD, kH, kW).

    >>> x = chainrule.ones(1, 2, 2, 3, 3)
    >>> chainrule.nn.functional.conv_transpose3d(x, chainrule.ones(2, 4, 2, 2, 2), stride=2).shape
    chainrule.Size([1, 4, 4, 6, 6])
    """
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_tbc(input, weight, bias, pad=0):
    """conv1d on a (time, batch, channels) sequence: out[t, b, o] = bias[o] +
    Σ_k,c input[t + k - pad, b, c] · weight[k, c, o]

    input (T, B, C_in); weight (kernel_width, C_in, C_out); bias (C_out,), required as in torch.

    >>> x = chainrule.ones(5, 2, 3)
    >>> chainrule.nn.functional.conv_tbc(x, chainrule.ones(3, 3, 4), chainrule.zeros(4), 1).shape
    chainrule.Size([5, 2, 4])
    """
    op = "conv_tbc"
    x = check_tensor(input, "input", op)
    w = check_tensor(weight, "weight", op)
    b = check_tensor(bias, "bias", op)
    if x._data.ndim != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if w._data.ndim != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if b._data.ndim != 1:
        raise RuntimeError("Bias must be 1-D")
    if x.shape[2] != w.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if w.shape[2] != b.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    pad = int(pad)
    if pad < 0:                 # torch crops the sequence by -pad at each end
        x = x[-pad:x.shape[0] + pad]
        pad = 0
    if x.shape[0] + 2 * pad < w.shape[0]:
        raise RuntimeError(f"conv_tbc: the kernel (width {w.shape[0]}) is longer than the "
                           f"padded sequence ({x.shape[0]} + 2·{pad} time steps)")
    out = _convnd(op, 1, CF.permute(x, (1, 2, 0)), CF.permute(w, (2, 1, 0)), b, 1, pad, 1, 1)
    return CF.permute(out, (2, 0, 1))


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """out[n, c, d, i, j] = max of input[n, c] over window (d, i, j); input padded with -inf

    With return_indices, also the flat index (d·H·W + h·W + w) of each maximum in its input
    volume.  Ties go to the first maximum in the window, as torch.

    >>> x = chainrule.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> chainrule.nn.functional.max_pool3d(x, 2)
    tensor([[[[[7.]]]]])
    """
    return max_poolnd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                      return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """(max_pool1d(input, ...), indices), whatever return_indices says (as torch)

    >>> chainrule.nn.functional.max_pool1d_with_indices(chainrule.tensor([[1., 3., 2., 0.]]), 2)
    (tensor([[3., 2.]]), tensor([[1, 2]]))
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """(max_pool2d(input, ...), indices), whatever return_indices says (as torch)

    >>> x = chainrule.arange(16.).reshape(1, 1, 4, 4)
    >>> chainrule.nn.functional.max_pool2d_with_indices(x, 2)[1]
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    return max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """(max_pool3d(input, ...), indices), whatever return_indices says (as torch)

    >>> x = chainrule.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> chainrule.nn.functional.max_pool3d_with_indices(x, 2)[1]
    tensor([[[[[7]]]]])
    """
    return max_poolnd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """out[n, c, d, i, j] = mean of input[n, c] over window (d, i, j) (avg_pool2d's divisor rules)

    >>> x = chainrule.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> chainrule.nn.functional.avg_pool3d(x, 2)
    tensor([[[[[3.5000]]]]])
    """
    x, kernel, stride_, pad, _ = _pool_args("avg_pool3d", input, 3, kernel_size, stride, padding,
                                            1)
    if x._data.dtype == xp.float16:
        raise NotImplementedError("\"avg_pool3d_out_frame\" not implemented for 'Half' "
                                  "(convert the input with .float())")
    size = x.shape[-3:]
    if any(n < k for n, k in zip(size, kernel)):       # torch checks the unpadded input
        raise RuntimeError(f"input image (T: {size[0]} H: {size[1]} W: {size[2]}) smaller than "
                           f"kernel size (kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    return avg_poolnd("avg_pool3d", 3, x, kernel, stride_, pad, ceil_mode, count_include_pad,
                      divisor_override, name="AvgPool3DBackward0")


def adaptive_avg_pool3d(input, output_size):
    """out = the mean over torch's adaptive windows along D, H and W (floor(i·D/d) to
    ceil((i+1)·D/d), etc.)

    output_size: an int or a triple (None keeps that input size).

    >>> x = chainrule.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> chainrule.nn.functional.adaptive_avg_pool3d(x, 1)
    tensor([[[[[3.5000]]]]])
    """
    op = "adaptive_avg_pool3d"
    x = check_tensor(input, "input", op)
    if x._data.ndim not in (4, 5):
        raise RuntimeError(f"{op}(): Expected 4D or 5D tensor, but got {list(x.shape)}")
    if isinstance(output_size, (list, tuple)) and len(output_size) != 3:
        raise RuntimeError(f"{op}: output_size must be 3 (got {list(output_size)})")
    for i in range(x._data.ndim - 4, x._data.ndim):
        if x.shape[i] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(x.shape)} with dimension "
                               f"{i} being empty")
    size, out = adaptive_sizes(op, x, 3, output_size)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"adaptive_avg_pool3d_cpu\" not implemented for "
                                  f"'{type_name(x._data.dtype)}' (convert the input with "
                                  ".float())")
    if out == (1, 1, 1):        # torch takes the mean
        return CF.mean(x, (-3, -2, -1), True)
    if 0 not in out and all(n % o == 0 for n, o in zip(size, out)):    # regular windows
        k = tuple(n // o for n, o in zip(size, out))
        return avg_poolnd(op, 3, x, k, k, 0, False, True, None,
                          name="AdaptiveAvgPool3DBackward0")
    # irregular windows: an averaging matrix applied along each of D, H and W in turn
    dtype = x._data.dtype
    lead = tuple(x.shape[:-3])
    y = CF.reshape(x, lead + (size[0], size[1] * size[2]))
    y = CF.matmul(wrap(_adaptive_matrix(size[0], out[0], dtype)), y)           # (.., d, H·W)
    y = CF.reshape(y, lead + (out[0],) + size[1:])
    y = CF.matmul(wrap(_adaptive_matrix(size[1], out[1], dtype)), y)           # (.., d, h, W)
    a_w = wrap(_adaptive_matrix(size[2], out[2], dtype).T.copy())
    return apply(ops.matmul, (y, a_w), name="AdaptiveAvgPool3DBackward0")      # (.., d, h, w)


# fold and unfold are a convolution (and its transpose) with an identity kernel, one output
# channel per kernel offset: the columns come from the convolution primitive's im2col, and every
# derivative is again a convolution

def _identity_kernel(kernel, dtype):
    k = math.prod(kernel)
    return xp.eye(k, dtype=dtype).reshape((k, 1) + tuple(kernel))


def _fold_args(op, kernel_size, dilation, padding, stride):
    kernel = tuple_arg(kernel_size, 2, "kernel_size", op)
    dil = tuple_arg(dilation, 2, "dilation", op)
    pad = tuple_arg(padding, 2, "padding", op)
    st = tuple_arg(stride, 2, "stride", op)
    for what, key, vals, low in (("kernel size", "kernel", kernel, 1),
                                 ("dilation", "dilation", dil, 1), ("padding", "pad", pad, 0),
                                 ("stride", "stride", st, 1)):
        if any(v < low for v in vals):
            word = "greater than zero" if low else "non-negative"
            raise RuntimeError(f"{what} should be {word}, but got {key}_height: {vals[0]} "
                               f"{key}_width: {vals[1]}")
    return kernel, dil, pad, st


def _blocks(size, kernel, dil, pad, st):
    return tuple((n + 2 * p - (d * (k - 1) + 1)) // s + 1
                 for n, k, d, p, s in zip(size, kernel, dil, pad, st))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of a batch of images as columns (im2col): (N, C, H, W) ->
    (N, C·kH·kW, L), L the number of blocks; out[n, c·kH·kW + i·kW + j, l] is the (i, j)
    element of block l of channel c

    >>> x = chainrule.arange(9.).reshape(1, 1, 3, 3)
    >>> chainrule.nn.functional.unfold(x, 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    op = "im2col"
    x = check_tensor(input, "input", "unfold")
    kernel, dil, pad, st = _fold_args(op, kernel_size, dilation, padding, stride)
    if x._data.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(x.shape)}")
    if x._data.dtype.kind in "iu":
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for "
                                  f"'{type_name(x._data.dtype)}' (convert the input with .float())")
    x, added = _batched(x, 2)
    n, c, h, w = x.shape
    blocks = _blocks((h, w), kernel, dil, pad, st)
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size ({h}, {w}), kernel_size=({kernel[0]}, {kernel[1]}), "
            f"dilation=({dil[0]}, {dil[1]}), padding=({pad[0]}, {pad[1]}), calculated shape of "
            f"the array of sliding blocks as ({blocks[0]}, {blocks[1]}), but its components must "
            "be at least one.")
    ones = wrap(_identity_kernel(kernel, x._data.dtype))
    cols = apply(ops.convolution, (CF.reshape(x, (n * c, 1, h, w)), ones),
                 dict(stride=st, padding=tuple((p, p) for p in pad), dilation=dil,
                      transposed=False, groups=1), name="Im2ColBackward0")
    out = CF.reshape(cols, (n, c * math.prod(kernel), blocks[0] * blocks[1]))
    return CF.squeeze(out, 0) if added else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold (col2im): sums the columns' sliding blocks back into images,
    (N, C·kH·kW, L) -> (N, C, *output_size); overlapping elements add up

    >>> x = chainrule.ones(1, 4, 4)
    >>> chainrule.nn.functional.fold(x, (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    op = "col2im"
    x = check_tensor(input, "input", "fold")
    out_size = tuple_arg(output_size, 2, "output_size", op)
    kernel, dil, pad, st = _fold_args(op, kernel_size, dilation, padding, stride)
    if any(o < 1 for o in out_size):
        raise RuntimeError(f"output_size should be greater than zero, but got output_height: "
                           f"{out_size[0]} output_width: {out_size[1]}")
    if x._data.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {list(x.shape)}")
    if x._data.dtype.kind in "iub":
        raise NotImplementedError(f"\"col2im_out_cpu\" not implemented for "
                                  f"'{type_name(x._data.dtype)}' (convert the input with .float())")
    x, added = _batched(x, 1)
    n, ck, length = x.shape
    k = math.prod(kernel)
    if ck % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and kernel_size=("
                           f"{kernel[0]}, {kernel[1]}).")
    blocks = _blocks(out_size, kernel, dil, pad, st)
    if blocks[0] * blocks[1] != length or any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given output_size=({out_size[0]}, {out_size[1]}), kernel_size=({kernel[0]}, "
            f"{kernel[1]}), dilation=({dil[0]}, {dil[1]}), padding=({pad[0]}, {pad[1]}), "
            f"stride=({st[0]}, {st[1]}), expected size of input's dimension 2 to match the "
            f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    c = ck // k
    # the transposed convolution reaches (b - 1)·s + d·(k - 1) + 1 - 2p; the rows of the output
    # no block reaches (extra) come back as zeros through a negative high pad
    extra = [o - ((b - 1) * s + d * (kk - 1) + 1 - 2 * p)
             for o, b, s, d, kk, p in zip(out_size, blocks, st, dil, kernel, pad)]
    ones = wrap(_identity_kernel(kernel, x._data.dtype))
    img = apply(ops.convolution, (CF.reshape(x, (n * c, k) + blocks), ones),
                dict(stride=st, padding=tuple((p, p - e) for p, e in zip(pad, extra)),
                     dilation=dil, transposed=True, groups=1), name="Col2ImBackward0")
    out = CF.reshape(img, (n, c) + out_size)
    return CF.squeeze(out, 0) if added else out
