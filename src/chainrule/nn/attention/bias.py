"""``chainrule.nn.attention.bias``: causal masks that ``scaled_dot_product_attention`` reads
without materialising, as torch's (``causal_upper_left``, ``causal_lower_right``).

torch's ``CausalBias`` is a Tensor subclass that intercepts ``scaled_dot_product_attention``
through ``__torch_function__``; here it is a small object that the function recognises.
Upper-left (or square) bias runs as ``is_causal=True``; lower-right bias as its materialised
bool mask.
"""
import warnings
from enum import IntEnum, auto

from ..._backend import xp
from ...tensor import wrap

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """Where the causal triangle is anchored: ``UPPER_LEFT`` (query i sees keys j ≤ i) or
    ``LOWER_RIGHT`` (the last query sees every key: keys j ≤ i + S - L)."""

    UPPER_LEFT = auto()
    LOWER_RIGHT = auto()


class CausalBias:
    """A causal attention mask of (seq_len_q, seq_len_kv), kept as its variant and sizes.

    >>> from chainrule.nn.attention.bias import causal_lower_right
    >>> causal_lower_right(2, 3)
    tensor([[ True,  True, False],
            [ True,  True,  True]])
    """

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn("Lower right causal bias will produce NaNs in the output when "
                          "seq_len_q > seq_len_kv!", stacklevel=2)

    def _upper_left(self, device=None):
        return wrap(xp.tril(xp.ones((self.seq_len_q, self.seq_len_kv), dtype=xp.bool_)))

    def _lower_right(self, device=None):
        return wrap(xp.tril(xp.ones((self.seq_len_q, self.seq_len_kv), dtype=xp.bool_),
                            self.seq_len_kv - self.seq_len_q))

    def _materialize(self, device=None):
        """The bool mask (True takes part)."""
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        return self._lower_right(device)

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        """``scaled_dot_product_attention`` with this bias as its mask."""
        from ..functional import scaled_dot_product_attention as sdpa
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if attn_mask.seq_len_q == attn_mask.seq_len_kv or \
                attn_mask.variant == CausalVariant.UPPER_LEFT:
            return sdpa(query, key, value, attn_mask=None, dropout_p=dropout_p, is_causal=True,
                        scale=scale, enable_gqa=enable_gqa)
        if attn_mask.variant == CausalVariant.LOWER_RIGHT:
            return sdpa(query, key, value, attn_mask=attn_mask._materialize(),
                        dropout_p=dropout_p, is_causal=False, scale=scale,
                        enable_gqa=enable_gqa)
        raise ValueError(f"CausalBias.variant must be a CausalVariant type, but found: "
                         f"{attn_mask.variant}")

    def __repr__(self):
        return repr(self._materialize())


def causal_upper_left(*size):
    """The causal bias anchored at the upper left: query i sees keys j ≤ i."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.UPPER_LEFT, seq_len_q, seq_len_kv)


def causal_lower_right(*size):
    """The causal bias anchored at the lower right: query i sees keys j ≤ i + S - L."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
