"""Adadelta: steps scaled by the ratio of running RMS of past updates to that of gradients."""
from .._backend import xp
from ..tensor import wrap
from .optimizer import (Optimizer, advance, check_lr, check_nonneg, check_unsupported, nd,
                        scalar, set_defaults, step_groups, step_tensor)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, torch's update::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        v ← ρv + (1 − ρ)g²;   Δ ← √(u + eps)/√(v + eps) · g;   u ← ρu + (1 − ρ)Δ²
        θ ← θ − lr·Δ

    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adadelta([w])
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w                      # the first step is about lr·√eps/√(1 − ρ) per coordinate
    tensor([ 0.9968, -1.9968], requires_grad=True)
    """

    _capturable_error = ("If capturable=True, params and state_steps must be on suppor"
                         "ted devices: ['cuda', 'xpu', 'hpu', 'privateuseone'].")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonneg(eps, "epsilon value")
        check_nonneg(weight_decay, "weight_decay value")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self.param_groups, foreach=None, maximize=False, differentiable=False,
                      capturable=False)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss, if any."""
        return step_groups(self, closure, _adadelta_group)


def _adadelta_group(state, group):
    # torch's _single_tensor_adadelta, operation for operation, on the arrays
    lr = scalar(group["lr"])
    rho = scalar(group["rho"])
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
            s["square_avg"] = wrap(xp.zeros_like(p._data))
            s["acc_delta"] = wrap(xp.zeros_like(p._data))
        advance(s["step"])
        if maximize:
            g = xp.negative(g)
        if weight_decay != 0:
            t = xp.multiply(theta, weight_decay)
            g = xp.add(g, t, out=t)
        v, u = nd(s["square_avg"]._data), nd(s["acc_delta"]._data)
        v *= rho
        t = xp.multiply(g, 1 - rho)            # addcmul: v + ((1 − ρ)·g)·g
        t *= g
        v += t
        std = xp.add(v, eps)
        xp.sqrt(std, out=std)
        delta = xp.add(u, eps)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        t = xp.multiply(delta, 1 - rho, out=t)  # addcmul: u + ((1 − ρ)·Δ)·Δ
        t *= delta
        u += t
        delta *= -lr                           # add(alpha=−lr)
        theta += delta
        p._vc[0] += 1
