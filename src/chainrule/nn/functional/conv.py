"""Convolution and pooling: conv1d/conv2d, conv_transpose1d/2d, max/avg pooling, adaptive pooling.

Everything is vectorised: a convolution lays its input's windows out as columns (im2col, through a
strided view) and does one batched BLAS matmul; its transposed form does the matmul and then adds
each kernel offset's slice back into place (col2im: a loop over the kh·kw kernel offsets, never
over pixels).

Two registry primitives live here, both for speed (a composite over indexing would be orders of
magnitude slower):

- ``convolution`` (torch's ``ConvolutionBackward0``): ``transposed=False`` is conv, ``True`` is
  its adjoint in the input.  The two are each other's VJP in the input, and the weight's VJP is a
  convolution of the input with the output gradient, so every derivative of a convolution is again
  a convolution and ``create_graph=True`` differentiates any number of times.
- ``avg_pool2d``: window sums over a divisor; its VJP is a transposed convolution with a kernel of
  ones, so it differentiates again through ``convolution``.

Max pooling is a composite: the window maxima's positions are found with NumPy and the output is
``input[positions]``, an ``index`` node named ``MaxPool2DWithIndicesBackward0`` (its VJP scatters
the gradient back to the winners, and that scatter's VJP gathers).
"""
import itertools

from ... import dtypes as D
from ... import functional as CF
from ... import ops
from ..._backend import xp
from ..._fns import ArrayF
from ...tensor import Tensor, apply, wrap

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d"]

_as_strided = xp.lib.stride_tricks.as_strided


# =========================================================================================
# Array kernels.  Spatial dims are the last ``nd``; ``pads`` holds a (lo, hi) pair per spatial
# dim, lo >= 0; a negative hi crops (on the input of a convolution) or extends with zeros (on
# the output of a transposed one): that is what makes the two exact adjoints for every size.
# =========================================================================================

def _pad(a, pads, value=0):
    """``a`` with ``pads`` applied to its last ``len(pads)`` dims (a negative hi crops)."""
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return a
    nd = len(pads)
    keep = tuple(min(n, n + hi) for n, (lo, hi) in zip(a.shape[-nd:], pads))
    src = (Ellipsis,) + tuple(slice(0, k) for k in keep)
    if all(lo == 0 and hi <= 0 for lo, hi in pads):
        return a[src]
    shape = a.shape[:-nd] + tuple(n + lo + hi for n, (lo, hi) in zip(a.shape[-nd:], pads))
    out = xp.full(shape, value, a.dtype) if value else xp.zeros(shape, a.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + k) for (lo, _), k in zip(pads, keep))] = a[src]
    return out


def _windows(a, kernel, stride, dilation, out_size):
    """A read-only strided view (*lead, *out_size, *kernel) of ``a``'s windows (no copy)."""
    nd = len(kernel)
    st = a.strides[-nd:]
    return _as_strided(a, a.shape[:-nd] + tuple(out_size) + tuple(kernel),
                       a.strides[:-nd] + tuple(t * s for t, s in zip(st, stride)) +
                       tuple(t * d for t, d in zip(st, dilation)), writeable=False)


def _out_size(n, k, s, d, lo, hi):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _prod(values):
    p = 1
    for v in values:
        p *= v
    return p


def _im2col(x, kernel, stride, pads, dilation, groups):
    """Columns (N, G, C/G·K, P) of x's windows, and the output's spatial size."""
    nd = len(kernel)
    n, c = x.shape[:2]
    out = tuple(_out_size(L, k, s, d, lo, hi) for L, k, s, d, (lo, hi)
                in zip(x.shape[2:], kernel, stride, dilation, pads))
    win = _windows(_pad(x, pads), kernel, stride, dilation, out)     # (N, C, *out, *K)
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    cols = win.transpose(order).reshape(n, groups, (c // groups) * _prod(kernel), _prod(out))
    return cols, out


def _conv_forward(x, w, stride, pads, dilation, groups):
    """out[n, o, p] = Σ_c,k w[o, c, k] · xpad[n, g(o)·C/G + c, p·stride + k·dilation]"""
    cols, out = _im2col(x, w.shape[2:], stride, pads, dilation, groups)
    o = w.shape[0]
    wg = w.reshape(groups, o // groups, -1)
    # (G, O/G, CK) @ (N, G, CK, P): one BLAS call per (n, g); the result is already (N, O, P)
    return xp.matmul(wg, cols).reshape((x.shape[0], o) + out)


def _conv_transpose_forward(x, w, stride, pads, dilation, groups):
    """The adjoint of ``_conv_forward`` in its input: each x[n, i, p] spreads w[i] over the
    output window at p·stride (col2im), then the padding is cut off."""
    kernel = tuple(w.shape[2:])
    n, cin = x.shape[:2]
    cout = w.shape[1] * groups
    size_in = tuple(x.shape[2:])
    wg = w.reshape(groups, cin // groups, -1).swapaxes(1, 2)          # (G, Cout/G·K, Cin/G)
    # NumPy runs a strided add one row at a time: with short rows (small images) put the batch
    # last, so that each add below runs over N contiguous values instead of a few pixels
    batch_last = size_in[-1] < 16
    if batch_last:
        xg = xp.moveaxis(x, 0, -1).reshape(groups, cin // groups, -1)   # (G, Cin/G, P·N)
        cols = xp.matmul(wg, xg).reshape((cout,) + kernel + size_in + (n,))
        lead = (slice(None),)
    else:
        xg = x.reshape(n, groups, cin // groups, -1)                     # (N, G, Cin/G, P)
        cols = xp.matmul(wg, xg).reshape((n, cout) + kernel + size_in)
        lead = (slice(None), slice(None))
    full = tuple((L - 1) * s + d * (k - 1) + 1 for L, s, d, k in
                 zip(size_in, stride, dilation, kernel))
    size_out = tuple(f - lo - hi for f, (lo, hi) in zip(full, pads))
    alloc = tuple(max(f, lo + so) for f, (lo, _), so in zip(full, pads, size_out))
    buf = xp.zeros(((cout,) + alloc + (n,)) if batch_last else ((n, cout) + alloc),
                   dtype=cols.dtype)
    for offs in itertools.product(*[range(k) for k in kernel]):
        dst = lead + tuple(slice(o * d, o * d + (L - 1) * s + 1, s)
                           for o, d, L, s in zip(offs, dilation, size_in, stride))
        buf[dst] += cols[lead + offs]
    if alloc != size_out or any(lo for lo, _ in pads):
        buf = buf[lead + tuple(slice(lo, lo + so) for (lo, _), so in zip(pads, size_out))]
    return xp.ascontiguousarray(xp.moveaxis(buf, -1, 0)) if batch_last else buf


def _conv_weight_arrays(x, g, kernel, stride, pads, dilation, groups):
    """∂⟨g, conv(x, w)⟩/∂w: Σ_n,p g[n, o, p] · xpad[n, c, p·stride + k·dilation]."""
    n, c = x.shape[:2]
    o = g.shape[1]
    nd = len(kernel)
    win = _windows(_pad(x, pads), kernel, stride, dilation, g.shape[2:])
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    cols = win.transpose(order).reshape(n, groups, (c // groups) * _prod(kernel), -1)
    gg = g.reshape(n, groups, o // groups, -1)
    gw = xp.matmul(gg, cols.swapaxes(-1, -2)).sum(axis=0)             # (G, O/G, C/G·K)
    return gw.reshape((o, c // groups) + tuple(kernel))


def _convolution(x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,), transposed=False,
                 groups=1):
    """out = x ⋆ w + b (cross-correlation); with transposed, its adjoint in x (+ b)"""
    if transposed:
        out = _conv_transpose_forward(x, w, stride, padding, dilation, groups)
    else:
        out = _conv_forward(x, w, stride, padding, dilation, groups)
    if b is not None:
        out = out + b.reshape((-1,) + (1,) * (out.ndim - 2))
    return out


# =========================================================================================
# The convolution primitive and its VJPs.  A rule runs on arrays (F is ArrayF) or on tensors
# (F is TensorF, create_graph=True); _conv runs the primitive either way, so a VJP that is a
# convolution is recorded as one and can be differentiated again.
# =========================================================================================

def _conv(F, x, w, stride, padding, dilation, transposed, groups):
    if F is ArrayF:
        return _convolution(x, w, None, stride, padding, dilation, transposed, groups)
    return apply(CONVOLUTION, (x, w), dict(stride=stride, padding=padding, dilation=dilation,
                                            transposed=transposed, groups=groups))


def _adjoint_pads(size_in, size_out, kernel, stride, padding, dilation):
    """Pads of the transposed convolution that maps a conv's output back to exactly its input
    size: the rows the forward never reached (size not a multiple of the stride) come back as 0."""
    pads = []
    for L, Lo, k, s, d, (lo, hi) in zip(size_in, size_out, kernel, stride, dilation, padding):
        left_over = L + lo + hi - d * (k - 1) - 1 - (Lo - 1) * s
        pads.append((lo, hi - left_over))
    return tuple(pads)


def _conv_weight(F, x, g, kernel, stride, pads, dilation, groups):
    """The weight gradient of conv(x, w) for output gradient g."""
    if F is ArrayF:     # a plain backward: one BLAS product of g with x's columns
        return _conv_weight_arrays(x, g, kernel, stride, pads, dilation, groups)
    # With create_graph the same sum is recorded as a convolution of x with g (batch and channel
    # axes swapped, stride and dilation swapped), so that it differentiates again:
    # Σ_n,p g[n,o,p]·x[n,c,p·s + k·d] is a correlation over p whose "kernel" is g.
    n, c = x.shape[:2]
    nd = len(kernel)
    size = x.shape[2:]
    xs = F.reshape(x, (n, groups, c // groups) + tuple(size))
    xs = F.reshape(F.permute(xs, (2, 1, 0) + tuple(range(3, 3 + nd))),
                   (c // groups, groups * n) + tuple(size))
    gs = F.permute(g, (1, 0) + tuple(range(2, 2 + nd)))                # (O, N, *P)
    out_size = g.shape[2:]
    new_pads = tuple((lo, (k - 1) * d + (P - 1) * s + 1 - L - lo) for L, k, s, d, P, (lo, _)
                     in zip(size, kernel, stride, dilation, out_size, pads))
    gw = _conv(F, xs, gs, tuple(dilation), new_pads, tuple(stride), False, groups)
    return F.permute(gw, (1, 0) + tuple(range(2, 2 + nd)))            # (O, C/G, *K)


def _conv_vjp_input(F, g, out, x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,),
                    transposed=False, groups=1):
    if transposed:
        return _conv(F, g, w, stride, padding, dilation, False, groups)
    pads = _adjoint_pads(x.shape[2:], g.shape[2:], w.shape[2:], stride, padding, dilation)
    return _conv(F, g, w, stride, pads, dilation, True, groups)


def _conv_vjp_weight(F, g, out, x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,),
                     transposed=False, groups=1):
    if transposed:      # out = convᵀ(x, w): the roles of the conv's input and output swap
        return _conv_weight(F, g, x, w.shape[2:], stride, padding, dilation, groups)
    return _conv_weight(F, x, g, w.shape[2:], stride, padding, dilation, groups)


def _conv_vjp_bias(F, g, out, x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,),
                   transposed=False, groups=1):
    return F.sum(g, (0,) + tuple(range(2, len(g.shape))), False)


CONVOLUTION = ops.defprim(
    "convolution", _convolution, _conv_vjp_input, _conv_vjp_weight, _conv_vjp_bias,
    backward_name="ConvolutionBackward0",
    formulas=("y", "x", "1"),
    vjp_texts=("g ↦ conv_transpose(g, y): each g[n,o,p] sent back through the kernel to the "
               "inputs its window read",
               "g ↦ Σ_n,p g[n,o,p]·x[n,c,p·stride + k·dilation] (x correlated with g)",
               "g ↦ Σ g over the batch and every position"),
    saves=(0, 1), reads=((1,), (0,), ()),
    examples=[
        ("m.nn.functional.conv2d(x, y)", (2, 2, 5, 4), (3, 2, 3, 2)),
        ("m.nn.functional.conv2d(x, y, z, stride=2, padding=1)", (2, 2, 5, 5), (3, 2, 3, 3),
         (3,)),
        ("m.nn.functional.conv2d(x, y, stride=(2, 1), padding=(1, 2), dilation=(2, 1), "
         "groups=2)", (1, 4, 6, 5), (4, 2, 2, 3)),
        ("m.nn.functional.conv2d(x, y, z, padding='same', dilation=(1, 2))", (1, 3, 5, 6),
         (2, 3, 3, 2), (2,)),
        ("m.nn.functional.conv2d(x, y)", (2, 4, 3), (3, 2, 2, 2)),
        ("m.nn.functional.conv1d(x, y, z, stride=3, padding=1, dilation=2)", (2, 3, 9),
         (4, 3, 3), (4,)),
        ("m.nn.functional.conv_transpose2d(x, y, z, stride=2, padding=1, output_padding=1)",
         (2, 3, 3, 2), (3, 2, 3, 2), (2,)),
        ("m.nn.functional.conv_transpose1d(x, y, stride=3, padding=2, groups=2, dilation=2)",
         (2, 4, 4), (4, 1, 3)),
    ])


# =========================================================================================
# Average pooling: a primitive (a strided window sum), whose VJP is a transposed convolution
# with a kernel of ones.
# =========================================================================================

def _pool_out_size(n, k, s, p, d, ceil_mode):
    """torch's pooling output size: a window must start inside the input or its left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _avg_geometry(size, kernel_size, stride, padding, ceil_mode):
    """Output size, and the (lo, hi) pads that make every window fit (hi < 0 crops)."""
    out, pads = [], []
    for n, k, s, p in zip(size, kernel_size, stride, padding):
        o = _pool_out_size(n, k, s, p, 1, ceil_mode)
        out.append(o)
        pads.append((p, (o - 1) * s + k - n - p))
    return tuple(out), tuple(pads)


def _avg_divisor(size, out, kernel_size, stride, padding, count_include_pad, divisor_override,
                 dtype):
    """1/divisor per output position (an array broadcasting over the output), as torch counts:
    windows clipped to the padded input, or to the input itself without count_include_pad."""
    if divisor_override:
        return 1.0 / divisor_override
    inv = 1.0
    nd = len(size)
    for i, (n, o, k, s, p) in enumerate(zip(size, out, kernel_size, stride, padding)):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, n)
        inv = inv * (1.0 / (end - start)).reshape((-1,) + (1,) * (nd - 1 - i))
    return xp.asarray(inv, dtype=dtype)


def _avg_pool2d(x, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
    """out = mean of x over each kernel_size window (torch's divisor rules)"""
    nd = len(kernel_size)
    size = x.shape[-nd:]
    out, pads = _avg_geometry(size, kernel_size, stride, padding, ceil_mode)
    win = _windows(_pad(x, pads), kernel_size, stride, (1,) * nd, out)
    total = win.sum(axis=tuple(range(-nd, 0)))
    inv = _avg_divisor(size, out, kernel_size, stride, padding, count_include_pad,
                       divisor_override, xp.float64 if x.dtype.kind != "f" else x.dtype)
    if x.dtype.kind != "f":      # integer pooling divides and truncates, as torch
        return xp.trunc(total * inv).astype(x.dtype)
    return total * inv


def _avg_pool_vjp(F, g, out, x, kernel_size, stride, padding, ceil_mode=False,
                  count_include_pad=True, divisor_override=None):
    nd = len(kernel_size)
    size = x.shape[-nd:]
    lead = tuple(x.shape[:-nd])
    osize, pads = _avg_geometry(size, kernel_size, stride, padding, ceil_mode)
    dtype = F.raw(g).dtype
    inv = _avg_divisor(size, osize, kernel_size, stride, padding, count_include_pad,
                       divisor_override, dtype)
    # every (batch, channel) plane is one "batch" entry of a 1-channel transposed convolution
    gs = F.reshape(g * inv, (-1, 1) + osize)
    ones = xp.ones((1, 1) + tuple(kernel_size), dtype=dtype)
    if F is not ArrayF:
        ones = wrap(ones)
    gx = _conv(F, gs, ones, tuple(stride), pads, (1,) * nd, True, 1)
    return F.reshape(gx, lead + tuple(size))


AVG_POOL2D = ops.defprim(
    "avg_pool2d", _avg_pool2d, _avg_pool_vjp,
    backward_name="AvgPool2DBackward0",
    formulas=("1/divisor",),
    vjp_texts=("g ↦ each g[p]/divisor[p] spread evenly over the inputs of window p",),
    saves=(),
    examples=[
        ("m.nn.functional.avg_pool2d(x, 2)", (2, 3, 4, 5)),
        ("m.nn.functional.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, "
         "count_include_pad=False)", (1, 2, 6, 5)),
        ("m.nn.functional.avg_pool2d(x, (2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True)",
         (2, 5, 6)),
        ("m.nn.functional.avg_pool2d(x, 2, divisor_override=3)", (1, 1, 4, 4)),
        ("m.nn.functional.avg_pool1d(x, 3, stride=2, padding=1)", (2, 3, 7)),
        ("m.nn.functional.adaptive_avg_pool2d(x, (2, 3))", (1, 2, 4, 6)),
    ])


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
    out = apply(CONVOLUTION, (x, w) if b is None else (x, w, b), params)
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
    out = apply(CONVOLUTION, (x, w) if b is None else (x, w, b), params)
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
    win = _windows(_pad(a, pads, low), kernel, stride, dil, out)
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
    out = tuple(_pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(size, kernel, stride, pad, dil))
    _check_out_size(op, x, nd, out)
    a = x._data
    coords = _max_pool_positions(a, kernel, stride, pad, dil, out)
    lead = a.shape[:-nd]
    index = tuple(xp.arange(n).reshape((-1,) + (1,) * (len(lead) - 1 - i + nd))
                  for i, n in enumerate(lead)) + tuple(coords)
    # windows that overlap can share a winner: its gradients must add up
    overlap = any(s < d * (k - 1) + 1 for s, k, d in zip(stride, kernel, dil))
    result = apply(ops.index, (x,), {"index": index, "accumulate": overlap},
                   name="MaxPool2DWithIndicesBackward0")
    if not return_indices:
        return result
    flat = coords[0]
    for c, n in zip(coords[1:], size[1:]):
        flat = flat * n + c
    return result, wrap(xp.broadcast_to(flat, result.shape).astype(xp.int64))


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
    out = tuple(_pool_out_size(n, k, s, p, 1, ceil_mode)
                for n, k, s, p in zip(x.shape[-nd:], kernel, stride, pad))
    _check_out_size(op, x, nd, out)
    params = dict(kernel_size=kernel, stride=stride, padding=pad, ceil_mode=bool(ceil_mode),
                  count_include_pad=bool(count_include_pad), divisor_override=divisor_override)
    return apply(AVG_POOL2D, (x,), params, name=name)


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
