"""Adafactor (Shazeer & Stern, 2018) as torch 2.13 writes it (``torch.optim.Adafactor``): the
second moment of a matrix is kept factored, one row vector and one column vector."""
from .._backend import xp
from ..tensor import Tensor, wrap
from .optimizer import Optimizer, fma, lerp_, nd, set_defaults, step_groups, step_tensor

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor, torch's update (t counts this parameter's steps)::

        ρ = min(lr, 1/√t);  α = max(eps2, RMS(θ))·ρ;  β₂ decays as 1 − t^beta2_decay
        θ ← θ(1 − lr·weight_decay)
        matrices: r ← lerp(r, mean_cols(g²), t^beta2_decay), c likewise over rows,
                  v̂ = r·c / max(mean(r), eps1);  vectors: v ← lerp(v, g², t^beta2_decay)
        u = g / √max(v̂, eps1²);  θ ← θ − α/max(1, RMS(u)/d) · u

    ``eps=(None, 1e-3)``: eps1 None means the parameter dtype's machine epsilon.

    >>> w = chainrule.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    >>> opt = chainrule.optim.Adafactor([w], lr=0.01)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> opt.state[w]["row_var"].shape, opt.state[w]["col_var"].shape
    (chainrule.Size([2, 1]), chainrule.Size([1, 2]))
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _adafactor_group)


def _norm(a, axis=None, keepdims=False):
    return xp.sqrt(xp.sum(a * a, axis=axis, keepdims=keepdims))


def _adafactor_group(state, group):
    # torch's _single_tensor_adafactor, operation for operation, on the arrays
    lr = group["lr"]
    lr = lr.item() if isinstance(lr, Tensor) else lr
    beta2_decay, weight_decay, d = group["beta2_decay"], group["weight_decay"], group["d"]
    eps1, eps2 = group["eps"]
    for p in group["params"]:
        if p._grad is None:
            continue
        if p._data.dtype.kind == "c":
            raise RuntimeError("Adafactor does not support complex parameters")
        theta = p._data
        g = p._grad._data
        if group["maximize"]:
            g = xp.negative(g)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            if g.ndim > 1:
                s["row_var"] = wrap(xp.zeros(g.shape[:-1] + (1,), dtype=g.dtype))
                s["col_var"] = wrap(xp.zeros(g.shape[:-2] + (1, g.shape[-1]), dtype=g.dtype))
            else:
                s["variance"] = wrap(xp.zeros_like(g))
        if eps1 is None:
            eps1 = float(xp.finfo(theta.dtype).eps)
        step_a = s["step"]._data
        xp.add(step_a, 1, out=step_a)
        step_float = float(step_a)
        one_minus_beta2_t = step_float ** beta2_decay
        rho_t = min(lr, 1 / (step_float ** 0.5))
        alpha = max(eps2, float(_norm(theta)) / (theta.size ** 0.5)) * rho_t
        if weight_decay != 0:
            theta *= 1 - lr * weight_decay
        if g.ndim > 1:
            row_var, col_var = s["row_var"]._data, s["col_var"]._data
            row_mean = _norm(g, -1, True) ** 2 / g.shape[-1]
            lerp_(row_var, row_mean, one_minus_beta2_t)
            col_mean = _norm(g, -2, True) ** 2 / g.shape[-2]
            lerp_(col_var, col_mean, one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = nd(s["variance"]._data)
            lerp_(variance, nd(g * g), one_minus_beta2_t)
            var_estimate = variance.reshape(g.shape).copy()
        update = 1 / xp.sqrt(xp.maximum(var_estimate, eps1 * eps1))
        update = update * g
        denom = max(1.0, float(_norm(update)) / ((update.size ** 0.5) * d))
        theta[...] = fma(update, -alpha / denom, theta)
        p._vc[0] += 1
