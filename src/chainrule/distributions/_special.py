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


# --- the regularised lower incomplete gamma P(a, x), for the gamma sampler's gradient ---------

def gammainc(a, x):
    """P(a, x) = γ(a, x)/Γ(a): a series for x < a + 1, Lentz's continued fraction otherwise."""
    a = np.asarray(a, np.float64)
    x = np.asarray(x, np.float64)
    a, x = np.broadcast_arrays(a, x)
    out = np.zeros(a.shape)
    with np.errstate(all="ignore"):
        logpre = a * np.log(np.where(x > 0, x, 1.0)) - x - np_lgamma(a)
        series = x < a + 1
        term = 1.0 / a
        total = term.copy()
        ap = a.copy()
        for _ in range(500):
            ap = ap + 1
            term = term * x / ap
            total = total + term
        p_series = total * np.exp(logpre)
        tiny = 1e-300
        b = x + 1 - a
        c = np.full(a.shape, 1 / tiny)
        d = 1 / np.where(b == 0, tiny, b)
        h = d.copy()
        for i in range(1, 300):
            an = -i * (i - a)
            b = b + 2
            d = an * d + b
            d = np.where(np.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            d = 1 / d
            h = h * d * c
        p_frac = 1 - np.exp(logpre) * h
        out = np.where(series, p_series, p_frac)
    return np.where(x <= 0, 0.0, out)


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
