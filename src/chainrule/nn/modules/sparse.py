"""Embedding."""

__all__ = []
