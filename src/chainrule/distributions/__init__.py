"""Probability distributions with PyTorch's ``torch.distributions`` API: ``sample``,
``rsample`` (reparameterised: gradients flow to the parameters), ``log_prob``, ``entropy``,
``mean``/``variance``, ``batch_shape``/``event_shape``, ``expand``, constraints and
``validate_args``; transforms, ``TransformedDistribution`` and ``kl_divergence``.

>>> d = chainrule.distributions.Normal(chainrule.tensor(0.0), chainrule.tensor(1.0))
>>> round(d.log_prob(chainrule.tensor(0.0)).item(), 4)
-0.9189
"""
from . import constraint_registry, constraints, kl, transforms, utils
from .constraint_registry import biject_to, transform_to
from .continuous import (Beta, Cauchy, Chi2, ContinuousBernoulli, Dirichlet, Exponential, Gamma,
                         Laplace, Normal, StudentT, Uniform)
from .discrete import (Bernoulli, Binomial, Categorical, Geometric, Multinomial,
                       OneHotCategorical, OneHotCategoricalStraightThrough, Poisson)
from .distribution import Distribution, ExponentialFamily
from .extra import FisherSnedecor, InverseGamma, Kumaraswamy, NegativeBinomial
from .generalized_pareto import GeneralizedPareto
from .independent import Independent
from .lkj_cholesky import LKJCholesky
from .kl import kl_divergence, register_kl
from .mixture_same_family import MixtureSameFamily
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .von_mises import VonMises
from .wishart import Wishart
from .transformed_distribution import (Gumbel, HalfCauchy, HalfNormal, LogisticNormal,
                                       LogNormal, Pareto, RelaxedBernoulli,
                                       RelaxedOneHotCategorical, TransformedDistribution,
                                       Weibull)
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform,
                         CorrCholeskyTransform,
                         CumulativeDistributionTransform, ExpTransform, IndependentTransform,
                         LowerCholeskyTransform, PositiveDefiniteTransform, PowerTransform,
                         ReshapeTransform, SigmoidTransform, SoftmaxTransform,
                         SoftplusTransform, StackTransform, StickBreakingTransform,
                         TanhTransform, Transform, identity_transform)

# torch.distributions.<module> names (torch keeps one file per distribution; here each is a
# module that re-exports its class)
from . import (bernoulli, beta, binomial, categorical, cauchy, chi2,  # noqa: E402
               continuous_bernoulli, dirichlet, distribution, exp_family, exponential,
               fishersnedecor, gamma, generalized_pareto, geometric, gumbel, half_cauchy, half_normal, independent,
               inverse_gamma, kumaraswamy, laplace, lkj_cholesky, log_normal, logistic_normal,
               lowrank_multivariate_normal, von_mises,
               mixture_same_family, multinomial, multivariate_normal, negative_binomial, normal,
               one_hot_categorical, pareto, poisson, relaxed_bernoulli, relaxed_categorical,
               studentT, transformed_distribution, uniform, weibull, wishart)

__all__ = [
    "AbsTransform", "AffineTransform", "CatTransform", "CumulativeDistributionTransform",
    "FisherSnedecor", "InverseGamma", "Kumaraswamy", "LowerCholeskyTransform",
    "NegativeBinomial", "LowRankMultivariateNormal", "VonMises",
    "GeneralizedPareto", "LKJCholesky", "CorrCholeskyTransform", "Wishart", "PositiveDefiniteTransform", "StackTransform", "biject_to",
    "transform_to", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy",
    "Chi2", "ComposeTransform", "ContinuousBernoulli", "Dirichlet", "Distribution",
    "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Geometric", "Gumbel",
    "HalfCauchy", "HalfNormal", "Independent", "IndependentTransform", "Laplace", "LogNormal",
    "LogisticNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal", "Normal",
    "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
    "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical", "ReshapeTransform",
    "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform", "StickBreakingTransform",
    "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "Weibull",
    "identity_transform", "kl_divergence", "register_kl",
]
