"""Small real datasets: the digits ship with chainrule; the others are read from the copies
bundled with scikit-learn (nothing is downloaded)."""
import os

import numpy as np

from .. import dtypes as D
from ..creation import from_numpy
from ..utils.data import TensorDataset


def _sklearn_loader(name):
    try:
        from sklearn import datasets as skd
    except ImportError:
        raise ImportError(f"chainrule.datasets.{name}() reads the copy of the data bundled with "
                          'scikit-learn, which is not installed: pip install "chainrule[data]"'
                          ) from None
    return getattr(skd, name)


def _load(name, target_dtype, as_dataset):
    X, y = _sklearn_loader(name)(return_X_y=True)
    X = from_numpy(X.astype(D.float32.np))
    y = from_numpy(y.astype(target_dtype.np))
    return TensorDataset(X, y) if as_dataset else (X, y)


# digits.npz: scikit-learn's copy (BSD-3-Clause, (c) the scikit-learn developers) of the test set
# of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak, 1998;
# UCI Machine Learning Repository, CC BY 4.0), stored as uint8: 1797 images of 8x8 pixel counts
# in 0..16, and their labels.  45 KB, so the tour and `chainrule train digits-mlp` need only NumPy.
_DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.npz")


def load_digits(*, as_dataset=False):
    """8×8 images of handwritten digits: X (1797, 64) float32 in [0, 16], y (1797,) int64 in 0..9.

    The data ship with chainrule (scikit-learn's copy of the UCI digits), so this needs only
    NumPy.  ``as_dataset=True`` returns ``TensorDataset(X, y)`` instead of ``(X, y)``.

    >>> X, y = load_digits()
    >>> tuple(X.shape), y[:3]
    ((1797, 64), tensor([0, 1, 2]))
    """
    with np.load(_DIGITS, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    X = from_numpy(images.astype(D.float32.np))
    y = from_numpy(labels.astype(D.int64.np))
    return TensorDataset(X, y) if as_dataset else (X, y)


def load_iris(*, as_dataset=False):
    """Iris flowers: X (150, 4) float32 (sepal/petal length and width, cm), y (150,) int64 in 0..2.

    >>> X, y = load_iris()
    >>> tuple(X.shape), y.max().item()
    ((150, 4), 2)
    """
    return _load("load_iris", D.int64, as_dataset)


def load_breast_cancer(*, as_dataset=False):
    """Wisconsin breast cancer: X (569, 30) float32 (unscaled), y (569,) int64 (0 malignant).

    >>> X, y = load_breast_cancer()
    >>> tuple(X.shape)
    (569, 30)
    """
    return _load("load_breast_cancer", D.int64, as_dataset)


def load_wine(*, as_dataset=False):
    """Wine cultivars: X (178, 13) float32 (chemical analysis, unscaled), y (178,) int64 in 0..2.

    >>> X, y = load_wine()
    >>> tuple(X.shape)
    (178, 13)
    """
    return _load("load_wine", D.int64, as_dataset)


def load_diabetes(*, as_dataset=False):
    """Diabetes progression (regression): X (442, 10) float32 (centred, scaled), y (442,) float32.

    ``y`` is 1-D; a model ending in ``Linear(..., 1)`` outputs (N, 1): compare it with
    ``y.unsqueeze(1)``.

    >>> X, y = load_diabetes()
    >>> y.dtype
    chainrule.float32
    """
    return _load("load_diabetes", D.float32, as_dataset)
