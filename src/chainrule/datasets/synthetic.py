"""Synthetic datasets made with NumPy alone: two moons, spirals, linear regression.

Every maker takes ``seed``: an int gives the same data every time; ``None`` (the default) draws
from chainrule's global generator, so ``chainrule.manual_seed(...)`` fixes it too.  ``noise`` is
the standard deviation of Gaussian noise (added to each coordinate for moons and spirals, to the
target for regression).  Features are float32; class labels int64, regression targets float32.
"""
import math

import numpy as np

from .. import creation
from ..creation import from_numpy
from ..utils.data import TensorDataset


def _rng(seed):
    if seed is None:
        return creation.numpy_rng(None)
    # a negative seed is taken modulo 2**64, as torch.manual_seed takes it (NumPy refuses it)
    return np.random.default_rng(seed % 2**64 if isinstance(seed, int) else seed)


def _check_n(n_samples, name, at_least=1):
    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < at_least:
        raise ValueError(f"{name}: n_samples must be an int >= {at_least}, got {n_samples!r}")


def _finish(X, y, rng, shuffle, as_dataset, y_dtype=np.int64):
    if shuffle:
        p = rng.permutation(len(X))
        X, y = X[p], y[p]
    X = from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    y = from_numpy(np.ascontiguousarray(y, dtype=y_dtype))
    return TensorDataset(X, y) if as_dataset else (X, y)


def make_moons(n_samples=100, *, noise=0.0, seed=None, shuffle=True, as_dataset=False):
    """Two interleaving half circles (scikit-learn's shape): X (n, 2) float32, y (n,) int64.

    Class 0 is the upper arc (``n_samples // 2`` points), class 1 the lower one.

    >>> X, y = make_moons(200, noise=0.1, seed=0)
    >>> tuple(X.shape), y.sum().item()
    ((200, 2), 100)
    """
    _check_n(n_samples, "make_moons", 2)
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _finish(X, y, rng, shuffle, as_dataset)


def make_spirals(n_samples=100, *, n_classes=2, turns=1.0, noise=0.0, seed=None, shuffle=True,
                 as_dataset=False):
    """Interleaved spiral arms, one per class: X (n, 2) float32 in about [-1, 1], y (n,) int64.

    Arm ``k`` has radius growing from 0 to 1 over ``turns`` turns, rotated by 2πk/n_classes;
    samples are shared out as evenly as possible (earlier classes get the extra ones).

    >>> X, y = make_spirals(300, n_classes=3, noise=0.05, seed=0)
    >>> tuple(X.shape), (y == 2).sum().item()
    ((300, 2), 100)
    """
    if not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"make_spirals: n_classes must be a positive int, got {n_classes!r}")
    _check_n(n_samples, "make_spirals", n_classes)
    rng = _rng(seed)
    Xs, ys = [], []
    for k in range(n_classes):
        n_k = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        r = np.linspace(0.0, 1.0, n_k)
        theta = 2 * math.pi * (turns * r + k / n_classes)
        Xs.append(np.stack([r * np.cos(theta), r * np.sin(theta)], 1))
        ys.append(np.full(n_k, k, np.int64))
    X, y = np.concatenate(Xs), np.concatenate(ys)
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _finish(X, y, rng, shuffle, as_dataset)


def make_regression(n_samples=100, n_features=1, *, noise=0.0, bias=0.0, coef=False, seed=None,
                    as_dataset=False):
    """A linear target: ``y = X @ w + bias + noise · N(0, 1)``, with X and w standard normal.

    X is (n, n_features) float32, y is (n,) float32 (``y.unsqueeze(1)`` to compare with a
    ``Linear(n_features, 1)`` output).  ``coef=True`` also returns the true ``w``
    (n_features,), as ``(X, y, w)`` (scikit-learn's draws ``w`` from [0, 100) instead).

    >>> X, y, w = make_regression(50, 3, noise=0.1, coef=True, seed=0)
    >>> tuple(X.shape), tuple(y.shape), tuple(w.shape)
    ((50, 3), (50,), (3,))
    """
    _check_n(n_samples, "make_regression")
    if not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"make_regression: n_features must be a positive int, "
                         f"got {n_features!r}")
    rng = _rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features)
    y = X @ w + bias
    if noise:
        y = y + rng.normal(0.0, noise, n_samples)
    out = _finish(X, y, rng, False, as_dataset, np.float32)
    if not coef:
        return out
    w = from_numpy(w.astype(np.float32))
    return (out, w) if as_dataset else (*out, w)
