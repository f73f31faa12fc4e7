"""Reductions with PyTorch's names: ``sum``, ``mean``, ``prod``, ``amax``/``max``, ``argmax``,
``var``/``std``, ``logsumexp``, ``norm``, ``softmax``, ``any``/``all``.  ``dim`` as torch takes
it (an int, a tuple, or None for all), ``axis=``/``keepdims=`` as NumPy spells them."""
import builtins
import collections
import warnings

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..grad_mode import state as _grad_state
from ..tensor import Tensor, apply, dim_index, wrap
from ._args import (float_input, nondiff, numpy_names, reduce_dims, required_dim,
                    tensor_arg)
from .elementwise import div, maximum, minimum, sqrt, where


# =========================================================================================
# Reductions
# =========================================================================================

def _reduce_count(x, dims):
    """n, the number of elements reduced into each output element (torch's "reduction factor",
    numel divided by output numel: 0 for an empty input whatever the dims)."""
    shape = x._data.shape
    if x._data.size == 0:
        return 0
    n = 1
    for a in (range(len(shape)) if dims is None else dims):
        n *= shape[a]
    return n


def _wide(x):
    """float16 reductions accumulate in float32, as torch: in float16, mean([60000, 60000]) sums
    to inf and var([1000, 1001, 1002]) rounds its mean.  The caller casts the result back."""
    return x.to(D.float32) if x._data.dtype == xp.float16 else x


def integer_to_int64(x, dtype):
    """sum and prod: an explicit dtype converts first; bool and integers accumulate in int64."""
    if dtype is not None:
        return x.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != xp.int64:
        return wrap(x._data.astype(xp.int64))
    return x


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Σ input over dim (all dims by default)"""
    dim, keepdim = numpy_names("sum", dim, axis, keepdim, keepdims)
    x = integer_to_int64(tensor_arg(input), dtype)
    return apply(ops.sum, (x,), {"dims": reduce_dims(dim, x._data.ndim), "keepdim": keepdim})


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Σ input / n over dim"""
    dim, keepdim = numpy_names("mean", dim, axis, keepdim, keepdims)
    x = tensor_arg(input)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {D.SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)} "
            "(convert first, e.g. x.float().mean())")
    dims = reduce_dims(dim, x._data.ndim)
    w = _wide(x)
    out = div(sum(w, dims, keepdim), _reduce_count(x, dims))
    return out if w is x else out.to(x.dtype)




def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Π input over dim"""
    dim, keepdim = numpy_names("prod", dim, axis, keepdim, keepdims)
    x = integer_to_int64(tensor_arg(input), dtype)
    return apply(ops.prod, (x,), {"dims": reduce_dims(dim, x._data.ndim), "keepdim": keepdim})


def check_nonempty(x, dims, op, exc=RuntimeError):
    if x._data.size == 0:
        if dims is None:
            raise exc(f"{op}(): Expected reduction dim to be specified for "
                      "input.numel() == 0. Specify the reduction dim with the 'dim' "
                      "argument.")
        for d in dims:
            if x._data.shape[d] == 0:
                raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """out = max input over dim; ties split the gradient evenly"""
    return _amax_amin(ops.amax, input, dim, keepdim, axis, keepdims)


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """out = min input over dim; ties split the gradient evenly"""
    return _amax_amin(ops.amin, input, dim, keepdim, axis, keepdims)


def _amax_amin(op, input, dim, keepdim, axis, keepdims):
    dim, keepdim = numpy_names(op.name, dim, axis, keepdim, keepdims, dim_default=())
    x = tensor_arg(input)
    dims = reduce_dims(dim, x._data.ndim)
    check_nonempty(x, dims, op.name)
    return apply(op, (x,), {"dims": dims, "keepdim": keepdim})


def return_type(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__repr__ = lambda self: (f"chainrule.return_types.{name}(\n" + ",\n".join(
        f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    cls.__module__ = "chainrule.return_types"
    return cls


_max_result = return_type("max", ["values", "indices"])
_min_result = return_type("min", ["values", "indices"])


def _extreme(op, input, dim, keepdim, other, axis, keepdims):
    """max and min: the whole tensor's, along a dim (values, indices), or elementwise."""
    x = tensor_arg(input)
    if isinstance(dim, Tensor) or other is not None:
        if axis is not None or keepdims is not None:
            raise TypeError(f"{op}(): axis and keepdims go with a dim, not with another tensor")
        return (maximum if op == "max" else minimum)(x, dim if other is None else other)
    dim, keepdim = numpy_names(op, dim, axis, keepdim, keepdims)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): keepdim=True needs a dim, e.g. x.{op}(0, keepdim=True) "
                            f"(or x.a{op}(dim=tuple(range(x.ndim)), keepdim=True) for all)")
        check_nonempty(x, None, op)
        return apply(ops.amax if op == "max" else ops.amin, (x,), {"dims": None,
                     "keepdim": False}, name="MaxBackward1" if op == "max" else "MinBackward1")
    result = _max_result if op == "max" else _min_result
    d = dim_index(dim, x._data.ndim, op)
    if x._data.ndim == 0:
        return result(x.clone() if x._requires_grad else x, wrap(xp.asarray(0)))
    check_nonempty(x, (d,), op)
    values = apply(ops.max_dim if op == "max" else ops.min_dim, (x,),
                   {"dim": d, "keepdim": keepdim})
    return result(values, (argmax if op == "max" else argmin)(x, d, keepdim))


# the names before issue #12 made them public within the package
_check_nonempty, _integer_to_int64, _return_type = check_nonempty, integer_to_int64, return_type


def max(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):
    """Largest element; with ``dim``, ``(values, indices)`` along it; with a tensor, maximum."""
    return _extreme("max", input, dim, keepdim, other, axis, keepdims)


def min(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):
    """Smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor, minimum."""
    return _extreme("min", input, dim, keepdim, other, axis, keepdims)


_topk_result = return_type("topk", ["values", "indices"])


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along ``dim`` and their int64 indices.

    Composed from a sort (no gradient) and indexing, whose rule sends g to the selected
    elements; NaN counts as the largest value, as in torch.  The result is always sorted.

    >>> import chainrule as cr
    >>> cr.topk(cr.tensor([1., 5., 3.]), 2).values
    tensor([5., 3.])
    """
    x = tensor_arg(input, "topk")
    if x._data.dtype == bool:
        raise RuntimeError("topk does not support bool dtypes; convert first, e.g. x.int()")
    if not isinstance(k, (int, xp.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    nd = x._data.ndim
    d = dim_index(dim, nd, "topk")
    size = x._data.shape[d] if nd else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range: k={k} but dimension {dim} has "
                           f"size {size}")
    if nd == 0:                          # torch returns the element itself, for k 0 or 1
        return _topk_result(apply(ops.index, (x,), {"index": (Ellipsis,), "accumulate": False},
                                  name="TopkBackward0"), wrap(xp.asarray(0)))
    order = xp.argsort(x._data, axis=d, kind="stable")      # NaN sorts last, as the largest
    if largest:
        order = xp.flip(order, axis=d)
    idx = xp.take(order, xp.arange(k), axis=d)
    # pick x[..., idx[..., j, ...], ...] with an open grid on every other dim
    grid = list(xp.ix_(*[xp.arange(n) for n in idx.shape]))
    grid[d] = idx
    values = apply(ops.index, (x,), {"index": tuple(grid), "accumulate": True},
                   name="TopkBackward0")
    return _topk_result(values, wrap(idx.astype(xp.int64)))


def _arg_extreme(op, pick, input, dim, keepdim, axis, keepdims):
    dim, keepdim = numpy_names(op, dim, axis, keepdim, keepdims)
    x = tensor_arg(input)
    if dim is None:
        check_nonempty(x, None, op, IndexError)
        i = nondiff(pick, x)
        return i.reshape((1,) * x._data.ndim) if keepdim else i
    d = dim_index(dim, x._data.ndim, op)
    if x._data.ndim == 0:
        return wrap(xp.asarray(0))
    check_nonempty(x, (d,), op)
    return nondiff(pick, x, axis=d, keepdims=keepdim)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest element (flattened without ``dim``); the first one among ties."""
    return _arg_extreme("argmax", xp.argmax, input, dim, keepdim, axis, keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest element (flattened without ``dim``); the first one among ties."""
    return _arg_extreme("argmin", xp.argmin, input, dim, keepdim, axis, keepdims)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """out = Σ (x - mean)² / (n - correction); correction defaults to 1, as torch"""
    dim, keepdim = numpy_names("var", dim, axis, keepdim, keepdims)
    x = tensor_arg(input)
    w = _wide(x)
    v = _variance(w, dim, unbiased, keepdim, correction, "var")
    return v if w is x else v.to(x.dtype)


def _variance(x, dim, unbiased, keepdim, correction, op):
    """var's body; ``op`` names the public function (var or std) in errors and warnings."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): input dtype should be floating point, but got "
                           f"{D.of(x._data)}; convert first, e.g. x.float().{op}()")
    if isinstance(dim, bool):            # var(unbiased) positional form
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = reduce_dims(dim, x._data.ndim)
    n = _reduce_count(x, dims)
    dof = builtins.max(0, n - correction)
    if dof <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
    centred = x - mean(x, dims, keepdim=True)
    return div(sum(centred * centred, dims, keepdim), dof)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """out = √var"""
    dim, keepdim = numpy_names("std", dim, axis, keepdim, keepdims)
    x = tensor_arg(input)
    w = _wide(x)
    v = _variance(w, dim, unbiased, keepdim, correction, "std")
    if _grad_state.apply_hook is not None:      # under vmap: no Python branch on the values
        zero = v == 0
        s = where(zero, 0.0, sqrt(where(zero, 1.0, v)))
    elif (v._data == 0).any():
        # torch takes std's gradient as 0 where std = 0 (√'s slope is infinite there); the
        # inner where keeps the unused branch finite, so no 0 · inf = NaN leaks through
        zero = wrap(v._data == 0)
        s = where(zero, 0.0, sqrt(where(zero, 1.0, v)))
    else:
        s = sqrt(v)
    return s if w is x else s.to(x.dtype)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """out = ln Σ e^input over dim, stable for large inputs"""
    dim, keepdim = numpy_names("logsumexp", dim, axis, keepdim, keepdims)
    dim = required_dim("logsumexp", dim, None)
    x = float_input(tensor_arg(input), "logsumexp")
    return apply(ops.logsumexp, (x,), {"dims": reduce_dims(dim, x._data.ndim), "keepdim": keepdim})


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """out = (Σ |input|^p)^(1/p) over dim (2-norm by default)"""
    x = float_input(tensor_arg(input), "norm")
    if dtype is not None:
        x = x.to(dtype)
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str):
        raise ValueError(f"norm(): p={p!r} is not supported; use a number, float('inf') or 'fro'")
    return apply(ops.norm, (x,), {"p": float(p), "dims": reduce_dims(dim, x._data.ndim),
                                  "keepdim": keepdim})


def _softmax_like(op, input, dim, dtype, axis):
    """softmax and log_softmax: the same arguments, along one dim (0-d works as 1 element)."""
    dim, _ = numpy_names(op.name, dim, axis)
    x = float_input(tensor_arg(input), op.name)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op.name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    d = dim_index(dim, x._data.ndim, op.name)
    if x._data.ndim == 0:
        return apply(op, (x.reshape(1),), {"dim": 0}).reshape(())
    return apply(op, (x,), {"dim": d})


def softmax(input, dim=None, dtype=None, *, axis=None):
    """out = e^input / Σ e^input along dim, stable for logits of any size"""
    return _softmax_like(ops.softmax, input, dim, dtype, axis)


def log_softmax(input, dim=None, dtype=None, *, axis=None):
    """out = input - logsumexp(input) along dim"""
    return _softmax_like(ops.log_softmax, input, dim, dtype, axis)


def _any_all(name, fn, input, dim, keepdim, axis, keepdims):
    dim, keepdim = numpy_names(name, dim, axis, keepdim, keepdims)
    x = tensor_arg(input)
    out = nondiff(fn, x, axis=reduce_dims(dim, x._data.ndim), keepdims=keepdim)
    if x._data.dtype == xp.uint8:          # torch keeps uint8 (a legacy rule), bool otherwise
        out = wrap(out._data.astype(xp.uint8))
    return out


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where any element over dim is nonzero (dim: an int or a tuple)"""
    return _any_all("any", xp.any, input, dim, keepdim, axis, keepdims)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where every element over dim is nonzero (dim: an int or a tuple)"""
    return _any_all("all", xp.all, input, dim, keepdim, axis, keepdims)


# =========================================================================================
# issue #12: NaN-ignoring reductions, moments together, counts, aminmax, cov/corrcoef
# =========================================================================================

def nansum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Σ input over dim, NaN counted as 0 (and given a zero gradient)

    >>> import chainrule as cr
    >>> cr.nansum(cr.tensor([1., float("nan"), 2.]))
    tensor(3.)
    """
    dim, keepdim = numpy_names("nansum", dim, axis, keepdim, keepdims)
    x = integer_to_int64(tensor_arg(input, "nansum"), dtype)
    if x._data.dtype.kind == "f":
        x = where(wrap(xp.isnan(x._data)), 0.0, x)
    return apply(ops.sum, (x,), {"dims": reduce_dims(dim, x._data.ndim), "keepdim": keepdim},
                 name="NansumBackward0")


def nanmean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Σ input / n over dim, over the elements that are not NaN

    >>> import chainrule as cr
    >>> cr.nanmean(cr.tensor([1., float("nan"), 2.]))
    tensor(1.5000)
    """
    dim, keepdim = numpy_names("nanmean", dim, axis, keepdim, keepdims)
    x = tensor_arg(input, "nanmean")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {D.SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)}"
                           " (convert first, e.g. x.float().nanmean())")
    dims = reduce_dims(dim, x._data.ndim)
    w = _wide(x)
    keep = wrap(~xp.isnan(w._data))
    count = xp.sum(keep._data, axis=dims, keepdims=keepdim).astype(w._data.dtype)
    out = div(sum(where(keep, w, 0.0), dims, keepdim), wrap(xp.asarray(count)))
    return out if w is x else out.to(x.dtype)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
             keepdims=None):
    """(var, mean) over dim, with var's correction (1 by default)

    >>> import chainrule as cr
    >>> cr.var_mean(cr.tensor([1., 2., 3.]))
    (tensor(1.), tensor(2.))
    """
    dim, keepdim = numpy_names("var_mean", dim, axis, keepdim, keepdims)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
             keepdims=None):
    """(std, mean) over dim, with std's correction (1 by default)

    >>> import chainrule as cr
    >>> cr.std_mean(cr.tensor([1., 2., 3.]))
    (tensor(1.), tensor(2.))
    """
    dim, keepdim = numpy_names("std_mean", dim, axis, keepdim, keepdims)
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def count_nonzero(input, dim=None, *, axis=None):
    """The number of nonzero elements over dim (an int, a tuple, or all), as int64

    >>> import chainrule as cr
    >>> cr.count_nonzero(cr.tensor([[0., 1.], [2., 3.]]), dim=1)
    tensor([1, 2])
    """
    dim, _ = numpy_names("count_nonzero", dim, axis)
    x = tensor_arg(input, "count_nonzero")
    dims = reduce_dims(dim, x._data.ndim)
    return wrap(xp.asarray(xp.count_nonzero(x._data, axis=dims)).astype(xp.int64))


_aminmax_result = return_type("aminmax", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False, axis=None, keepdims=None):
    """(min, max) over dim (all elements by default); ties share the gradient evenly

    >>> import chainrule as cr
    >>> cr.aminmax(cr.tensor([3., 1., 2.])).max
    tensor(3.)
    """
    dim, keepdim = numpy_names("aminmax", dim, axis, keepdim, keepdims)
    x = tensor_arg(input, "aminmax")
    if x._data.size == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dim is not None and x._data.ndim and x._data.shape[dim_index(dim, x._data.ndim)] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dim_index(dim, x._data.ndim)} to "
                         "have non-zero size.")
    if dim is None:
        dims = tuple(range(x._data.ndim)) if keepdim else ()
    else:
        dims = dim_index(dim, x._data.ndim, "aminmax")
    dims = reduce_dims(dims, x._data.ndim)
    return _aminmax_result(*(apply(op, (x,), {"dims": dims, "keepdim": keepdim},
                                   name="AminmaxBackward0") for op in (ops.amin, ops.amax)))


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in input's rows (observations in its columns)

    >>> import chainrule as cr
    >>> cr.cov(cr.tensor([1., 2., 4.]))
    tensor(2.3333)
    """
    from .linalg import matmul
    x = tensor_arg(input, "cov")
    if x._data.dtype == bool:
        raise RuntimeError("cov(): bool dtype is not supported for input (convert first, "
                           "e.g. x.float())")
    if x._data.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x._data.ndim} dimensions")
    if x._data.dtype.kind != "f":
        x = x.to(D.get_default_dtype())
    if x._data.ndim < 2:
        x = x.reshape(1, -1)
    n = x._data.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        wt = tensor_arg(wt, "cov")
        if wt._data.ndim > 1 or wt._data.shape[0] != n:
            raise RuntimeError(f"cov(): expected {name} to have one dimension and {n} elements "
                               f"(the number of observations), but got shape "
                               f"{list(wt._data.shape)}")
        if name == "fweights" and wt._data.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype but got "
                               f"{D.of(wt._data)}")
        if (wt._data < 0).any():
            raise RuntimeError(f"cov(): {name} cannot be negative")
        wt = wt.to(x.dtype)
        w = wt if w is None else w * wt
    if w is None:
        avg = mean(x, 1)
        w_sum = float(n)
        norm_factor = w_sum - correction
    else:
        w_sum = sum(w)
        avg = sum(x * w, 1) / w_sum
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        else:
            aw = tensor_arg(aweights).to(x.dtype)
            norm_factor = w_sum - correction * sum(w * aw) / w_sum
    nf = norm_factor if isinstance(norm_factor, float) else float(norm_factor._data)
    if nf <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = 0.0
    xc = x - avg.unsqueeze(1)
    c = matmul(xc, (xc if w is None else xc * w).t())
    return div(c, norm_factor).squeeze()


def corrcoef(input):
    """Pearson's correlation coefficients of input's rows: cov / (σ_i σ_j), clipped to [-1, 1]

    >>> import chainrule as cr
    >>> cr.corrcoef(cr.tensor([[1., 2., 3.], [3., 1., 2.]]))
    tensor([[ 1.0000, -0.5000],
            [-0.5000,  1.0000]])
    """
    from .elementwise import clip
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    k = c._data.shape[0]
    sd = sqrt(c[xp.arange(k), xp.arange(k)])
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    return clip(c, -1, 1)
