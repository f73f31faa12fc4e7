"""Wishart(df, covariance_matrix | precision_matrix | scale_tril) over positive-definite
matrices, sampled by Bartlett's decomposition (as torch)."""
import math
import warnings

import numpy as np

from .. import functional as F
from ..creation import numpy_rng
from ..tensor import Size, Tensor, wrap
from . import constraints
from ._special import digamma, lgamma
from .continuous import Chi2
from .distribution import ExponentialFamily
from .multivariate_normal import cholesky, half_log_det, inverse_from_cholesky
from .utils import lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def mvlgamma(a, p):
    """log Γ_p(a) = p(p-1)/4 log π + Σ_{j<p} log Γ(a - j/2)."""
    total = a * 0 + p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        total = total + lgamma(a - j / 2)
    return total


def _mvdigamma(a, p):
    total = a * 0
    for j in range(p):
        total = total + digamma(a - j / 2)
    return total


class Wishart(ExponentialFamily):
    """log p(X) = -ν(p log 2/2 + log|L|) - log Γ_p(ν/2) + (ν - p - 1)/2 log|X| - tr(Σ⁻¹X)/2."""
    arg_constraints = {"covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky,
                       "df": constraints.greater_than(0)}
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if (covariance_matrix is not None) + (scale_tril is not None) + \
                (precision_matrix is not None) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril)
                     if p is not None)
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if not isinstance(df, Tensor):
            batch_shape = tuple(param.shape[:-2])
            self.df = wrap(np.asarray(df, dtype=param._data.dtype))
        else:
            batch_shape = np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))
            self.df = F.expand(df, batch_shape)
        event_shape = tuple(param.shape[-2:])
        if bool((self.df._data <= event_shape[-1] - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = "
                             f"{event_shape[-1] - 1}.")
        expanded = F.expand(param, batch_shape + event_shape)
        if scale_tril is not None:
            self.scale_tril = expanded
        elif covariance_matrix is not None:
            self.covariance_matrix = expanded
        else:
            self.precision_matrix = expanded
        if bool((self.df._data < event_shape[-1]).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(Size(batch_shape), Size(event_shape), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(
                inverse_from_cholesky(cholesky(precision_matrix)))
        self._make_chi2()

    def _make_chi2(self):
        p = self._event_shape[-1]
        offsets = wrap(np.arange(p, dtype=self._unbroadcasted_scale_tril._data.dtype))
        self._dist_chi2 = Chi2(df=self.df.unsqueeze(-1) - offsets)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = F.expand(self._unbroadcasted_scale_tril, cov_shape)
        new.df = F.expand(self.df, tuple(batch_shape))
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, F.expand(self.__dict__[name], cov_shape))
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._make_chi2()
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return F.expand(self._unbroadcasted_scale_tril,
                        tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return F.expand(F.matmul(L, L.transpose(-2, -1)),
                        tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def precision_matrix(self):
        return F.expand(inverse_from_cholesky(self._unbroadcasted_scale_tril),
                        tuple(self._batch_shape) + tuple(self._event_shape))

    def _df_matrix(self):
        return self.df.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self):
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = F.where(factor <= 0, factor * math.nan, factor)
        return factor.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        n = V.shape[-1]
        diag_V = F.stack([V[..., i, i] for i in range(n)], -1)
        return self._df_matrix() * (V ** 2 + diag_V.unsqueeze(-1) * diag_V.unsqueeze(-2))

    def rsample(self, sample_shape=Size(), max_try_correction=None):
        """Bartlett's decomposition: X = (L A)(L A)ᵀ, A lower triangular with √χ² diagonal and
        N(0, 1) below it (singular samples are not redrawn, unlike torch)."""
        sample_shape = Size(sample_shape)
        p = self._event_shape[-1]
        tiny = float(np.finfo(self.df._data.dtype).eps)
        diag = F.sqrt(self._dist_chi2.rsample(sample_shape)).clamp(min=tiny)
        shape = tuple(sample_shape) + tuple(self._batch_shape) + (p, p)
        below = np.tril(numpy_rng().standard_normal(shape), -1).astype(self.df._data.dtype)
        eye = wrap(np.eye(p, dtype=self.df._data.dtype))
        noise = eye * diag.unsqueeze(-2) + wrap(below)
        chol = F.matmul(self._unbroadcasted_scale_tril, noise)
        return F.matmul(chol, chol.transpose(-2, -1))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        logdet_value = 2 * half_log_det(cholesky(value))
        trace = (inverse_from_cholesky(L) * value.transpose(-2, -1)).sum(-1).sum(-1)
        return (-nu * (p * _LOG_2 / 2 + half_log_det(L)) - mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * logdet_value - trace / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        return ((p + 1) * (p * _LOG_2 / 2 + half_log_det(self._unbroadcasted_scale_tril))
                + mvlgamma(nu / 2, p) - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)
