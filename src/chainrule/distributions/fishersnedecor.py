"""torch.distributions.fishersnedecor: FisherSnedecor (defined in extra.py)."""
from .extra import FisherSnedecor

__all__ = ["FisherSnedecor"]
