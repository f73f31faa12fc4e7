"""torch.distributions.relaxed_categorical: RelaxedOneHotCategorical, ExpRelaxedCategorical (defined in transformed_distribution.py)."""
from .transformed_distribution import RelaxedOneHotCategorical, ExpRelaxedCategorical

__all__ = ["RelaxedOneHotCategorical", "ExpRelaxedCategorical"]
