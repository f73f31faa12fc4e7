"""torch.distributions.weibull: Weibull (defined in transformed_distribution.py)."""
from .transformed_distribution import Weibull

__all__ = ["Weibull"]
