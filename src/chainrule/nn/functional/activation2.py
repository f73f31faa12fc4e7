"""More activation functions (issue #13): mish, hardswish, hardsigmoid, softsign, softshrink,
tanhshrink, glu, prelu, rrelu, softmin, gumbel_softmax, with PyTorch's names, signatures and
defaults.

All are composites of differentiable functions (no derivative code of their own), so first and
second derivatives come from the parts.  ``where`` selects branches so that each branch's
gradient matches torch's at the break points (hardswish, hardsigmoid, softshrink).
"""
import warnings

from ... import creation as _C
from ... import dtypes as D
from ... import functional as _F
from ...functional._args import tensor_arg
from .activation import leaky_relu, softplus

__all__ = ["mish", "hardswish", "hardsigmoid", "softsign", "softshrink", "tanhshrink", "glu",
           "prelu", "rrelu", "rrelu_", "softmin", "gumbel_softmax"]


# Small helpers as in activation.py (kept local: another module's private names stay private)

def _float_only(input, op, kernel):
    """``input`` as a floating tensor, or torch's NotImplementedError for integer tensors."""
    x = tensor_arg(input)
    if x._data.dtype.kind != "f":
        name = D.SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\' ({op}() needs a '
                                  "floating point tensor: convert it first, e.g. x.float())")
    return x


def _inplace(x, fn, *args):
    """Write ``fn(x, *args)`` into x; recorded composites get a copy of x to save."""
    def on_copy(t, *a):
        return fn(t.clone() if t.requires_grad else t, *a)
    on_copy.__name__ = fn.__name__
    return _F.inplace(x, on_copy, *args)


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


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
