"""torch.distributions.kumaraswamy: Kumaraswamy (defined in extra.py)."""
from .extra import Kumaraswamy

__all__ = ["Kumaraswamy"]
