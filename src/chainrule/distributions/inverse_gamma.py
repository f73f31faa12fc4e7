"""torch.distributions.inverse_gamma: InverseGamma (defined in extra.py)."""
from .extra import InverseGamma

__all__ = ["InverseGamma"]
