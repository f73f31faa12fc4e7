"""lgamma, digamma and trigamma for the distributions' log densities and entropies, and the
gamma sampler with implicit reparameterisation gradients.

``chainrule.lgamma``/``chainrule.digamma`` are used when chainrule has them; otherwise these are
private differentiable functions (``autograd.Function``, so that they stay out of the op
registry): lgamma' = digamma, digamma' = trigamma (trigamma itself has no derivative here).
"""
import math

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, wrap

_lgamma_scalar = np.frompyfunc(lambda v: math.lgamma(v) if not (v <= 0 and v == int(v))
                               else math.inf, 1, 1)


def np_lgamma(x):
    x64 = np.asarray(x, np.float64)
    out = np.where(np.isnan(x64), np.nan, 0.0)
    finite = np.isfinite(x64)
    out[finite] = _lgamma_scalar(x64[finite]).astype(np.float64)
    out[np.isinf(x64)] = np.inf
    return out.astype(np.asarray(x).dtype)


def _np_digamma(x):
    x64 = np.asarray(x, np.float64)
    reflect = x64 < 0.5
    z = np.where(reflect, 1.0 - x64, x64)
    acc = np.zeros_like(z)
    for _ in range(6):                     # ψ(z) = ψ(z + 1) - 1/z until z ≥ 6
        small = z < 6
        acc -= np.where(small, 1.0 / np.where(small, z, 1.0), 0.0)
        z = np.where(small, z + 1.0, z)
    inv2 = 1.0 / (z * z)
    series = np.log(z) - 0.5 / z - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (
        1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
    out = acc + series
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(reflect, out - np.pi / np.tan(np.pi * x64), out)
        out = np.where(x64 == 0, -np.inf, out)
        out = np.where((x64 < 0) & (x64 == np.floor(x64)), np.nan, out)
    return out.astype(np.asarray(x).dtype)


def _np_trigamma(x):
    x64 = np.asarray(x, np.float64)
    reflect = x64 < 0.5
    z = np.where(reflect, 1.0 - x64, x64)
    acc = np.zeros_like(z)
    for _ in range(6):                     # ψ1(z) = ψ1(z + 1) + 1/z² until z ≥ 6
        small = z < 6
        acc += np.where(small, 1.0 / np.where(small, z * z, 1.0), 0.0)
        z = np.where(small, z + 1.0, z)
    inv = 1.0 / z
    inv2 = inv * inv
    series = inv + inv2 / 2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))
    out = acc + series
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(reflect, np.pi ** 2 / np.sin(np.pi * x64) ** 2 - out, out)
        out = np.where((x64 <= 0) & (x64 == np.floor(x64)), np.inf, out)
    return out.astype(np.asarray(x).dtype)


class _Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(np_lgamma(x._data))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * digamma(x)


class _Digamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return wrap(_np_digamma(x._data))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _Trigamma.apply(x)


class _Trigamma(Function):
    @staticmethod
    def forward(ctx, x):
        return wrap(_np_trigamma(x._data))

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("the distributions' private trigamma has no derivative "
                                  "(third derivatives of lgamma are not supported)")


def lgamma(x):
    """log|Γ(x)|, differentiable: chainrule.lgamma when chainrule has it, else a private one."""
    import chainrule
    public = getattr(chainrule, "lgamma", None)
    return public(x) if public is not None else _Lgamma.apply(x)


def digamma(x):
    """ψ(x) = d/dx log Γ(x), differentiable: chainrule.digamma when chainrule has it."""
    import chainrule
    public = getattr(chainrule, "digamma", None)
    return public(x) if public is not None else _Digamma.apply(x)


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


_GILES_SMALL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_LARGE = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _np_erfinv(x):
    """erf⁻¹ by Giles' approximation, polished by Newton steps on erf (float64 accurate)."""
    from ..ops import erf, erfc
    x64 = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1 - x64) * (1 + x64))
        small = w < 5
        ws = w - 2.5
        wl = np.sqrt(w) - 3
        ps = np.zeros_like(x64)
        pl = np.zeros_like(x64)
        for a, b in zip(_GILES_SMALL, _GILES_LARGE):
            ps = a + ps * ws
            pl = b + pl * wl
        y = np.where(small, ps, pl) * x64
        a = np.abs(x64)
        sign = np.sign(x64)
        for _ in range(6):
            # Newton on erf near 0, on erfc in the tails (1 - |x| is exact there)
            # (in the tails on log erfc, nearly linear there, so that the steps converge fast)
            ay = np.abs(y)
            density = 2 / math.sqrt(math.pi) * np.exp(-ay * ay)
            tail = erfc.forward(ay)
            step = np.where(a < 0.5, (erf.forward(ay) - a) / density,
                            (np.log(1 - a) - np.log(tail)) * tail / density)
            y = np.where(np.isfinite(step), sign * (ay - step), y)
        y = np.where(x64 == 1, np.inf, np.where(x64 == -1, -np.inf, y))
        y = np.where(np.abs(x64) > 1, np.nan, y)
    return y.astype(np.asarray(x).dtype)


class _Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        out = wrap(_np_erfinv(x._data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        from .. import functional as F
        return g * (math.sqrt(math.pi) / 2) * F.exp(out * out)


def erfinv(x):
    """erf⁻¹(x), differentiable: chainrule.erfinv when chainrule has it, else a private one."""
    import chainrule
    public = getattr(chainrule, "erfinv", None)
    return public(x) if public is not None else _Erfinv.apply(x)
