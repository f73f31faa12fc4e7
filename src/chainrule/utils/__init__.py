"""Utilities: chainrule.utils.data."""

__all__ = []
from . import data  # noqa: F401
