"""More distributions: NegativeBinomial, InverseGamma, Kumaraswamy, FisherSnedecor."""
import numpy as np

from .. import functional as F
from ..creation import numpy_rng
from ..tensor import Size, wrap
from . import constraints
from ._special import digamma, lgamma
from .continuous import Gamma, Uniform
from .discrete import expand_probs_logits
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform, logsigmoid
from .utils import (broadcast_all, euler_constant, lazy_property, logits_to_probs,
                    probs_to_logits, tensor_like)

__all__ = ["NegativeBinomial", "InverseGamma", "Kumaraswamy", "FisherSnedecor"]


class NegativeBinomial(Distribution):
    """Failures before ``total_count`` successes, success probability 1 - probs:
    log p(k) = log C(k + r - 1, k) + r log(1 - p) + k log p."""
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = expand_probs_logits(self, NegativeBinomial, batch_shape, (),
                                               _instance)
        new.total_count = F.expand(self.total_count, tuple(batch_shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * F.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * F.exp(self.logits)).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / F.sigmoid(-self.logits)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        rng = numpy_rng()
        r = np.broadcast_to(self.total_count._data, shape).astype(np.float64)
        scale = np.exp(np.broadcast_to(self.logits._data, shape).astype(np.float64))
        rate = rng.gamma(np.where(r > 0, r, 1.0), scale) * (r > 0)
        return wrap(rng.poisson(rate).astype(self._param._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = (self.total_count * logsigmoid(-self.logits)
                                 + value * logsigmoid(self.logits))
        log_normalization = (-lgamma(self.total_count + value) + lgamma(1.0 + value)
                             + lgamma(self.total_count))
        zero = (self.total_count + value) == 0
        log_normalization = F.where(zero, tensor_like(0.0, log_normalization),
                                    log_normalization)
        return log_unnormalized_prob - log_normalization


class InverseGamma(TransformedDistribution):
    """X = 1/Y, Y ~ Gamma(concentration, rate)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate)
        neg_one = tensor_like(-1.0, base_dist.rate)
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        result = self.rate / (self.concentration - 1)
        return F.where(self.concentration > 1, result, tensor_like(np.inf, result))

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        result = self.rate.square() / ((self.concentration - 1).square()
                                       * (self.concentration - 2))
        return F.where(self.concentration > 2, result, tensor_like(np.inf, result))

    def entropy(self):
        return (self.concentration + F.log(self.rate) + lgamma(self.concentration)
                - (1.0 + self.concentration) * digamma(self.concentration))

    def __repr__(self):
        return Distribution.__repr__(self.base_dist).replace("Gamma", "InverseGamma", 1)


def _moments(a, b, n):
    arg1 = 1 + n / a
    log_value = lgamma(arg1) + lgamma(b) - lgamma(arg1 + b)
    return b * F.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(a = concentration1, b = concentration0) on (0, 1):
    X = (1 - U^{1/b})^{1/a}."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(F.expand(self.concentration0 * 0, tuple(self.concentration0.shape)),
                            F.expand(self.concentration0 * 0 + 1,
                                     tuple(self.concentration0.shape)),
                            validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = F.expand(self.concentration1, tuple(batch_shape))
        new.concentration0 = F.expand(self.concentration0, tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        c1, c0 = self.concentration1, self.concentration0
        log_mode = c1.reciprocal() * (F.log(c1 - 1) - F.log(c1 * c0 - 1))
        mode = F.exp(log_mode)
        return F.where((c1 < 1) | (c0 < 1), tensor_like(np.nan, mode), mode)

    @property
    def variance(self):
        return (_moments(self.concentration1, self.concentration0, 2)
                - self.mean.pow(2))

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        H0 = digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * H0 - F.log(self.concentration1) - F.log(self.concentration0)

    def __repr__(self):
        return Distribution.__repr__(self)


class FisherSnedecor(Distribution):
    """F(df1, df2): the ratio of two scaled chi² variables."""
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(Size(self.df1.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        shape = tuple(batch_shape)
        new.df1 = F.expand(self.df1, shape)
        new.df2 = F.expand(self.df2, shape)
        new._gamma1 = self._gamma1.expand(shape)
        new._gamma2 = self._gamma2.expand(shape)
        Distribution.__init__(new, Size(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        df2 = self.df2
        result = df2 / (df2 - 2)
        return F.where(df2 > 2, result, tensor_like(np.nan, result))

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return F.where(self.df1 > 2, mode, tensor_like(np.nan, mode))

    @property
    def variance(self):
        df1, df2 = self.df1, self.df2
        result = 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))
        return F.where(df2 > 4, result, tensor_like(np.nan, result))

    def rsample(self, sample_shape=Size()):
        x1 = self._gamma1.rsample(sample_shape)
        x2 = self._gamma2.rsample(sample_shape)
        tiny = float(np.finfo(x2._data.dtype).tiny)
        x2 = x2.clamp(min=tiny)
        return (x1 / x2).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = lgamma(ct1 + ct2) - lgamma(ct1) - lgamma(ct2)
        t2 = ct1 * F.log(ct3) + (ct1 - 1) * F.log(value)
        t3 = (ct1 + ct2) * F.log1p(ct3 * value)
        return t1 + t2 - t3
