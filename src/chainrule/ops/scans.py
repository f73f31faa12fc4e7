"""Scans along one ``dim``: cumulative sum, product and log-sum-exp (issue #12).

cummax/cummin, sort and the selections (median, kthvalue, mode, ...) need no entry: they are
composed in ``functional/scans.py`` from an index computed without gradient and ``index``,
whose rule scatters g back to the selected elements.
"""
from .._backend import xp
from .._fns import ArrayF
from . import defprim
from .reductions import narrow, wide


def _reverse_cumsum(F, g, dim):
    """Σ_{j ≥ k} g_j along dim, the adjoint of a cumulative sum."""
    return F.flip(F.apply(cumsum, (F.flip(g, (dim,)),), {"dim": dim}), (dim,))


def _cumsum(x, dim):
    """out_k = Σ_{j ≤ k} x_j along dim"""
    # A primitive for speed: composed from sums it would cost O(n²).
    if x.dtype == xp.float16:
        return narrow(xp.cumsum(x, axis=dim, dtype=xp.float32), x)
    return xp.cumsum(x, axis=dim)


cumsum = defprim("cumsum", _cumsum,
                 lambda F, g, out, x, dim: _reverse_cumsum(F, g, dim),
                 kind="along_dim", linear="linear",
                 formulas=("1",), vjp_texts=("g ↦ reverse cumsum of g along dim",),
                 examples=[("x.cumsum(1)", (3, 4)), ("m.cumsum(x, dim=0)", (5,)),
                           ("m.cumsum(x, -1)", (2, 3, 2))])


def _cumprod(x, dim):
    """out_k = Π_{j ≤ k} x_j along dim"""
    # A primitive for speed (a composition costs O(n²)) and for zeros: the rule below is exact
    # there, where Σ g·out / x is 0/0.
    return narrow(xp.cumprod(wide(x), axis=dim), x)


def _cumprod_vjp(F, g, out, x, dim):
    # ∂out_j/∂x_k = Π_{i ≤ j, i ≠ k} x_i for j ≥ k: Σ_{j ≥ k} g_j·out_j / x_k without zeros.
    # With zeros (0/0 there), peel the first zero z of each slice off: at z the gradient is
    # Σ_{j ≥ z} g_j·out'_j, out' the cumulative product with x_z replaced by 1; elsewhere it is
    # the same rule on x' with g'_j = g_j·x_z for j ≥ z (0, but x_z keeps its second derivative).
    # A loop, once per zero of the slice with the most, as torch's double-differentiable rule;
    # an ordinary backward pass (arrays) needs only the first level: g' is 0 from z on.
    if F is ArrayF:
        return _cumprod_vjp_first_order(g, out, x, dim)
    levels = []
    while True:
        xr = F.raw(x)
        zero = xr == 0
        if not zero.any():
            grad = _reverse_cumsum(F, g * out, dim) / x
            break
        seen = xp.cumsum(zero, axis=dim)
        first = zero & (seen == 1)
        x_z = F.sum(F.where(first, x, 0.0), (dim,), True)     # 0, with x_z's gradient
        x = F.where(first, 1.0, x)
        out = F.apply(cumprod, (x,), {"dim": dim})
        levels.append((first, _reverse_cumsum(F, g * out, dim)))
        g = g * F.where(seen >= 1, x_z, 1.0)
    for first, at_zero in reversed(levels):
        grad = F.where(first, at_zero, grad)
    return grad


def _cumprod_vjp_first_order(g, out, x, dim):
    zero = x == 0
    if not zero.any():
        return _reverse_cumsum(ArrayF, g * out, dim) / x
    seen = xp.cumsum(zero, axis=dim)
    before = seen == 0
    first = zero & (seen == 1)
    with xp.errstate(divide="ignore", invalid="ignore"):
        part = _reverse_cumsum(ArrayF, g * out, dim) / xp.where(before, x, 1)
    rest = _cumprod(xp.where(first, xp.ones_like(x), x), dim)
    at_zero = _reverse_cumsum(ArrayF, g * rest, dim)
    return xp.where(before, part, xp.where(first, at_zero, 0)).astype(x.dtype, copy=False)


cumprod = defprim("cumprod", _cumprod, _cumprod_vjp,
                  kind="along_dim", formulas=("Π(others)",),
                  vjp_texts=("g ↦ Σ_{j ≥ k} g_j·Π_{i ≤ j, i ≠ k} x_i",),
                  saves=(0,), saves_out=True, domain=(0.5, 1.5),
                  examples=[("x.cumprod(1)", (3, 4)), ("m.cumprod(x, dim=0)", (5,))])


def _logcumsumexp(x, dim):
    """out_k = ln Σ_{j ≤ k} e^{x_j} along dim"""
    # A primitive for stability: each step is logaddexp, so nothing overflows or underflows
    # (ln cumsum(eˣ) is inf for x = 1000 and -inf for x = -1000).
    w = wide(x)
    if w.shape[dim] == 0:
        return x.copy()
    return narrow(xp.logaddexp.accumulate(w, axis=dim), x)


def _logcumsumexp_vjp(F, g, out, x, dim):
    # g_k' = Σ_{j ≥ k} g_j·e^{x_k - out_j}.  out rises along dim, so with c = out's last value
    # this is e^{x_k - c}·Σ_{j ≥ k} g_j·e^{c - out_j}: every factor at most e^{out's range}.
    # Where that range could overflow, sum in log space for positive and negative g apart
    # (torch's logcumsumexp_backward), which is stable but not linear in g at g = 0 (jacfwd
    # differentiates the rule there), hence the first form when it is safe.
    xr, outr = F.raw(x), F.raw(out)
    n = xr.shape[dim]
    if n == 0:
        return g
    last = F.getitem(out, (slice(None),) * dim + (slice(n - 1, n),))
    with xp.errstate(invalid="ignore"):
        spread = xp.take(outr, [n - 1], dim) - xp.take(outr, [0], dim)
    safe = 0.5 * float(xp.log(xp.finfo(outr.dtype).max))
    if xp.isfinite(spread).all() and float(spread.max(initial=0)) < safe:
        return F.exp(x - last) * _reverse_cumsum(F, g * F.exp(last - out), dim)
    gr = F.raw(g)
    low = float(xp.finfo(gr.dtype).min)

    def reverse_lcse(a):
        return F.flip(F.apply(logcumsumexp, (F.flip(a, (dim,)),), {"dim": dim}), (dim,))

    pos, neg = gr > 0, gr < 0
    log_pos = F.where(pos, F.log(F.where(pos, g, 1.0)), low)
    log_neg = F.where(neg, F.log(F.where(neg, -g, 1.0)), low)
    return F.exp(reverse_lcse(log_pos - out) + x) - F.exp(reverse_lcse(log_neg - out) + x)


logcumsumexp = defprim("logcumsumexp", _logcumsumexp, _logcumsumexp_vjp,
                       kind="along_dim", formulas=("exp(x - out)",),
                       vjp_texts=("g ↦ Σ_{j ≥ k} g_j·e^{x_k - out_j}",),
                       saves=(0,), saves_out=True,
                       examples=[("x.logcumsumexp(1)", (3, 4)),
                                 ("m.logcumsumexp(x, dim=0)", (5,))])
