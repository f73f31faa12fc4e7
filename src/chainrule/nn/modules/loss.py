"""Losses as modules: MSELoss, CrossEntropyLoss, ..."""

__all__ = []
