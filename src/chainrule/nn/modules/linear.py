"""Linear, Bilinear and Identity layers."""

__all__ = []
