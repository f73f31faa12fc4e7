"""The primitives of ``nn.functional``, each for a reason given beside it: ``convolution`` and
``avg_pool2d`` (speed: im2col through a strided view, where a composite over indexing would be
orders of magnitude slower), ``linear`` (speed: one GEMM per direction), ``embedding`` (torch's
``padding_idx`` and ``scale_grad_by_freq`` live only in its backward), ``softplus``,
``log_sigmoid`` and ``binary_cross_entropy`` (stability), ``erf`` (NumPy has none).  The public
functions (``nn.functional.conv2d``, ...) check arguments and call these.

- ``convolution`` (torch's ``ConvolutionBackward0``): ``transposed=False`` is conv, ``True`` is
  its adjoint in the input.  The two are each other's VJP in the input, and the weight's VJP is a
  convolution of the input with the output gradient, so every derivative of a convolution is again
  a convolution and ``create_graph=True`` differentiates any number of times.
- ``avg_pool2d``: window sums over a divisor; its VJP is a transposed convolution with a kernel of
  ones, so it differentiates again through ``convolution``.
"""
import itertools
import math

from .._backend import xp
from .._fns import ArrayF
from . import defprim
from .reductions import leading_sum, trailing_sum

_as_strided = xp.lib.stride_tricks.as_strided


# =========================================================================================
# Array kernels.  Spatial dims are the last ``nd``; ``pads`` holds a (lo, hi) pair per spatial
# dim, lo >= 0; a negative hi crops (on the input of a convolution) or extends with zeros (on
# the output of a transposed one): that is what makes the two exact adjoints for every size.
# =========================================================================================

def spatial_pad(a, pads, value=0):
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


def windows(a, kernel, stride, dilation, out_size):
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
    win = windows(spatial_pad(x, pads), kernel, stride, dilation, out)     # (N, C, *out, *K)
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
    win = windows(spatial_pad(x, pads), kernel, stride, dilation, g.shape[2:])
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
    return F.apply(convolution, (x, w), dict(stride=stride, padding=padding, dilation=dilation,
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


convolution = defprim(
    "convolution", _convolution, _conv_vjp_input, _conv_vjp_weight, _conv_vjp_bias,
    kind="contraction", linear="bilinear",
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

def pool_out_size(n, k, s, p, d, ceil_mode):
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
        o = pool_out_size(n, k, s, p, 1, ceil_mode)
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
    win = windows(spatial_pad(x, pads), kernel_size, stride, (1,) * nd, out)
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
    gx = _conv(F, gs, ones, tuple(stride), pads, (1,) * nd, True, 1)
    return F.reshape(gx, lead + tuple(size))


avg_pool2d = defprim(
    "avg_pool2d", _avg_pool2d, _avg_pool_vjp,
    kind="contraction", linear="linear",
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
# linear: a primitive for speed
# =========================================================================================
# x @ Wᵀ + b as one node instead of three (transpose, matmul, add): every batch is a single
# 2-d GEMM (NumPy would loop over a 3-d input's leading dim), Wᵀ is a transposed view that BLAS
# reads in place, and the weight's gradient gᵀx comes out in W's own (out, in) row-major layout,
# where transpose + matmul would leave a transposed array in ``.grad``.

def _rows(F, a, n):
    """``a`` as a 2-d (rows, n) array or tensor: its leading dims merged (a view when possible)."""
    return F.reshape(a, (math.prod(a.shape[:-1]), n))


def _linear(x, w, b=None):
    """out = x·Wᵀ + b"""
    out = xp.matmul(_rows(ArrayF, x, w.shape[1]), w.T)
    if b is not None:
        out += b
    return out.reshape(x.shape[:-1] + (w.shape[0],))


def _linear_vjp_x(F, g, out, x, w, b=None):
    return F.reshape(F.matmul(_rows(F, g, w.shape[0]), w), x.shape)


def _linear_vjp_w(F, g, out, x, w, b=None):
    return F.matmul(F.swapaxes(_rows(F, g, w.shape[0]), 0, 1), _rows(F, x, w.shape[1]))


def _linear_vjp_b(F, g, out, x, w, b=None):
    if type(g) is xp.ndarray and g.ndim > 1:
        return leading_sum(g, b.shape)      # BLAS: faster than the engine's NumPy sum
    return g            # the engine sums it over the leading dims, back to b's shape


linear = defprim(
    "linear", _linear, _linear_vjp_x, _linear_vjp_w, _linear_vjp_b,
    kind="contraction", linear="bilinear",
    backward_name="AddmmBackward0", formulas=("y", "x", "1"),
    vjp_texts=("g ↦ g·W", "g ↦ gᵀ·x", "g ↦ Σ g over the batch"), saves=(0, 1),
    reads=((1,), (0,), ()),
    examples=[("m.nn.functional.linear(x, y, z)", (2, 4), (3, 4), (3,)),
              ("m.nn.functional.linear(x, y)", (5, 4), (3, 4)),
              ("m.nn.functional.linear(x, y, z)", (2, 3, 4), (2, 4), (2,)),
              ("m.nn.functional.linear(x, y)", (4,), (3, 4)),
              ("m.nn.functional.linear(x, y, z)", (4,), (3, 4), (3,))])


# =========================================================================================
# embedding: a primitive, because torch's padding_idx and scale_grad_by_freq live only in the
# backward (the forward is plain indexing); a composite would need extra nodes to express them
# =========================================================================================

def _embedding(w, indices, scale=None):
    """out = weight[indices]"""
    return xp.take(w, indices, axis=0)          # always a copy (w[0-d index] would be a view)


def _embedding_vjp(F, g, out, w, indices, scale=None):
    if scale is not None:                 # 0 at padding_idx, 1/count with scale_grad_by_freq
        g = g * scale
    return F.index_scatter(g, w.shape, indices, True)


embedding = defprim(
    "embedding", _embedding, _embedding_vjp,
    kind="shape", linear="linear", formulas=("[row = index]",),
    vjp_texts=("g ↦ zeros of weight's shape with g's rows added at the indices",),
    # padding_idx and scale_grad_by_freq are not derivatives, so central differences cannot
    # check them: tests/test_nn_layers.py compares them with torch instead
    examples=[("m.nn.functional.embedding(m.tensor([[0, 2, 0], [1, 3, 2]]), x)", (4, 3)),
              ("m.nn.functional.embedding(m.tensor(1), x)", (3, 2))])


# =========================================================================================
# Activations: softplus, log_sigmoid, erf
# =========================================================================================

def _softplus(x, beta=1.0, threshold=20.0):
    """out = ln(1 + e^(βx))/β, and x itself where βx > threshold"""
    bx = x * beta
    return xp.where(bx > threshold, x, xp.log1p(xp.exp(bx)) / beta)


def _softplus_vjp(F, g, out, x, beta=1.0, threshold=20.0):
    # σ(βx) = z/(z + 1) with z = e^(βx), as torch; z is computed only where βx ≤ threshold, so it
    # never overflows and the branch where() discards has a finite derivative too
    big = F.raw(x) * beta > threshold
    z = F.exp(F.where(big, 0.0, x) * beta)
    return F.where(big, g, g * z / (z + 1))


# A primitive for stability: as a composite, the discarded branch log1p(exp(βx)) overflows for
# large x, and its zero gradient times e^(βx) = inf makes NaN.
softplus = defprim(
    "softplus", _softplus, _softplus_vjp, kind="elementwise", saves=(0,),
    formulas=("[βx ≤ threshold]·σ(βx) + [βx > threshold]",),     # out = x above the threshold
    domain=(-2.0, 2.0, [1.5]),
    examples=[("m.nn.functional.softplus(x)", (3, 4)),
              ("m.nn.functional.softplus(x, beta=2.0, threshold=3.0)", (6,))])


def _log_sigmoid(x):
    """out = ln σ(x) = min(x, 0) - ln(1 + e^-|x|)"""
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _log_sigmoid_vjp(F, g, out, x):
    # σ(-x) written per side with z = e^-|x| (torch's formula): no overflow, and each side is an
    # exact smooth formula, so second derivatives are right at 0 too
    neg = F.raw(x) < 0
    z = F.exp(F.where(neg, x, -x))
    return g * F.where(neg, 1 / (1 + z), z / (1 + z))


# A primitive for stability: log(sigmoid(x)) is -inf for x below about -100 (float32).
log_sigmoid = defprim(
    "log_sigmoid", _log_sigmoid, _log_sigmoid_vjp,
    kind="elementwise", backward_name="LogSigmoidBackward0",
    formulas=("σ(-x)",), saves=(0,), domain=(-6.0, 6.0),
    examples=[("m.nn.functional.logsigmoid(x)", (3, 4)), ("m.nn.functional.logsigmoid(x)", ())])

# Cephes' rational approximations of erf (|x| ≤ 1) and erfc (1 < |x| < 8, |x| ≥ 8): within
# 1 ulp of the C library's erf in float64
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def poly(coefficients, z):
    """Horner: coefficients from the highest power down (ops/special.py uses it too)"""
    p = xp.full_like(z, coefficients[0])
    for c in coefficients[1:]:
        p = p * z + c
    return p


def _erf(x):
    """out = (2/√π) ∫₀ˣ e^(-t²) dt"""
    # computed in float64 (and rounded to x's dtype), so float32 results are correctly rounded
    x64 = x.astype(xp.float64)
    a = xp.abs(x64)
    small = a <= 1
    z = xp.where(small, x64 * x64, 0.0)
    inner = x64 * poly(_ERF_T, z) / poly(_ERF_U, z)
    b = xp.clip(a, 1.0, 30.0)           # erfc(30) underflows to 0: no need to go further
    mid = b < 8
    p = xp.where(mid, poly(ERFC_P, b), poly(ERFC_R, b))
    q = xp.where(mid, poly(ERFC_Q, b), poly(ERFC_S, b))
    outer = xp.copysign(1.0 - xp.exp(-b * b) * p / q, x64)
    return xp.where(small, inner, outer).astype(x.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# A primitive because NumPy has no erf.
erf = defprim(
    "erf", _erf, lambda F, g, out, x: g * _TWO_OVER_SQRT_PI * F.exp(-(x * x)),
    kind="elementwise",
    formulas=("(2/√π)·exp(-x²)",), saves=(0,), domain=(-3.0, 3.0),
    examples=[("m.erf(x)", (3, 4)), ("m.special.erf(x)", ())])


def _erfc(x):
    """out = 1 - erf x, computed directly so that it keeps its precision as it nears 0"""
    x64 = x.astype(xp.float64)
    a = xp.abs(x64)
    small = a <= 1
    z = xp.where(small, x64 * x64, 0.0)
    inner = 1.0 - x64 * poly(_ERF_T, z) / poly(_ERF_U, z)
    b = xp.clip(a, 1.0, 30.0)
    mid = b < 8
    p = xp.where(mid, poly(ERFC_P, b), poly(ERFC_R, b))
    q = xp.where(mid, poly(ERFC_Q, b), poly(ERFC_S, b))
    tail = xp.exp(-b * b) * p / q
    outer = xp.where(x64 < 0, 2.0 - tail, tail)
    return xp.where(small, inner, outer).astype(x.dtype, copy=False)


# A primitive for precision: 1 - erf(x) cancels to 0 for x beyond about 6 (float64).
erfc = defprim(
    "erfc", _erfc, lambda F, g, out, x: -g * _TWO_OVER_SQRT_PI * F.exp(-(x * x)),
    kind="elementwise", formulas=("-(2/√π)·exp(-x²)",), saves=(0,), domain=(-3.0, 3.0))


# =========================================================================================
# Binary cross-entropy
# =========================================================================================

_EPS = 9.999999960041972e-13     # torch's EPSILON: 1e-12 rounded to float32, in every dtype


def _binary_cross_entropy(x, y):
    """out = -(y·ln x + (1 - y)·ln(1 - x)), each log clamped at -100"""
    return (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)


def _bce_vjp_x(F, g, out, x, y):
    # torch's rule: (x - y)/(x(1 - x)) with the denominator kept ≥ 1e-12 (so at x = 0 or 1 the
    # gradient is ±1e12 · g, not the 0 the clamped logs would give)
    d = (1 - x) * x
    return g * (x - y) / F.where(F.raw(d) < _EPS, _EPS, d)


# A primitive to match torch at probabilities 0 and 1: the forward clamps the logs at -100,
# while the gradient ignores the clamp and caps 1/(x(1 - x)) instead.
binary_cross_entropy = defprim(
    "binary_cross_entropy", _binary_cross_entropy, _bce_vjp_x,
    lambda F, g, out, x, y: -g * F.log(x / (1 - x)),
    kind="elementwise",
    formulas=("(x - y)/(x(1 - x))", "ln((1 - x)/x)"), saves=(0, 1),
    domain=[(0.05, 0.95), (0.0, 1.0)],
    examples=[("m.nn.functional.binary_cross_entropy(x, y, reduction='none')", (3, 4), (3, 4)),
              ("m.nn.functional.binary_cross_entropy(x, y)", (5,), (5,))])


# -- issue 13: attention
# =========================================================================================
# scaled_dot_product_attention: one primitive, for speed and memory.  As a composite
# (matmul, scale, add the mask, softmax, dropout, matmul) the graph would keep every
# intermediate of size L·S per head (the scores, the masked scores, the weights, the dropped
# weights) and run six nodes each way.  As one node it keeps q, k, v, the float mask and the
# attention weights P, and its backward shares P and dS between the gradients
# (``_sdpa_grads``, the entry's ``grads``).
#
# How the node keeps P: a node keeps its inputs and its output, so when a gradient will be
# wanted (param ``weights``, set by the public function) the forward writes the output and P
# into one allocation and returns the output as a view of its first part.  The node saves the
# output (saves_out), so P stays with it and goes when the engine frees the output after
# backward; the rule finds P behind ``out.base`` (``_saved_weights``).  Where P is not there
# (float16, whose output is a cast copy, or masks that broadcast beyond q·kᵀ) the rule
# recomputes it, which costs one Q·Kᵀ and a softmax.
#
# On arrays the kernels work in place on fresh (L, S) buffers; under create_graph the same
# formulas run on tensors through F (P recomputed as a differentiable function of q and k),
# so the gradient differentiates again.
#
# Params: ``scale``; ``masked``, a bool array broadcasting to (..., L, S), True where a key is
# masked out (a bool attn_mask's complement, or is_causal's upper triangle); ``drop``, the
# dropout multiplier (0 or 1/(1 - p)) of shape (..., L, S); ``weights``, keep P for backward.
# A float attn_mask is the fourth input (it has a gradient); without one the fourth input is
# the number 0.0, which the node records as a constant (the explainer shows it as such).
# =========================================================================================

def _wide16(a):
    """float16 attention runs in float32, as torch's math path (intermediates in float)."""
    return a.astype(xp.float32) if a is not None and a.dtype == xp.float16 else a


def _weights_arrays(q, k, mask, scale, masked, out=None):
    """P = softmax(q·kᵀ·scale + mask, -inf where masked) along the last dim, on arrays, in place
    in one buffer (``out``, or a fresh one).  A row with every key masked out is zeros (torch's
    safe softmax), not NaN."""
    s = xp.matmul(q, xp.swapaxes(k, -1, -2), out=out)
    s *= s.dtype.type(scale)
    if mask is not None:
        if xp.broadcast_shapes(s.shape, mask.shape) == s.shape:
            s += mask
        else:
            s = s + mask
    if masked is not None:
        if xp.broadcast_shapes(s.shape, masked.shape) != s.shape:
            s = xp.broadcast_to(s, xp.broadcast_shapes(s.shape, masked.shape)).copy()
        xp.copyto(s, -xp.inf, where=masked)
    m = xp.amax(s, axis=-1, keepdims=True, initial=-xp.inf)
    m[~xp.isfinite(m)] = 0          # a fully masked row: exp(-inf - 0) = 0, not NaN
    s -= m
    xp.exp(s, out=s)
    z = xp.matmul(s, xp.ones((s.shape[-1], 1), s.dtype))     # row sums, one BLAS call
    z[z == 0] = 1
    s /= z
    return s


def _weights_tensors(F, q, k, mask, scale, masked):
    """The same P through F, so that a recorded backward pass differentiates it again."""
    s = F.matmul(q, F.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        s = s + mask
    if masked is not None:
        s = F.where(masked, -math.inf, s)
    raw = F.raw(s)
    m = xp.amax(raw, axis=-1, keepdims=True, initial=-math.inf)
    m = xp.where(xp.isfinite(m), m, 0).astype(raw.dtype, copy=False)     # the shift: a constant
    e = F.exp(s - m)
    z = F.sum(e, (-1,), True)
    return e / F.where(F.raw(z) == 0, 1.0, z)


def _shapes(q, k, v, mask, masked, drop):
    """The shapes of P and of the output when P can share the output's allocation: P's batch
    dims are q·kᵀ's (no mask broadcasts beyond them) and v's do not enlarge them; else None."""
    qk = xp.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    lead = xp.broadcast_shapes(qk, *(a.shape[:-2] for a in (mask, masked, drop)
                                     if a is not None))
    if lead != qk or xp.broadcast_shapes(lead, v.shape[:-2]) != lead:
        return None
    return lead + (q.shape[-2], k.shape[-2]), lead + (q.shape[-2], v.shape[-1])


def _no_number(mask):
    """The float mask, or None for the 0.0 that stands for no mask."""
    return None if isinstance(mask, (int, float)) else mask


def _sdpa(q, k, v, mask=None, scale=1.0, masked=None, drop=None, weights=False):
    """out = softmax(q·kᵀ·scale + mask)·v, -inf where masked, times drop"""
    mask = _no_number(mask)
    shapes = _shapes(q, k, v, mask, masked, drop) if weights and q.dtype != xp.float16 else None
    if shapes is None:
        p = _weights_arrays(_wide16(q), _wide16(k), _wide16(mask), scale, masked)
        if drop is not None:
            p *= drop
        return xp.matmul(p, _wide16(v)).astype(q.dtype, copy=False)
    p_shape, out_shape = shapes
    n_out = math.prod(out_shape)
    buf = xp.empty(n_out + math.prod(p_shape), q.dtype)     # [out | P], see above
    p = _weights_arrays(q, k, mask, scale, masked, out=buf[n_out:].reshape(p_shape))
    out = buf[:n_out].reshape(out_shape)
    xp.matmul(p if drop is None else p * drop, v, out=out)
    return out


def _saved_weights(out, q, k, v, mask, masked, drop):
    """P where the forward left it, behind ``out`` (None if it is not there)."""
    base = out.base
    if base is None or base.ndim != 1 or base.dtype != out.dtype or \
            base.__array_interface__["data"][0] != out.__array_interface__["data"][0]:
        return None
    shapes = _shapes(q, k, v, mask, masked, drop)
    if shapes is None or tuple(out.shape) != shapes[1] or \
            base.size != out.size + math.prod(shapes[0]):
        return None
    return base[out.size:].reshape(shapes[0])


def _sdpa_grads(F, g, out, q, k, v, mask=None, scale=1.0, masked=None, drop=None,
                weights=False, wanted=(True, True, True, True)):
    """Every wanted input's gradient (None for the others), sharing P and dS:
    dv = P̃ᵀg, dP = (g·vᵀ)∘drop, dS = P∘(dP - D) with D = Σⱼ dPᵢⱼPᵢⱼ = gᵢ·outᵢ,
    dq = scale·dS·k, dk = scale·dSᵀ·q, dmask = dS (P̃ = P∘drop)."""
    grads = [None, None, None, None]
    mask = _no_number(mask)
    need_ds = wanted[0] or wanted[1] or (len(wanted) > 3 and wanted[3])
    if F is ArrayF:
        half = q.dtype == xp.float16
        p = _saved_weights(out, q, k, v, mask, masked, drop) if weights else None
        g, out, q, k, v, mask = (_wide16(a) for a in (g, out, q, k, v, mask))
        if p is None:
            p = _weights_arrays(q, k, mask, scale, masked)
        if wanted[2]:
            grads[2] = xp.matmul(xp.swapaxes(p if drop is None else p * drop, -1, -2), g)
        if need_ds:
            ds = xp.matmul(g, xp.swapaxes(v, -1, -2))           # dP, then dS in place
            if drop is not None:
                ds *= drop
            if half:        # out was rounded to float16: sum dP∘P itself
                d = xp.matmul(ds * p, xp.ones((p.shape[-1], 1), p.dtype))
            else:           # gᵢ·outᵢ: an (L, Ev) product instead of (L, S)
                d = xp.matmul(g * out, xp.ones((out.shape[-1], 1), out.dtype))
            ds -= d
            ds *= p
            st = ds.dtype.type(scale)
            if wanted[0]:
                grads[0] = xp.matmul(ds, k)
                grads[0] *= st
            if wanted[1]:
                grads[1] = xp.matmul(xp.swapaxes(ds, -1, -2), q)
                grads[1] *= st
            if len(wanted) > 3 and wanted[3]:
                grads[3] = ds
        return grads
    p = _weights_tensors(F, q, k, mask, scale, masked)
    if wanted[2]:
        grads[2] = F.matmul(F.swapaxes(p if drop is None else p * drop, -1, -2), g)
    if need_ds:
        dp = F.matmul(g, F.swapaxes(v, -1, -2))
        if drop is not None:
            dp = dp * drop
        ds = p * (dp - F.sum(dp * p, (-1,), True))
        if wanted[0]:
            grads[0] = F.matmul(ds, k) * scale
        if wanted[1]:
            grads[1] = F.matmul(F.swapaxes(ds, -1, -2), q) * scale
        if len(wanted) > 3 and wanted[3]:
            grads[3] = ds
    return grads


def _sdpa_rule(i):
    def rule(F, g, out, q, k, v, mask=None, scale=1.0, masked=None, drop=None, weights=False):
        wanted = tuple(j == i for j in range(4))
        return _sdpa_grads(F, g, out, q, k, v, mask, scale, masked, drop, weights, wanted)[i]
    return rule


scaled_dot_product_attention = defprim(
    "scaled_dot_product_attention", _sdpa, _sdpa_rule(0), _sdpa_rule(1), _sdpa_rule(2),
    _sdpa_rule(3), grads=_sdpa_grads,
    kind="other", backward_name="ScaledDotProductFlashAttentionForCpuBackward0",
    # no per-element formulas: each output row mixes every key and value (the VJP texts say it)
    formulas=(None, None, None, None),
    vjp_texts=("g ↦ scale·dS·k, dS = P⊙(g·vᵀ - rowsum(g⊙out))",
               "g ↦ scale·dSᵀ·q", "g ↦ Pᵀ·g", "g ↦ dS"),
    saves=(0, 1, 2, 3), saves_out=True,
    examples=[
        ("m.nn.functional.scaled_dot_product_attention(x, y, z)", (2, 3, 4), (2, 5, 4),
         (2, 5, 3)),
        ("m.nn.functional.scaled_dot_product_attention(x, y, z, is_causal=True, scale=0.7)",
         (1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 2)),
        ("m.nn.functional.scaled_dot_product_attention(x, y, z, attn_mask=x[..., :1] * "
         "y[:, None, :, 0])", (2, 3, 2), (2, 4, 2), (2, 4, 3)),
        ("m.nn.functional.scaled_dot_product_attention(x, y, z, enable_gqa=True)",
         (1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)),
    ])


# -- issue 13: fused primitives for speed
# =========================================================================================
# Each of these has a composite that gives the same values (up to rounding); they are
# primitives only because they are faster: one node instead of five to fifteen, one NumPy
# pass where the composite makes several, and no temporaries kept for backward beyond the
# inputs.  A GPT training step (bench W8) spends most of its time in them otherwise.
# =========================================================================================

# Numerical Recipes' erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2), z ≥ 0: relative error below
# 1.2·10⁻⁷ for every z (a Chebyshev fit), so in float32 it is within the rounding of z² alone
_NR_ERFC = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
            0.09678418, 0.37409196, 1.00002368, -1.26551223)
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


# Φ(x) = 1/2 + x·R(x²) on |x| ≤ 1: R a degree-5 Chebyshev fit, highest power first (relative
# error of Φ below 2·10⁻⁹, so float32's rounding is all that shows)
_CDF_SMALL = (-7.662609698760368e-06, 0.00011350749889570407, -0.0011863485681235944,
              0.009973330130670744, -0.06649036077655675, 0.39894228013527444)


def normal_cdf(x):
    """Φ(x), the standard normal CDF, for gelu: in float64 through ``erf`` (Cephes, within an
    ulp: the composite's value); in float32 and float16, evaluated in float32, by a polynomial
    for |x| ≤ 1 and by Numerical Recipes' erfc beyond (``_normal_cdf_tail``): several times
    faster than erf's float64 Cephes and within a few float32 ulps of the exact value (closer
    than 1 + erf(x/√2) in float32, which cancels for x < -1)."""
    if x.dtype == xp.float64:
        return (_erf(x * _SQRT1_2) + 1) * 0.5
    # C order (the tail's flat indices address it), and 1-d at least (in-place ops need arrays)
    x32 = xp.ascontiguousarray(x, dtype=xp.float32).reshape(x.shape or (1,))
    # in place on two buffers: a fresh array of this size costs more (page faults) than the
    # arithmetic on it
    s = xp.multiply(x32, x32)
    tail = xp.flatnonzero(s > 1)                   # NaN stays with the polynomial: Φ = NaN
    p = s * xp.float32(_CDF_SMALL[0])              # Horner's rule
    for c in _CDF_SMALL[1:-1]:
        p += xp.float32(c)
        p *= s
    p += xp.float32(_CDF_SMALL[-1])
    p *= x32
    p += 0.5
    if tail.size:                                  # elementwise still: each value by its own |x|
        p.reshape(-1)[tail] = _normal_cdf_tail(x32.reshape(-1)[tail])
    return p.astype(x.dtype, copy=False).reshape(x.shape)


def _normal_cdf_tail(x32):
    """Φ(x) through Numerical Recipes' erfc, float32, for a 1-d array"""
    t = xp.abs(x32)                                # t = 1/(1 + z/2), z = |x|/√2
    t *= xp.float32(0.5 * _SQRT1_2)
    t += 1
    xp.reciprocal(t, out=t)
    p = t * xp.float32(_NR_ERFC[0])               # Horner's rule
    for c in _NR_ERFC[1:-1]:
        p += xp.float32(c)
        p *= t
    p += xp.float32(_NR_ERFC[-1] + math.log(0.5))  # the factor 1/2 of Φ, in the exponent
    z2 = xp.multiply(x32, x32)                     # z² = x²/2
    z2 *= 0.5
    p -= z2
    xp.exp(p, out=p)
    p *= t                                         # erfc(|x|/√2)/2 = Φ(-|x|)
    # Φ(x) = p for x < 0, 1 - p for x ≥ 0 (x = -0 included): [sign bit clear] - copysign(p, x),
    # since where() on a random sign pattern mispredicts its branch per element (four times
    # slower here)
    xp.copysign(p, x32, out=p)
    right = xp.signbit(x32)
    xp.logical_not(right, out=right)
    xp.subtract(right, p, out=p)
    return p


def _gelu(x, approximate="none"):
    """out = x·Φ(x); approximate='tanh': x·(1 + tanh(√(2/π)(x + 0.044715x³)))/2"""
    if x.dtype == xp.float16:                      # computed in float32, as torch
        return _gelu(x.astype(xp.float32), approximate).astype(xp.float16)
    if approximate == "tanh":
        inner = (x + x * x * x * _GELU_A) * _SQRT_2_OVER_PI
        return x * 0.5 * (xp.tanh(inner) + 1)
    if x.dtype == xp.float64:                      # the composite's operations, in its order
        return x * 0.5 * (_erf(x * _SQRT1_2) + 1)
    out = normal_cdf(x)                            # a fresh array: multiplied in place
    out *= x
    return out


def _gelu_backward(g, x, y=None, approximate="none"):
    """out = g·gelu'(x): g·(Φ(x) + x·φ(x)), or the tanh form's derivative; Φ(x) read from gelu's
    output y = x·Φ(x) when it is given (y/x, 0.5 where x ≈ 0), which saves computing it again"""
    if x.dtype == xp.float16:
        return _gelu_backward(g.astype(xp.float32), x.astype(xp.float32),
                              None if y is None else y.astype(xp.float32),
                              approximate).astype(xp.float16)
    if approximate == "tanh":
        x3 = x * x * _GELU_A
        t = xp.tanh((x + x3 * x) * _SQRT_2_OVER_PI)
        du = (1 + 3 * x3) * _SQRT_2_OVER_PI
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    if x.ndim == 0 and g.ndim == 0:                # in-place ops need arrays, not scalars
        return _gelu_backward(g.reshape(1), x.reshape(1),
                              None if y is None else y.reshape(1)).reshape(())
    operands = (g, x) if y is None else (g, x, y)
    shape = xp.broadcast_shapes(*(a.shape for a in operands))
    if x.shape != shape or y is not None and y.shape != shape:   # elementwise: they broadcast
        x = xp.broadcast_to(x, shape)
        y = None if y is None else xp.broadcast_to(y, shape)
    d = xp.multiply(x, x)                          # in place after this: see normal_cdf
    # Φ(x) = 0.5 + x/√(2π) + O(x³): 0.5 to the last bit for |x| < 1e-20 (x² < 1e-40), where
    # y/x loses precision (subnormal y) or is 0/0
    near0 = d < 1e-40 if y is not None else None
    d *= -0.5
    xp.exp(d, out=d)
    d *= _INV_SQRT_2PI
    d *= x
    if y is None:
        d += normal_cdf(x)
    else:
        cdf = xp.divide(y, x)
        if near0.any():
            cdf[near0] = 0.5
        d += cdf
    d *= g
    return d


def _gelu_backward_vjp_x(F, g, out, gy, x, y, approximate="none"):
    # gelu''(x): φ(x)·(2 - x²); for the tanh form (1 - t²)·(u' - x·t·u'² + x·u''/2), u the
    # tanh's argument: written in F, so every further derivative records too
    if approximate == "tanh":
        du = (1 + 3 * _GELU_A * x * x) * _SQRT_2_OVER_PI
        t = F.tanh((x + _GELU_A * x * x * x) * _SQRT_2_OVER_PI)
        second = (1 - t * t) * (du - x * t * du * du + x * x * (3 * _GELU_A * _SQRT_2_OVER_PI))
    else:
        second = F.exp(x * x * -0.5) * _INV_SQRT_2PI * (2 - x * x)
    return g * gy * second


def _gelu_vjp(F, g, out, x, approximate="none"):
    return F.apply(gelu_backward, (g, x, out), {"approximate": approximate})


# torch's GeluBackward0 node computes gelu_backward(grad, x), itself differentiable: the same here,
# so that create_graph differentiates gelu again (its derivative needs Φ, which F has not).  The
# third input, gelu's output y, only spares computing Φ(x) again (the tanh form ignores it): it
# gets no gradient, and the rule for x gives the whole second derivative (y is a function of x).
gelu_backward = defprim(
    "gelu_backward", _gelu_backward,
    lambda F, g, out, gy, x, y, approximate="none": F.apply(
        gelu_backward, (g, x, y), {"approximate": approximate}),
    _gelu_backward_vjp_x,
    lambda F, g, out, gy, x, y, approximate="none": None,
    kind="elementwise", backward_name="GeluBackwardBackward0", saves=(0, 1, 2),
    reads=((1, 2), (0, 1), ()), formulas=(None, None, None),   # only a VJP: see gelu's formula
    vjp_texts=("G ↦ G·gelu'(x)", "G ↦ G·g·gelu''(x)", "none: y only stands for x·Φ(x)"))

gelu = defprim(
    "gelu", _gelu, _gelu_vjp,
    kind="elementwise", backward_name="GeluBackward0", saves=(0,), saves_out=True,
    formulas=("[approximate = 'none']·(Φ(x) + x·φ(x)) + [approximate = 'tanh']·("
              "(1 + tanh(√(2/π)(x + 0.044715x³)))/2 + x(1 - tanh(√(2/π)(x + 0.044715x³))²)"
              "·√(2/π)(1 + 3·0.044715x²)/2)",), domain=(-3.0, 3.0),
    examples=[("m.nn.functional.gelu(x)", (3, 4)), ("m.nn.functional.gelu(x)", ()),
              ("m.nn.functional.gelu(x, approximate='tanh')", (3, 4))])


# layer_norm: one node instead of eleven (mean, sub, mul, mean, add, rsqrt, mul, mul, add, and
# the two means' divisions), its forward in place on two buffers, and one rule per input
# written with F (so create_graph differentiates it again).  The rules compute the mean and
# 1/σ again from x (a few passes over one activation) rather than keeping them: the graph keeps
# only inputs and outputs.

def _ln_dims(x, ndim):
    return tuple(range(x.ndim - ndim, x.ndim)), math.prod(x.shape[x.ndim - ndim:])


def _ln_normalised(F, x, ndim, eps):
    """(x - mean)/√(var + eps) over the last ``ndim`` dims, and 1/√(var + eps) (kept dims)"""
    dims, n = _ln_dims(x, ndim)
    xc = x - F.sum(x, dims, True) / n
    rstd = 1 / F.sqrt(F.sum(xc * xc, dims, True) / n + eps)
    return xc * rstd, rstd


def _layer_norm(x, w, b=None, ndim=1, eps=1e-5):
    """out = (x - mean)/√(var + eps)·w + b, the statistics over the last ``ndim`` dims"""
    dims, n = _ln_dims(x, ndim)
    out = x - trailing_sum(x, dims, n) / n
    var = trailing_sum(xp.square(out), dims, n) / n
    var += eps
    out *= xp.reciprocal(xp.sqrt(var))
    out *= w
    if b is not None:
        out += b
    return out


def _ln_normalised_array(x, ndim, eps):
    """_ln_normalised on arrays, in place on one fresh array (and a scratch one, returned)"""
    dims, n = _ln_dims(x, ndim)
    xhat = x - trailing_sum(x, dims, n) / n
    scratch = xp.square(xhat)
    rstd = trailing_sum(scratch, dims, n) / n
    rstd += eps
    rstd = xp.reciprocal(xp.sqrt(rstd))
    xhat *= rstd
    return xhat, rstd, scratch


def _layer_norm_vjp_x(F, g, out, x, w, b=None, ndim=1, eps=1e-5):
    # dx = (gw - mean(gw) - x̂·mean(gw·x̂))/σ over the normalised dims, gw = g·w
    dims, n = _ln_dims(x, ndim)
    if type(x) is xp.ndarray and type(g) is xp.ndarray and x.ndim:
        # a plain backward: the same formula on arrays, in place on three fresh arrays instead
        # of a dozen (each costs page faults at an activation's size)
        xhat, rstd, scratch = _ln_normalised_array(x, ndim, eps)
        gw = g * w
        mean_gw = trailing_sum(gw, dims, n) / n
        xp.multiply(gw, xhat, out=scratch)
        xhat *= trailing_sum(scratch, dims, n) / n
        gw -= mean_gw
        gw -= xhat
        gw *= rstd
        return gw
    xhat, rstd = _ln_normalised(F, x, ndim, eps)
    gw = g * w
    return (gw - F.sum(gw, dims, True) / n - xhat * (F.sum(gw * xhat, dims, True) / n)) * rstd


def _layer_norm_vjp_w(F, g, out, x, w, b=None, ndim=1, eps=1e-5):
    if type(x) is xp.ndarray and type(g) is xp.ndarray and x.ndim:
        xhat, _, _ = _ln_normalised_array(x, ndim, eps)     # as above
        xhat *= g
        return leading_sum(xhat, w.shape)
    return g * _ln_normalised(F, x, ndim, eps)[0]


def _layer_norm_vjp_b(F, g, out, x, w, b=None, ndim=1, eps=1e-5):
    if type(g) is xp.ndarray and g.ndim > b.ndim:
        return leading_sum(g, b.shape)       # the engine would sum it, more slowly
    return g


layer_norm = defprim(
    "layer_norm", _layer_norm, _layer_norm_vjp_x, _layer_norm_vjp_w, _layer_norm_vjp_b,
    kind="other", backward_name="NativeLayerNormBackward0", saves=(0, 1),
    reads=((0, 1), (0,), ()), formulas=(None, None, None),
    vjp_texts=("g ↦ (g·w - mean(g·w) - x̂·mean(g·w·x̂))/σ, x̂ = (x - mean)/σ, σ = √(var + eps)",
               "g ↦ Σ g·x̂ over the leading dims", "g ↦ Σ g over the leading dims"),
    examples=[("m.nn.functional.layer_norm(x, (4,), y, z)", (3, 4), (4,), (4,)),
              ("m.nn.functional.layer_norm(x, (2, 3), y)", (2, 2, 3), (2, 3)),
              ("m.nn.functional.layer_norm(x, (5,), y, z, eps=0.1)", (5,), (5,), (5,))])


# cross_entropy of (N, C) logits against class indices, unweighted, unsmoothed, mean or sum:
# one node instead of seven (log_softmax, the gather, neg, where, sum, div), and a backward that
# is softmax minus the one-hot target in one pass over the logits.  Other cases keep the
# composite (nn/functional/loss.py).

def _ce_kept(target, ignore_index, mean, dtype):
    """per row: 1 (or 1/count for the mean) where the target is not ignored, else 0; (N, 1)"""
    kept = (target != ignore_index).astype(dtype)
    if mean and kept.any():                 # all ignored: a NaN loss, a zero gradient (torch)
        kept /= kept.sum()
    return kept[:, None]


def _cross_entropy(x, target, ignore_index=-100, mean=True):
    """out = -Σₙ ln softmax(xₙ)[tₙ] over the rows whose target is not ignore_index, divided by
    their count for the mean"""
    kept = target != ignore_index
    rows = xp.arange(x.shape[0])
    s = x - xp.amax(x, axis=1, keepdims=True, initial=-xp.inf)
    lse = xp.log(trailing_sum(xp.exp(s), (1,), x.shape[1]))[:, 0]
    picked = s[rows, xp.where(kept, target, 0)] - lse
    total = -xp.sum(xp.where(kept, picked, 0.0))        # where: an ignored ±inf gives 0
    if mean:
        total = total / xp.asarray(kept.sum(), x.dtype)
    return xp.asarray(total, dtype=x.dtype)


def _cross_entropy_vjp(F, g, out, x, target, ignore_index=-100, mean=True):
    # (softmax(x) - onehot(t))·g per kept row (/count); the max shift is a constant, which
    # softmax ignores in every derivative
    scale = _ce_kept(target, ignore_index, mean, F.raw(x).dtype)
    kept = target != ignore_index
    rows, cols = xp.nonzero(kept)[0], target[kept]
    if type(x) is xp.ndarray:                      # on arrays: in place on one fresh array
        p = x - xp.amax(x, axis=1, keepdims=True, initial=-xp.inf)
        xp.exp(p, out=p)
        p /= trailing_sum(p, (1,), x.shape[1])
        p[rows, cols] -= 1
        p *= scale
        p *= g
        return p
    e = F.exp(x - xp.amax(F.raw(x), axis=1, keepdims=True, initial=-xp.inf))
    onehot = xp.zeros(x.shape, F.raw(x).dtype)
    onehot[rows, cols] = 1
    return (e / F.sum(e, (1,), True) - onehot) * (g * scale)


cross_entropy = defprim(
    "cross_entropy", _cross_entropy, _cross_entropy_vjp,
    kind="other", backward_name="NllLossBackward0", saves=(0,), formulas=(None,),
    vjp_texts=("g ↦ g·(softmax(x) - onehot(target))/count, 0 on ignored rows",),
    examples=[("m.nn.functional.cross_entropy(x, m.tensor([0, 2, 1]))", (3, 4)),
              ("m.nn.functional.cross_entropy(x, m.tensor([1, -100, 3, 0]), reduction='sum')",
               (4, 5)),
              ("m.nn.functional.cross_entropy(x, m.tensor([2, 7]), ignore_index=7)", (2, 3))])
