"""Flatten."""

__all__ = []
