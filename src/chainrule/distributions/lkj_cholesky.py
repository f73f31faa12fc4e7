"""LKJCholesky(dim, concentration): Cholesky factors of LKJ-distributed correlation matrices."""
import math

import numpy as np

from .. import functional as F
from ..creation import numpy_rng
from ..tensor import Size, wrap
from . import constraints
from ._special import lgamma
from .continuous import Beta
from .distribution import Distribution
from .utils import broadcast_all
from .wishart import mvlgamma

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """log p(L) = Σ_{i≥2} (2(η - 1) + D - i) log L_ii - log normaliser, η = concentration;
    samples by the onion method (as torch)."""
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found "
                             f"dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = Size(self.concentration.shape)
        event_shape = Size((dim, dim))
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = np.concatenate([[0.0], np.arange(self.dim - 1)]).astype(
            self.concentration._data.dtype)
        beta_conc1 = wrap(offset + 0.5)
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * wrap(offset)
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = F.expand(self.concentration, tuple(batch_shape))
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        y = self._beta.sample(sample_shape)._data[..., None]
        shape = tuple(self._extended_shape(sample_shape))
        u = np.tril(numpy_rng().standard_normal(shape), -1).astype(y.dtype)
        norm = np.linalg.norm(u, axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(norm > 0, u / np.where(norm > 0, norm, 1), 0.0)
        u[..., 0, :] = 0.0
        w = np.sqrt(y) * u
        tiny = np.finfo(w.dtype).tiny
        diag = np.sqrt(np.clip(1 - (w ** 2).sum(-1), tiny, None))
        w = w + diag[..., None] * np.eye(self.dim, dtype=w.dtype)
        return wrap(w.astype(y.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = F.stack([value[..., i, i] for i in range(1, self.dim)], -1)
        order = wrap(np.arange(2, self.dim + 1).astype(self.concentration._data.dtype))
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * F.log(diag_elems)).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = lgamma(alpha) * dm1
        numerator = mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term
