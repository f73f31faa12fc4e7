"""torch.distributions.dirichlet: Dirichlet (defined in continuous.py)."""
from .continuous import Dirichlet

__all__ = ["Dirichlet"]
