"""Utilities: chainrule.utils.data."""

__all__ = []
from . import data  # noqa: F401
from . import checkpoint  # noqa: F401,E402
