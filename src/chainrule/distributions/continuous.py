"""Continuous distributions with parameters that broadcast elementwise: Normal, Uniform,
Exponential, Laplace, Cauchy, Gamma, Chi2, Beta, Dirichlet, StudentT, ContinuousBernoulli."""
import math

import numpy as np

from .. import functional as F
from ..creation import numpy_rng
from ..grad_mode import no_grad
from ..tensor import Size, Tensor, wrap
from . import constraints
from ._special import digamma, erfinv, lgamma, standard_gamma
from .distribution import Distribution, ExponentialFamily
from .utils import tensor_like, broadcast_all, xlogy

__all__ = ["Normal", "Uniform", "Exponential", "Laplace", "Cauchy", "Gamma", "Chi2", "Beta",
           "Dirichlet", "StudentT", "ContinuousBernoulli"]


def erf(x):
    from .. import ops
    from ..functional.elementwise import unary
    return unary(ops.erf, x)


def draw(shape, like, kind, generator=None, **kw):
    """NumPy samples of ``shape`` in ``like``'s dtype, as a constant tensor."""
    rng = numpy_rng(generator)
    data = getattr(rng, kind)(size=tuple(shape), **kw)
    return wrap(np.asarray(data, dtype=like._data.dtype))


def expand_params(self, cls, batch_shape, names, _instance):
    new = self._get_checked_instance(cls, _instance)
    batch_shape = Size(batch_shape)
    for n in names:
        v = getattr(self, n)
        setattr(new, n, F.expand(v, tuple(batch_shape) + tuple(v.shape[len(self.batch_shape):])))
    Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new


def _batch(*params):
    return Size(params[0].shape) if isinstance(params[0], Tensor) else Size()


class Normal(ExponentialFamily):
    """N(loc, scale²): log p(x) = -(x - loc)²/(2 scale²) - log scale - log √(2π)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(Size(self.loc.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Normal, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        eps = draw(self._extended_shape(sample_shape), self.loc, "standard_normal")
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = F.log(self.scale)
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + F.log(self.scale)

    @property
    def _natural_params(self):
        return self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal()

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * F.log(-math.pi / y)


class Uniform(Distribution):
    """Uniform on [low, high): log p(x) = -log(high - low) inside."""
    arg_constraints = {"low": constraints.dependent(is_discrete=False, event_dim=0),
                       "high": constraints.dependent(is_discrete=False, event_dim=0)}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(Size(self.low.shape), validate_args=validate_args)
        if self._validate_args and not bool((self.low._data < self.high._data).all()):
            raise ValueError("Uniform is not defined when low>= high")

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Uniform, batch_shape, ("low", "high"), _instance)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.high * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()):
        rand = draw(self._extended_shape(sample_shape), self.low, "random")
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        return F.log(inside.to(self.low.dtype)) - F.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return F.log(self.high - self.low)


class Exponential(ExponentialFamily):
    """Exponential(rate): log p(x) = log rate - rate·x, x ≥ 0."""
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size(self.rate.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Exponential, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        return draw(self._extended_shape(sample_shape), self.rate,
                     "standard_exponential") / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return F.log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - F.exp(-self.rate * value)

    def icdf(self, value):
        return -F.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - F.log(self.rate)

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -F.log(-x)


class Laplace(Distribution):
    """Laplace(loc, scale): log p(x) = -log(2 scale) - |x - loc|/scale."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(Size(self.loc.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Laplace, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=Size()):
        eps = float(np.finfo(self.loc._data.dtype).eps)
        u = draw(self._extended_shape(sample_shape), self.loc, "uniform", low=eps - 1, high=1)
        return self.loc - self.scale * u.sign() * F.log1p(-u.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -F.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * F.expm1(
            -(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * F.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + F.log(2 * self.scale)


class Cauchy(Distribution):
    """Cauchy(loc, scale): log p(x) = -log π - log scale - log(1 + ((x - loc)/scale)²)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(Size(self.loc.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Cauchy, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        return self.loc * float("nan")

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self.loc * 0 + float("inf")

    def rsample(self, sample_shape=Size()):
        eps = draw(self._extended_shape(sample_shape), self.loc, "standard_cauchy")
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - F.log(self.scale) - F.log1p(((value - self.loc) /
                                                                  self.scale) ** 2)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return F.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return F.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + F.log(self.scale)


class Gamma(ExponentialFamily):
    """Gamma(concentration α, rate β): log p(x) = α log β + (α-1) log x - βx - log Γ(α).

    ``rsample`` is differentiable in α by implicit reparameterisation (dx/dα = -∂F/∂α / p)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(Size(self.concentration.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(F.expand(self.concentration, shape)) / F.expand(self.rate, shape)
        tiny = float(np.finfo(value._data.dtype).tiny)
        return value.clamp(min=tiny)

    def log_prob(self, value):
        value = tensor_like(value, self.rate)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - F.log(self.rate) + lgamma(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * F.log(-y.reciprocal())

    def cdf(self, value):
        from ._special import gammainc
        if self._validate_args:
            self._validate_sample(value)
        return wrap(gammainc(self.concentration._data, (self.rate * value)._data).astype(
            self.rate._data.dtype))


class Chi2(Gamma):
    """Chi²(df) = Gamma(df/2, 1/2)."""
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, tensor_like(0.5, df), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2


class Dirichlet(ExponentialFamily):
    """Dirichlet(α) on the simplex: log p(x) = Σ(α-1) log x + log Γ(Σα) - Σ log Γ(α)."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = F.expand(self.concentration, tuple(batch_shape) +
                                     tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        gammas = standard_gamma(F.expand(self.concentration, shape))
        finfo = np.finfo(gammas._data.dtype)
        # kept inside the open simplex, so that log_prob of a sample stays finite
        return (gammas / gammas.sum(-1, keepdim=True)).clamp(min=float(finfo.tiny),
                                                              max=float(1 - finfo.epsneg))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration - 1.0, value).sum(-1)
                + lgamma(self.concentration.sum(-1)) - lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = (self.concentration - 1).clamp(min=0.0)
        return c / c.sum(-1, keepdim=True)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.shape[-1]
        a0 = self.concentration.sum(-1)
        return (lgamma(self.concentration).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((self.concentration - 1.0) * digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))


class Beta(ExponentialFamily):
    """Beta(α = concentration1, β = concentration0) on [0, 1], a two-category Dirichlet."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(F.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = F.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def _natural_params(self):
        return self.concentration1, self.concentration0

    def _log_normalizer(self, x, y):
        return lgamma(x) + lgamma(y) - lgamma(x + y)

    def __repr__(self):
        c1 = self.concentration1
        c0 = self.concentration0
        show = (lambda v: v.item() if v.numel() == 1 else v.size())
        return f"Beta(concentration1: {show(c1)}, concentration0: {show(c0)})"


class StudentT(Distribution):
    """Student's t(df, loc, scale)."""
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(Size(self.df.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, StudentT, batch_shape, ("df", "loc", "scale"), _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        m = self.loc.clone()
        return F.where(self.df <= 1, tensor_like(float("nan"), m), m)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        v = self.scale.pow(2) * df / (df - 2)
        v = F.where(df <= 2, tensor_like(float("inf"), v), v)
        return F.where(df <= 1, tensor_like(float("nan"), v), v)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        x = draw(shape, self.df, "standard_normal")
        z = self._chi2.rsample(sample_shape)
        y = x * F.rsqrt(z / self.df)
        return self.loc + self.scale * y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (F.log(self.scale) + 0.5 * F.log(self.df) + 0.5 * math.log(math.pi)
             + lgamma(0.5 * self.df) - lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * F.log1p(y ** 2.0 / self.df) - z

    def entropy(self):
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return (F.log(self.scale) + 0.5 * (self.df + 1) * (digamma(0.5 * (self.df + 1))
                                                            - digamma(0.5 * self.df))
                + 0.5 * F.log(self.df) + lbeta)


class ContinuousBernoulli(ExponentialFamily):
    """Continuous Bernoulli(probs) on [0, 1] (Loaiza-Ganem & Cunningham, 2019)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        from .utils import clamp_probs, logits_to_probs, probs_to_logits
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            self.logits = probs_to_logits(clamp_probs(self.probs), is_binary=True)
        else:
            (self.logits,) = broadcast_all(logits)
            self.probs = clamp_probs(logits_to_probs(self.logits, is_binary=True))
        self._lims = lims
        super().__init__(Size(self.probs.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, ContinuousBernoulli, batch_shape, ("probs", "logits"), _instance)
        new._lims = self._lims
        return new

    def _outside(self):
        return (self.probs < self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return F.where(self._outside(), self.probs, tensor_like(self._lims[0], self.probs))

    def _log_normalizer_p(self):
        cut = self._cut_probs()
        below = F.where(cut <= 0.5, cut, cut * 0)
        above = F.where(cut >= 0.5, cut, cut * 0 + 1)
        log_norm = F.log((F.log1p(-cut) - F.log(cut)).abs()) - F.where(
            cut <= 0.5, F.log1p(-2.0 * below), F.log(2.0 * above - 1.0))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return F.where(self._outside(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (F.log1p(-cut) - F.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return F.where(self._outside(), mus, taylor)

    @property
    def variance(self):
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / (F.log1p(-cut) - F.log(cut)) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return F.where(self._outside(), var, taylor)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        bce = F.log1p(F.exp(-logits.abs())) + logits.clamp(min=0) - logits * value
        return -bce + self._log_normalizer_p()

    def icdf(self, value):
        cut = self._cut_probs()
        return F.where(self._outside(), (F.log1p(-cut + value * (2.0 * cut - 1.0)) - F.log1p(-cut))
                       / (F.log(cut) - F.log1p(-cut)), value)

    def rsample(self, sample_shape=Size()):
        u = draw(self._extended_shape(sample_shape), self.probs, "random")
        cut = self._cut_probs()
        samples = (F.log1p(-cut + u * (2.0 * cut - 1.0)) - F.log1p(-cut)) / (
            F.log(cut) - F.log1p(-cut))
        return F.where(self._outside(), samples, u)

    def entropy(self):
        log_probs0 = F.log1p(-self.probs)
        log_probs1 = F.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._log_normalizer_p() - log_probs0
