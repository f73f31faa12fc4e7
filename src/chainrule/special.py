"""``chainrule.special``: torch.special's names.

>>> import chainrule
>>> chainrule.special.gammaln(chainrule.tensor([1.0, 5.0]))
tensor([0.0000, 3.1781])

Most are the functions of ``functional/special.py`` under torch.special's names (``gammaln`` is
``lgamma``, ``psi`` ``digamma``, ``gammainc`` ``igamma``, ``expit`` ``sigmoid``, ...); the rest
are chainrule's own functions (``exp2``, ``softmax``, ``logsumexp``, ...) under this namespace
too.  The Bessel functions and orthogonal polynomials record no gradient, as in torch.
"""
from .functional import (digamma, entr, erf, erfc, erfcx, erfinv, exp2, expm1, i0, i0e, i1, i1e,
                         log1p, log_ndtr, log_softmax, logit, logsumexp, ndtr, ndtri, polygamma,
                         round, sinc, softmax, xlog1py, xlogy, zeta)
from .functional.special import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1,
                                 chebyshev_polynomial_t, chebyshev_polynomial_u,
                                 chebyshev_polynomial_v, chebyshev_polynomial_w,
                                 hermite_polynomial_h, hermite_polynomial_he,
                                 laguerre_polynomial_l, legendre_polynomial_p,
                                 modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
                                 modified_bessel_k1, scaled_modified_bessel_k0,
                                 scaled_modified_bessel_k1, shifted_chebyshev_polynomial_t,
                                 shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
                                 shifted_chebyshev_polynomial_w, spherical_bessel_j0)
from .functional import igamma as gammainc
from .functional import igammac as gammaincc
from .functional import lgamma as gammaln
from .functional import mvlgamma as multigammaln
from .functional import sigmoid as expit
from .functional import digamma as psi

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv",
           "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "hermite_polynomial_h",
           "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
           "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc",
           "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]
