"""Activation functions with PyTorch's names, signatures and defaults: relu, leaky_relu, elu,
gelu, silu, sigmoid, tanh, softplus, logsigmoid, hardtanh, relu6, softmax, log_softmax.

Most are composites of the core's primitives and need no derivative code.  Three call primitives
of their own, in ``ops/nn.py`` with the reason for each: ``softplus`` and ``log_sigmoid``
(stability for large inputs, and torch's exact gradients) and ``erf`` (GELU needs it; NumPy has
none).
"""
import math
import warnings

from ... import creation as _C
from ... import dtypes as D
from ... import functional as _F
from ... import ops
from ..._backend import xp
from ...functional import sigmoid, tanh
from ...functional._args import tensor_arg
from ...tensor import apply, wrap

__all__ = ["relu", "relu_", "leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu",
           "sigmoid", "tanh", "softplus", "logsigmoid", "hardtanh", "hardtanh_", "relu6",
           "softmax", "log_softmax", "selu", "selu_", "celu", "celu_", "threshold",
           "threshold_", "hardshrink",
           "mish", "hardswish", "hardsigmoid", "softsign", "softshrink", "tanhshrink", "glu",
           "prelu", "rrelu", "rrelu_", "softmin", "gumbel_softmax"]


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
    return apply(ops.gelu, (x,), {"approximate": approximate})


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
    return apply(ops.softplus, (x,), {"beta": beta, "threshold": threshold})


def logsigmoid(input):
    """ln σ(input), computed without overflow: logsigmoid(-1000) = -1000.

    >>> chainrule.nn.functional.logsigmoid(chainrule.tensor([-1000.0, 1000.0]))
    tensor([-1000.,     0.])
    """
    x = _float_only(input, "logsigmoid", "log_sigmoid_cpu")
    return apply(ops.log_sigmoid, (x,))


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


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale · elu(input, alpha), with torch's constants (alpha ≈ 1.6733, scale ≈ 1.0507).

    >>> chainrule.nn.functional.selu(chainrule.tensor([0.0, 1.0]))
    tensor([0.0000, 1.0507])
    """
    x = _float_only(input, "selu", "elu")
    if inplace:
        return _inplace(x, selu)
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def selu_(input):
    """selu, in place."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha · (e^(input/alpha) - 1).

    >>> chainrule.nn.functional.celu(chainrule.tensor([-1000.0, 2.0]), alpha=2.0)
    tensor([-2.,  2.])
    """
    x = _float_only(input, "celu", "elu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return _inplace(x, celu, alpha)
    neg = x <= 0
    return _F.where(neg, _F.expm1(_F.where(neg, x, 0.0) / alpha) * alpha, x)


def celu_(input, alpha=1.0):
    """celu, in place."""
    return celu(input, alpha, inplace=True)


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value (gradient 1 above the threshold, 0 below).

    >>> chainrule.nn.functional.threshold(chainrule.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    x = tensor_arg(input)
    if inplace:
        return _inplace(x, _threshold, threshold, value)
    return _threshold(x, threshold, value)


def _threshold(x, threshold, value):
    return _F.where(x > threshold, x, wrap(xp.full_like(x._data, value)))


def threshold_(input, threshold, value):
    """threshold, in place."""
    return _inplace(tensor_arg(input), _threshold, threshold, value)


def hardshrink(input, lambd=0.5):
    """input where |input| > lambd, else 0.

    >>> chainrule.nn.functional.hardshrink(chainrule.tensor([-1.0, 0.2, 0.7]))
    tensor([-1.0000,  0.0000,  0.7000])
    """
    x = _float_only(input, "hardshrink", "hardshrink_cpu")
    return _F.where((x > lambd) | (x < -lambd), x, wrap(xp.zeros_like(x._data)))


def mish(input, inplace=False):
    """input · tanh(softplus(input)) (softplus is stable for large |input|).

    >>> chainrule.nn.functional.mish(chainrule.tensor([0.0, 1000.0]))
    tensor([   0., 1000.])
    """
    x = _float_only(input, "mish", "mish_cpu")
    if inplace:
        return _inplace(x, mish)
    return x * _F.tanh(softplus(x))


def hardswish(input, inplace=False):
    """input · relu6(input + 3) / 6; the gradient is 0 for input ≤ -3, 1 for input ≥ 3, as torch.

    >>> chainrule.nn.functional.hardswish(chainrule.tensor([-4.0, 0.0, 4.0]))
    tensor([-0., 0., 4.])
    """
    x = _float_only(input, "hardswish", "hardswish_cpu")
    if inplace:
        return _inplace(x, hardswish)
    zero = _C.zeros_like(x)
    return _F.where(x <= -3, x * zero, _F.where(x < 3, x * (x + 3) / 6, x))


def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6; the gradient is 1/6 strictly inside (-3, 3), 0 elsewhere.

    >>> chainrule.nn.functional.hardsigmoid(chainrule.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    x = _float_only(input, "hardsigmoid", "hardsigmoid_cpu")
    if inplace:
        return _inplace(x, hardsigmoid)
    return _F.where(x <= -3, 0.0, _F.where(x >= 3, 1.0, x / 6 + 0.5))


def softsign(input):
    """input / (1 + |input|).

    >>> chainrule.nn.functional.softsign(chainrule.tensor([-1.0, 3.0]))
    tensor([-0.5000,  0.7500])
    """
    x = tensor_arg(input)
    return x / (_F.abs(x) + 1)


def softshrink(input, lambd=0.5):
    """input - lambd where input > lambd, input + lambd where input < -lambd, else 0.

    >>> chainrule.nn.functional.softshrink(chainrule.tensor([-1.0, 0.2, 1.0]))
    tensor([-0.5000,  0.0000,  0.5000])
    """
    x = _float_only(input, "softshrink", "softshrink_check")
    if lambd < 0:
        name = {"float64": "Double", "float32": "Float", "float16": "Half",
                "bfloat16": "BFloat16"}.get(x._data.dtype.name, x._data.dtype.name)
        big = {"Double": "1.79769e+308", "Half": "65504"}.get(name, "3.40282e+38")
        raise RuntimeError(f"lambda must be in range [0, {big}] for input dtype {name}, but "
                           f"found {lambd:g} (softshrink needs lambd >= 0)")
    return _F.where(x > lambd, x - lambd, _F.where(x < -lambd, x + lambd, x * 0.0))


def tanhshrink(input):
    """input - tanh(input).

    >>> chainrule.nn.functional.tanhshrink(chainrule.tensor([0.0]))
    tensor([0.])
    """
    x = tensor_arg(input)
    return x - _F.tanh(x)


def glu(input, dim=-1):
    """a · σ(b), where a and b are the two halves of input along dim.

    >>> chainrule.nn.functional.glu(chainrule.tensor([1.0, 0.0]))
    tensor([0.5000])
    """
    x = tensor_arg(input)
    if x.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    x = _float_only(x, "glu", "glu_cpu")
    d = dim + x.dim() if dim < 0 else dim
    if not 0 <= d < x.dim():
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.dim()}, "
                         f"{x.dim() - 1}], but got {dim})")
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    a, b = _F.chunk(x, 2, d)
    return a * _F.sigmoid(b)


def prelu(input, weight):
    """input where input > 0, else weight · input; weight has 1 element or one per channel
    (dimension 1 of input).

    >>> chainrule.nn.functional.prelu(chainrule.tensor([-2.0, 3.0]), chainrule.tensor([0.5]))
    tensor([-1.,  3.])
    """
    x = tensor_arg(input)
    w = tensor_arg(weight)
    channels = x.shape[1] if x.dim() >= 2 else 1
    if w.numel() != 1 and w.numel() != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {w.numel()} and channel size = {channels}.")
    if w.numel() == 1:
        w = w.reshape(())
    else:
        w = w.reshape((channels,) + (1,) * (x.dim() - 2))
    return _F.where(x > 0, x, w * x)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """input where input ≥ 0, else a · input: a drawn uniformly from [lower, upper] per element
    when training, a = (lower + upper) / 2 otherwise.

    >>> chainrule.nn.functional.rrelu(chainrule.tensor([-2.0, 3.0]), 0.5, 0.5)
    tensor([-1.,  3.])
    """
    x = _float_only(input, "rrelu", "leaky_relu_cpu")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(x, (lower + upper) / 2, inplace)
    if inplace:
        return _inplace(x, rrelu, lower, upper, True)
    slope = _C.rand_like(x) * (upper - lower) + lower
    return _F.where(x >= 0, x, x * slope)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu, in place.

    >>> chainrule.nn.functional.rrelu_(chainrule.tensor([-2.0, 3.0]), 0.5, 0.5)
    tensor([-1.,  3.])
    """
    return rrelu(input, lower, upper, training, inplace=True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along dim.

    >>> chainrule.nn.functional.softmin(chainrule.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    x = tensor_arg(input)
    if dim is None:
        dim = _softmax_dim("softmin", x.dim(), _stacklevel)
    if dtype is not None:
        x = x.to(dtype)
    return _F.softmax(-x, dim)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) along dim, g i.i.d. Gumbel(0, 1) noise; with hard=True the
    one-hot of its argmax in the forward pass and the soft sample's gradient (straight-through).

    >>> chainrule.nn.functional.gumbel_softmax(chainrule.tensor([0.0, 0.0]), hard=True).sum()
    tensor(1.)
    """
    x = tensor_arg(logits)
    gumbels = -_F.log(_C.exponential_(_C.empty_like(x)))
    y_soft = _F.softmax((x + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = _F.scatter(_C.zeros_like(x), dim, index, value=1.0)
    return y_hard - y_soft.detach() + y_soft
