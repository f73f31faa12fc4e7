"""Small real datasets from the copies bundled with scikit-learn (nothing is downloaded)."""
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


def load_digits(*, as_dataset=False):
    """8×8 images of handwritten digits: X (1797, 64) float32 in [0, 16], y (1797,) int64 in 0..9.

    ``as_dataset=True`` returns ``TensorDataset(X, y)`` instead of ``(X, y)``.

    >>> X, y = load_digits()
    >>> tuple(X.shape), y[:3]
    ((1797, 64), tensor([0, 1, 2]))
    """
    return _load("load_digits", D.int64, as_dataset)


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
