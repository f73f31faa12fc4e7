"""Optimizers with PyTorch's API: SGD, Adam, AdamW, RMSprop, Adagrad, and lr_scheduler."""

__all__ = []
