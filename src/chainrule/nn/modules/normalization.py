"""Normalization layers: LayerNorm, BatchNorm1d, BatchNorm2d."""

__all__ = []
