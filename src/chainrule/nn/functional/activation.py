"""Activation functions with PyTorch's names, signatures and defaults: relu, leaky_relu, elu,
gelu, silu, sigmoid, tanh, softplus, logsigmoid, hardtanh, relu6, softmax, log_softmax.

Most are composites of the core's primitives and need no derivative code.  Three primitives
live here, each for a reason given beside it: ``softplus`` and ``log_sigmoid`` (stability for
large inputs, and torch's exact gradients) and ``erf`` (GELU needs it; NumPy has none).
"""
import math
import warnings

from ... import dtypes as D
from ... import functional as _F
from ... import ops
from ..._backend import xp
from ...functional import sigmoid, tanh
from ...functional._args import tensor_arg
from ...tensor import apply, wrap

__all__ = ["relu", "relu_", "leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu",
           "sigmoid", "tanh", "softplus", "logsigmoid", "hardtanh", "hardtanh_", "relu6",
           "softmax", "log_softmax"]


def _float_only(input, op, kernel):
    """``input`` as a floating tensor, or torch's NotImplementedError for integer tensors."""
    x = tensor_arg(input)
    if x._data.dtype.kind != "f":
        name = D.SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\' ({op}() needs a '
                                  "floating point tensor: convert it first, e.g. x.float())")
    return x


def _maybe_inplace(input, inplace, fn, *args):
    """``fn(input, *args)``, written back into ``input`` when ``inplace`` (torch's inplace=)."""
    if inplace:
        return _inplace(tensor_arg(input), fn, *args)
    return fn(input, *args)


def _inplace(x, fn, *args):
    """Write ``fn(x, *args)`` into x.  A composite's inner nodes may save x itself, which the
    write would invalidate: when recording, they are given a copy of x instead."""
    def on_copy(t, *a):
        return fn(t.clone() if t.requires_grad else t, *a)
    on_copy.__name__ = fn.__name__
    return _F.inplace(x, on_copy, *args)


# =========================================================================================
# Primitives
# =========================================================================================

def _softplus(x, beta=1.0, threshold=20.0):
    """out = ln(1 + e^(βx))/β, and x itself where βx > threshold"""
    bx = x * beta
    return xp.where(bx > threshold, x, xp.log1p(xp.exp(bx)) / beta)


def _softplus_vjp(F, g, out, x, beta=1.0, threshold=20.0):
    # σ(βx) = z/(z + 1) with z = e^(βx), as torch; z is computed only where βx ≤ threshold, so it
    # never overflows and the branch where() discards has a finite derivative too
    big = F.raw(x) * beta > threshold
    z = F.exp(F.where(big, 0.0, x) * beta)
    return F.where(big, g, g * z / (z + 1))


# A primitive for stability: as a composite, the discarded branch log1p(exp(βx)) overflows for
# large x, and its zero gradient times e^(βx) = inf makes NaN.
softplus_op = ops.defprim(
    "softplus", _softplus, _softplus_vjp, saves=(0,),
    formulas=("[βx ≤ threshold]·σ(βx) + [βx > threshold]",),     # out = x above the threshold
    domain=(-2.0, 2.0, [1.5]),
    examples=[("m.nn.functional.softplus(x)", (3, 4)),
              ("m.nn.functional.softplus(x, beta=2.0, threshold=3.0)", (6,))])


def _log_sigmoid(x):
    """out = ln σ(x) = min(x, 0) - ln(1 + e^-|x|)"""
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _log_sigmoid_vjp(F, g, out, x):
    # σ(-x) written per side with z = e^-|x| (torch's formula): no overflow, and each side is an
    # exact smooth formula, so second derivatives are right at 0 too
    neg = F.raw(x) < 0
    z = F.exp(F.where(neg, x, -x))
    return g * F.where(neg, 1 / (1 + z), z / (1 + z))


# A primitive for stability: log(sigmoid(x)) is -inf for x below about -100 (float32).
log_sigmoid_op = ops.defprim(
    "log_sigmoid", _log_sigmoid, _log_sigmoid_vjp, backward_name="LogSigmoidBackward0",
    formulas=("σ(-x)",), saves=(0,), domain=(-6.0, 6.0),
    examples=[("m.nn.functional.logsigmoid(x)", (3, 4)), ("m.nn.functional.logsigmoid(x)", ())])

# Cephes' rational approximations of erf (|x| ≤ 1) and erfc (1 < |x| < 8, |x| ≥ 8): within
# 1 ulp of the C library's erf in float64
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _poly(coefficients, z):
    p = xp.full_like(z, coefficients[0])
    for c in coefficients[1:]:
        p = p * z + c
    return p


def _erf(x):
    """out = (2/√π) ∫₀ˣ e^(-t²) dt"""
    # computed in float64 (and rounded to x's dtype), so float32 results are correctly rounded
    x64 = x.astype(xp.float64)
    a = xp.abs(x64)
    small = a <= 1
    z = xp.where(small, x64 * x64, 0.0)
    inner = x64 * _poly(_ERF_T, z) / _poly(_ERF_U, z)
    b = xp.clip(a, 1.0, 30.0)           # erfc(30) underflows to 0: no need to go further
    mid = b < 8
    p = xp.where(mid, _poly(_ERFC_P, b), _poly(_ERFC_R, b))
    q = xp.where(mid, _poly(_ERFC_Q, b), _poly(_ERFC_S, b))
    outer = xp.copysign(1.0 - xp.exp(-b * b) * p / q, x64)
    return xp.where(small, inner, outer).astype(x.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# A primitive because NumPy has no erf (GELU is a composite of it).
erf_op = ops.defprim(
    "erf", _erf, lambda F, g, out, x: g * _TWO_OVER_SQRT_PI * F.exp(-(x * x)),
    formulas=("(2/√π)·exp(-x²)",), saves=(0,), domain=(-3.0, 3.0),
    examples=[("m.nn.functional.gelu(x)", (3, 4)), ("m.nn.functional.gelu(x)", ())])


def _erf_of(x):
    return apply(erf_op, (x,))


# =========================================================================================
# Public functions
# =========================================================================================

def relu(input, inplace=False):
    """max(input, 0), with relu'(0) = 0.

    >>> chainrule.nn.functional.relu(chainrule.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return _maybe_inplace(input, inplace, _F.relu)


def relu_(input):
    """relu, in place.

    >>> chainrule.nn.functional.relu_(chainrule.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where input > 0, else negative_slope · input (the slope also at 0, as torch).

    >>> chainrule.nn.functional.leaky_relu(chainrule.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2000,  3.0000])
    """
    x = _float_only(input, "leaky_relu", "leaky_relu_cpu")
    if inplace:
        return _inplace(x, leaky_relu, negative_slope)
    return _F.where(x > 0, x, x * negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu, in place.

    >>> chainrule.nn.functional.leaky_relu_(chainrule.tensor([-2.0, 3.0]), 0.5)
    tensor([-1.,  3.])
    """
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha · (e^input - 1).

    >>> chainrule.nn.functional.elu(chainrule.tensor([-1000.0, 0.0, 2.0]))
    tensor([-1.,  0.,  2.])
    """
    x = _float_only(input, "elu", "elu_cpu")
    if inplace:
        return _inplace(x, elu, alpha)
    neg = x <= 0            # as torch: NaN takes the linear branch (its gradient is 1)
    # expm1 only sees x ≤ 0: for large x, e^x = inf would turn the discarded branch's zero
    # gradient into NaN
    return _F.where(neg, _F.expm1(_F.where(neg, x, 0.0)) * alpha, x)


def elu_(input, alpha=1.0):
    """elu, in place.

    >>> chainrule.nn.functional.elu_(chainrule.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """
    return elu(input, alpha, inplace=True)


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input, approximate="none"):
    """input · Φ(input), Φ the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))).

    >>> chainrule.nn.functional.gelu(chainrule.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. (gelu got "
                           f"approximate={approximate!r})")
    x = _float_only(input, "gelu", "GeluKernelImpl")
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (_F.tanh(inner) + 1)
    return x * 0.5 * (_erf_of(x * _SQRT1_2) + 1)


def silu(input, inplace=False):
    """input · σ(input) (also called swish).

    >>> chainrule.nn.functional.silu(chainrule.tensor([0.0, 1000.0]))
    tensor([   0., 1000.])
    """
    x = _float_only(input, "silu", "silu_cpu")
    if inplace:
        return _inplace(x, silu)
    return x * _F.sigmoid(x)


def softplus(input, beta=1.0, threshold=20.0):
    """ln(1 + e^(β·input))/β, and input itself where β·input > threshold.

    >>> chainrule.nn.functional.softplus(chainrule.tensor([-1000.0, 0.0, 1000.0]))
    tensor([0.0000e+00, 6.9315e-01, 1.0000e+03])
    """
    x = _float_only(input, "softplus", "softplus_cpu")
    return apply(softplus_op, (x,), {"beta": beta, "threshold": threshold})


def logsigmoid(input):
    """ln σ(input), computed without overflow: logsigmoid(-1000) = -1000.

    >>> chainrule.nn.functional.logsigmoid(chainrule.tensor([-1000.0, 1000.0]))
    tensor([-1000.,     0.])
    """
    x = _float_only(input, "logsigmoid", "log_sigmoid_cpu")
    return apply(log_sigmoid_op, (x,))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at the bounds.

    >>> chainrule.nn.functional.hardtanh(chainrule.tensor([-3.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"min_val cannot be greater than max_val (hardtanh got min_val="
                         f"{min_val}, max_val={max_val})")
    x = tensor_arg(input)
    if inplace:
        return _inplace(x, hardtanh, min_val, max_val)
    if x._data.dtype.kind != "f":         # integers stay integers, as torch (no gradient)
        lo, hi = math.ceil(min_val), math.floor(max_val)
        return wrap(xp.clip(x._data, lo, hi))
    # where() rather than clamp: clamp's gradient passes at the bounds, hardtanh's does not
    return _F.where(x <= min_val, min_val, _F.where(x >= max_val, max_val, x))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """hardtanh, in place.

    >>> chainrule.nn.functional.hardtanh_(chainrule.tensor([-3.0, 3.0]))
    tensor([-1.,  1.])
    """
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(input, 0), 6): hardtanh(input, 0, 6).

    >>> chainrule.nn.functional.relu6(chainrule.tensor([-1.0, 3.0, 9.0]))
    tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def _softmax_dim(name, ndim, stacklevel):
    # torch's _get_softmax_dim: the warning points `stacklevel` frames up from here, as torch
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^input / Σ e^input along dim, stable for logits of any size.

    >>> chainrule.nn.functional.softmax(chainrule.tensor([1000.0, 1000.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    x = tensor_arg(input)
    if dim is None:
        dim = _softmax_dim("softmax", x.dim(), _stacklevel)
    return _F.softmax(x, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """input - logsumexp(input) along dim, stable for logits of any size.

    >>> chainrule.nn.functional.log_softmax(chainrule.tensor([0.0, -1000.0]), dim=0)
    tensor([    0., -1000.])
    """
    x = tensor_arg(input)
    if dim is None:
        dim = _softmax_dim("log_softmax", x.dim(), _stacklevel)
    return _F.log_softmax(x, dim, dtype=dtype)
