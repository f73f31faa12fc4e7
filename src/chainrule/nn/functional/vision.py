"""interpolate (and the deprecated upsample functions), grid_sample and affine_grid, as
``torch.nn.functional``'s.

Everything here is a composite, so no derivative code is needed and second derivatives come
for free.  Resizing is separable: each spatial axis in turn is resampled by a few gathers
(``index_select``) times constant weights — two taps for the linear modes, four for bicubic,
one for the nearest modes — or, for ``area``, by a (out, in) averaging matrix.  The sampling
positions are computed in NumPy exactly as torch's CPU kernels compute them (float32 coordinates
for float32/float16 inputs, float64 for float64), so the taps and weights are torch's.

grid_sample gathers the 2ⁿ (bilinear), 1 (nearest) or 16 (bicubic) neighbours of every sampling
point from the flattened input; the weights are differentiable functions of the grid, so the
grid gets torch's gradient.  Padding is applied to the coordinates with ``where`` (gradient 1
strictly inside, 0 at and beyond the border, as torch's ``clip_coordinates_set_grad``).
"""
import math
import numbers
import warnings

from ... import functional as _f
from ..._backend import xp
from ...functional._args import tensor_arg
from ...functional.indexing import index_select
from ...tensor import Tensor, wrap

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample",
           "affine_grid"]

_MODES = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact")
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_AXIS_NAMES = ("D", "H", "W")
_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
               "uint8": "Byte", "bool": "Bool"}


def _is_integer(v):
    if isinstance(v, bool):
        return True
    if isinstance(v, (numbers.Integral, xp.integer)):
        return True
    return isinstance(v, Tensor) and not v.is_floating_point()


# -----------------------------------------------------------------------------------------
# sampling positions, as torch's CPU kernels compute them (UpSample.h)
# -----------------------------------------------------------------------------------------

def _scale_value(ct, n_in, n_out, scale):
    """compute_scales_value: 1/scale_factor when one was given, else in/out (in type ct)."""
    if scale is not None and scale > 0:
        return ct(1.0 / scale)
    return ct(n_in) / ct(n_out)


def _nearest_taps(n_in, n_out, scale, exact, shortcuts):
    """The source index of every output index (nearest / nearest-exact), in float32 as torch.

    torch's 2-d nearest kernel (only) takes same-size and doubled sizes as exact, whatever the
    scale_factor: ``shortcuts``."""
    i = xp.arange(n_out)
    if shortcuts and not exact and n_out == n_in:
        return i
    if shortcuts and not exact and n_out == 2 * n_in:
        return i >> 1
    s = _scale_value(xp.float32, n_in, n_out, scale)
    pos = i.astype(xp.float32) + (xp.float32(0.5) if exact else xp.float32(0))
    return xp.minimum(xp.floor(pos * s).astype(xp.int64), n_in - 1)


def _source_coords(ct, n_in, n_out, align, scale, cubic):
    """area_pixel_compute_scale + area_pixel_compute_source_index, and guard_index_and_lambda:
    the floor index (clamped to n_in - 1) and the fraction in [0, 1] of every output index."""
    if align:
        r = ct(n_in - 1) / ct(n_out - 1) if n_out > 1 else ct(0)
    else:
        r = _scale_value(ct, n_in, n_out, scale)
    dst = xp.arange(n_out).astype(ct)
    if align:
        src = r * dst
    else:
        src = r * (dst + ct(0.5)) - ct(0.5)
        if not cubic:
            src = xp.maximum(src, ct(0))
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    lam = xp.clip(src - i0.astype(ct), ct(0), ct(1))
    return i0, lam


def _linear_taps(ct, n_in, n_out, align, scale):
    if n_out == n_in:                   # torch's shortcut: the identity, whatever the scale
        return [xp.arange(n_out)], [xp.ones(n_out, ct)]
    i0, lam = _source_coords(ct, n_in, n_out, align, scale, False)
    i1 = i0 + (i0 < n_in - 1)
    return [i0, i1], [ct(1) - lam, lam]


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution (A = -0.75) at distances t + 1, t, 1 - t, 2 - t."""
    def near(x):            # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):             # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_taps(ct, n_in, n_out, align, scale):
    i0, lam = _source_coords(ct, n_in, n_out, align, scale, True)
    idx = [xp.clip(i0 - 1 + j, 0, n_in - 1) for j in range(4)]
    return idx, [w.astype(ct) for w in _cubic_weights(lam)]


def _area_matrix(n_in, n_out, dtype):
    """(n_out, n_in): row i averages input[floor(i·in/out) : ceil((i+1)·in/out)] (adaptive
    average pooling's windows)."""
    i = xp.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    j = xp.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _resample_axis(x, axis, idx, weights):
    """Σₖ x.index_select(axis, idx[k]) · weights[k] (weights broadcast along ``axis``)."""
    shape = [1] * x.ndim
    shape[axis] = -1
    out = None
    for i, w in zip(idx, weights):
        term = index_select(x, axis, wrap(xp.ascontiguousarray(i, dtype=xp.int64)))
        if w is not None:
            term = term * wrap(xp.asarray(w, dtype=x._data.dtype).reshape(shape))
        out = term if out is None else out + term
    return out


def _matrix_axis(x, axis, m):
    """x contracted with the (out, in) matrix m along ``axis``."""
    y = _f.transpose(x, axis, -1)
    y = _f.matmul(y, wrap(xp.ascontiguousarray(m.T)))
    return _f.transpose(y, axis, -1)


# -----------------------------------------------------------------------------------------
# interpolate
# -----------------------------------------------------------------------------------------

def _sizes_message(in_sizes, out_sizes):
    names = _AXIS_NAMES[3 - len(in_sizes):]
    a = ", ".join(f"{n}: {s}" for n, s in zip(names, in_sizes))
    b = ", ".join(f"{n}: {s}" for n, s in zip(names, out_sizes))
    sep = " and" if len(in_sizes) == 1 else ""         # torch's 1-d kernels say "and output"
    return (f"Input and output sizes should be greater than 0, but got input ({a}){sep} output "
            f"({b})")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, *) input to ``size`` or by ``scale_factor``.

    Modes: nearest, nearest-exact, area (3-5-d inputs), linear (3-d), bilinear and bicubic
    (4-d), trilinear (5-d); ``antialias=True`` (bilinear, bicubic) low-pass filters when
    downsampling, as torch.

    >>> x = chainrule.tensor([[[1.0, 3.0]]])
    >>> chainrule.nn.functional.interpolate(x, scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.5000, 2.5000, 3.0000]]])
    """
    x = tensor_arg(input, "interpolate")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    nd = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(x.shape[2:])} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(s) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * max(nd, 0)
    elif scale_factor is not None:
        out_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(x.shape[2:])} and scale_factor "
                    f"of shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, "
                    "...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * max(nd, 0)
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        out_size = [int(x.shape[2 + i] * scales[i]) for i in range(nd)]
        scales = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    known = mode in ("nearest", "nearest-exact", "area") and x.ndim in (3, 4, 5)
    known = known or _LINEAR.get(mode) == x.ndim or (mode == "bicubic" and x.ndim == 4)
    if not known:
        for m, want in _LINEAR.items():
            if mode == m and x.ndim in (3, 4, 5):
                raise NotImplementedError(f"Got {x.ndim}D input, but {m} mode needs {want}D "
                                          "input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: {_MODES} (got {mode})")
    if mode == "lanczos":
        raise NotImplementedError("interpolate(mode='lanczos') is not implemented in chainrule; "
                                  "use mode='bicubic' (with antialias=True to downsample)")
    in_size = list(x.shape[2:])
    if out_size is None:
        out_size = [int(math.floor(n * s)) for n, s in zip(in_size, scales)]
    if min(in_size) <= 0 or (min(out_size) <= 0 and mode != "area"):
        raise RuntimeError(_sizes_message(in_size, out_size))
    if x.shape[1] == 0 and mode != "area":
        raise RuntimeError(f"Non-empty {x.ndim}D data tensor expected but got a tensor with "
                           f"sizes {list(x.shape)}")
    return _resize(x, mode, in_size, out_size, scales, align_corners, antialias)


def _aa_matrix(n_in, n_out, align, scale, cubic):
    """(n_out, n_in) anti-aliased resampling weights, as torch's _compute_weights_aa: the
    triangle (bilinear) or Keys' cubic with a = -0.5 (bicubic) filter, stretched by the scale
    when downsampling, each row normalised to sum 1."""
    if align:
        r = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        r = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    size = 4 if cubic else 2
    support = size * 0.5 * r if r >= 1.0 else size * 0.5
    inv = 1.0 / r if r >= 1.0 else 1.0
    m = xp.zeros((n_out, n_in))
    for i in range(n_out):          # one row per output index: O(out · support), no pixel loop
        center = r * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        x = xp.abs((xp.arange(lo, hi) - center + 0.5) * inv)
        if cubic:
            a = -0.5
            w = xp.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                         xp.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
        else:
            w = xp.where(x < 1, 1 - x, 0.0)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def _resize(x, mode, in_size, out_size, scales, align, antialias=False):
    dt = x._data.dtype
    if dt.kind != "f" and not (dt == xp.uint8 and mode in ("nearest", "nearest-exact")):
        kind = {"nearest": "nearest", "nearest-exact": "nearest_exact", "area": "adaptive_avg_pool",
                "bicubic": "bicubic"}.get(mode, mode)
        raise NotImplementedError(f'"upsample_{kind}{len(in_size)}d" not implemented for '
                                  f"'{_TYPE_NAMES.get(dt.name, dt.name)}' (interpolate works on "
                                  "floating inputs; convert with .float())")
    half = dt == xp.float16
    original = x
    if half:            # torch accumulates float16 in float32 and rounds once
        x = x.float()
    ct = xp.float64 if dt == xp.float64 else xp.float32
    scales = scales or [None] * len(in_size)
    for k, (n_in, n_out, s) in enumerate(zip(in_size, out_size, scales)):
        axis = 2 + k
        if antialias:
            m = _aa_matrix(n_in, n_out, align, s, mode == "bicubic")
            x = _matrix_axis(x, axis, m.astype(x._data.dtype))
        elif mode == "area":
            if n_in != n_out:
                x = _matrix_axis(x, axis, _area_matrix(n_in, n_out, x._data.dtype))
        elif mode in ("nearest", "nearest-exact"):
            idx = _nearest_taps(n_in, n_out, s, mode == "nearest-exact", len(in_size) == 2)
            x = _resample_axis(x, axis, [idx], [None])
        elif mode == "bicubic":
            idx, w = _cubic_taps(ct, n_in, n_out, align, s)
            x = _resample_axis(x, axis, idx, w)
        else:
            idx, w = _linear_taps(ct, n_in, n_out, align, s)
            x = _resample_axis(x, axis, idx, w) if len(idx) == 2 else x
    if x is original:           # every axis kept its size: still a new tensor, as torch
        return x.clone()
    return x.half() if half else x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated: ``interpolate`` (warns, as torch).

    >>> chainrule.nn.functional.upsample(chainrule.ones(1, 1, 2), scale_factor=2).shape
    chainrule.Size([1, 1, 4])
    """
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')`` (warns, as torch).

    >>> chainrule.nn.functional.upsample_nearest(chainrule.ones(1, 1, 2, 2), 3).shape
    chainrule.Size([1, 1, 3, 3])
    """
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (warns, as torch).

    >>> chainrule.nn.functional.upsample_bilinear(chainrule.ones(1, 1, 2, 2), 3).shape
    chainrule.Size([1, 1, 3, 3])
    """
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -----------------------------------------------------------------------------------------
# grid_sample
# -----------------------------------------------------------------------------------------

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


def _clip(c, size):
    """min(max(c, 0), size - 1), with gradient 1 only strictly inside (as torch)."""
    z = c.detach() * 0
    c = _f.where(c <= 0, z, c)
    return _f.where(c >= size - 1, z + (size - 1), c)


def _reflect(c, twice_low, twice_high):
    """torch's reflect_coordinates: fold c into [low, high] by mirroring."""
    if twice_low == twice_high:
        return c.detach() * 0
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = c - lo
    d = _f.where(d < 0, -d, d)          # |c - lo| with slope +1 at 0, as torch
    extra = _f.fmod(d, span)
    flips = xp.floor(d._data / span)
    odd = wrap((flips % 2) == 1)
    return _f.where(odd, (span + lo) - extra, extra + lo)


def _unnormalize(c, size, align):
    if align:
        return (c + 1) / 2 * (size - 1)
    return ((c + 1) * size - 1) / 2


def _pad_coords(c, size, padding_mode, align):
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align else _reflect(c, -1, 2 * size - 1)
        return _clip(c, size)
    return c


def _pad_taps(i, size, padding_mode, align):
    """compute_coordinates on integer tap positions (bicubic), in NumPy: no gradient flows."""
    c = i.astype(xp.float64)
    if padding_mode == "border":
        return xp.clip(c, 0, size - 1).astype(xp.int64)
    if padding_mode == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align else (-1, 2 * size - 1)
        if lo2 == hi2:
            c = xp.zeros_like(c)
        else:
            lo, span = lo2 / 2, (hi2 - lo2) / 2
            d = xp.abs(c - lo)
            extra = xp.fmod(d, span)
            c = xp.where(xp.floor(d / span) % 2 == 0, extra + lo, span - extra + lo)
        return xp.clip(c, 0, size - 1).astype(xp.int64)
    return i


def _gather_rows(x_rows, sizes, n, taps_list):
    """Every tap of every sampling point in one ``index_select``.

    x_rows: (N·S, C), the input with its S = prod(sizes) positions as rows; taps_list: K taps,
    each a list of per-axis int arrays (N, P).  Returns the values (K, N·P, C) and whether each
    tap lies inside the image (K, N·P, 1), for zero padding."""
    s = math.prod(sizes)
    flats, insides = [], []
    for taps in taps_list:
        inside = xp.ones(taps[0].shape, bool)
        flat = xp.zeros(taps[0].shape, xp.int64)
        for idx, size in zip(taps, sizes):
            inside &= (idx >= 0) & (idx < size)
            flat = flat * size + xp.clip(idx, 0, size - 1)
        flats.append(flat + xp.arange(n)[:, None] * s)
        insides.append(inside)
    k = len(taps_list)
    vals = index_select(x_rows, 0, wrap(xp.stack(flats).reshape(-1)))
    m = flats[0].size
    vals = vals.reshape(k, m, x_rows.shape[1])
    return vals, xp.stack(insides).reshape(k, m, 1)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """out[n, c, h, w] = input[n, c] sampled at grid[n, h, w] = (x, y) ∈ [-1, 1]².

    4-d input with an (N, H, W, 2) grid, or 5-d input with an (N, D, H, W, 3) grid; modes
    bilinear, nearest, bicubic (4-d only); padding_mode zeros, border or reflection.

    >>> x = chainrule.arange(4.0).reshape(1, 1, 2, 2)
    >>> g = chainrule.zeros(1, 1, 1, 2)            # the centre of the image
    >>> chainrule.nn.functional.grid_sample(x, g, align_corners=False)
    tensor([[[[1.5000]]]])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return _grid_sampler(input, grid, mode, padding_mode, align_corners)


def _scalar_name(t):
    """torch's name of a tensor's scalar type (Float, Double, Half, Long, ...)."""
    name = t._data.dtype.name
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
        name, _TYPE_NAMES.get(name, name))


def _grid_sampler(input, grid, mode, padding_mode, align):
    x, g = tensor_arg(input, "grid_sample"), tensor_arg(grid, "grid_sample")
    if x._data.dtype != g._data.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(x)} but found {_scalar_name(g)} "
                           "(grid_sample: input and grid must have the same dtype)")
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(x.shape)} and grid "
                           f"with sizes {list(g.shape)}")
    nd = x.ndim - 2
    if x.shape[0] != g.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(x.shape)} and grid with sizes "
                           f"{list(g.shape)}")
    if g.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, "
                           f"but got grid with sizes {list(g.shape)}")
    for i in range(2, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(x.shape)} with dimension "
                               f"{i} being empty")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x._data.dtype.kind != "f":
        kernel = "grid_sampler_2d_cpu_kernel_impl" if nd == 2 else "grid_sampler3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_TYPE_NAMES.get(x._data.dtype.name, x._data.dtype.name)}'"
                                  " (grid_sample works on floating inputs; convert with "
                                  ".float())")
    half = x._data.dtype == xp.float16
    if half:
        x, g = x.float(), g.float()
    n, c = x.shape[0], x.shape[1]
    sizes = tuple(x.shape[2:])
    out_sp = tuple(g.shape[1:-1])
    p = math.prod(out_sp)
    gf = g.reshape(n, p, nd)
    dt = x._data.dtype
    # (N·S, C): one row per input position, so that each tap is one row gather
    x_rows = _f.transpose(x.reshape(n, c, math.prod(sizes)), 1, 2).reshape(
        n * math.prod(sizes), c)
    # grid's last dim is (x, y[, z]): x indexes W, the last input dim
    coords = [_unnormalize(gf[:, :, nd - 1 - k], sizes[k], align) for k in range(nd)]
    if mode == "nearest":
        coords = [_pad_coords(cc, s, padding_mode, align) for cc, s in zip(coords, sizes)]
        taps = [xp.rint(cc._data).astype(xp.int64) for cc in coords]
        vals, inside = _gather_rows(x_rows, sizes, n, [taps])
        out = vals[0] * wrap(inside[0].astype(dt))
    else:
        if mode == "bicubic":
            base = [xp.floor(cc._data).astype(xp.int64) for cc in coords]
            t = [cc - wrap(b.astype(dt)) for cc, b in zip(coords, base)]
            wy, wx = _cubic_weights(t[0]), _cubic_weights(t[1])
            taps_list, weights = [], []
            for i in range(4):
                ty = _pad_taps(base[0] - 1 + i, sizes[0], padding_mode, align)
                for j in range(4):
                    tx = _pad_taps(base[1] - 1 + j, sizes[1], padding_mode, align)
                    taps_list.append([ty, tx])
                    weights.append(wy[i] * wx[j])
        else:
            coords = [_pad_coords(cc, s, padding_mode, align) for cc, s in zip(coords, sizes)]
            base = [xp.floor(cc._data).astype(xp.int64) for cc in coords]
            frac = [cc - wrap(b.astype(dt)) for cc, b in zip(coords, base)]
            taps_list, weights = [], []
            for corner in range(2 ** nd):
                bits = [(corner >> (nd - 1 - k)) & 1 for k in range(nd)]
                taps_list.append([b + bit for b, bit in zip(base, bits)])
                w = None
                for f, bit in zip(frac, bits):
                    wk = f if bit else 1 - f
                    w = wk if w is None else w * wk
                weights.append(w)
        vals, inside = _gather_rows(x_rows, sizes, n, taps_list)
        w = _f.stack(weights).reshape(inside.shape) * wrap(inside.astype(dt))
        out = _f.sum(vals * w, 0)
    out = _f.transpose(out.reshape(n, p, c), 1, 2)
    out = out.reshape((n, c) + out_sp)
    return out.half() if half else out


def _base_coords(steps, align, dtype):
    """linspace(-1, 1, steps), shrunk by (steps - 1)/steps unless align_corners (torch's
    linspace_from_neg_one; a single step is 0)."""
    if steps <= 1:
        return xp.zeros(max(steps, 0), dtype)
    r = xp.linspace(-1, 1, steps, dtype=dtype)
    return r if align else r * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """The (N, H, W, 2) (or (N, D, H, W, 3)) sampling grid of the affine maps theta (N, 2, 3)
    (or (N, 3, 4)), for grid_sample.

    >>> theta = chainrule.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> chainrule.nn.functional.affine_grid(theta, (1, 1, 1, 2), align_corners=False)
    tensor([[[[-0.5000,  0.0000],
              [ 0.5000,  0.0000]]]])
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    t = tensor_arg(theta, "affine_grid")
    if not t.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {t.dtype}")
    size = list(size)
    if len(size) == 4:
        if t.ndim != 3 or t.shape[-2] != 2 or t.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{_size_repr(size)}. Got {t.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if t.ndim != 3 or t.shape[-2] != 3 or t.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{_size_repr(size)}. Got {t.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {_size_repr(size)}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {_size_repr(size)}")
    return _affine_grid_generator(t, size, align_corners)


def _size_repr(size):
    return repr(size)


def _affine_grid_generator(t, size, align):
    nd = len(size) - 2
    n = size[0]
    spatial = list(size[2:])
    dt = t._data.dtype
    axes = [_base_coords(s, align, dt) for s in spatial]           # (D,) H, W
    mesh = xp.meshgrid(*axes, indexing="ij")
    # base[..., :] = (x, y[, z], 1): x runs along the last spatial dim
    base = xp.stack([mesh[nd - 1 - k] for k in range(nd)] + [xp.ones_like(mesh[0])], axis=-1)
    base = wrap(xp.ascontiguousarray(base.reshape(1, -1, nd + 1)))
    grid = _f.matmul(base, _f.transpose(t, 1, 2))             # (N, P, nd)
    return grid.reshape([n] + spatial + [nd])
