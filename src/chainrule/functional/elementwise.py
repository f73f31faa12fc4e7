"""Elementwise functions with PyTorch's names: arithmetic with torch's promotion, unary math,
rounding, ``clamp``, ``where``, comparisons and logic (no gradient), and ``to`` (casts)."""
import builtins

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..grad_mode import state as _grad_state
from ..tensor import Tensor, apply, check_device, wrap
from ._args import (astype, binary, float_input, is_number, nondiff, number, tensor_arg,
                    unary)

_ndarray = xp.ndarray


# =========================================================================================
# Elementwise
# =========================================================================================

def add(input, other, *, alpha=1):
    """out = input + alpha · other"""
    if alpha != 1:
        other = mul(other, alpha)
    return binary(ops.add, input, other)


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
    return binary(ops.sub, input, other)


subtract = sub


def rsub(input, other, *, alpha=1):
    """out = other - alpha · input (what ``3 - x`` computes: ``rsub(x, 3)``)"""
    if not isinstance(input, Tensor):
        raise TypeError(f"rsub(): argument 'input' must be Tensor, not {type(input).__name__} "
                        "(rsub(input, other) is other - input: pass the tensor first, or write "
                        "other - input)")
    _refuse_bool_sub(input, other)
    if alpha != 1:
        input = mul(input, alpha)
    # torch's rsub.Scalar takes the number as an argument, not an input: RsubBackward1
    return binary(ops.rsub, input, other, name="RsubBackward1" if is_number(other) else None)


def mul(input, other):
    """out = input · other"""
    return binary(ops.mul, input, other)


multiply = mul


def div(input, other, *, rounding_mode=None):
    """out = input / other (true division: integers give the default float dtype)"""
    if rounding_mode is None:
        return binary(ops.div, input, other, floating=True)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        q = binary(ops.div, input, other, floating=True)
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
        return wrap(xp.asarray(xp.floor_divide(a, b)).astype(rt, copy=False))
    return floor(div(input, other))


def _modulo(op, name, input, other):
    """fmod and remainder: integer division by zero raises (as torch), floats give NaN."""
    if builtins.any(isinstance(v, Tensor) and v._data.dtype == xp.bool_ for v in (input, other)):
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'; convert first, '
                                  f"e.g. x.int().{name}(y)")
    if _result_kind(input, other) != "f":
        _check_int_zero(other, name)
    backward = f"{name.capitalize()}Backward{1 if isinstance(other, Tensor) else 0}"
    return binary(op, input, other, name=backward)


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
        e = number(exponent, "pow")
        if input._data.dtype.kind in "iu" and isinstance(e, int) and e < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    # torch's three overloads: Tensor ** Scalar, Tensor ** Tensor, Scalar ** Tensor
    name = ("PowBackward2" if is_number(input) else
            "PowBackward0" if is_number(exponent) else "PowBackward1")
    return binary(ops.pow, input, exponent, name=name)


float_power = pow


def square(input):
    """out = input²"""
    return pow(input, 2)


def neg(input):
    """out = -input"""
    x = tensor_arg(input)
    if x._data.dtype == bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return apply(ops.neg, (x,))


negative = neg


def abs(input):
    """out = |input|"""
    return apply(ops.abs, (tensor_arg(input),))


absolute = abs


def exp(input):
    """out = e^input"""
    return unary(ops.exp, input)


def log(input):
    """out = ln input"""
    return unary(ops.log, input)


def log1p(input):
    """out = ln(1 + input), accurate for small input"""
    return unary(ops.log1p, input)


def expm1(input):
    """out = e^input - 1, accurate for small input"""
    return unary(ops.expm1, input)


def asinh(input):
    """out = asinh(input) = ln(input + √(input² + 1))"""
    return unary(ops.asinh, input)


def log10(input):
    """out = log₁₀(input)"""
    return unary(ops.log10, input)


def log2(input):
    """out = log₂(input)"""
    return unary(ops.log2, input)


def exp2(input):
    """out = 2^input"""
    return unary(ops.exp2, input)


def asin(input):
    """out = asin(input)"""
    return unary(ops.asin, input)


def acos(input):
    """out = acos(input)"""
    return unary(ops.acos, input)


def atan(input):
    """out = atan(input)"""
    return unary(ops.atan, input)


def sinh(input):
    """out = sinh(input)"""
    return unary(ops.sinh, input)


def cosh(input):
    """out = cosh(input)"""
    return unary(ops.cosh, input)


def acosh(input):
    """out = acosh(input)"""
    return unary(ops.acosh, input)


def atanh(input):
    """out = atanh(input)"""
    return unary(ops.atanh, input)


def erfc(input):
    """out = 1 - erf(input)"""
    return unary(ops.erfc, input)


def sqrt(input):
    """out = √input"""
    return unary(ops.sqrt, input)


def rsqrt(input):
    """out = 1/√input"""
    return unary(ops.rsqrt, input)


def sin(input):
    """out = sin input"""
    return unary(ops.sin, input)


def cos(input):
    """out = cos input"""
    return unary(ops.cos, input)


def tan(input):
    """out = tan input"""
    return unary(ops.tan, input)


def tanh(input):
    """out = tanh input"""
    return unary(ops.tanh, input)


def sigmoid(input):
    """out = 1 / (1 + e^-input), stable for large |input|"""
    return unary(ops.sigmoid, input)


def relu(input):
    """out = max(input, 0); relu'(0) = 0"""
    return apply(ops.relu, (tensor_arg(input),))


def reciprocal(input):
    """out = 1 / input"""
    return unary(ops.reciprocal, input)


def sign(input):
    """out = -1, 0 or 1 by the sign of input (gradient 0)"""
    return apply(ops.sign, (tensor_arg(input),))


def _rounding(op, x):
    x = tensor_arg(x)
    if x._data.dtype.kind != "f":
        return x.clone() if x._requires_grad else wrap(x._data.copy())
    return apply(op, (x,))


def floor(input):
    """out = ⌊input⌋ (gradient 0)"""
    return _rounding(ops.floor, input)


def ceil(input):
    """out = ⌈input⌉ (gradient 0)"""
    return _rounding(ops.ceil, input)


def round(input, *, decimals=0):
    """out = input rounded half to even (gradient 0)"""
    x = tensor_arg(input)
    if decimals:
        return apply(ops.round, (x,), {"decimals": decimals})
    return _rounding(ops.round, x)


def trunc(input):
    """out = input rounded toward zero (gradient 0)"""
    return where(input < 0, ceil(input), floor(input))


def clamp(input, min=None, max=None):
    """out = min(max(input, min), max); the gradient passes at both bounds"""
    x = tensor_arg(input)
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = where(out < min, min, out) if isinstance(min, Tensor) else clamp(out, min=min)
        if max is not None:
            out = where(out > max, max, out) if isinstance(max, Tensor) else clamp(out, max=max)
        return out
    lo = None if min is None else number(min, "clamp")
    hi = None if max is None else number(max, "clamp")
    if x._data.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
        x = float_input(x, "clamp")
    return apply(ops.clamp, (x,), {"min": lo, "max": hi})


clip = clamp


def maximum(input, other):
    """out = the larger of input and other, elementwise; ties split the gradient"""
    return binary(ops.maximum, tensor_arg(input), tensor_arg(other))


def minimum(input, other):
    """out = the smaller of input and other, elementwise; ties split the gradient"""
    return binary(ops.minimum, tensor_arg(input), tensor_arg(other))


def where(condition, input=None, other=None):
    """out = input where condition else other"""
    if input is None and other is None:
        return tuple(wrap(i) for i in xp.nonzero(xp.atleast_1d(tensor_arg(condition)._data)))
    c = tensor_arg(condition) if not isinstance(condition, Tensor) else condition
    if c._data.dtype != bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {D.of(c._data)}; compare first, e.g. where(x > 0, ...)")
    av = input._data if isinstance(input, Tensor) else number(input, "where")
    bv = other._data if isinstance(other, Tensor) else number(other, "where")
    rt = D.result_type(av, bv)
    arrays = [c._data,
              av.astype(rt, copy=False) if isinstance(av, _ndarray) else xp.asarray(av, rt),
              bv.astype(rt, copy=False) if isinstance(bv, _ndarray) else xp.asarray(bv, rt)]
    return apply(ops.where, (c, input, other), arrays=arrays)


# --- non-differentiable elementwise ---------------------------------------------------------

def _compare(fn, a, b):
    av = a if isinstance(a, (Tensor, _ndarray)) else number(a, fn.__name__)
    bv = b if isinstance(b, (Tensor, _ndarray)) else number(b, fn.__name__)
    return nondiff(fn, av, bv)


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
    return builtins.all(isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype == bool)
               for v in (a, b))


def logical_not(input):
    return nondiff(xp.logical_not, tensor_arg(input))


def bitwise_not(input):
    return nondiff(xp.invert, tensor_arg(input))


def isnan(input):
    return nondiff(xp.isnan, tensor_arg(input))


def isinf(input):
    return nondiff(xp.isinf, tensor_arg(input))


def isfinite(input):
    return nondiff(xp.isfinite, tensor_arg(input))


def equal(input, other):
    """True when both tensors have the same shape and values."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(xp.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return wrap(xp.asarray(xp.isclose(input._data, tensor_arg(other)._data if isinstance(
        other, (Tensor, _ndarray)) else other, rtol=rtol, atol=atol, equal_nan=equal_nan)))


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
        check_device(device)        # raises for anything but cpu, as torch without CUDA
    if dtype is None:
        return x.clone() if copy else x
    d = D.to_dtype(dtype, "to").np
    if d == x._data.dtype and not copy:
        return x
    if x._requires_grad and d.kind == "f" and _grad_state.enabled:
        return apply(ops.to_copy, (x,), {"dtype": d})
    return nondiff(astype, x, d)

