"""NumPy references for the primitives of ops/indexing.py (collected by test_registry.py)."""
import numpy as np


def _scatter_reduce_ref(x, src, index, reduce, include_self=True):
    """Each value of src, one at a time, into a Python list per target position, then reduced."""
    target = np.arange(x.size).reshape(x.shape)[index]      # flat position of each x[index]
    values = np.broadcast_to(src, target.shape)
    groups = {}
    for p, v in zip(target.reshape(-1), values.reshape(-1)):
        groups.setdefault(int(p), []).append(v)
    out = x.copy().reshape(-1)
    for p, vals in groups.items():
        vals = ([out[p]] if include_self else []) + vals
        out[p] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max,
                  "amin": np.min}[reduce](vals)
    return out.reshape(x.shape)


REFERENCES = {
    "scatter_reduce": _scatter_reduce_ref,
}
