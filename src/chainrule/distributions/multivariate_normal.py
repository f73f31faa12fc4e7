"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril).

The Cholesky factor and the triangular solves are composed from differentiable chainrule ops
(one scalar column at a time), so gradients and second derivatives need no rule of their own;
their cost grows as n³ in the event size n, fine for the small n distributions use."""
import math

import numpy as np

from .. import functional as F
from ..tensor import Size, wrap
from . import constraints
from .continuous import draw
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def cholesky(a):
    """Lower L with L Lᵀ = a (batched), column by column (Cholesky–Banachiewicz).  ``a`` is
    symmetrised first, so that its gradient is symmetric, as torch's cholesky gives."""
    a = 0.5 * (a + a.transpose(-1, -2))
    n = a.shape[-1]
    entry = [[None] * n for _ in range(n)]
    for j in range(n):
        s = a[..., j, j]
        for k in range(j):
            s = s - entry[j][k] * entry[j][k]
        d = F.sqrt(s)
        entry[j][j] = d
        for i in range(j + 1, n):
            s = a[..., i, j]
            for k in range(j):
                s = s - entry[i][k] * entry[j][k]
            entry[i][j] = s / d
    zero = a[..., 0, 0] * 0
    rows = [F.stack([entry[i][j] if j <= i else zero for j in range(n)], -1) for i in range(n)]
    return F.stack(rows, -2)


def solve_lower(L, b):
    """x with L x = b for lower-triangular L (..., n, n) and b (..., n), by forward
    substitution."""
    n = L.shape[-1]
    xs = []
    for i in range(n):
        s = b[..., i]
        for k in range(i):
            s = s - L[..., i, k] * xs[k]
        xs.append(s / L[..., i, i])
    return F.stack(xs, -1)


def batch_mahalanobis(L, x):
    """‖L⁻¹ x‖² over the last dim."""
    shape = np.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    n = L.shape[-1]
    L = F.expand(L, shape + (n, n))
    x = F.expand(x, shape + (n,))
    return (solve_lower(L, x) ** 2).sum(-1)


def inverse_from_cholesky(L):
    """(L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹."""
    n = L.shape[-1]
    eye = F.expand(wrap(np.eye(n, dtype=L._data.dtype)), tuple(L.shape))
    cols = [solve_lower(L, eye[..., :, j]) for j in range(n)]
    linv = F.stack(cols, -1)                         # L⁻¹
    return F.matmul(linv.transpose(-1, -2), linv)


def half_log_det(L):
    """Σ log diag L: half the log-determinant of L Lᵀ."""
    n = L.shape[-1]
    return F.stack([F.log(L[..., i, i]) for i in range(n)], -1).sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, Σ) with Σ = L Lᵀ: log p(x) = -½(n log 2π + ‖L⁻¹(x - loc)‖²) - Σ log diag L."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + \
                (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        given = scale_tril if scale_tril is not None else (
            covariance_matrix if covariance_matrix is not None else precision_matrix)
        if given.dim() < 2:
            name = ("scale_tril" if scale_tril is not None else "covariance_matrix"
                    if covariance_matrix is not None else "precision_matrix")
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = np.broadcast_shapes(tuple(given.shape[:-2]), tuple(loc.shape[:-1]))
        n = given.shape[-1]
        given = F.expand(given, batch_shape + (n, n))
        if scale_tril is not None:
            self.scale_tril = given
        elif covariance_matrix is not None:
            self.covariance_matrix = given
        else:
            self.precision_matrix = given
        self.loc = F.expand(loc, batch_shape + (n,))
        event_shape = Size(self.loc.shape[-1:])
        super().__init__(Size(batch_shape), event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            cov = inverse_from_cholesky(cholesky(precision_matrix))
            self._unbroadcasted_scale_tril = cholesky(cov)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = F.expand(self.loc, loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, F.expand(self.__dict__[name], cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return F.expand(self._unbroadcasted_scale_tril,
                        tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return F.expand(F.matmul(L, L.transpose(-1, -2)),
                        tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def precision_matrix(self):
        return F.expand(inverse_from_cholesky(self._unbroadcasted_scale_tril),
                        tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        L = self._unbroadcasted_scale_tril
        return F.expand((L ** 2).sum(-1), tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        eps = draw(self._extended_shape(sample_shape), self.loc, "standard_normal")
        return self.loc + F.matmul(self._unbroadcasted_scale_tril,
                                   eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return half_log_det(self._unbroadcasted_scale_tril)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._half_log_det()
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = self._half_log_det()
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return F.expand(H, tuple(self._batch_shape))
