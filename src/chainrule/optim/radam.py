"""RAdam: Adam with its adaptive step rectified while the variance estimate is unreliable."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, lerp_,
                        nd, scalar, set_defaults, step_groups, step_tensor)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, torch's update (t counts this parameter's steps)::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ   (decoupled: θ ← θ(1 − lr·weight_decay))
        m ← lerp(m, g, 1 − β₁);   v ← β₂v + (1 − β₂)g²;   m̂ = m/(1 − β₁ᵗ)
        ρ∞ = 2/(1 − β₂) − 1;   ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
        ρₜ > 5:  θ ← θ − lr·m̂ · √(1 − β₂ᵗ)/(√v + eps) · √((ρₜ−4)(ρₜ−2)ρ∞/((ρ∞−4)(ρ∞−2)ρₜ))
        else:    θ ← θ − lr·m̂

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.RAdam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first steps are SGD with momentum: lr·g
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_nonneg(weight_decay, "weight_decay value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None, maximize=False, differentiable=False,
                      decoupled_weight_decay=False, capturable=False)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _radam_group)


def _radam_group(state, group):
    # torch's _single_tensor_radam (capturable=False), operation for operation, on the arrays
    lr = scalar(group["lr"])
    beta1, beta2 = (scalar(b) for b in group["betas"])
    eps = scalar(group["eps"])
    weight_decay = scalar(group["weight_decay"])
    maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["exp_avg"] = wrap(xp.zeros_like(p._data))
            s["exp_avg_sq"] = wrap(xp.zeros_like(p._data))
        if maximize:
            g = xp.negative(g)
        step = advance(s["step"])
        if weight_decay != 0:
            if decoupled:
                theta *= 1 - lr * weight_decay
            else:
                t = xp.multiply(theta, weight_decay)
                g = xp.add(g, t, out=t)
        m, v = nd(s["exp_avg"]._data), nd(s["exp_avg_sq"]._data)
        lerp_(m, g, 1 - beta1)
        v *= beta2
        t = xp.multiply(g, 1 - beta2)          # addcmul: v + ((1 − β₂)·g)·g
        t *= g
        v += t
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        u = xp.divide(m, bias_correction1)     # m̂
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        u *= lr
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            a = xp.sqrt(v, out=t)
            a += eps
            xp.reciprocal(a, out=a)            # torch's scalar / tensor: reciprocal, then ×
            a *= bias_correction2 ** 0.5
            u *= a
            u *= rect
        theta -= u
        p._vc[0] += 1
