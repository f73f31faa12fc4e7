"""The array backend: every array call of the core goes through ``xp``.

Today this is NumPy.  CuPy mirrors NumPy's API, so a GPU backend can replace
``xp`` (and ``DEVICE``) here without touching any op definition.
"""
import numpy as xp

ndarray = xp.ndarray
DEVICE = "cpu"

# The scatter-add that advanced-index gradients need (repeated indices accumulate).
add_at = xp.add.at


def asarray(value, dtype=None):
    """An ndarray (never a NumPy scalar) holding ``value``."""
    return xp.asarray(value, dtype=dtype)


def sum_to(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead == 1 and g.shape[1:] == shape:      # a bias's gradient: summed over the batch
        return g.sum(axis=0)
    axes = broadcast_axes(g.shape, shape)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def broadcast_axes(g_shape, shape):
    """The axes of ``g_shape`` that broadcasting ``shape`` to it added or stretched (``sum_to``'s,
    and ``TensorF.sum_to``'s over tensors)."""
    lead = len(g_shape) - len(shape)
    return tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g_shape[i + lead] != 1)


# Floating-point warnings.  PyTorch computes 1/0 = inf and log(-1) = nan silently; NumPy warns.
# chainrule's own array calls run with NumPy's warnings off, the user's NumPy code is untouched.
# ``errstate`` costs about a microsecond per use, so where NumPy exposes the context variable
# behind it we set that directly (about 0.1 µs); otherwise we fall back to ``errstate``.
try:
    from numpy._core._multiarray_umath import _extobj_contextvar as _fp_var
    with xp.errstate(all="ignore"):
        _FP_QUIET = _fp_var.get()

    def quiet_fp():
        """Silence NumPy's floating-point warnings; returns a token for ``restore_fp``."""
        return _fp_var.set(_FP_QUIET)

    def restore_fp(token):
        _fp_var.reset(token)
except ImportError:  # pragma: no cover - other NumPy versions
    def quiet_fp():
        state = xp.errstate(all="ignore")
        state.__enter__()
        return state

    def restore_fp(token):
        token.__exit__(None, None, None)
