"""NumPy forward references for the primitives of nn's linear layers (read by test_registry)."""
import numpy as np


def _linear(x, w, b=None):
    out = np.einsum("...i,oi->...o", x, w)
    return out if b is None else out + b


def _embedding(w, indices, scale=None):
    return np.stack([w[i] for i in np.asarray(indices).reshape(-1)]).reshape(
        np.shape(indices) + (w.shape[1],))


REFERENCES = {"linear": _linear, "embedding": _embedding}
