"""Shape functions with PyTorch's names: ``reshape``/``view``, ``squeeze``, ``transpose``,
``expand``, ``cat``/``stack``, ``split``, ... and indexing (``x[index]``).  A result that shares
its input's storage is marked as a view, so in-place checks see through it."""
import builtins
import math

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..grad_mode import state as _grad_state
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
    x = tensor_arg(input)
    d = dim_index(dim, x._data.ndim)
    shape = x._data.shape
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
    d = dim_index(dim, x._data.ndim)
    n, start, length = x._data.shape[d], int(start), int(length)
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
        v = wrap(xp.asarray(value).astype(dt))
    else:
        raise TypeError(f"masked_fill(): argument 'value' must be a number or a 0-d Tensor, "
                        f"not {type(value).__name__}")
    return apply(ops.where, (m, v, x), arrays=[m._data, v._data, x._data],
                 name="MaskedFillBackward1" if isinstance(value, Tensor) else
                 "MaskedFillBackward0")
