"""Padding (issue #13): ``pad`` and ``constant_pad_nd``, composed from ``narrow``, ``cat`` and
``index_select`` (index arrays built in NumPy), so first and second derivatives come from those
ops' rules."""
import numpy as np

from ... import creation as _c
from ... import functional as _f

__all__ = ["pad", "constant_pad_nd"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_tuple(pad, name="pad"):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"{name}(): argument 'pad' (position 2) must be tuple of ints, but found "
                        f"{type(pad).__name__}")
    out = []
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"{name}(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(p).__name__} at pos {i}")
        out.append(int(p))
    if len(out) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    return out


def constant_pad_nd(input, pad, value=0):
    """Pad (or, with negative entries, crop) the last ``len(pad)//2`` dims with ``value``:
    ``pad = (left_last, right_last, left_second_last, ...)``."""
    pad = _pad_tuple(pad, "constant_pad_nd")
    nd = input.dim()
    if len(pad) // 2 > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{nd}")
    x = input
    for k in range(len(pad) // 2):
        d = nd - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        n = x.shape[d]
        if left < 0 or right < 0:
            start = -left if left < 0 else 0
            length = n - start - (-right if right < 0 else 0)
            if length < 0:
                raise RuntimeError(f"constant_pad_nd: the padding {tuple(pad)} crops dimension "
                                   f"{d} of size {n} to a negative size; crop less")
            x = _f.narrow(x, d, start, length)
        parts = []
        if left > 0:
            shape = list(x.shape)
            shape[d] = left
            parts.append(_c.full(shape, value, dtype=x.dtype))
        parts.append(x)
        if right > 0:
            shape = list(x.shape)
            shape[d] = right
            parts.append(_c.full(shape, value, dtype=x.dtype))
        if len(parts) > 1:
            x = _f.cat(parts, d)
    if x is input:
        x = _f.clone(input)
    return x


def _source_index(n, left, right, mode):
    p = np.arange(-left, n + right, dtype=np.int64)
    if mode == "reflect":
        p = np.abs(p)
        p = np.where(p > n - 1, 2 * (n - 1) - p, p)
    elif mode == "replicate":
        p = np.clip(p, 0, n - 1)
    else:
        # torch crops first, then wraps around the cropped part
        c0 = max(-left, 0)
        m = n - c0 - max(-right, 0)
        if m <= 0:
            raise RuntimeError(f"pad: circular padding ({left}, {right}) crops a dimension of "
                               f"size {n} to nothing; crop less")
        p = np.mod(p - c0, m) + c0
    return p


def pad(input, pad, mode="constant", value=None):
    """Pad ``input``: ``pad = (left, right)`` pairs starting from the last dim; ``mode`` is
    ``constant`` (fill with ``value``, negative pads crop), ``reflect`` (mirror without the edge),
    ``replicate`` (repeat the edge) or ``circular`` (wrap around)."""
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pads = _pad_tuple(pad)
    if mode == "constant":
        return constant_pad_nd(input, pads, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    nd = input.dim()
    k = len(pads) // 2
    if not (1 <= k <= 3 and nd in (k + 1, k + 2)):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    shape = tuple(input.shape)
    if mode in ("reflect", "replicate"):
        batched = nd == k + 2
        if any(s == 0 for s in shape[1 if batched else 0:]):
            which = {1: "2D or 3D", 2: "3D or 4D", 3: "4D or 5D"}[k]
            raise RuntimeError(f"Expected {which} (batch mode) tensor with possibly 0 batch size "
                               f"and other non-zero dimensions for input, but got: "
                               f"{list(shape)}")
    x = input
    for j in range(k):
        d = nd - 1 - j
        left, right = pads[2 * j], pads[2 * j + 1]
        n = shape[d]
        if mode == "reflect" and (left >= n or right >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({left}, {right}) at "
                               f"dimension {d} of input {list(shape)}")
        if mode == "circular" and (left > n or right > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + left + right < 0:
            raise RuntimeError(f"pad: the padding ({left}, {right}) crops dimension {d} of size "
                               f"{n} to a negative size; crop less")
        idx = _source_index(n, left, right, mode)
        x = _f.index_select(x, d, _c.tensor(idx))
    return x
