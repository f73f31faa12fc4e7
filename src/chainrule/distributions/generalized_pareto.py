"""GeneralizedPareto(loc, scale, concentration) (as torch, after TensorFlow Probability)."""
import math

import numpy as np

from .. import functional as F
from ..tensor import Size, wrap
from . import constraints
from .continuous import draw, expand_params
from .distribution import Distribution
from .utils import broadcast_all, tensor_like

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """log p(x) = -log scale - (1/ξ + 1) log(1 + ξ z), z = (x - loc)/scale (ξ = 0: -z)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(Size(self.loc.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, GeneralizedPareto, batch_shape,
                             ("loc", "scale", "concentration"), _instance)

    def _eq_zero(self):
        return wrap(np.isclose(self.concentration._data, 0.0))

    def _safe_conc(self):
        return F.where(self._eq_zero(), self.concentration * 0 + 1, self.concentration)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape=Size()):
        u = draw(self._extended_shape(sample_shape), self.loc, "random")
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        safe_conc = self._safe_conc()
        y = 1 / safe_conc + z * 0 + 1
        where_nonzero = F.where(y == 0, y, y * F.log1p(safe_conc * z))
        return -F.log(self.scale) - F.where(self._eq_zero(), z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        safe_conc = self._safe_conc()
        where_nonzero = -F.log1p(safe_conc * z) / safe_conc
        return F.where(self._eq_zero(), -z, where_nonzero)

    def log_cdf(self, value):
        return F.log1p(-F.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return F.exp(self.log_cdf(value))

    def icdf(self, value):
        safe_conc = self._safe_conc()
        logu = F.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * F.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return F.where(self._eq_zero(), where_zero, where_nonzero)

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = F.where(valid, self.concentration, tensor_like(0.5, self.concentration))
        result = self.loc + self.scale / (1 - safe_conc)
        return F.where(valid, result, tensor_like(math.nan, result))

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = F.where(valid, self.concentration, tensor_like(0.25, self.concentration))
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return F.where(valid, result, tensor_like(math.nan, result))

    def entropy(self):
        ans = F.log(self.scale) + self.concentration + 1
        return F.expand(ans, tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = F.where(self.concentration < 0, lower - self.scale / self.concentration,
                        tensor_like(math.inf, lower))
        return constraints.interval(lower, upper)
