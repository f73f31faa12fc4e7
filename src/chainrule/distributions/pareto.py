"""torch.distributions.pareto: Pareto (defined in transformed_distribution.py)."""
from .transformed_distribution import Pareto

__all__ = ["Pareto"]
