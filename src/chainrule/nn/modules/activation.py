"""Activation functions as modules: ReLU, GELU, Softmax, ..."""

__all__ = []
