"""Datasets as tensors: the handwritten digits, shipped with chainrule; small real ones from
scikit-learn's bundled copies (iris, breast cancer, wine, diabetes; ``pip install
"chainrule[data]"``); and synthetic ones that need only NumPy (moons, spirals, regression).
Each returns ``(X, y)``, or a ``TensorDataset`` with ``as_dataset=True``."""
from .bundled import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from .synthetic import make_moons, make_regression, make_spirals

__all__ = ["load_breast_cancer", "load_diabetes", "load_digits", "load_iris", "load_wine",
           "make_moons", "make_regression", "make_spirals"]
