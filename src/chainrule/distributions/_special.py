"""The special functions the distributions' densities and entropies use (chainrule's own
lgamma, digamma and erfinv), and the gamma sampler with implicit reparameterisation gradients.
"""
import numpy as np

from ..autograd import Function
from .. import ops
from ..tensor import Tensor, wrap

def np_lgamma(x):
    """log|Γ(x)| of an array, as chainrule.lgamma computes it"""
    return ops.lgamma.forward(np.asarray(x, np.float64))


def lgamma(x):
    """log|Γ(x)|, differentiable (chainrule.lgamma)"""
    from ..functional.special import lgamma as public
    return public(x)


def digamma(x):
    """ψ(x) = d/dx log Γ(x), differentiable (chainrule.digamma)"""
    from ..functional.special import digamma as public
    return public(x)


def erfinv(x):
    """erf⁻¹(x), differentiable (chainrule.erfinv)"""
    from ..functional.special import erfinv as public
    return public(x)


def gammainc(a, x):
    """P(a, x) = γ(a, x)/Γ(a) of arrays, as chainrule.special.gammainc computes it"""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    return ops.igamma.forward(a, x)


def _standard_gamma_grad(alpha, x):
    """dx/dα of a Gamma(α, 1) sample x at fixed CDF level (implicit reparameterisation):
    -∂P(α, x)/∂α / p(x; α), ∂P/∂α by a central difference of P in α."""
    alpha = np.asarray(alpha, np.float64)
    x = np.asarray(x, np.float64)
    h = 1e-5 * np.maximum(alpha, 1e-3)
    dp = (gammainc(alpha + h, x) - gammainc(alpha - h, x)) / (2 * h)
    with np.errstate(all="ignore"):
        logpdf = (alpha - 1) * np.log(x) - x - np_lgamma(alpha)
        grad = -dp / np.exp(logpdf)
    return np.where(np.isfinite(grad), grad, 0.0)


class _StandardGamma(Function):
    """x ~ Gamma(α, 1), with gradient dx/dα of the implicit reparameterisation (as
    torch._standard_gamma)."""

    @staticmethod
    def forward(ctx, alpha, rng):
        a = alpha._data
        x = rng.standard_gamma(a.astype(np.float64))
        tiny = np.finfo(a.dtype).tiny
        x = np.maximum(x, tiny).astype(a.dtype)
        ctx.save_for_backward(alpha)
        ctx.sample = x
        return wrap(x)

    @staticmethod
    def backward(ctx, g):
        (alpha,) = ctx.saved_tensors
        grad = _standard_gamma_grad(alpha._data, ctx.sample).astype(alpha._data.dtype)
        return g * wrap(grad), None


def standard_gamma(alpha, generator=None):
    """Gamma(α, 1) samples of ``alpha``'s shape, differentiable in ``alpha``."""
    from ..creation import numpy_rng
    if not isinstance(alpha, Tensor):
        raise TypeError("standard_gamma needs a tensor of concentrations")
    return _StandardGamma.apply(alpha, numpy_rng(generator))
