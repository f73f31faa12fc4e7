"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d, as torch's."""
import math

from ... import creation
from ... import functional as CF
from ..._backend import xp
from .. import init
from ..functional import conv as C
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
           # -- issue 13: conv and pooling
           "Conv3d", "ConvTranspose3d"]

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(v, nd):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * nd


def _mode_index(n, lo, hi, mode):
    """Source index of each position of a dim of size n padded by (lo, hi) in ``mode``."""
    j = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(j, 0, n - 1)
    if mode == "circular":
        return j % n
    j = xp.abs(j)                                   # reflect: the edge is not repeated
    return xp.where(j > n - 1, 2 * (n - 1) - j, j)


def _mode_pad(x, pads, mode):
    """x padded by (lo, hi) per spatial dim by reflecting, replicating or wrapping, as an
    index into x (so the gradient of each padded position goes back to its source)."""
    nd = len(pads)
    for (lo, hi), n in zip(pads, x.shape[-nd:]):
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension of size "
                               f"{n} (padding_mode='reflect')")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"Padding value causes wrapping around more than once: padding "
                               f"({lo}, {hi}) at dimension of size {n} (padding_mode='circular')")
    idx = tuple(_mode_index(n, lo, hi, mode).reshape((-1,) + (1,) * (nd - 1 - i))
                for i, ((lo, hi), n) in enumerate(zip(pads, x.shape[-nd:])))
    return CF.getitem(x, (Ellipsis,) + idx)


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        nd = self._nd
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        stride = _ntuple(stride, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, nd)
        self.stride = stride
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, nd)
        self.dilation = _ntuple(dilation, nd)
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        if padding == "same":
            pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                    for k, d in zip(self.kernel_size, self.dilation)]
        elif padding == "valid":
            pads = [(0, 0)] * nd
        else:
            pad = self.padding * nd if len(self.padding) == 1 else self.padding
            pads = [(p, p) for p in pad]
        self._pads = tuple(pads)      # per dim, forward order (torch keeps the reverse, twice)
        self._reversed_padding_repeated_twice = [p for lo_hi in reversed(pads) for p in lo_hi]
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the weights again: U(-1/√fan_in, 1/√fan_in) for weight and bias, as torch."""
        # kaiming_uniform_ with a = √5 gives the bound 1/√fan_in (pytorch/pytorch#57109)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                         groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = (C.conv1d, C.conv2d, C.conv3d)[self._nd - 1]
        if self.padding_mode != "zeros":
            return fn(_mode_pad(input, self._pads, self.padding_mode), weight, bias,
                      self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution: ``weight`` (out_channels, in_channels / groups, k), ``bias``
    (out_channels), both U(-1/√fan_in, 1/√fan_in) at first, as torch.

    >>> conv = chainrule.nn.Conv1d(2, 4, 3, padding=1)
    >>> conv
    Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))
    >>> conv(chainrule.ones(8, 2, 10)).shape
    chainrule.Size([8, 4, 10])
    """

    _nd = 1


class Conv2d(_Conv):
    """2-d convolution: ``weight`` (out_channels, in_channels / groups, kH, kW), ``bias``
    (out_channels), both U(-1/√fan_in, 1/√fan_in) at first, as torch.

    padding: an int, a pair, 'valid' or 'same'; padding_mode: 'zeros', 'reflect',
    'replicate' or 'circular'.

    >>> conv = chainrule.nn.Conv2d(1, 16, 3)
    >>> conv
    Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))
    >>> conv(chainrule.ones(64, 1, 8, 8)).shape
    chainrule.Size([64, 16, 6, 6])
    """

    _nd = 2


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        if isinstance(padding, str):
            raise TypeError(f"{type(self).__name__}: padding must be an int or a tuple of ints, "
                            f"not '{padding}' (strings exist only for convolutions)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output ``output_size`` (torch's rule)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        output_size = list(output_size)
        if len(output_size) == nd + 2 or (len(output_size) == nd + 1 and input.dim() == nd + 1):
            output_size = output_size[-nd:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must "
                             f"have {nd} or {nd + 2} elements (got {len(output_size)})")
        result = []
        for i in range(nd):
            n = input.shape[input.dim() - nd + i]
            smallest = ((n - 1) * self.stride[i] - 2 * self.padding[i] +
                        self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= output_size[i] <= largest:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {smallest} to {largest} (for an input of "
                                 f"{list(input.shape[-nd:])})")
            result.append(output_size[i] - smallest)
        return tuple(result)

    def forward(self, input, output_size=None):
        fn = (C.conv_transpose1d, C.conv_transpose2d, C.conv_transpose3d)[self._nd - 1]
        return fn(input, self.weight, self.bias, self.stride, self.padding,
                  self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """The adjoint of Conv1d in its input ("deconvolution"): ``weight`` (in_channels,
    out_channels / groups, k).

    >>> up = chainrule.nn.ConvTranspose1d(4, 2, 2, stride=2)
    >>> up(chainrule.ones(1, 4, 5)).shape
    chainrule.Size([1, 2, 10])
    """

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """The adjoint of Conv2d in its input ("deconvolution"): ``weight`` (in_channels,
    out_channels / groups, kH, kW); ``forward(input, output_size=None)`` as torch.

    >>> up = chainrule.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    >>> up(chainrule.ones(1, 4, 5, 5)).shape
    chainrule.Size([1, 2, 10, 10])
    """

    _nd = 2


# -- issue 13: conv and pooling

class Conv3d(_Conv):
    """3-d convolution: ``weight`` (out_channels, in_channels / groups, kD, kH, kW), ``bias``
    (out_channels), both U(-1/√fan_in, 1/√fan_in) at first, as torch.

    >>> conv = chainrule.nn.Conv3d(1, 4, 3, padding=1)
    >>> conv
    Conv3d(1, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1))
    >>> conv(chainrule.ones(2, 1, 5, 5, 5)).shape
    chainrule.Size([2, 4, 5, 5, 5])
    """

    _nd = 3


class ConvTranspose3d(_ConvTranspose):
    """The adjoint of Conv3d in its input ("deconvolution"): ``weight`` (in_channels,
    out_channels / groups, kD, kH, kW); ``forward(input, output_size=None)`` as torch.

    >>> up = chainrule.nn.ConvTranspose3d(4, 2, 2, stride=2)
    >>> up(chainrule.ones(1, 4, 2, 3, 3)).shape
    chainrule.Size([1, 2, 4, 6, 6])
    """

    _nd = 3
