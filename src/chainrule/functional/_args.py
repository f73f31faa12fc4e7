"""What every family of public functions does with its arguments before calling a primitive.

Operands (a tensor, a Python number, an ndarray) and PyTorch's type promotion; functions without
a gradient (``nondiff``); dims given as torch's ``dim=`` or NumPy's ``axis=``; torch-style
indices.  The names here are the package's own (``elementwise.py`` and ``reductions.py`` call
``binary`` and ``reduce_dims``), not part of the public API.
"""
import builtins

from .. import _backend as B
from .. import dtypes as D
from .._backend import xp
from ..grad_mode import read_by_reference, state as _grad_state
from ..tensor import Tensor, apply, dim_index, wrap

_ndarray = B.ndarray


# =========================================================================================
# Operands and type promotion
# =========================================================================================

_INT64_MIN, _UINT64_END = -2 ** 63, 2 ** 64


def number(v, op):
    """A Python number from a number-like operand, or a TypeError naming the op."""
    if isinstance(v, (bool, float)):
        return v
    if isinstance(v, int):
        if not _INT64_MIN <= v < _UINT64_END:
            raise OverflowError(f"{op}(): int too big to convert: {v} does not fit in 64 bits; "
                                "use a float (float(v)) if an approximation will do")
        return v
    if isinstance(v, (xp.number, xp.bool_)) and not isinstance(v, xp.complexfloating):
        return v.item()
    raise operand_error(v, op, "a Tensor or a Python number")


def operand_error(v, op, expected):
    """The TypeError for an operand chainrule cannot take, saying what to do with it."""
    kind = type(v)
    where = f"{op}(): " if op else ""
    if kind.__module__.split(".")[0] == "torch":
        return TypeError(f"{where}got a torch.{kind.__name__}, and chainrule does not mix with "
                         "PyTorch: convert it with chainrule.from_dlpack(t) or "
                         "chainrule.tensor(t.detach().numpy()) (or the chainrule tensor x to torch "
                         "with torch.from_dlpack(x) or torch.tensor(x.detach().numpy()))")
    if isinstance(v, (complex, xp.complexfloating)):
        return TypeError(f"{where}chainrule has no complex dtype (got {v!r}): keep the real and "
                         "imaginary parts as two real tensors")
    return TypeError(f"{where}unsupported operand of type {kind.__name__}; expected {expected}")


def tensor_arg(v, op=None):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, _ndarray):
        return wrap(v)
    raise operand_error(v, op, "a Tensor")


def wrap_int(v, np_dtype):
    """A Python int cast to an integer dtype as torch casts it: modulo 2**bits (so ``int32 tensor
    + 2**40`` adds 0, as in torch)."""
    bits = 8 * np_dtype.itemsize
    v %= 1 << bits
    return v - (1 << bits) if np_dtype.kind == "i" and v >> (bits - 1) else v


def binary(op, a, b, name=None, floating=False):
    """Apply a binary primitive with torch's promotion; ``a``/``b`` are tensors or numbers.

    floating: the result must be floating (true division): integer operands become the
    default float dtype.
    """
    tb = type(b)
    if type(a) is Tensor:
        if tb is float or tb is int and _INT64_MIN <= b < _UINT64_END:
            if a._data.dtype.kind == "f":
                return apply(op, (a, b), name=name)
        elif tb is Tensor and a._data.dtype == b._data.dtype and \
                (not floating or a._data.dtype.kind == "f"):
            return apply(op, (a, b), name=name)
    if isinstance(a, _ndarray):
        a = wrap(a)
    if isinstance(b, _ndarray):
        b = wrap(b)
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta:
        a = number(a, op.name)
    if not tb:
        b = number(b, op.name)
    da = a._data.dtype if ta else None
    db = b._data.dtype if tb else None
    if ta and tb and da == db and (not floating or da.kind == "f"):
        return apply(op, (a, b), name=name)
    if ta and not tb and da.kind == "f" and not isinstance(b, complex):
        return apply(op, (a, b), name=name)
    if tb and not ta and db.kind == "f" and not isinstance(a, complex):
        return apply(op, (a, b), name=name)
    av = a._data if ta else a
    bv = b._data if tb else b
    rt = D.result_type(av, bv)
    if floating and rt.kind != "f":
        rt = D.default_float_np()
    arrays = [av.astype(rt, copy=False) if ta else av, bv.astype(rt, copy=False) if tb else bv]
    # a Python float with an integer tensor, or two numbers (add(2.5, 1.0) is the default float
    # dtype): give NumPy the numbers as arrays of the result type
    for i, v in enumerate(arrays):
        if isinstance(v, _ndarray):
            continue
        if type(v) is int and rt.kind in "iu":
            arrays[i] = v = wrap_int(v, rt)
        if rt.kind != "f" and isinstance(v, float) or not (ta or tb):
            arrays[i] = xp.asarray(v, rt)
    return apply(op, (a, b), arrays=arrays, name=name)


def float_input(x, op):
    """Unary floating ops (exp, log, ...) turn integer tensors into the default float dtype."""
    x = tensor_arg(x) if not isinstance(x, Tensor) else x
    return x if x._data.dtype.kind == "f" else nondiff(astype, x, D.default_float_np())


def unary(op, x):
    if not isinstance(x, Tensor):
        x = tensor_arg(x)
    if x._data.dtype.kind != "f":
        x = float_input(x, op.name)
    return apply(op, (x,))


def is_number(v):
    return isinstance(v, (bool, int, float, complex))


def nondiff(fn, *args, **kwargs):
    """``fn`` (a NumPy function with no gradient: a comparison, isnan, argmax, a cast) on the
    arrays of its tensor arguments, as a new tensor.  The one place vmap sees such functions."""
    hook = _grad_state.apply_hook
    if hook is not None:
        out = hook.nondiff(fn, args, kwargs)
        if out is not None:
            return out
    return wrap(xp.asarray(fn(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)))


astype = _ndarray.astype


# =========================================================================================
# Dimensions and indices
# =========================================================================================

def numpy_names(op, dim, axis, keepdim=False, keepdims=None, dim_default=None):
    """torch's aliases for NumPy's spellings: ``axis=`` for ``dim=``, ``keepdims=`` for
    ``keepdim=``.  Returns ``(dim, keepdim)``; both spellings at once is a TypeError, as torch."""
    if axis is not None:
        if dim is not None and dim is not dim_default:
            raise TypeError(f"{op}(): got both dim={dim!r} and axis={axis!r}; axis is NumPy's "
                            "name for dim: pass one of them")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}(): got both keepdim and keepdims; keepdims is NumPy's name for "
                            "keepdim: pass one of them")
        keepdim = keepdims
    return dim, keepdim


def required_dim(op, dim, axis):
    """A dim that has no default (unsqueeze, narrow), given as dim= or as NumPy's axis=."""
    dim, _ = numpy_names(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}() missing required argument 'dim' (or its NumPy name, axis)")
    return dim


def reduce_dims(dim, ndim):
    """torch's dim argument -> a sorted tuple of axes, or None for all (also for dim=())."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0 or ndim == 0:
            for d in dim:
                dim_index(d, ndim)
            return None
        dims = tuple(sorted(dim_index(d, ndim) for d in dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
        return dims
    d = dim_index(dim, ndim)
    return (d,) if ndim else None



def index_arg(index, x):
    """Convert a torch-style index to a NumPy one; say whether it is advanced."""
    if not isinstance(index, tuple):
        index = (index,)
    out, advanced = [], False
    for i in index:
        if isinstance(i, Tensor):
            read_by_reference(i)
            i = i._data
            if i.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            advanced = True
            out.append(i)
        elif isinstance(i, (list, range, _ndarray)):     # a range indexes as its list, as torch
            a = xp.asarray(i, dtype=xp.int64) if isinstance(i, range) else xp.asarray(i)
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            advanced = True
            out.append(a)
        elif isinstance(i, bool):
            advanced = True
            out.append(i)
        elif i is None or i is Ellipsis or isinstance(i, (int, slice, xp.integer)):
            if isinstance(i, slice) and i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(i)
        else:
            raise TypeError(f"cannot index a tensor with an object of type {type(i).__name__}; "
                            "use ints, slices, None, ..., lists, ranges or integer/bool tensors")
    if not advanced and Ellipsis not in out:
        out.append(Ellipsis)   # NumPy then returns a 0-d view, never a scalar copy
    return tuple(out), advanced


def torch_order(idx, ndim):
    """The permutation that takes NumPy's result of ``x[idx]`` to torch's, or None when they
    agree.  torch applies integer indices first (as selects), so ``x[1, :, [0, 3]]`` keeps its
    index dimension in place (shape (4, 2) for a (3, 4, 5) x), where NumPy counts the 1 as an
    advanced index separated from [0, 3] by the slice and moves the index dimensions to the
    front (shape (2, 4))."""
    kinds = []
    for i in idx:
        if isinstance(i, _ndarray):
            kinds.append("a")
        elif isinstance(i, bool):
            return None         # x[True]: NumPy's and torch's rules agree only by accident
        elif isinstance(i, (int, xp.integer)):
            kinds.append("i")
        else:
            kinds.append("s" if i is not Ellipsis else "e")

    def contiguous(ks, which):
        at = [k for k, c in enumerate(ks) if c in which]
        return not at or at[-1] - at[0] + 1 == len(at)
    if "a" not in kinds or "i" not in kinds or contiguous(kinds, "ai") or \
            not contiguous([c for c in kinds if c != "i"], "a"):
        return None
    used = builtins.sum(i.ndim if isinstance(i, _ndarray) and i.dtype == bool else
                        0 if i is None or i is Ellipsis else 1 for i in idx)
    block = xp.broadcast_shapes(*(xp.nonzero(i)[0].shape if i.dtype == bool else i.shape
                                  for i in idx if isinstance(i, _ndarray)))
    before = 0                  # result dims from the entries before the first tensor index
    for i, c in zip(idx, kinds):
        if c == "a":
            break
        if c == "e":
            before += ndim - used
        elif c == "s":
            before += 1
    nb = len(block)
    total = nb + builtins.sum(1 for c in kinds if c == "s") + \
        (ndim - used if "e" in kinds else 0)
    rest = list(range(nb, total))
    order = tuple(rest[:before] + list(range(nb)) + rest[before:])
    return None if order == tuple(range(total)) else order


def index_error(e, x):
    msg = str(e).replace("axis", "dimension")
    return IndexError(msg)
