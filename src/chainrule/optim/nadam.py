"""NAdam: Adam with Nesterov momentum (and torch's momentum-decay schedule)."""
from .._backend import xp
from ..tensor import Tensor, wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, lerp_,
                        nd, scalar, set_defaults, step_groups, step_tensor)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, torch's update (t counts this parameter's steps)::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ   (decoupled: θ ← θ(1 − lr·weight_decay))
        μₜ = β₁(1 − ½·0.96^(t·momentum_decay));   Πₜ = μ₁⋯μₜ   (state "mu_product")
        m ← lerp(m, g, 1 − β₁);   v ← β₂v + (1 − β₂)g²;   d = √(v/(1 − β₂ᵗ)) + eps
        θ ← θ − lr(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜμₜ₊₁) · m/d

    ``mu_product`` is a 0-d tensor of the default dtype (float32), as torch's.

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.NAdam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # lr·(1 + μ₂·0.1/(1 − μ₁μ₂)) per coordinate
    tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    _capturable_error = ("If capturable=True, params, mu_products and state_steps must"
                         " be on supported devices: ['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_nonneg(weight_decay, "weight_decay value")
        check_nonneg(momentum_decay, "momentum_decay value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, maximize=False, foreach=None, capturable=False,
                      differentiable=False, decoupled_weight_decay=False)
        for s in self.state.values():
            if isinstance(s, dict) and "mu_product" in s and not isinstance(s["mu_product"],
                                                                            Tensor):
                s["mu_product"] = _scalar_state(s["mu_product"])

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _nadam_group)


def _scalar_state(value):
    """A 0-d state tensor of the default scalar dtype (float32, as torch's) holding value."""
    t = step_tensor()
    t._data[...] = float(value)
    return t


def _nadam_group(state, group):
    # torch's _single_tensor_nadam (capturable=False), operation for operation, on the arrays
    lr = scalar(group["lr"])
    beta1, beta2 = (scalar(b) for b in group["betas"])
    eps = scalar(group["eps"])
    weight_decay = scalar(group["weight_decay"])
    momentum_decay = scalar(group["momentum_decay"])
    maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["mu_product"] = _scalar_state(1.0)
            s["exp_avg"] = wrap(xp.zeros_like(p._data))
            s["exp_avg_sq"] = wrap(xp.zeros_like(p._data))
        if maximize:
            g = xp.negative(g)
        step = advance(s["step"])
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if decoupled:
                theta *= 1 - lr * weight_decay
            else:
                t = xp.multiply(theta, weight_decay)
                g = xp.add(g, t, out=t)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mp = s["mu_product"]._data             # 0-d: multiply in its own dtype, as torch
        mp[...] = mp * mp.dtype.type(mu)
        mu_product = float(mp)
        m, v = nd(s["exp_avg"]._data), nd(s["exp_avg_sq"]._data)
        lerp_(m, g, 1 - beta1)
        v *= beta2
        t = xp.multiply(g, 1 - beta2)          # addcmul: v + ((1 − β₂)·g)·g
        t *= g
        v += t
        denom = xp.divide(v, bias_correction2, out=t)
        xp.sqrt(denom, out=denom)
        mu_product_next = mu_product * mu_next
        denom += eps
        u = xp.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product))   # addcdiv: θ + (c·g)/d
        u /= denom
        theta += u
        u = xp.multiply(m, (-lr * mu_next) / (1.0 - mu_product_next), out=u)
        u /= denom
        theta += u
        p._vc[0] += 1
