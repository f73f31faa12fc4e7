"""Cross-channel normalisation layers: LocalResponseNorm and CrossMapLRN2d (torch's
``nn.modules.normalization``)."""
from ... import functional as _f
from ..._backend import xp
from ...functional._args import tensor_arg
from ...tensor import wrap
from ..functional.normalization import local_response_norm
from .module import Module

__all__ = ["LocalResponseNorm", "CrossMapLRN2d"]


class LocalResponseNorm(Module):
    """``local_response_norm`` as a layer: x / (k + alpha/size · Σ x² over neighbouring
    channels)^beta.

    >>> lrn = chainrule.nn.LocalResponseNorm(2)
    >>> lrn
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    >>> lrn(chainrule.ones(1, 3, 2)).shape
    chainrule.Size([1, 3, 2])
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def cross_map_window(c, size):
    """(c, c) 0/1 matrix of the channels torch's legacy CrossMapLRN2d sums for each channel.

    torch builds its windows by a running sum that adds channel c + pre_pad - 1 and removes
    channel c - pre_pad only once c > pre_pad, so channel 0 stays in every later window; the
    recursion is replayed here on indicator rows to reproduce torch's values exactly."""
    pre_pad = int((size - 1) / 2 + 1)
    w = xp.zeros((c, c))
    if c == 0:
        return w
    w[0, :min(pre_pad, c)] = 1
    for i in range(1, c):
        w[i] = w[i - 1]
        if i < c - pre_pad + 1:
            w[i, i + pre_pad - 1] += 1
        if i > pre_pad:
            w[i, i - pre_pad] -= 1
    return w


class CrossMapLRN2d(Module):
    """torch's legacy cross-channel LRN of (N, C, H, W) inputs:
    x · (k + alpha/size · Σ x² over torch's channel window)^(-beta).

    >>> chainrule.nn.CrossMapLRN2d(3)
    CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        x = tensor_arg(input, "CrossMapLRN2d")
        if x.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {x.dim()}D instead.")
        win = cross_map_window(x.shape[1], self.size).astype(x._data.dtype)
        sq = _f.transpose(x * x, 1, -1)
        s = _f.transpose(_f.matmul(sq, wrap(xp.ascontiguousarray(win.T))), 1, -1)
        scale = s * (self.alpha / self.size) + self.k
        return x * scale ** (-self.beta)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
