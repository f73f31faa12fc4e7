"""torch.distributions.half_normal: HalfNormal (defined in transformed_distribution.py)."""
from .transformed_distribution import HalfNormal

__all__ = ["HalfNormal"]
