"""Shape functions with PyTorch's names: ``reshape``/``view``, ``squeeze``, ``transpose``,
``expand``, ``cat``/``stack``, ``split``, ... and indexing (``x[index]``).  A result that shares
its input's storage is marked as a view, so in-place checks see through it."""
import builtins
import math

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..grad_mode import graph_break, state as _grad_state
from ..tensor import Tensor, apply, dim_index, wrap
from ._args import (index_arg, index_error, numpy_names, required_dim, tensor_arg,
                    torch_order)


# =========================================================================================
# Shape
# =========================================================================================

def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(s.__index__() for s in shape)
    except AttributeError:
        raise TypeError(f"{op}(): shape must be ints, got {shape!r}") from None


def _infer_shape(shape, numel, op):
    if builtins.sum(1 for s in shape if s == -1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view_of(out, x):
    """Mark ``out`` as a view of ``x`` when it shares x's storage (for in-place checks)."""
    if xp.shares_memory(out._data, x._data) if out._data.size else False:
        out._base = x if x._base is None else x._base
        out._vc = x._vc
    return out


def reshape(input, *shape):
    """input with a new shape (a view when possible, as torch)"""
    x = tensor_arg(input)
    shape = _infer_shape(_shape_arg(shape, "reshape"), x._data.size, "reshape")
    if shape == x._data.shape and not x._requires_grad and _grad_state.apply_hook is None:
        return _view_of(wrap(x._data.view()), x)
    return _view_of(apply(ops.reshape, (x,), {"shape": shape}), x)


def view(input, *shape):
    """input with a new shape, sharing storage; refuses when that needs a copy (use reshape)"""
    x = tensor_arg(input)
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_arg(shape, "view"), x._data.size, "view")
    try:
        xp.reshape(x._data, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return _view_of(apply(ops.reshape, (x,), {"shape": shape}), x)


def flatten(input, start_dim=0, end_dim=-1):
    """input with dims start_dim..end_dim merged into one"""
    x = tensor_arg(input)
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, (1,))
    s, e = dim_index(start_dim, nd), dim_index(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shape = x._data.shape
    # the merged size spelled out: -1 cannot be inferred when another dim is 0
    return reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """input with dim ``dim`` split into ``sizes`` (one of them may be -1)"""
    x = tensor_arg(input, "unflatten")
    d = dim_index(dim, x._data.ndim)
    sizes = _shape_arg((sizes,), "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shape = x._data.shape
    n = shape[d] if shape else 1
    known = math.prod(s for s in sizes if s != -1)
    if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({n}) in the input tensor")
    return reshape(x, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input, dim=None, *, axis=None):
    """input without its size-1 dims (only those in ``dim`` when given)"""
    dim, _ = numpy_names("squeeze", dim, axis)
    x = tensor_arg(input)
    shape = x._data.shape
    if dim is None:
        dims = range(len(shape))
    elif isinstance(dim, (tuple, list)):
        dims = [dim_index(d, len(shape)) for d in dim]
    else:
        dims = [dim_index(dim, len(shape))]
    new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
    out = apply(ops.squeeze, (x,), {"shape": new},
                name="SqueezeBackward0" if dim is None else "SqueezeBackward1")
    return _view_of(out, x)


def unsqueeze(input, dim=None, *, axis=None):
    """input with a size-1 dim inserted at ``dim``"""
    dim = required_dim("unsqueeze", dim, axis)
    x = tensor_arg(input)
    shape = x._data.shape
    d = dim_index(dim, len(shape) + 1)
    return _view_of(apply(ops.unsqueeze, (x,), {"shape": shape[:d] + (1,) + shape[d:]}), x)


def transpose(input, dim0, dim1):
    """input with dims dim0 and dim1 swapped (a view)"""
    x = tensor_arg(input)
    nd = x._data.ndim
    if nd == 0:
        return _view_of(apply(ops.reshape, (x,), {"shape": ()}), x)
    d0, d1 = dim_index(dim0, nd), dim_index(dim1, nd)
    return _view_of(apply(ops.transpose, (x,), {"dim0": d0, "dim1": d1}), x)


swapaxes = swapdims = transpose


def t(input):
    """The transpose of a tensor of at most 2 dims"""
    x = tensor_arg(input)
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{x._data.ndim}D; use transpose(dim0, dim1) or .mT")
    return transpose(x, 0, 1) if x._data.ndim == 2 else x


def permute(input, *args, dims=None):
    """input with its dims reordered (a view): ``permute(x, 1, 0)`` or ``permute(x, dims=(1, 0))``"""
    x = tensor_arg(input)
    dims = _shape_arg(args if dims is None else (dims,), "permute")
    nd = x._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
                           .replace("(sparse_coo)", ""))
    dims = tuple(dim_index(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {dims}")
    return _view_of(apply(ops.permute, (x,), {"dims": dims}), x)


def expand(input, *sizes):
    """input broadcast to ``sizes`` without copying (-1 keeps a dim)"""
    x = tensor_arg(input)
    sizes = _shape_arg(sizes, "expand")
    shape = x._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(chainrule.FloatTensor{{{list(shape)}}}, size={list(sizes)}): "
                           "the number of sizes provided ({}) must be greater or equal to the "
                           "number of dimensions in the tensor ({})".format(len(sizes), len(shape)))
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   "leading, non-existing dimension 0")
            target.append(s)
            continue
        n = shape[i - lead]
        if s == -1:
            s = n
        elif n != 1 and s != n:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({n}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shape)}")
        target.append(s)
    return _view_of(apply(ops.expand, (x,), {"shape": tuple(target)}), x)


def broadcast_to(input, size):
    """input broadcast to ``size`` (a view; -1 keeps a dim), as expand"""
    return expand(input, size)


def repeat(input, *sizes):
    """input tiled ``sizes`` times along each dim (a copy)"""
    x = tensor_arg(input)
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < x._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           f"dimensions of tensor (got {len(sizes)} sizes for a "
                           f"{x._data.ndim}-d tensor)")
    return apply(ops.repeat, (x,), {"sizes": sizes})


def flip(input, *args, dims=None):
    """input reversed along ``dims``: ``flip(x, 0, 1)`` or ``flip(x, dims=(0, 1))``"""
    x = tensor_arg(input)
    dims = _shape_arg(args if dims is None else (dims,), "flip")
    dims = tuple(dim_index(d, x._data.ndim) for d in dims)
    return apply(ops.flip, (x,), {"dims": dims})


def _tensors_arg(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not "
                        "Tensor")
    tensors = [tensor_arg(t) for t in tensors]
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    return tensors


def _promote_all(tensors):
    dts = {t._data.dtype for t in tensors}
    if len(dts) == 1:
        return None
    rt = tensors[0]._data.dtype
    for t in tensors[1:]:
        rt = D.promote_types(rt, t._data.dtype)
    return [t._data.astype(rt, copy=False) for t in tensors]


def cat(tensors, dim=0, *, axis=None):
    """The tensors joined along ``dim``"""
    dim, _ = numpy_names("cat", dim, axis, dim_default=0)
    tensors = _tensors_arg(tensors, "cat")
    # torch skips 1-d empty tensors in cat's checks (a legacy rule kept for compatibility), but
    # they still take part in type promotion and get a gradient (ops.cat skips them too)
    kept = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    ref = kept[0]._data.shape
    d = dim_index(dim, len(ref))
    for k, t in enumerate(kept):
        s = t._data.shape
        if len(s) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} and "
                               f"{len(s)}")
        for i, (a, b) in enumerate(zip(ref, s)):
            if i != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {a} but got size {b} for tensor number {k} in the list.")
    return apply(ops.cat, tuple(tensors), {"dim": d}, arrays=_promote_all(tensors))


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    """The tensors stacked along a new dim"""
    dim, _ = numpy_names("stack", dim, axis, dim_default=0)
    tensors = _tensors_arg(tensors, "stack")
    ref = tensors[0]._data.shape
    for k, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at "
                               f"entry 0 and {list(t._data.shape)} at entry {k}")
    d = dim_index(dim, len(ref) + 1)
    return apply(ops.stack, tuple(tensors), {"dim": d}, arrays=_promote_all(tensors))


def narrow(input, dim=None, start=None, length=None, *, axis=None):
    """``length`` elements of ``input`` from ``start`` along ``dim`` (a view)"""
    dim = required_dim("narrow", dim, axis)
    if start is None or length is None:
        raise TypeError("narrow() missing required arguments: narrow(input, dim, start, length)")
    x = tensor_arg(input)
    if x._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = dim_index(dim, x._data.ndim)
    n, start, length = x._data.shape[d], int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start < 0:                   # counts from the end, as torch (slicing would not wrap)
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``tensor`` along ``dim``: of one size, or of the listed sizes"""
    x = tensor_arg(tensor)
    d = dim_index(dim, x._data.ndim)
    n = x._data.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0, *, axis=None):
    """``chunks`` pieces of (nearly) equal size along ``dim``"""
    dim, _ = numpy_names("chunk", dim, axis, dim_default=0)
    x = tensor_arg(input)
    if x._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x._data.shape[dim_index(dim, x._data.ndim)]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


def unbind(input, dim=0, *, axis=None):
    """The slices of ``input`` along ``dim``, as a tuple"""
    dim, _ = numpy_names("unbind", dim, axis, dim_default=0)
    x = tensor_arg(input)
    d = dim_index(dim, x._data.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x._data.shape[d]))


# --- indexing -------------------------------------------------------------------------------

def getitem(x, index):
    """x[index], with gradients for every kind of index (repeated indices accumulate)"""
    idx, advanced = index_arg(index, x)
    try:
        out = apply(ops.index, (x,), {"index": idx, "accumulate": advanced},
                    name=_index_name(index, advanced))
    except IndexError as e:
        raise index_error(e, x) from None
    if advanced:
        order = torch_order(idx, x._data.ndim)     # x[1, :, [0, 3]]: torch's order of dims
        return out if order is None else permute(out, order)
    return _view_of(out, x)


def _index_name(index, advanced):
    if advanced:
        return "IndexBackward0"
    if isinstance(index, int):
        return "SelectBackward0"
    return "SliceBackward0"


# --- triangles and masks --------------------------------------------------------------------
# tril, triu and masked_fill are where() with a mask: where's rule already sends g to the kept
# elements (and masked_fill's to its value), so they need no primitive of their own.

def _triangle(op, input, diagonal):
    x = tensor_arg(input, op)
    if x._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, but got shape "
                           f"{tuple(x._data.shape)}; add one, e.g. x.unsqueeze(0)")
    if not isinstance(diagonal, (int, xp.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"{op}(): argument 'diagonal' must be int, not "
                        f"{type(diagonal).__name__}")
    n, m = x._data.shape[-2:]
    if op == "tril":      # on or below the diagonal-th diagonal
        keep = xp.tri(n, m, k=int(diagonal), dtype=bool)
    else:                 # not below it
        keep = ~xp.tri(n, m, k=int(diagonal) - 1, dtype=bool)
    zero = wrap(xp.zeros((), x._data.dtype))
    c = wrap(keep)
    return apply(ops.where, (c, x, zero), arrays=[keep, x._data, zero._data],
                 name="TrilBackward0" if op == "tril" else "TriuBackward0")


def tril(input, diagonal=0):
    """out[..., i, j] = x[..., i, j] if j - i <= diagonal else 0

    >>> import chainrule as cr
    >>> cr.tril(cr.ones(2, 3))
    tensor([[1., 0., 0.],
            [1., 1., 0.]])
    """
    return _triangle("tril", input, diagonal)


def triu(input, diagonal=0):
    """out[..., i, j] = x[..., i, j] if j - i >= diagonal else 0

    >>> import chainrule as cr
    >>> cr.triu(cr.ones(2, 3), 1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    return _triangle("triu", input, diagonal)


def masked_fill(input, mask, value):
    """out = value where mask else x (mask broadcasts; out keeps x's dtype)

    >>> import chainrule as cr
    >>> cr.masked_fill(cr.zeros(3), cr.tensor([True, False, True]), 5.0)
    tensor([5., 0., 5.])
    """
    x = tensor_arg(input, "masked_fill")
    m = tensor_arg(mask, "masked_fill")
    if m._data.dtype != bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{D.of(m._data)}; compare first, e.g. x.masked_fill(x > 0, v)")
    dt = x._data.dtype
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s); pass value.item() "
                               "or use torch.where(mask, value, x)")
        v = value if value._data.dtype == dt else value.to(D.of(x._data))
    elif isinstance(value, (bool, int, float, xp.number, xp.bool_)):
        v = value               # a number operand (as where(m, 0.0, x)), its array in x's dtype
    else:
        raise TypeError(f"masked_fill(): argument 'value' must be a number or a 0-d Tensor, "
                        f"not {type(value).__name__}")
    return apply(ops.where, (m, v, x),
                 arrays=[m._data, v._data if isinstance(v, Tensor) else xp.asarray(v).astype(dt),
                         x._data],
                 name="MaskedFillBackward1" if isinstance(value, Tensor) else
                 "MaskedFillBackward0")


# =========================================================================================
# Issue #12's catalogue: diagonals, rolls, flips, repeats, joins, splits, grids, copies.
# Everything here is composed from the primitives above (index, index_scatter, permute, flip,
# reshape, expand, cat, stack, repeat), whose rules already give first and second derivatives,
# so none of these needs a rule of its own.
# =========================================================================================

def _ints(v, op, arg):
    """An int or a sequence of ints, as a list."""
    if isinstance(v, Tensor):
        v = v.tolist()
    seq = v if isinstance(v, (tuple, list)) else [v]
    try:
        return [s.__index__() for s in seq]
    except AttributeError:
        raise TypeError(f"{op}(): argument '{arg}' must be an int or a tuple of ints, got "
                        f"{v!r}") from None


def _gather(x, index, name):
    """x[index] for an index of NumPy arrays and slices that picks no element twice (so its
    rule sets g in place, without accumulating), recorded under torch's name for the op."""
    return apply(ops.index, (x,), {"index": index, "accumulate": False}, name=name)


def _along(d, idx):
    """An index that applies ``idx`` to dim ``d`` and keeps the dims before it whole."""
    return (slice(None),) * d + (idx,)


# --- diagonals ------------------------------------------------------------------------------

def _diag_positions(n1, n2, offset):
    """Rows and columns of the ``offset``-th diagonal of an n1 x n2 matrix."""
    if offset >= 0:
        k = builtins.max(0, builtins.min(n1, n2 - offset))
        rows = xp.arange(k)
        return rows, rows + offset
    k = builtins.max(0, builtins.min(n1 + offset, n2))
    cols = xp.arange(k)
    return cols - offset, cols


def diagonal(input, offset=0, dim1=0, dim2=1):
    """out[..., i] = x[..., i, i + offset] over dims dim1, dim2 (the diagonal goes last)

    >>> import chainrule as cr
    >>> cr.diagonal(cr.arange(6.).reshape(2, 3), 1)
    tensor([1., 5.])
    """
    x = tensor_arg(input, "diagonal")
    nd = x._data.ndim
    d1, d2 = dim_index(dim1, nd), dim_index(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _as_view(_diagonal_gather(x, int(offset), d1, d2), x,
                    lambda a: _diagonal_strided(a, int(offset), d1, d2))


def _diagonal_gather(x, offset, d1, d2):
    nd = x._data.ndim
    order = [i for i in range(nd) if i not in (d1, d2)] + [d1, d2]
    y = x if order == list(range(nd)) else permute(x, order)
    rows, cols = _diag_positions(x._data.shape[d1], x._data.shape[d2], offset)
    return _gather(y, (Ellipsis, rows, cols), "DiagonalBackward0")


def _diagonal_strided(a, offset, d1, d2):
    """The diagonal of array a as a writable view: one stride, the sum of the two dims'."""
    b = xp.moveaxis(a, (d1, d2), (-2, -1))
    b = b[..., :, offset:] if offset >= 0 else b[..., -offset:, :]
    k = builtins.min(b.shape[-2], b.shape[-1])
    return xp.lib.stride_tricks.as_strided(b, b.shape[:-2] + (k,),
                                           b.strides[:-2] + (b.strides[-2] + b.strides[-1],))


def _as_view(out, x, strided):
    """``out`` (a gather, recorded in the graph) made a view of x as torch's result is: its data
    replaced by ``strided(x's array)``, the same values sharing x's storage, so that in-place
    writes into it (``A.diagonal().add_(1)``) reach x.  The gather's rule reads neither its input
    nor its output, so the swap changes no gradient."""
    if _grad_state.apply_hook is not None:         # vmap's batched tensors: keep the gather
        return out
    out._data = strided(x._data)
    return _view_of(out, x)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """out[..., i, i + offset] = x[..., i] over dims dim1, dim2 of a new zero tensor

    >>> import chainrule as cr
    >>> cr.diag_embed(cr.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    x = tensor_arg(input, "diag_embed")
    nd = x._data.ndim + 1
    d1, d2 = dim_index(dim1, nd), dim_index(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = x._data.shape
    offset = int(offset)
    m = shape[-1] + builtins.abs(offset)
    rows, cols = _diag_positions(m, m, offset)
    out = apply(ops.index_scatter, (x,), {"shape": shape[:-1] + (m, m),
                                          "index": (Ellipsis, rows, cols), "accumulate": False},
                name="DiagEmbedBackward0")
    return out if (d1, d2) == (nd - 2, nd - 1) else movedim(out, (-2, -1), (d1, d2))


def diag(input, diagonal=0):
    """A 1-d x on the diagonal-th diagonal of a square matrix, or a 2-d x's diagonal-th diagonal

    >>> import chainrule as cr
    >>> cr.diag(cr.tensor([[1., 2.], [3., 4.]]))
    tensor([1., 4.])
    """
    x = tensor_arg(input, "diag")
    nd = x._data.ndim
    if nd not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    if nd == 1:
        return diag_embed(x, diagonal)
    return _diagonal_gather(x, int(diagonal), 0, 1)        # a copy, as torch's diag


def diagflat(input, offset=0):
    """The flattened input on the offset-th diagonal of a square matrix"""
    x = tensor_arg(input, "diagflat")
    return diag_embed(reshape(x, -1), offset)


def trace(input):
    """out = Σ_i x[i, i] (x a matrix)"""
    x = tensor_arg(input, "trace")
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._data.ndim}")
    if x._data.dtype == bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'; convert first, e.g. "
                                  "x.long().trace()")
    from .reductions import sum as _sum
    return _sum(diagonal(x))


# --- rolls, rotations, flips ----------------------------------------------------------------

def roll(input, shifts, dims=None):
    """out[(i + shift) mod n] = x[i] along each dim (the flattened x when dims is None)

    >>> import chainrule as cr
    >>> cr.roll(cr.arange(4), 1)
    tensor([3, 0, 1, 2])
    """
    x = tensor_arg(input, "roll")
    shifts = _ints(shifts, "roll", "shifts")
    dims = [] if dims is None else _ints(dims, "roll", "dims")
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(roll(reshape(x, -1), shifts, 0), x._data.shape)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    nd = x._data.ndim
    if nd == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    out = x
    for s, d in zip(shifts, dims):
        d = dim_index(d, nd)
        n = x._data.shape[d]
        # out[j] = x[(j - s) mod n]: one gather a dim, whose rule scatters g back
        out = _gather(out, _along(d, (xp.arange(n) - s) % n), "RollBackward0")
    return out


def rot90(input, k=1, dims=(0, 1)):
    """input rotated by k quarter turns in the plane dims, from dims[0] towards dims[1]"""
    x = tensor_arg(input, "rot90")
    dims = _ints(dims, "rot90", "dims")
    nd = x._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    if dims[0] == dims[1] or builtins.abs(dims[0] - dims[1]) == nd:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    d0, d1 = dim_index(dims[0], nd), dim_index(dims[1], nd)
    k = int(k) % 4          # as torch: a flip and a transpose
    if k == 1:
        return transpose(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, d0, d1)
    if k == 3:
        return transpose(flip(x, d0), d0, d1)
    return _clone(x)


def _clone(x):
    from ..tensor import clone
    return clone(x)


def fliplr(input):
    """input reversed along dim 1 (left/right)"""
    x = tensor_arg(input, "fliplr")
    if x._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(x, 1)


def flipud(input):
    """input reversed along dim 0 (up/down)"""
    x = tensor_arg(input, "flipud")
    if x._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(x, 0)


# --- repeats and windows --------------------------------------------------------------------

def _repeats_array(repeats):
    r = repeats._data
    if r.dtype.kind not in "iu":
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                  f"'{D.SCALAR_NAMES.get(r.dtype.name, r.dtype.name)}'; pass "
                                  "integer repeats, e.g. repeats.long()")
    return r


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (slice along dim) of input repeated repeats times, in place of the original

    >>> import chainrule as cr
    >>> cr.repeat_interleave(cr.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    """
    x = tensor_arg(input, "repeat_interleave")
    if repeats is None:             # repeat_interleave(repeats): the indices, each repeated
        r = x._data
        if r.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        _repeats_array(x)
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        out = xp.repeat(xp.arange(r.shape[0], dtype=r.dtype), r)
        if output_size is not None and out.shape[0] != output_size:
            raise RuntimeError("allocated size does not match required size")
        return wrap(out)
    if dim is None:
        x, d = reshape(x, -1), 0
    else:
        d = dim_index(dim, x._data.ndim)
        if x._data.ndim == 0:
            x = reshape(x, 1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor):
        r = _repeats_array(repeats)
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if r.ndim == 1 and r.shape[0] not in (1, n):
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.shape[0]} and input.size({d}) = {n}")
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        r = xp.broadcast_to(r.reshape(-1), (n,))
    else:
        r = int(repeats)
        if r < 0:
            raise RuntimeError("Repeats must be non-negative")
    idx = xp.repeat(xp.arange(n), r)
    if output_size is not None and idx.shape[0] != output_size:
        raise RuntimeError("allocated size does not match required size")
    return getitem(x, _along(d, idx))


def tile(input, dims):
    """input repeated dims[i] times along each dim (dims padded with leading 1s)"""
    x = tensor_arg(input, "tile")
    dims = _ints(dims, "tile", "dims")
    dims = [1] * (x._data.ndim - len(dims)) + dims
    return repeat(x, dims)


def unfold(input, dimension, size, step):
    """Windows of ``size`` elements every ``step`` along ``dimension``, as a new last dim

    >>> import chainrule as cr
    >>> cr.arange(5.).unfold(0, 2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    x = tensor_arg(input, "unfold")
    nd = x._data.ndim
    d = dim_index(dimension, nd)
    n = x._data.shape[d] if nd else 1
    size, step = int(size), int(step)
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if nd == 0:                     # a 0-d input is one element: one window of size 1 or 0
        return getitem(reshape(x, 1), slice(0, size))
    # in the graph: one gather with a (windows, size) index (its rule adds overlapping windows'
    # g), then the window dim moved last; the data: a strided view of x's, as torch's
    count = (n - size) // step + 1
    idx = xp.arange(count)[:, None] * step + xp.arange(size)[None, :]
    out = movedim(getitem(x, _along(d, idx)), d + 1, -1)
    return _as_view(out, x, lambda a: _windows_strided(a, d, count, size, step))


def _windows_strided(a, d, count, size, step):
    """unfold's windows as a view of array a: dim d steps by windows, a new last dim within."""
    shape = a.shape[:d] + (count,) + a.shape[d + 1:] + (size,)
    strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


# --- moving dims ----------------------------------------------------------------------------

def movedim(input, source, destination):
    """input with dims ``source`` moved to positions ``destination`` (a view)

    >>> import chainrule as cr
    >>> cr.movedim(cr.zeros(2, 3, 4), 0, -1).shape
    chainrule.Size([3, 4, 2])
    """
    x = tensor_arg(input, "movedim")
    nd = x._data.ndim
    src = _ints(source, "movedim", "source")
    dst = _ints(destination, "movedim", "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    s = [dim_index(i, nd) for i in src]
    t = [dim_index(i, nd) for i in dst]
    if len(set(s)) != len(s):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(t)) != len(t):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if nd == 0:
        return _view_of(apply(ops.reshape, (x,), {"shape": ()}), x)
    order = [None] * nd
    for a, b in zip(s, t):
        order[b] = a
    rest = iter(i for i in range(nd) if i not in s)
    order = [next(rest) if o is None else o for o in order]
    return permute(x, order)


moveaxis = movedim


# --- joining --------------------------------------------------------------------------------

def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    tensors = [tensor_arg(t, op) for t in tensors]
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def _one_or_many(tensors, op):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        return list(tensors[0]), True
    return [tensor_arg(t, op) for t in tensors], len(tensors) != 1


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d becomes shape (1,))"""
    ts, many = _one_or_many(tensors, "atleast_1d")
    out = tuple(reshape(t, 1) if t._data.ndim == 0 else t for t in ts)
    return out if many else out[0]


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (0-d: (1, 1); 1-d (n): (1, n))"""
    ts, many = _one_or_many(tensors, "atleast_2d")
    out = tuple(reshape(t, (1,) * (2 - t._data.ndim) + t._data.shape) if t._data.ndim < 2
                else t for t in ts)
    return out if many else out[0]


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (0-d: (1, 1, 1); (n,): (1, n, 1); (a, b): (a, b, 1))"""
    ts, many = _one_or_many(tensors, "atleast_3d")
    out = []
    for t in ts:
        s = t._data.shape
        if len(s) == 0:
            t = reshape(t, (1, 1, 1))
        elif len(s) == 1:
            t = reshape(t, (1, s[0], 1))
        elif len(s) == 2:
            t = reshape(t, s + (1,))
        out.append(t)
    return tuple(out) if many else out[0]


def hstack(tensors):
    """The tensors joined along dim 1 (dim 0 when they are all 1-d)"""
    ts = [atleast_1d(t) for t in _tensor_list(tensors, "hstack")]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """The tensors (made at least 2-d) joined along dim 0"""
    return cat([atleast_2d(t) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors):
    """The tensors (made at least 3-d) joined along dim 2"""
    return cat([atleast_3d(t) for t in _tensor_list(tensors, "dstack")], 2)


def column_stack(tensors):
    """The tensors joined as columns: 0-d and 1-d ones become (n, 1) first"""
    ts = _tensor_list(tensors, "column_stack")
    return cat([reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts], 1)


def block_diag(*tensors):
    """The tensors (at most 2-d) as the blocks of a block-diagonal matrix, zeros elsewhere"""
    ts = [tensor_arg(t, "block_diag") for t in tensors]
    for i, t in enumerate(ts):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t._data.ndim} dimensions")
    if not ts:
        return wrap(xp.zeros((1, 0), D.get_default_dtype().np))
    ts = [reshape(t, (1, 1)) if t._data.ndim == 0 else
          reshape(t, (1, t._data.shape[0])) if t._data.ndim == 1 else t for t in ts]
    dt = ts[0]._data.dtype
    for t in ts[1:]:
        dt = D.promote_types(dt, t._data.dtype)
    ts = [t if t._data.dtype == dt else t.to(D.BY_NP[dt]) for t in ts]
    width = builtins.sum(t._data.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        r, c = t._data.shape
        parts = [wrap(xp.zeros((r, left), dt)), t, wrap(xp.zeros((r, width - left - c), dt))]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def _same_dtype(ts, op):
    if len({t._data.dtype for t in ts}) > 1:
        raise RuntimeError(f"{op} expects all tensors to have the same dtype")


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: out[i] holds tensors[i]'s values along dim i ('ij'), or with the
    first two dims swapped ('xy'); each output is a view (expand) of its input

    >>> import chainrule as cr
    >>> cr.meshgrid(cr.tensor([1, 2]), cr.tensor([3, 4, 5]), indexing="ij")[0].shape
    chainrule.Size([2, 3])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        # torch's exact text, so that programs' filterwarnings(message="torch.meshgrid") work
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("xy", "ij"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    ts = [tensor_arg(t, "meshgrid") for t in tensors]
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a tensor of shape {list(t._data.shape)}")
    _same_dtype(ts, "meshgrid")
    axes = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(ts)
    for t, a in zip(ts, axes):
        shape[a] = t._data.size
    out = []
    for t, a in zip(ts, axes):
        view_shape = [1] * len(ts)
        view_shape[a] = t._data.size
        out.append(expand(reshape(t, tuple(view_shape)), tuple(shape)))
    return tuple(out)


def cartesian_prod(*tensors):
    """The rows (a_i, b_j, ...) of the Cartesian product of 1-d tensors, in row-major order"""
    ts = [tensor_arg(t, "cartesian_prod") for t in tensors]
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-d tensor's elements, one a row (itertools' order)"""
    import itertools
    x = tensor_arg(input, "combinations")
    if x._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x._data.shape)}")
    r = int(r)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return wrap(xp.empty((0,), x._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = xp.array(list(pick(range(x._data.shape[0]), r)), dtype=xp.int64).reshape(-1, r)
    return getitem(x, (idx,))


# --- splitting ------------------------------------------------------------------------------

def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """input split along dim into n nearly equal pieces (an int) or at the given indices (views)

    >>> import chainrule as cr
    >>> [t.tolist() for t in cr.tensor_split(cr.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    """
    x = tensor_arg(input, "tensor_split")
    spec = next((v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections)
                 if v is not None), None)
    if spec is None:
        raise TypeError("tensor_split() missing required argument 'indices_or_sections'")
    if x._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    if isinstance(spec, Tensor):
        if spec._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor with "
                               f"{spec._data.ndim} dims")
        if spec._data.dtype != xp.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {D.SCALAR_NAMES.get(spec._data.dtype.name)}")
        spec = spec.item() if spec._data.ndim == 0 else spec.tolist()
    d = dim_index(dim, x._data.ndim)
    n = x._data.shape[d]
    if isinstance(spec, (tuple, list)):
        bounds = [int(i) for i in spec]
    else:
        k = int(spec)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        size, extra = divmod(n, k)
        bounds, at = [], 0
        for i in range(k - 1):
            at += size + (i < extra)
            bounds.append(at)
    edges = [0] + bounds + [None]
    return tuple(getitem(x, _along(d, slice(a, b))) for a, b in zip(edges[:-1], edges[1:]))


def _split_like_numpy(op, input, spec, least, dim):
    x = tensor_arg(input, op)
    nd = x._data.ndim
    if nd < least:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {least} dimension, but "
                           f"got a tensor with {nd} dimensions!")
    if isinstance(spec, int):
        n = x._data.shape[dim]
        if spec == 0 or n % spec:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {n} is not divisible by the split_size "
                               f"{spec}!")
    return tensor_split(x, spec, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for a 1-d input); an int must divide the size"""
    x = tensor_arg(input, "hsplit")
    return _split_like_numpy("hsplit", x, indices_or_sections, 1, 1 if x._data.ndim > 1 else 0)


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of an input of at least 2 dims"""
    return _split_like_numpy("vsplit", input, indices_or_sections, 2, 0)


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of an input of at least 3 dims"""
    return _split_like_numpy("dsplit", input, indices_or_sections, 3, 2)


def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of the listed sizes along dim (views)"""
    return split(input, list(split_sizes), dim)


unsafe_split = split
unsafe_chunk = chunk
unsafe_split_with_sizes = split_with_sizes


# --- broadcasting ---------------------------------------------------------------------------

def broadcast_shapes(*shapes):
    """The shape that tensors of the given shapes broadcast to"""
    from ..tensor import Size
    shapes = [tuple(s) if isinstance(s, (tuple, list)) else (int(s),) for s in shapes]
    n = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * n
    for s in shapes:
        if builtins.any(v < 0 for v in s):
            raise ValueError("Attempting to broadcast a dimension with negative length!")
    for k, s in enumerate(shapes):
        for i in range(1, len(s) + 1):
            if s[-i] == 1:
                continue
            if out[-i] == 1:
                out[-i] = s[-i]
            elif out[-i] != s[-i]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[-i]} at "
                                   f"{-i}! Mismatching argument at index {k} had {s}; but "
                                   f"expected shape should be broadcastable to {out}")
    return Size(out)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views)"""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    ts = [tensor_arg(t, "broadcast_tensors") for t in tensors]
    shape = ()
    for t in ts:
        s = t._data.shape
        n = builtins.max(len(shape), len(s))
        a, b = (1,) * (n - len(shape)) + shape, (1,) * (n - len(s)) + s
        new = []
        for i, (p, q) in enumerate(zip(a, b)):
            if p != q and p != 1 and q != 1:
                raise _broadcast_error(p, q, i)
            new.append(q if p == 1 else p)
        shape = tuple(new)
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in ts)


def _broadcast_error(a, b, d):
    return RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                        f"non-singleton dimension {d}")


def sum_to_size(input, *size):
    """input summed over the dims it was broadcast along from ``size``"""
    from .reductions import sum as _sum
    x = tensor_arg(input, "sum_to_size")
    size = _shape_arg(size, "sum_to_size")
    shape = x._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, (s, n) in enumerate(zip(size, shape[lead:]))
                                      if s == 1 and n != 1)
    if not dims:
        return x
    out = _sum(x, dims, keepdim=True)
    return reshape(out, size) if lead else out


def ravel(input):
    """input flattened to 1-d (a view when possible)"""
    return reshape(tensor_arg(input, "ravel"), -1)


# --- images and channels --------------------------------------------------------------------

def _image_arg(input, op):
    x = tensor_arg(input, op)
    if x._data.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {x._data.ndim} dimension(s)")
    return x


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): out[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]"""
    x = _image_arg(input, "pixel_shuffle")
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = x._data.shape
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    b = len(lead)
    y = reshape(x, tuple(lead) + (c // (r * r), r, r, h, w))
    y = permute(y, tuple(range(b)) + (b, b + 3, b + 1, b + 4, b + 2))
    return reshape(y, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of pixel_shuffle"""
    x = _image_arg(input, "pixel_unshuffle")
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = x._data.shape
    for name, n, at in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({at})={n} is not divisible by "
                               f"{r}")
    b = len(lead)
    y = reshape(x, tuple(lead) + (c, h // r, r, w // r, r))
    y = permute(y, tuple(range(b)) + (b, b + 2, b + 4, b + 1, b + 3))
    return reshape(y, tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """(N, g·k, *) -> (N, k·g, *): channel i·k + j moves to j·g + i"""
    x = tensor_arg(input, "channel_shuffle")
    g = int(groups)
    if x._data.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(x._data.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    n, c, *rest = x._data.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    y = reshape(x, (n, g, c // g) + tuple(rest))
    return reshape(transpose(y, 1, 2), (n, c) + tuple(rest))


# --- copies of views (torch's *_copy functions): the same op, then a copy in the graph -------

def _copied(out):
    if isinstance(out, (tuple, list)):
        return type(out)(_copied(o) for o in out)
    return _clone(out)


def alias_copy(input):
    """A copy of input (torch.alias's copying variant)"""
    return _copied(tensor_arg(input, "alias_copy"))


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """diagonal(input, offset, dim1, dim2), copied"""
    return _copied(diagonal(input, offset, dim1, dim2))


def expand_copy(input, size, *, implicit=False):
    """expand(input, size), copied"""
    return _copied(expand(input, size))


def permute_copy(input, dims):
    """permute(input, dims), copied"""
    return _copied(permute(input, dims=dims))


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """input[start:end:step] along dim, copied"""
    x = tensor_arg(input, "slice_copy")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return _copied(getitem(x, _along(dim_index(dim, x._data.ndim), slice(start, end, step))))


def split_copy(input, split_size, dim=0):
    """split(input, split_size, dim), each piece copied"""
    return _copied(split(input, split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    """split_with_sizes(input, split_sizes, dim), each piece copied"""
    return _copied(split_with_sizes(input, split_sizes, dim))


def squeeze_copy(input, dim=None):
    """squeeze(input, dim), copied"""
    return _copied(squeeze(input, dim))


def t_copy(input):
    """t(input), copied"""
    return _copied(t(input))


def transpose_copy(input, dim0, dim1):
    """transpose(input, dim0, dim1), copied"""
    return _copied(transpose(input, dim0, dim1))


def unbind_copy(input, dim=0):
    """unbind(input, dim), each slice copied"""
    return _copied(unbind(input, dim))


def unfold_copy(input, dimension, size, step):
    """unfold(input, dimension, size, step), copied"""
    return _copied(unfold(input, dimension, size, step))


def unsqueeze_copy(input, dim):
    """unsqueeze(input, dim), copied"""
    return _copied(unsqueeze(input, dim))


def view_copy(input, size):
    """view(input, size) (reshape semantics: the copy needs no shared storage), copied"""
    if isinstance(size, D.dtype):
        raise NotImplementedError("view_copy(dtype) is not supported; use .to(dtype)")
    return _copied(reshape(input, size))


# --- in-place changes of shape (squeeze_, t_, transpose_, ...) and resize_ ------------------

def inplace_view(x, fn, *args):
    """x becomes fn(x, *args) (a view op) in place: its shape changes, its storage stays, and
    when gradients flow x takes the view op's node as its history.

    The in-place ops of ``_inplace.py`` write a result of x's shape into x's storage; these
    write nothing and change the shape instead, so they check and hand over the history here
    (the same steps as ``_inplace``'s: refuse a leaf or a view of one that requires grad, record
    the op on a stand-in for x's old self, then make x the op's result)."""
    graph_break(f"{fn.__name__}_ (an in-place change)")    # the caller's x changes shape
    if fn is t and x._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{x._data.ndim}D; use transpose_(dim0, dim1)")
    recording = _grad_state.enabled and x._requires_grad
    base = x._base
    if recording and x._grad_fn is None:
        raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                           f"operation. Do the {fn.__name__}_ inside `with "
                           "chainrule.no_grad():`, on a .clone(), or use the out-of-place "
                           f"{fn.__name__}")
    if _grad_state.enabled and base is not None and base._requires_grad:
        raise RuntimeError(f"chainrule does not record in-place operations ({fn.__name__}_) on "
                           "a view of a tensor that requires grad: the base tensor's history "
                           f"would not know. Use the out-of-place {fn.__name__}.")
    if recording:
        old = wrap(x._data)         # x's old self in the graph (x itself will be the result)
        old._vc, old._requires_grad, old._grad_fn = x._vc, True, x._grad_fn
        r = fn(old, *args)
        node = r._grad_fn
        x._data, x._grad_fn = r._data, node
        if node is not None and node.out_version is not None:
            node.out_data, node.out_version = x._data, (x._vc, x._vc[0] + 1)
        if x._retains_grad:         # retain_grad() follows x to its new self, as torch
            x._retains_grad = False
            x.retain_grad()
    else:
        x._data = fn(wrap(x._data), *args)._data
    x._vc[0] += 1
    return x


def resize_(x, *sizes, memory_format=None):
    """x reshaped in place to sizes, keeping its first elements; new elements are zeros (torch
    leaves them uninitialised)"""
    if x._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    graph_break("resize_ (an in-place change)")
    shape = _shape_arg(sizes, "resize_")
    n = math.prod(shape)
    flat = x._data.reshape(-1)
    if n <= flat.size:
        x._data = flat[:n].reshape(shape)
    else:
        data = xp.zeros(n, x._data.dtype)
        data[:flat.size] = flat
        x._data = data.reshape(shape)
    return x


def resize_as_(input, the_template, *, memory_format=None):
    """resize_ to the_template's shape"""
    return resize_(tensor_arg(input, "resize_as_"), tuple(tensor_arg(the_template)._data.shape))


def resize(x, *sizes):
    """Deprecated out-of-place resize: a reshape that keeps the element count"""
    import warnings
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    shape = _shape_arg(sizes, "resize")
    return _resize_checked(x, shape)


def resize_as(x, tensor):
    """Deprecated out-of-place resize_as: a reshape to tensor's shape"""
    import warnings
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resize_checked(x, tuple(tensor_arg(tensor)._data.shape))


def _resize_checked(x, shape):
    n, have = math.prod(shape), x._data.size
    if n != have:
        size = "x".join(str(s) for s in shape)
        had = "x".join(str(s) for s in x._data.shape)
        raise RuntimeError(f"requested resize to {size} ({n} elements in total), but the given "
                           f"tensor has a size of {had} ({have} elements). autograd's resize can "
                           "only change the shape of a given tensor, while preserving the number "
                           "of elements. ")
    return reshape(x, shape)


# --- empty tensors with a layout (chainrule's arrays are always row-major) ------------------

def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor of ``size``; ``stride`` is checked, not kept (row-major always)"""
    from ..creation import empty
    size, stride = _shape_arg((size,), "empty_strided"), _shape_arg((stride,), "empty_strided")
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    return empty(size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised tensor of ``size``; ``physical_layout`` is checked, not kept"""
    from ..creation import empty
    size = _shape_arg((size,), "empty_permuted")
    perm = _shape_arg((physical_layout,), "empty_permuted")
    if len(size) != len(perm):
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(perm)}")
    if sorted(perm) != list(range(len(size))):
        raise RuntimeError(f"physical_layout must be a permutation of the dims, got {list(perm)}")
    return empty(size, dtype=dtype, device=device, requires_grad=requires_grad)
