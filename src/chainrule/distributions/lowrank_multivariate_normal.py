"""LowRankMultivariateNormal(loc, cov_factor W, cov_diag D): N(loc, W Wᵀ + diag D).

Composed over MultivariateNormal's differentiable Cholesky of the full covariance (torch uses the
capacitance matrix, cheaper for large n; the values are the same)."""
import math

import numpy as np

from .. import functional as F
from ..tensor import Size, wrap
from . import constraints
from .continuous import draw
from .distribution import Distribution
from .multivariate_normal import (inverse_from_cholesky, batch_mahalanobis, cholesky,
                                  half_log_det)
from .utils import lazy_property

__all__ = ["LowRankMultivariateNormal"]


class LowRankMultivariateNormal(Distribution):
    """Multivariate normal with covariance W Wᵀ + diag(D)."""
    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape "
                             f"{Size(event_shape)}")
        try:
            shape = np.broadcast_shapes(tuple(loc.shape) + (1,), tuple(cov_factor.shape),
                                        tuple(cov_diag.shape) + (1,))
        except ValueError:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from None
        self.cov_factor = F.expand(cov_factor, shape)
        self.loc = F.expand(loc, shape[:-1])
        self.cov_diag = F.expand(cov_diag, shape[:-1])
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        super().__init__(Size(shape[:-2]), Size(event_shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        new.loc = F.expand(self.loc, loc_shape)
        new.cov_diag = F.expand(self.cov_diag, loc_shape)
        new.cov_factor = F.expand(self.cov_factor, loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _full_covariance(self):
        W = self._unbroadcasted_cov_factor
        eye = wrap(np.eye(W.shape[-2], dtype=W._data.dtype))
        return F.matmul(W, W.transpose(-1, -2)) + self._unbroadcasted_cov_diag.unsqueeze(-1) * eye

    @lazy_property
    def _scale_tril(self):
        return cholesky(self._full_covariance())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return F.expand((self._unbroadcasted_cov_factor ** 2).sum(-1)
                        + self._unbroadcasted_cov_diag,
                        tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def scale_tril(self):
        return F.expand(self._scale_tril, tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def covariance_matrix(self):
        return F.expand(self._full_covariance(),
                        tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def precision_matrix(self):
        return F.expand(inverse_from_cholesky(self._scale_tril),
                        tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        w_shape = shape[:-1] + tuple(self.cov_factor.shape[-1:])
        eps_W = draw(w_shape, self.loc, "standard_normal")
        eps_D = draw(shape, self.loc, "standard_normal")
        return (self.loc + F.matmul(self._unbroadcasted_cov_factor, eps_W.unsqueeze(-1)
                                    ).squeeze(-1) + F.sqrt(self._unbroadcasted_cov_diag) * eps_D)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = batch_mahalanobis(self._scale_tril, diff)
        log_det = 2 * half_log_det(self._scale_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + M)

    def entropy(self):
        log_det = 2 * half_log_det(self._scale_tril)
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        if len(self._batch_shape) == 0:
            return H
        return F.expand(H, tuple(self._batch_shape))
