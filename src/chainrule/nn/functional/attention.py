"""scaled_dot_product_attention and multi_head_attention_forward, as ``torch.nn.functional``'s.

``scaled_dot_product_attention`` checks its arguments as torch does, turns a bool mask and
``is_causal`` into one "masked" array and the dropout into a scaled mask, and runs the one
primitive ``ops.scaled_dot_product_attention`` (fused forward, hand-written backward: see
``ops/nn.py`` for why it is a primitive).  ``multi_head_attention_forward`` is torch's function,
line for line: projections, head split, mask merging, then either the primitive
(``need_weights=False``) or, when the weights are wanted, the explicit softmax path torch takes.
"""
import math
import warnings

from ... import dtypes as D
from ... import functional as _f
from ... import ops
from ..._backend import xp
from ...backends import cuda as _flags
from ...creation import numpy_rng
from ...functional._args import tensor_arg
from ...grad_mode import is_grad_enabled
from ..attention.bias import CausalBias
from ...tensor import Tensor, apply, wrap
from .linear import dropout, linear
from .padding import pad

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _c10(a):
    """a's dtype as torch's C++ checks print it (float, double, c10::Half, long int)"""
    return D.CPP_NAMES.get(a.dtype.name, a.dtype.name)


def _node_name(q, k, v, float_mask, dropout_p, enable_gqa):
    """The node torch's CPU dispatch leaves: its flash kernel for batched 4-d inputs of one
    batch size without a float mask or dropout, its math path (a view of a bmm) otherwise."""
    if q.ndim == k.ndim == v.ndim == 4 and not float_mask and dropout_p == 0 and \
            q.shape[0] == k.shape[0] == v.shape[0] and \
            (q.shape[1] == k.shape[1] == v.shape[1] or (enable_gqa and k.shape[1] > 1)):
        return "ScaledDotProductFlashAttentionForCpuBackward0"
    return "MmBackward0" if q.ndim == 2 else "UnsafeViewBackward0"


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, *, scale=None, enable_gqa=False):
    """softmax(query·keyᵀ·scale + mask)·value, over the last two dims of (..., L, E), (..., S, E)
    and (..., S, Ev) tensors.

    ``attn_mask``: bool (True takes part) or float (added to the scores), broadcast to
    (..., L, S); ``is_causal``: query i sees keys j ≤ i; ``scale`` defaults to 1/√E;
    ``enable_gqa``: key and value may have fewer heads (dim -3) than query, repeated to match.
    A row with every key masked out gives zeros, as torch.

    >>> q, k = chainrule.ones(1, 1, 3), chainrule.ones(1, 2, 3)
    >>> v = chainrule.arange(6.0).reshape(1, 2, 3)
    >>> chainrule.nn.functional.scaled_dot_product_attention(q, k, v)
    tensor([[[1.5000, 2.5000, 3.5000]]])
    """
    if isinstance(attn_mask, CausalBias):      # nn.attention.bias's masks, as torch's
        return attn_mask._dispatch(query, key, value, attn_mask, dropout_p, is_causal,
                                   scale=scale, enable_gqa=enable_gqa)
    q, k, v = tensor_arg(query), tensor_arg(key), tensor_arg(value)
    qa, ka, va = q._data, k._data, v._data
    if not (_flags.math_sdp_enabled() or _flags.flash_sdp_enabled()):
        # the two backends torch runs on a CPU (nn.attention.sdpa_kernel switches them)
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")
    if qa.ndim < 2 or ka.ndim < 2 or va.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {qa.ndim} key.dim: {ka.ndim} and value.dim: "
                           f"{va.ndim} instead.")
    if not (qa.dtype == ka.dtype == va.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_c10(qa)} key.dtype: {_c10(ka)} and value.dtype: "
                           f"{_c10(va)} instead.")
    if qa.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must be "
                           f"floating point, got {D.of(qa)} (convert them with .float())")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    mask = None if attn_mask is None else tensor_arg(attn_mask)
    if mask is not None:
        ma = mask._data
        if ma.dtype != xp.bool_ and ma.dtype != xp.float32 and ma.dtype != qa.dtype:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {_c10(ma)} and  query.dtype: "
                               f"{_c10(qa)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
    L, E = qa.shape[-2:]
    S = ka.shape[-2]
    if ka.shape[-1] != E:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same "
                           f"embedding size (last dim), got query {list(qa.shape)} and key "
                           f"{list(ka.shape)}")
    if va.shape[-2] != S:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same "
                           f"sequence length (dim -2), got key {list(ka.shape)} and value "
                           f"{list(va.shape)}")
    name = _node_name(qa, ka, va, mask is not None and mask._data.dtype != xp.bool_, dropout_p,
                      enable_gqa)
    if enable_gqa:
        k, v = _repeat_heads(q, k, "key"), _repeat_heads(q, v, "value")
    batch = _broadcast_batch(q, k, v)
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else 1.0      # E = 0: every score is 0 anyway
    masked = None
    inputs = (q, k, v, 0.0)           # 0.0: no float mask (see ops/nn.py)
    if is_causal:
        masked = xp.triu(xp.ones((L, S), dtype=xp.bool_), 1)
    if mask is not None:
        _check_mask_shape(mask._data.shape, batch + (L, S))
        if mask._data.dtype == xp.bool_:
            masked = xp.logical_not(mask._data)
        else:
            inputs = (q, k, v, mask)
    drop = None
    if dropout_p > 0.0:
        drop = _dropout_scale(batch + (L, S), dropout_p, qa.dtype)
    # keep the weights for backward only when there will be one
    weights = is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad
                                        for t in inputs)
    return apply(ops.scaled_dot_product_attention, inputs,
                 {"scale": float(scale), "masked": masked, "drop": drop, "weights": weights},
                 name=name)


def _repeat_heads(q, t, what):
    """GQA: ``t``'s heads (dim -3) repeated so that there are as many as ``q``'s."""
    if q.ndim < 3 or t.ndim < 3:
        raise IndexError("Dimension out of range (expected to be in range of [-2, 1], but got "
                         "-3) (enable_gqa splits heads along dim -3: give (..., H, L, E) "
                         "inputs)")
    hq, ht = q.shape[-3], t.shape[-3]
    if hq == ht:
        return t
    if ht == 0 or hq % ht:
        raise RuntimeError(f"Number of heads in key and value must divide the number of heads "
                           f"in query (query has {hq} heads, {what} has {ht})")
    return _f.repeat_interleave(t, hq // ht, dim=-3)


def _broadcast_batch(q, k, v):
    try:
        return tuple(xp.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
    except ValueError:
        pass
    n = max(q.ndim, k.ndim, v.ndim)
    for other in (k, v):
        a = (1,) * (n - q.ndim) + tuple(q.shape)
        b = (1,) * (n - other.ndim) + tuple(other.shape)
        for d in range(n - 3, -1, -1):
            if a[d] != b[d] and a[d] != 1 and b[d] != 1:
                raise RuntimeError(
                    f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at "
                    f"non-singleton dimension {d} (scaled_dot_product_attention: the batch dims "
                    f"of query {list(q.shape)}, key {list(k.shape)} and value {list(v.shape)} "
                    "must be equal or 1; for fewer key/value heads pass enable_gqa=True)")
    raise RuntimeError(f"scaled_dot_product_attention: the batch dims of key {list(k.shape)} "
                       f"and value {list(v.shape)} do not broadcast")


def _check_mask_shape(mshape, target):
    n = max(len(mshape), len(target))
    a = (1,) * (n - len(mshape)) + tuple(mshape)
    b = (1,) * (n - len(target)) + tuple(target)
    for d in range(n - 1, -1, -1):
        if a[d] != b[d] and a[d] != 1 and b[d] != 1:
            raise RuntimeError(f"The size of tensor a ({b[d]}) must match the size of tensor b "
                               f"({a[d]}) at non-singleton dimension {d} (attn_mask of shape "
                               f"{list(mshape)} must broadcast to the attention weights' shape "
                               f"{list(target)})")


def _dropout_scale(shape, p, dtype):
    """The dropout multiplier: 1/(1 - p) where kept, 0 where dropped (all 0 when p = 1)."""
    dt = xp.float32 if dtype == xp.float16 else dtype
    if p == 1.0:
        return xp.zeros(shape, dt)
    keep = numpy_rng().random(shape, dtype=dt) >= p
    return keep.astype(dt) * dt.type(1.0 / (1.0 - p))


# =========================================================================================
# multi_head_attention_forward and the mask helpers MultiheadAttention and the Transformer
# layers share (torch's F._canonical_mask and F._none_or_dtype; public here, not in __all__,
# so that nn/modules/transformer.py may use them)
# =========================================================================================

def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """torch's ``_canonical_mask``: a bool mask becomes a float one (-inf where True); warns
    when its dtype differs from the other mask's."""
    if mask is None:
        return None
    mask = tensor_arg(mask)
    kind = mask._data.dtype.kind
    if kind != "b" and kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if kind == "b":
        dt = D.to_dtype(target_type).np
        return wrap(xp.where(mask._data, dt.type(-math.inf), dt.type(0)))
    return mask


def none_or_dtype(input):
    """torch's ``_none_or_dtype``."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     "instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _in_projection_packed(q, k, v, w, b=None):
    E = q.shape[-1]
    if k is v:
        if q is k:          # self-attention: one projection, split in three
            proj = linear(q, w, b).unflatten(-1, (3, E))
            return proj[..., 0, :], proj[..., 1, :], proj[..., 2, :]
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = linear(k, w_kv, b_kv).unflatten(-1, (2, E))
        return linear(q, w_q, b_q), kv[..., 0, :], kv[..., 1, :]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    Eq, Ek, Ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for w, want, what in ((w_q, (Eq, Eq), "query"), (w_k, (Eq, Ek), "key"),
                          (w_v, (Eq, Ev), "value")):
        if tuple(w.shape) != want:
            raise AssertionError(f"expecting {what} weights shape of {want}, but got {w.shape}")
    for b, what in ((b_q, "query"), (b_k, "key"), (b_v, "value")):
        if b is not None and tuple(b.shape) != (Eq,):
            raise AssertionError(f"expecting {what} bias shape of {(Eq,)}, but got {b.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """MultiheadAttention's computation on (L, N, E) query and (S, N, E) key/value (or
    unbatched (L, E), (S, E)): returns ``(attn_output, attn_weights or None)``.

    >>> E = 4
    >>> x = chainrule.ones(3, 1, E)
    >>> w, b = chainrule.eye(E).repeat(3, 1), chainrule.zeros(3 * E)
    >>> out, weights = chainrule.nn.functional.multi_head_attention_forward(
    ...     x, x, x, E, 2, w, b, None, None, False, 0.0, chainrule.eye(E), None)
    >>> out.shape, weights.shape
    (chainrule.Size([3, 1, 4]), chainrule.Size([1, 3, 3]))
    """
    query, key, value = tensor_arg(query), tensor_arg(key), tensor_arg(value)
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask",
                                      none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None        # the hint alone goes to scaled_dot_product_attention
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                   check_other=False)
        if key_padding_mask is not None:
            is_causal = False   # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for w, what in ((q_proj_weight, "q"), (k_proj_weight, "k"), (v_proj_weight, "v")):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {what}_proj_weight "
                                     "is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _f.cat([k, bias_k.repeat(1, bsz, 1)])
        v = _f.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        _check_static(static_k, "static_k", bsz * num_heads, head_dim)
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        _check_static(static_v, "static_v", bsz * num_heads, head_dim)
        v = static_v

    if add_zero_attn:
        k = _f.cat([k, _zeros(k, (bsz * num_heads, 1, head_dim))], dim=1)
        v = _f.cat([v, _zeros(v, (bsz * num_heads, 1, head_dim))], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        # torch's explicit path: the weights themselves are an output (a plain softmax, so a row
        # with every key masked out is NaN here, as in torch)
        E = q.shape[-1]
        q_scaled = q * math.sqrt(1.0 / float(E))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = _f.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = _f.bmm(q_scaled, k.transpose(-2, -1))
        weights = _f.softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = _f.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias)
        out = out.reshape(tgt_len, bsz, out.shape[1])
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape(tgt_len, bsz, out.shape[1])
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _check_static(t, name, rows, head_dim):
    if t.shape[0] != rows:
        raise AssertionError(f"expecting {name}.size(0) of {rows}, but got {t.shape[0]}")
    if t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.shape[2]}")


def _zeros(like, shape):
    return wrap(xp.zeros(shape, dtype=like._data.dtype))
