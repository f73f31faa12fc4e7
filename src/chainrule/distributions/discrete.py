"""Discrete distributions: Bernoulli, Categorical, OneHotCategorical, Poisson, Geometric,
Binomial, Multinomial."""
import numpy as np

from .. import functional as F
from ..creation import numpy_rng
from ..grad_mode import no_grad
from ..tensor import Size, Tensor, wrap
from . import constraints
from ._special import lgamma
from .distribution import Distribution, ExponentialFamily
from .utils import (tensor_like, broadcast_all, clamp_probs, lazy_property, logits_to_probs,
                    probs_to_logits, xlogy)

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough",
           "Poisson", "Geometric", "Binomial", "Multinomial"]


def _either(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _bce_with_logits(logits, target):
    """-[t log σ(l) + (1 - t) log(1 - σ(l))], stably: max(l, 0) - l t + log(1 + e^{-|l|})."""
    return logits.clamp(min=0) - logits * target + F.log1p(F.exp(-logits.abs()))


def expand_probs_logits(self, cls, batch_shape, extra_shape, _instance):
    new = self._get_checked_instance(cls, _instance)
    batch_shape = Size(batch_shape)
    for name in ("probs", "logits"):
        if name in self.__dict__:
            setattr(new, name, F.expand(self.__dict__[name], tuple(batch_shape) + extra_shape))
            new._param = getattr(new, name)
    return new, batch_shape


def _one_hot(value, k, like):
    idx = value._data.astype(np.int64)
    return idx[..., None] == np.arange(k)


class Bernoulli(ExponentialFamily):
    """Bernoulli(probs): log p(x) = x log p + (1 - x) log(1 - p), x ∈ {0, 1}."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        _either(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = expand_probs_logits(self, Bernoulli, batch_shape, (), _instance)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return F.where(self.probs == 0.5, tensor_like(float("nan"), mode), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape=Size()):
        from ..creation import bernoulli
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            return bernoulli(F.expand(self.probs, shape).contiguous())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        values = wrap(np.arange(2, dtype=self._param._data.dtype).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        if expand:
            values = F.expand(values, (-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self):
        return (F.log(self.probs / (1 - self.probs)),)

    def _log_normalizer(self, x):
        return F.log1p(F.exp(x))


class Categorical(Distribution):
    """Categorical(probs or logits) over {0, ..., K-1}: log p(k) = logits[k] - logsumexp."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _either(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - F.logsumexp(logits, -1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = Size(self._param.shape[:-1]) if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = expand_probs_logits(self, type(self) if _instance is None else Categorical,
                                        batch_shape, (self._num_events,), _instance)
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return wrap(np.full(tuple(self._extended_shape()), np.nan, self.probs._data.dtype))

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return wrap(np.full(tuple(self._extended_shape()), np.nan, self.probs._data.dtype))

    def sample(self, sample_shape=Size()):
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        p = self.probs._data.reshape(-1, self._num_events).astype(np.float64)
        n = int(np.prod(tuple(sample_shape), dtype=np.int64))
        rng = numpy_rng()
        u = rng.random((n, p.shape[0]))
        cdf = np.cumsum(p, -1)
        draws = (u[..., None] * cdf[:, -1:][None] >= cdf[None]).sum(-1)
        draws = np.minimum(draws, self._num_events - 1)
        return wrap(draws.reshape(tuple(self._extended_shape(sample_shape))).astype(np.int64))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.logits.shape[:-1]))
        hot = _one_hot(wrap(np.broadcast_to(value._data, shape)), self._num_events, self.logits)
        logits = F.expand(self.logits, shape + (self._num_events,))
        picked = F.where(wrap(hot), logits, tensor_like(0.0, logits))
        return picked.sum(-1)

    def entropy(self):
        min_real = float(np.finfo(self.logits._data.dtype).min)
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = wrap(np.arange(self._num_events, dtype=np.int64).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        if expand:
            values = F.expand(values, (-1,) + tuple(self._batch_shape))
        return values


class OneHotCategorical(Distribution):
    """A Categorical whose samples are one-hot vectors of length K."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = Size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return wrap(_one_hot(probs.argmax(-1), probs.shape[-1], probs).astype(
            probs._data.dtype))

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        probs = self._categorical.probs
        idx = self._categorical.sample(sample_shape)
        return wrap(_one_hot(idx, self._categorical._num_events, probs).astype(
            probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        indices = value.max(-1)[1]
        return self._categorical.log_prob(indices)

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        values = wrap(np.eye(n, dtype=self._param._data.dtype).reshape(
            (n,) + (1,) * len(self.batch_shape) + (n,)))
        if expand:
            values = F.expand(values, (n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` passes gradients straight through to probs."""
    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class Poisson(ExponentialFamily):
    """Poisson(rate): log p(k) = k log rate - rate - log k!."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size(self.rate.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        from .continuous import expand_params
        return expand_params(self, Poisson, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        data = numpy_rng().poisson(np.broadcast_to(self.rate._data, shape))
        return wrap(data.astype(self.rate._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)

    @property
    def _natural_params(self):
        return (F.log(self.rate),)

    def _log_normalizer(self, x):
        return F.exp(x)


class Geometric(Distribution):
    """Geometric(probs): failures before the first success, log p(k) = k log(1-p) + log p."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        _either(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        param = self.probs if probs is not None else self.logits
        super().__init__(Size(param.shape), validate_args=validate_args)
        if self._validate_args and probs is not None:
            if not bool((self.probs._data > 0).all()):
                invalid = self.probs._data == 0
                raise ValueError(f"Expected parameter probs ({'Tensor'} of shape "
                                 f"{tuple(self.probs.shape)}) of distribution {self!r} to "
                                 f"satisfy the constraint {constraints.unit_interval!r} and to be "
                                 f"positive, but found invalid values:\n{wrap(invalid)}")

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = expand_probs_logits(self, Geometric, batch_shape, (), _instance)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs * 0

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        tiny = np.finfo(self.probs._data.dtype).tiny
        u = numpy_rng().random(shape).clip(tiny, 1)
        with np.errstate(divide="ignore"):
            data = np.floor(np.log(u) / np.log1p(-self.probs._data))
        return wrap(data.astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = F.where((probs == 1) & (value == 0), probs * 0, probs)
        return value * F.log1p(-probs) + F.log(self.probs)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs) / self.probs


class Binomial(Distribution):
    """Binomial(total_count, probs): log p(k) = log C(n, k) + k log p + (n - k) log(1 - p)."""
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _either(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = expand_probs_logits(self, Binomial, batch_shape, (), _instance)
        new.total_count = F.expand(self.total_count, tuple(batch_shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(
            max=float(self.total_count._data.max()))

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        n = np.broadcast_to(self.total_count._data, shape).astype(np.int64)
        p = np.broadcast_to(self.probs._data, shape).astype(np.float64)
        return wrap(numpy_rng().binomial(n, p).astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = lgamma(self.total_count + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(self.total_count - value + 1)
        normalize_term = (self.total_count * self.logits.clamp(min=0)
                          + self.total_count * F.log1p(F.exp(-self.logits.abs()))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total = int(self.total_count._data.max())
        if not bool((self.total_count._data == total).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(F.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total = int(self.total_count._data.max())
        if not bool((self.total_count._data == total).all()):
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`.")
        values = wrap(np.arange(1 + total, dtype=self._param._data.dtype).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        if expand:
            values = F.expand(values, (-1,) + tuple(self._batch_shape))
        return values


class Multinomial(Distribution):
    """Multinomial(total_count, probs): counts of ``total_count`` categorical draws."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        p = np.broadcast_to(self.probs._data, shape).astype(np.float64)
        flat = p.reshape(-1, p.shape[-1])
        rng = numpy_rng()
        out = np.stack([rng.multinomial(self.total_count, row / row.sum()) for row in flat]) \
            if flat.shape[0] else np.zeros(flat.shape)
        return wrap(out.reshape(shape).astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        min_real = float(np.finfo(logits._data.dtype).min)
        logits = F.where((value == 0) & (logits == float("-inf")), logits * 0, logits)
        log_powers = (logits.clamp(min=min_real) * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers

    def entropy(self):
        """n·H(categorical) - log n! + Σ_k E[log x_k!], each x_k ~ Binomial(n, p_k)."""
        n = tensor_like(float(self.total_count), self.probs)
        binomial = Binomial(self.total_count, self.probs)
        term1 = n * self._categorical.entropy() - lgamma(n + 1)
        support = binomial.enumerate_support(expand=False)[1:]
        binomial_probs = F.exp(binomial.log_prob(support))
        weights = lgamma(support + 1)
        term2 = (binomial_probs * weights).sum(0).sum(-1)
        return term1 + term2
