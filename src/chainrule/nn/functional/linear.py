"""linear, bilinear, embedding, dropout."""

__all__ = []
