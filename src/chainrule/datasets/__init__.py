"""Real datasets that ship with scikit-learn (digits, iris, ...) and synthetic ones."""

__all__ = []
