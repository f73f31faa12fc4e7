"""torch.distributions.logistic_normal: LogisticNormal (defined in transformed_distribution.py)."""
from .transformed_distribution import LogisticNormal

__all__ = ["LogisticNormal"]
