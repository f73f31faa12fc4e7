"""torch.distributions.negative_binomial: NegativeBinomial (defined in extra.py)."""
from .extra import NegativeBinomial

__all__ = ["NegativeBinomial"]
