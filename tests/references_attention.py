"""NumPy forward reference for the attention primitive (read by test_registry): written out
one query row at a time, independently of ops/nn.py's vectorised kernel."""
import numpy as np


def _sdpa(q, k, v, mask=None, scale=1.0, masked=None, drop=None, weights=False):
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    L, S = q.shape[-2], k.shape[-2]
    q = np.broadcast_to(q, batch + q.shape[-2:])
    k = np.broadcast_to(k, batch + k.shape[-2:])
    v = np.broadcast_to(v, batch + v.shape[-2:])
    bias = np.zeros(batch + (L, S))
    if mask is not None:
        bias = bias + mask
    if masked is not None:
        bias = np.where(masked, -np.inf, bias)
    drop = np.ones(batch + (L, S)) if drop is None else np.broadcast_to(drop, batch + (L, S))
    out = np.zeros(batch + (L, v.shape[-1]))
    for b in np.ndindex(*batch):
        for i in range(L):
            scores = [float(np.dot(q[b][i], k[b][j])) * scale + bias[b][i, j] for j in range(S)]
            finite = [s for s in scores if s != -np.inf]
            if not finite:
                continue                  # every key masked out: a zero row (torch's rule)
            top = max(finite)
            e = [np.exp(s - top) if s != -np.inf else 0.0 for s in scores]
            total = sum(e)
            for j in range(S):
                out[b][i] += e[j] / total * drop[b][i, j] * v[b][j]
    return out.astype(q.dtype)


REFERENCES = {"scaled_dot_product_attention": _sdpa}
