"""Tensor functions with PyTorch's names: ``chainrule.exp(x)``, ``chainrule.sum(x, dim=1)``, ...

Each public function checks its arguments (errors name the op, the shapes and the fix), applies
PyTorch's type promotion, and calls a primitive from ``ops.py`` through ``tensor.apply``, or is
composed from other functions (``mean``, ``var``, ``std``, ``square``, ``outer``, ...), in which
case it needs no derivative of its own.
"""
import builtins
import collections
import math
import warnings

from . import _backend as B
from . import dtypes as D
from . import ops
from ._backend import xp
from .grad_mode import state as _grad_state
from .tensor import Tensor, _dim, _new, apply, clone  # noqa: F401  (clone is re-exported)

_ndarray = B.ndarray


# =========================================================================================
# Operands and type promotion
# =========================================================================================

_INT64_MIN, _UINT64_END = -2 ** 63, 2 ** 64


def _number(v, op):
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
    raise _operand_error(v, op, "a Tensor or a Python number")


def _operand_error(v, op, expected):
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


def _as_tensor(v, op=None):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, _ndarray):
        return _new(v)
    raise _operand_error(v, op, "a Tensor")


def _wrap_int(v, np_dtype):
    """A Python int cast to an integer dtype as torch casts it: modulo 2**bits (so ``int32 tensor
    + 2**40`` adds 0, as in torch)."""
    bits = 8 * np_dtype.itemsize
    v %= 1 << bits
    return v - (1 << bits) if np_dtype.kind == "i" and v >> (bits - 1) else v


def _binary(op, a, b, name=None, floating=False):
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
        a = _new(a)
    if isinstance(b, _ndarray):
        b = _new(b)
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta:
        a = _number(a, op.name)
    if not tb:
        b = _number(b, op.name)
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
            arrays[i] = v = _wrap_int(v, rt)
        if rt.kind != "f" and isinstance(v, float) or not (ta or tb):
            arrays[i] = xp.asarray(v, rt)
    return apply(op, (a, b), arrays=arrays, name=name)


def _float_input(x, op):
    """Unary floating ops (exp, log, ...) turn integer tensors into the default float dtype."""
    x = _as_tensor(x) if not isinstance(x, Tensor) else x
    return x if x._data.dtype.kind == "f" else _nondiff(_astype, x, D.default_float_np())


def _unary(op, x):
    if not isinstance(x, Tensor):
        x = _as_tensor(x)
    if x._data.dtype.kind != "f":
        x = _float_input(x, op.name)
    return apply(op, (x,))


# =========================================================================================
# Elementwise
# =========================================================================================

def add(input, other, *, alpha=1):
    """out = input + alpha · other"""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(ops.add, input, other)


def _refuse_bool_sub(a, b):
    if isinstance(a, Tensor) and a._data.dtype == bool and \
            isinstance(b, Tensor) and b._data.dtype == bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")


def sub(input, other, *, alpha=1):
    """out = input - alpha · other"""
    _refuse_bool_sub(input, other)
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(ops.sub, input, other)


subtract = sub


def rsub(input, other, *, alpha=1):
    """out = other - alpha · input (what ``3 - x`` computes: ``rsub(x, 3)``)"""
    _refuse_bool_sub(input, other)
    if alpha != 1:
        input = mul(input, alpha)
    # torch's rsub.Scalar takes the number as an argument, not an input: RsubBackward1
    return _binary(ops.rsub, input, other, name="RsubBackward1" if _is_number(other) else None)


def _is_number(v):
    return isinstance(v, (bool, int, float, complex))


def mul(input, other):
    """out = input · other"""
    return _binary(ops.mul, input, other)


multiply = mul


def div(input, other, *, rounding_mode=None):
    """out = input / other (true division: integers give the default float dtype)"""
    if rounding_mode is None:
        return _binary(ops.div, input, other, floating=True)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        q = _binary(ops.div, input, other, floating=True)
        out = where(q < 0, ceil(q), floor(q))
        kind = _result_kind(input, other)
        return out if kind == "f" else out.to(D.int64)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


divide = true_divide = div


def _result_kind(a, b):
    av = a._data if isinstance(a, Tensor) else a
    bv = b._data if isinstance(b, Tensor) else b
    return D.result_type(av, bv).kind


def _check_int_zero(divisor, op):
    d = divisor._data if isinstance(divisor, Tensor) else divisor
    if (xp.asarray(d) == 0).any():
        raise RuntimeError(f"ZeroDivisionError: integer {op} by zero")


def floor_divide(input, other):
    """out = ⌊input / other⌋ (integers stay integers; integer division by zero raises)"""
    if _result_kind(input, other) != "f":
        _check_int_zero(other, "floor_divide")
        a = input._data if isinstance(input, Tensor) else input
        b = other._data if isinstance(other, Tensor) else other
        rt = D.result_type(a, b)
        return _new(xp.asarray(xp.floor_divide(a, b)).astype(rt, copy=False))
    return floor(div(input, other))


def _modulo(op, name, input, other):
    """fmod and remainder: integer division by zero raises (as torch), floats give NaN."""
    if builtins.any(isinstance(v, Tensor) and v._data.dtype == xp.bool_ for v in (input, other)):
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'; convert first, '
                                  f"e.g. x.int().{name}(y)")
    if _result_kind(input, other) != "f":
        _check_int_zero(other, name)
    backward = f"{name.capitalize()}Backward{1 if isinstance(other, Tensor) else 0}"
    return _binary(op, input, other, name=backward)


def remainder(input, other):
    """out = input - ⌊input / other⌋ · other (the sign of the divisor, as Python's %)"""
    return _modulo(ops.remainder, "remainder", input, other)


def fmod(input, other):
    """out = input - trunc(input / other) · other (the sign of the dividend, as C's fmod)"""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod(): input must be a Tensor, got {type(input).__name__}; "
                        "wrap it first, e.g. chainrule.fmod(chainrule.tensor(x), y)")
    return _modulo(ops.fmod, "fmod", input, other)


def pow(input, exponent):
    """out = input ** exponent"""
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        e = _number(exponent, "pow")
        if input._data.dtype.kind in "iu" and isinstance(e, int) and e < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    # torch's three overloads: Tensor ** Scalar, Tensor ** Tensor, Scalar ** Tensor
    name = ("PowBackward2" if _is_number(input) else
            "PowBackward0" if _is_number(exponent) else "PowBackward1")
    return _binary(ops.pow, input, exponent, name=name)


float_power = pow


def square(input):
    """out = input²"""
    return pow(input, 2)


def neg(input):
    """out = -input"""
    x = _as_tensor(input)
    if x._data.dtype == bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return apply(ops.neg, (x,))


negative = neg


def abs(input):
    """out = |input|"""
    return apply(ops.abs, (_as_tensor(input),))


absolute = abs


def exp(input):
    """out = e^input"""
    return _unary(ops.exp, input)


def log(input):
    """out = ln input"""
    return _unary(ops.log, input)


def log1p(input):
    """out = ln(1 + input), accurate for small input"""
    return _unary(ops.log1p, input)


def expm1(input):
    """out = e^input - 1, accurate for small input"""
    return _unary(ops.expm1, input)


def sqrt(input):
    """out = √input"""
    return _unary(ops.sqrt, input)


def rsqrt(input):
    """out = 1/√input"""
    return _unary(ops.rsqrt, input)


def sin(input):
    """out = sin input"""
    return _unary(ops.sin, input)


def cos(input):
    """out = cos input"""
    return _unary(ops.cos, input)


def tan(input):
    """out = tan input"""
    return _unary(ops.tan, input)


def tanh(input):
    """out = tanh input"""
    return _unary(ops.tanh, input)


def sigmoid(input):
    """out = 1 / (1 + e^-input), stable for large |input|"""
    return _unary(ops.sigmoid, input)


def relu(input):
    """out = max(input, 0); relu'(0) = 0"""
    return apply(ops.relu, (_as_tensor(input),))


def reciprocal(input):
    """out = 1 / input"""
    return _unary(ops.reciprocal, input)


def sign(input):
    """out = -1, 0 or 1 by the sign of input (gradient 0)"""
    return apply(ops.sign, (_as_tensor(input),))


def _rounding(op, x):
    x = _as_tensor(x)
    if x._data.dtype.kind != "f":
        return x.clone() if x._requires_grad else _new(x._data.copy())
    return apply(op, (x,))


def floor(input):
    """out = ⌊input⌋ (gradient 0)"""
    return _rounding(ops.floor, input)


def ceil(input):
    """out = ⌈input⌉ (gradient 0)"""
    return _rounding(ops.ceil, input)


def round(input, *, decimals=0):
    """out = input rounded half to even (gradient 0)"""
    x = _as_tensor(input)
    if decimals:
        return apply(ops.round, (x,), {"decimals": decimals})
    return _rounding(ops.round, x)


def trunc(input):
    """out = input rounded toward zero (gradient 0)"""
    return where(input < 0, ceil(input), floor(input))


def clamp(input, min=None, max=None):
    """out = min(max(input, min), max); the gradient passes at both bounds"""
    x = _as_tensor(input)
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = where(out < min, min, out) if isinstance(min, Tensor) else clamp(out, min=min)
        if max is not None:
            out = where(out > max, max, out) if isinstance(max, Tensor) else clamp(out, max=max)
        return out
    lo = None if min is None else _number(min, "clamp")
    hi = None if max is None else _number(max, "clamp")
    if x._data.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
        x = _float_input(x, "clamp")
    return apply(ops.clamp, (x,), {"min": lo, "max": hi})


clip = clamp


def maximum(input, other):
    """out = the larger of input and other, elementwise; ties split the gradient"""
    return _binary(ops.maximum, _as_tensor(input), _as_tensor(other))


def minimum(input, other):
    """out = the smaller of input and other, elementwise; ties split the gradient"""
    return _binary(ops.minimum, _as_tensor(input), _as_tensor(other))


def where(condition, input=None, other=None):
    """out = input where condition else other"""
    if input is None and other is None:
        return tuple(_new(i) for i in xp.nonzero(_as_tensor(condition)._data))
    c = _as_tensor(condition) if not isinstance(condition, Tensor) else condition
    if c._data.dtype != bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {D.of(c._data)}; compare first, e.g. where(x > 0, ...)")
    av = input._data if isinstance(input, Tensor) else _number(input, "where")
    bv = other._data if isinstance(other, Tensor) else _number(other, "where")
    rt = D.result_type(av, bv)
    arrays = [c._data,
              av.astype(rt, copy=False) if isinstance(av, _ndarray) else xp.asarray(av, rt),
              bv.astype(rt, copy=False) if isinstance(bv, _ndarray) else xp.asarray(bv, rt)]
    return apply(ops.where, (c, input, other), arrays=arrays)


# --- non-differentiable elementwise ---------------------------------------------------------

def _nondiff(fn, *args, **kwargs):
    """``fn`` (a NumPy function with no gradient: a comparison, isnan, argmax, a cast) on the
    arrays of its tensor arguments, as a new tensor.  The one place vmap sees such functions."""
    hook = _grad_state.apply_hook
    if hook is not None:
        out = hook.nondiff(fn, args, kwargs)
        if out is not None:
            return out
    return _new(xp.asarray(fn(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)))


_astype = _ndarray.astype


def _compare(fn, a, b):
    av = a if isinstance(a, (Tensor, _ndarray)) else _number(a, fn.__name__)
    bv = b if isinstance(b, (Tensor, _ndarray)) else _number(b, fn.__name__)
    return _nondiff(fn, av, bv)


def eq(input, other):
    return _compare(xp.equal, input, other)


def ne(input, other):
    return _compare(xp.not_equal, input, other)


def lt(input, other):
    return _compare(xp.less, input, other)


def le(input, other):
    return _compare(xp.less_equal, input, other)


def gt(input, other):
    return _compare(xp.greater, input, other)


def ge(input, other):
    return _compare(xp.greater_equal, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_and(input, other):
    if _both_bool(input, other):
        return _compare(xp.logical_and, input, other)
    return _compare(xp.bitwise_and, input, other)


def logical_or(input, other):
    if _both_bool(input, other):
        return _compare(xp.logical_or, input, other)
    return _compare(xp.bitwise_or, input, other)


def logical_xor(input, other):
    if _both_bool(input, other):
        return _compare(xp.logical_xor, input, other)
    return _compare(xp.bitwise_xor, input, other)


def _both_bool(a, b):
    return all(isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype == bool)
               for v in (a, b))


def logical_not(input):
    return _nondiff(xp.logical_not, _as_tensor(input))


def bitwise_not(input):
    return _nondiff(xp.invert, _as_tensor(input))


def isnan(input):
    return _nondiff(xp.isnan, _as_tensor(input))


def isinf(input):
    return _nondiff(xp.isinf, _as_tensor(input))


def isfinite(input):
    return _nondiff(xp.isfinite, _as_tensor(input))


def equal(input, other):
    """True when both tensors have the same shape and values."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(xp.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _new(xp.asarray(xp.isclose(input._data, _as_tensor(other)._data if isinstance(
        other, (Tensor, _ndarray)) else other, rtol=rtol, atol=atol, equal_nan=equal_nan)))


# =========================================================================================
# Reductions
# =========================================================================================

def _numpy_names(op, dim, axis, keepdim=False, keepdims=None, dim_default=None):
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


def _required_dim(op, dim, axis):
    """A dim that has no default (unsqueeze, narrow), given as dim= or as NumPy's axis=."""
    dim, _ = _numpy_names(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}() missing required argument 'dim' (or its NumPy name, axis)")
    return dim


def _dims(dim, ndim):
    """torch's dim argument -> a sorted tuple of axes, or None for all (also for dim=())."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0 or ndim == 0:
            for d in dim:
                _dim(d, ndim)
            return None
        dims = tuple(sorted(_dim(d, ndim) for d in dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
        return dims
    d = _dim(dim, ndim)
    return (d,) if ndim else None


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


def _integer_to_int64(x, dtype):
    """sum and prod: an explicit dtype converts first; bool and integers accumulate in int64."""
    if dtype is not None:
        return x.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != xp.int64:
        return _new(x._data.astype(xp.int64))
    return x


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Σ input over dim (all dims by default)"""
    dim, keepdim = _numpy_names("sum", dim, axis, keepdim, keepdims)
    x = _integer_to_int64(_as_tensor(input), dtype)
    return apply(ops.sum, (x,), {"dims": _dims(dim, x._data.ndim), "keepdim": keepdim})


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Σ input / n over dim"""
    dim, keepdim = _numpy_names("mean", dim, axis, keepdim, keepdims)
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)} "
            "(convert first, e.g. x.float().mean())")
    dims = _dims(dim, x._data.ndim)
    w = _wide(x)
    out = div(sum(w, dims, keepdim), _reduce_count(x, dims))
    return out if w is x else out.to(x.dtype)


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool", "float32": "Float", "float64": "Double"}


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """out = Π input over dim"""
    dim, keepdim = _numpy_names("prod", dim, axis, keepdim, keepdims)
    x = _integer_to_int64(_as_tensor(input), dtype)
    return apply(ops.prod, (x,), {"dims": _dims(dim, x._data.ndim), "keepdim": keepdim})


def _check_nonempty(x, dims, op, exc=RuntimeError):
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
    dim, keepdim = _numpy_names("amax", dim, axis, keepdim, keepdims, dim_default=())
    x = _as_tensor(input)
    dims = _dims(dim, x._data.ndim)
    _check_nonempty(x, dims, "amax")
    return apply(ops.amax, (x,), {"dims": dims, "keepdim": keepdim})


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """out = min input over dim; ties split the gradient evenly"""
    dim, keepdim = _numpy_names("amin", dim, axis, keepdim, keepdims, dim_default=())
    x = _as_tensor(input)
    dims = _dims(dim, x._data.ndim)
    _check_nonempty(x, dims, "amin")
    return apply(ops.amin, (x,), {"dims": dims, "keepdim": keepdim})


def _return_type(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__repr__ = lambda self: (f"chainrule.return_types.{name}(\n" + ",\n".join(
        f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    cls.__module__ = "chainrule.return_types"
    return cls


_max_result = _return_type("max", ["values", "indices"])
_min_result = _return_type("min", ["values", "indices"])


def _extreme(op, input, dim, keepdim, other, axis, keepdims):
    """max and min: the whole tensor's, along a dim (values, indices), or elementwise."""
    x = _as_tensor(input)
    if isinstance(dim, Tensor) or other is not None:
        if axis is not None or keepdims is not None:
            raise TypeError(f"{op}(): axis and keepdims go with a dim, not with another tensor")
        return (maximum if op == "max" else minimum)(x, dim if other is None else other)
    dim, keepdim = _numpy_names(op, dim, axis, keepdim, keepdims)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): keepdim=True needs a dim, e.g. x.{op}(0, keepdim=True) "
                            f"(or x.a{op}(dim=tuple(range(x.ndim)), keepdim=True) for all)")
        _check_nonempty(x, None, op)
        return apply(ops.amax if op == "max" else ops.amin, (x,), {"dims": None,
                     "keepdim": False}, name="MaxBackward1" if op == "max" else "MinBackward1")
    result = _max_result if op == "max" else _min_result
    d = _dim(dim, x._data.ndim, op)
    if x._data.ndim == 0:
        return result(x.clone() if x._requires_grad else x, _new(xp.asarray(0)))
    _check_nonempty(x, (d,), op)
    values = apply(ops.max_dim if op == "max" else ops.min_dim, (x,),
                   {"dim": d, "keepdim": keepdim})
    return result(values, (argmax if op == "max" else argmin)(x, d, keepdim))


def max(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):
    """Largest element; with ``dim``, ``(values, indices)`` along it; with a tensor, maximum."""
    return _extreme("max", input, dim, keepdim, other, axis, keepdims)


def min(input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None):
    """Smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor, minimum."""
    return _extreme("min", input, dim, keepdim, other, axis, keepdims)


def _arg_extreme(op, pick, input, dim, keepdim, axis, keepdims):
    dim, keepdim = _numpy_names(op, dim, axis, keepdim, keepdims)
    x = _as_tensor(input)
    if dim is None:
        _check_nonempty(x, None, op, IndexError)
        i = _nondiff(pick, x)
        return i.reshape((1,) * x._data.ndim) if keepdim else i
    d = _dim(dim, x._data.ndim, op)
    if x._data.ndim == 0:
        return _new(xp.asarray(0))
    _check_nonempty(x, (d,), op)
    return _nondiff(pick, x, axis=d, keepdims=keepdim)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest element (flattened without ``dim``); the first one among ties."""
    return _arg_extreme("argmax", xp.argmax, input, dim, keepdim, axis, keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest element (flattened without ``dim``); the first one among ties."""
    return _arg_extreme("argmin", xp.argmin, input, dim, keepdim, axis, keepdims)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """out = Σ (x - mean)² / (n - correction); correction defaults to 1, as torch"""
    dim, keepdim = _numpy_names("var", dim, axis, keepdim, keepdims)
    x = _as_tensor(input)
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
    dims = _dims(dim, x._data.ndim)
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
    dim, keepdim = _numpy_names("std", dim, axis, keepdim, keepdims)
    x = _as_tensor(input)
    w = _wide(x)
    v = _variance(w, dim, unbiased, keepdim, correction, "std")
    if _grad_state.apply_hook is not None:      # under vmap: no Python branch on the values
        zero = v == 0
        s = where(zero, 0.0, sqrt(where(zero, 1.0, v)))
    elif (v._data == 0).any():
        # torch takes std's gradient as 0 where std = 0 (√'s slope is infinite there); the
        # inner where keeps the unused branch finite, so no 0 · inf = NaN leaks through
        zero = _new(v._data == 0)
        s = where(zero, 0.0, sqrt(where(zero, 1.0, v)))
    else:
        s = sqrt(v)
    return s if w is x else s.to(x.dtype)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """out = ln Σ e^input over dim, stable for large inputs"""
    dim, keepdim = _numpy_names("logsumexp", dim, axis, keepdim, keepdims)
    dim = _required_dim("logsumexp", dim, None)
    x = _float_input(_as_tensor(input), "logsumexp")
    return apply(ops.logsumexp, (x,), {"dims": _dims(dim, x._data.ndim), "keepdim": keepdim})


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """out = (Σ |input|^p)^(1/p) over dim (2-norm by default)"""
    x = _float_input(_as_tensor(input), "norm")
    if dtype is not None:
        x = x.to(dtype)
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str):
        raise ValueError(f"norm(): p={p!r} is not supported; use a number, float('inf') or 'fro'")
    return apply(ops.norm, (x,), {"p": float(p), "dims": _dims(dim, x._data.ndim),
                                  "keepdim": keepdim})


def _softmax_dim(x, dim, op):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                      "to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    return _dim(dim, x._data.ndim, op)


def softmax(input, dim=None, dtype=None, *, axis=None):
    """out = e^input / Σ e^input along dim, stable for logits of any size"""
    dim, _ = _numpy_names("softmax", dim, axis)
    x = _float_input(_as_tensor(input), "softmax")
    if dtype is not None:
        x = x.to(dtype)
    d = _softmax_dim(x, dim, "softmax")
    if x._data.ndim == 0:
        return apply(ops.softmax, (x.reshape(1),), {"dim": 0}).reshape(())
    return apply(ops.softmax, (x,), {"dim": d})


def log_softmax(input, dim=None, dtype=None, *, axis=None):
    """out = input - logsumexp(input) along dim"""
    dim, _ = _numpy_names("log_softmax", dim, axis)
    x = _float_input(_as_tensor(input), "log_softmax")
    if dtype is not None:
        x = x.to(dtype)
    d = _softmax_dim(x, dim, "log_softmax")
    if x._data.ndim == 0:
        return apply(ops.log_softmax, (x.reshape(1),), {"dim": 0}).reshape(())
    return apply(ops.log_softmax, (x,), {"dim": d})


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where any element over dim is nonzero"""
    dim, keepdim = _numpy_names("any", dim, axis, keepdim, keepdims)
    x = _as_tensor(input)
    return _nondiff(xp.any, x, axis=_dims(dim, x._data.ndim), keepdims=keepdim)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where every element over dim is nonzero"""
    dim, keepdim = _numpy_names("all", dim, axis, keepdim, keepdims)
    x = _as_tensor(input)
    return _nondiff(xp.all, x, axis=_dims(dim, x._data.ndim), keepdims=keepdim)


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
    x = _as_tensor(input)
    shape = _infer_shape(_shape_arg(shape, "reshape"), x._data.size, "reshape")
    if shape == x._data.shape and not x._requires_grad and _grad_state.apply_hook is None:
        return _view_of(_new(x._data.view()), x)
    return _view_of(apply(ops.reshape, (x,), {"shape": shape}), x)


def view(input, *shape):
    """input with a new shape, sharing storage; refuses when that needs a copy (use reshape)"""
    x = _as_tensor(input)
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
    x = _as_tensor(input)
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, (1,))
    s, e = _dim(start_dim, nd), _dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shape = x._data.shape
    # the merged size spelled out: -1 cannot be inferred when another dim is 0
    return reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    x = _as_tensor(input)
    d = _dim(dim, x._data.ndim)
    shape = x._data.shape
    return reshape(x, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input, dim=None, *, axis=None):
    """input without its size-1 dims (only those in ``dim`` when given)"""
    dim, _ = _numpy_names("squeeze", dim, axis)
    x = _as_tensor(input)
    shape = x._data.shape
    if dim is None:
        dims = range(len(shape))
    elif isinstance(dim, (tuple, list)):
        dims = [_dim(d, len(shape)) for d in dim]
    else:
        dims = [_dim(dim, len(shape))]
    new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
    out = apply(ops.squeeze, (x,), {"shape": new},
                name="SqueezeBackward0" if dim is None else "SqueezeBackward1")
    return _view_of(out, x)


def unsqueeze(input, dim=None, *, axis=None):
    """input with a size-1 dim inserted at ``dim``"""
    dim = _required_dim("unsqueeze", dim, axis)
    x = _as_tensor(input)
    shape = x._data.shape
    d = _dim(dim, len(shape) + 1)
    return _view_of(apply(ops.unsqueeze, (x,), {"shape": shape[:d] + (1,) + shape[d:]}), x)


def transpose(input, dim0, dim1):
    """input with dims dim0 and dim1 swapped (a view)"""
    x = _as_tensor(input)
    nd = x._data.ndim
    if nd == 0:
        return _view_of(apply(ops.reshape, (x,), {"shape": ()}), x)
    d0, d1 = _dim(dim0, nd), _dim(dim1, nd)
    return _view_of(apply(ops.transpose, (x,), {"dim0": d0, "dim1": d1}), x)


swapaxes = swapdims = transpose


def t(input):
    """The transpose of a tensor of at most 2 dims"""
    x = _as_tensor(input)
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{x._data.ndim}D; use transpose(dim0, dim1) or .mT")
    return transpose(x, 0, 1) if x._data.ndim == 2 else x


def permute(input, *args, dims=None):
    """input with its dims reordered (a view): ``permute(x, 1, 0)`` or ``permute(x, dims=(1, 0))``"""
    x = _as_tensor(input)
    dims = _shape_arg(args if dims is None else (dims,), "permute")
    nd = x._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
                           .replace("(sparse_coo)", ""))
    dims = tuple(_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {dims}")
    return _view_of(apply(ops.permute, (x,), {"dims": dims}), x)


def expand(input, *sizes):
    """input broadcast to ``sizes`` without copying (-1 keeps a dim)"""
    x = _as_tensor(input)
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
    x = _as_tensor(input)
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < x._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           f"dimensions of tensor (got {len(sizes)} sizes for a "
                           f"{x._data.ndim}-d tensor)")
    return apply(ops.repeat, (x,), {"sizes": sizes})


def flip(input, *args, dims=None):
    """input reversed along ``dims``: ``flip(x, 0, 1)`` or ``flip(x, dims=(0, 1))``"""
    x = _as_tensor(input)
    dims = _shape_arg(args if dims is None else (dims,), "flip")
    dims = tuple(_dim(d, x._data.ndim) for d in dims)
    return apply(ops.flip, (x,), {"dims": dims})


def _tensors_arg(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not "
                        "Tensor")
    tensors = [_as_tensor(t) for t in tensors]
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
    dim, _ = _numpy_names("cat", dim, axis, dim_default=0)
    tensors = _tensors_arg(tensors, "cat")
    # torch skips 1-d empty tensors in cat's checks (a legacy rule kept for compatibility), but
    # they still take part in type promotion and get a gradient (ops.cat skips them too)
    kept = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    ref = kept[0]._data.shape
    d = _dim(dim, len(ref))
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
    dim, _ = _numpy_names("stack", dim, axis, dim_default=0)
    tensors = _tensors_arg(tensors, "stack")
    ref = tensors[0]._data.shape
    for k, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at "
                               f"entry 0 and {list(t._data.shape)} at entry {k}")
    d = _dim(dim, len(ref) + 1)
    return apply(ops.stack, tuple(tensors), {"dim": d}, arrays=_promote_all(tensors))


def narrow(input, dim=None, start=None, length=None, *, axis=None):
    """``length`` elements of ``input`` from ``start`` along ``dim`` (a view)"""
    dim = _required_dim("narrow", dim, axis)
    if start is None or length is None:
        raise TypeError("narrow() missing required arguments: narrow(input, dim, start, length)")
    x = _as_tensor(input)
    d = _dim(dim, x._data.ndim)
    n, start, length = x._data.shape[d], int(start), int(length)
    if start < 0:                   # counts from the end, as torch (slicing would not wrap)
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``tensor`` along ``dim``: of one size, or of the listed sizes"""
    x = _as_tensor(tensor)
    d = _dim(dim, x._data.ndim)
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
    dim, _ = _numpy_names("chunk", dim, axis, dim_default=0)
    x = _as_tensor(input)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x._data.shape[_dim(dim, x._data.ndim)]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


def unbind(input, dim=0, *, axis=None):
    """The slices of ``input`` along ``dim``, as a tuple"""
    dim, _ = _numpy_names("unbind", dim, axis, dim_default=0)
    x = _as_tensor(input)
    d = _dim(dim, x._data.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x._data.shape[d]))


# --- indexing -------------------------------------------------------------------------------

def _index_arg(index, x):
    """Convert a torch-style index to a NumPy one; say whether it is advanced."""
    if not isinstance(index, tuple):
        index = (index,)
    out, advanced = [], False
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
            if i.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            advanced = True
            out.append(i)
        elif isinstance(i, (list, _ndarray)):
            a = xp.asarray(i)
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
                            "use ints, slices, None, ..., lists or integer/bool tensors")
    if not advanced and Ellipsis not in out:
        out.append(Ellipsis)   # NumPy then returns a 0-d view, never a scalar copy
    return tuple(out), advanced


def _numpy_index_error(e, x):
    msg = str(e).replace("axis", "dimension")
    return IndexError(msg)


def getitem(x, index):
    """x[index], with gradients for every kind of index (repeated indices accumulate)"""
    idx, advanced = _index_arg(index, x)
    try:
        out = apply(ops.index, (x,), {"index": idx, "accumulate": advanced},
                    name=_index_name(index, advanced))
    except IndexError as e:
        raise _numpy_index_error(e, x) from None
    return out if advanced else _view_of(out, x)


def _index_name(index, advanced):
    if advanced:
        return "IndexBackward0"
    if isinstance(index, int):
        return "SelectBackward0"
    return "SliceBackward0"


def setitem(x, index, value):
    """x[index] = value, in place, recorded when gradients flow (torch's CopySlices)"""
    idx, advanced = _index_arg(index, x)
    _check_inplace(x, "index assignment")
    if not isinstance(value, Tensor):
        value = _number(value, "setitem") if not isinstance(value, (_ndarray, list)) else \
            _new(xp.asarray(value, x._data.dtype))
    vdata = value._data if isinstance(value, Tensor) else value
    try:
        if _grad_state.enabled and (x._requires_grad or
                                    (isinstance(value, Tensor) and value._requires_grad)):
            if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
                value = value.to(D.of(x._data))
            old = _alias(x)
            r = apply(ops.index_put, (old, value), {"index": idx},
                      arrays=[x._data, value._data if isinstance(value, Tensor) else value])
            x._data[idx] = value._data if isinstance(value, Tensor) else value
            _took_history(x, r)
        else:
            x._data[idx] = vdata
    except IndexError as e:
        raise _numpy_index_error(e, x) from None
    x._vc[0] += 1


# --- in place -------------------------------------------------------------------------------

def _check_inplace(x, what):
    if not _grad_state.enabled:
        return
    if x._requires_grad and x._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           f"operation. Do the {what} inside `with chainrule.no_grad():`, or "
                           "on a .clone().")
    base = x._base
    if base is not None and base._requires_grad:
        if base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               f"in-place operation. Do the {what} inside `with "
                               "chainrule.no_grad():`, or on a .clone().")
        raise RuntimeError(
            f"chainrule does not record in-place operations ({what}) on a view of a tensor that "
            "requires grad: the base tensor's history would not know. Use an out-of-place op, "
            "or assign through the base tensor (base[index] = value).")


def _alias(x):
    """A new tensor object standing for x's current value and history (before an in-place op)."""
    a = _new(x._data)
    a._vc = x._vc
    a._requires_grad = x._requires_grad
    a._grad_fn = x._grad_fn
    return a


def _took_history(x, r):
    """After an in-place op on x computed as r out of place: x now *is* r in the graph."""
    node = r._grad_fn
    if node is not None:
        x._grad_fn = node
        x._requires_grad = True
        if node.out_version is not None:
            node.out_data = x._data
            node.out_version = (x._vc, x._vc[0] + 1)
        if x._retains_grad:         # retain_grad() follows x to its new version, as torch
            x._retains_grad = False
            x.retain_grad()


_INPLACE_UFUNCS = {add: xp.add, sub: xp.subtract, mul: xp.multiply, div: xp.true_divide}


def inplace(x, fn, *args):
    """Apply ``fn(x, *args)`` and write the result into x's storage (``x += y``, ``x.mul_(y)``)."""
    _check_inplace(x, fn.__name__ + "_")
    recording = _grad_state.enabled and (x._requires_grad or builtins.any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    if not recording:
        ufunc = _INPLACE_UFUNCS.get(fn)
        if ufunc is not None and _grad_state.apply_hook is None and _fits_in_place(x, args):
            # x -= lr * g in an optimizer or a no_grad() block: one NumPy call writing into x
            # (the general path computes a new array and copies it back)
            a = args[0]
            token = B.quiet_fp()
            try:
                ufunc(x._data, a._data if isinstance(a, Tensor) else a, out=x._data)
            finally:
                B.restore_fp(token)
        else:
            _write(x, fn(_new(x._data), *args), fn.__name__)
        x._vc[0] += 1
        return x
    old = _alias(x)
    r = fn(old, *args)
    node = r._grad_fn
    if node is not None and builtins.any(v is old for v in node.inputs) and \
            _saves_input(node, old):
        # the rule needs x's old values, which the write below destroys: keep a copy
        old._data = x._data.copy()
        old._vc = [0]
    _write(x, r, fn.__name__)
    _took_history(x, r)
    x._vc[0] += 1
    return x


def _fits_in_place(x, args):
    """One operand that leaves x's dtype and shape as they are: a float or a same-dtype tensor
    of x's shape (or 0-d), with x floating."""
    if len(args) != 1 or x._data.dtype.kind != "f":
        return False
    a = args[0]
    if type(a) is float or type(a) is int:
        return True
    return isinstance(a, Tensor) and a._data.dtype == x._data.dtype and \
        (a._data.shape == x._data.shape or a._data.ndim == 0)


def _saves_input(node, t):
    return builtins.any(node.inputs[i] is t for i in node.op.saves)


def _write(x, r, op):
    rd = r._data
    if rd.dtype != x._data.dtype and not xp.can_cast(rd.dtype, x._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {_SCALAR_NAMES.get(rd.dtype.name, rd.dtype.name)} can't "
                           "be cast to the desired output type "
                           f"{_SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)} "
                           f"(in-place {op}_ on a {D.of(x._data)} tensor)")
    if rd.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the broadcast "
                           f"shape {list(rd.shape)} (in-place {op}_)")
    xp.copyto(x._data, rd, casting="unsafe")


def fill_(x, value, name="FillBackward2"):
    """Fill x with ``value`` (a number or a 0-d tensor) in place; a tensor value gets gradients"""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions (use copy_ to copy a tensor)")
        name = "FillBackward3"
        v = value.item()
    else:
        from .creation import _fill_value      # a number that fits x's dtype, as torch checks
        v = _fill_value(value, x._data.dtype, "fill_")
    grad_value = isinstance(value, Tensor) and value._requires_grad
    if _grad_state.enabled and (x._requires_grad or grad_value):
        _check_inplace(x, "fill_")
        old = _alias(x)
        if grad_value:
            v = value._data.astype(x._data.dtype)
        else:
            value = v
        r = apply(ops.index_put, (old, value), {"index": (Ellipsis,)}, arrays=[x._data, v],
                  name=name)
        x._data[...] = v
        _took_history(x, r)
    else:
        x._data[...] = v
    x._vc[0] += 1
    return x


def copy_(x, src):
    """Copy ``src`` (broadcast, cast) into x in place; gradients flow to src."""
    if not isinstance(src, Tensor):
        src = _new(src) if isinstance(src, _ndarray) else \
            _new(xp.asarray(_number(src, "copy_")))
    if src._data.shape != x._data.shape:
        _check_copy_shape(x._data.shape, src._data.shape)
    if _grad_state.enabled and (x._requires_grad or src._requires_grad):
        _check_inplace(x, "copy_")
        old = _alias(x)
        s = src if src._data.dtype == x._data.dtype else src.to(D.of(x._data))
        r = apply(ops.index_put, (old, s), {"index": (Ellipsis,)}, arrays=[x._data, s._data],
                  name="CopyBackwards")
        x._data[...] = s._data
        _took_history(x, r)
    else:
        xp.copyto(x._data, xp.broadcast_to(src._data, x._data.shape), casting="unsafe")
    x._vc[0] += 1
    return x


def _check_copy_shape(xs, ss):
    """torch's errors for a copy_ source that does not broadcast to the destination's shape."""
    n = builtins.max(len(xs), len(ss))
    px, ps = (1,) * (n - len(xs)) + xs, (1,) * (n - len(ss)) + ss
    for d in range(n - 1, -1, -1):
        if px[d] != ps[d] and px[d] != 1 and ps[d] != 1:
            raise RuntimeError(f"The size of tensor a ({px[d]}) must match the size of tensor b "
                               f"({ps[d]}) at non-singleton dimension {d} (copy_ of a source of "
                               f"shape {list(ss)} into a tensor of shape {list(xs)})")
    out = [p if q == 1 else q for p, q in zip(px, ps)]
    if tuple(out) != tuple(xs):
        raise RuntimeError(f"output with shape {list(xs)} doesn't match the broadcast shape "
                           f"{out} (copy_ writes into the tensor in place: the source must "
                           "broadcast to its shape; reshape or index it first)")


def random_fill_(x, kind, a, b):
    from .creation import _check_normal, _check_uniform, _rng
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kind}_" not implemented for {D.of(x._data)} tensors: random '
                                  "values fill floating tensors; make it with "
                                  "dtype=chainrule.float32")
    if kind == "uniform":
        _check_uniform(a, b, "uniform_")
    else:
        _check_normal(b, "normal_")
    with _no_grad():
        if kind == "uniform":
            x._data[...] = _rng().uniform(a, b, x._data.shape)
        else:
            x._data[...] = _rng().normal(a, b, x._data.shape)
    x._vc[0] += 1
    return x


def _no_grad():
    from .grad_mode import no_grad
    return no_grad()


# =========================================================================================
# Linear algebra
# =========================================================================================

_MATMUL_TYPES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
                 "bool": "bool", "float16": "c10::Half"}


def matmul(input, other):
    """input @ other: dot, matrix-vector, matrix-matrix or batched (batch dims broadcast)"""
    x, y = _as_tensor(input), _as_tensor(other)
    xs, ys = x._data.shape, y._data.shape
    if not xs or not ys:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(xs)}D and {len(ys)}D")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{_MATMUL_TYPES.get(x._data.dtype.name, x._data.dtype.name)} != "
            f"{_MATMUL_TYPES.get(y._data.dtype.name, y._data.dtype.name)} "
            f"(matmul of {D.of(x._data)} and {D.of(y._data)}: convert one with .to(dtype))")
    k1 = xs[-1]
    k2 = ys[0] if len(ys) == 1 else ys[-2]
    if k1 != k2:
        if len(xs) == 1 and len(ys) == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{xs[0]}] and src "
                               f"[{ys[0]}] to have the same number of elements, but got {xs[0]} "
                               f"and {ys[0]} elements respectively")
        a = "x".join(map(str, (xs[-2] if len(xs) > 1 else 1, k1)))
        b = "x".join(map(str, (k2, ys[-1] if len(ys) > 1 else 1)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a} and {b}) in matmul "
                           f"of shapes {list(xs)} and {list(ys)}: the last dim of the first must "
                           "equal the second-to-last of the second")
    bx, by = xs[:-2], ys[:-2]
    for i in range(1, builtins.min(len(bx), len(by)) + 1):
        if bx[-i] != by[-i] and bx[-i] != 1 and by[-i] != 1:
            raise RuntimeError(f"The size of tensor a ({bx[-i]}) must match the size of tensor b "
                               f"({by[-i]}) at non-singleton dimension "
                               f"{builtins.max(len(bx), len(by)) - i}")
    name = ops._matmul_name(x._data, y._data)
    if len(xs) > 2 or len(ys) > 2:
        name = "BmmBackward0" if len(xs) == 3 and len(ys) == 3 else "UnsafeViewBackward0"
    return apply(ops.matmul, (x, y), name=name)


def mm(input, mat2):
    """Matrix product of two 2-d tensors"""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2-d, got {input.ndim}-d and "
                           f"{mat2.ndim}-d; use matmul (@) for other shapes")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors with the same batch size"""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (bmm got {input.ndim}-d and "
                           f"{mat2.ndim}-d)")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def dot(input, other):
    """Inner product of two 1-d tensors"""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return matmul(input, other)


inner = dot


def outer(input, vec2):
    """out[i, j] = input[i] · vec2[j]"""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-d tensors, got {input.ndim}-d and {vec2.ndim}-d")
    return mul(unsqueeze(input, 1), vec2)


ger = outer


# =========================================================================================
# Conversions
# =========================================================================================

def to(x, *args, dtype=None, device=None, copy=False):
    """x converted to ``dtype`` (recorded: gradients come back in x's dtype)"""
    for a in args:
        if isinstance(a, D.dtype) or a in (float, int, bool):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or a.__class__.__name__ == "device":
            device = a
        else:
            dtype = a
    if device is not None:
        from .tensor import _check_device
        _check_device(device)        # raises for anything but cpu, as torch without CUDA
    if dtype is None:
        return x.clone() if copy else x
    d = D.to_dtype(dtype, "to").np
    if d == x._data.dtype and not copy:
        return x
    if x._requires_grad and d.kind == "f" and _grad_state.enabled:
        return apply(ops.to_copy, (x,), {"dtype": d})
    return _nondiff(_astype, x, d)


# =========================================================================================
# ``F`` for VJP rules under create_graph=True: the ArrayF functions over tensors
# =========================================================================================

def _raw(a):
    return a._data if isinstance(a, Tensor) else a


class TensorF:
    """``F`` for recorded backward passes (see ``_fns.py``): same names as ``ArrayF``."""

    exp = staticmethod(exp)
    log = staticmethod(log)
    sin = staticmethod(sin)
    cos = staticmethod(cos)
    sign = staticmethod(sign)
    sqrt = staticmethod(sqrt)
    abs = staticmethod(abs)
    matmul = staticmethod(matmul)
    raw = staticmethod(_raw)

    @staticmethod
    def isnan(a):
        return isnan(a)._data

    @staticmethod
    def where(cond, a, b):
        c = cond if isinstance(cond, Tensor) else _new(xp.asarray(cond))
        return where(c, a, b)

    @staticmethod
    def zeros_like(a):
        return _new(xp.zeros_like(_raw(a)))

    @staticmethod
    def reshape(a, shape):
        return reshape(a, tuple(shape))

    @staticmethod
    def expand(a, shape):
        return expand(a, tuple(shape))

    @staticmethod
    def sum(a, dims, keepdim):
        return sum(a, dims, keepdim)

    @staticmethod
    def sum_to(g, shape):
        shape = tuple(shape)
        if tuple(g.shape) == shape:
            return g
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
        if axes:
            g = sum(g, axes, True)
        return reshape(g, shape)

    @staticmethod
    def swapaxes(a, d0, d1):
        return transpose(a, d0, d1)

    @staticmethod
    def permute(a, axes):
        return permute(a, *axes)

    @staticmethod
    def flip(a, dims):
        return flip(a, *dims)

    @staticmethod
    def unsqueeze(a, d):
        return unsqueeze(a, d)

    @staticmethod
    def squeeze(a, d):
        return squeeze(a, d)

    @staticmethod
    def getitem(a, index):
        return apply(ops.index, (a,), {"index": index, "accumulate": _is_advanced(index)})

    @staticmethod
    def index_scatter(g, shape, index, accumulate):
        return apply(ops.index_scatter, (g,), {"shape": tuple(shape), "index": index,
                                               "accumulate": accumulate})

    @staticmethod
    def cast(a, like):
        return to(a, D.of(_raw(like)) if not isinstance(like, Tensor) else like.dtype)


def _is_advanced(index):
    index = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(i, (_ndarray, list, bool)) for i in index)


# math.inf etc. are convenient for users of this module
inf, nan, pi, e = math.inf, math.nan, math.pi, math.e
