"""torch.distributions.relaxed_bernoulli: RelaxedBernoulli, LogitRelaxedBernoulli (defined in transformed_distribution.py)."""
from .transformed_distribution import RelaxedBernoulli, LogitRelaxedBernoulli

__all__ = ["RelaxedBernoulli", "LogitRelaxedBernoulli"]
