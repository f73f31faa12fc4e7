"""Loss functions: mse_loss, cross_entropy, ..."""

__all__ = []
