"""Elementwise functions with PyTorch's names: arithmetic with torch's promotion, unary math,
rounding, ``clamp``, ``where``, comparisons and logic (no gradient), and ``to`` (casts)."""
import builtins
import collections
import math

from .. import dtypes as D
from .. import ops
from .._backend import xp
from ..grad_mode import state as _grad_state
from ..tensor import Tensor, apply, check_device, wrap
from ._args import (astype, binary, float_input, is_number, nondiff, number, tensor_arg,
                    unary, wrap_int)

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
    """out = -1, 0 or 1 by the sign of input (gradient 0); a bool tensor is its own sign"""
    return _sign(input)


def _sign(input, name=None):
    x = tensor_arg(input)
    if x._data.dtype == bool:
        return wrap(x._data.copy())
    return apply(ops.sign, (x,), name=name)


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
    x = tensor_arg(input, "trunc")
    if x._data.dtype == bool:
        raise NotImplementedError("\"trunc_vml_cpu\" not implemented for 'Bool'; convert first, "
                                  "e.g. x.int().trunc()")
    return _rounding(ops.trunc, x)


fix = trunc


def clamp(input, min=None, max=None):
    """out = min(max(input, min), max); the gradient passes at both bounds"""
    return _clamp(input, min, max)


def _clamp(input, min=None, max=None, name=None, tensor_name=None):
    x = tensor_arg(input)
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = named_where(out < min, min, out, tensor_name) if isinstance(min, Tensor) \
                else clamp(out, min=min)
        if max is not None:
            out = named_where(out > max, max, out, tensor_name) if isinstance(max, Tensor) \
                else clamp(out, max=max)
        return out
    lo = None if min is None else number(min, "clamp")
    hi = None if max is None else number(max, "clamp")
    if x._data.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
        x = float_input(x, "clamp")
    return apply(ops.clamp, (x,), {"min": lo, "max": hi}, name=name)


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
    return named_where(condition, input, other)


def named_where(condition, input, other, name=None):
    """where(condition, input, other), its grad_fn named ``name`` (an op composed from where:
    fmax's FmaxBackward0, ...)"""
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
    return apply(ops.where, (c, input, other), arrays=arrays, name=name)


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
    """True where both input and other are nonzero (any dtypes; a bool result)"""
    return _compare(xp.logical_and, input, other)


def logical_or(input, other):
    """True where input or other is nonzero (any dtypes; a bool result)"""
    return _compare(xp.logical_or, input, other)


def logical_xor(input, other):
    """True where exactly one of input and other is nonzero (any dtypes; a bool result)"""
    return _compare(xp.logical_xor, input, other)


def logical_not(input):
    return nondiff(xp.logical_not, tensor_arg(input))


def bitwise_not(input):
    """out = ~input, bit by bit (integers and bools)"""
    x = tensor_arg(input, "bitwise_not")
    if x._data.dtype.kind == "f":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for "
                                  f"'{torch_name(x._data.dtype)}'; bitwise_not works on integer and "
                                  "bool tensors: convert first, e.g. x.long()")
    return nondiff(xp.invert, x)


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
    """True where |input - other| ≤ atol + rtol·|other| (equal infinities too; NaN only with
    equal_nan)"""
    x = tensor_arg(input, "isclose")
    y = _tensor_operand(other, "isclose")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"{torch_name(x._data.dtype)} did not match {torch_name(y._data.dtype)} "
                           "(isclose compares tensors of one dtype: convert one, e.g. "
                           "other.to(input.dtype))")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if (v.item() if isinstance(v, Tensor) else v) < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {v}")
    rtol, atol = (float(v.item() if isinstance(v, Tensor) else v) for v in (rtol, atol))
    _broadcast_shape("isclose", x._data, y._data)
    if x._data.dtype == bool:
        return eq(x, y)
    return nondiff(xp.isclose, x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)


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



# =========================================================================================
# issue #12's catalogue: the rest of torch's elementwise functions
# =========================================================================================

def torch_name(dt):
    """torch's name for a dtype in its messages: Long, Float, Half, ..."""
    return D.SCALAR_NAMES.get(dt.name, "Half" if dt.name == "float16" else dt.name)


def _tensor_operand(v, op, arg="other", pos=2):
    """An operand torch takes only as a Tensor (atan2's other, hypot's, ...)."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, _ndarray):
        return wrap(v)
    raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not "
                    f"{type(v).__name__} (wrap a number first, e.g. chainrule.tensor(2.0))")


def _promoted(*operands):
    """torch's result dtype for tensors and Python numbers."""
    return D.result_type(*[v._data if isinstance(v, Tensor) else v for v in operands])


def _cast(v, np_dtype):
    """A tensor operand in ``np_dtype`` (recorded when it carries gradients); numbers as given."""
    if isinstance(v, Tensor) and v._data.dtype != np_dtype:
        return v.to(D.BY_NP[np_dtype])
    return v


def _floating_only(op, *operands, kernel=None):
    """The floating dtype torch computes ``op`` in, or its NotImplementedError for integers."""
    rt = _promoted(*operands)
    if rt.kind != "f":
        raise NotImplementedError(f"\"{kernel or op + '_cpu'}\" not implemented for "
                                  f"'{torch_name(rt)}'; {op} needs floating tensors: convert first, "
                                  f"e.g. x.float()")
    return rt


def _broadcast_shape(op, *arrays):
    """The broadcast shape of ``arrays``, or torch's error naming the two sizes that differ."""
    try:
        return xp.broadcast_shapes(*[a.shape for a in arrays])
    except ValueError:
        a, b = arrays[0].shape, arrays[1].shape
        n = builtins.max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        d = builtins.max(i for i in range(n) if pa[i] != pb[i] and 1 not in (pa[i], pb[i]))
        raise RuntimeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                           f"({pb[d]}) at non-singleton dimension {d} ({op} of shapes {list(a)} "
                           f"and {list(b)}: broadcasting needs equal sizes or 1 in each "
                           "dimension)") from None


# --- angles and logarithms of sums -----------------------------------------------------------

def atan2(input, other):
    """out = atan2(input, other): the angle of the point (other, input), in (-π, π]

    >>> chainrule.atan2(chainrule.tensor([1.0, -1.0]), chainrule.tensor([0.0, 0.0]))
    tensor([ 1.5708, -1.5708])
    """
    x = tensor_arg(input, "atan2")
    return binary(ops.atan2, x, _tensor_operand(other, "atan2"), floating=True)


arctan2 = atan2


def _log_add(op, input, other, exp_, scale, name):
    x = tensor_arg(input, op)
    y = _tensor_operand(other, op)
    rt = _floating_only(op, x, y)
    x, y = _cast(x, rt), _cast(y, rt)
    # max + log(1 + e^-|x-y|): never overflows; ties split the gradient (maximum's rule), as torch
    soft = log1p(exp_(-abs(x - y)))
    out = maximum(x, y) + (soft if scale == 1 else soft * scale)
    # inf - inf is NaN: where both are the same infinity, the result is that infinity
    return named_where(isinf(x) & (x == y), x, out, name)


def logaddexp(input, other):
    """out = ln(e^input + e^other), computed without overflow"""
    return _log_add("logaddexp", input, other, exp, 1, "LogaddexpBackward0")


def logaddexp2(input, other):
    """out = log₂(2^input + 2^other), computed without overflow"""
    return _log_add("logaddexp2", input, other, exp2, 1 / math.log(2), "Logaddexp2Backward0")


def hypot(input, other):
    """out = √(input² + other²), without overflow or underflow"""
    x = tensor_arg(input, "hypot")
    y = _tensor_operand(other, "hypot")
    _floating_only("hypot", x, y)
    return binary(ops.hypot, x, y)


def angle(input):
    """out = the argument of a real number: 0 for input ≥ 0, π for input < 0, NaN for NaN"""
    x = float_input(tensor_arg(input, "angle"), "angle")
    # x·0 keeps NaN and keeps x in the graph with gradient 0, as torch; ±inf·0 would be NaN
    return named_where(x < 0, math.pi, where(isinf(x), 0.0, x * 0), "AngleBackward0")


def deg2rad(input):
    """out = input · π/180"""
    return binary(ops.mul, float_input(tensor_arg(input, "deg2rad"), "deg2rad"), math.pi / 180,
                  name="Deg2RadBackward0")


def rad2deg(input):
    """out = input · 180/π"""
    return binary(ops.mul, float_input(tensor_arg(input, "rad2deg"), "rad2deg"), 180 / math.pi,
                  name="Rad2DegBackward0")


# --- interpolation and fused multiply-add -----------------------------------------------------

def lerp(input, end, weight):
    """out = input + weight · (end - input)

    >>> chainrule.lerp(chainrule.tensor([0.0, 10.0]), chainrule.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """
    x = tensor_arg(input, "lerp")
    e = _tensor_operand(end, "lerp", "end")
    scalar = not isinstance(weight, (Tensor, _ndarray))
    if x._data.dtype.kind != "f":
        kernel = "lerp_kernel_scalar" if scalar else "lerp_kernel_tensor"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{torch_name(x._data.dtype)}'; "
                                  "lerp interpolates floating tensors: convert first, e.g. "
                                  "x.float()")
    for name, v in (("end", e), ("weight", None if scalar else tensor_arg(weight))):
        if v is not None and v._data.dtype != x._data.dtype:
            raise RuntimeError(f"expected dtype {D.CPP_NAMES[x._data.dtype.name]} for `{name}` "
                               f"but got dtype {D.CPP_NAMES[v._data.dtype.name]} (convert it, "
                               f"e.g. {name}.to(input.dtype))")
    diff = e - x
    # torch's two formulas: each is exact at its own end (w = 0 gives input, w = 1 gives end)
    if scalar:
        w = number(weight, "lerp")
        if builtins.abs(w) < 0.5:
            return binary(ops.add, x, w * diff, name="LerpBackward0")
        return binary(ops.sub, e, diff * (1 - w), name="LerpBackward0")
    w = tensor_arg(weight)
    return named_where(abs(w) < 0.5, x + w * diff, e - diff * (1 - w), "LerpBackward1")


def _addc(op, input, tensor1, tensor2, value, combine):
    x = tensor_arg(input, op)
    a = _tensor_operand(tensor1, op, "tensor1", 2)
    b = _tensor_operand(tensor2, op, "tensor2", 3)
    value = value.item() if isinstance(value, Tensor) else number(value, op)
    rt = _promoted(x, a, b)
    if rt == bool:
        raise NotImplementedError(f"\"{op}_cpu_out\" not implemented for 'Bool'; convert "
                                  "first, e.g. x.int()")
    if rt.kind != "f":
        value = int(value)          # torch casts value to the integer result type
    term = combine(a, b)
    name = "AddcmulBackward0" if op == "addcmul" else "AddcdivBackward0"
    return binary(ops.add, x, term if value == 1 else mul(term, value), name=name)


def addcmul(input, tensor1, tensor2, *, value=1):
    """out = input + value · tensor1 · tensor2"""
    return _addc("addcmul", input, tensor1, tensor2, value, mul)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """out = input + value · tensor1 / tensor2"""
    for t in (tensor1, tensor2):
        if not isinstance(t, Tensor) or t._data.dtype.kind == "f":
            break
    else:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    return _addc("addcdiv", input, tensor1, tensor2, value, div)


# --- rounding, signs and limits ---------------------------------------------------------------

def frac(input):
    """out = input - trunc(input), the fractional part with input's sign (gradient 1)"""
    x = tensor_arg(input, "frac")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{torch_name(x._data.dtype)}'; "
                                  "integers have no fractional part: convert first, e.g. "
                                  "x.float()")
    return binary(ops.sub, x, trunc(x), name="FracBackward0")


def _signbit(a):
    if a.dtype.kind == "f":
        return xp.signbit(a)
    return a < 0 if a.dtype.kind == "i" else xp.zeros(a.shape, bool)


def copysign(input, other):
    """out = |input| with the sign of other (-0.0 counts as negative); floating result"""
    x = tensor_arg(input, "copysign")
    if isinstance(other, (Tensor, _ndarray)):
        o = tensor_arg(other)
        ov = o._data
    else:
        ov = o = number(other, "copysign")
    rt = _promoted(x, o)
    if rt.kind != "f":
        rt = D.default_float_np()
    a = abs(_cast(x, rt))
    negative_sign = signbit(o) if isinstance(o, Tensor) else wrap(xp.asarray(_signbit(
        xp.asarray(ov))))
    name = "CopysignBackward0" if isinstance(o, Tensor) else "CopysignBackward1"
    return named_where(negative_sign, -a, a, name)


def signbit(input):
    """True where input's sign bit is set (negative numbers, -0.0, -NaN)"""
    x = tensor_arg(input, "signbit")
    # the ufunc itself where it can be, so that vmap batches it
    return nondiff(xp.signbit, x) if x._data.dtype.kind == "f" else nondiff(_signbit, x)


def sgn(input):
    """out = sign(input) for real tensors (-1, 0 or 1; gradient 0)"""
    return _sign(input, "SgnBackward0")


def positive(input):
    """out = input (the same tensor, as torch)"""
    x = tensor_arg(input, "positive")
    if x._data.dtype == bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported. (Convert "
                           "first, e.g. x.int())")
    return x


def heaviside(input, values):
    """out = 0 where input < 0, values where input == 0, 1 where input > 0 (no gradient)"""
    x = tensor_arg(input, "heaviside")
    v = _tensor_operand(values, "heaviside", "values")
    if x._data.dtype != v._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes. "
                           f"(input is {D.of(x._data)}, values {D.of(v._data)}: convert values, "
                           "e.g. values.to(input.dtype))")
    _broadcast_shape("heaviside", x._data, v._data)
    return nondiff(_heaviside, x, v)


def _heaviside(x, v):
    return xp.where(x == 0, v, x > 0).astype(x.dtype, copy=False)


def clamp_min(input, min):
    """out = max(input, min); the gradient passes where input ≥ min"""
    return _clamp(input, min=min, name="ClampMinBackward0", tensor_name="ClampMinBackward1")


def clamp_max(input, max):
    """out = min(input, max); the gradient passes where input ≤ max"""
    return _clamp(input, max=max, name="ClampMaxBackward0", tensor_name="ClampMaxBackward1")


def fmax(input, other):
    """out = the larger of input and other, ignoring NaN (NaN only where both are NaN)"""
    x = tensor_arg(input, "fmax")
    y = _tensor_operand(other, "fmax")
    return named_where(_fpick(ge, x, y), x, y, "FmaxBackward0")


def fmin(input, other):
    """out = the smaller of input and other, ignoring NaN (NaN only where both are NaN)"""
    x = tensor_arg(input, "fmin")
    y = _tensor_operand(other, "fmin")
    return named_where(_fpick(le, x, y), x, y, "FminBackward0")


def _fpick(compare, x, y):
    # x wins ties, as torch's gradient (all to input); NaN in other loses to anything
    _broadcast_shape("fmax" if compare is ge else "fmin", x._data, y._data)
    keep = compare(x, y)
    return keep | isnan(y) if y._data.dtype.kind == "f" else keep


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """out = input with NaN, +inf and -inf replaced (by default 0 and the dtype's largest and
    smallest finite values); gradient 1 where input is finite, else 0"""
    x = tensor_arg(input, "nan_to_num")
    if x._data.dtype.kind != "f":
        return wrap(x._data.copy())
    nan, posinf, neginf = (None if v is None else float(v) for v in (nan, posinf, neginf))
    filled = xp.asarray(xp.nan_to_num(x._data, nan=nan, posinf=posinf, neginf=neginf))
    return named_where(isfinite(x), x, wrap(filled), "NanToNumBackward0")


def isposinf(input):
    """True where input is +inf"""
    return nondiff(_isposinf, tensor_arg(input, "isposinf"))


def isneginf(input):
    """True where input is -inf"""
    return nondiff(_isneginf, tensor_arg(input, "isneginf"))


def _isposinf(a):
    return xp.isposinf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, bool)


def _isneginf(a):
    return xp.isneginf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, bool)


def isreal(input):
    """True everywhere: chainrule's tensors are real"""
    return nondiff(lambda a: xp.ones(a.shape, bool), tensor_arg(input, "isreal"))


def nextafter(input, other):
    """out = the next floating-point value after input towards other (gradient 1 to input)"""
    x = tensor_arg(input, "nextafter")
    y = _tensor_operand(other, "nextafter")
    _floating_only("nextafter", x, y)
    return binary(ops.nextafter, x, y)


# --- exponents: frexp, ldexp, float_power -----------------------------------------------------

def _return_type(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__repr__ = lambda self: (f"chainrule.return_types.{name}(\n" + ",\n".join(
        f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    cls.__module__ = "chainrule.return_types"
    return cls


_frexp_result = _return_type("frexp", ["mantissa", "exponent"])


def frexp(input):
    """(mantissa, exponent) with input = mantissa · 2^exponent, 0.5 ≤ |mantissa| < 1 (int32
    exponent); the mantissa's gradient is g · 2^-exponent, as torch"""
    x = tensor_arg(input, "frexp")
    if x._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes (convert first, "
                           "e.g. x.float())")
    m, e = xp.frexp(x._data)
    e = xp.asarray(e)
    if not (_grad_state.enabled and x._requires_grad):
        return _frexp_result(wrap(xp.asarray(m)), wrap(e))
    # x · 2^-e as two exact multiplications by powers of two: 2^-e alone overflows for
    # subnormal x (2^148 in float32); each half of the exponent fits every dtype
    h = -(e // 2)
    first = xp.ldexp(xp.ones((), x._data.dtype), h).astype(x._data.dtype, copy=False)
    second = xp.ldexp(xp.ones((), x._data.dtype), -e - h).astype(x._data.dtype, copy=False)
    mantissa = binary(ops.mul, mul(x, wrap(first)), wrap(second), name="FrexpBackward0")
    return _frexp_result(mantissa, wrap(e))


def ldexp(input, other):
    """out = input · 2^other (a floating result)"""
    x = tensor_arg(input, "ldexp")
    y = _tensor_operand(other, "ldexp")
    rt = _promoted(x, y)
    if rt.kind != "f":
        rt = D.default_float_np()
    return binary(ops.mul, _cast(x, rt), pow(2.0, _cast(y, rt)), name="LdexpBackward0")


def float_power(input, exponent):
    """out = input ** exponent, computed in float64 (the result is float64)"""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): expected a Tensor as input or exponent, got "
                        f"{type(input).__name__} and {type(exponent).__name__} (wrap one, e.g. "
                        "chainrule.tensor(2.0))")
    base = _cast(input, xp.dtype(xp.float64)) if isinstance(input, Tensor) else \
        float(number(input, "float_power"))
    exp_ = _cast(exponent, xp.dtype(xp.float64)) if isinstance(exponent, Tensor) else \
        float(number(exponent, "float_power"))
    return pow(base, exp_)


# --- integers: gcd, lcm, bitwise ---------------------------------------------------------------

def _integer_op(op, fn, input, other, kernel=None, allow_bool=False):
    ta, tb = isinstance(input, (Tensor, _ndarray)), isinstance(other, (Tensor, _ndarray))
    if not (ta or tb):
        raise TypeError(f"{op}(): expected a Tensor as input or other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    a = tensor_arg(input) if ta else number(input, op)
    b = tensor_arg(other) if tb else number(other, op)
    rt = _promoted(a, b)
    if rt.kind == "f" or (rt == bool and not allow_bool):
        raise NotImplementedError(f"\"{kernel or op + '_cpu'}\" not implemented for "
                                  f"'{torch_name(rt)}'; {op} works on integer tensors: convert "
                                  "first, e.g. x.long()")
    operands = []
    for v in (a, b):
        if isinstance(v, Tensor):
            operands.append(v if v._data.dtype == rt else nondiff(astype, v, rt))
        else:
            operands.append(xp.asarray(wrap_int(int(v), rt) if rt.kind in "iu" else v, rt))
    _broadcast_shape(op, *[v._data if isinstance(v, Tensor) else v for v in operands])
    # NumPy's ufunc keeps the operands' common dtype (and vmap batches a ufunc)
    return nondiff(fn, *operands)


def gcd(input, other):
    """out = the greatest common divisor of |input| and |other| (integers)"""
    return _integer_op("gcd", xp.gcd, input, _tensor_operand(other, "gcd"))


def lcm(input, other):
    """out = the least common multiple of |input| and |other| (integers)"""
    return _integer_op("lcm", xp.lcm, input, _tensor_operand(other, "lcm"))


def bitwise_and(input, other):
    """out = input & other, bit by bit (integers and bools)"""
    return _integer_op("bitwise_and", xp.bitwise_and, input, other, allow_bool=True)


def bitwise_or(input, other):
    """out = input | other, bit by bit (integers and bools)"""
    return _integer_op("bitwise_or", xp.bitwise_or, input, other, allow_bool=True)


def bitwise_xor(input, other):
    """out = input ^ other, bit by bit (integers and bools)"""
    return _integer_op("bitwise_xor", xp.bitwise_xor, input, other, allow_bool=True)


def _shift_in_range(a, b):
    return (b >= 0) & (b < 8 * a.dtype.itemsize)


def _left_shift(a, b):
    # torch: a shift by a negative count or by the width or more gives 0 (NumPy's is undefined)
    ok = _shift_in_range(a, b)
    return xp.where(ok, xp.left_shift(a, xp.where(ok, b, 0).astype(a.dtype)),
                    0).astype(a.dtype, copy=False)


def _right_shift(a, b):
    # torch: a shift out of range fills with the sign bit (-1 for negative a, else 0)
    ok = _shift_in_range(a, b)
    return xp.where(ok, xp.right_shift(a, xp.where(ok, b, 0).astype(a.dtype)),
                    xp.where(a < 0, -1, 0)).astype(a.dtype, copy=False)


def bitwise_left_shift(input, other):
    """out = input · 2^other with integer wrap-around (0 for counts out of [0, bits))"""
    return _integer_op("bitwise_left_shift", _left_shift, input, other, kernel="lshift_cpu")


def bitwise_right_shift(input, other):
    """out = ⌊input / 2^other⌋ (the sign fills in for counts out of [0, bits))"""
    return _integer_op("bitwise_right_shift", _right_shift, input, other, kernel="rshift_cpu")


arccos, arccosh, arcsin, arcsinh, arctan, arctanh = acos, acosh, asin, asinh, atan, atanh
