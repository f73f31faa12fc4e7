"""embedding_bag, as ``torch.nn.functional``'s, and torch's ``embedding_renorm_``.

A composite: the bag members' rows are looked up with ``embedding`` (which carries
``scale_grad_by_freq``), weighted by ``per_sample_weights``, and summed per bag with
``index_add``; ``mean`` divides by the number of members that are not ``padding_idx``; ``max``
finds each bag's maximum per feature in NumPy (the first one on ties, as torch) and gathers it
from the weight, so the gradient flows to that row only.
"""
import warnings

from ... import creation
from ... import dtypes as D
from ..._backend import xp
from ...functional.indexing import gather, index_add
from ...functional._args import tensor_arg
from ...grad_mode import graph_break, no_grad, read_by_reference
from ...tensor import Tensor, wrap
from .linear import embedding

__all__ = ["embedding_bag"]


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rows of the weight ``input`` named in ``indices`` whose ``norm_type``-norm exceeds
    ``max_norm`` are scaled (in place, outside autograd) to norm max_norm/(norm + 1e-7)·norm.

    >>> w = chainrule.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> chainrule.embedding_renorm_(w, chainrule.tensor([0, 1]), 1.0, 2.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    w = tensor_arg(input, "embedding_renorm_")
    graph_break("embedding_renorm_ (it rescales the weight's rows in place)")
    idx = xp.unique(tensor_arg(indices, "embedding_renorm_")._data.reshape(-1))
    with no_grad():
        data = w._data
        sel = data[idx]
        norms = xp.sum(xp.abs(sel.astype(xp.float64)) ** norm_type, axis=1) ** (1.0 / norm_type)
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + 1e-7)).astype(data.dtype)
            data[idx[big]] = sel[big] * scale[:, None]
            w._vc[0] += 1
    return w


def _type_name(t):
    return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
            "float16": "torch.HalfTensor"}.get(t._data.dtype.name, D.of(t._data))


def _bags(input, offsets, include_last_offset, n_weight):
    """The 1-d indices, the bag of each, and the number of bags."""
    idx = input._data
    if idx.dtype.kind not in "iu" or idx.dtype.itemsize < 4:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{_type_name(input)} instead (while checking arguments for "
                           "embedding_bag)")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets)}")
        b, length = idx.shape
        bag = xp.repeat(xp.arange(b), length)
        return idx.reshape(-1), bag, b
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = tensor_arg(offsets, "embedding_bag")
    if off.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if off._data.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{_type_name(off)} instead (while checking arguments for "
                           "embedding_bag; here the offsets)")
    read_by_reference(off)
    o = off._data.astype(xp.int64)
    n = idx.shape[0]
    if o.size and o[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {o[0]}")
    if o.size and o[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {o[-1]}")
    if o.size and (xp.diff(o) < 0).any():
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got {o.tolist()}")
    if include_last_offset:
        nbags = max(o.size - 1, 0)
        end = o[-1] if o.size else 0
    else:
        nbags = o.size
        end = n
    pos = xp.arange(n)
    bag = xp.searchsorted(o[:nbags], pos, side="right") - 1 if nbags else xp.full(n, -1)
    bag = xp.where(pos < end, bag, -1)          # past the last bag: in no bag
    return idx, bag, nbags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows: bag b holds input[offsets[b] :
    offsets[b + 1]] (1-d input) or the row input[b] (2-d input, offsets None).

    >>> w = chainrule.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    >>> x, offsets = chainrule.tensor([0, 1, 2]), chainrule.tensor([0, 2])
    >>> chainrule.nn.functional.embedding_bag(x, w, offsets, mode="sum")
    tensor([[1., 1.],
            [2., 2.]])
    """
    return embedding_bag_parts(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq,
                               mode, sparse, per_sample_weights, include_last_offset,
                               padding_idx, stacklevel=3)[0]


def embedding_bag_parts(input, weight, offsets=None, max_norm=None, norm_type=2,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        per_sample_weights=None, include_last_offset=False, padding_idx=None,
                        stacklevel=2):
    """embedding_bag's result and torch.embedding_bag's three integer side outputs
    (offset2bag, bag_size, max_indices), as torch's CPU kernel fills them for each mode."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("embedding_bag(): input and weight must be Tensors")
    if weight._data.dtype.kind in "iu" and input._data.dtype.kind == "f":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=stacklevel)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    idx, bag, nbags = _bags(input, offsets, include_last_offset, weight.shape[0])
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if sparse:
        raise NotImplementedError("embedding_bag(sparse=True): chainrule has no sparse tensors; "
                                  "leave sparse=False (gradients are dense)")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        k = int(xp.argmax((idx < 0) | (idx >= num)))
        raise RuntimeError(f"Index {k} of input takes value {idx[k]} which is not in the valid "
                           f"range [0, {num})")
    if max_norm is not None:
        embedding_renorm_(weight, wrap(idx), max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on GitHub.")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError("Expected tensor for argument #1 'weight' to have the same type as "
                           "tensor for argument #1 'per_sample_weights'; but type "
                           f"{_type_name(weight)} does not equal {_type_name(per_sample_weights)} "
                           "(while checking arguments for embedding_bag)")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} "
                               f"through {num - 1}, but got {padding_idx}")
        padding_idx = padding_idx % num
    keep = bag >= 0
    if padding_idx is not None:
        keep &= idx != padding_idx
    sel = xp.nonzero(keep)[0]
    kidx, kbag = idx[sel], bag[sel]
    dim = weight.shape[1]
    dt = weight._data.dtype
    counts = xp.bincount(kbag, minlength=nbags).astype(xp.int64)
    offset2bag = xp.where(bag >= 0, bag, 0).astype(xp.int64)
    if mode == "max":
        out, rows = _bag_max(weight, kidx, kbag, nbags)
        return out, wrap(offset2bag), wrap(counts), wrap(rows)
    rows = embedding(wrap(kidx.astype(xp.int64)), weight,
                     scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)[wrap(sel)]
        rows = rows * psw.unsqueeze(1)
    out = index_add(creation.zeros((nbags, dim), dtype=weight.dtype), 0, wrap(kbag), rows)
    if mode == "mean":
        out = out / wrap(xp.maximum(counts, 1).astype(dt)[:, None])
        return out, wrap(offset2bag), wrap(counts), wrap(counts.copy())
    zeros = xp.zeros(nbags + (1 if include_last_offset and input.ndim == 1 else 0), xp.int64)
    return out, wrap(offset2bag), wrap(zeros), wrap(zeros.copy())


def _bag_max(weight, kidx, kbag, nbags):
    """out[b, d] = max over bag b of weight[i, d] (zero for empty bags), gathered from weight at
    the first row attaining it."""
    w = weight._data
    dim = w.shape[1]
    vals = w[kidx]                                   # (L, D)
    best = xp.full((nbags, dim), -xp.inf, dtype=xp.float64)
    xp.maximum.at(best, kbag, vals.astype(xp.float64))
    pos = xp.arange(kidx.size)
    hit = vals.astype(xp.float64) == best[kbag]
    first = xp.full((nbags, dim), kidx.size, dtype=xp.int64)
    cand = xp.where(hit, pos[:, None], kidx.size)
    xp.minimum.at(first, kbag, cand)
    filled = first < kidx.size
    rows = xp.where(filled, kidx[xp.minimum(first, max(kidx.size - 1, 0))] if kidx.size
                    else 0, 0)
    rows = rows.astype(xp.int64)
    out = gather(weight, 0, wrap(rows))
    return out * wrap(filled.astype(w.dtype)), rows
