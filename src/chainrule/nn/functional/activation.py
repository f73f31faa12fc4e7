"""Activation functions: relu, gelu, softplus, softmax, ..."""

__all__ = []
