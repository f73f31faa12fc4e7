"""NumPy forward references for the primitives of nn.functional's activations and losses
(softplus, log_sigmoid, erf, binary_cross_entropy), read by tests/test_registry.py.
Naive formulas are fine on the entries' sampling domains."""
import math

import numpy as np


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log(1 + np.exp(beta * x)) / beta)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _binary_cross_entropy(x, y):
    return -(y * np.log(x) + (1 - y) * np.log(1 - x))


REFERENCES = {
    "softplus": _softplus,
    "log_sigmoid": lambda x: -np.log(1 + np.exp(-x)),
    "erf": _erf,
    "binary_cross_entropy": _binary_cross_entropy,
}
