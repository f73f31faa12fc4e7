"""NumPy forward references for issue 13's fused primitives (gelu, ...), read by
tests/test_registry.py.  Naive formulas, in float64."""
import math

import numpy as np


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return x * np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)), otypes=[float])(x)


def _ndtr(x):
    return np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)), otypes=[float])(x)


# the functions the fused primitives' formulas name, for tests/test_formulas.py
FORMULA_FUNCTIONS = {
    "Φ": _ndtr,
    "φ": lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi),
    "tanh": np.tanh,
}

def _layer_norm(x, w, b=None, ndim=1, eps=1e-5):
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    sd = np.sqrt(((x - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    return (x - mu) / sd * w + (0 if b is None else b)


def _cross_entropy(x, target, ignore_index=-100, mean=True):
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    kept = target != ignore_index
    picked = np.array([logp[i, t] if k else 0.0 for i, (t, k) in enumerate(zip(target, kept))])
    return -picked.sum() / (kept.sum() if mean else 1)


REFERENCES = {
    "cross_entropy": _cross_entropy,
    "gelu": _gelu,
    "layer_norm": _layer_norm,
}
