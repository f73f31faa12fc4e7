"""Activation functions as modules, with PyTorch's constructor arguments and reprs:
``ReLU()``, ``LeakyReLU(negative_slope=0.01)``, ``GELU(approximate='none')``, ``Softmax(dim=1)``.
Each forward calls the function of the same name in ``nn.functional``."""
import warnings

from ... import creation as _C
from .. import functional as F
from ..parameter import Parameter
from .module import Module

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus",
           "LogSigmoid", "Hardtanh", "ReLU6", "Softmax", "LogSoftmax",
           "Mish", "Hardswish", "Hardsigmoid", "Softsign", "Softshrink", "Tanhshrink", "GLU",
           "PReLU", "RReLU", "Softmin", "Softmax2d", "SELU", "CELU", "Threshold", "Hardshrink"]


def _inplace_str(inplace, first=False):
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class ReLU(Module):
    """max(x, 0) elementwise.

    >>> chainrule.nn.ReLU()(chainrule.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope · x.

    >>> chainrule.nn.LeakyReLU(0.1)
    LeakyReLU(negative_slope=0.1)
    """

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class ELU(Module):
    """x where x > 0, else alpha · (eˣ - 1).

    >>> chainrule.nn.ELU()
    ELU(alpha=1.0)
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class GELU(Module):
    """x · Φ(x); approximate='tanh' for the tanh approximation.

    >>> chainrule.nn.GELU(approximate="tanh")
    GELU(approximate='tanh')
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x · σ(x).

    >>> chainrule.nn.SiLU()(chainrule.tensor([0.0]))
    tensor([0.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class Sigmoid(Module):
    """1 / (1 + e⁻ˣ), stable for large |x|.

    >>> chainrule.nn.Sigmoid()(chainrule.tensor([0.0]))
    tensor([0.5000])
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh x.

    >>> chainrule.nn.Tanh()(chainrule.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input):
        return F.tanh(input)


class Softplus(Module):
    """ln(1 + e^(βx))/β, and x where βx > threshold.

    >>> chainrule.nn.Softplus()
    Softplus(beta=1.0, threshold=20.0)
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """ln σ(x), stable for large |x|.

    >>> chainrule.nn.LogSigmoid()(chainrule.tensor([-1000.0]))
    tensor([-1000.])
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (gradient 0 at the bounds).

    >>> chainrule.nn.Hardtanh(-2.0, 2.0)
    Hardtanh(min_val=-2.0, max_val=2.0)
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val "
                                 f"({self.min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6).

    >>> chainrule.nn.ReLU6()(chainrule.tensor([-1.0, 9.0]))
    tensor([0., 6.])
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class Softmax(Module):
    """eˣ / Σ eˣ along dim.

    >>> chainrule.nn.Softmax(dim=1)
    Softmax(dim=1)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along dim.

    >>> chainrule.nn.LogSoftmax(dim=-1)
    LogSoftmax(dim=-1)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Mish(Module):
    """x · tanh(softplus(x)).

    >>> chainrule.nn.Mish()(chainrule.tensor([0.0]))
    tensor([0.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class Hardswish(Module):
    """x · relu6(x + 3) / 6 (torch's repr shows no inplace flag; neither does this one).

    >>> chainrule.nn.Hardswish()(chainrule.tensor([4.0]))
    tensor([4.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6.

    >>> chainrule.nn.Hardsigmoid()(chainrule.tensor([0.0]))
    tensor([0.5000])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Softsign(Module):
    """x / (1 + |x|).

    >>> chainrule.nn.Softsign()(chainrule.tensor([1.0]))
    tensor([0.5000])
    """

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """x - tanh(x).

    >>> chainrule.nn.Tanhshrink()(chainrule.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input):
        return F.tanhshrink(input)


class Softshrink(Module):
    """x ∓ lambd outside [-lambd, lambd], 0 inside.

    >>> chainrule.nn.Softshrink()
    Softshrink(0.5)
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Module):
    """x outside [-lambd, lambd], 0 inside.

    >>> chainrule.nn.Hardshrink()
    Hardshrink(0.5)
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class GLU(Module):
    """a · σ(b), a and b the halves of x along dim.

    >>> chainrule.nn.GLU()
    GLU(dim=-1)
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else a · x; a learnable weight of num_parameters elements (1, or the
    number of channels), each initialised to init.

    >>> chainrule.nn.PReLU(3)
    PReLU(num_parameters=3)
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(_C.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Fill the weight with ``init``."""
        self.weight.data.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """x where x ≥ 0, else a · x: a uniform in [lower, upper] in training, their mean in eval.

    >>> chainrule.nn.RReLU()
    RReLU(lower=0.125, upper=0.3333333333333333)
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class Softmin(Module):
    """softmax(-x) along dim.

    >>> chainrule.nn.Softmin(dim=1)
    Softmin(dim=1)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels (dim -3) of a (C, H, W) or (N, C, H, W) input.

    >>> chainrule.nn.Softmax2d()(chainrule.zeros(2, 1, 1)).flatten()
    tensor([0.5000, 0.5000])
    """

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return F.softmax(input, -3, _stacklevel=5)


class SELU(Module):
    """scale · elu(x, alpha) with the self-normalising constants.

    >>> chainrule.nn.SELU()(chainrule.tensor([0.0]))
    tensor([0.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class CELU(Module):
    """x where x > 0, else alpha · (e^(x/alpha) - 1).

    >>> chainrule.nn.CELU()
    CELU(alpha=1.0)
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class Threshold(Module):
    """x where x > threshold, else value.

    >>> chainrule.nn.Threshold(0.1, 20)
    Threshold(threshold=0.1, value=20)
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return (f"threshold={self.threshold}, value={self.value}"
                f"{_inplace_str(self.inplace)}")
