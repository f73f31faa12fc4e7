"""Convolution and pooling: chainrule.nn.functional.conv and the Conv/Pool modules.

Without torch: forward values against the naive loops of ``references_conv.py``, gradients and
second derivatives against central differences (float64), errors, module reprs and
initialisation.  With torch (skipped otherwise): the same programs on torch, comparing forward
values and the gradients of input, weight and bias, over a grid of stride, padding, dilation and
groups, odd sizes, unbatched inputs, ties and NaNs in pooling, modules' state_dicts and reprs.
"""
import doctest
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck, gradgradcheck

from references_conv import avg_pool, conv, conv_transpose, max_pool


def _t(a, dtype=cr.float64, grad=True):
    return cr.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


def _rand(rng, *shape):
    return rng.standard_normal(shape)


# =========================================================================================
# The grid: (function, input shape, weight shape, bias?, keyword arguments)
# =========================================================================================

CONV_GRID = [
    ("conv2d", (2, 3, 6, 5), (4, 3, 3, 2), True, {}),
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), True, dict(stride=2, padding=1)),
    ("conv2d", (1, 4, 9, 8), (6, 2, 3, 2), False,
     dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1), groups=2)),
    ("conv2d", (2, 6, 5, 7), (6, 1, 2, 3), True, dict(groups=6, padding=(1, 0))),  # depthwise
    ("conv2d", (1, 4, 9, 8), (6, 4, 2, 3), False, dict(padding="same", dilation=2)),
    ("conv2d", (1, 2, 5, 6), (3, 2, 2, 2), True, dict(padding="valid", stride=(1, 2))),
    ("conv2d", (3, 5, 4), (2, 3, 3, 1), True, dict(padding=1)),                     # unbatched
    ("conv2d", (2, 1, 4, 4), (3, 1, 4, 4), True, {}),                 # kernel = input: 1×1
    ("conv1d", (2, 4, 13), (6, 4, 3), True, dict(stride=3, padding=2, dilation=2)),
    ("conv1d", (3, 11), (4, 3, 4), True, dict(padding="same")),                      # unbatched
    ("conv1d", (2, 4, 7), (4, 2, 1), False, dict(groups=2, stride=2)),
    ("conv_transpose2d", (2, 3, 4, 3), (3, 5, 3, 2), True,
     dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (1, 4, 3, 3), (4, 1, 2, 3), False,
     dict(stride=(3, 2), groups=2, dilation=(1, 2), output_padding=(2, 1))),
    ("conv_transpose2d", (2, 3, 3), (2, 2, 3, 3), True, dict(padding=1)),           # unbatched
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), True,
     dict(stride=3, padding=2, groups=2, dilation=2, output_padding=1)),
    # rows of 16 or more: the transposed convolution's other memory layout (see conv.py)
    ("conv2d", (1, 2, 4, 19), (3, 2, 2, 3), True, dict(padding=(0, 1))),
    ("conv_transpose1d", (2, 2, 17), (2, 3, 3), True, dict(stride=2, padding=1, groups=2)),
]
CONV_IDS = [f"{f}-{list(x)}-{list(w)}-{kw}" for f, x, w, _, kw in CONV_GRID]


def _conv_args(case, seed=0):
    fn, xs, ws, has_bias, kw = case
    rng = np.random.default_rng(seed)
    out_ch = ws[1] * kw.get("groups", 1) if "transpose" in fn else ws[0]
    arrays = [_rand(rng, *xs), _rand(rng, *ws)] + ([_rand(rng, out_ch)] if has_bias else [])
    return fn, arrays, kw


def _reference_conv(fn, arrays, kw):
    """The naive reference for one grid case (pads as (lo, hi) pairs, batch added back)."""
    nd = 1 if fn.endswith("1d") else 2
    x, w = arrays[0], arrays[1]
    b = arrays[2] if len(arrays) > 2 else None
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]

    def tup(v, default):
        v = kw.get(v, default)
        return tuple(v) if isinstance(v, tuple) else (v,) * nd
    stride, dil, groups = tup("stride", 1), tup("dilation", 1), kw.get("groups", 1)
    pad = kw.get("padding", 0)
    if "transpose" in fn:
        pad, opad = tup("padding", 0), tup("output_padding", 0)
        out = conv_transpose(x, w, b, stride, tuple((p, p - o) for p, o in zip(pad, opad)),
                             dil, groups)
    else:
        if pad == "same":
            tot = [d * (k - 1) for d, k in zip(dil, w.shape[2:])]
            pads = tuple((t // 2, t - t // 2) for t in tot)
        elif pad == "valid":
            pads = ((0, 0),) * nd
        else:
            pads = tuple((p, p) for p in tup("padding", 0))
        out = conv(x, w, b, stride, pads, dil, groups)
    return out[0] if unbatched else out


@pytest.mark.parametrize("case", CONV_GRID, ids=CONV_IDS)
def test_conv_forward_matches_naive_loops(case):
    fn, arrays, kw = _conv_args(case)
    got = getattr(F, fn)(*[_t(a, grad=False) for a in arrays], **kw)
    np.testing.assert_allclose(got.numpy(), _reference_conv(fn, arrays, kw), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("case", CONV_GRID, ids=CONV_IDS)
def test_conv_gradients_match_central_differences(case):
    fn, arrays, kw = _conv_args(case)
    inputs = tuple(_t(a) for a in arrays)
    assert gradcheck(lambda *a: getattr(F, fn)(*a, **kw), inputs)


@pytest.mark.parametrize("case", CONV_GRID[1:4] + CONV_GRID[8:10] + CONV_GRID[11:13],
                         ids=CONV_IDS[1:4] + CONV_IDS[8:10] + CONV_IDS[11:13])
def test_conv_second_derivatives_match_central_differences(case):
    fn, arrays, kw = _conv_args(case)
    inputs = tuple(_t(a) for a in arrays)
    assert gradgradcheck(lambda *a: getattr(F, fn)(*a, **kw), inputs, fast_mode=True)


def test_conv_third_derivative():
    """Every derivative of a convolution is a convolution: differentiate three times."""
    rng = np.random.default_rng(3)
    x, w = _t(_rand(rng, 1, 2, 5, 4)), _t(_rand(rng, 3, 2, 2, 2))

    def f(x, w):
        y = F.conv2d(x, w, stride=2, padding=1)
        gx, gw = cr.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        return (gx * gx).sum() + (gw * gw).sum()
    assert gradgradcheck(f, (x, w), fast_mode=True)


def test_conv_float32_and_grad_dtypes():
    rng = np.random.default_rng(0)
    x = _t(_rand(rng, 2, 3, 6, 6), cr.float32)
    w = _t(_rand(rng, 4, 3, 3, 3), cr.float32)
    b = _t(_rand(rng, 4), cr.float32)
    out = F.conv2d(x, w, b, padding=1)
    assert out.dtype == cr.float32 and out.grad_fn.name() == "ConvolutionBackward0"
    out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == cr.float32
    np.testing.assert_allclose(out.detach().numpy(),
                               conv(x.detach().numpy().astype(np.float64),
                                    w.detach().numpy().astype(np.float64),
                                    b.detach().numpy().astype(np.float64), (1, 1),
                                    ((1, 1), (1, 1)), (1, 1), 1), rtol=1e-5, atol=1e-5)


def test_conv_integer_forward():
    x = cr.arange(16).reshape(1, 1, 4, 4)
    out = F.conv2d(x, cr.ones(1, 1, 2, 2, dtype=cr.int64))
    assert out.dtype == cr.int64
    np.testing.assert_array_equal(out.numpy(), conv(x.numpy(), np.ones((1, 1, 2, 2), np.int64)))


def test_grad_fn_names():
    x = cr.randn(2, 3, 6, 6, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv2d(x[0], w).grad_fn.name() == "SqueezeBackward1"
    assert F.conv_transpose2d(x, w.transpose(0, 1)).grad_fn.name() == "ConvolutionBackward0"
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert F.max_pool1d(x[0], 2).grad_fn.name() == "SqueezeBackward1"
    assert F.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"
    assert F.adaptive_avg_pool2d(x, 3).grad_fn.name() == "AdaptiveAvgPool2DBackward0"
    assert F.adaptive_avg_pool2d(x, 4).grad_fn.name() == "AdaptiveAvgPool2DBackward0"


def test_explain_describes_convolution():
    x = cr.randn(1, 1, 4, 4, requires_grad=True)
    w = cr.randn(2, 1, 3, 3, requires_grad=True)
    h = F.conv2d(x, w, padding=1)
    text = str(cr.explain(F.avg_pool2d(h, 2).sum()))
    assert "convolution(x, w" in text and "conv_transpose(g, w)" in text
    assert "avg_pool2d(h" in text and "✓" in text and "✗" not in text


# =========================================================================================
# Pooling
# =========================================================================================

MAX_GRID = [
    ((2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2),
                        ceil_mode=True)),
    ((1, 2, 8, 8), dict(kernel_size=2)),
    ((3, 5, 5), dict(kernel_size=2, stride=1)),                                    # unbatched
    ((1, 1, 5, 7), dict(kernel_size=3, stride=3, ceil_mode=True)),
    ((2, 1, 6, 6), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2), dilation=(2, 1))),
]


def _tied(rng, shape):
    """Small integers: most windows hold ties."""
    return rng.integers(0, 3, shape).astype(np.float64)


@pytest.mark.parametrize("shape,kw", MAX_GRID)
def test_max_pool2d_matches_naive_loops_with_ties(shape, kw):
    a = _tied(np.random.default_rng(1), shape)
    k = kw["kernel_size"]
    k = k if isinstance(k, tuple) else (k, k)

    def tup(name, default):
        v = kw.get(name, default)
        return v if isinstance(v, tuple) else (v, v)
    want, want_idx = max_pool(a, k, tup("stride", k), tup("padding", 0), tup("dilation", 1),
                              kw.get("ceil_mode", False))
    x = _t(a)
    out, idx = F.max_pool2d(x, **kw, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    assert idx.dtype == cr.int64
    # the gradient goes to the chosen element only, and adds up where windows share it
    g = np.random.default_rng(2).uniform(0.5, 1.5, out.shape)
    (out * _t(g, grad=False)).sum().backward()
    expected = np.zeros(a.reshape((-1,) + a.shape[-2:]).shape)
    planes = expected.reshape(expected.shape[0], -1)
    for p, (gi, ii) in enumerate(zip(g.reshape(planes.shape[0], -1),
                                     want_idx.reshape(planes.shape[0], -1))):
        np.add.at(planes[p], ii, gi)
    np.testing.assert_allclose(x.grad.numpy(), expected.reshape(a.shape))


def test_max_pool_nan_and_inf():
    a = np.array([[[[1., np.nan, 3., np.nan], [-np.inf, -np.inf, 2., 5.],
                    [-np.inf, -np.inf, 0., 0.], [-np.inf, -np.inf, 0., 0.]]]])
    want, want_idx = max_pool(a, (2, 2), (2, 2), (1, 1), (1, 1))
    out, idx = F.max_pool2d(_t(a), 2, padding=1, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    out, idx = F.max_pool2d(_t(a[..., 1:, :2]), 2, padding=1, return_indices=True)
    assert out.detach().numpy()[0, 0, 0, 0] == -np.inf and idx.numpy()[0, 0, 0, 0] == 0


def test_max_pool_gradients_and_second_derivatives():
    rng = np.random.default_rng(4)
    x = _t(rng.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) / 10.0)   # no ties: FD is valid
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, 3, 2, 1) ** 2, (x,), fast_mode=True)
    x1 = _t(rng.permutation(2 * 3 * 9).reshape(2, 3, 9) / 10.0)
    assert gradcheck(lambda x: F.max_pool1d(x, 3, 2, 1), (x1,))


def test_max_pool1d_matches_2d():
    a = _tied(np.random.default_rng(5), (2, 3, 9))
    out, idx = F.max_pool1d(_t(a), 3, 2, 1, return_indices=True)
    want, want_idx = max_pool(a, (3,), (2,), (1,), (1,))
    np.testing.assert_array_equal(out.detach().numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)


@pytest.mark.filterwarnings("ignore:vmap")      # the winners are found once per example
def test_max_pooling_under_vmap_gives_each_examples_result():
    """vmap's examples have no values of their own: max pooling's winners, found by an op
    without a gradient, run per example (they were once read from the stand-in's empty array)."""
    x = _t(_tied(np.random.default_rng(6), (3, 2, 7, 6)))
    for pool in (lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True),
                 lambda t: F.max_pool1d(t[0], 2, return_indices=True),
                 lambda t: F.adaptive_max_pool2d(t, (3, 2), return_indices=True)):
        got = cr.func.vmap(pool)(x)
        want = [pool(x[i]) for i in range(3)]
        for k in range(2):
            np.testing.assert_array_equal(got[k].detach().numpy(),
                                          np.stack([w[k].detach().numpy() for w in want]))


AVG_GRID = [
    ((2, 3, 4, 5), dict(kernel_size=2)),
    ((1, 2, 6, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ((1, 2, 6, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 5, 6), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True)),
    ((1, 1, 4, 5), dict(kernel_size=2, divisor_override=3)),
    ((1, 1, 7, 7), dict(kernel_size=(4, 2), stride=(3, 3), padding=(2, 1),
                        count_include_pad=False)),
]


@pytest.mark.parametrize("shape,kw", AVG_GRID)
def test_avg_pool2d_matches_naive_loops_and_differences(shape, kw):
    a = np.random.default_rng(6).standard_normal(shape)
    k = kw["kernel_size"]
    k = k if isinstance(k, tuple) else (k, k)

    def tup(name, default):
        v = kw.get(name, default)
        return v if isinstance(v, tuple) else (v, v)
    want = avg_pool(a, k, tup("stride", k), tup("padding", 0), kw.get("ceil_mode", False),
                    kw.get("count_include_pad", True), kw.get("divisor_override"))
    np.testing.assert_allclose(F.avg_pool2d(_t(a), **kw).detach().numpy(), want, rtol=1e-12)
    assert gradcheck(lambda x: F.avg_pool2d(x, **kw), (_t(a),))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, **kw) ** 2, (_t(a),), fast_mode=True)


def test_avg_pool1d_and_integer_avg_pool():
    a = np.random.default_rng(7).standard_normal((2, 3, 8))
    np.testing.assert_allclose(F.avg_pool1d(_t(a), 3, 2, 1).detach().numpy(),
                               avg_pool(a, (3,), (2,), (1,)), rtol=1e-12)
    ints = cr.arange(20).reshape(1, 1, 4, 5)
    out = F.avg_pool2d(ints, 3, 2, 1)
    assert out.dtype == cr.int64
    np.testing.assert_array_equal(out.numpy(),
                                  np.trunc(avg_pool(ints.numpy().astype(float), (3, 3), (2, 2),
                                                    (1, 1))).astype(np.int64))


def _adaptive_reference(a, out):
    h, w = a.shape[-2:]
    res = np.zeros(a.shape[:-2] + out)
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = (i * h) // out[0], -(-((i + 1) * h) // out[0])
            c0, c1 = (j * w) // out[1], -(-((j + 1) * w) // out[1])
            res[..., i, j] = a[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return res


@pytest.mark.parametrize("shape,size", [((2, 3, 8, 7), (3, 5)), ((2, 3, 8, 7), (4, 7)),
                                        ((2, 3, 8, 7), 1), ((3, 5, 6), (2, None)),
                                        ((1, 2, 5, 5), (7, 7))])
def test_adaptive_avg_pool2d(shape, size):
    a = np.random.default_rng(8).standard_normal(shape)
    full = size if isinstance(size, tuple) else (size, size)
    full = tuple(shape[-2 + i] if s is None else s for i, s in enumerate(full))
    x = _t(a)
    out = F.adaptive_avg_pool2d(x, size)
    np.testing.assert_allclose(out.detach().numpy(), _adaptive_reference(a, full), rtol=1e-12)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, size), (x,))


def test_adaptive_avg_pool1d():
    a = np.random.default_rng(9).standard_normal((2, 3, 7))
    out = F.adaptive_avg_pool1d(_t(a), 3)
    np.testing.assert_allclose(out.detach().numpy(), _adaptive_reference(a[:, :, None], (1, 3))
                               [:, :, 0], rtol=1e-12)


# =========================================================================================
# Errors
# =========================================================================================

def _raises(exc, *parts):
    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *e):
            done = self.ctx.__exit__(*e)
            for p in parts:
                assert p in str(self.info.value), f"{p!r} not in {str(self.info.value)!r}"
            return done
    return Check()


def test_conv_errors():
    x = cr.randn(2, 3, 8, 8)
    w = cr.randn(4, 3, 3, 3)
    with _raises(RuntimeError, "expected input[2, 2, 8, 8] to have 3 channels, but got 2",
                 "out_channels, in_channels / groups"):
        F.conv2d(x[:, :2], w)
    with _raises(RuntimeError, "Calculated padded input size per channel: (2 x 2). Kernel "
                 "size: (3 x 3). Kernel size can't be greater than actual input size"):
        F.conv2d(x[:, :, :2, :2], w)
    with _raises(RuntimeError, "Calculated padded input size per channel: (3 x 3). Kernel "
                 "size: (5 x 5)"):
        F.conv2d(x[:, :, :3, :3], w, dilation=2)
    with _raises(RuntimeError, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but "
                 "got input of size: [8, 8]"):
        F.conv2d(x[0, 0], w)
    with _raises(RuntimeError, "Given groups=2, weight of size [4, 3, 3, 3], expected "
                 "input[2, 3, 8, 8] to have 6 channels"):
        F.conv2d(x, w, groups=2)
    with _raises(RuntimeError, "expected bias to be 1-dimensional with 4 elements"):
        F.conv2d(x, w, cr.zeros(3))
    with _raises(RuntimeError, "expected scalar type Double but found Float"):
        F.conv2d(x.double(), w)
    with _raises(RuntimeError, "Input type (float) and bias type (double) should be the same"):
        F.conv2d(x, w, cr.zeros(4, dtype=cr.float64))
    with _raises(RuntimeError, "non-positive stride is not supported"):
        F.conv2d(x, w, stride=0)
    with _raises(RuntimeError, "negative padding is not supported"):
        F.conv2d(x, w, padding=-1)
    with _raises(RuntimeError, "padding='same' is not supported for strided convolutions"):
        F.conv2d(x, w, padding="same", stride=2)
    with _raises(RuntimeError, "Invalid padding string: 'foo'"):
        F.conv2d(x, w, padding="foo")
    with _raises(RuntimeError, "a list of 2 values to match the convolution dimensions, but "
                 "got stride=[1, 2, 3]"):
        F.conv2d(x, w, stride=(1, 2, 3))
    with _raises(TypeError, "argument 'weight' must be a Tensor"):
        F.conv2d(x, np.ones((4, 3, 3, 3)))
    with _raises(RuntimeError, "output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(x, w.transpose(0, 1), output_padding=1)
    with _raises(RuntimeError, "Given transposed=1, weight of size [3, 4, 3, 3], expected "
                 "input[2, 4, 8, 8] to have 3 channels, but got 4"):
        F.conv_transpose2d(cr.randn(2, 4, 8, 8), w.transpose(0, 1))


def test_pool_errors():
    x = cr.randn(2, 3, 8, 8)
    with _raises(RuntimeError, "pad should be at most half of effective kernel size, but got "
                 "pad=2, kernel_size=3 and dilation=1"):
        F.max_pool2d(x, 3, padding=2)
    with _raises(RuntimeError, "pad should be at most half of effective kernel size"):
        F.avg_pool2d(x, 3, padding=2)
    with _raises(RuntimeError, "Given input size: (3x1x1). Calculated output size: (3x0x0). "
                 "Output size is too small"):
        F.max_pool2d(x[:, :, :1, :1], 2)
    with _raises(RuntimeError, "non-empty 3D or 4D (batch mode) tensor expected for input"):
        F.max_pool2d(x[0, 0], 2)
    with _raises(RuntimeError, "divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)


# =========================================================================================
# Modules
# =========================================================================================

REPRS = [
    ("Conv2d(1, 16, 3)", "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))"),
    ("Conv2d(4, 8, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False, "
     "padding_mode='reflect')",
     "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
     "groups=2, bias=False, padding_mode=reflect)"),
    ("Conv2d(2, 2, 3, padding='same')",
     "Conv2d(2, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"),
    ("Conv1d(2, 4, 3, padding='valid')",
     "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=valid)"),
    ("ConvTranspose2d(2, 4, 3, stride=2, output_padding=1)",
     "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    ("ConvTranspose1d(2, 4, 3)", "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,))"),
    ("MaxPool2d(2)", "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
     "ceil_mode=False)"),
    ("MaxPool2d((2, 3), stride=1, padding=1, return_indices=True)",
     "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=1, ceil_mode=False)"),
    ("MaxPool1d(3)", "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, "
     "ceil_mode=False)"),
    ("AvgPool2d(3, 2, 1, ceil_mode=True)", "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    ("AvgPool1d(3)", "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    ("AdaptiveAvgPool2d((2, None))", "AdaptiveAvgPool2d(output_size=(2, None))"),
    ("AdaptiveAvgPool1d(4)", "AdaptiveAvgPool1d(output_size=4)"),
]


@pytest.mark.parametrize("expr,text", REPRS, ids=[e for e, _ in REPRS])
def test_module_repr_is_torchs(expr, text):
    assert repr(eval("nn." + expr)) == text


def test_conv_module_parameters_and_init():
    cr.manual_seed(0)
    conv2 = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert [(k, tuple(v.shape)) for k, v in conv2.state_dict().items()] == \
        [("weight", (8, 3, 3, 5)), ("bias", (8,))]
    bound = 1 / math.sqrt(3 * 3 * 5)
    for p in conv2.parameters():
        a = p.detach().numpy()
        assert np.all(np.abs(a) <= bound) and np.abs(a).max() > 0.5 * bound
    up = nn.ConvTranspose2d(4, 6, 2, groups=2, bias=False)
    assert list(up.state_dict()) == ["weight"] and tuple(up.weight.shape) == (4, 3, 2, 2)
    assert nn.Conv1d(2, 3, 4, dtype=cr.float64).weight.dtype == cr.float64
    out = conv2(cr.randn(2, 6, 7, 9))
    assert tuple(out.shape) == (2, 8, 5, 5)
    out.sum().backward()
    assert tuple(conv2.weight.grad.shape) == (8, 3, 3, 5)


def test_conv_module_errors():
    with _raises(ValueError, "in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with _raises(ValueError, "out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with _raises(ValueError, "groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with _raises(ValueError, "padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with _raises(ValueError, "Invalid padding string 'full'"):
        nn.Conv2d(4, 4, 3, padding="full")
    with _raises(ValueError, "padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with _raises(ValueError, 'Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    with _raises(ValueError, "requested an output size of [9, 9], but valid sizes range from "
                 "7 to 8"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)(cr.randn(1, 2, 4, 4), output_size=(9, 9))


@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                          ("circular", "wrap")])
def test_padding_modes(mode, np_mode):
    rng = np.random.default_rng(10)
    m = nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode=mode, dtype=cr.float64)
    a = rng.standard_normal((2, 2, 5, 4))
    padded = np.pad(a, [(0, 0), (0, 0), (2, 2), (1, 1)], mode=np_mode)
    want = conv(padded, m.weight.detach().numpy(), m.bias.detach().numpy())
    x = _t(a)
    np.testing.assert_allclose(m(x).detach().numpy(), want, rtol=1e-12)
    assert gradcheck(lambda x: m(x), (x,), fast_mode=True)


def test_conv_transpose_output_size():
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = cr.randn(1, 2, 4, 4)
    assert tuple(up(x).shape) == (1, 3, 7, 7)
    assert tuple(up(x, output_size=[8, 8]).shape) == (1, 3, 8, 8)
    assert tuple(up(x, output_size=(1, 3, 8, 7)).shape) == (1, 3, 8, 7)


def test_cnn_trains_end_to_end():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2),
                          nn.Conv2d(4, 4, 3), nn.AdaptiveAvgPool2d(1))
    x = cr.randn(8, 1, 8, 8)
    target = cr.randn(8, 4, 1, 1)
    params = list(model.parameters())
    losses = []
    for _ in range(30):
        loss = ((model(x) - target) ** 2).mean()
        grads = cr.autograd.grad(loss, params)
        with cr.no_grad():
            for p, g in zip(params, grads):
                p -= 0.1 * g
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0] and all(math.isfinite(v) for v in losses)


def test_benchmark_case_runs():
    """The case the benchmark times: Conv2d(1, 16, 3) on 64 images of 8×8, forward+backward."""
    conv2 = nn.Conv2d(1, 16, 3)
    x = cr.randn(64, 1, 8, 8, requires_grad=True)
    conv2(x).sum().backward()
    assert tuple(conv2.weight.grad.shape) == (16, 1, 3, 3) and tuple(x.grad.shape) == (64, 1, 8, 8)


def test_docstring_examples():
    from chainrule.nn.functional import conv as fconv
    from chainrule.nn.modules import conv as mconv, pooling
    for mod in (fconv, mconv, pooling):
        result = doctest.testmod(mod, extraglobs={"chainrule": cr})
        assert result.attempted > 0 and result.failed == 0, mod.__name__


# =========================================================================================
# Against PyTorch (skipped without it)
# =========================================================================================

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _compare_with_torch(torch, fn_cr, fn_t, arrays, dtype, grads=True, seed=0):
    """Forward values and the gradients of every float input, chainrule against torch."""
    crd, td = (cr.float32, torch.float32) if dtype == "float32" else (cr.float64, torch.float64)
    xc = [cr.tensor(a, dtype=crd, requires_grad=grads) for a in arrays]
    xt = [torch.tensor(a, dtype=td, requires_grad=grads) for a in arrays]
    oc, ot = fn_cr(*xc), fn_t(*xt)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), **tol)
    assert oc.grad_fn.name() == ot.grad_fn.name()
    if not grads:
        return
    w = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(ot.shape))
    gc = cr.autograd.grad((oc * cr.tensor(w, dtype=crd)).sum(), xc)
    gt = torch.autograd.grad((ot * torch.tensor(w, dtype=td)).sum(), xt)
    for i, (a, b) in enumerate(zip(gc, gt)):
        assert a.dtype == crd
        np.testing.assert_allclose(a.numpy(), b.numpy(), err_msg=f"gradient of input {i}", **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CONV_GRID, ids=CONV_IDS)
def test_conv_matches_torch(torch, case, dtype):
    fn, arrays, kw = _conv_args(case, seed=11)
    tf = getattr(torch.nn.functional, fn)
    import warnings
    with warnings.catch_warnings():        # torch warns about 'same' with even kernels
        warnings.simplefilter("ignore")
        _compare_with_torch(torch, lambda *a: getattr(F, fn)(*a, **kw),
                            lambda *a: tf(*a, **kw), arrays, dtype)


def test_conv_double_backward_matches_torch(torch):
    rng = np.random.default_rng(12)
    arrays = [_rand(rng, 2, 4, 7, 6), _rand(rng, 6, 2, 3, 2), _rand(rng, 6)]
    kw = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)

    def second(lib, fn, xs):
        y = fn(*xs, **kw)
        gs = lib.autograd.grad((y * y).sum(), xs, create_graph=True)
        return lib.autograd.grad(sum((g * g).sum() for g in gs), xs)
    xc = [_t(a) for a in arrays]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    for a, b in zip(second(cr, F.conv2d, xc), second(torch, torch.nn.functional.conv2d, xt)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape,kw", MAX_GRID)
def test_max_pool2d_matches_torch_with_ties(torch, shape, kw):
    a = _tied(np.random.default_rng(13), shape)
    _compare_with_torch(torch, lambda x: F.max_pool2d(x, **kw),
                        lambda x: torch.nn.functional.max_pool2d(x, **kw), [a], "float64")
    _, ic = F.max_pool2d(_t(a), **kw, return_indices=True)
    _, it = torch.nn.functional.max_pool2d(torch.tensor(a), **kw, return_indices=True)
    np.testing.assert_array_equal(ic.numpy(), it.numpy())


def test_max_pool_nan_inf_and_1d_match_torch(torch):
    a = np.array([[[[1., np.nan, 3., np.nan], [-np.inf, -np.inf, 2., 5.],
                    [-np.inf, -np.inf, 0., 0.], [-np.inf, -np.inf, 0., 0.]]]])
    oc, ic = F.max_pool2d(_t(a), 2, padding=1, return_indices=True)
    ot, it = torch.nn.functional.max_pool2d(torch.tensor(a), 2, padding=1, return_indices=True)
    np.testing.assert_array_equal(oc.detach().numpy(), ot.numpy())
    np.testing.assert_array_equal(ic.numpy(), it.numpy())
    b = _tied(np.random.default_rng(14), (2, 3, 9))
    _compare_with_torch(torch, lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True),
                        lambda x: torch.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True),
                        [b], "float32")


@pytest.mark.parametrize("shape,kw", AVG_GRID)
def test_avg_pool2d_matches_torch(torch, shape, kw):
    a = np.random.default_rng(15).standard_normal(shape)
    for dtype in ("float32", "float64"):
        _compare_with_torch(torch, lambda x: F.avg_pool2d(x, **kw),
                            lambda x: torch.nn.functional.avg_pool2d(x, **kw), [a], dtype)


def test_avg_and_adaptive_1d_and_integers_match_torch(torch):
    a = np.random.default_rng(16).standard_normal((2, 3, 9))
    _compare_with_torch(torch, lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
                        lambda x: torch.nn.functional.avg_pool1d(x, 3, 2, 1,
                                                                 count_include_pad=False),
                        [a], "float64")
    _compare_with_torch(torch, lambda x: F.adaptive_avg_pool1d(x, 4),
                        lambda x: torch.nn.functional.adaptive_avg_pool1d(x, 4), [a], "float64")
    ints = np.arange(-10, 15).reshape(1, 1, 5, 5)
    np.testing.assert_array_equal(
        F.avg_pool2d(cr.tensor(ints), 2, 2, 1).numpy(),
        torch.nn.functional.avg_pool2d(torch.tensor(ints), 2, 2, 1).numpy())
    np.testing.assert_array_equal(
        F.max_pool2d(cr.tensor(ints), 2, 2, 1).numpy(),
        torch.nn.functional.max_pool2d(torch.tensor(ints), 2, 2, 1).numpy())


@pytest.mark.parametrize("shape,size", [((2, 3, 8, 7), (3, 5)), ((2, 3, 8, 7), (4, 7)),
                                        ((3, 5, 6), (2, None)), ((1, 2, 5, 5), (7, 7))])
def test_adaptive_avg_pool2d_matches_torch(torch, shape, size):
    a = np.random.default_rng(17).standard_normal(shape)
    _compare_with_torch(torch, lambda x: F.adaptive_avg_pool2d(x, size),
                        lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), [a],
                        "float64")


MODULES = ["Conv2d(3, 6, 3, stride=2, padding=1)", "Conv2d(3, 6, (2, 3), groups=3, bias=False)",
           "Conv2d(3, 4, 3, padding='same', dilation=2)",
           "Conv2d(3, 4, 3, padding=(2, 1), padding_mode='reflect')",
           "Conv2d(3, 4, 3, padding=1, padding_mode='replicate')",
           "Conv2d(3, 4, 3, padding=2, padding_mode='circular')",
           "Conv1d(3, 4, 3, stride=2, padding=1)",
           "ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)",
           "ConvTranspose1d(3, 4, 2, stride=2)",
           "MaxPool2d(3, 2, 1, ceil_mode=True)", "AvgPool2d(2)", "MaxPool1d(2)",
           "AvgPool1d(3, 2, 1)", "AdaptiveAvgPool2d((3, 2))", "AdaptiveAvgPool1d(2)"]


@pytest.mark.parametrize("expr", MODULES)
def test_module_matches_torch(torch, expr):
    tm = eval("torch.nn." + expr).double()
    cm = eval("nn." + expr)
    assert repr(cm) == repr(tm)
    want = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in cm.state_dict().items()} == want
    assert list(cm.state_dict()) == list(tm.state_dict())
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    cm.double()
    nd = 1 if "1d" in expr else 2
    a = np.random.default_rng(18).standard_normal((2, 3) + (7,) * nd)
    xc, xt = _t(a), torch.tensor(a, requires_grad=True)
    oc, ot = cm(xc), tm(xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_init_distribution_matches_torch(torch):
    """Same bounds as torch: the largest |value| over many draws approaches 1/√fan_in."""
    c, t = nn.Conv2d(8, 64, 5), torch.nn.Conv2d(8, 64, 5)
    for name in ("weight", "bias"):
        a = getattr(c, name).detach().numpy()
        b = getattr(t, name).detach().numpy()
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.05 * np.abs(b).max()
        assert abs(a.std() - b.std()) < 0.2 * b.std()


ERRORS = [
    "conv2d(x[:, :2], w)", "conv2d(x[:, :, :2, :2], w)", "conv2d(x[0, 0], w)",
    "conv2d(x, w, groups=2)", "conv2d(x, w, stride=0)", "conv2d(x, w, padding=-1)",
    "conv2d(x, w, padding='same', stride=2)", "conv2d(x, w, padding='foo')",
    "conv2d(x, w, stride=(1, 2, 3))", "conv2d(x.double(), w)", "conv2d(x, w, w[0, 0, 0])",
    "conv_transpose2d(x, w, output_padding=1)", "max_pool2d(x, 3, padding=2)",
    "max_pool2d(x[:, :, :1, :1], 2)", "avg_pool2d(x, 3, padding=2)", "max_pool2d(x[0, 0], 2)",
]


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_have_torchs_types(torch, expr):
    env_t = dict(x=torch.randn(2, 3, 8, 8), w=torch.randn(4, 3, 3, 3))
    with pytest.raises(Exception) as ref:
        eval("F." + expr, {"F": torch.nn.functional}, env_t)
    env_c = dict(x=cr.randn(2, 3, 8, 8), w=cr.randn(4, 3, 3, 3))
    with pytest.raises(type(ref.value)):
        eval("F." + expr, {"F": F}, env_c)
