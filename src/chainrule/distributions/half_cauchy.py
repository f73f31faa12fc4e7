"""torch.distributions.half_cauchy: HalfCauchy (defined in transformed_distribution.py)."""
from .transformed_distribution import HalfCauchy

__all__ = ["HalfCauchy"]
