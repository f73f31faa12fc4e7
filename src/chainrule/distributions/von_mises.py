"""VonMises(loc, concentration), the circular normal: log p(x) = κ cos(x - loc) - log(2π I₀(κ))."""
import math

import numpy as np

from .. import functional as F
from ..creation import numpy_rng
from ..tensor import Size, wrap
from . import constraints
from .continuous import expand_params
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]

# Abramowitz & Stegun's polynomial approximations of I₀ and I₁ (as torch's von_mises.py), so
# that log I₀(κ) composes from differentiable ops
_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
                  -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2,
                  0.32411e-3]
_I1_COEF_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
                  0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _eval_poly(y, coef):
    coef = list(coef)
    result = coef.pop()
    while coef:
        result = coef.pop() + y * result
    return result


def log_modified_bessel_fn(x, order=0):
    """log Iₙ(x) for n = 0 or 1, x > 0."""
    y = (x / 3.75) ** 2
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = F.log(small)
    y = 3.75 / x
    large = x - 0.5 * F.log(x) + F.log(_eval_poly(y, _COEF_LARGE[order]))
    return F.where(x < 3.75, small, large)


class VonMises(Distribution):
    """Circular distribution on [-π, π): ``variance`` is the circular variance 1 - I₁(κ)/I₀(κ).
    Sampling uses NumPy's von Mises sampler (no rsample, as torch)."""
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(Size(self.loc.shape), Size(), validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, VonMises, batch_shape, ("loc", "concentration"), _instance)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * F.cos(value - self.loc)
        return (log_prob - math.log(2 * math.pi)
                - log_modified_bessel_fn(self.concentration, order=0))

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        loc = np.broadcast_to(self.loc._data, shape).astype(np.float64)
        kappa = np.broadcast_to(self.concentration._data, shape).astype(np.float64)
        x = numpy_rng().vonmises(0.0, kappa)
        x = np.mod(x + np.pi + loc, 2 * np.pi) - np.pi
        return wrap(x.astype(self.loc._data.dtype))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return 1 - F.exp(log_modified_bessel_fn(self.concentration, order=1)
                         - log_modified_bessel_fn(self.concentration, order=0))
