"""Naive NumPy references for the primitives of ``chainrule.nn.functional.conv``.

Written independently of the library: explicit loops over output (or input) positions, each
computing its window the way the textbook formula reads.  ``tests/test_registry.py`` picks up
``REFERENCES``; ``tests/test_nn_conv.py`` uses the same functions.
"""
import itertools

import numpy as np


def _pad(x, pads):
    """Zero padding (lo, hi) per spatial dim; a negative hi drops that many trailing entries."""
    nd = len(pads)
    widths = [(0, 0)] * (x.ndim - nd) + [(lo, max(hi, 0)) for lo, hi in pads]
    out = np.pad(x, widths)
    crop = tuple(slice(None) for _ in range(x.ndim - nd)) + tuple(
        slice(0, out.shape[x.ndim - nd + i] + min(hi, 0)) for i, (_, hi) in enumerate(pads))
    return out[crop]


def _per_dim(nd, *values):
    """Defaults written for one dim (stride=(1,)) repeated for every spatial dim."""
    return [tuple(v) * nd if len(v) == 1 else tuple(v) for v in values]


def conv(x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    """out[n, o, p] = b[o] + Σ_{c in o's group, k} w[o, c, k] · xpad[n, c, p·stride + k·dil]"""
    nd = w.ndim - 2
    stride, padding, dilation = _per_dim(nd, stride, padding, dilation)
    n_batch, c_in = x.shape[:2]
    c_out, c_per = w.shape[:2]
    kernel = w.shape[2:]
    xp = _pad(x, padding)
    size = [(xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
            for i in range(nd)]
    out = np.zeros((n_batch, c_out) + tuple(size), dtype=np.result_type(x, w))
    o_per = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // o_per) * c_per
            for pos in itertools.product(*[range(s) for s in size]):
                window = xp[(n, slice(first, first + c_per)) + tuple(
                    slice(pos[i] * stride[i], pos[i] * stride[i] +
                          dilation[i] * (kernel[i] - 1) + 1, dilation[i]) for i in range(nd))]
                out[(n, o) + pos] = np.sum(window * w[o])
    if b is not None:
        out += b.reshape((-1,) + (1,) * nd)
    return out


def conv_transpose(x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    """Every input value x[n, i, p] adds x[n, i, p] · w[i] into the output window at p·stride;
    then lo is cut from the front of each dim and hi from its end (a negative hi adds zeros)."""
    nd = w.ndim - 2
    stride, padding, dilation = _per_dim(nd, stride, padding, dilation)
    n_batch, c_in = x.shape[:2]
    c_per_out = w.shape[1]
    kernel = w.shape[2:]
    size_in = x.shape[2:]
    full = [(size_in[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 for i in range(nd)]
    extra = [max(0, -hi) for _, hi in padding]
    buf = np.zeros((n_batch, groups * c_per_out) + tuple(f + e for f, e in zip(full, extra)),
                   dtype=np.result_type(x, w))
    i_per = c_in // groups
    for n in range(n_batch):
        for i in range(c_in):
            first = (i // i_per) * c_per_out
            for pos in itertools.product(*[range(s) for s in size_in]):
                dst = (n, slice(first, first + c_per_out)) + tuple(
                    slice(pos[d] * stride[d], pos[d] * stride[d] +
                          dilation[d] * (kernel[d] - 1) + 1, dilation[d]) for d in range(nd))
                buf[dst] += x[(n, i) + pos] * w[i]
    crop = (slice(None), slice(None)) + tuple(
        slice(lo, full[d] - hi) for d, (lo, hi) in enumerate(padding))
    out = buf[crop]
    if b is not None:
        out = out + b.reshape((-1,) + (1,) * nd)
    return out


def convolution(x, w, b=None, stride=(1,), padding=((0, 0),), dilation=(1,), transposed=False,
                groups=1):
    fn = conv_transpose if transposed else conv
    return fn(x, w, b, stride, padding, dilation, groups)


def avg_pool(x, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    """torch's avg_pool over the last len(kernel_size) dims, window by window."""
    nd = len(kernel_size)
    size = x.shape[-nd:]
    out_size = []
    for n, k, s, p in zip(size, kernel_size, stride, padding):
        span = n + 2 * p - k
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out_size.append(o)
    out = np.zeros(x.shape[:-nd] + tuple(out_size), dtype=x.dtype)
    for pos in itertools.product(*[range(o) for o in out_size]):
        box, clipped, pool = [], [], 1
        for i in range(nd):
            start = pos[i] * stride[i] - padding[i]
            end = min(start + kernel_size[i], size[i] + padding[i])
            pool *= end - start
            box.append(slice(max(start, 0), min(end, size[i])))
            clipped.append(min(end, size[i]) - max(start, 0))
        total = x[(Ellipsis,) + tuple(box)].sum(axis=tuple(range(-nd, 0)))
        if divisor_override:
            divisor = divisor_override
        elif count_include_pad:
            divisor = pool
        else:
            divisor = int(np.prod(clipped))
        out[(Ellipsis,) + pos] = total / divisor
    return out


def max_pool(x, kernel_size, stride, padding, dilation, ceil_mode=False):
    """(values, flat indices) of torch's max pooling: the first maximum of each window in scan
    order, a NaN if the window has one (the last), never a padding position."""
    nd = len(kernel_size)
    size = x.shape[-nd:]
    out_size = []
    for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out_size.append(o)
    lead = x.shape[:-nd]
    values = np.zeros(lead + tuple(out_size), dtype=x.dtype)
    indices = np.zeros(lead + tuple(out_size), dtype=np.int64)
    for plane in itertools.product(*[range(n) for n in lead]):
        for pos in itertools.product(*[range(o) for o in out_size]):
            best, best_at = -np.inf, None
            for offs in itertools.product(*[range(k) for k in kernel_size]):
                at = tuple(pos[i] * stride[i] - padding[i] + offs[i] * dilation[i]
                           for i in range(nd))
                if any(a < 0 or a >= n for a, n in zip(at, size)):
                    continue
                v = x[plane + at]
                if best_at is None or v > best or np.isnan(v):
                    best, best_at = v, at
            values[plane + pos] = best
            indices[plane + pos] = np.ravel_multi_index(best_at, size)
    return values, indices


REFERENCES = {
    "convolution": convolution,
    "avg_pool2d": avg_pool,
}
