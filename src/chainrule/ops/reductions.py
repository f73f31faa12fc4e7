"""Reductions (over ``dims``) and ops along one ``dim`` (max/min with indices, softmax)."""
import math

from .._backend import xp
from .._fns import ArrayF
from . import defprim


# =========================================================================================
# Reductions.  `dims` is a normalized tuple of axes (None: all); keepdim as torch.
# =========================================================================================

def _rekeep(F, g, x_shape, dims, keepdim):
    """Reinsert the reduced axes of ``g`` as size-1 axes, so it broadcasts against the input."""
    if keepdim or not x_shape:
        return g
    axes = range(len(x_shape)) if dims is None else dims
    shape = list(x_shape)
    for a in axes:
        shape[a] = 1
    return F.reshape(g, tuple(shape))


def wide(x):
    """float16 is accumulated in float32, as torch does (Σ of two 60000s, Π of 300, 300 and 1/300
    overflow in float16); the reductions cast their result back with ``narrow``."""
    return x.astype(xp.float32) if x.dtype == xp.float16 else x


def narrow(r, x):
    """r in x's dtype (the reductions' float16 results, accumulated in float32)."""
    return xp.asarray(r).astype(x.dtype, copy=False)


_wide, _narrow = wide, narrow        # the names other modules may still use


_BLAS_DTYPES = (xp.float32, xp.float64)    # float16 keeps NumPy's sums (float32 accumulation)


def trailing_sum(a, dims, n):
    """Σ of an array over its trailing ``dims`` (n elements), dims kept.  Rows of up to 128 are
    summed as a product with a vector of ones: BLAS does it five times faster than NumPy's
    reduction along the last axis, with the same eight-way accumulation (no less accurate).
    For the rules' fast paths on arrays (softmax, layer_norm)."""
    if 0 < n <= 128 and a.size and a.dtype in _BLAS_DTYPES and a.flags.c_contiguous:
        rows = xp.matmul(a.reshape(-1, n), xp.ones(n, a.dtype))
        return rows.reshape(a.shape[:a.ndim - len(dims)] + (1,) * len(dims))
    return xp.sum(a, axis=dims, keepdims=True)


def leading_sum(a, shape):
    """Σ of an array over its leading dims, down to ``shape`` (its trailing dims): one BLAS
    product with a vector of ones, where NumPy adds the rows one after the other anyway (so
    no less accurate); for bias gradients (linear, layer_norm)."""
    n = math.prod(shape)
    if a.size and a.dtype in _BLAS_DTYPES and a.flags.c_contiguous and n and \
            tuple(a.shape[a.ndim - len(shape):]) == tuple(shape):
        return xp.matmul(xp.ones(a.size // n, a.dtype), a.reshape(-1, n)).reshape(shape)
    return a


def _sum(x, dims=None, keepdim=False):
    """out = Σ x over dims"""
    if x.dtype == xp.float16:
        return narrow(xp.sum(x, axis=dims, keepdims=keepdim, dtype=xp.float32), x)
    return xp.sum(x, axis=dims, keepdims=keepdim)


sum = defprim("sum", _sum,
              lambda F, g, out, x, dims=None, keepdim=False:
                  F.expand(_rekeep(F, g, x.shape, dims, keepdim), x.shape),
              kind="reduction", linear="linear",
              formulas=("1",), vjp_texts=("g ↦ g broadcast back to x's shape",),
              examples=[("x.sum()", (3, 4)), ("x.sum(1)", (3, 4)), ("x.sum(dim=(0, 2), keepdim=True)", (2, 3, 4)),
                        ("m.sum(x, 0)", (5,)), ("x.sum()", ())])


def _prod(x, dims=None, keepdim=False):
    """out = Π x over dims"""
    return narrow(xp.prod(wide(x), axis=dims, keepdims=keepdim), x)


def _prod_vjp(F, g, out, x, dims=None, keepdim=False):
    gk = _rekeep(F, g, x.shape, dims, keepdim)
    ok = _rekeep(F, out, x.shape, dims, keepdim)
    xr = F.raw(x)
    if not (xr == 0).any() and xr.dtype != xp.float16:
        return gk * ok / x
    # with zeros, out/x is 0/0, and in float16 out may have overflowed where the product of the
    # others has not: use the product of the *other* elements, computed exactly
    return gk * F.raw(narrow(_prod_of_others(wide(xr), dims), xr))


def _prod_of_others(x, dims):
    """For each element, the product of the other elements of its reduction group."""
    axes = tuple(range(x.ndim)) if dims is None else dims
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = xp.transpose(x, rest + axes)
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), x.dtype)
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], -1), -1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], -1), -1), -1), -1)
    others = (left * right).reshape(moved.shape)
    return xp.transpose(others, xp.argsort(rest + axes))


prod = defprim("prod", _prod, _prod_vjp,
               kind="reduction", formulas=("Π(others)",), saves=(0,), saves_out=True,
               domain=(0.5, 1.5),
               examples=[("x.prod()", (3, 4)), ("x.prod(1)", (3, 4)), ("x.prod(0, keepdim=True)", (4, 2))])


def _amax(x, dims=None, keepdim=False):
    """out = max x over dims"""
    return xp.amax(x, axis=dims, keepdims=keepdim)


def _amin(x, dims=None, keepdim=False):
    """out = min x over dims"""
    return xp.amin(x, axis=dims, keepdims=keepdim)


def _extreme_vjp(F, g, out, x, dims=None, keepdim=False):
    # the gradient is split evenly among the elements equal to the extreme (NaN counts as equal)
    xr, ok = F.raw(x), _rekeep(ArrayF, F.raw(out), x.shape, dims, keepdim)
    hit = (xr == ok) | (xp.isnan(xr) & xp.isnan(ok))
    count = xp.sum(hit, axis=dims, keepdims=True)
    return _rekeep(F, g, x.shape, dims, keepdim) * (hit / count).astype(xr.dtype)


amax = defprim("amax", _amax, _extreme_vjp,
               kind="reduction", formulas=("[x = max] / #ties",), saves=(0,),
               saves_out=True,
               examples=[("x.amax()", (3, 4)), ("x.amax(1)", (3, 4)), ("x.amax(dim=(0, 1), keepdim=True)", (2, 3, 2)),
                         ("x.max()", (5,))])
amin = defprim("amin", _amin, _extreme_vjp,
               kind="reduction", formulas=("[x = min] / #ties",), saves=(0,),
               saves_out=True,
               examples=[("x.amin()", (3, 4)), ("x.amin(0)", (3, 4)), ("x.min()", (5,))])


def _pick(x, idx, dim, keepdim):
    out = xp.take_along_axis(x, xp.expand_dims(idx, dim), dim)
    return out if keepdim else xp.squeeze(out, dim)


def _max_dim(x, dim, keepdim=False):
    """out = max x along dim (the gradient goes to the returned index)"""
    return _pick(x, xp.argmax(x, dim), dim, keepdim)


def _min_dim(x, dim, keepdim=False):
    """out = min x along dim (the gradient goes to the returned index)"""
    return _pick(x, xp.argmin(x, dim), dim, keepdim)


def _at_index_vjp(pick):
    def rule(F, g, out, x, dim, keepdim=False):
        xr = F.raw(x)
        idx = xp.expand_dims(pick(xr, dim), dim)
        onehot = xp.arange(xr.shape[dim]).reshape((-1,) + (1,) * (xr.ndim - dim - 1)) == idx
        return _rekeep(F, g, x.shape, (dim,), keepdim) * onehot.astype(xr.dtype)
    return rule


max_dim = defprim("max_dim", _max_dim, _at_index_vjp(xp.argmax),
                  kind="along_dim", backward_name="MaxBackward0",
                  formulas=("[x is the max]",), saves=(0,),
                  examples=[("x.max(1).values", (3, 4)), ("x.max(dim=0, keepdim=True)[0]", (3, 4))])
min_dim = defprim("min_dim", _min_dim, _at_index_vjp(xp.argmin),
                  kind="along_dim", backward_name="MinBackward0",
                  formulas=("[x is the min]",), saves=(0,),
                  examples=[("x.min(1).values", (3, 4)), ("m.min(x, 0)[0]", (3, 4))])


def _logsumexp(x, dims=None, keepdim=False):
    """out = ln Σ eˣ, shifted by the max so it never overflows"""
    # A primitive for stability: the shift by the max keeps exp() in range.
    w = wide(x)
    m = xp.amax(w, axis=dims, keepdims=True) if w.size else xp.zeros((1,) * w.ndim, w.dtype)
    m = xp.where(xp.isinf(m), 0, m).astype(w.dtype, copy=False)
    s = xp.log(xp.sum(xp.exp(w - m), axis=dims, keepdims=True)) + m
    return narrow(s if keepdim else xp.squeeze(s, dims if dims is not None else None), x)


logsumexp = defprim(
    "logsumexp", _logsumexp,
    lambda F, g, out, x, dims=None, keepdim=False:
        _rekeep(F, g, x.shape, dims, keepdim) * F.exp(x - _rekeep(F, out, x.shape, dims, keepdim)),
    kind="reduction",
    formulas=("softmax(x)",), saves=(0,), saves_out=True,
    examples=[("x.logsumexp(1)", (3, 4)), ("m.logsumexp(x, dim=(0, 1))", (3, 4)),
              ("x.logsumexp(0, keepdim=True)", (5,))])


def _softmax(x, dim):
    """out = eˣ / Σ eˣ along dim"""
    # A primitive for speed (one pass, one output saved); the max shift keeps it stable.
    w = wide(x)
    e = w - xp.amax(w, axis=dim, keepdims=True, initial=-xp.inf)   # initial: an empty dim
    if type(e) is not xp.ndarray:                                   # 0-d: a NumPy scalar
        e = xp.exp(e)
        return narrow(e / xp.sum(e, axis=dim, keepdims=True), x)
    # in place: a fresh array of an attention's size costs more (page faults) than the pass
    xp.exp(e, out=e)
    if dim in (-1, e.ndim - 1):
        e /= trailing_sum(e, (e.ndim - 1,), e.shape[-1])
    else:
        e /= xp.sum(e, axis=dim, keepdims=True)
    return narrow(e, x)


def _softmax_vjp(F, g, out, x, dim):
    if type(g) is xp.ndarray and type(out) is xp.ndarray and out.ndim and \
            dim in (-1, out.ndim - 1) and g.dtype == out.dtype:
        # on arrays along the last dim (attention's): g·s - s·Σ g·s, two fresh arrays instead
        # of three and the sum through BLAS (see trailing_sum)
        gs = g * out
        t = trailing_sum(gs, (out.ndim - 1,), out.shape[-1])
        gs -= xp.multiply(out, t)
        return gs
    return out * (g - F.sum(g * out, (dim,), True))


softmax = defprim("softmax", _softmax, _softmax_vjp,
                  kind="along_dim",
                  formulas=("out·(δ - out)",), vjp_texts=("g ↦ s ⊙ (g - Σ g⊙s)",), saves=(),
                  saves_out=True,
                  examples=[("x.softmax(1)", (3, 4)), ("m.softmax(x, dim=0)", (5,))])


def _log_softmax(x, dim):
    """out = x - ln Σ eˣ along dim"""
    # A primitive for stability: log(softmax) underflows to -inf for very negative logits.
    w = wide(x)
    # (the array methods: np.amax and np.sum are the same reductions behind a Python wrapper)
    s = w - w.max(axis=dim, keepdims=True, initial=-xp.inf)     # initial: an empty dim
    return narrow(s - xp.log(xp.exp(s).sum(axis=dim, keepdims=True)), x)


log_softmax = defprim("log_softmax", _log_softmax,
                      lambda F, g, out, x, dim: g - F.exp(out) * F.sum(g, (dim,), True),
                      kind="along_dim",
                      formulas=("δ - softmax(x)",), vjp_texts=("g ↦ g - softmax(x)·Σg",), saves=(),
                      saves_out=True,
                      examples=[("x.log_softmax(1)", (3, 4)), ("m.log_softmax(x, 0)", (5,))])


def _norm(x, p=2.0, dims=None, keepdim=False):
    """out = (Σ |x|ᵖ)^(1/p)"""
    # A primitive for the gradient at 0: torch defines it as 0, sqrt(Σx²) would give NaN.
    a = xp.abs(wide(x))
    if p == 2:
        r = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
    elif p == 1:
        r = xp.sum(a, axis=dims, keepdims=keepdim)
    elif p == float("inf"):
        r = xp.amax(a, axis=dims, keepdims=keepdim)
    elif p == float("-inf"):
        r = xp.amin(a, axis=dims, keepdims=keepdim)
    elif p == 0:
        r = xp.sum(a != 0, axis=dims, keepdims=keepdim)
    else:
        r = xp.power(xp.sum(xp.power(a, p), axis=dims, keepdims=keepdim), 1.0 / p)
    return narrow(r, x)


def _norm_vjp(F, g, out, x, p=2.0, dims=None, keepdim=False):
    gk = _rekeep(F, g, x.shape, dims, keepdim)
    ok = _rekeep(F, out, x.shape, dims, keepdim)
    if p == 2:
        return gk * F.where(F.raw(ok) == 0, 0.0, x / F.where(F.raw(ok) == 0, 1.0, ok))
    if p == 1:
        return gk * F.sign(x)
    if p == 0:
        return None             # a count: torch gives no gradient (None), not zeros
    if p == float("inf") or p == float("-inf"):
        a = F.abs(x)
        hit = (F.raw(a) == F.raw(ok))
        count = xp.sum(hit, axis=dims, keepdims=True)
        return gk * F.sign(x) * (hit / count).astype(F.raw(x).dtype)
    # sign(x)·(|x|/‖x‖)^(p-1): the ratio is at most 1 for p > 0, so nothing overflows (in float16
    # x·|x|^(p-2)/‖x‖^(p-1) is inf/inf at |x| = 300, p = 3); torch's 0 where x = 0 (for p < 1 the
    # power is infinite there) or where the norm is 0
    zero = (F.raw(x) == 0) | (F.raw(ok) == 0)
    ratio = F.abs(F.where(zero, 1.0, x)) / F.where(F.raw(ok) == 0, 1.0, ok)
    return gk * F.where(zero, 0.0, F.sign(x) * ratio ** (p - 1))


norm = defprim("norm", _norm, _norm_vjp,
               kind="reduction", backward_name="LinalgVectorNormBackward0",
               formulas=("x/‖x‖",), saves=(0,), saves_out=True,
               domain=(-2.0, 2.0, [0.0]),
               examples=[("x.norm()", (3, 4)), ("x.norm(dim=1)", (3, 4)), ("x.norm(p=1)", (5,)),
                         ("x.norm(p=3, dim=0, keepdim=True)", (3, 2)),
                         ("x.norm(p=float('inf'))", (5,))])
