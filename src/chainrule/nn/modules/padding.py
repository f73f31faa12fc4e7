"""Padding layers (issue #13): ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad``
and ``CircularPad`` for 1, 2 and 3 dims, each calling ``nn.functional.pad``."""
from ..functional.padding import pad as _pad
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


def _padding(padding, nd):
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2 * nd:
            raise ValueError(f"padding must be an int or a tuple of {2 * nd} ints, but got "
                             f"{tuple(padding)}")
        return tuple(padding)
    return (padding,) * (2 * nd)


class _PadNd(Module):
    _mode = "constant"
    _nd = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._nd)

    def forward(self, input):
        return _pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _make(name, base, mode, nd, doc):
    cls = type(name, (base,), {"_mode": mode, "_nd": nd, "__doc__": doc,
                               "__module__": __name__})
    globals()[name] = cls


for _nd in (1, 2, 3):
    _make(f"ZeroPad{_nd}d", _ZeroPadNd, "constant", _nd,
          f"Pad the last {_nd} dim(s) with zeros: ``F.pad(x, padding)``.")
    _make(f"ConstantPad{_nd}d", _ConstantPadNd, "constant", _nd,
          f"Pad the last {_nd} dim(s) with ``value``: ``F.pad(x, padding, value=value)``.")
    _make(f"ReflectionPad{_nd}d", _PadNd, "reflect", _nd,
          f"Pad the last {_nd} dim(s) by mirroring without the edge: "
          f"``F.pad(x, padding, 'reflect')``.")
    _make(f"ReplicationPad{_nd}d", _PadNd, "replicate", _nd,
          f"Pad the last {_nd} dim(s) by repeating the edge: ``F.pad(x, padding, 'replicate')``.")
    _make(f"CircularPad{_nd}d", _PadNd, "circular", _nd,
          f"Pad the last {_nd} dim(s) by wrapping around: ``F.pad(x, padding, 'circular')``.")
del _nd
