"""Scans, sorting and selection with PyTorch's names (issue #12): ``cumsum``, ``cumprod``,
``cummax``/``cummin``, ``logcumsumexp``, ``sort``/``argsort``/``msort``, ``kthvalue``,
``median``/``nanmedian``, ``mode``, ``quantile``/``nanquantile``, ``unique``,
``unique_consecutive``, ``searchsorted``, ``bucketize``, ``diff``, ``trapezoid``,
``cumulative_trapezoid``, ``histc``, ``histogram``, ``histogramdd``, ``bincount``, ``isin``.

Selections are composed: the positions come from NumPy (no gradient) and the values are read
with ``index``, whose rule sends g back to the selected elements, as torch's rules do.
"""
import builtins
import math

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..tensor import Tensor, apply, dim_index, wrap
from ._args import numpy_names, required_dim, tensor_arg
from .elementwise import where
from .reductions import check_nonempty, integer_to_int64, return_type
from .shape import cat, getitem, reshape, stack

_sort_result = return_type("sort", ["values", "indices"])
_cummax_result = return_type("cummax", ["values", "indices"])
_cummin_result = return_type("cummin", ["values", "indices"])
_kthvalue_result = return_type("kthvalue", ["values", "indices"])
_median_result = return_type("median", ["values", "indices"])
_nanmedian_result = return_type("nanmedian", ["values", "indices"])
_mode_result = return_type("mode", ["values", "indices"])
_histogram_result = return_type("histogram", ["hist", "bin_edges"])
_histogramdd_result = return_type("histogramdd", ["hist", "bin_edges"])


def _name(dtype):
    return D.SCALAR_NAMES.get(dtype.name, dtype.name)


def _take(x, idx, d, keepdim=True, name="IndexBackward0"):
    """x's elements at positions ``idx`` along dim d (idx has x's ndim, any size along d),
    with gradients scattered back to them; without keepdim, d (of size 1) is dropped."""
    if not keepdim:
        idx = xp.squeeze(idx, d)
        grid = list(xp.ix_(*[xp.arange(n) for n in idx.shape]))
        grid.insert(d, idx)
    else:
        grid = list(xp.ix_(*[xp.arange(n) for n in idx.shape]))
        grid[d] = idx
    return apply(ops.index, (x,), {"index": tuple(grid), "accumulate": True}, name=name)


def _scalar_pick(x, name):
    """A 0-d input's only element, as a new node (torch's selections of a 0-d tensor)."""
    return apply(ops.index, (x,), {"index": (Ellipsis,), "accumulate": False}, name=name)


def _no_bool(x, kernel):
    """torch's NotImplementedError for selections it has no bool kernel for."""
    if x._data.dtype == bool:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\' (convert first, '
                                  "e.g. x.int())")
    return x


def _long(a):
    return wrap(xp.asarray(a).astype(xp.int64))


# =========================================================================================
# Scans
# =========================================================================================

def _scan(op, input, dim, axis, name):
    dim = required_dim(name, dim, axis)
    x = tensor_arg(input, name)
    d = dim_index(dim, x._data.ndim, name)
    if x._data.ndim == 0:
        return reshape(apply(op, (reshape(x, (1,)),), {"dim": 0}), ())
    return apply(op, (x,), {"dim": d})


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """out_k = Σ_{j ≤ k} input_j along dim (integers and bool accumulate in int64)

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([1., 2., 3.]), 0)
    tensor([1., 3., 6.])
    """
    x = integer_to_int64(tensor_arg(input, "cumsum"), dtype)
    return _scan(ops.cumsum, x, dim, axis, "cumsum")


def cumprod(input, dim=None, *, dtype=None, axis=None):
    """out_k = Π_{j ≤ k} input_j along dim; the gradient is exact at zeros, as torch's

    >>> import chainrule as cr
    >>> cr.cumprod(cr.tensor([1., 2., 3.]), 0)
    tensor([1., 2., 6.])
    """
    x = integer_to_int64(tensor_arg(input, "cumprod"), dtype)
    return _scan(ops.cumprod, x, dim, axis, "cumprod")


def logcumsumexp(input, dim=None, *, axis=None):
    """out_k = ln Σ_{j ≤ k} e^{input_j} along dim, stable for inputs of any size

    >>> import chainrule as cr
    >>> cr.logcumsumexp(cr.tensor([0., 0.]), 0)
    tensor([0.0000, 0.6931])
    """
    x = tensor_arg(input, "logcumsumexp")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{_name(x._data.dtype)}' (convert first, e.g. "
                                  "x.float().logcumsumexp(dim))")
    return _scan(ops.logcumsumexp, x, dim, axis, "logcumsumexp")


def _cum_extreme(name, acc, input, dim, axis):
    dim = required_dim(name, dim, axis)
    x = tensor_arg(input, name)
    d = dim_index(dim, x._data.ndim, name)
    result = _cummax_result if name == "cummax" else _cummin_result
    backward = "CummaxBackward0" if name == "cummax" else "CumminBackward0"
    if x._data.ndim == 0:
        return result(_scalar_pick(x, backward), _long(0))
    a = x._data
    run = acc.accumulate(a, axis=d)         # NaN propagates, as torch
    shape = [1] * a.ndim
    shape[d] = a.shape[d]
    pos = xp.arange(a.shape[d]).reshape(shape)
    # the latest position holding the running extreme (ties and NaN: the latest, as torch)
    hit = (a == run) | ((a != a) & (run != run))
    idx = xp.maximum.accumulate(xp.where(hit, pos, -1), axis=d) if a.size else \
        xp.zeros(a.shape, xp.int64)
    return result(_take(x, idx, d, name=backward), _long(idx))


def cummax(input, dim=None, *, axis=None):
    """(values, indices): the running maximum along dim and where it was (the latest on ties)

    >>> import chainrule as cr
    >>> cr.cummax(cr.tensor([1., 3., 2.]), 0).values
    tensor([1., 3., 3.])
    """
    return _cum_extreme("cummax", xp.maximum, input, dim, axis)


def cummin(input, dim=None, *, axis=None):
    """(values, indices): the running minimum along dim and where it was (the latest on ties)

    >>> import chainrule as cr
    >>> cr.cummin(cr.tensor([3., 1., 2.]), 0).values
    tensor([3., 1., 1.])
    """
    return _cum_extreme("cummin", xp.minimum, input, dim, axis)


# =========================================================================================
# Sorting and selection
# =========================================================================================

def _order(a, d, descending):
    """A stable sort's positions along d (NaN the largest, as torch)."""
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    # descending and stable: sort the reversed array ascending, reverse back
    n = a.shape[d]
    o = xp.argsort(xp.flip(a, d), axis=d, kind="stable")
    return xp.flip(n - 1 - o, d)


def sort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """(values, indices): input sorted along dim (always stable; NaN sorts as the largest)

    >>> import chainrule as cr
    >>> cr.sort(cr.tensor([3., 1., 2.])).values
    tensor([1., 2., 3.])
    """
    dim, _ = numpy_names("sort", dim, axis, dim_default=-1)
    x = tensor_arg(input, "sort")
    d = dim_index(dim, x._data.ndim, "sort")
    backward = "SortBackward1" if stable else "SortBackward0"     # torch's two overloads
    if x._data.ndim == 0:
        return _sort_result(_scalar_pick(x, backward), _long(0))
    idx = _order(x._data, d, descending)
    return _sort_result(_take(x, idx, d, name=backward), _long(idx))


def argsort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """The int64 positions that sort input along dim (stable)

    >>> import chainrule as cr
    >>> cr.argsort(cr.tensor([3., 1., 2.]))
    tensor([1, 2, 0])
    """
    dim, _ = numpy_names("argsort", dim, axis, dim_default=-1)
    x = tensor_arg(input, "argsort")
    d = dim_index(dim, x._data.ndim, "argsort")
    if x._data.ndim == 0:
        return _long(0)
    return _long(_order(x._data, d, descending))


def msort(input):
    """input sorted along its first dim: sort(input, 0).values

    >>> import chainrule as cr
    >>> cr.msort(cr.tensor([[2., 1.], [0., 3.]]))
    tensor([[0., 1.],
            [2., 3.]])
    """
    return sort(input, 0).values


def _select_sorted(name, result, x, dim, keepdim, position, refine=None):
    """The element at sorted ``position(sorted_values)`` (an array, one per slice with keepdims)
    along dim, as (values, indices); ``refine(a, idx, d)`` may pick another index among ties."""
    d = dim_index(dim, x._data.ndim, name)
    backward = name.capitalize() + ("Backward0" if name == "kthvalue" else "Backward1")
    if x._data.ndim == 0:
        return result(_scalar_pick(x, backward), _long(0))
    check_nonempty(x, (d,), name)
    order = xp.argsort(x._data, axis=d, kind="stable")
    srt = xp.take_along_axis(x._data, order, d)
    pos = position(srt, d)
    idx = xp.take_along_axis(order, pos, d)
    if refine is not None:
        idx = refine(x._data, idx, d)
    values = _take(x, idx, d, keepdim, name=backward)
    return result(values, _long(idx if keepdim else xp.squeeze(idx, d)))


def kthvalue(input, k, dim=-1, keepdim=False, *, axis=None):
    """(values, indices): the k-th smallest element along dim (k counts from 1)

    >>> import chainrule as cr
    >>> cr.kthvalue(cr.tensor([3., 1., 2.]), 2).values
    tensor(2.)
    """
    dim, _ = numpy_names("kthvalue", dim, axis, dim_default=-1)
    x = tensor_arg(input, "kthvalue")
    if not isinstance(k, (int, xp.integer)) or isinstance(k, bool):
        raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
    d = dim_index(dim, x._data.ndim, "kthvalue")
    _no_bool(x, "kthvalue_cpu")
    if x._data.ndim:
        check_nonempty(x, (d,), "kthvalue", IndexError)
    size = x._data.shape[d] if x._data.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} "
                           f"(k={k}, but the dimension has size {size}; k counts from 1)")

    def position(srt, d):
        shape = list(srt.shape)
        shape[d] = 1
        return xp.full(shape, k - 1, xp.int64)
    return _select_sorted("kthvalue", _kthvalue_result, x, d, keepdim, position,
                          lambda a, idx, d: _quickselect_ties(a, idx, d, k - 1))


def _quickselect_ties(a, idx, d, k):
    """The index torch's kthvalue returns where the k-th value is tied: its quickselect's
    (median-of-three partitioning, NaN the largest), replayed on those slices only."""
    val = xp.take_along_axis(a, idx, d)
    same = (a == val) | ((a != a) & (val != val))
    tied = xp.moveaxis(same.sum(axis=d, keepdims=True) > 1, d, -1).reshape(-1)
    if not tied.any():
        return idx
    rows = xp.moveaxis(a, d, -1).reshape(-1, a.shape[d])
    out = xp.moveaxis(idx, d, -1).reshape(-1).copy()
    for r in xp.flatnonzero(tied):
        out[r] = _quickselect(rows[r].tolist(), k)
    shape = list(xp.moveaxis(idx, d, -1).shape)
    return xp.moveaxis(out.reshape(shape), -1, d)


def _quickselect(arr, k):
    """Position in ``arr`` of the k-th smallest element as torch's quick_select_template
    finds it (aten/src/ATen/native/SortingUtils.h)."""
    def gt(u, v):                           # u > v, NaN the largest
        return (u != u and v == v) or u > v
    pos = list(builtins.range(len(arr)))

    def swap(i, j):
        arr[i], arr[j] = arr[j], arr[i]
        pos[i], pos[j] = pos[j], pos[i]
    lo, hi = 0, len(arr) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(arr[lo], arr[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)   # median of three as the pivot, at lo
        if gt(arr[lo + 1], arr[hi]):
            swap(lo + 1, hi)
        if gt(arr[lo], arr[hi]):
            swap(lo, hi)
        if gt(arr[lo + 1], arr[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, arr[lo]
        while True:
            i += 1
            while gt(piv, arr[i]):
                i += 1
            j -= 1
            while gt(arr[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return pos[k]


def _lower_middle(ignore_nan):
    def position(srt, d):
        n = srt.shape[d]
        if ignore_nan:
            valid = xp.sum(~xp.isnan(srt), axis=d, keepdims=True) if srt.dtype.kind == "f" \
                else xp.full(srt[(slice(None),) * d + (slice(0, 1),)].shape, n, xp.int64)
            return xp.maximum(valid - 1, 0) // 2
        # NaN anywhere makes the median NaN: the first NaN (NaNs sort last, in order)
        if srt.dtype.kind != "f":
            shape = list(srt.shape)
            shape[d] = 1
            return xp.full(shape, (n - 1) // 2, xp.int64)
        nans = xp.sum(xp.isnan(srt), axis=d, keepdims=True)
        return xp.where(nans > 0, n - nans, (n - 1) // 2).astype(xp.int64)
    return position


def _median_all(name, input):
    """median() and nanmedian() of all elements: the gradient is shared evenly by the elements
    equal to the result, as torch's (amax of the selected elements does exactly that)."""
    x = tensor_arg(input, name)
    _no_bool(x, "median_cpu")
    if x._data.size == 0:
        if x._data.dtype.kind != "f":      # torch's placeholder: the dtype's lowest value
            return wrap(xp.asarray(xp.iinfo(x._data.dtype).min, x._data.dtype))
        return wrap(xp.asarray(xp.nan, x._data.dtype))
    flat = xp.sort(x._data.reshape(-1), kind="stable")
    n = flat.size
    if x._data.dtype.kind == "f":
        nans = int(xp.isnan(flat).sum())
        if name == "median":
            pos = n - nans if nans else (n - 1) // 2
        else:
            pos = builtins.max(n - nans - 1, 0) // 2 if nans < n else 0
    else:
        pos = (n - 1) // 2
    v = flat[pos]
    if not x._requires_grad:
        return wrap(xp.asarray(v))
    mask = (x._data != x._data) if v != v else (x._data == v)
    backward = "MedianBackward0" if name == "median" else "NanmedianBackward0"
    picked = getitem(x, wrap(mask))
    return apply(ops.amax, (picked,), {"dims": None, "keepdim": False}, name=backward)


def median(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower of the two middle values (NaN if any is NaN); with dim, (values, indices)

    >>> import chainrule as cr
    >>> cr.median(cr.tensor([1., 4., 2., 3.]))
    tensor(2.)
    """
    dim, keepdim = numpy_names("median", dim, axis, keepdim, keepdims)
    if dim is None:
        return _median_all("median", input)
    x = _no_bool(tensor_arg(input, "median"), "median_out")
    return _select_sorted("median", _median_result, x, dim, keepdim, _lower_middle(False))


def nanmedian(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """median ignoring NaN (NaN only where every element is NaN)

    >>> import chainrule as cr
    >>> cr.nanmedian(cr.tensor([1., float("nan"), 3., 2.]))
    tensor(2.)
    """
    dim, keepdim = numpy_names("nanmedian", dim, axis, keepdim, keepdims)
    if dim is None:
        return _median_all("nanmedian", input)
    x = _no_bool(tensor_arg(input, "nanmedian"), "median_out")
    return _select_sorted("nanmedian", _nanmedian_result, x, dim, keepdim, _lower_middle(True))


def mode(input, dim=-1, keepdim=False, *, axis=None):
    """(values, indices): the most frequent value along dim (the smallest among equally
    frequent ones) and its last position

    >>> import chainrule as cr
    >>> cr.mode(cr.tensor([1., 2., 2., 3.])).values
    tensor(2.)
    """
    dim, _ = numpy_names("mode", dim, axis, dim_default=-1)
    x = tensor_arg(input, "mode")
    d = dim_index(dim, x._data.ndim, "mode")
    if x._data.ndim == 0:
        return _mode_result(_scalar_pick(x, "ModeBackward0"), _long(0))
    check_nonempty(x, (d,), "mode")
    a = xp.moveaxis(x._data, d, -1)
    rows = a.reshape(-1, a.shape[-1])
    idx = xp.empty(rows.shape[0], xp.int64)
    for r, row in enumerate(rows):
        values, counts = xp.unique(row, return_counts=True)
        v = values[xp.argmax(counts)]
        idx[r] = xp.flatnonzero((row == v) | ((row != row) & (v != v)))[-1]
    idx = xp.expand_dims(idx.reshape(a.shape[:-1]), d)
    values = _take(x, idx, d, keepdim, name="ModeBackward0")
    return _mode_result(values, _long(idx if keepdim else xp.squeeze(idx, d)))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    x = tensor_arg(input, name)
    dt = x._data.dtype
    if dt not in (xp.float32, xp.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype "
                           f"(got {_name(dt)}; convert first, e.g. x.double())")
    if x._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor (got {q._data.ndim} "
                               "dimensions)")
        if q._data.dtype != dt:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor "
                               f"({_name(q._data.dtype)} vs {_name(dt)})")
        qa = q._data
    else:
        qa = xp.asarray(float(q), dt)
    if qa.size and not ((qa >= 0) & (qa <= 1)).all():
        bad = qa[~((qa >= 0) & (qa <= 1))].reshape(-1)[0]
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {float(bad):g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    # the reduced dim moved last (all elements flattened for dim=None)
    if dim is None:
        xs = reshape(x, (-1,))
        d = 0
    else:
        d = dim_index(dim, x._data.ndim, name)
        xs = x if x._data.ndim else reshape(x, (1,))
    a = xs._data
    order = xp.argsort(a, axis=d, kind="stable")
    srt = xp.take_along_axis(a, order, d)
    n = a.shape[d]
    if ignore_nan:
        valid = xp.sum(~xp.isnan(srt), axis=d, keepdims=True)
    else:
        has_nan = xp.isnan(srt).any(axis=d, keepdims=True)
    outs = []
    for j, qj in enumerate(qa.reshape(-1)):
        # ranks as torch computes them, in the input's dtype
        if ignore_nan:
            ranks = xp.maximum(qj * (valid - 1).astype(dt), 0).astype(dt)
        else:
            ranks = xp.where(has_nan, dt.type(n - 1), qj * dt.type(n - 1)).astype(dt)
            ranks = xp.broadcast_to(ranks, has_nan.shape)
        if interpolation == "lower":
            ranks = xp.floor(ranks)
        elif interpolation == "higher":
            ranks = xp.ceil(ranks)
        elif interpolation == "nearest":
            ranks = xp.round(ranks)              # half to even, as torch's round
        below = ranks.astype(xp.int64)
        out = lo = _take(xs, xp.take_along_axis(order, below, d), d)
        if interpolation in ("linear", "midpoint"):
            w = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
            above = xp.ceil(ranks).astype(xp.int64)
            hi = _take(xs, xp.take_along_axis(order, above, d), d)
            # torch's lerp: from the nearer end, so w = 1 gives hi exactly
            wt = wrap(xp.asarray(w, dt))
            if isinstance(q, Tensor) and interpolation == "linear":
                # the weight is q·(n - 1) - below: q gets a gradient too, as in torch
                scale = (valid - 1).astype(dt) if ignore_nan else dt.type(n - 1)
                fixed = (qj * scale < 0) if ignore_nan else has_nan
                rank = where(wrap(xp.broadcast_to(fixed, ranks.shape)), wrap(ranks),
                             reshape(q, (-1,))[j] * wrap(xp.asarray(scale, dt)))
                wt = rank - wrap(below.astype(dt))
            out = where(wrap(w < 0.5), lo + wt * (hi - lo), hi - (hi - lo) * (1 - wt))
        if dim is None:
            out = reshape(out, (1,) * x._data.ndim if keepdim else ())
        elif not keepdim or x._data.ndim == 0:
            out = reshape(out, tuple(s for i, s in enumerate(a.shape) if i != d)
                          if x._data.ndim else ())
        outs.append(out)
    if isinstance(q, Tensor) and q._data.ndim == 1:
        if not outs:                    # an empty q: the result's shape, with 0 quantiles
            shape = list(x._data.shape)
            if dim is None:
                shape = [1] * len(shape) if keepdim else []
            elif keepdim:
                shape[d] = 1
            elif shape:
                del shape[d]
            return wrap(xp.zeros([0] + shape, dt))
        return stack(outs, 0)
    return outs[0]


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", axis=None,
             keepdims=None):
    """The q-th quantiles along dim (all elements by default), interpolating between the two
    nearest sorted values (NaN if any is NaN); a 1-d q adds a leading dim

    >>> import chainrule as cr
    >>> cr.quantile(cr.tensor([1., 2., 3., 4.]), 0.5)
    tensor(2.5000)
    """
    dim, keepdim = numpy_names("quantile", dim, axis, keepdim, keepdims)
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", axis=None,
                keepdims=None):
    """quantile ignoring NaN (NaN only where every element is NaN)

    >>> import chainrule as cr
    >>> cr.nanquantile(cr.tensor([1., float("nan"), 3.]), 0.5)
    tensor(2.)
    """
    dim, keepdim = numpy_names("nanquantile", dim, axis, keepdim, keepdims)
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


# =========================================================================================
# Unique values, searching, counting (no gradients)
# =========================================================================================

def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), and optionally each element's position among them and
    their counts; with dim, the distinct slices along it

    >>> import chainrule as cr
    >>> cr.unique(cr.tensor([3, 1, 3, 2]), return_counts=True)
    (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    x = tensor_arg(input, "unique")
    a = x._data
    if dim is not None:
        d = dim_index(dim, a.ndim, "unique")
        vals, inv, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=d)
    else:
        # each NaN is its own value, as torch (NaN != NaN)
        vals, inv, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                      equal_nan=False)
        inv = inv.reshape(a.shape)
    out = wrap(xp.ascontiguousarray(vals))
    if not return_inverse and not return_counts:
        return out
    res = (out,)
    if return_inverse:
        res += (_long(inv.reshape(-1) if dim is not None else inv),)
    if return_counts:
        res += (_long(counts),)
    return res


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive values (or slices along dim) kept once

    >>> import chainrule as cr
    >>> cr.unique_consecutive(cr.tensor([1, 1, 2, 1]))
    tensor([1, 2, 1])
    """
    x = tensor_arg(input, "unique_consecutive")
    a = x._data
    if dim is None:
        flat = a.reshape(-1)
        change = flat[1:] != flat[:-1] if flat.size else xp.zeros(0, bool)
        d, moved = 0, flat
    else:
        d = dim_index(dim, a.ndim, "unique_consecutive")
        moved = xp.moveaxis(a, d, 0).reshape(a.shape[d], -1) if a.ndim else a.reshape(1, 1)
        change = (moved[1:] != moved[:-1]).any(axis=1) if moved.shape[0] else xp.zeros(0, bool)
    starts = xp.concatenate([[True], change]) if moved.shape[0] else xp.zeros(0, bool)
    first = xp.flatnonzero(starts)
    if dim is None:
        out = wrap(xp.ascontiguousarray(moved[first]))
    else:
        out = wrap(xp.ascontiguousarray(xp.take(a, first, axis=d)))
    if not return_inverse and not return_counts:
        return out
    res = (out,)
    if return_inverse:
        inv = xp.cumsum(starts) - 1
        res += (_long(inv.reshape(a.shape) if dim is None else inv),)
    if return_counts:
        res += (_long(xp.diff(xp.append(first, moved.shape[0]))),)
    return res


def _search_values(v, op):
    if isinstance(v, Tensor):
        return v._data, False
    if isinstance(v, (bool, int, float)):
        return xp.asarray(v), True
    return tensor_arg(v, op)._data, False


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value of input would go in sorted_sequence (along its last dim) to keep it
    sorted: the first such place, or the last with right=True or side='right'

    >>> import chainrule as cr
    >>> cr.searchsorted(cr.tensor([1., 2., 3.]), cr.tensor([2.5, 0.]))
    tensor([2, 0])
    """
    seq = _no_bool(tensor_arg(sorted_sequence, "searchsorted"), "searchsorted_out_cpu")._data
    vals, scalar = _search_values(input, "searchsorted")
    if vals.dtype == bool:
        _no_bool(wrap(vals), "searchsorted_out_cpu")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError("torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    s = "right" if right else "left"
    if sorter is not None:
        seq = xp.take_along_axis(seq, tensor_arg(sorter)._data, -1)
    if seq.ndim <= 1:
        out = xp.searchsorted(seq, vals, side=s)
    else:
        if vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                               "the first N-1 dimensions of boundaries tensor and input value "
                               f"tensor must match, but we got boundaries tensor "
                               f"{list(seq.shape)} and input value tensor {list(vals.shape)}")
        rows = math.prod(seq.shape[:-1])
        s2 = seq.reshape(rows, seq.shape[-1])
        v2 = vals.reshape(rows, vals.shape[-1])
        out = xp.stack([xp.searchsorted(b, v, side=s) for b, v in zip(s2, v2)]).reshape(
            vals.shape) if vals.size else xp.zeros(vals.shape, xp.int64)
    return wrap(xp.asarray(out).astype(xp.int32 if out_int32 else xp.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of input among 1-d boundaries: i with
    boundaries[i-1] < v ≤ boundaries[i] (boundaries[i-1] ≤ v < boundaries[i] with right=True)

    >>> import chainrule as cr
    >>> cr.bucketize(cr.tensor([0.5, 2., 7.]), cr.tensor([1., 2., 5.]))
    tensor([0, 1, 3])
    """
    b = _no_bool(tensor_arg(boundaries, "bucketize"), "searchsorted_out_cpu")._data
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    vals, _ = _search_values(input, "bucketize")
    if vals.dtype == bool:
        _no_bool(wrap(vals), "searchsorted_out_cpu")
    out = xp.searchsorted(b, vals, side="right" if right else "left")
    return wrap(xp.asarray(out).astype(xp.int32 if out_int32 else xp.int64))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of elements is among test_elements (False with invert=True)

    >>> import chainrule as cr
    >>> cr.isin(cr.tensor([1, 2, 3]), cr.tensor([2, 5]))
    tensor([False,  True, False])
    """
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    if e.dtype == bool or t.dtype == bool:
        raise RuntimeError("Unsupported input type encountered for isin(): Bool (convert "
                           "first, e.g. x.int())")
    return wrap(xp.asarray(xp.isin(e, t, invert=invert)))


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-d input (sums of weights with them)

    >>> import chainrule as cr
    >>> cr.bincount(cr.tensor([0, 2, 2]))
    tensor([1, 0, 2])
    """
    x = tensor_arg(input, "bincount")
    a = x._data
    if a.dtype.kind == "f":
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_name(a.dtype)}\' '
                                  "(bincount counts integers: convert first, e.g. x.long())")
    if a.ndim != 1 or (a.size and a.min() < 0) or a.dtype == bool:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _long(xp.bincount(a, minlength=minlength))
    w = tensor_arg(weights, "bincount")._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = w.dtype if w.dtype in (xp.float32, xp.float64) else xp.float64
    return wrap(xp.bincount(a, weights=w, minlength=minlength).astype(dt))


def _hist_check(x, name):
    if name != "histc" and x._data.dtype == xp.float16:
        raise NotImplementedError('"histogramdd" not implemented for \'Half\' (convert first, '
                                  "e.g. x.float())")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{_name(x._data.dtype)}' (convert first, e.g. x.float())")


def histc(input, bins=100, min=0, max=0):
    """Counts of input's elements in ``bins`` equal bins over [min, max] (the data's range
    when both are 0); elements outside are ignored

    >>> import chainrule as cr
    >>> cr.histc(cr.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    x = tensor_arg(input, "histc")
    _hist_check(x, "histc")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    a = x._data
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    # torch's bin arithmetic, in the input's dtype: (v - min)·bins / (max - min), truncated;
    # max itself goes to the last bin.  (NumPy's histogram moves values on an edge.)
    t = a.dtype.type
    kept = a[(a >= t(lo)) & (a <= t(hi))]
    with xp.errstate(all="ignore"):
        pos = ((kept - t(lo)) * t(bins) / (t(hi) - t(lo))).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    return wrap(xp.bincount(pos, minlength=bins).astype(a.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): counts (or weights' sums, or densities) of input's elements in bins
    (a count over range or the data's range, or a 1-d tensor of edges)

    >>> import chainrule as cr
    >>> cr.histogram(cr.tensor([1., 2., 1.]), bins=2).hist
    tensor([2., 1.])
    """
    x = tensor_arg(input, "histogram")
    _hist_check(x, "histogram")
    a = x._data.reshape(-1)
    w = None if weight is None else tensor_arg(weight)._data.reshape(-1)
    if isinstance(bins, Tensor):
        b = bins._data
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                               "dimension 0")
        b = int(bins)
    rng = None if range is None else (float(range[0]), float(range[1]))
    if rng is None and not isinstance(b, xp.ndarray):
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        rng = (lo, hi) if lo != hi else (lo - 0.5, hi + 0.5) if a.size else (0.0, 1.0)
    hist, edges = xp.histogram(a, bins=b, range=rng, weights=w, density=density)
    return _histogram_result(wrap(hist.astype(x._data.dtype)),
                             wrap(edges.astype(x._data.dtype)))


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): the multidimensional histogram of input's rows (N, D)

    >>> import chainrule as cr
    >>> cr.histogramdd(cr.tensor([[0., 0.], [1., 1.]]), bins=2).hist
    tensor([[1., 0.],
            [0., 1.]])
    """
    x = tensor_arg(input, "histogramdd")
    _hist_check(x, "histogramdd")
    a = x._data.reshape(-1, x._data.shape[-1])
    w = None if weight is None else tensor_arg(weight)._data.reshape(-1)
    if isinstance(bins, int):
        bins = [bins] * a.shape[1]
    bins = [b._data if isinstance(b, Tensor) else int(b) for b in bins]
    rng = None
    if range is not None:
        rng = [(float(range[2 * i]), float(range[2 * i + 1])) for i in builtins.range(a.shape[1])]
    else:
        rng = []
        for i, b in enumerate(bins):
            if isinstance(b, xp.ndarray):
                rng.append(None)
                continue
            lo, hi = (float(a[:, i].min()), float(a[:, i].max())) if a.size else (0.0, 0.0)
            rng.append((lo, hi) if lo != hi else (lo - 0.5, hi + 0.5) if a.size else (0., 1.))
    hist, edges = xp.histogramdd(a, bins=bins, range=rng, weights=w, density=density)
    return _histogramdd_result(wrap(hist.astype(x._data.dtype)),
                               tuple(wrap(e.astype(x._data.dtype)) for e in edges))


# =========================================================================================
# Differences and integrals (composed: gradients come from slicing and sums)
# =========================================================================================

def _slice(x, d, start, stop):
    return getitem(x, (slice(None),) * d + (slice(start, stop),))


def diff(input, n=1, dim=-1, prepend=None, append=None, *, axis=None):
    """out_i = input_{i+1} - input_i along dim, n times (prepend/append joined first);
    for bool, input_{i+1} != input_i

    >>> import chainrule as cr
    >>> cr.diff(cr.tensor([1., 4., 9.]))
    tensor([3., 5.])
    """
    dim, _ = numpy_names("diff", dim, axis, dim_default=-1)
    x = tensor_arg(input, "diff")
    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = dim_index(dim, x._data.ndim, "diff")
    if n == 0:                      # torch returns the input as it is (prepend/append unused)
        return x
    parts = [t for t in (prepend, x, append) if t is not None]
    if len(parts) > 1:
        parts = [p if p is x else _side_tensor(p, x, d) for p in parts]
        x = cat(parts, d)
    for _ in builtins.range(n):
        if x._data.shape[d] == 0:
            break
        hi, lo = _slice(x, d, 1, None), _slice(x, d, None, -1)
        x = wrap(hi._data != lo._data) if x._data.dtype == bool else hi - lo
    return x


def _side_tensor(p, x, d):
    if isinstance(p, Tensor):
        return p
    shape = list(x._data.shape)
    shape[d] = 1
    return wrap(xp.full(shape, p, x._data.dtype))


def _trapezoid_parts(name, y, x, dx, dim):
    y = tensor_arg(y, name)
    if y._data.dtype == bool:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions "
                         f"({name} integrates along a dim of a tensor of 1 or more dims)")
    if x is not None and dx is not None:
        raise TypeError(f"{name}() takes sample points x or a spacing dx, not both")
    if isinstance(x, Tensor) and x._data.ndim == 1 and \
            x._data.shape[0] != y._data.shape[dim_index(dim, y._data.ndim, name)]:
        raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
    if y._data.dtype.kind != "f":
        y = y.to(D.get_default_dtype()) if x is None or not isinstance(x, Tensor) or \
            x._data.dtype.kind != "f" else y.to(x.dtype)
    d = dim_index(dim, y._data.ndim, name)
    mid = (_slice(y, d, 1, None) + _slice(y, d, None, -1)) / 2
    if x is None:
        return mid * (1.0 if dx is None else dx), d
    if isinstance(x, Tensor):
        if x._data.ndim == 1:
            shape = [1] * y._data.ndim
            shape[d] = x._data.shape[0]
            x = reshape(x, tuple(shape))
        return mid * diff(x, dim=d), d
    return mid * float(x), d


def trapezoid(y, x=None, *, dx=None, dim=-1, axis=None):
    """∫ y dx along dim by the trapezoid rule (spacing dx, 1 by default, or sample points x)

    >>> import chainrule as cr
    >>> cr.trapezoid(cr.tensor([1., 2., 4.]))
    tensor(4.5000)
    """
    dim, _ = numpy_names("trapezoid", dim, axis, dim_default=-1)
    parts, d = _trapezoid_parts("trapezoid", y, x, dx, dim)
    return parts.sum(d)


def trapz(y, x=None, *, dx=None, dim=-1, axis=None):
    """trapezoid's older name

    >>> import chainrule as cr
    >>> cr.trapz(cr.tensor([1., 2., 4.]), dx=2.)
    tensor(9.)
    """
    return trapezoid(y, x, dx=dx, dim=dim, axis=axis)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1, axis=None):
    """The running trapezoid-rule integral of y along dim (one element fewer than y)

    >>> import chainrule as cr
    >>> cr.cumulative_trapezoid(cr.tensor([1., 2., 4.]))
    tensor([1.5000, 4.5000])
    """
    dim, _ = numpy_names("cumulative_trapezoid", dim, axis, dim_default=-1)
    parts, d = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    return cumsum(parts, d)


def gradient(input, *, spacing=1, dim=None, edge_order=1, axis=None):
    """Estimates of ∂input/∂x_d along each dim d: central differences inside, one-sided ones
    (first or second order) at the edges, as NumPy's gradient; spacing is a number, one per
    dim, or each dim's sample coordinates (taken as constants, without gradients)

    >>> import chainrule as cr
    >>> cr.gradient(cr.tensor([1., 2., 4., 8.]))[0]
    tensor([1.0000, 1.5000, 3.0000, 4.0000])
    """
    dim, _ = numpy_names("gradient", dim, axis)
    f = tensor_arg(input, "gradient")
    if f._data.dtype.kind != "f":
        f = f.to(D.get_default_dtype())
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    nd = f._data.ndim
    if dim is None:
        dims = list(builtins.range(nd))
    elif isinstance(dim, (list, tuple)):
        dims = [dim_index(d, nd, "gradient") for d in dim]
    else:
        dims = [dim_index(dim, nd, "gradient")]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(spacing)} and a dim "
                               f"argument of length {len(dims)}.")
        spacings = list(spacing)
    else:
        spacings = [1 if spacing is None else spacing] * len(dims)
    for d in dims:
        if f._data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    return tuple(_gradient_along(f, d, h, edge_order) for d, h in zip(dims, spacings))


def _gradient_along(f, d, h, edge_order):
    n = f._data.shape[d]
    dt = f._data.dtype
    shape = [1] * f._data.ndim
    shape[d] = -1

    def const(a):
        return wrap(xp.asarray(a, dt).reshape(shape))

    def part(start, stop):
        return _slice(f, d, start, stop)
    if isinstance(h, Tensor) and h._data.ndim == 1:
        x = h._data.astype(xp.float64)
        if x.shape[0] != n:
            raise RuntimeError(f"torch.gradient expected each tensor to be on the same device "
                               f"and have {n} coordinates along dim {d} (got {x.shape[0]})")
        dx = xp.diff(x)
    else:
        step = float(h._data) if isinstance(h, Tensor) else float(h)
        dx = xp.full(n - 1, step)
    d1, d2 = dx[:-1], dx[1:]
    a = -d2 / (d1 * (d1 + d2))
    b = (d2 - d1) / (d1 * d2)
    c = d1 / (d2 * (d1 + d2))
    inner = part(None, -2) * const(a) + part(1, -1) * const(b) + part(2, None) * const(c)
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / const(dx[:1])
        last = (part(n - 1, n) - part(n - 2, n - 1)) / const(dx[-1:])
    else:
        e1, e2 = dx[0], dx[1]
        first = part(0, 1) * const([-(2 * e1 + e2) / (e1 * (e1 + e2))]) + \
            part(1, 2) * const([(e1 + e2) / (e1 * e2)]) + part(2, 3) * const([-e1 / (e2 * (e1 + e2))])
        e1, e2 = dx[-2], dx[-1]
        last = part(n - 3, n - 2) * const([e2 / (e1 * (e1 + e2))]) + \
            part(n - 2, n - 1) * const([-(e2 + e1) / (e1 * e2)]) + \
            part(n - 1, n) * const([(2 * e2 + e1) / (e2 * (e1 + e2))])
    return cat([first, inner, last], d)


def _scan_(name, fn, self, dim, dtype, axis):
    from ._inplace import inplace
    dim = required_dim(name + "_", dim, axis)
    dt = self._data.dtype
    if dt == bool:
        raise NotImplementedError(f'"{name}_out_cpu" not implemented for \'Bool\' (in place, '
                                  f"{name}_ keeps the dtype: use x.{name}({dim}), which gives int64)")
    if dtype is not None and dtype.np != dt:
        raise RuntimeError(f"Bad in-place call: input tensor dtype {D.CPP_NAMES.get(dt.name, dt)} "
                           f"and output tensor dtype "
                           f"{D.CPP_NAMES.get(dtype.np.name, dtype.np)} should match")
    return inplace(self, fn, dim)


def cumsum_(self, dim=None, *, dtype=None, axis=None):
    """cumsum, in place (integers wrap around in their own dtype)

    >>> import chainrule as cr
    >>> cr.tensor([1., 2., 3.]).cumsum_(0)
    tensor([1., 3., 6.])
    """
    return _scan_("cumsum", cumsum, self, dim, dtype, axis)


def cumprod_(self, dim=None, *, dtype=None, axis=None):
    """cumprod, in place (integers wrap around in their own dtype)

    >>> import chainrule as cr
    >>> cr.tensor([1., 2., 3.]).cumprod_(0)
    tensor([1., 2., 6.])
    """
    return _scan_("cumprod", cumprod, self, dim, dtype, axis)
