"""Vision ops, instance/LRN norms, embedding_bag and the dropout family (issue #13).

Values and gradients go through ``oracle.check`` (torch when importable, float64 central
differences always) and, for interpolate and grid_sample, through loop-based NumPy references
written here from the formulas, so the value tests also run without torch.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import oracle
from oracle import check

try:
    import torch
except ImportError:                     # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch")
F = cr.nn.functional
RNG = np.random.default_rng(1313)


def _x(*shape):
    return RNG.standard_normal(shape)


# =========================================================================================
# NumPy references (loops, straight from the formulas)
# =========================================================================================

def _src_scale(n_in, n_out, align, scale):
    if align:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale else n_in / n_out


def _ref_axis(a, axis, n_out, mode, align, scale, shortcuts):
    """Resample ``a`` along ``axis`` to n_out (one output index at a time)."""
    a = np.moveaxis(a, axis, -1)
    n_in = a.shape[-1]
    out = np.zeros(a.shape[:-1] + (n_out,))
    r = _src_scale(n_in, n_out, align, scale)
    for i in range(n_out):
        if mode in ("nearest", "nearest-exact"):
            if shortcuts and mode == "nearest" and n_out in (n_in, 2 * n_in):
                j = i if n_out == n_in else i // 2
            else:
                s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
                off = 0.5 if mode == "nearest-exact" else 0.0
                j = min(int(math.floor(np.float32(i + off) * s)), n_in - 1)
            out[..., i] = a[..., j]
        elif mode == "area":
            lo, hi = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
            out[..., i] = a[..., lo:hi].mean(-1)
        else:
            src = r * i if align else r * (i + 0.5) - 0.5
            if mode == "bicubic":
                j0 = math.floor(src)
                t = src - j0
                A = -0.75
                w = [((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
                     ((A + 2) * t - (A + 3)) * t * t + 1,
                     ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1,
                     ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A]
                for k in range(4):
                    out[..., i] += w[k] * a[..., min(max(j0 - 1 + k, 0), n_in - 1)]
            elif n_out == n_in:
                out[..., i] = a[..., i]
            else:
                src = max(src, 0.0)
                j0 = min(int(math.floor(src)), n_in - 1)
                j1 = min(j0 + 1, n_in - 1)
                t = src - j0
                out[..., i] = (1 - t) * a[..., j0] + t * a[..., j1]
    return np.moveaxis(out, -1, axis)


def _ref_interpolate(a, size=None, scale_factor=None, mode="nearest", align_corners=None,
                     recompute_scale_factor=None):
    nd = a.ndim - 2
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * nd
        scales = [None] * nd
    else:
        scales = (list(scale_factor) if isinstance(scale_factor, (list, tuple))
                  else [scale_factor] * nd)
        sizes = [int(math.floor(n * s)) for n, s in zip(a.shape[2:], scales)]
        if recompute_scale_factor or mode == "area":
            scales = [None] * nd
    for k in range(nd):
        a = _ref_axis(a, 2 + k, sizes[k], mode, bool(align_corners), scales[k], nd == 2)
    return a


def _reflect(c, lo2, hi2):
    if lo2 == hi2:
        return 0.0
    lo, span = lo2 / 2, (hi2 - lo2) / 2
    d = abs(c - lo)
    extra = math.fmod(d, span)
    return extra + lo if math.floor(d / span) % 2 == 0 else span - extra + lo


def _ref_grid_sample(a, g, mode, padding_mode, align):
    """Bilinear or nearest, 4-d or 5-d, one sampling point at a time."""
    nd = a.ndim - 2
    sizes = a.shape[2:]
    out = np.zeros(a.shape[:2] + g.shape[1:-1])
    for n in range(a.shape[0]):
        for p in np.ndindex(g.shape[1:-1]):
            cs = []
            for k in range(nd):
                c, s = g[(n,) + p + (nd - 1 - k,)], sizes[k]
                c = (c + 1) / 2 * (s - 1) if align else ((c + 1) * s - 1) / 2
                if padding_mode == "reflection":
                    c = _reflect(c, 0, 2 * (s - 1)) if align else _reflect(c, -1, 2 * s - 1)
                if padding_mode in ("border", "reflection"):
                    c = min(max(c, 0), s - 1)
                cs.append(c)
            if mode == "nearest":
                corners = [([int(np.rint(c)) for c in cs], 1.0)]
            else:
                corners = []
                for bits in np.ndindex(*(2,) * nd):
                    idx = [math.floor(c) + b for c, b in zip(cs, bits)]
                    w = np.prod([(c - math.floor(c)) if b else 1 - (c - math.floor(c))
                                 for c, b in zip(cs, bits)])
                    corners.append((idx, w))
            for idx, w in corners:
                if all(0 <= i < s for i, s in zip(idx, sizes)):
                    out[(n, slice(None)) + p] += w * a[(n, slice(None)) + tuple(idx)]
    return out


# =========================================================================================
# interpolate
# =========================================================================================

MODES = [(1, "nearest"), (1, "nearest-exact"), (1, "linear"), (1, "area"),
         (2, "nearest"), (2, "nearest-exact"), (2, "bilinear"), (2, "bicubic"), (2, "area"),
         (3, "nearest"), (3, "nearest-exact"), (3, "trilinear"), (3, "area")]
SIZES = [dict(size=7), dict(size=2), dict(scale_factor=2), dict(scale_factor=1.7),
         dict(scale_factor=0.6), dict(scale_factor=1.1),
         dict(scale_factor=0.45, recompute_scale_factor=True)]


def _interp_kwargs(mode):
    if mode in ("nearest", "nearest-exact", "area"):
        return [None]
    return [False, True]


@pytest.mark.parametrize("nd,mode", MODES)
def test_interpolate_values(nd, mode):
    a = _x(*((2, 3) + (5, 4, 3)[:nd]))
    for ac in _interp_kwargs(mode):
        for kw in SIZES + [dict(size=tuple([3, 8, 1][:nd]))]:
            def prog(m, x):
                return m.nn.functional.interpolate(x, mode=mode, align_corners=ac, **kw)
            check(prog, a, grad=False,
                  ref=lambda v: _ref_interpolate(v, mode=mode, align_corners=ac, **kw))
            check(prog, a.astype(np.float32), grad=False, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("nd,mode", MODES)
def test_interpolate_gradients(nd, mode):
    a = _x(*((1, 2) + (4, 3, 2)[:nd]))
    for ac in _interp_kwargs(mode):
        for kw in (dict(scale_factor=1.5), dict(size=tuple([3, 2, 3][:nd]))):
            check(lambda m, x: m.nn.functional.interpolate(x, mode=mode, align_corners=ac, **kw),
                  a, second=True)


def test_interpolate_same_size_is_a_new_tensor():
    x = cr.ones(1, 1, 3, requires_grad=True)
    for mode in ("linear", "area", "nearest"):
        ac = False if mode == "linear" else None
        y = F.interpolate(x, size=3, mode=mode, align_corners=ac)
        assert y is not x
        np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())


def test_interpolate_dtypes_and_empty():
    for mode in ("nearest", "bilinear", "bicubic", "area", "nearest-exact"):
        ac = None if mode in ("nearest", "area", "nearest-exact") else False
        h = cr.tensor(_x(1, 2, 3, 3)).half()
        out = F.interpolate(h, size=(5, 4), mode=mode, align_corners=ac)
        assert out.dtype == cr.float16 and tuple(out.shape) == (1, 2, 5, 4)
        want = F.interpolate(h.float(), size=(5, 4), mode=mode, align_corners=ac)
        np.testing.assert_allclose(out.float().numpy(), want.numpy(), atol=2e-3)
        empty = F.interpolate(cr.zeros(0, 2, 3, 3), size=5, mode=mode, align_corners=ac)
        assert tuple(empty.shape) == (0, 2, 5, 5)
    # nearest copies uint8 images
    u = cr.tensor(np.arange(4, dtype=np.uint8).reshape(1, 1, 2, 2))
    out = F.interpolate(u, scale_factor=2)
    assert out.dtype == cr.uint8
    np.testing.assert_array_equal(out.numpy()[0, 0], np.repeat(np.repeat(
        np.arange(4).reshape(2, 2), 2, 0), 2, 1))


INTERP_ERRORS = [
    (lambda: F.interpolate(cr.ones(1, 1, 4, 4), size=(0, 3)), RuntimeError,
     "Input and output sizes should be greater than 0, but got input (H: 4, W: 4) output "
     "(H: 0, W: 3)"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), size=3, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined"),
    (lambda: F.interpolate(cr.ones(1, 1, 4)), ValueError,
     "either size or scale_factor should be defined"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), size=(3, 3)), ValueError,
     "Input and output must have the same number of spatial dimensions"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), scale_factor=[2, 2]), ValueError,
     "Input and scale_factor must have the same number of spatial dimensions"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), size=[3.0]), TypeError,
     "expected size to be one of int or Tuple[int]"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), size=3, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), size=3, recompute_scale_factor=True, mode="linear"),
     ValueError, "recompute_scale_factor is not meaningful with an explicit size."),
    (lambda: F.interpolate(cr.ones(1, 1, 4, 4), size=3, mode="linear"), NotImplementedError,
     "Got 4D input, but linear mode needs 3D input"),
    (lambda: F.interpolate(cr.ones(1, 1, 4, 4, 4), size=3, mode="bicubic"), NotImplementedError,
     "Input Error: Only 3D, 4D and 5D input Tensors supported (got 5D)"),
    (lambda: F.interpolate(cr.ones(1, 4), size=3), NotImplementedError,
     "Input Error: Only 3D, 4D and 5D input Tensors supported (got 2D)"),
    (lambda: F.interpolate(cr.ones(1, 1, 4), size=3, mode="linear", antialias=True), ValueError,
     "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes"),
    (lambda: F.interpolate(cr.ones(1, 1, 4, dtype=cr.int64), size=3, mode="linear"),
     NotImplementedError, "not implemented for 'Long'"),
    (lambda: F.interpolate(cr.ones(1, 0, 4, 4), size=3, mode="bilinear"), RuntimeError,
     "Non-empty 4D data tensor expected but got a tensor with sizes [1, 0, 4, 4]"),
]


@pytest.mark.parametrize("call,exc,msg", INTERP_ERRORS)
def test_interpolate_errors(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias(mode):
    a = _x(1, 2, 7, 6)
    for ac in (False, True):
        for kw in (dict(size=(3, 2)), dict(scale_factor=0.45), dict(size=(9, 4))):
            check(lambda m, x: m.nn.functional.interpolate(x, mode=mode, align_corners=ac,
                                                           antialias=True, **kw), a)
    # downsampling by 2 with the triangle filter stretched to 4 taps: weights 1/8, 3/8, 3/8, 1/8
    if mode == "bilinear":
        row = np.arange(8.0).reshape(1, 1, 1, 8)
        out = F.interpolate(cr.tensor(row), size=(1, 4), mode=mode, antialias=True).numpy()
        w = np.array([1, 3, 3, 1]) / 8
        want = [np.dot([0, 1, 2], [3, 3, 1]) / 7] + [np.dot(row[0, 0, 0, 2 * i - 1:2 * i + 3], w)
                                                     for i in (1, 2)]
        want.append(np.dot([5, 6, 7], [1, 3, 3]) / 7)
        np.testing.assert_allclose(out[0, 0, 0], want)
    check(lambda m, x: m.nn.functional.interpolate(x, size=(3, 2), mode=mode, antialias=True),
          a[:, :1], second=True)


@needs_torch
def test_interpolate_errors_match_torch():
    calls = [lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4, 4), size=(0, 3)),
             lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4), size=(3, 3)),
             lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4, 4), size=3, mode="linear"),
             lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4), size=3, mode="foo"),
             lambda m: m.nn.functional.interpolate(m.ones(1, 1, 4), scale_factor=-1.0)]
    for call in calls:
        with pytest.raises(Exception) as t:
            call(torch)
        with pytest.raises(type(t.value)) as c:
            call(cr)
        assert str(t.value) in str(c.value)


@pytest.mark.parametrize("fn,args,text", [
    ("upsample", dict(size=3), "`nn.functional.upsample` is deprecated. Use "
     "`nn.functional.interpolate` instead."),
    ("upsample_nearest", dict(size=3), "`nn.functional.upsample_nearest` is deprecated."),
    ("upsample_bilinear", dict(size=3), "`nn.functional.upsample_bilinear` is deprecated.")])
def test_upsample_deprecated(fn, args, text):
    a = _x(1, 2, 2, 3)
    with pytest.warns(UserWarning, match=text.replace("(", r"\(").replace(".", r"\.")):
        out = getattr(F, fn)(cr.tensor(a), **args)
    mode = {"upsample": "nearest", "upsample_nearest": "nearest"}.get(fn, "bilinear")
    np.testing.assert_allclose(out.numpy(), _ref_interpolate(
        a, mode=mode, align_corners=mode == "bilinear", **args), atol=1e-12)


@pytest.mark.parametrize("cls,kwargs", [
    ("Upsample", dict(scale_factor=2, mode="bilinear")),
    ("Upsample", dict(size=(3, 5), mode="bicubic", align_corners=True)),
    ("Upsample", dict(scale_factor=(2.0, 1.5), mode="nearest")),
    ("Upsample", dict(scale_factor=0.5, mode="area")),
    ("UpsamplingNearest2d", dict(size=5)),
    ("UpsamplingBilinear2d", dict(scale_factor=2))])
def test_upsampling_modules(cls, kwargs):
    m = getattr(cr.nn, cls)(**kwargs)
    a = _x(1, 2, 3, 4)
    x = cr.tensor(a, requires_grad=True)
    out = m(x)
    f = dict(kwargs)
    if cls == "UpsamplingNearest2d":
        f["mode"] = "nearest"
    if cls == "UpsamplingBilinear2d":
        f.update(mode="bilinear", align_corners=True)
    np.testing.assert_allclose(out.detach().numpy(), F.interpolate(cr.tensor(a), **f).numpy())
    out.sum().backward()
    assert x.grad.shape == x.shape
    if torch is not None:
        t = getattr(torch.nn, cls)(**kwargs)
        assert repr(m) == repr(t)
        np.testing.assert_allclose(out.detach().numpy(), t(torch.tensor(a)).numpy(), atol=1e-12)


# =========================================================================================
# grid_sample, affine_grid
# =========================================================================================

def _grid(nd, shape=(2, 3, 2), special=False):
    g = RNG.uniform(-1.3, 1.3, (2,) + shape[:nd] + (nd,))
    if special:     # exact corners, the centre and a half point (torch's border conventions)
        g.reshape(-1, nd)[:4] = [[-1] * nd, [1] * nd, [0] * nd, [0.5] * nd]
    return g


GRID_CASES = [(nd, mode, pad, ac) for nd in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
              for pad in ("zeros", "border", "reflection") for ac in (False, True)
              if not (nd == 3 and mode == "bicubic")]


@pytest.mark.parametrize("nd,mode,pad,ac", GRID_CASES)
def test_grid_sample(nd, mode, pad, ac):
    a = _x(*((2, 2) + (3, 4, 2)[:nd]))
    g = _grid(nd)
    ref = None if mode == "bicubic" else (lambda v, w: _ref_grid_sample(v, w, mode, pad, ac))
    check(lambda m, x, w: m.nn.functional.grid_sample(x, w, mode=mode, padding_mode=pad,
                                                      align_corners=ac), a, g, ref=ref)


@needs_torch
@pytest.mark.parametrize("nd,mode,pad,ac", GRID_CASES)
def test_grid_sample_on_borders_as_torch(nd, mode, pad, ac):
    """Points on pixel centres and borders, where the gradient is torch's convention (one-sided,
    zero at clipped borders) rather than a derivative: values and gradients against torch."""
    a = _x(*((2, 2) + (3, 4, 2)[:nd]))
    g = _grid(nd, special=True)
    res = []
    for m in (cr, torch):
        x, w = m.tensor(a, requires_grad=True), m.tensor(g, requires_grad=True)
        out = m.nn.functional.grid_sample(x, w, mode=mode, padding_mode=pad, align_corners=ac)
        (out * m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum(
            ).backward()
        res.append([out.detach().numpy(), x.grad.numpy(),
                    np.zeros(g.shape) if w.grad is None else w.grad.numpy()])
    for c, t in zip(*res):
        np.testing.assert_allclose(c, t, atol=1e-12)


@pytest.mark.parametrize("nd,mode,pad", [(2, "bilinear", "zeros"), (2, "bilinear", "reflection"),
                                         (2, "bicubic", "border"), (2, "bicubic", "zeros"),
                                         (3, "bilinear", "border")])
def test_grid_sample_second_order(nd, mode, pad):
    a = _x(*((1, 1) + (3, 3, 2)[:nd]))
    g = RNG.uniform(-0.9, 0.9, (1,) + (2, 2, 1)[:nd] + (nd,))
    check(lambda m, x, w: m.nn.functional.grid_sample(x, w, mode=mode, padding_mode=pad,
                                                      align_corners=False), a, g, second=True)


def test_grid_sample_float32_float16():
    a, g = _x(1, 2, 4, 5).astype(np.float32), _grid(2).astype(np.float32)[:1]
    check(lambda m, x, w: m.nn.functional.grid_sample(x, w, align_corners=False), a, g,
          atol=1e-5, rtol=1e-5, grad=False)
    out = F.grid_sample(cr.tensor(a).half(), cr.tensor(g).half(), align_corners=False)
    assert out.dtype == cr.float16
    want = _ref_grid_sample(a.astype(np.float16).astype(np.float64),
                            g.astype(np.float16).astype(np.float64), "bilinear", "zeros", False)
    np.testing.assert_allclose(out.float().numpy(), want, atol=1e-2)


def test_grid_sample_warnings_and_errors():
    x, g = cr.ones(1, 1, 3, 3), cr.zeros(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has "
                      "changed to align_corners=False since 1.3.0"):
        F.grid_sample(x, g)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or "
                       "'bicubic', but got: 'area'"):
        F.grid_sample(x, g, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or "
                       "'reflection', but got: 'wrap'"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(cr.ones(1, 1, 2, 2, 2), cr.zeros(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(cr.ones(2, 1, 3, 3), g, align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(x, cr.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.raises(RuntimeError, match="expected 4D or 5D input and grid"):
        F.grid_sample(cr.ones(1, 3, 3), g, align_corners=False)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.grid_sample(x.long(), g.long(), align_corners=False)
    # empty batch, empty grid, no channels
    for xs, gs in (((0, 2, 3, 3), (0, 2, 2, 2)), ((1, 2, 3, 3), (1, 0, 2, 2)),
                   ((1, 0, 3, 3), (1, 2, 2, 2))):
        out = F.grid_sample(cr.ones(*xs), cr.zeros(*gs), align_corners=False)
        assert tuple(out.shape) == xs[:2] + gs[1:3]


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid(nd, ac):
    theta = _x(2, nd, nd + 1)
    for size in [(2, 3) + (4, 3, 2)[:nd], (2, 1) + (2, 1, 3)[:nd]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # unit-size grids with align_corners=True
            check(lambda m, t: m.nn.functional.affine_grid(t, size, align_corners=ac), theta,
                  second=True)


def test_affine_grid_identity_and_warnings():
    eye = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    g = F.affine_grid(eye, (1, 1, 2, 3), align_corners=True).numpy()
    np.testing.assert_allclose(g[0, :, :, 0], [[-1, 0, 1], [-1, 0, 1]])
    np.testing.assert_allclose(g[0, :, :, 1], [[-1, -1, -1], [1, 1, 1]])
    # with the identity grid, grid_sample returns the image (align_corners either way)
    for ac in (False, True):
        a = _x(1, 2, 3, 4)
        grid = F.affine_grid(eye, (1, 2, 3, 4), align_corners=ac)
        np.testing.assert_allclose(F.grid_sample(cr.tensor(a).float(), grid,
                                                 align_corners=ac).numpy(),
                                   a, atol=1e-6)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.affine_grid(eye, (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="affine_grid behavior has changed for unit-size grids"):
        F.affine_grid(eye, (1, 1, 1, 2), align_corners=True)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(cr.zeros(1, 3, 4), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(cr.zeros(1, 2, 3, dtype=cr.int64), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(eye, (1, 2, 3), align_corners=False)
    with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
        F.affine_grid(eye, (1, 1, 0, 2), align_corners=False)


@needs_torch
def test_top_level_grid_aliases():
    a, g = _x(2, 2, 3, 4), _grid(2)
    for fn in ("grid_sampler", "grid_sampler_2d"):
        for mode in (0, 1, 2):
            for pad in (0, 1, 2):
                check(lambda m, x, w: getattr(m, fn)(x, w, mode, pad, False), a, g, grad=False)
    check(lambda m, x, w: m.grid_sampler_3d(x, w, 0, 2, True), _x(1, 2, 3, 2, 2),
          _grid(3)[:1], grad=False)
    check(lambda m, t: m.affine_grid_generator(t, [2, 1, 3, 4], False), _x(2, 2, 3))


# =========================================================================================
# instance_norm, local_response_norm, CrossMapLRN2d
# =========================================================================================

def _np_instance_norm(a, w=None, b=None, eps=1e-5):
    dims = tuple(range(2, a.ndim))
    mu = a.mean(dims, keepdims=True)
    var = a.var(dims, keepdims=True)
    out = (a - mu) / np.sqrt(var + eps)
    shape = (1, -1) + (1,) * (a.ndim - 2)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 2), (1, 2, 2, 2, 2)])
def test_instance_norm_function(shape):
    a = _x(*shape)
    w, b = _x(shape[1]), _x(shape[1])
    check(lambda m, x: m.nn.functional.instance_norm(x), a, second=True,
          ref=_np_instance_norm)
    check(lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b, eps=1e-3),
          a, w, b, second=True, ref=lambda x, w, b: _np_instance_norm(x, w, b, 1e-3))


def test_instance_norm_running_stats():
    a = _x(3, 2, 5)
    rm, rv = cr.tensor(_x(2)), cr.tensor(np.abs(_x(2)) + 0.5)
    rm0, rv0 = rm.numpy().copy(), rv.numpy().copy()
    F.instance_norm(cr.tensor(a), rm, rv, momentum=0.3)
    np.testing.assert_allclose(rm.numpy(), 0.7 * rm0 + 0.3 * a.mean(2).mean(0))
    np.testing.assert_allclose(rv.numpy(), 0.7 * rv0 + 0.3 * a.var(2, ddof=1).mean(0))
    # evaluation by the running statistics
    out = F.instance_norm(cr.tensor(a), rm, rv, use_input_stats=False, eps=0.0)
    np.testing.assert_allclose(out.numpy(), (a - rm.numpy()[:, None]) / np.sqrt(
        rv.numpy()[:, None]))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(cr.ones(2, 3, 1))
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var to be defined"):
        F.instance_norm(cr.ones(2, 3, 4), use_input_stats=False)
    if torch is not None:
        trm, trv = torch.tensor(rm0), torch.tensor(rv0)
        torch.nn.functional.instance_norm(torch.tensor(a), trm, trv, momentum=0.3)
        rm, rv = cr.tensor(rm0.copy()), cr.tensor(rv0.copy())
        F.instance_norm(cr.tensor(a), rm, rv, momentum=0.3)
        np.testing.assert_allclose(rm.numpy(), trm.numpy())
        np.testing.assert_allclose(rv.numpy(), trv.numpy())


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)),
                                       ("InstanceNorm2d", (2, 3, 4, 2)),
                                       ("InstanceNorm3d", (3, 2, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=True), dict(affine=True,
                                    track_running_stats=True), dict(track_running_stats=True,
                                    momentum=None)])
def test_instance_norm_modules(cls, shape, kwargs):
    m = getattr(cr.nn, cls)(3, **kwargs).double()
    assert repr(m) == (f"{cls}(3, eps=1e-05, momentum={kwargs.get('momentum', 0.1)}, "
                       f"affine={kwargs.get('affine', False)}, bias={kwargs.get('affine', False)}"
                       f", track_running_stats={kwargs.get('track_running_stats', False)})")
    if m.weight is not None:
        m.weight.data.copy_(cr.tensor(_x(3)))
        m.bias.data.copy_(cr.tensor(_x(3)))
    t = None
    if torch is not None:
        t = getattr(torch.nn, cls)(3, **kwargs).double()
        assert repr(t) == repr(m)
        t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    a = _x(*shape)
    x = cr.tensor(a, requires_grad=True)
    out = m(x)
    unbatched_rank = int(cls[-2]) + 1
    batched = a[None] if len(shape) == unbatched_rank else a
    want = _np_instance_norm(batched, None if m.weight is None else m.weight.detach().numpy(),
                             None if m.bias is None else m.bias.detach().numpy())
    np.testing.assert_allclose(out.detach().numpy(), want.reshape(a.shape), atol=1e-10)
    if t is None:
        return
    tx = torch.tensor(a, requires_grad=True)
    tout = t(tx)
    w = _x(*shape)
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    for (k, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-10, err_msg=k)
    for (k, bf), (_, tb) in zip(m.named_buffers(), t.named_buffers()):
        np.testing.assert_allclose(bf.numpy(), tb.numpy(), atol=1e-12, err_msg=k)
    m.eval()
    t.eval()
    np.testing.assert_allclose(m(cr.tensor(a)).detach().numpy(),
                               t(torch.tensor(a)).detach().numpy(), atol=1e-10)


def test_instance_norm_module_warnings_and_errors():
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features. "
                      "You can silence this warning by not passing in num_features"):
        cr.nn.InstanceNorm1d(4)(cr.randn(2, 3, 5))
    with pytest.raises(ValueError, match=r"expected input's size at dim=0 to match num_features "
                       r"\(4\), but got: 3\."):
        cr.nn.InstanceNorm2d(4, affine=True)(cr.randn(3, 5, 5))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        cr.nn.InstanceNorm3d(3)(cr.randn(3, 5, 5))


@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((1, 4, 2, 3), 2), ((1, 6, 2, 1, 2), 5),
                                        ((2, 3, 2), 1), ((1, 3, 2, 2), 8)])
def test_local_response_norm(shape, size):
    def ref(a):
        c = a.shape[1]
        div = np.zeros_like(a)
        for i in range(c):
            lo, hi = max(i - size // 2, 0), min(i + (size - 1) // 2, c - 1)
            div[:, i] = (a[:, lo:hi + 1] ** 2).sum(1) / size
        return a / (1.5 + 0.3 * div) ** 0.6
    check(lambda m, x: m.nn.functional.local_response_norm(x, size, 0.3, 0.6, 1.5), _x(*shape),
          second=True, ref=ref)
    m = cr.nn.LocalResponseNorm(size, 0.3, 0.6, 1.5)
    assert repr(m) == f"LocalResponseNorm({size}, alpha=0.3, beta=0.6, k=1.5)"
    a = _x(*shape)
    np.testing.assert_allclose(m(cr.tensor(a)).numpy(), ref(a))


def test_local_response_norm_edges():
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality"):
        F.local_response_norm(cr.ones(2, 3), 2)
    e = cr.zeros(0, 3, 2)
    assert F.local_response_norm(e, 2) is e


@pytest.mark.parametrize("size,c", [(1, 3), (2, 4), (3, 6), (4, 3), (5, 7)])
def test_cross_map_lrn2d(size, c):
    a = _x(2, c, 2, 3)
    m = cr.nn.CrossMapLRN2d(size, 0.5, 0.7, 1.2)
    out = m(cr.tensor(a)).numpy()
    # torch's legacy window: channel 0 never leaves the running sum
    pre = int((size - 1) / 2 + 1)
    for i in range(c):
        members = set(range(max(i - pre + 1, 0), min(i + pre, c)))
        if i >= pre:
            members.add(0)
        members = sorted(members)
        s = 1.2 + 0.5 / size * (a[:, members] ** 2).sum(1)
        np.testing.assert_allclose(out[:, i], a[:, i] * s ** -0.7, err_msg=str(i))
    if torch is not None:
        np.testing.assert_allclose(out, torch.nn.CrossMapLRN2d(size, 0.5, 0.7, 1.2)(
            torch.tensor(a)).numpy())
    # torch's hand-written backward disagrees with its own forward: central differences only
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(oracle, "torch", None)
        check(lambda m_, x: cr.nn.CrossMapLRN2d(size, 0.5, 0.7, 1.2)(x), a[:1, :, :1])
    assert repr(m) == f"CrossMapLRN2d({size}, alpha=0.5, beta=0.7, k=1.2)"
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D"):
        m(cr.ones(2, 3, 4))


@needs_torch
def test_top_level_instance_norm():
    a, w, b = _x(2, 3, 4), _x(3), _x(3)
    check(lambda m, x, w, b: m.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
          a, w, b)


# =========================================================================================
# embedding_bag, EmbeddingBag
# =========================================================================================

IDX = np.array([0, 2, 4, 5, 4, 3, 6, 0, 1])


def _np_bag(w, idx, offsets, mode, ilo=False, pad=None, psw=None):
    """Loop reference with torch's documented semantics."""
    bounds = list(offsets) + ([] if ilo else [len(idx)])
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        members = [k for k in range(lo, hi) if pad is None or idx[k] != pad % len(w)]
        rows = [w[idx[k]] * (1.0 if psw is None else psw[k]) for k in members]
        if not rows:
            out.append(np.zeros(w.shape[1]))
        elif mode == "sum":
            out.append(np.sum(rows, 0))
        elif mode == "mean":
            out.append(np.mean(rows, 0))
        else:
            out.append(np.max(rows, 0))
    return np.array(out).reshape(-1, w.shape[1])


BAG_CASES = [(mode, off, ilo, pad) for mode in ("sum", "mean", "max")
             for off, ilo in (([0, 3, 3, 5], False), ([0, 3, 3, 9], True), ([0, 0, 9], True),
                              ([0], False))
             for pad in (None, 0, -3)]


@pytest.mark.parametrize("mode,off,ilo,pad", BAG_CASES)
def test_embedding_bag(mode, off, ilo, pad):
    w = _x(7, 3)
    off = np.array(off)
    check(lambda m, w, i, o: m.nn.functional.embedding_bag(
        i, w, o, mode=mode, include_last_offset=ilo, padding_idx=pad), w, IDX, off,
        ref=lambda w, i, o: _np_bag(w, i, o, mode, ilo, pad), second=mode != "max")
    if mode == "sum":
        psw = _x(len(IDX))
        check(lambda m, w, i, o, p: m.nn.functional.embedding_bag(
            i, w, o, mode="sum", include_last_offset=ilo, padding_idx=pad,
            per_sample_weights=p), w, IDX, off, psw,
            ref=lambda w, i, o, p: _np_bag(w, i, o, "sum", ilo, pad, p))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_and_dtypes(mode):
    w = _x(7, 3)
    x = RNG.integers(0, 7, (4, 3))
    check(lambda m, w, i: m.nn.functional.embedding_bag(i, w, mode=mode, padding_idx=2), w, x,
          ref=lambda w, i: _np_bag(w, i.reshape(-1), [0, 3, 6, 9], mode, False, 2))
    out = F.embedding_bag(cr.tensor(x.astype(np.int32)), cr.tensor(w).half(), mode=mode)
    assert out.dtype == cr.float16
    np.testing.assert_allclose(out.float().numpy(), _np_bag(
        w.astype(np.float16).astype(np.float64), x.reshape(-1), [0, 3, 6, 9], mode), atol=1e-2)
    empty = F.embedding_bag(cr.tensor(np.zeros(0, np.int64)), cr.tensor(w), cr.tensor([0, 0]),
                            mode=mode)
    np.testing.assert_array_equal(empty.numpy(), np.zeros((2, 3)))


def test_embedding_bag_max_norm_and_freq():
    w = _x(7, 3) * 3
    cw = cr.tensor(w.copy(), requires_grad=True)
    out = F.embedding_bag(cr.tensor(IDX[:5]), cw, cr.tensor([0, 2]), max_norm=1.0, mode="sum")
    renormed = w.copy()
    for r in np.unique(IDX[:5]):
        n = np.linalg.norm(w[r])
        if n > 1.0:
            renormed[r] = w[r] * (1.0 / (n + 1e-7))
    np.testing.assert_allclose(cw.detach().numpy(), renormed)
    np.testing.assert_allclose(out.detach().numpy(), _np_bag(renormed, IDX[:5], [0, 2], "sum"))
    if torch is not None:
        tw = torch.tensor(w.copy())
        torch.nn.functional.embedding_bag(torch.tensor(IDX[:5]), tw, torch.tensor([0, 2]),
                                          max_norm=1.0, mode="sum")
        np.testing.assert_allclose(cw.detach().numpy(), tw.numpy())
    # scale_grad_by_freq: each row's gradient divided by its count in the mini-batch
    cw = cr.tensor(w.copy(), requires_grad=True)
    F.embedding_bag(cr.tensor(IDX), cw, cr.tensor([0, 3]), mode="sum",
                    scale_grad_by_freq=True).sum().backward()
    counts = np.bincount(IDX, minlength=7)
    np.testing.assert_allclose(cw.grad.numpy(), np.where(counts > 0, 1.0, 0.0)[:, None]
                               * np.ones((7, 3)))


def test_embedding_bag_errors():
    w, i = cr.randn(6, 3), cr.tensor([0, 2, 4, 5])
    cases = [
        (lambda: F.embedding_bag(i, w, cr.tensor([1, 3])), RuntimeError,
         "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
         "position 0. However, got 1"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0, 5])), RuntimeError,
         "offsets[-1] can not be greater than input's length 4 but got offsets[-1] of 5"),
        (lambda: F.embedding_bag(cr.tensor([0, 9]), w, cr.tensor([0])), RuntimeError,
         "Index 1 of input takes value 9 which is not in the valid range [0, 6)"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0]), mode="foo"), ValueError,
         "mode has to be one of sum, mean or max"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0]), mode="max",
                                 per_sample_weights=cr.ones(4)), NotImplementedError,
         "per_sample_weights is only supported for mode='sum' (got mode='max')"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0]), mode="sum",
                                 per_sample_weights=cr.ones(3)), ValueError,
         "embedding_bag: If per_sample_weights"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0]), mode="sum",
                                 per_sample_weights=cr.ones(4).double()), RuntimeError,
         "to have the same type as tensor for argument #1 'per_sample_weights'"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0]), padding_idx=6), RuntimeError,
         "padding_idx must be within the number of embeddings, -6 through 5, but got 6"),
        (lambda: F.embedding_bag(i, w, cr.tensor([[0]])), ValueError,
         "offsets has to be a 1D Tensor"),
        (lambda: F.embedding_bag(i, w), ValueError, "offsets has to be a 1D Tensor but got None"),
        (lambda: F.embedding_bag(i.reshape(2, 2), w, cr.tensor([0])), ValueError,
         "if input is 2D, then offsets has to be None"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0]), mode="max", scale_grad_by_freq=True),
         ValueError, "max mode does not support scaling the gradient by the frequency"),
        (lambda: F.embedding_bag(i.float(), w, cr.tensor([0])), RuntimeError,
         "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
         "Long, Int"),
        (lambda: F.embedding_bag(i, w, cr.tensor([0.0, 1.0])), RuntimeError,
         "to have one of the following scalar types: Long, Int; but got torch.FloatTensor"),
        (lambda: F.embedding_bag(i, cr.ones(6), cr.tensor([0])), ValueError,
         "weight has to be a 2D Tensor, but got Tensor of dimension 1"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc) as info:
            call()
        assert msg in str(info.value)
    with pytest.warns(UserWarning, match="Argument order of nn.functional.embedding_bag was "
                      "changed"):
        out = F.embedding_bag(w, i, cr.tensor([0, 2]))
    assert tuple(out.shape) == (2, 3)


@pytest.mark.parametrize("kwargs", [dict(mode="sum"), dict(mode="max", padding_idx=0),
                                    dict(mode="mean", include_last_offset=True, padding_idx=-1),
                                    dict(max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True)])
def test_embedding_bag_module(kwargs):
    m = cr.nn.EmbeddingBag(7, 3, **kwargs)
    if kwargs.get("padding_idx") is not None:
        np.testing.assert_array_equal(m.weight.detach().numpy()[kwargs["padding_idx"]], 0)
    i, off = cr.tensor(IDX), cr.tensor([0, 3, 9] if kwargs.get("include_last_offset")
                                        else [0, 3])
    if torch is None:
        assert tuple(m(i, off).shape) == (2, 3)
        return
    t = torch.nn.EmbeddingBag(7, 3, **kwargs).double()
    assert repr(t) == repr(m)
    m = m.double()
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    out, tout = m(i, off), t(torch.tensor(IDX), torch.tensor(off.numpy()))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy())
    g = _x(*out.shape)
    (out * cr.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    if not kwargs.get("scale_grad_by_freq"):        # torch's differs (docs/nn-vision.md)
        np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy())


def test_embedding_bag_from_pretrained():
    w = cr.tensor(_x(4, 2))
    m = cr.nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert m.weight.requires_grad is False and repr(m) == "EmbeddingBag(4, 2, mode='sum')"
    np.testing.assert_allclose(m(cr.tensor([[0, 3]])).numpy(),
                               (w.numpy()[0] + w.numpy()[3])[None])
    assert cr.nn.EmbeddingBag.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dim"):
        cr.nn.EmbeddingBag.from_pretrained(cr.ones(3))
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        cr.nn.EmbeddingBag(4, 2, padding_idx=4)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        cr.nn.EmbeddingBag(4, 2, _weight=cr.ones(3, 2))


@needs_torch
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("ilo", [False, True])
@pytest.mark.parametrize("pad", [None, 4])
def test_top_level_embedding_bag(mode, ilo, pad):
    w = _x(7, 3)
    off = np.array([0, 3, 3, 9] if ilo else [0, 3, 3])
    out = check(lambda m, w, i, o: m.embedding_bag(w, i, o, False, mode, False, None, ilo, pad),
                w, IDX, off, grad=False)
    assert len(out) == 4
    w = cr.tensor([[3.0, 4.0], [0.3, 0.4]])
    tw = torch.tensor(w.numpy())
    cr.embedding_renorm_(w, cr.tensor([0, 1]), 1.0, 2.0)
    torch.embedding_renorm_(tw, torch.tensor([0, 1]), 1.0, 2.0)
    np.testing.assert_allclose(w.numpy(), tw.numpy(), rtol=1e-6)


# =========================================================================================
# dropout family
# =========================================================================================

ALPHA = 1.7580993408473766


def test_alpha_dropout_statistics_and_gradient():
    cr.manual_seed(0)
    a = _x(200, 200)
    x = cr.tensor(a, requires_grad=True)
    out = F.alpha_dropout(x, 0.2, training=True)
    o = out.detach().numpy()
    # mean and variance kept (inputs ~ N(0, 1))
    assert abs(o.mean()) < 0.02 and abs(o.var() - 1) < 0.03
    p = 0.2
    k = 1 / math.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    dropped = np.isclose(o, -ALPHA * k + ALPHA * k * p)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(o[~dropped], k * a[~dropped] + ALPHA * k * p)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, k))
    assert out.dtype == cr.float64
    assert F.alpha_dropout(cr.ones(3, dtype=cr.float16), 0.5, True).dtype == cr.float16


def test_alpha_dropout_edges():
    x = cr.ones(4, 3)
    assert F.alpha_dropout(x, 0.5) is x                     # training=False by default
    assert F.feature_alpha_dropout(x, 0.5) is x
    assert F.alpha_dropout(x, 0.0, True) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).numpy(), 0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                       "got 1.5"):
        F.alpha_dropout(x, 1.5)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(cr.ones(3), 0.5, True)
    y = cr.ones(3, 4)
    z = F.alpha_dropout(y, 0.5, True, inplace=True)
    assert z is y and not np.all(y.numpy() == 1)
    f = F.feature_alpha_dropout(cr.ones(6, 5, 4), 0.5, True).numpy()
    assert np.all(f == f[..., :1])                           # whole channels
    assert len(np.unique(f)) == 2


def test_dropout_nd_warnings_as_torch():
    msg2 = ("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired")
    with pytest.warns(UserWarning, match=msg2):
        out = F.dropout2d(cr.ones(4, 6, 8), 0.5).numpy()
    assert np.all(out == out[..., :1])                      # (N, C, L): whole rows
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d, which is "
                      "deprecated"):
        F.dropout2d(cr.ones(2, 3), 0.5, False)
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d, which is "
                      "deprecated"):
        out = F.dropout3d(cr.ones(5, 6, 7), 0.5).numpy()
    assert np.all(out == out[:, :1, :1])                    # taken as unbatched (C, D, H)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        cr.nn.Dropout2d()(cr.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                       "4D input. Note that dropout1d exists"):
        F.dropout1d(cr.ones(2, 3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
            F.dropout2d(cr.ones(3), 0.5)
    # unbatched 1d/3d inputs: one draw per channel
    out = F.dropout1d(cr.ones(8, 6), 0.5).numpy()
    assert np.all(out == out[:, :1])
    out = F.dropout3d(cr.ones(8, 2, 2, 2), 0.5).numpy()
    assert np.all(out == out[:, :1, :1, :1])


@needs_torch
def test_dropout_warnings_match_torch():
    for fn, shape in (("dropout2d", (2, 3, 4)), ("dropout2d", (2, 3)), ("dropout3d", (2, 3)),
                      ("dropout3d", (2, 3, 4, 5, 6, 7))):
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            getattr(torch.nn.functional, fn)(torch.ones(shape), 0.5, False)
        with warnings.catch_warnings(record=True) as cw:
            warnings.simplefilter("always")
            getattr(F, fn)(cr.ones(*shape), 0.5, False)
        assert [str(w.message) for w in cw] == [str(w.message) for w in tw]


@pytest.mark.parametrize("cls", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_modules(cls):
    m = getattr(cr.nn, cls)(0.3, inplace=True)
    assert repr(m) == f"{cls}(p=0.3, inplace=True)"
    x = cr.ones(4, 3, 2)
    out = m(x)
    assert out is not x and np.all(x.numpy() == 1)          # torch ignores inplace here too
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(cr.nn, cls)(-0.1)
    if torch is not None:
        assert repr(getattr(torch.nn, cls)(0.3, inplace=True)) == repr(m)


def test_top_level_dropout_aliases():
    x = cr.ones(4, 3)
    assert cr.alpha_dropout(x, 0.5, False) is x and cr.feature_alpha_dropout(x, 0.5, False) is x
    y = cr.ones(4, 3)
    assert cr.alpha_dropout_(y, 0.5, True) is y and not np.all(y.numpy() == 1)
    y = cr.ones(4, 3, 2)
    assert cr.feature_alpha_dropout_(y, 0.5, True) is y
    v = y.numpy()
    assert np.all(v == v[..., :1])
