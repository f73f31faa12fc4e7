"""Indexing and scatter functions with PyTorch's names: ``gather``, ``scatter`` (and its
reductions), ``index_select``/``index_add``/``index_copy``/``index_fill``/``index_put``,
``masked_select``/``masked_scatter``, ``take``/``put``, ``nonzero``, the ``*_scatter`` ops, ...

Each turns torch's ``dim``/``index`` arguments into one NumPy index (a tuple of integer arrays
and slices) and calls one of three primitives: ``index`` (``x[index]``; its gradient is a sparse
scatter-add), ``index_put`` (``x[index] = v``) or ``scatter_reduce`` (values reduced into
``x[index]``).  None needs a rule of its own.
"""
import builtins
import math

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..tensor import Tensor, apply, clone as _clone, dim_index, wrap
from ._args import index_arg, index_error, number, tensor_arg
from ._inplace import inplace, setitem
from .elementwise import mul
from .shape import expand, getitem, narrow, reshape

_NAMES = dict(D.SCALAR_NAMES, float16="Half")
_wrap = wrap        # fill_diagonal_'s argument ``wrap`` hides the function
_INT = ("int32", "int64")


def _tname(a):
    return _NAMES.get(a.dtype.name, a.dtype.name)


def _index(index, op, kinds=_INT, msg=None, err=RuntimeError):
    """The array of an index tensor, with torch's error for a dtype it refuses."""
    i = tensor_arg(index, op)._data
    if i.dtype.name not in kinds:
        raise err((msg or f"{op}(): Expected dtype int32/int64 for index").format(_tname(i)))
    return i.astype(xp.int64, copy=False)


def _bounds(i, n, d, prefix="", err=RuntimeError):
    """torch's error for an index outside [0, n) (negative indices do not wrap here)."""
    if i.size:
        bad = (i < 0) | (i >= n)
        if bad.any():
            raise err(f"{prefix}index {int(i[bad].flat[0])} is out of bounds for "
                             f"dimension {d} with size {n}")


def _same_dtype(x, src, msg):
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(msg.format(_tname(x._data), _tname(src._data)))


def _along(i, d, ndim):
    """The NumPy index that picks ``x[..., i[j], ...]`` at each position j of i along dim d
    (gather's and scatter's pairing of an index tensor with the other dims' positions)."""
    out = []
    for k in range(ndim):
        if k == d:
            out.append(i)
        else:
            shape = [1] * ndim
            shape[k] = i.shape[k]
            out.append(xp.arange(i.shape[k]).reshape(shape))
    return tuple(out)


def _dim_args(op, input, dim, index, src=None):
    """x (made 1-d when 0-d, as torch treats it), dim, the index array, after torch's checks."""
    x = tensor_arg(input, op)
    i = _index(index, "gather" if op == "gather" else "scatter")
    nd = x._data.ndim
    d = dim_index(dim, nd)
    if nd == 0:
        if i.ndim > 1:
            raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                               f"{'input' if op == 'gather' else 'self'} tensor")
        x, i = reshape(x, (1,)), i.reshape(-1)
        nd = 1
    elif i.ndim != nd and not (i.ndim <= 1 and nd <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if op == 'gather' else 'self'} tensor")
    xs, ishape = x._data.shape, i.shape
    if op == "gather":
        for k in range(nd):
            if k != d and ishape[k] > xs[k]:
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(ishape)} to be no larger than self {list(xs)} apart "
                                   f"from dimension {d}")
    else:
        ss = src._data.shape if src is not None else ishape
        ss = ss if len(ss) == nd else (1,) * nd
        if builtins.any(ishape[k] > xs[k] for k in range(nd) if k != d) or \
                builtins.any(ishape[k] > ss[k] for k in range(nd)):
            raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self "
                               f"{list(xs)} apart from dimension {d} and to be no larger size "
                               f"than src {list(src._data.shape if src is not None else ss)}")
    _bounds(i, xs[d], d)
    return x, d, i, _along(i, d, nd)


def _fit_src(src, ishape):
    """src cut to index's shape (gather/scatter read only that corner of src)."""
    if tuple(src._data.shape) == tuple(ishape):
        return src
    return getitem(src, tuple(slice(0, n) for n in ishape))


def _shaped_like(out, shape):
    return out if tuple(out._data.shape) == tuple(shape) else reshape(out, shape)


# --- gather and scatter ---------------------------------------------------------------------

def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (dim=0), input[i][index[i][j]] (dim=1), ...

    >>> import chainrule as cr
    >>> cr.gather(cr.tensor([[1., 2.], [3., 4.]]), 1, cr.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    x, d, i, idx = _dim_args("gather", input, dim, index)
    out = apply(ops.index, (x,), {"index": idx, "accumulate": True}, name="GatherBackward0")
    return _shaped_like(out, tensor_arg(index)._data.shape)


def _reduction(op, reduce, allowed):
    if reduce not in allowed:
        names = ", ".join(allowed[:-1]) + " or " + allowed[-1]
        if op == "scatter":
            raise RuntimeError("reduce argument must be either add or multiply.")
        raise RuntimeError(f"reduce argument must be either {names}, got {reduce}")
    return reduce


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """out = input with out[index[i][j]][j] = src[i][j] (dim=0; value instead of src: the
    number); reduce='add'/'multiply' combines instead of replacing

    >>> import chainrule as cr
    >>> cr.scatter(cr.zeros(2, 3), 1, cr.tensor([[2], [0]]), 5.0)
    tensor([[0., 0., 5.],
            [5., 0., 0.]])
    """
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce is not None:
        _reduction("scatter", reduce, ("add", "multiply"))
    x, d, i, idx = _dim_args("scatter", input, dim, index, src)
    if src is not None:
        _same_dtype(x, src, "scatter(): Expected self.dtype to be equal to src.dtype")
        s = _fit_src(src, i.shape) if src._data.ndim else reshape(src, i.shape)
    else:
        v = number(value, "scatter")
        if reduce is None:
            out = apply(ops.index_put, (x, v), {"index": idx},
                        arrays=[x._data, xp.asarray(v).astype(x._data.dtype)],
                        name="ScatterBackward1")
            return _shaped_like(out, tensor_arg(input)._data.shape)
        s = wrap(xp.full(i.shape, v, dtype=x._data.dtype))
    if reduce is None:
        out = apply(ops.index_put, (x, s), {"index": idx}, name="ScatterBackward0")
    else:
        out = apply(ops.scatter_reduce, (x, s), {"index": idx, "reduce": "sum" if reduce == "add"
                                                 else "prod", "include_self": True},
                    name="ScatterBackward0")
    return _shaped_like(out, tensor_arg(input)._data.shape)


def scatter_add(input, dim, index, src):
    """out = input with src[i][j] added at out[index[i][j]][j] (dim=0); repeats add up

    >>> import chainrule as cr
    >>> cr.scatter_add(cr.zeros(3), 0, cr.tensor([0, 2, 0]), cr.tensor([1., 2., 3.]))
    tensor([4., 0., 2.])
    """
    return _scatter_reduce("scatter_add", input, dim, index, src, "sum", True,
                           "ScatterAddBackward0")


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """out = input with src[i][j] reduced (sum, prod, mean, amax, amin) into
    out[index[i][j]][j] (dim=0); include_self=False leaves input's value out where it scatters

    >>> import chainrule as cr
    >>> cr.scatter_reduce(cr.zeros(2), 0, cr.tensor([0, 0, 1]), cr.tensor([1., 3., 2.]), "amax")
    tensor([3., 2.])
    """
    _reduction("scatter_reduce", reduce, _REDUCTIONS)
    return _scatter_reduce("scatter_reduce", input, dim, index, src, reduce, include_self,
                           "ScatterReduceBackward0")


def _scatter_reduce(op, input, dim, index, src, reduce, include_self, name):
    src = tensor_arg(src, op)
    x, d, i, idx = _dim_args(op, input, dim, index, src)
    _same_dtype(x, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    s = _fit_src(src, i.shape) if src._data.ndim else reshape(src, i.shape)
    out = apply(ops.scatter_reduce, (x, s),
                {"index": idx, "reduce": reduce, "include_self": bool(include_self)}, name=name)
    return _shaped_like(out, tensor_arg(input)._data.shape)


# --- index_* along one dim ------------------------------------------------------------------

def _vector(index, op, kinds, dtype_msg, vector_msg, err=RuntimeError):
    i = _index(index, op, kinds, dtype_msg, err)
    if i.ndim > 1:
        raise IndexError(vector_msg.format(i.ndim, _tname(tensor_arg(index)._data),
                                           list(i.shape)))
    return i.reshape(-1)


def _at_dim(d, i):
    return (slice(None),) * d + (i,)


def index_select(input, dim, index):
    """out = input's slices at index along dim (out.select(dim, k) = input.select(dim, index[k]))

    >>> import chainrule as cr
    >>> cr.index_select(cr.tensor([[1., 2.], [3., 4.]]), 0, cr.tensor([1, 1]))
    tensor([[3., 4.],
            [3., 4.]])
    """
    x = tensor_arg(input, "index_select")
    i = _vector(index, "index_select", _INT,
                "index_select(): Expected dtype int32 or int64 for index",
                "index_select(): Index is supposed to be a vector")
    d = dim_index(dim, x._data.ndim)
    if x._data.ndim == 0:
        x = reshape(x, (1,))
    n = x._data.shape[d]
    if i.size and ((i < 0) | (i >= n)).any():
        raise IndexError("index out of range in self")
    out = apply(ops.index, (x,), {"index": _at_dim(d, i), "accumulate": True},
                name="IndexSelectBackward0")
    return out if tensor_arg(input)._data.ndim else reshape(out, ())


def _source_check(op, x, d, i, source):
    xs, ss = x._data.shape, source._data.shape
    if x._data.ndim == 0 and (source._data.ndim == 0 or op == "index_copy" and
                              source._data.ndim == 1):
        return
    if x._data.ndim == 0:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = [] source.shape = {list(ss)}")
    want = xs[:d] + (len(i),) + xs[d + 1:]
    if tuple(ss) != want and not (source._data.ndim == 0 and len(i) == 1 and
                                  x._data.ndim <= 1):
        if op == "index_copy":
            k = builtins.next((k for k in range(len(xs)) if k != d and
                               (k >= len(ss) or ss[k] != xs[k])), d)
            raise RuntimeError(
                f"index_copy_(): Source/destination tensor must have same slice shapes. "
                f"Destination slice shape: {xs[k] if k != d else len(i)} at dimension {k} and "
                f"source slice shape: {ss[k] if k < len(ss) else 1} at dimension "
                f"{k}.")
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(xs)} source.shape = "
                           f"{list(ss)}")


def _dim_index_args(op, input, dim, index, kinds, dtype_msg, err=RuntimeError):
    x = tensor_arg(input, op)
    i = _vector(index, op, kinds, dtype_msg,
                op + "_(): Index is supposed to be a vector, but got dim: {} with type: {} and "
                "size: {}", err)
    d = dim_index(dim, x._data.ndim)
    return x, d, i


def index_add(input, dim, index, source, *, alpha=1):
    """out = input with alpha·source[k] added to the slice index[k] along dim (repeats add up)

    >>> import chainrule as cr
    >>> cr.index_add(cr.zeros(3), 0, cr.tensor([0, 0]), cr.tensor([1., 2.]))
    tensor([3., 0., 0.])
    """
    x, d, i = _dim_index_args("index_add", input, dim, index, _INT,
                              "index_add_(): Expected dtype int32/int64 for index but got: {}")
    source = tensor_arg(source, "index_add")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"index_add_(): self ({_tname(x._data)}) and source "
                           f"({_tname(source._data)}) must have the same scalar type")
    _source_check("index_add", x, d, i, source)
    _bounds(i, x._data.shape[d] if x._data.ndim else 1, d)
    s = source if alpha == 1 else mul(source, alpha)
    xx = x if x._data.ndim else reshape(x, (1,))
    s = s if s._data.shape == xx._data[_at_dim(d, i)].shape else reshape(s, (len(i),))
    out = apply(ops.scatter_reduce, (xx, s),
                {"index": _at_dim(d, i), "reduce": "sum", "include_self": True},
                name="IndexAddBackward0")
    return _shaped_like(out, x._data.shape)


def index_copy(input, dim, index, source):
    """out = input with the slice index[k] along dim replaced by source's slice k

    >>> import chainrule as cr
    >>> cr.index_copy(cr.zeros(3), 0, cr.tensor([2]), cr.tensor([7.]))
    tensor([0., 0., 7.])
    """
    x, d, i = _dim_index_args("index_copy", input, dim, index, ("int64",),
                              "index_copy_(): Expected a long tensor for index, but got {}")
    source = tensor_arg(source, "index_copy")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_tname(x._data)} and (source) "
                           f"{_tname(source._data)}")
    _source_check("index_copy", x, d, i, source)
    _bounds(i, x._data.shape[d] if x._data.ndim else 1, d, "index_copy_(): ", IndexError)
    xx = x if x._data.ndim else reshape(x, (1,))
    s = source if source._data.shape == xx._data[_at_dim(d, i)].shape else \
        reshape(source, (len(i),))
    out = apply(ops.index_put, (xx, s), {"index": _at_dim(d, i)}, name="IndexCopyBackward0")
    return _shaped_like(out, x._data.shape)


def index_fill(input, dim, index, value):
    """out = input with the slices index[k] along dim set to value (a number or a 0-d tensor)

    >>> import chainrule as cr
    >>> cr.index_fill(cr.zeros(2, 2), 1, cr.tensor([1]), -1.0)
    tensor([[ 0., -1.],
            [ 0., -1.]])
    """
    x, d, i = _dim_index_args("index_fill", input, dim, index, ("int64",),
                              "index_fill_(): Expected dtype int64 for index.", IndexError)
    _bounds(i, x._data.shape[d] if x._data.ndim else 1, d, err=IndexError)
    xx = x if x._data.ndim else reshape(x, (1,))
    dt = x._data.dtype
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        v = value if value._data.dtype == dt else value.to(D.of(x._data))
        out = apply(ops.index_put, (xx, v), {"index": _at_dim(d, i)},
                    name="IndexFillBackward1")
    else:
        v = number(value, "index_fill")
        out = apply(ops.index_put, (xx, v), {"index": _at_dim(d, i)},
                    arrays=[xx._data, xp.asarray(v).astype(dt)], name="IndexFillBackward0")
    return _shaped_like(out, x._data.shape)


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """out = input with source's slice k reduced (prod, mean, amax, amin) into the slice
    index[k] along dim; include_self=False leaves input's values out where it reduces

    >>> import chainrule as cr
    >>> cr.index_reduce(cr.ones(2), 0, cr.tensor([0, 0]), cr.tensor([2., 3.]), "prod")
    tensor([6., 1.])
    """
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x, d, i = _dim_index_args("index_reduce", input, dim, index, _INT,
                              "index_reduce_(): Expected dtype int32/int64 for index but got: {}")
    source = tensor_arg(source, "index_reduce")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_tname(x._data)}) and source "
                           f"({_tname(source._data)}) must have the same scalar type")
    _source_check("index_reduce", x, d, i, source)
    _bounds(i, x._data.shape[d] if x._data.ndim else 1, d)
    xx = x if x._data.ndim else reshape(x, (1,))
    s = source if source._data.shape == xx._data[_at_dim(d, i)].shape else \
        reshape(source, (len(i),))
    out = apply(ops.scatter_reduce, (xx, s),
                {"index": _at_dim(d, i), "reduce": reduce, "include_self": bool(include_self)},
                name="IndexReduceBackward0")
    return _shaped_like(out, x._data.shape)


def index_put(input, indices, values, accumulate=False):
    """out = input with out[indices] = values (accumulate=True: added, repeats adding up)

    >>> import chainrule as cr
    >>> cr.index_put(cr.zeros(3), (cr.tensor([0, 0]),), cr.tensor(1.), accumulate=True)
    tensor([2., 0., 0.])
    """
    x = tensor_arg(input, "index_put")
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for k, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got "
                            f"{type(t).__name__}")
    values = tensor_arg(values, "index_put")
    if values._data.dtype != x._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_tname(x._data)} for the destination and {_tname(values._data)} "
                           f"for the source.")
    idx, _ = index_arg(tuple(indices), x)
    try:
        if accumulate:
            return apply(ops.scatter_reduce, (x, values),
                         {"index": idx, "reduce": "sum", "include_self": True},
                         name="IndexPutBackward0")
        return apply(ops.index_put, (x, values), {"index": idx}, name="IndexPutBackward0")
    except IndexError as e:
        raise index_error(e, x) from None


# --- masks ----------------------------------------------------------------------------------

def _broadcast(op, a, b):
    try:
        return xp.broadcast_shapes(a, b)
    except ValueError:
        n = builtins.max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        k = builtins.max(k for k in range(n) if pa[k] != pb[k] and 1 not in (pa[k], pb[k]))
        raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of tensor b "
                           f"({pb[k]}) at non-singleton dimension {k}") from None


def _expanded(x, shape):
    return x if tuple(x._data.shape) == tuple(shape) else expand(x, shape)


def masked_select(input, mask):
    """out = the elements of input where mask is True, as a 1-d tensor (mask broadcasts)

    >>> import chainrule as cr
    >>> cr.masked_select(cr.tensor([1., 2., 3.]), cr.tensor([True, False, True]))
    tensor([1., 3.])
    """
    x = tensor_arg(input, "masked_select")
    m = tensor_arg(mask, "masked_select")
    if m._data.dtype != bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = _broadcast("masked_select", x._data.shape, m._data.shape)
    xb = _expanded(x, shape)
    mb = xp.broadcast_to(m._data, shape)
    return apply(ops.index, (xb,), {"index": (mb,), "accumulate": True},
                 name="MaskedSelectBackward0")


def masked_scatter(input, mask, source):
    """out = input with the positions where mask is True filled, in order, by source's first
    elements (mask broadcasts)

    >>> import chainrule as cr
    >>> cr.masked_scatter(cr.zeros(3), cr.tensor([True, False, True]), cr.tensor([5., 6.]))
    tensor([5., 0., 6.])
    """
    x = tensor_arg(input, "masked_scatter")
    m = tensor_arg(mask, "masked_scatter")
    source = tensor_arg(source, "masked_scatter")
    if m._data.dtype != bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {_tname(m._data)}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{_tname(x._data)} and {_tname(source._data)}")
    shape = _broadcast("masked_scatter", x._data.shape, m._data.shape)
    mb = xp.broadcast_to(m._data, shape)
    k = int(mb.sum())
    if k > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    s = reshape(source, (-1,))
    if k != s._data.shape[0]:
        s = getitem(s, slice(0, k))
    return apply(ops.index_put, (_expanded(x, shape), s), {"index": (mb,)},
                 name="MaskedScatterBackward0")


# --- flat indices ---------------------------------------------------------------------------

def _flat_bounds(i, n):
    if i.size:
        bad = (i < -n) | (i >= n)
        if bad.any():
            raise IndexError(f"out of range: tried to access index {int(i[bad].flat[0])} on a "
                             f"tensor of {n} elements.")


def _flat_index(i, x):
    """x (made 1-d when 0-d) and the NumPy index of x.flatten()[i] on it (negative i counting
    from the end); x itself is indexed, so the node is the op's own (TakeBackward0)."""
    n = x._data.size
    if x._data.ndim == 0:
        return reshape(x, (1,)), (i % 1,)
    return x, xp.unravel_index(i % n if n else i, x._data.shape)


def take(input, index):
    """out = input.flatten()[index] (negative indices count from the end), shaped as index

    >>> import chainrule as cr
    >>> cr.take(cr.tensor([[1., 2.], [3., 4.]]), cr.tensor([0, -1]))
    tensor([1., 4.])
    """
    x = tensor_arg(input, "take")
    i = _index(index, "take", ("int64",), "take(): Expected a long tensor for index, but got {}")
    _flat_bounds(i, x._data.size)
    xx, idx = _flat_index(i, x)
    return apply(ops.index, (xx,), {"index": idx, "accumulate": True}, name="TakeBackward0")


def put(input, index, source, accumulate=False):
    """out = input with out.flatten()[index] = source (accumulate=True: added)

    >>> import chainrule as cr
    >>> cr.put(cr.zeros(2, 2), cr.tensor([3]), cr.tensor([9.]))
    tensor([[0., 0.],
            [0., 9.]])
    """
    x = tensor_arg(input, "put")
    i = _index(index, "put_", ("int64",), "put_(): Expected a long tensor for index, but got {}")
    source = tensor_arg(source, "put")
    if source._data.size != i.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {i.size}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_tname(x._data)} and source.dtype = "
                           f"{_tname(source._data)}")
    _flat_bounds(i, x._data.size)
    xx, idx = _flat_index(i.reshape(-1), x)
    s = source if source._data.shape == (i.size,) else reshape(source, (-1,))
    if accumulate:
        out = apply(ops.scatter_reduce, (xx, s),
                    {"index": idx, "reduce": "sum", "include_self": True}, name="PutBackward0")
    else:
        out = apply(ops.index_put, (xx, s), {"index": idx}, name="PutBackward0")
    return _shaped_like(out, x._data.shape)


def take_along_dim(input, indices, dim=None):
    """out = input's values at indices along dim (gather after broadcasting the other dims);
    dim=None: input.flatten()[indices.flatten()]

    >>> import chainrule as cr
    >>> cr.take_along_dim(cr.tensor([[3., 1.], [2., 4.]]), cr.tensor([[1], [0]]), 1)
    tensor([[1.],
            [2.]])
    """
    x = tensor_arg(input, "take_along_dim")
    it = tensor_arg(indices, "take_along_dim")
    if it._data.dtype != xp.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_tname(it._data)}")
    if dim is None:
        return gather(reshape(x, (-1,)), 0, wrap(_wrapped(it._data.reshape(-1), x._data.size)))
    if x._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if x._data.ndim != it._data.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {x._data.ndim} dimensions for input, "
                           f"and {it._data.ndim} dimensions for indices")
    d = dim_index(dim, x._data.ndim)
    xs, ishape = list(x._data.shape), list(it._data.shape)
    xs[d], ishape[d] = 1, 1
    shape = list(_broadcast("take_along_dim", tuple(xs), tuple(ishape)))
    xsh = shape.copy()
    xsh[d] = x._data.shape[d]
    ish = shape.copy()
    ish[d] = it._data.shape[d]
    i = xp.broadcast_to(_wrapped(it._data, x._data.shape[d]), ish)
    return gather(_expanded(x, tuple(xsh)), d, wrap(xp.ascontiguousarray(i)))


def _wrapped(i, n):
    """take_along_dim's indices in [-n, 0) count from the end, as torch's do"""
    return xp.where(i < 0, i + n, i) if i.size and (i < 0).any() else i


# --- positions of nonzero elements ----------------------------------------------------------

def nonzero(input, *, as_tuple=False):
    """the indices of input's nonzero elements: an (n, ndim) int64 tensor, or with
    as_tuple=True one 1-d tensor per dim (a 0-d input counts as 1-d)

    >>> import chainrule as cr
    >>> cr.nonzero(cr.tensor([0., 2., 3.]))
    tensor([[1],
            [2]])
    """
    a = tensor_arg(input, "nonzero")._data
    if as_tuple:
        return tuple(wrap(i.astype(xp.int64, copy=False)) for i in xp.nonzero(xp.atleast_1d(a)))
    return wrap(xp.argwhere(a).astype(xp.int64, copy=False))


def argwhere(input):
    """the indices of input's nonzero elements, an (n, ndim) int64 tensor (nonzero's)

    >>> import chainrule as cr
    >>> cr.argwhere(cr.tensor([[0, 1], [1, 0]]))
    tensor([[0, 1],
            [1, 0]])
    """
    return nonzero(input)


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero's (n, ndim) indices cut or padded with fill_value to exactly ``size`` rows

    >>> import chainrule as cr
    >>> cr.nonzero_static(cr.tensor([0, 3]), size=2)
    tensor([[ 1],
            [-1]])
    """
    a = tensor_arg(input, "nonzero_static")._data
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    found = xp.argwhere(a)[:size]
    out = xp.full((size, a.ndim), fill_value, dtype=xp.int64)
    out[:len(found)] = found
    return wrap(out)


# --- select, slices and diagonals: a view, a copy, a scatter ---------------------------------

def _select_index(op, x, dim, index):
    nd = x._data.ndim
    if nd == 0:
        raise IndexError(f"{op}() cannot be applied to a 0-dim tensor.")
    d = dim_index(dim, nd)
    n = x._data.shape[d]
    k = index.__index__()
    if not -n <= k < n:
        raise IndexError(f"select(): index {k} out of range for tensor of size "
                         f"{list(x._data.shape)} at dimension {d}")
    return d, k % n


def select(input, dim, index):
    """out = input's slice at index along dim, that dim removed (a view; x[:, index] for dim=1)

    >>> import chainrule as cr
    >>> cr.select(cr.tensor([[1., 2.], [3., 4.]]), 1, 0)
    tensor([1., 3.])
    """
    x = tensor_arg(input, "select")
    d, k = _select_index("select", x, dim, index)
    out = apply(ops.index, (x,), {"index": _at_dim(d, k) + (Ellipsis,), "accumulate": False},
                name="SelectBackward0")
    if out._data.size and xp.shares_memory(out._data, x._data):   # a view, for in-place checks
        out._base = x if x._base is None else x._base
        out._vc = x._vc
    return out


def _copied(t):
    """A view's result as a tensor of its own storage (the *_copy ops)."""
    t._data = t._data.copy()
    t._base = None
    t._vc = [0]
    return t


def select_copy(input, dim, index):
    """select(input, dim, index) as a new tensor, not a view"""
    return _copied(select(input, dim, index))


def narrow_copy(input, dim, start, length):
    """narrow(input, dim, start, length) as a new tensor, not a view"""
    return _copied(narrow(input, dim, start, length))


def _scatter_into(op, x, src, idx, name):
    src = tensor_arg(src, op)
    want = x._data[idx].shape
    if tuple(src._data.shape) != tuple(want):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(want)}")
    if src._data.dtype != x._data.dtype:
        src = src.to(D.of(x._data))
    return apply(ops.index_put, (x, src), {"index": idx}, name=name)


def select_scatter(input, src, dim, index):
    """out = input with out.select(dim, index) = src

    >>> import chainrule as cr
    >>> cr.select_scatter(cr.zeros(2, 2), cr.ones(2), 0, 1)
    tensor([[0., 0.],
            [1., 1.]])
    """
    x = tensor_arg(input, "select_scatter")
    d, k = _select_index("select_scatter", x, dim, index)
    return _scatter_into("select_scatter", x, src, _at_dim(d, k) + (Ellipsis,),
                         "SelectScatterBackward0")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """out = input with out[start:end:step] along dim = src

    >>> import chainrule as cr
    >>> cr.slice_scatter(cr.zeros(4), cr.ones(2), 0, 1, 3)
    tensor([0., 1., 1., 0.])
    """
    x = tensor_arg(input, "slice_scatter")
    d = dim_index(dim, x._data.ndim)
    if step is None:
        step = 1
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return _scatter_into("slice_scatter", x, src,
                         _at_dim(d, slice(start, end, step)) + (Ellipsis,),
                         "SliceScatterBackward0")


def _diagonal_index(shape, offset, d1, d2):
    """The NumPy index of x.diagonal(offset, d1, d2): the other dims first, the diagonal last."""
    nd = len(shape)
    rows = xp.arange(builtins.max(0, -offset), shape[d1])
    cols = rows + offset
    keep = (cols >= 0) & (cols < shape[d2])
    rows, cols = rows[keep], cols[keep]
    others = [k for k in range(nd) if k not in (d1, d2)]
    m = len(others) + 1
    idx = [None] * nd
    for j, k in enumerate(others):
        s = [1] * m
        s[j] = shape[k]
        idx[k] = xp.arange(shape[k]).reshape(s)
    idx[d1] = rows.reshape((1,) * (m - 1) + (-1,))
    idx[d2] = cols.reshape((1,) * (m - 1) + (-1,))
    return tuple(idx)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """out = input with out.diagonal(offset, dim1, dim2) = src

    >>> import chainrule as cr
    >>> cr.diagonal_scatter(cr.zeros(2, 2), cr.ones(2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    x = tensor_arg(input, "diagonal_scatter")
    nd = x._data.ndim
    d1, d2 = dim_index(dim1, nd), dim_index(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _scatter_into("diagonal_scatter", x, src,
                         _diagonal_index(x._data.shape, int(offset), d1, d2),
                         "DiagonalScatterBackward0")


def _strided_index(op, x, size, stride, storage_offset):
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    off = int(storage_offset or 0)
    flat = xp.full(size, off, dtype=xp.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        if s < 0:
            raise RuntimeError("as_strided: Negative strides are not supported at the moment, "
                               f"got strides: {list(stride)}")
        shape = [1] * len(size)
        shape[k] = n
        flat = flat + xp.arange(n).reshape(shape) * s
    need = (off + builtins.sum((n - 1) * s for n, s in zip(size, stride)) + 1) \
        if builtins.all(size) else 0
    if need > x._data.size:
        item = x._data.dtype.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {off}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size "
                           f"{x._data.size * item}")
    return (flat,)


def as_strided(input, size, stride, storage_offset=None):
    """out[i, j, ...] = input.flatten()[storage_offset + i·stride[0] + j·stride[1] + ...]
    (input's row-major elements read as storage; a copy in chainrule, a view in torch)

    >>> import chainrule as cr
    >>> cr.as_strided(cr.arange(4.), (2, 2), (1, 1))
    tensor([[0., 1.],
            [1., 2.]])
    """
    x = tensor_arg(input, "as_strided")
    idx = _strided_index("as_strided", x, size, stride, storage_offset)
    return apply(ops.index, (reshape(x, (-1,)),), {"index": idx, "accumulate": True},
                 name="AsStridedBackward0")


def as_strided_copy(input, size, stride, storage_offset=None):
    """as_strided(input, size, stride, storage_offset) (already a copy in chainrule)"""
    return as_strided(input, size, stride, storage_offset)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """out = input with as_strided(out, size, stride, storage_offset) = src

    >>> import chainrule as cr
    >>> cr.as_strided_scatter(cr.zeros(4), cr.ones(2), (2,), (2,))
    tensor([1., 0., 1., 0.])
    """
    x = tensor_arg(input, "as_strided_scatter")
    idx = _strided_index("as_strided_scatter", x, size, stride, storage_offset)
    src = tensor_arg(src, "as_strided_scatter")
    if tuple(src._data.shape) != tuple(idx[0].shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(idx[0].shape)}")
    out = _scatter_into("as_strided_scatter", reshape(x, (-1,)), src, idx,
                        "AsStridedScatterBackward0")
    return reshape(out, x._data.shape)


# --- index tensors --------------------------------------------------------------------------

def _triangle_indices(op, row, col, offset, dtype):
    for name, v in (("row", row), ("col", col), ("offset", offset)):
        if not isinstance(v, (int, xp.integer)) or isinstance(v, bool):
            raise TypeError(f"{op}(): argument '{name}' must be int, not {type(v).__name__}")
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else
                           f"col must be non-negative, got{col}")
    dt = D.int64 if dtype is None else dtype
    np_dt = D.to_dtype(dt, op).np
    if op == "tril_indices":
        r, c = xp.tril_indices(row, int(offset), col)
    else:
        r, c = xp.triu_indices(row, int(offset), col)
    return wrap(xp.stack([r, c]).astype(np_dt).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None,
                 pin_memory=False):
    """the (2, N) indices (row, col) of the row×col matrix's elements on or below the
    offset-th diagonal, in row-major order

    >>> import chainrule as cr
    >>> cr.tril_indices(2, 2)
    tensor([[0, 1, 1],
            [0, 0, 1]])
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None,
                 pin_memory=False):
    """the (2, N) indices (row, col) of the row×col matrix's elements on or above the
    offset-th diagonal, in row-major order

    >>> import chainrule as cr
    >>> cr.triu_indices(2, 2)
    tensor([[0, 0, 1],
            [0, 1, 1]])
    """
    return _triangle_indices("triu_indices", row, col, offset, dtype)


def unravel_index(indices, shape):
    """the coordinates in ``shape`` of flat (row-major) indices: one int64 tensor per dim,
    shaped as indices (negative indices count from the end)

    >>> import chainrule as cr
    >>> cr.unravel_index(cr.tensor(5), (2, 3))
    (tensor(1), tensor(2))
    """
    if isinstance(indices, Tensor):
        a = indices._data
        if a.dtype.kind not in "iu":
            raise TypeError(f"expected 'indices' to be integer dtype, but got "
                            f"chainrule.{D.of(a)}".replace("chainrule.chainrule.", "chainrule."))
    elif isinstance(indices, (int, xp.integer)) and not isinstance(indices, bool):
        raise TypeError("unravel_index(): 'indices' must be a tensor, not int: wrap it with "
                        "chainrule.tensor(...)")
    else:
        a = tensor_arg(indices, "unravel_index")._data
    shape = (shape,) if isinstance(shape, (int, xp.integer)) else tuple(int(s) for s in shape)
    if builtins.any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    if shape == ():
        return ()
    n = math.prod(shape)
    a = a.astype(xp.int64)
    if a.size and ((a < -n) | (a >= n)).any():
        raise ValueError(f"'indices' must be in range [{-n}, {n - 1}] for 'shape' "
                         f"{tuple(shape)}")
    a = a % n if n else a
    return tuple(wrap(xp.asarray(c, dtype=xp.int64)) for c in xp.unravel_index(a, shape))


# --- in place -------------------------------------------------------------------------------

def fill_diagonal_(input, fill_value, wrap=False):
    """input's main diagonal (all dims equal: input[i, i, ..., i]) set to fill_value, in place;
    wrap=True continues it below a tall matrix every ncols + 1 rows, as NumPy's fill_diagonal

    >>> import chainrule as cr
    >>> cr.zeros(2, 2).fill_diagonal_(3.)
    tensor([[3., 0.],
            [0., 3.]])
    """
    x = tensor_arg(input, "fill_diagonal_")
    shape = x._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = xp.zeros(shape, dtype=bool)
    xp.fill_diagonal(mask, True, wrap=bool(wrap))
    setitem(x, _wrap(mask), fill_value)
    return x


def _in_place(name, fn, input, *args, **kwargs):
    """``fn(input, *args, **kwargs)`` written into input (torch's ``name``), recorded when
    gradients flow.  A 0-d input is cloned first: fn reshapes it, and a rule must not read a
    view of the storage the write replaces."""
    def op(t, *a):
        if t._data.ndim == 0 or name == "put_":
            t = _clone(t)
        return fn(t, *a, **kwargs)
    op.__name__ = name[:-1]
    return inplace(tensor_arg(input, name), op, *args)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    """scatter(input, dim, index, src or value, reduce=reduce), in place"""
    return _in_place("scatter_", scatter, input, dim, index, src, value, reduce=reduce)


def scatter_add_(input, dim, index, src):
    """scatter_add(input, dim, index, src), in place"""
    return _in_place("scatter_add_", scatter_add, input, dim, index, src)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    """scatter_reduce(input, dim, index, src, reduce, include_self=...), in place"""
    return _in_place("scatter_reduce_", scatter_reduce, input, dim, index, src, reduce,
                     include_self=include_self)


def index_add_(input, dim, index, source, *, alpha=1):
    """index_add(input, dim, index, source, alpha=alpha), in place"""
    return _in_place("index_add_", index_add, input, dim, index, source, alpha=alpha)


def index_copy_(input, dim, index, source):
    """index_copy(input, dim, index, source), in place"""
    return _in_place("index_copy_", index_copy, input, dim, index, source)


def index_fill_(input, dim, index, value):
    """index_fill(input, dim, index, value), in place"""
    return _in_place("index_fill_", index_fill, input, dim, index, value)


def index_reduce_(input, dim, index, source, reduce, *, include_self=True):
    """index_reduce(input, dim, index, source, reduce, include_self=...), in place"""
    return _in_place("index_reduce_", index_reduce, input, dim, index, source, reduce,
                     include_self=include_self)


def index_put_(input, indices, values, accumulate=False):
    """index_put(input, indices, values, accumulate), in place"""
    return _in_place("index_put_", index_put, input, indices, values, accumulate)


def masked_scatter_(input, mask, source):
    """masked_scatter(input, mask, source), in place (mask broadcasts to input's shape)"""
    return _in_place("masked_scatter_", masked_scatter, input, mask, source)


def put_(input, index, source, accumulate=False):
    """put(input, index, source, accumulate), in place"""
    return _in_place("put_", put, input, index, source, accumulate)
