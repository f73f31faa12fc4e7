"""ChannelShuffle as torch's ``torch/nn/modules/channelshuffle.py``."""
from ... import functional as CF
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Splits the channels into ``groups`` groups and interleaves them (see
    ``functional.channel_shuffle``).

    >>> shuffle = chainrule.nn.ChannelShuffle(2)
    >>> shuffle(chainrule.arange(4.).reshape(1, 4, 1))
    tensor([[[0.],
             [2.],
             [1.],
             [3.]]])
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return CF.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
