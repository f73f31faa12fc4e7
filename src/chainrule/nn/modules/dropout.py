"""Dropout layers: Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout."""
from ..functional.linear import dropout, dropout1d, dropout2d, dropout3d
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode, zero each element with probability ``p`` and scale the others by
    1/(1 - p); in eval mode, the identity.

    >>> drop = chainrule.nn.Dropout(0.5)
    >>> drop
    Dropout(p=0.5, inplace=False)
    >>> drop.eval()(chainrule.ones(3))
    tensor([1., 1., 1.])
    """

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) inputs with probability ``p`` (training only)."""

    def forward(self, input):
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (training only)."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) inputs with probability ``p`` (training only)."""

    def forward(self, input):
        return dropout3d(input, self.p, self.training, self.inplace)


# -- issue 13: alpha dropout
from ..functional.linear import alpha_dropout, feature_alpha_dropout  # noqa: E402

__all__ += ["AlphaDropout", "FeatureAlphaDropout"]


class AlphaDropout(_DropoutNd):
    """Alpha dropout (for SELU networks) in training mode; the identity in eval mode.

    As torch, ``inplace`` is stored and printed but the forward pass never works in place.

    >>> chainrule.nn.AlphaDropout(0.2)
    AlphaDropout(p=0.2, inplace=False)
    """

    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of (N, C, *) inputs in training mode.

    >>> chainrule.nn.FeatureAlphaDropout(0.2).eval()(chainrule.ones(2, 3)).shape
    chainrule.Size([2, 3])
    """

    def forward(self, input):
        return feature_alpha_dropout(input, self.p, self.training)
