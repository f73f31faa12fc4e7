"""Dataset, TensorDataset, DataLoader, random_split, Subset."""

__all__ = []
