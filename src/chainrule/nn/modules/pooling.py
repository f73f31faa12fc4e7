"""Pooling layers as torch's: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
AdaptiveMaxPool1d/2d/3d, MaxUnpool1d/2d/3d, LPPool1d/2d/3d, FractionalMaxPool2d/3d."""
from ..functional import conv as C
from ..functional import pooling as P
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d",
           # -- issue 13: conv and pooling
           "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "LPPool1d", "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The maximum over each window of the last dim (see ``functional.max_pool1d``).

    >>> chainrule.nn.MaxPool1d(2)(chainrule.tensor([[1., 3., 2., 0.]]))
    tensor([[3., 2.]])
    """

    def forward(self, input):
        return C.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """The maximum over each kH×kW window (see ``functional.max_pool2d``).

    >>> pool = chainrule.nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(chainrule.ones(1, 3, 8, 8)).shape
    chainrule.Size([1, 3, 4, 4])
    """

    def forward(self, input):
        return C.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class _AvgPoolNd(Module):
    """The average poolings' arguments and repr (torch's ``_AvgPoolNd``); AvgPool1d reads its
    arguments as 1-tuples, as torch's, and takes no divisor_override (it stays None)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    """The adaptive average poolings' argument and repr (torch's ``_AdaptiveAvgPoolNd``)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AvgPool1d(_AvgPoolNd):
    """The mean over each window of the last dim (see ``functional.avg_pool1d``).

    >>> chainrule.nn.AvgPool1d(2)
    AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(C.tuple_arg(kernel_size, 1, "kernel_size", "AvgPool1d"),
                         C.tuple_arg(stride if stride is not None else kernel_size, 1, "stride",
                                     "AvgPool1d"),
                         C.tuple_arg(padding, 1, "padding", "AvgPool1d"), ceil_mode,
                         count_include_pad)

    def forward(self, input):
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """The mean over each kH×kW window (see ``functional.avg_pool2d`` for the divisor).

    >>> chainrule.nn.AvgPool2d(2)(chainrule.ones(1, 3, 8, 8)).shape
    chainrule.Size([1, 3, 4, 4])
    """

    def forward(self, input):
        return C.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """The mean over torch's adaptive windows, giving ``output_size`` along the last dim.

    >>> chainrule.nn.AdaptiveAvgPool1d(2)(chainrule.tensor([[1., 3., 2., 0.]]))
    tensor([[2., 1.]])
    """

    def forward(self, input):
        return C.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """The mean over torch's adaptive windows, giving an ``output_size`` image (an int or a
    pair; None keeps that input size).

    >>> chainrule.nn.AdaptiveAvgPool2d((1, 1))(chainrule.ones(2, 3, 7, 5)).shape
    chainrule.Size([2, 3, 1, 1])
    """

    def forward(self, input):
        return C.adaptive_avg_pool2d(input, self.output_size)


# =========================================================================================
# -- issue 13: conv and pooling
# =========================================================================================

class MaxPool3d(_MaxPoolNd):
    """The maximum over each kD×kH×kW window (see ``functional.max_pool3d``).

    >>> pool = chainrule.nn.MaxPool3d(2)
    >>> pool
    MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(chainrule.ones(1, 3, 4, 4, 4)).shape
    chainrule.Size([1, 3, 2, 2, 2])
    """

    def forward(self, input):
        return C.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool3d(_AvgPoolNd):
    """The mean over each kD×kH×kW window (see ``functional.avg_pool2d`` for the divisor).

    >>> chainrule.nn.AvgPool3d(2)(chainrule.ones(1, 3, 4, 4, 4)).shape
    chainrule.Size([1, 3, 2, 2, 2])
    """

    def forward(self, input):
        return C.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """The mean over torch's adaptive windows, giving an ``output_size`` volume (an int or a
    triple; None keeps that input size).

    >>> chainrule.nn.AdaptiveAvgPool3d(1)(chainrule.ones(2, 3, 4, 5, 6)).shape
    chainrule.Size([2, 3, 1, 1, 1])
    """

    def forward(self, input):
        return C.adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The max over torch's adaptive windows, giving ``output_size`` along the last dim.

    >>> chainrule.nn.AdaptiveMaxPool1d(2)(chainrule.tensor([[1., 3., 2., 0., 5.]]))
    tensor([[3., 5.]])
    """

    def forward(self, input):
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The max over torch's adaptive windows, giving an ``output_size`` image.

    >>> chainrule.nn.AdaptiveMaxPool2d((2, None))
    AdaptiveMaxPool2d(output_size=(2, None))
    """

    def forward(self, input):
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """The max over torch's adaptive windows, giving an ``output_size`` volume.

    >>> chainrule.nn.AdaptiveMaxPool3d(1)(chainrule.ones(2, 3, 4, 5, 6)).shape
    chainrule.Size([2, 3, 1, 1, 1])
    """

    def forward(self, input):
        return P.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        self.kernel_size = C.tuple_arg(kernel_size, nd, "kernel_size", name)
        self.stride = C.tuple_arg(stride if stride is not None else kernel_size, nd, "stride",
                                  name)
        self.padding = C.tuple_arg(padding, nd, "padding", name)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input, indices, output_size=None):
        fn = (P.max_unpool1d, P.max_unpool2d, P.max_unpool3d)[self._nd - 1]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: ``forward(input, indices, output_size=None)``.

    >>> chainrule.nn.MaxUnpool1d(2)
    MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: ``forward(input, indices, output_size=None)``.

    >>> pool, unpool = chainrule.nn.MaxPool2d(2, return_indices=True), chainrule.nn.MaxUnpool2d(2)
    >>> out, i = pool(chainrule.ones(1, 1, 4, 4))
    >>> unpool(out, i).shape
    chainrule.Size([1, 1, 4, 4])
    """

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: ``forward(input, indices, output_size=None)``.

    >>> chainrule.nn.MaxUnpool3d(2, padding=1)
    MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(1, 1, 1))
    """

    _nd = 3


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """The p-norm of each window of the last dim (see ``functional.lp_pool1d``).

    >>> chainrule.nn.LPPool1d(2, 2)(chainrule.tensor([[3., 4., 1., 0.]]))
    tensor([[5., 1.]])
    """

    def forward(self, input):
        return P.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """The p-norm of each kH×kW window (see ``functional.lp_pool2d``).

    >>> chainrule.nn.LPPool2d(2, 3, stride=2)
    LPPool2d(norm_type=2, kernel_size=3, stride=2, ceil_mode=False)
    """

    def forward(self, input):
        return P.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """The p-norm of each kD×kH×kW window (see ``functional.lp_pool3d``).

    >>> chainrule.nn.LPPool3d(2, 2)(chainrule.ones(1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 1, 1])
    """

    def forward(self, input):
        return P.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if nd == 3 and (isinstance(kernel_size, int) and kernel_size <= 0 or
                        isinstance(kernel_size, (tuple, list)) and
                        not all(k > 0 for k in kernel_size)):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = C.tuple_arg(kernel_size, nd, "kernel_size", name)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = (None if output_size is None else
                            C.tuple_arg(output_size, nd, "output_size", name))
        self.output_ratio = (None if output_ratio is None else
                             tuple(output_ratio) * (nd if len(tuple(output_ratio)) == 1 else 1)
                             if isinstance(output_ratio, (list, tuple)) else
                             (output_ratio,) * nd)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        fn = P.fractional_max_pool2d if self._nd == 2 else P.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio,
                  self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max pooling at pseudo-random steps (see ``functional.fractional_max_pool2d``); a
    ``_random_samples`` (N, C, 2) given here is kept as a buffer and fixes the steps.

    >>> pool = chainrule.nn.FractionalMaxPool2d(3, output_ratio=0.5)
    >>> pool(chainrule.ones(1, 2, 10, 10)).shape
    chainrule.Size([1, 2, 5, 5])
    """

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Max pooling at pseudo-random steps in 3 dims (see
    ``functional.fractional_max_pool3d``); ``_random_samples`` (N, C, 3).

    >>> pool = chainrule.nn.FractionalMaxPool3d(2, output_size=(2, 3, 3))
    >>> pool(chainrule.ones(1, 2, 5, 6, 6)).shape
    chainrule.Size([1, 2, 2, 3, 3])
    """

    _nd = 3
