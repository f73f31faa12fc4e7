"""Issue #13's convolution and pooling family: conv3d, conv_transpose3d, conv_tbc, 3-d and adaptive
max/avg pooling, max_unpool, lp_pool, fractional max pooling, fold/unfold, pixel and channel
shuffles, nn.grad, their modules and torch's top-level aliases.

Every function goes through ``oracle.check``: its values against a window-by-window NumPy loop
written here from torch's definitions (and against torch when it is installed), its first and
second derivatives against central differences in float64 (and torch's).  Modules are compared
with torch's loaded with the same weights; error types and messages with torch's (hard-coded from
torch 2.13 so that they are checked without torch too).
"""
import itertools
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from oracle import check

from references_conv import avg_pool, conv, conv_transpose, max_pool

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
RNG = np.random.default_rng(13)


def _r(*shape):
    return RNG.standard_normal(shape)


# =========================================================================================
# NumPy references, one window at a time
# =========================================================================================

def ref_adaptive(x, out, reduce):
    """torch's adaptive windows floor(i·n/o) .. ceil((i+1)·n/o); reduce 'mean' or 'max' (the
    max with its flat index: the first maximum in scan order, or the last NaN)."""
    nd = len(out)
    size, lead = x.shape[-nd:], x.shape[:-nd]
    vals = np.zeros(lead + tuple(out), x.dtype)
    idx = np.zeros(lead + tuple(out), np.int64)
    for ll in np.ndindex(*lead):
        for o in np.ndindex(*out):
            ranges = [range(o[i] * size[i] // out[i], -(-(o[i] + 1) * size[i] // out[i]))
                      for i in range(nd)]
            if reduce == "mean":
                vals[ll + o] = np.mean([x[ll + p] for p in itertools.product(*ranges)])
                continue
            best = None
            for p in itertools.product(*ranges):
                v = x[ll + p]
                if best is None or v > best[0] or np.isnan(v):
                    best = (v, p)
            vals[ll + o] = best[0]
            idx[ll + o] = np.ravel_multi_index(best[1], size)
    return vals if reduce == "mean" else (vals, idx)


def ref_unpool(x, indices, out):
    nd = len(out)
    lead = x.shape[:-nd]
    res = np.zeros(lead + tuple(out), x.dtype)
    for ll in np.ndindex(*lead):
        plane = res[ll].reshape(-1)
        for p in np.ndindex(*x.shape[-nd:]):
            plane[indices[ll + p]] = x[ll + p]
    return res


def ref_intervals(u, n, o, k):
    """torch's FractionalMaxPooling.h generate_intervals, one start at a time, in u's dtype."""
    dt = type(u)
    seq = []
    if o > 1:
        alpha = dt(n - k) / dt(o - 1)
        seq = [int((dt(i) + u) * alpha) - int(u * alpha) for i in range(o - 1)]
    return seq + [n - k]


def ref_fractional(x, kernel, out, samples):
    """(values, indices); samples (N, C, nd), sample 0 for W and 1 for H in 2-d, (T, H, W) in
    3-d, as torch's kernels read them."""
    nd = len(kernel)
    size = x.shape[-nd:]
    order = (1, 0) if nd == 2 else (0, 1, 2)
    unbatched = x.ndim == nd + 1
    xb = x[None] if unbatched else x
    vals = np.zeros(xb.shape[:2] + tuple(out), x.dtype)
    idx = np.zeros(xb.shape[:2] + tuple(out), np.int64)
    for b, c in np.ndindex(*xb.shape[:2]):
        starts = [ref_intervals(samples[b, c, order[i]], size[i], out[i], kernel[i])
                  for i in range(nd)]
        for o in np.ndindex(*out):
            best = None
            for off in np.ndindex(*kernel):
                p = tuple(starts[i][o[i]] + off[i] for i in range(nd))
                v = xb[(b, c) + p]
                if best is None or v > best[0] or np.isnan(v):
                    best = (v, p)
            vals[(b, c) + o] = best[0]
            idx[(b, c) + o] = np.ravel_multi_index(best[1], size)
    return (vals[0], idx[0]) if unbatched else (vals, idx)


def ref_unfold(x, k, d=(1, 1), p=(0, 0), s=(1, 1)):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow), x.dtype)
    for b, ch, i, j, bi, bj in itertools.product(range(n), range(c), range(k[0]), range(k[1]),
                                                 range(oh), range(ow)):
        out[b, (ch * k[0] + i) * k[1] + j, bi * ow + bj] = \
            xp[b, ch, bi * s[0] + i * d[0], bj * s[1] + j * d[1]]
    return out


def ref_fold(cols, size, k, d=(1, 1), p=(0, 0), s=(1, 1)):
    n, ck, length = cols.shape
    c = ck // (k[0] * k[1])
    h, w = size
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), cols.dtype)
    for b, ch, i, j, bi, bj in itertools.product(range(n), range(c), range(k[0]), range(k[1]),
                                                 range(oh), range(ow)):
        out[b, ch, bi * s[0] + i * d[0], bj * s[1] + j * d[1]] += \
            cols[b, (ch * k[0] + i) * k[1] + j, bi * ow + bj]
    return out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def ref_conv_tbc(x, w, b, pad):
    t, batch, _ = x.shape
    kw = w.shape[0]
    xp = np.pad(x, ((pad, pad), (0, 0), (0, 0)))
    out = np.zeros((t + 2 * pad - kw + 1, batch, w.shape[2]))
    for i in range(out.shape[0]):
        out[i] = b + sum(xp[i + k] @ w[k] for k in range(kw))
    return out


def ref_lp(x, p, kernel, stride):
    nd = len(kernel)
    return (avg_pool(x ** p, kernel, stride, (0,) * nd) * math.prod(kernel)) ** (1.0 / p)


# =========================================================================================
# Convolutions
# =========================================================================================

@pytest.mark.parametrize("kw", [
    dict(), dict(stride=2, padding=1),
    dict(stride=(1, 2, 1), padding=(0, 1, 1), dilation=(2, 1, 1)),
    dict(groups=2, padding="same", dilation=(1, 2, 1))])
def test_conv3d(kw):
    x, w, b = _r(2, 4, 5, 4, 4), _r(2, 4 // kw.get("groups", 1), 2, 3, 2), _r(2)

    def ref(x, w, b):
        stride = kw.get("stride", 1)
        stride = stride if isinstance(stride, tuple) else (stride,) * 3
        dil = kw.get("dilation", (1, 1, 1))
        pad = kw.get("padding", 0)
        if pad == "same":
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for k, d in zip(w.shape[2:], dil))
        else:
            pad = pad if isinstance(pad, tuple) else (pad,) * 3
            pads = tuple((q, q) for q in pad)
        return conv(x, w, b, stride, pads, dil, kw.get("groups", 1))
    check(lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, **kw), x, w, b, ref=ref,
          second=True)


def test_conv3d_unbatched_and_float16():
    x, w = _r(2, 3, 4, 3), _r(3, 2, 2, 2, 2)
    check(lambda m, x, w: m.nn.functional.conv3d(x, w), x, w,
          ref=lambda x, w: conv(x[None], w)[0])
    out = F.conv3d(cr.tensor(x, dtype=cr.float16), cr.tensor(w, dtype=cr.float16))
    assert out.dtype == cr.float16
    np.testing.assert_allclose(out.numpy(), conv(x[None], w)[0], atol=0.05, rtol=0.02)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(2, 1, 2), dilation=(1, 2, 1), groups=2)])
def test_conv_transpose3d(kw):
    g = kw.get("groups", 1)
    x, w, b = _r(2, 4, 3, 2, 3), _r(4, 3 // g if g == 1 else 1, 2, 2, 3), _r(3 if g == 1 else 2)

    def ref(x, w, b):
        stride = kw.get("stride", 1)
        stride = stride if isinstance(stride, tuple) else (stride,) * 3
        p, op = kw.get("padding", 0), kw.get("output_padding", 0)
        return conv_transpose(x, w, b, stride, ((p, p - op),) * 3, kw.get("dilation", (1,) * 3),
                              g)
    check(lambda m, x, w, b: m.nn.functional.conv_transpose3d(x, w, b, **kw), x, w, b, ref=ref,
          second=True)


@pytest.mark.parametrize("pad", [0, 1, 2, -1])
def test_conv_tbc(pad):
    x, w, b = _r(6, 2, 3), _r(3, 3, 4), _r(4)

    def ref(x, w, b):
        if pad < 0:
            return ref_conv_tbc(x[-pad:x.shape[0] + pad], w, b, 0)
        return ref_conv_tbc(x, w, b, pad)
    check(lambda m, x, w, b: m.conv_tbc(x, w, b, pad), x, w, b, ref=ref, second=True)
    check(lambda m, x, w, b: m.nn.functional.conv_tbc(x, w, b, pad), x, w, b, ref=ref)


def test_convolution_dispatches_on_the_weights_rank():
    x, w = _r(1, 2, 5, 4), _r(3, 2, 2, 2)
    check(lambda m, x, w: m.convolution(x, w, None, [1, 2], [1, 0], [1, 1], False, [0, 0], 1),
          x, w, ref=lambda x, w: conv(x, w, None, (1, 2), ((1, 1), (0, 0))))
    x, w = _r(1, 2, 3), _r(2, 3, 2)
    check(lambda m, x, w: m.convolution(x, w, None, [2], [0], [1], True, [1], 1), x, w,
          ref=lambda x, w: conv_transpose(x, w, None, (2,), ((0, -1),)))
    x, w = _r(1, 2, 3, 3, 3), _r(1, 2, 2, 2, 2)
    check(lambda m, x, w: m.conv3d(x, w), x, w, ref=lambda x, w: conv(x, w))
    check(lambda m, x, w: m.conv_transpose3d(x, w.transpose(1, 0, 2, 3, 4)
                                             if isinstance(w, np.ndarray) else
                                             w.permute(1, 0, 2, 3, 4)), x, w,
          ref=lambda x, w: conv_transpose(x, w.transpose(1, 0, 2, 3, 4)))


# =========================================================================================
# Max and average pooling in 3-d, the *_with_indices forms
# =========================================================================================

def _ties_and_nans():
    x = np.round(_r(2, 2, 5, 4, 5))            # many ties
    x[0, 0, 1, 1, 1] = x[0, 0, 1, 1, 2] = np.nan
    x[1, 1, :2, :2, :2] = -np.inf
    return x


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2), dict(kernel_size=(2, 3, 2), stride=1, padding=(1, 1, 0)),
    dict(kernel_size=3, stride=2, padding=1, dilation=(1, 1, 2), ceil_mode=True),
    dict(kernel_size=(1, 2, 2), stride=(1, 1, 2), ceil_mode=True)])
def test_max_pool3d_values_indices_and_derivatives(kw):
    k = kw["kernel_size"] if isinstance(kw["kernel_size"], tuple) else (kw["kernel_size"],) * 3

    def three(v, d):
        v = kw.get(v, d)
        return v if isinstance(v, tuple) else (v,) * 3

    def ref(x):
        return max_pool(x, k, three("stride", k), three("padding", 0), three("dilation", 1),
                        kw.get("ceil_mode", False))
    check(lambda m, x: m.nn.functional.max_pool3d(x, return_indices=True, **kw),
          _ties_and_nans(), ref=ref, grad=False)
    check(lambda m, x: m.nn.functional.max_pool3d_with_indices(x, **kw), _r(1, 2, 4, 5, 4),
          ref=ref, second=True)
    check(lambda m, x: m.nn.functional.max_pool3d(x, **kw), _r(2, 4, 5, 4),
          ref=lambda x: ref(x)[0])


def test_max_pool_with_indices_1d_2d():
    x = np.round(_r(2, 3, 7, 6))
    check(lambda m, x: m.nn.functional.max_pool2d_with_indices(x, 3, 2, 1), x,
          ref=lambda x: max_pool(x, (3, 3), (2, 2), (1, 1), (1, 1)), grad=False)
    check(lambda m, x: m.nn.functional.max_pool1d_with_indices(x, 2, ceil_mode=True), x[0],
          ref=lambda x: max_pool(x, (2,), (2,), (0,), (1,), True), grad=False)


def test_a_window_wholly_in_the_padding_is_minus_infinity():
    """torch's value (-inf) and index (where its scan would start, past the input); the
    window's gradient goes nowhere (torch writes it out of bounds)."""
    x = _r(2, 3, 1, 2)
    program = (lambda m, x: m.nn.functional.max_pool2d(x, (2, 4), (1, 3), (1, 1), (2, 1),
                                                       ceil_mode=True, return_indices=True))
    out, idx = check(program, x, ref=lambda x: (np.full((2, 3, 1, 1), -np.inf),
                                                np.full((2, 3, 1, 1), 2)), grad=False)
    xc = cr.tensor(x, requires_grad=True)
    program(cr, xc)[0].sum().backward()
    assert not xc.grad.numpy().any()
    x = _r(1, 2, 1, 3, 3)
    check(lambda m, x: m.nn.functional.max_pool3d(x, 2, 1, 1, (2, 1, 1), return_indices=True),
          x, ref=lambda x: max_pool_with_empty(x), grad=False)


def max_pool_with_empty(x):
    """max_pool3d(x, 2, 1, 1, dilation=(2, 1, 1)) on a depth-1 input: no window reaches it."""
    vals = np.full((1, 2, 1, 4, 4), -np.inf)
    idx = np.zeros((1, 2, 1, 4, 4), np.int64)
    for i, j in itertools.product(range(4), range(4)):
        h, w = max(i - 1, 0), max(j - 1, 0)
        idx[..., 0, i, j] = 1 * 3 * 3 + h * 3 + w        # depth 1 (past the input), (h, w)
    return vals, idx


def test_max_pool3d_integer_float16_and_empty_batch():
    x = RNG.integers(-5, 5, (1, 2, 4, 4, 4))
    check(lambda m, x: m.nn.functional.max_pool3d(x, 2, return_indices=True), x,
          ref=lambda x: max_pool(x, (2,) * 3, (2,) * 3, (0,) * 3, (1,) * 3))
    out = F.max_pool3d(cr.tensor(x, dtype=cr.float16), 2)
    assert out.dtype == cr.float16
    out = F.max_pool3d(cr.zeros(0, 2, 4, 4, 4, requires_grad=True), 2)
    assert tuple(out.shape) == (0, 2, 2, 2, 2)
    out.sum().backward()


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2), dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, divisor_override=3)])
def test_avg_pool3d(kw):
    k = kw["kernel_size"] if isinstance(kw["kernel_size"], tuple) else (kw["kernel_size"],) * 3
    s = kw.get("stride", k)
    s = s if isinstance(s, tuple) else (s,) * 3
    p = (kw.get("padding", 0),) * 3

    def ref(x):
        return avg_pool(x, k, s, p, kw.get("ceil_mode", False), kw.get("count_include_pad", True),
                        kw.get("divisor_override"))
    check(lambda m, x: m.nn.functional.avg_pool3d(x, **kw), _r(2, 2, 5, 4, 5), ref=ref,
          second=True)
    check(lambda m, x: m.nn.functional.avg_pool3d(x, **kw), _r(2, 5, 4, 5), ref=ref)


def test_avg_pool3d_integer_truncates():
    x = RNG.integers(-9, 9, (1, 2, 4, 4, 4))
    check(lambda m, x: m.nn.functional.avg_pool3d(x, 2), x,
          ref=lambda x: np.trunc(avg_pool(x.astype(float), (2,) * 3, (2,) * 3, (0,) * 3)))


# =========================================================================================
# Adaptive pooling
# =========================================================================================

@pytest.mark.parametrize("out", [(2, 3, 2), (1, 1, 1), (4, 5, 4), (3, 2, 3), (2, None, 1)])
def test_adaptive_avg_pool3d(out):
    x = _r(2, 2, 4, 5, 4)
    full = tuple(n if o is None else o for o, n in zip(out, x.shape[-3:]))
    check(lambda m, x: m.nn.functional.adaptive_avg_pool3d(x, out), x,
          ref=lambda x: ref_adaptive(x, full, "mean"), second=True)
    check(lambda m, x: m.nn.functional.adaptive_avg_pool3d(x, out), x[0],
          ref=lambda x: ref_adaptive(x, full, "mean"))


@pytest.mark.parametrize("nd, shape, out", [
    (1, (2, 3, 7), (3,)), (1, (3, 5), (5,)), (1, (2, 2, 5), (7,)),
    (2, (2, 2, 5, 7), (3, 2)), (2, (2, 6, 4), (4, 4)), (2, (1, 2, 5, 4), (2, None)),
    (3, (1, 2, 5, 4, 3), (2, 3, 2)), (3, (2, 3, 3, 4), (1, 1, 1))])
def test_adaptive_max_pool(nd, shape, out):
    name = f"adaptive_max_pool{nd}d"
    size = shape[-nd:]
    full = tuple(n if o is None else o for o, n in zip(out, size))
    arg = out[0] if nd == 1 else out
    x = _r(*shape)

    def ref(x):
        return ref_adaptive(x, full, "max")
    check(lambda m, x: getattr(m.nn.functional, name)(x, arg, return_indices=True), x, ref=ref,
          second=True)
    check(lambda m, x: getattr(m.nn.functional, name + "_with_indices")(x, arg), x, ref=ref)
    ties = np.round(x)
    ties.flat[::3] = np.nan
    check(lambda m, x: getattr(m.nn.functional, name)(x, arg), ties, ref=lambda x: ref(x)[0],
          grad=False)


def test_adaptive_max_pool_empty_output_and_batch():
    check(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (2, 0), True), _r(1, 2, 4, 5),
          ref=lambda x: (np.zeros((1, 2, 2, 0)), np.zeros((1, 2, 2, 0), np.int64)), grad=False)
    out, i = F.adaptive_max_pool2d(cr.zeros(0, 2, 4, 5), 2, True)
    assert tuple(out.shape) == (0, 2, 2, 2) and i.dtype == cr.int64
    out = F.adaptive_max_pool3d(cr.tensor(_r(1, 2, 3, 4), dtype=cr.float16), 2)
    assert out.dtype == cr.float16


def test_torch_adaptive_max_pool1d_returns_both():
    x = _r(2, 7)
    check(lambda m, x: m.adaptive_max_pool1d(x, 3), x, ref=lambda x: ref_adaptive(x, (3,), "max"))


# =========================================================================================
# Max unpooling
# =========================================================================================

@pytest.mark.parametrize("nd, shape, kw", [
    (1, (2, 3, 8), dict(kernel_size=2)), (1, (3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (2, (2, 2, 6, 5), dict(kernel_size=2, output_size=(6, 5))),
    (2, (2, 5, 6), dict(kernel_size=(2, 3), stride=1)),
    (3, (1, 2, 4, 6, 4), dict(kernel_size=2)),
    (3, (2, 5, 4, 5), dict(kernel_size=(2, 2, 3), stride=1, padding=(0, 1, 1),
                           output_size=(1, 2, 5, 4, 5)))])
def test_max_unpool(nd, shape, kw):
    k = kw["kernel_size"] if isinstance(kw["kernel_size"], tuple) else (kw["kernel_size"],) * nd
    s = kw.get("stride", k)
    s = s if isinstance(s, tuple) else (s,) * nd
    p = kw.get("padding", 0)
    p = p if isinstance(p, tuple) else (p,) * nd
    x, idx = max_pool(_r(*shape), k, s, p, (1,) * nd)
    size = kw.get("output_size")
    size = tuple(size[-nd:]) if size else tuple((n - 1) * a + b - 2 * c
                                               for n, a, b, c in zip(x.shape[-nd:], s, k, p))
    if s != k:      # overlapping windows repeat winners: unpool distinct random places instead
        planes = [RNG.permutation(math.prod(size))[:math.prod(x.shape[-nd:])]
                  for _ in range(math.prod(x.shape[:-nd]))]
        idx = np.stack(planes).reshape(x.shape)
    name = f"max_unpool{nd}d"
    check(lambda m, x, i: getattr(m.nn.functional, name)(x, i, **kw), x, idx,
          ref=lambda x, i: ref_unpool(x, i, size), second=True)


def test_max_unpool_inverts_max_pool_in_a_graph():
    x = cr.tensor(_r(1, 2, 4, 4, 4), requires_grad=True)
    out, i = F.max_pool3d(x, 2, return_indices=True)
    back = F.max_unpool3d(out * 2, i, 2)
    back.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, back.detach().numpy() != 0)
    assert float(x.grad.sum()) == 2 * out.numel()


# =========================================================================================
# Power-average pooling
# =========================================================================================

@pytest.mark.parametrize("nd, shape, p, kernel, stride", [
    (1, (2, 3, 7), 2, 2, None), (1, (3, 8), 3.0, 3, 2), (2, (2, 2, 5, 6), 2, (2, 3), None),
    (2, (2, 6, 6), 1.5, 2, 1), (3, (1, 2, 4, 4, 5), 2, 2, None),
    (3, (2, 4, 3, 4), 3, (2, 1, 2), 1)])
def test_lp_pool(nd, shape, p, kernel, stride):
    x = np.abs(_r(*shape)) + 0.2        # torch gives NaN where a window's Σ x^p is negative
    k = kernel if isinstance(kernel, tuple) else (kernel,) * nd
    s = k if stride is None else (stride if isinstance(stride, tuple) else (stride,) * nd)
    name = f"lp_pool{nd}d"
    check(lambda m, x: getattr(m.nn.functional, name)(x, p, kernel, stride), x,
          ref=lambda x: ref_lp(x, p, k, s), second=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_lp_pool_infinity_is_max_pooling_of_abs(nd):
    x = _r(*(2, 2) + (4,) * nd)
    k = (2,) * nd
    check(lambda m, x: getattr(m.nn.functional, f"lp_pool{nd}d")(x, math.inf, 2), x,
          ref=lambda x: max_pool(np.abs(x), k, k, (0,) * nd, (1,) * nd)[0])


# =========================================================================================
# Fractional max pooling
# =========================================================================================

@pytest.mark.parametrize("nd, shape, kernel, out", [
    (2, (2, 3, 7, 6), 2, (4, 3)), (2, (2, 3, 7, 6), (3, 2), (5, 4)), (2, (3, 9, 8), 2, (4, 4)),
    (3, (2, 2, 6, 6, 7), 2, (2, 3, 4)), (3, (2, 6, 5, 7), (2, 3, 2), (3, 2, 2))])
def test_fractional_max_pool(nd, shape, kernel, out):
    x = _r(*shape)
    batch = 1 if len(shape) == nd + 1 else shape[0]
    u = RNG.random((batch, shape[-nd - 1], nd))
    k = kernel if isinstance(kernel, tuple) else (kernel,) * nd
    name = f"fractional_max_pool{nd}d"
    check(lambda m, x: getattr(m.nn.functional, name)(x, kernel, out, return_indices=True,
                                                      _random_samples=m.tensor(u)),
          x, ref=lambda x: ref_fractional(x, k, out, u), second=True)
    check(lambda m, x: getattr(m.nn.functional, name + "_with_indices")(
        x, kernel, out, _random_samples=m.tensor(u)), np.round(x),
        ref=lambda x: ref_fractional(x, k, out, u), grad=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_fractional_max_pool_steps_in_low_precision(dtype):
    """torch computes the window starts in the input's dtype: float32 and float16 rounding
    move some of them, and the result follows."""
    x = _r(4, 5, 29, 31).astype(dtype)
    u = RNG.random((4, 5, 2)).astype(dtype)
    check(lambda m, x: m.nn.functional.fractional_max_pool2d(x, 2, (17, 11),
                                                             return_indices=True,
                                                             _random_samples=m.tensor(u)),
          x, ref=lambda x: ref_fractional(x, (2, 2), (17, 11), u), grad=False)
    x = _r(2, 3, 13, 14, 15).astype(dtype)
    u = RNG.random((2, 3, 3)).astype(dtype)
    check(lambda m, x: m.nn.functional.fractional_max_pool3d(x, (2, 3, 2), (5, 7, 6),
                                                             return_indices=True,
                                                             _random_samples=m.tensor(u)),
          x, ref=lambda x: ref_fractional(x, (2, 3, 2), (5, 7, 6), u), grad=False)


def test_fractional_max_pool_output_ratio_and_own_samples():
    x = cr.tensor(_r(2, 3, 10, 9))
    out, i = F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.7), return_indices=True)
    assert tuple(out.shape) == (2, 3, 5, 6)
    # whatever the samples, each output is its input plane's value at its index
    np.testing.assert_array_equal(
        np.take_along_axis(x.numpy().reshape(2, 3, -1), i.numpy().reshape(2, 3, -1), -1),
        out.numpy().reshape(2, 3, -1))
    out = F.fractional_max_pool3d(cr.tensor(_r(3, 8, 8, 8)), 3, output_ratio=0.5)
    assert tuple(out.shape) == (3, 4, 4, 4)
    out, i = F.fractional_max_pool3d(cr.zeros(0, 2, 5, 5, 5, requires_grad=True), 2, 3,
                                     return_indices=True)
    assert tuple(out.shape) == (0, 2, 3, 3, 3) and i.dtype == cr.int64
    out.sum().backward()


# =========================================================================================
# fold / unfold, pixel and channel shuffles
# =========================================================================================

@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=(2, 1)),
                                dict(kernel_size=3, dilation=(2, 1), padding=(2, 1), stride=2)])
def test_unfold_and_fold(kw):
    def pair(v, d):
        v = kw.get(v, d)
        return v if isinstance(v, tuple) else (v, v)
    k, d, p, s = pair("kernel_size", 0), pair("dilation", 1), pair("padding", 0), \
        pair("stride", 1)
    x = _r(2, 3, 7, 6)
    check(lambda m, x: m.nn.functional.unfold(x, **kw), x,
          ref=lambda x: ref_unfold(x, k, d, p, s), second=True)
    check(lambda m, x: m.nn.functional.unfold(x, **kw), x[0],
          ref=lambda x: ref_unfold(x[None], k, d, p, s)[0])
    cols = ref_unfold(x, k, d, p, s)
    check(lambda m, c: m.nn.functional.fold(c, (7, 6), **kw), cols,
          ref=lambda c: ref_fold(c, (7, 6), k, d, p, s), second=True)
    check(lambda m, c: m.nn.functional.fold(c, (7, 6), **kw), cols[1],
          ref=lambda c: ref_fold(c[None], (7, 6), k, d, p, s)[0])


def test_fold_output_rows_no_block_reaches_are_zero():
    # stride 2 over 6 rows with a 3-kernel: the last row is never covered
    cols = _r(1, 9, 4)
    check(lambda m, c: m.nn.functional.fold(c, (6, 6), 3, stride=2), cols,
          ref=lambda c: ref_fold(c, (6, 6), (3, 3), s=(2, 2)))


def test_shuffles_in_nn_functional():
    x = _r(2, 8, 3, 4)
    check(lambda m, x: m.nn.functional.pixel_shuffle(x, 2), x,
          ref=lambda x: x.reshape(2, 2, 2, 2, 3, 4).transpose(0, 1, 4, 2, 5, 3).reshape(2, 2, 6, 8))
    check(lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), x[:, :, :2],
          ref=lambda x: x.reshape(2, 8, 1, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4)
          .reshape(2, 32, 1, 2))
    check(lambda m, x: m.nn.functional.channel_shuffle(x, 4), x,
          ref=lambda x: x.reshape(2, 4, 2, 3, 4).transpose(0, 2, 1, 3, 4).reshape(2, 8, 3, 4))
    # torch has no derivative for native_channel_shuffle (chainrule's is channel_shuffle's)
    check(lambda m, x: m.native_channel_shuffle(x, 2), x,
          ref=lambda x: x.reshape(2, 2, 4, 3, 4).transpose(0, 2, 1, 3, 4).reshape(2, 8, 3, 4),
          grad=False)


# =========================================================================================
# nn.grad
# =========================================================================================

@pytest.mark.parametrize("nd", [1, 2, 3])
def test_nn_grad_is_the_convolutions_backward(nd):
    kw = dict(stride=2, padding=1, groups=2)
    x = cr.tensor(_r(*(2, 4) + (5,) * nd), requires_grad=True)
    w = cr.tensor(_r(*(6, 2) + (3,) * nd), requires_grad=True)
    out = getattr(F, f"conv{nd}d")(x, w, **kw)
    g = cr.tensor(_r(*out.shape))
    gx, gw = cr.autograd.grad(out, (x, w), g)
    got_x = getattr(nn.grad, f"conv{nd}d_input")(x.shape, w, g, **kw)
    got_w = getattr(nn.grad, f"conv{nd}d_weight")(x, w.shape, g, **kw)
    np.testing.assert_allclose(got_x.detach().numpy(), gx.numpy(), atol=1e-12)
    np.testing.assert_allclose(got_w.detach().numpy(), gw.numpy(), atol=1e-12)
    # with the output of a stride-2 conv, an input one larger is just as valid
    bigger = tuple(x.shape[:2]) + (6,) * nd
    assert tuple(getattr(nn.grad, f"conv{nd}d_input")(bigger, w, g, **kw).shape) == bigger


def test_nn_grad_differentiates_again():
    x, g = _r(1, 2, 5, 4), _r(1, 3, 4, 3)
    def ref_weight(x, g):
        gw = np.zeros((3, 2, 2, 2))
        for i, j in itertools.product(range(2), range(2)):
            gw[:, :, i, j] = np.einsum("nohw,nchw->oc", g, x[:, :, i:i + 4, j:j + 3])
        return gw
    check(lambda m, x, g: m.nn.grad.conv2d_weight(x, (3, 2, 2, 2), g), x, g, ref=ref_weight,
          second=True)
    w = _r(3, 2, 2, 2)
    check(lambda m, w, g: m.nn.grad.conv2d_input((1, 2, 5, 4), w, g), w, g,
          ref=lambda w, g: conv_transpose(g, w), second=True)


# =========================================================================================
# Modules
# =========================================================================================

REPRS = [
    (lambda m: m.MaxPool3d(2), "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, "
                               "ceil_mode=False)"),
    (lambda m: m.AvgPool3d((2, 1, 2), padding=1),
     "AvgPool3d(kernel_size=(2, 1, 2), stride=(2, 1, 2), padding=1)"),
    (lambda m: m.AdaptiveAvgPool3d(2), "AdaptiveAvgPool3d(output_size=2)"),
    (lambda m: m.AdaptiveMaxPool1d(3), "AdaptiveMaxPool1d(output_size=3)"),
    (lambda m: m.AdaptiveMaxPool2d((2, None), return_indices=True),
     "AdaptiveMaxPool2d(output_size=(2, None))"),
    (lambda m: m.AdaptiveMaxPool3d(1), "AdaptiveMaxPool3d(output_size=1)"),
    (lambda m: m.MaxUnpool1d(2), "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
    (lambda m: m.MaxUnpool2d(2, 1), "MaxUnpool2d(kernel_size=(2, 2), stride=(1, 1), "
                                    "padding=(0, 0))"),
    (lambda m: m.MaxUnpool3d(2, padding=1), "MaxUnpool3d(kernel_size=(2, 2, 2), "
                                            "stride=(2, 2, 2), padding=(1, 1, 1))"),
    (lambda m: m.LPPool1d(2, 3), "LPPool1d(norm_type=2, kernel_size=3, stride=None, "
                                 "ceil_mode=False)"),
    (lambda m: m.LPPool2d(2, (3, 2), 1), "LPPool2d(norm_type=2, kernel_size=(3, 2), stride=1, "
                                         "ceil_mode=False)"),
    (lambda m: m.LPPool3d(1.5, 2, ceil_mode=True), "LPPool3d(norm_type=1.5, kernel_size=2, "
                                                   "stride=None, ceil_mode=True)"),
    (lambda m: m.FractionalMaxPool2d(2, output_size=3), "FractionalMaxPool2d()"),
    (lambda m: m.FractionalMaxPool3d(2, output_ratio=0.5), "FractionalMaxPool3d()"),
    (lambda m: m.Fold((4, 5), 2), "Fold(output_size=(4, 5), kernel_size=2, dilation=1, "
                                  "padding=0, stride=1)"),
    (lambda m: m.Unfold(2, padding=1), "Unfold(kernel_size=2, dilation=1, padding=1, stride=1)"),
    (lambda m: m.PixelShuffle(2), "PixelShuffle(upscale_factor=2)"),
    (lambda m: m.PixelUnshuffle(3), "PixelUnshuffle(downscale_factor=3)"),
    (lambda m: m.ChannelShuffle(2), "ChannelShuffle(groups=2)"),
    (lambda m: m.Conv3d(2, 4, (2, 3, 1), stride=2, padding=1, groups=2, bias=False),
     "Conv3d(2, 4, kernel_size=(2, 3, 1), stride=(2, 2, 2), padding=(1, 1, 1), groups=2, "
     "bias=False)"),
    (lambda m: m.ConvTranspose3d(2, 3, 2, output_padding=1, stride=2),
     "ConvTranspose3d(2, 3, kernel_size=(2, 2, 2), stride=(2, 2, 2), "
     "output_padding=(1, 1, 1))"),
]


@pytest.mark.parametrize("make, text", REPRS)
def test_module_reprs(make, text):
    assert repr(make(nn)) == text
    if torch is not None:
        assert repr(make(torch.nn)) == text


def _load(cm, tm):
    want = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in cm.state_dict().items()} == want
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})


def _run_both(cm, tm, x, *extra, **kw):
    """Forward and input/parameter gradients, chainrule against torch."""
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    oc = cm(xc, *[cr.tensor(e) for e in extra], **kw)
    ot = tm(xt, *[torch.tensor(e) for e in extra], **kw)
    oc, ot = (oc if isinstance(oc, tuple) else (oc,)), (ot if isinstance(ot, tuple) else (ot,))
    for a, b in zip(oc, ot):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-10)
    w = _r(*oc[0].shape)
    (oc[0] * cr.tensor(w)).sum().backward()
    (ot[0] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-10)
    for (name, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-10, err_msg=name)
    return oc


@needs_torch
@pytest.mark.parametrize("args, kw", [
    ((4, 6, (2, 3, 2)), dict(stride=(1, 2, 1), padding=1, dilation=(2, 1, 1), groups=2)),
    ((3, 4, 3), dict(padding="same", bias=False)),
    ((3, 4, 2), dict(padding=1, padding_mode="reflect")),
    ((3, 4, 2), dict(padding=(1, 0, 1), padding_mode="circular")),
    ((3, 4, 2), dict(padding=1, padding_mode="replicate"))])
def test_conv3d_module_against_torch(args, kw):
    tm = torch.nn.Conv3d(*args, **kw).double()
    cm = nn.Conv3d(*args, **kw, dtype=cr.float64)
    _load(cm, tm)
    _run_both(cm, tm, _r(2, args[0], 5, 6, 5))
    _run_both(cm, tm, _r(args[0], 5, 6, 5))


@needs_torch
def test_conv_transpose3d_module_against_torch():
    tm = torch.nn.ConvTranspose3d(4, 6, (2, 3, 2), stride=2, padding=1, groups=2).double()
    cm = nn.ConvTranspose3d(4, 6, (2, 3, 2), stride=2, padding=1, groups=2, dtype=cr.float64)
    _load(cm, tm)
    _run_both(cm, tm, _r(2, 4, 3, 4, 3))
    out = _run_both(cm, tm, _r(2, 4, 3, 4, 3), output_size=(5, 8, 5))
    assert tuple(out[0].shape) == (2, 6, 5, 8, 5)


POOL_MODULES = [
    ("MaxPool3d", (2,), dict(stride=1, padding=1, return_indices=True), (2, 2, 4, 5, 4)),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 5, 4, 5)),
    ("AdaptiveAvgPool3d", ((2, 3, None),), {}, (2, 2, 5, 4, 5)),
    ("AdaptiveMaxPool1d", (3,), dict(return_indices=True), (2, 3, 8)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 5, 7)),
    ("AdaptiveMaxPool3d", (2,), dict(return_indices=True), (1, 2, 5, 4, 5)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 9)),
    ("LPPool2d", (2, 2), {}, (2, 2, 4, 6)),
    ("LPPool3d", (2.0, (2, 1, 2)), dict(ceil_mode=True), (1, 2, 5, 4, 5)),
    ("Fold", ((4, 5), 2), {}, (2, 12, 12)),
    ("Unfold", ((2, 3),), dict(padding=1), (2, 3, 4, 5)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 3)),
    ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("ChannelShuffle", (3,), {}, (2, 6, 2, 2)),
]


@needs_torch
@pytest.mark.parametrize("name, args, kw, shape", POOL_MODULES)
def test_pooling_modules_against_torch(name, args, kw, shape):
    x = np.abs(_r(*shape)) + 0.1
    cm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert list(cm.state_dict()) == list(tm.state_dict()) == []
    _run_both(cm, tm, x)


@needs_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_modules_against_torch(nd):
    x = _r(*(2, 3) + (6,) * nd)
    pooled, idx = max_pool(x, (2,) * nd, (2,) * nd, (0,) * nd, (1,) * nd)
    cm, tm = getattr(nn, f"MaxUnpool{nd}d")(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    _run_both(cm, tm, pooled, idx)
    _run_both(cm, tm, pooled, idx, output_size=(7,) * nd)


@needs_torch
@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_modules_against_torch(nd):
    x = _r(*(2, 3) + (7,) * nd)
    u = RNG.random((2, 3, nd))
    name = f"FractionalMaxPool{nd}d"
    cm = getattr(nn, name)(2, output_size=3, return_indices=True, _random_samples=cr.tensor(u))
    tm = getattr(torch.nn, name)(2, output_size=3, return_indices=True,
                                 _random_samples=torch.tensor(u))
    assert list(cm.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    _run_both(cm, tm, x)


def test_fractional_module_argument_errors():
    with pytest.raises(ValueError, match="requires specifying either an output size, or a "
                                         "pooling ratio"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool3d(2, output_size=2, output_ratio=0.5)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0, but got 0"):
        nn.FractionalMaxPool3d(0, output_size=2)


def test_conv3d_module_without_torch():
    conv3 = nn.Conv3d(2, 4, 3, padding=1, dtype=cr.float64)
    x = _r(1, 2, 4, 4, 4)
    out = conv3(cr.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(),
                               conv(x, conv3.weight.detach().numpy(), conv3.bias.detach().numpy(),
                                    (1,), ((1, 1),)), atol=1e-12)
    assert [(k, tuple(v.shape)) for k, v in conv3.state_dict().items()] == \
        [("weight", (4, 2, 3, 3, 3)), ("bias", (4,))]


# =========================================================================================
# Errors: torch's types and messages (hard-coded from torch 2.13, compared live when present)
# =========================================================================================

X4, X5 = _r(2, 3, 6, 7), _r(2, 3, 4, 6, 7)
Y4, I4 = max_pool(X4[..., :6], (2, 2), (2, 2), (0, 0), (1, 1))
Y5, I5 = max_pool(X5[..., :6, :6], (2,) * 3, (2,) * 3, (0,) * 3, (1,) * 3)
ERRORS = [
    ("F.conv3d(t(X4), t(_r(2, 3, 2, 2, 2)))", RuntimeError,
     "Given groups=1, weight of size [2, 3, 2, 2, 2], expected input[1, 2, 3, 6, 7] to have 3 "
     "channels, but got 2 channels instead"),
    ("F.conv3d(t(X5), t(_r(2, 3, 5, 2, 2)))", RuntimeError,
     "Calculated padded input size per channel: (4 x 6 x 7). Kernel size: (5 x 2 x 2). Kernel "
     "size can't be greater than actual input size"),
    ("F.conv_transpose3d(t(_r(1, 2, 2, 1, 2)), t(_r(2, 1, 2, 2, 2)), stride=2, padding=(2, 1, 0))",
     RuntimeError, "Given input size per channel: (2 x 1 x 2). Calculated output size per "
     "channel: (0 x 0 x 4). Output size is too small"),
    ("F.max_pool1d(t(X4[0]), 3, 1, 2, 2, return_indices=True)", RuntimeError,
     "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 0, "
     "kW = 3, kH = 1"),
    ("F.fractional_max_pool3d(t(_r(3, 3, 1, 1)), (1, 4, 2), (1, 4, 1))", RuntimeError,
     "fractional_max_pool3d_out(): pool width 2 too large relative to input width 1"),
    ("F.conv_tbc(t(_r(5, 2)), t(_r(2, 3, 4)), t(_r(4)))", RuntimeError,
     "Input must have 3 dims: time, batch, in_channel"),
    ("F.conv_tbc(t(_r(5, 2, 3)), t(_r(2, 3)), t(_r(4)))", RuntimeError,
     "Weight tensor must have 3 dims: kernel_width, in_channels, out_channels."),
    ("F.conv_tbc(t(_r(5, 2, 3)), t(_r(2, 2, 4)), t(_r(4)))", RuntimeError,
     "Input dim 2 (input channels) is not == dim 1 in the weight tensor"),
    ("F.conv_tbc(t(_r(5, 2, 3)), t(_r(2, 3, 4)), t(_r(3)))", RuntimeError,
     "Bias size must equal dim 2 in the weight tensor (output channels)."),
    ("F.max_pool3d(t(X5), 2, padding=2)", RuntimeError,
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and "
     "dilation=1"),
    ("F.max_pool3d(t(X5), (3, 4, 1), 1, (2, 0, 0), 2)", RuntimeError,
     "pad should be smaller than or equal to half of kernel size, but got kT: 3 kW: 1 kH: 4 "
     "padT: 2 padW: 0 padH: 0"),
    ("F.max_pool2d(t(X4), (3, 3), 1, (2, 0), 2)", RuntimeError,
     "pad should be smaller than or equal to half of kernel size, but got padW = 0, padH = 2, "
     "kW = 3, kH = 3"),
    ("F.max_pool1d(t(X4[0]), 3, 1, 2, 2)", RuntimeError,
     "max_pool1d() padding should be at most half of kernel size, but got padding=2 and "
     "kernel_size=3"),
    ("F.max_pool3d(t(X5), 7)", RuntimeError,
     "Given input size: (3x4x6x7). Calculated output size: (3x0x0x1). Output size is too small"),
    ("F.max_pool3d(t(_r(3, 4, 5)), 2)", RuntimeError,
     "non-empty 4D or 5D (batch mode) tensor expected for input"),
    ("F.avg_pool3d(t(X5), 5)", RuntimeError,
     "input image (T: 4 H: 6 W: 7) smaller than kernel size (kT: 5 kH: 5 kW: 5)"),
    ("F.avg_pool3d(t(X5), 5, stride=1, padding=2)", RuntimeError,
     "input image (T: 4 H: 6 W: 7) smaller than kernel size (kT: 5 kH: 5 kW: 5)"),
    ("F.avg_pool3d(t(X5).half(), 2)", NotImplementedError,
     "\"avg_pool3d_out_frame\" not implemented for 'Half'"),
    ("F.adaptive_avg_pool3d(t(X5), (2, 3))", RuntimeError,
     "adaptive_avg_pool3d: output_size must be 3"),
    ("F.adaptive_max_pool1d(t(_r(2, 3, 3, 7)), 3)", RuntimeError,
     "Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 'self' (while "
     "checking arguments for adaptive_max_pool1d)"),
    ("F.adaptive_max_pool1d(t(_r(2, 3, 4)), (2, 3))", RuntimeError,
     "adaptive_max_pool1d() argument 'output_size' should contain one int (got 2)"),
    ("F.adaptive_max_pool2d(t(_r(3, 7)), 3)", RuntimeError,
     "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: [3, 7]"),
    ("F.adaptive_max_pool3d(t(_r(2, 3, 4, 5, 0)), 2)", RuntimeError,
     "adaptive_max_pool3d(): Expected input to have non-zero size for non-batch dimensions, but "
     "input has sizes [2, 3, 4, 5, 0] with dimension 4 being empty"),
    ("F.adaptive_max_pool2d(t(X4).long(), 2)", NotImplementedError,
     "\"adaptive_max_pool2d\" not implemented for 'Long'"),
    ("F.max_unpool2d(t(Y4), t(I4), 2, output_size=(9, 7))", ValueError,
     'invalid output_size "(9, 7)" (dim 0 must be between 4 and 8)'),
    ("F.max_unpool2d(t(Y4), t(I4), 2, output_size=(1, 2, 3))", ValueError,
     "output_size should be a sequence containing 2 or 4 elements, but it has a length of '3'"),
    ("F.max_unpool2d(t(Y4), t(I4).int(), 2)", RuntimeError,
     "elements in indices should be type int64 but got: Int"),
    ("F.max_unpool3d(t(Y5), t(I5).int(), 2)", RuntimeError,
     "elements in indices should be type int64"),
    ("F.max_unpool2d(t(Y4), t(I4)[:, :2], 2)", RuntimeError,
     "Expected shape of indices to be same as that of the input tensor ([2, 3, 3, 3]) but got "
     "indices tensor with shape: [2, 2, 3, 3]"),
    ("F.max_unpool2d(t(Y4)[0, 0], t(I4)[0, 0], 2)", RuntimeError,
     "Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with 2 dimensions."),
    ("F.max_unpool3d(t(Y5)[0, 0], t(I5)[0, 0], 2)", RuntimeError,
     "Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with 3 dimensions."),
    ("F.max_unpool2d(t(Y4), t(I4) + 100, 2)", RuntimeError,
     "Found an invalid max index: "),
    ("F.max_unpool1d(t(Y4)[0, 0], t(I4)[0, 0] + 50, 2)", RuntimeError,
     "Found an invalid max index: "),
    ("F.max_unpool3d(t(Y5), t(I5) + 1000, 2)", RuntimeError,
     "Found an invalid max index: "),
    ("F.max_unpool2d(t(Y4).long(), t(I4), 2)", NotImplementedError,
     "\"max_unpool2d\" not implemented for 'Long'"),
    ("F.fractional_max_pool2d(t(X4), 2)", ValueError,
     "fractional_max_pool2d requires specifying either an output_size or an output_ratio"),
    ("F.fractional_max_pool2d(t(_r(2, 2, 0, 5)), 2, 3)", RuntimeError,
     "fractional_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, "
     "but got[2, 2, 0, 5] with dimension 2 being empty."),
    ("F.fractional_max_pool3d(t(_r(2, 2, 2, 2, 5, 5)), 2, 3)", RuntimeError,
     "fractional_max_pool3d_out(): Expected 4D or 5D tensor, but got: [2, 2, 2, 2, 5, 5]"),
    ("F.fractional_max_pool2d(t(X4), 6, output_size=3)", RuntimeError,
     "fractional_max_pool2d(): pool height 6 too large relative to input height 6"),
    ("F.fractional_max_pool2d(t(X4), (2, 6), output_size=3)", RuntimeError,
     "fractional_max_pool2d(): pool width 6 too large relative to input width 7"),
    ("F.fractional_max_pool3d(t(X5), 2, output_size=3)", RuntimeError,
     "fractional_max_pool3d_out(): pool time 2 too large relative to input time 4"),
    ("F.fractional_max_pool2d(t(X4), 2, 3, _random_samples=t(RNG.random((2, 3, 3))))",
     RuntimeError, "Expect _random_samples.size(2) equals to 2; got 3."),
    ("F.fractional_max_pool2d(t(X4), 2, 3, _random_samples=t(RNG.random((1, 3, 2))))",
     RuntimeError, "Expect _random_samples.size(0) no less then input batch size."),
    ("F.fractional_max_pool2d(t(X4), 2, 3, _random_samples=t(RNG.random((2, 3, 2))).float())",
     RuntimeError, "Expect _random_samples to have the same dtype as input"),
    ("F.unfold(t(X4), 8)", RuntimeError,
     "Given input with spatial size (6, 7), kernel_size=(8, 8), dilation=(1, 1), padding=(0, 0), "
     "calculated shape of the array of sliding blocks as (-1, 0), but its components must be at "
     "least one."),
    ("F.unfold(t(X5), 2)", RuntimeError,
     "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
     "dimensions for input, but got: [2, 3, 4, 6, 7]"),
    ("F.unfold(t(X4), 0)", RuntimeError,
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"),
    ("F.unfold(t(X4), 2, padding=-1)", RuntimeError,
     "padding should be non-negative, but got pad_height: -1 pad_width: -1"),
    ("F.unfold(t(X4).long(), 2)", NotImplementedError,
     "\"im2col_out_cpu\" not implemented for 'Long'"),
    ("F.fold(t(_r(2, 12, 30)), (6, 8), 2)", RuntimeError,
     "Given output_size=(6, 8), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), "
     "stride=(1, 1), expected size of input's dimension 2 to match the calculated number of "
     "sliding blocks 5 * 7 = 35, but got input.size(2)=30."),
    ("F.fold(t(_r(2, 11, 30)), (6, 7), 2)", RuntimeError,
     "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
     "got input.size(1)=11 and kernel_size=(2, 2)."),
]


def _raise(expr, m):
    env = dict(F=m.nn.functional, t=lambda a: m.tensor(a), _r=_r, RNG=np.random.default_rng(0),
               X4=X4, X5=X5, Y4=Y4, I4=I4, Y5=Y5, I5=I5)
    with pytest.raises(Exception) as info:
        eval(expr, env)
    return info.value


@pytest.mark.parametrize("expr, kind, message", ERRORS)
def test_errors(expr, kind, message):
    err = _raise(expr, cr)
    assert type(err) is kind
    assert str(err).startswith(message), str(err)
    if message == "Found an invalid max index: ":      # torch reports whichever it meets first
        size = {"max_unpool2d": "6x6", "max_unpool1d": "6x1", "max_unpool3d": "4x6x6"}
        assert str(err).endswith(f"(output volumes are of size {size[expr[2:14]]})")
    if torch is not None:
        ref = _raise(expr, torch)
        assert type(ref) is kind and str(ref).startswith(message), str(ref)


def test_assert_int_or_pair_passes_ints_and_pairs_and_raises_the_formatted_message():
    F.assert_int_or_pair(3, "stride", "{} must be int or pair")
    F.assert_int_or_pair([1, 2], "stride", "{} must be int or pair")
    with pytest.raises(AssertionError, match="^stride must be int or pair$"):
        F.assert_int_or_pair((1, 2, 3), "stride", "{} must be int or pair")
