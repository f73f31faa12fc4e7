"""Adamax: Adam with the infinity norm of past gradients in place of their RMS."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, lerp_,
                        nd, scalar, set_defaults, step_groups, step_tensor)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, torch's update (t counts this parameter's steps)::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        m ← lerp(m, g, 1 − β₁);   u ← max(β₂u, |g| + eps)
        θ ← θ − lr/(1 − β₁ᵗ) · m/u

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adamax([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first step moves each coordinate by lr
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_nonneg(weight_decay, "weight_decay value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None, maximize=False, differentiable=False,
                      capturable=False)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _adamax_group)


def _adamax_group(state, group):
    # torch's _single_tensor_adamax (capturable=False), operation for operation, on the arrays
    lr = scalar(group["lr"])
    beta1, beta2 = (scalar(b) for b in group["betas"])
    eps = scalar(group["eps"])
    weight_decay = scalar(group["weight_decay"])
    maximize = group["maximize"]
    for p in group["params"]:
        if p._grad is None:
            continue
        theta = nd(p._data)
        g = nd(p._grad._data)
        s = state[p]
        if len(s) == 0:
            s["step"] = step_tensor()
            s["exp_avg"] = wrap(xp.zeros_like(p._data))
            s["exp_inf"] = wrap(xp.zeros_like(p._data))
        if maximize:
            g = xp.negative(g)
        step = advance(s["step"])
        if weight_decay != 0:
            t = xp.multiply(theta, weight_decay)
            g = xp.add(g, t, out=t)
        m, u = nd(s["exp_avg"]._data), nd(s["exp_inf"]._data)
        lerp_(m, g, 1 - beta1)
        u *= beta2
        t = xp.abs(g)
        t += eps
        xp.maximum(u, t, out=u)
        clr = lr / (1 - beta1 ** step)
        t = xp.multiply(m, -clr, out=t)        # addcdiv: θ + (−clr·m)/u
        t /= u
        theta += t
        p._vc[0] += 1
