"""PixelShuffle and PixelUnshuffle as torch's ``torch/nn/modules/pixelshuffle.py``."""
from ... import functional as CF
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """(*, C·r², H, W) -> (*, C, H·r, W·r) (see ``functional.pixel_shuffle``).

    >>> shuffle = chainrule.nn.PixelShuffle(2)
    >>> shuffle
    PixelShuffle(upscale_factor=2)
    >>> shuffle(chainrule.ones(1, 8, 3, 3)).shape
    chainrule.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return CF.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of PixelShuffle.

    >>> chainrule.nn.PixelUnshuffle(2)(chainrule.ones(1, 2, 6, 6)).shape
    chainrule.Size([1, 8, 3, 3])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return CF.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
